//! Video anonymisation for blindfold: every frame of a video goes through the
//! face detector, faces are tracked across frames so that a face missed in a
//! few frames stays masked, and the result is re-encoded with the audio kept
//! and the identifying metadata, subtitles and data streams removed
//! (subtitles can be kept on request).
//!
//! `ffmpeg` and `ffprobe` do the decoding and encoding, as subprocesses; raw
//! RGB frames go through pipes. See [`anonymize_video`].
//!
//! - [`track`]: the tracker (pure logic, no ffmpeg).
//! - `probe`: what ffprobe says about an input, and which video stream is the picture.
//! - `frames`: how many frames a video must and may give.
//! - `ffmpeg`: the command lines and child processes.
//! - `children`: every ffmpeg started, so a signal handler can stop them
//!   ([`stop_ffmpeg_children`]).
//! - `scratch`: the private temp folder the encoder writes in.
//! - `verify`: the check on the written output.
//!
//! # Look-ahead and memory
//!
//! A frame is encoded only after the next [`TrackerConfig::lookahead`] frames
//! were detected, so masks can start before a face's first detection and
//! short gaps can be interpolated. Frames in memory at once are at most
//! `lookahead + 2 * queue + 3`, each `width * height * 3` bytes: with the
//! defaults (8 and 4) about 120 MB at 1080p and 470 MB at 4K, for any length.
//! A longer look-ahead covers longer misses at the start of a track and longer
//! gaps (held boxes cover gaps after the last detection regardless) at one
//! frame's memory each; 0 turns it off.
//!
//! # Frame rate and timestamps
//!
//! Frames are decoded at a constant rate (ffmpeg's `-vsync cfr`): the
//! input's `r_frame_rate`, or its average rate when that is much lower.
//! Constant-rate inputs keep every frame as is. Variable-rate inputs get
//! frames repeated or dropped by timestamp, so the duration and audio sync
//! are kept (a test checks a clip that switches from 25 to 12.5 fps). Rotated inputs are decoded upright and
//! written without a rotation, and non-square pixels keep their shape. The
//! constant-rate frames may number at most 4 times the frames in the file
//! plus a second's worth (`frames::limit`): more fails before decoding.
//!
//! # Which stream
//!
//! The video stream written is the one a player shows (`probe::main_video`):
//! never cover art or a thumbnail, else the one marked default, which must be
//! the largest. When that is not known the file fails; other video streams
//! are dropped and counted in the report.

mod audit;
mod cancel;
mod children;
pub mod error;
mod ffmpeg;
mod frames;
mod probe;
mod report;
mod run;
mod scratch;
mod verify;
/// Face tracking lives in the core (no ffmpeg in it); re-exported here.
pub use blindfold::track;

pub use audit::{VideoAudit, audit_video};
pub use cancel::Cancel;
pub use children::stop_all as stop_ffmpeg_children;
pub use error::{ErrorKind, VideoError};
pub use report::{OutputInfo, Progress, VideoReport, VideoTimings};
pub use run::{anonymize_video, anonymize_video_lanes, lanes};
pub use track::{TrackSummary, TrackerConfig};

use blindfold::anonymize::{MaskSpec, Mode};
use std::path::Path;

/// Settings for one video.
#[derive(Clone, Debug, PartialEq)]
pub struct VideoOptions {
    /// Mask shape and growth around each box.
    pub mask: MaskSpec,
    /// The fill.
    pub mode: Mode,
    /// x264 quality: 0 (lossless) to 51; lower is better and larger.
    pub crf: u8,
    /// x264 preset (`ultrafast` .. `veryslow`).
    pub preset: String,
    /// Copy the audio streams (re-encoded to AAC only when the container
    /// cannot hold them).
    pub keep_audio: bool,
    /// Keep text subtitles (off by default: subtitles can hold names and
    /// drone telemetry such as GPS positions, copied verbatim). Bitmap
    /// subtitles cannot go into MP4/MOV and are dropped there; the report
    /// says so. Data streams are never kept.
    pub keep_subtitles: bool,
    /// Write the output even when the decoder reports errors in the input's
    /// data (damaged frames may come out garbled). Off: such inputs fail.
    pub accept_damaged: bool,
    /// Permission bits of the output file (Unix), e.g. the input's.
    pub output_mode: u32,
    /// Tracking; [`TrackerConfig::off`] masks exactly the detections.
    pub tracking: TrackerConfig,
    /// Run the detector on every n-th frame only (1 = every frame, the
    /// default). Frames in between get their masks from tracking
    /// (interpolated when `lookahead >= n`): about n times faster, at the
    /// risk of missing a face that appears and leaves between two detected
    /// frames or moves unevenly. For privacy keep 1.
    pub detect_every: u32,
    /// Frames buffered between stages (decode to detect, detect to encode).
    pub queue: usize,
    /// Largest frame accepted, in pixels.
    pub max_pixels: u64,
    /// Stops the run from another thread ([`Cancel::cancel`]): its ffmpeg
    /// children are killed, its temp file deleted, and it returns
    /// [`ErrorKind::Cancelled`].
    pub cancel: Cancel,
}

impl Default for VideoOptions {
    fn default() -> Self {
        VideoOptions {
            mask: MaskSpec::default(),
            mode: Mode::default(),
            crf: 20,
            preset: "veryfast".into(),
            keep_audio: true,
            keep_subtitles: false,
            accept_damaged: false,
            output_mode: blindfold_models::atomic::DEFAULT_MODE,
            tracking: TrackerConfig::default(),
            detect_every: 1,
            queue: 4,
            max_pixels: 8192 * 8192,
            cancel: Cancel::default(),
        }
    }
}

impl VideoOptions {
    /// Reject settings that cannot work.
    pub fn validate(&self) -> Result<(), ErrorKind> {
        let bad = |m: &str| Err(ErrorKind::Config(m.to_string()));
        self.mask
            .validate()
            .map_err(|e| ErrorKind::Config(e.to_string()))?;
        if self.crf > 51 {
            return bad("crf must be within 0..51");
        }
        const PRESETS: [&str; 10] = [
            "ultrafast",
            "superfast",
            "veryfast",
            "faster",
            "fast",
            "medium",
            "slow",
            "slower",
            "veryslow",
            "placebo",
        ];
        if !PRESETS.contains(&self.preset.as_str()) {
            return bad(
                "preset must be one of ultrafast, superfast, veryfast, faster, fast, medium, slow, slower, veryslow",
            );
        }
        if self.detect_every == 0 {
            return bad("detect_every must be at least 1");
        }
        if self.queue == 0 || self.queue > 64 {
            return bad("queue must be within 1..64");
        }
        if self.tracking.lookahead > 300 || self.tracking.hold > 3000 {
            return bad("lookahead must be at most 300 frames and hold at most 3000");
        }
        Ok(())
    }
}

/// File extensions treated as video.
pub const VIDEO_EXTENSIONS: [&str; 15] = [
    "mp4", "mov", "m4v", "mkv", "avi", "webm", "mts", "m2ts", "3gp", "wmv", "flv", "mpg", "mpeg",
    "ts", "ogv",
];

/// Whether a path names a video, by its extension (case-insensitive).
pub fn is_video_path(p: &Path) -> bool {
    p.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| VIDEO_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// The output extension for an input: `mov` and `mkv` stay, everything else
/// (including `webm`, which cannot hold H.264) becomes `mp4`.
pub fn output_extension(input: &Path) -> &'static str {
    let ext = input
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("mov") => "mov",
        Some("mkv") | Some("webm") => "mkv",
        _ => "mp4",
    }
}

/// Check that `ffmpeg` and `ffprobe` can run; the error says how to install them.
pub fn check_ffmpeg() -> Result<(), ErrorKind> {
    ffmpeg::check_tools()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn video_paths() {
        for p in ["a.mp4", "b.MOV", "c.mkv", "d.M2TS", "x/y.webm", "z.mpeg"] {
            assert!(is_video_path(Path::new(p)), "{p}");
        }
        for p in ["a.jpg", "b", "c.mp4.txt", ".mp4"] {
            assert!(!is_video_path(Path::new(p)), "{p}");
        }
    }

    #[test]
    fn output_extensions() {
        assert_eq!(output_extension(Path::new("a.MOV")), "mov");
        assert_eq!(output_extension(Path::new("a.webm")), "mkv");
        assert_eq!(output_extension(Path::new("a.avi")), "mp4");
    }

    #[test]
    fn default_options_are_valid() {
        VideoOptions::default().validate().unwrap();
        let bad = VideoOptions {
            crf: 60,
            ..VideoOptions::default()
        };
        assert!(bad.validate().is_err());
    }
}
