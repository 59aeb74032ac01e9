//! Videos: hand the file to `blindfold-video` with a detector from the pool.

use crate::cli::Cli;
use crate::engine::Pool;
use crate::inputs::Job;
use crate::report::FileReport;
use blindfold::pipeline::Options;
use indicatif::ProgressBar;
use std::time::Instant;

/// Anonymise one video; failures become an `error` report and leave no output.
pub fn run(
    job: &Job,
    _pool: &Pool,
    _cli: &Cli,
    _opts: &Options,
    backend: &str,
    _bar: &ProgressBar,
) -> FileReport {
    let t = Instant::now();
    FileReport {
        input: job.input.clone(),
        output: None,
        status: "error",
        error: Some("video support is not built yet".into()),
        kind: "video",
        backend: backend.to_string(),
        photo: None,
        video: None,
        total_ms: t.elapsed().as_secs_f64() * 1000.0,
    }
}
