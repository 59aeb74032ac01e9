//! The per-file report printed with `--json`.

use blindfold::report::PhotoReport;
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
