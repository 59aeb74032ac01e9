//! The per-file report printed with `--json`.

use blindfold::pipeline::{Face, IccAction, Outcome, Timings};
use serde::Serialize;
use std::path::PathBuf;

/// What happened to one file.
#[derive(Serialize, Debug)]
pub struct FileReport {
    /// The input file.
    pub input: PathBuf,
    /// The output file; absent when nothing was written.
    pub output: Option<PathBuf>,
    /// `ok`, `dry-run` or `error`.
    pub status: &'static str,
    /// Why it failed (only for `error`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// `photo` or `video`.
    pub kind: &'static str,
    /// Which inference backend ran.
    pub backend: String,
    /// Photo details; absent for videos and failures.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub photo: Option<PhotoReport>,
    /// Video details (per-track summaries); absent for photos.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub video: Option<serde_json::Value>,
    /// Wall time for the whole file in milliseconds.
    pub total_ms: f64,
}

impl FileReport {
    /// A report for `input` that has failed with `error`; callers fill in
    /// the rest on success with [`FileReport::done`].
    pub fn failed(
        input: &std::path::Path,
        kind: &'static str,
        backend: &str,
        total_ms: f64,
        error: &anyhow::Error,
    ) -> Self {
        FileReport {
            input: input.to_path_buf(),
            output: None,
            status: "error",
            error: Some(format!("{error:#}")),
            kind,
            backend: backend.to_string(),
            photo: None,
            video: None,
            total_ms,
        }
    }

    /// A successful report; `output` is `None` for a dry run.
    pub fn done(
        input: &std::path::Path,
        output: Option<PathBuf>,
        kind: &'static str,
        backend: &str,
        total_ms: f64,
    ) -> Self {
        FileReport {
            input: input.to_path_buf(),
            status: if output.is_some() { "ok" } else { "dry-run" },
            output,
            error: None,
            kind,
            backend: backend.to_string(),
            photo: None,
            video: None,
            total_ms,
        }
    }
}

/// Photo details.
#[derive(Serialize, Debug)]
pub struct PhotoReport {
    /// jpeg, png, webp, tiff or bmp.
    pub format: blindfold::codec::Format,
    /// Upright width.
    pub width: u32,
    /// Upright height.
    pub height: u32,
    /// EXIF orientation that was applied to the pixels (1 = none).
    pub orientation: u8,
    /// Every face masked: box, score and the mask as drawn.
    pub faces: Vec<Face>,
    /// Kinds of identifying metadata found in the input and not written out.
    pub metadata_removed: Vec<&'static str>,
    /// Metadata carried over (only ever `icc`: the colour data of the
    /// profile, or the whole profile with --keep-icc-as-is).
    pub metadata_kept: Vec<&'static str>,
    /// What became of the colour profile: none, kept, text-removed,
    /// removed, unreadable (dropped) or as-is.
    pub icc: IccAction,
    /// Animation frames or TIFF pages not written (only the first is).
    pub frames_dropped: u32,
    /// The damage let through by --accept-damaged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub damaged: Option<String>,
    /// Milliseconds per stage.
    pub timings: Timings,
}

impl PhotoReport {
    /// Build from a pipeline outcome.
    pub fn new(o: &Outcome) -> Self {
        PhotoReport {
            format: o.format,
            width: o.width,
            height: o.height,
            orientation: o.orientation,
            faces: o.faces.clone(),
            metadata_removed: o.metadata_removed(),
            metadata_kept: o.metadata_kept(),
            icc: o.icc,
            frames_dropped: o.frames_dropped,
            damaged: o.damaged.clone(),
            timings: o.timings,
        }
    }
}

/// The last line of `--json` output.
#[derive(Serialize, Debug)]
pub struct Summary {
    /// Always `summary`.
    pub summary: &'static str,
    /// Files processed.
    pub files: usize,
    /// Files that succeeded.
    pub ok: usize,
    /// Files that failed (no output written).
    pub failed: usize,
    /// Faces masked in all photos.
    pub faces: usize,
    /// Wall time in seconds.
    pub seconds: f64,
}
