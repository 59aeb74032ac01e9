//! The per-file report and summary printed with `--json`, and the helpers for
//! human output (skipped files, escaped names).

use crate::inputs::Skipped;
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
    /// Which backend and precision ran.
    #[serde(flatten)]
    pub ran: Ran,
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
        ran: Ran,
        total_ms: f64,
        error: &anyhow::Error,
    ) -> Self {
        FileReport {
            input: input.to_path_buf(),
            output: None,
            status: "error",
            error: Some(format!("{error:#}")),
            kind,
            ran,
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
        ran: Ran,
        total_ms: f64,
    ) -> Self {
        FileReport {
            input: input.to_path_buf(),
            status: if output.is_some() { "ok" } else { "dry-run" },
            output,
            error: None,
            kind,
            ran,
            photo: None,
            video: None,
            total_ms,
        }
    }
}

/// Which inference backend and precision ran a file.
#[derive(Serialize, Debug, Clone, Copy)]
pub struct Ran {
    /// `ort`, `ort-cuda` or `rten`.
    pub backend: &'static str,
    /// `fp32` or `int8`.
    pub precision: &'static str,
}

impl Ran {
    /// What `engine` runs.
    pub fn of(engine: &blindfold_infer::select::Engine) -> Ran {
        Ran {
            backend: engine.backend(),
            precision: engine.precision().name(),
        }
    }
}

/// The last line of `--json` output.
#[derive(Serialize, Debug)]
pub struct Summary<'a> {
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
    /// Files in the input folders and globs that were not processed.
    pub skipped: usize,
    /// Each skipped file with the reason.
    pub skipped_files: &'a [Skipped],
    /// Wall time in seconds.
    pub seconds: f64,
}

/// The files passed over in folders and globs, with the reasons (at most 50
/// lines; `--json` lists them all).
pub fn print_skipped(skipped: &[Skipped], quiet: bool) {
    if quiet || skipped.is_empty() {
        return;
    }
    eprintln!("blindfold: skipped {} file(s):", skipped.len());
    for s in skipped.iter().take(50) {
        eprintln!("  {}: {}", shown(&s.path), s.reason);
    }
    if skipped.len() > 50 {
        eprintln!(
            "  ... and {} more (--json lists them all)",
            skipped.len() - 50
        );
    }
}

/// A path for human output: control characters (a newline, an escape
/// sequence) are shown escaped, so a file name cannot forge or hide lines.
pub fn shown(p: &std::path::Path) -> String {
    escaped(&p.to_string_lossy())
}

/// Text for human output with its control characters escaped.
pub fn escaped(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped() {
        let p = std::path::Path::new("a\nb\x1b[2Jc\té.jpg");
        assert_eq!(shown(p), "a\\nb\\u{1b}[2Jc\\té.jpg");
    }
}
