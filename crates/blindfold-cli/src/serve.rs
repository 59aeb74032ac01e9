//! `blindfold serve`: flags to a `blindfold_server::ServeConfig`. The
//! service itself lives in the `blindfold-server` crate.

use crate::cli::{ClientSetting, ServeArgs};
use crate::{engine, video};
use blindfold_server::{ClientBounds, Limits, ServeConfig, Settings};
use std::process::ExitCode;
use std::time::Duration;

/// Why `serve` did not run: bad flags (exit 2) or a failure (exit 1).
pub enum Failure {
    /// Bad usage.
    Usage(anyhow::Error),
    /// Anything else.
    Other(anyhow::Error),
}

/// Parse the flags and run the service until SIGTERM or SIGINT.
pub fn run(a: &ServeArgs) -> Result<ExitCode, Failure> {
    let usage = |e: anyhow::Error| Failure::Usage(e);
    let detect = engine::detect_config(&a.detect).map_err(usage)?;
    let video_detect = video::detect_config(&a.detect).map_err(usage)?;
    let mut options = engine::photo_options(&a.look, &a.output_opts).map_err(usage)?;
    if a.output_opts.max_pixels.is_none() {
        options.decode.max_pixels = MAX_PIXELS;
    }
    if options.mode.is_reversible() {
        eprintln!("blindfold: warning: {}", crate::REVERSIBLE);
    }
    let token = match &a.token_file {
        Some(f) => Some(
            std::fs::read_to_string(f)
                .map_err(|e| {
                    Failure::Usage(anyhow::anyhow!(
                        "cannot read --token-file {}: {e}",
                        f.display()
                    ))
                })?
                .trim()
                .to_string(),
        ),
        None => None,
    };
    let jobs = a.engine.jobs;
    let settings = Settings {
        detect,
        video_detect,
        options,
        video: video::options(&a.video, &a.output_opts, &options),
        client: client_bounds(a),
    };
    let limits = Limits {
        max_body: usize::try_from(a.max_body.saturating_mul(1 << 20)).unwrap_or(usize::MAX),
        queue: a
            .queue
            .unwrap_or(4 * jobs.unwrap_or(blindfold_infer::select::num_cpus())),
        body_timeout: Duration::from_secs(a.body_timeout.max(1)),
        max_video: a.max_video.saturating_mul(1 << 20),
        video_timeout: a.upload_timeout.max(Duration::from_secs(1)),
        upload_idle: Duration::from_secs(a.upload_idle_timeout.max(1)),
        request_timeout: Duration::from_secs(a.request_timeout.max(1)),
        work_budget: a.work_budget,
        keep_results: a.keep_results,
        ..Limits::default()
    };
    let config = ServeConfig {
        token,
        no_auth: a.no_auth,
        allowed_hosts: a.allowed_host.clone(),
        jobs,
        limits,
        engine: engine::source(&a.engine),
        work_dir: a.work_dir.clone(),
        header_timeout: Duration::from_secs(a.header_timeout.max(1)),
        log: !a.quiet,
        ..ServeConfig::new(a.listen, settings)
    };
    config.check().map_err(|e| Failure::Usage(e.into()))?;
    blindfold_server::serve(config).map_err(|e| Failure::Other(e.into()))?;
    Ok(ExitCode::SUCCESS)
}

/// The service's default pixel limit, lower than the CLI's 100 megapixels:
/// a photo's pixels cost a detector time in proportion (tiles of 2048 px),
/// and 64 megapixels (8000 x 8000) passes every common camera (45 to 61
/// megapixels). See the README, "HTTP service".
const MAX_PIXELS: u64 = 64_000_000;

/// What clients may weaken: `--allow-client-settings [LIST]` and the bounds.
fn client_bounds(a: &ServeArgs) -> ClientBounds {
    let mut b = ClientBounds::default();
    if let Some(list) = &a.allow_client_settings {
        let all = list.is_empty();
        let has = |s| all || list.contains(&s);
        if has(ClientSetting::Threshold) {
            b.max_threshold = Some(1.0);
        }
        if has(ClientSetting::Grow) {
            b.min_grow = Some(0.0);
        }
        b.reversible = has(ClientSetting::Mode);
        b.ellipse = has(ClientSetting::Shape);
        b.fast = has(ClientSetting::Fast);
    }
    b.max_threshold = b.max_threshold.or(a.client_max_threshold);
    b.min_grow = b.min_grow.or(a.client_min_grow);
    b
}
