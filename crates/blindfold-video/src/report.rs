//! What a run reports: the input, the output, the tracks (boxes and frame
//! numbers only) and the timings. Serialisable for `--json`.

use crate::ffmpeg::{Container, StreamPlan};
use crate::probe::MediaInfo;
use crate::track::{TrackSummary, TrackerConfig};
use serde::Serialize;

/// Progress after each detected frame.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Progress {
    /// Frames detected so far.
    pub frame: u64,
    /// Expected total, when the input says.
    pub total_frames: Option<u64>,
    /// Average frames per second so far.
    pub fps: f64,
}

/// The written file.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OutputInfo {
    /// Container.
    pub container: Container,
    /// Width (the upright input width, padded to even).
    pub width: u32,
    /// Height (padded to even).
    pub height: u32,
    /// Frames written.
    pub frames: u64,
    /// What happened to the audio and subtitle streams.
    pub streams: StreamPlan,
}

/// Milliseconds and speed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct VideoTimings {
    /// Whole run, probe to verified output.
    pub wall_ms: f64,
    /// Time inside the face detectors (summed over lanes, so it can exceed
    /// the wall time).
    pub detect_ms: f64,
    /// Time the detector waited for decoded frames.
    pub wait_decode_ms: f64,
    /// Frames per second over the whole run.
    pub fps: f64,
}

/// The result of anonymising one video.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct VideoReport {
    /// What ffprobe found in the input.
    pub input: MediaInfo,
    /// What was written.
    pub output: OutputInfo,
    /// The detector's backend.
    pub backend: String,
    /// Tracker settings used.
    pub tracking: TrackerConfig,
    /// Frames processed.
    pub frames: u64,
    /// The decoder's errors when the input was damaged and written anyway
    /// (`accept_damaged`); absent for a clean input.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub damage: Option<String>,
    /// Frames with at least one mask.
    pub frames_with_masks: u64,
    /// Frames with at least one mask that tracking added (not a detection
    /// in that frame).
    pub frames_filled_by_tracking: u64,
    /// Masks drawn from detections, over all frames.
    pub masks_detected: u64,
    /// Masks drawn by tracking, over all frames.
    pub masks_filled: u64,
    /// One entry per track.
    pub tracks: Vec<TrackSummary>,
    /// Timings.
    pub timings: VideoTimings,
}
