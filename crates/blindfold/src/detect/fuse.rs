//! Merging overlapping detections.
//!
//! Two boxes are the same face when their IoU is positive and at least the
//! threshold (so a threshold of 0 merges touching boxes, never disjoint ones).
//! Both functions return detections sorted by score, best first.

use crate::{BBox, Detection};

/// Same face?
fn same(a: &BBox, b: &BBox, iou: f32) -> Option<f32> {
    let o = a.iou(b);
    (o > 0.0 && o >= iou).then_some(o)
}

/// Sort best first; equal scores keep their order.
fn by_score(dets: &mut [Detection]) {
    dets.sort_by(|a, b| b.score.total_cmp(&a.score));
}

/// Greedy non-maximum suppression: take boxes best first and drop each one
/// that is the same face as a box already kept.
pub fn nms(mut dets: Vec<Detection>, iou: f32) -> Vec<Detection> {
    by_score(&mut dets);
    let mut kept: Vec<Detection> = Vec::with_capacity(dets.len().min(64));
    for d in dets {
        if !kept.iter().any(|k| same(&k.bbox, &d.bbox, iou).is_some()) {
            kept.push(d);
        }
    }
    kept
}

/// A cluster being fused: score-weighted coordinate sums.
struct Cluster {
    sum: [f32; 4],
    weight: f32,
    score: f32,
    fused: BBox,
}

/// Weighted box fusion: take boxes best first; each joins the cluster whose
/// fused box it overlaps most (if that is the same face) or starts a new
/// one. A cluster's box is the score-weighted mean of its members'
/// coordinates; its score is the best member's score (not a mean, so a face
/// that only one pass, tile or flip saw keeps its full score: recall first).
pub fn weighted_fusion(mut dets: Vec<Detection>, iou: f32) -> Vec<Detection> {
    by_score(&mut dets);
    let mut clusters: Vec<Cluster> = Vec::with_capacity(dets.len().min(64));
    for d in dets {
        let b = d.bbox;
        let best = clusters
            .iter()
            .enumerate()
            .filter_map(|(i, c)| same(&c.fused, &b, iou).map(|o| (i, o)))
            .max_by(|x, y| x.1.total_cmp(&y.1));
        // Weights must be positive for the mean to exist.
        let w = d.score.max(1e-6);
        match best {
            Some((i, _)) => {
                let c = &mut clusters[i];
                for (s, v) in c.sum.iter_mut().zip([b.x0, b.y0, b.x1, b.y1]) {
                    *s += w * v;
                }
                c.weight += w;
                c.score = c.score.max(d.score);
                let [x0, y0, x1, y1] = c.sum.map(|s| s / c.weight);
                c.fused = BBox::new(x0, y0, x1, y1);
            }
            None => clusters.push(Cluster {
                sum: [w * b.x0, w * b.y0, w * b.x1, w * b.y1],
                weight: w,
                score: d.score,
                fused: b,
            }),
        }
    }
    // Clusters were opened best first, so they are already in score order.
    clusters
        .into_iter()
        .map(|c| Detection {
            bbox: c.fused,
            score: c.score,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn det(x0: f32, y0: f32, x1: f32, y1: f32, score: f32) -> Detection {
        Detection {
            bbox: BBox::new(x0, y0, x1, y1),
            score,
        }
    }

    #[test]
    fn nms_keeps_the_best_of_each_face() {
        let dets = vec![
            det(2.0, 0.0, 12.0, 10.0, 0.5), // IoU 80/120 with the next
            det(0.0, 0.0, 10.0, 10.0, 0.9),
            det(50.0, 50.0, 60.0, 60.0, 0.3), // elsewhere
            det(5.0, 0.0, 15.0, 10.0, 0.4),   // IoU 1/3 with the best
        ];
        let out = nms(dets.clone(), 0.4);
        assert_eq!(out, vec![dets[1], dets[3], dets[2]]);
        // A looser threshold merges the third box into the first too.
        let out = nms(dets.clone(), 0.3);
        assert_eq!(out, vec![dets[1], dets[2]]);
        // Threshold 0 still keeps disjoint boxes.
        assert_eq!(nms(dets, 0.0).len(), 2);
        assert!(nms(Vec::new(), 0.4).is_empty());
    }

    #[test]
    fn wbf_averages_boxes_by_score_and_keeps_the_best_score() {
        let dets = vec![
            det(2.0, 0.0, 12.0, 10.0, 0.3),
            det(0.0, 0.0, 10.0, 10.0, 0.9),
            det(50.0, 50.0, 60.0, 60.0, 0.2),
        ];
        let out = weighted_fusion(dets, 0.4);
        assert_eq!(out.len(), 2);
        // x0 = (0 * 0.9 + 2 * 0.3) / 1.2 = 0.5, x1 = 10.5
        let b = out[0].bbox;
        assert!(
            (b.x0 - 0.5).abs() < 1e-5 && (b.x1 - 10.5).abs() < 1e-5,
            "{b:?}"
        );
        assert!(
            (b.y0 - 0.0).abs() < 1e-5 && (b.y1 - 10.0).abs() < 1e-5,
            "{b:?}"
        );
        assert_eq!(out[0].score, 0.9);
        assert_eq!(out[1], det(50.0, 50.0, 60.0, 60.0, 0.2));
    }

    #[test]
    fn wbf_joins_the_closest_cluster() {
        let dets = vec![
            det(0.0, 0.0, 10.0, 10.0, 0.9),
            det(6.0, 0.0, 16.0, 10.0, 0.8), // IoU 4/16 with the first
            det(5.0, 0.0, 15.0, 10.0, 0.7), // IoU 1/3 with first, 9/11 with second
        ];
        let out = weighted_fusion(dets, 0.3);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0], det(0.0, 0.0, 10.0, 10.0, 0.9));
        // (6 * 0.8 + 5 * 0.7) / 1.5
        assert!((out[1].bbox.x0 - 8.3 / 1.5).abs() < 1e-5, "{:?}", out[1]);
        assert_eq!(out[1].score, 0.8);
    }
}
