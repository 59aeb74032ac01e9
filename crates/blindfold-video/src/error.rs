//! The crate's error type: every error names the file and the reason.

use std::path::PathBuf;

/// A video could not be anonymised. No output file was left behind.
#[derive(Debug, thiserror::Error)]
#[error("{}: {kind}", path.display())]
pub struct VideoError {
    /// The input file.
    pub path: PathBuf,
    /// What went wrong.
    pub kind: ErrorKind,
}

/// What went wrong with a video.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// `ffmpeg` or `ffprobe` is not installed.
    #[error("{0} not found on PATH: install it (Debian/Ubuntu: sudo apt-get install ffmpeg)")]
    MissingTool(&'static str),
    /// ffprobe could not read the input, or found no video stream.
    #[error("cannot read video: {0}")]
    Probe(String),
    /// Decoding failed or stopped early (corrupt or truncated input).
    #[error("decoding failed: {0}")]
    Decode(String),
    /// The face detector failed on a frame.
    #[error("face detection failed on frame {frame}: {source}")]
    Detect {
        /// Frame index, from 0.
        frame: u64,
        /// The detector's error.
        source: blindfold::Error,
    },
    /// The constant-rate frames would far outnumber the frames in the file
    /// (hours between two frames' timestamps): refused before decoding, or as
    /// soon as the decoder goes past the limit.
    #[error("too many frames: {0}; no output was written")]
    TooManyFrames(String),
    /// Encoding or writing the output failed.
    #[error("encoding failed: {0}")]
    Encode(String),
    /// The written output failed a check (metadata left, wrong frame count, ...).
    #[error("output check failed: {0}")]
    Verify(String),
    /// A setting is out of range or the output name is not supported.
    #[error("invalid setting: {0}")]
    Config(String),
    /// A file system error.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// A file system error about a file other than the input (the output,
    /// its temp file or its folder).
    #[error("{what} {}: {source}", path.display())]
    File {
        /// What was being done, e.g. `cannot create a temp file in`.
        what: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The system's error.
        source: std::io::Error,
    },
    /// The decoder reported errors in the input's data (corrupt or damaged
    /// video); `--accept-damaged` (`VideoOptions::accept_damaged`) writes
    /// such files anyway.
    #[error(
        "the input's video data is damaged ({0}); no output was written (accept_damaged / --accept-damaged writes it anyway)"
    )]
    Damaged(String),
    /// The process is stopping (a signal was received): no new ffmpeg starts.
    #[error("stopped by a signal")]
    Stopped,
    /// The run was cancelled through [`crate::Cancel`].
    #[error("cancelled")]
    Cancelled,
}

impl VideoError {
    /// An error about `path`.
    pub fn new(path: impl Into<PathBuf>, kind: ErrorKind) -> Self {
        VideoError {
            path: path.into(),
            kind,
        }
    }
}
