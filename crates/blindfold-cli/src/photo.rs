//! One photo: read, anonymise (fail closed), write atomically.

use crate::inputs::Job;
use anyhow::{Context, Result};
use blindfold::detect::FaceDetector;
use blindfold::pipeline::{self, Options};
use blindfold::report::PhotoReport;
use blindfold_models::write_atomic;
use std::hash::{BuildHasher, Hasher};
use std::time::Instant;

/// Process one photo. On error nothing is written for it.
pub fn run(
    job: &Job,
    det: &mut dyn FaceDetector,
    opts: &Options,
    dry_run: bool,
) -> Result<PhotoReport> {
    let bytes = std::fs::read(&job.input)
        .with_context(|| format!("cannot read {}", job.input.display()))?;
    let start = Instant::now();
    let clock = || start.elapsed().as_secs_f64() * 1000.0;
    let opts = Options {
        seed: fresh_seed(),
        ..*opts
    };
    let out = pipeline::process(&bytes, det, &opts, dry_run, &clock)?;
    if !dry_run {
        write_atomic(&job.output, &out.bytes)?;
    }
    Ok(PhotoReport::from(&out))
}

/// An unpredictable seed for the noise fill, so noise cannot be replayed.
fn fresh_seed() -> u64 {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    h.finish()
}
