//! Merging overlapping detections.

use crate::Detection;

/// Greedy non-maximum suppression.
pub fn nms(dets: Vec<Detection>, _iou: f32) -> Vec<Detection> {
    dets
}

/// Weighted box fusion.
pub fn weighted_fusion(dets: Vec<Detection>, _iou: f32) -> Vec<Detection> {
    dets
}
