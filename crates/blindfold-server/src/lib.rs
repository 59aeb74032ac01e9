//! `blindfold serve`: a self-hosted HTTP service on the blindfold engine.
//!
//! - `POST /v1/anonymize`: an image in, the anonymised image out (same
//!   format), or JSON with the image and the report (`?report=json`).
//! - `POST /v1/detect`: the report only.
//! - `POST /v1/jobs`, `GET /v1/jobs/{id}`, `GET /v1/jobs/{id}/result`,
//!   `DELETE /v1/jobs/{id}`: videos, as jobs on disk in a folder the service
//!   owns.
//! - `GET /healthz`, `GET /readyz`, `GET /metrics`, and the browser page at `/`.
//!
//! [`app`] builds the router from an [`AppState`] (tests drive it with
//! `tower::ServiceExt::oneshot`); [`serve`] loads the model, binds and runs
//! until SIGTERM or SIGINT.
//!
//! Photos stay in memory and are never written to disk. Every failure is a
//! JSON `{"error": ...}` with a fitting status and never carries the input
//! or a partly processed image.

mod admit;
mod auth;
mod error;
mod host;
mod jobs;
mod listen;
mod metrics;
mod photo;
mod policy;
mod run;
mod scrub;
mod web;

pub use blindfold_models::EngineSource;
pub use error::{AppError, ServeError};
pub use host::Hosts;
pub use jobs::{JobState, Jobs};
pub use metrics::Metrics;
pub use policy::{ClientBounds, Effective};
pub use run::{ServeConfig, serve};

use axum::Router;
use axum::routing::{get, post};
use blindfold::detect::{DetectConfig, FaceDetector};
use blindfold::pipeline::Options;
use blindfold_infer::select::Pool;
use blindfold_video::VideoOptions;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::sync::Semaphore;

/// Makes the detectors for a video job from its settings: one per lane
/// (see `blindfold_video::anonymize_video_lanes`), at least one.
pub type DetectorFactory =
    Arc<dyn Fn(&DetectConfig) -> Result<Vec<Box<dyn FaceDetector>>, String> + Send + Sync>;

/// What the service does with a request that does not say otherwise: the
/// CLI's detection and masking flags.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Detection for photos (a request may ask for the `fast` preset or
    /// another threshold).
    pub detect: DetectConfig,
    /// Detection for videos.
    pub video_detect: DetectConfig,
    /// Decoding limits, mask, fill and encoding for photos.
    pub options: Options,
    /// Video settings (mask and fill come from the request or `options`).
    pub video: VideoOptions,
    /// What a request may change below these settings (by default nothing:
    /// 403).
    pub client: ClientBounds,
}

/// The bounds that keep the service up under load and abuse.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Largest photo body, in bytes.
    pub max_body: usize,
    /// Photo requests admitted beyond those in detection; more get 503 at once.
    pub queue: usize,
    /// Time to receive a whole photo body.
    pub body_timeout: Duration,
    /// Largest video upload, in bytes.
    pub max_video: u64,
    /// Time to receive a whole video upload.
    pub video_timeout: Duration,
    /// Longest pause in a video upload; a longer one ends it with 408.
    pub upload_idle: Duration,
    /// Time from a photo request's arrival to its answer; past it the
    /// client gets 504 and the result, if any, is dropped.
    pub request_timeout: Duration,
    /// Megapixels of photos admitted at once (waiting or in detection);
    /// `None`: `max_pixels` plus 12 per further detector. A photo larger
    /// than the whole budget is admitted alone.
    pub work_budget: Option<u64>,
    /// The host names requests may name.
    pub hosts: Hosts,
    /// Video jobs held at once (queued, running or finished); more get 503.
    pub max_jobs: usize,
    /// How long a finished video result is kept when nobody downloads it.
    pub keep_results: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body: 50 << 20,
            queue: 8,
            body_timeout: Duration::from_secs(30),
            max_video: 4 << 30,
            video_timeout: Duration::from_secs(1800),
            upload_idle: Duration::from_secs(60),
            request_timeout: Duration::from_secs(120),
            work_budget: None,
            hosts: Hosts::default(),
            max_jobs: 16,
            keep_results: Duration::from_secs(3600),
        }
    }
}

/// The detectors, once the model is loaded.
pub struct Detectors {
    /// One detector per photo processed at once.
    pub pool: Pool,
    /// The backend's name for reports (`ort`, `rten`).
    pub backend: String,
    /// The precision the network runs in (`fp32`, `int8`).
    pub precision: String,
    /// Makes video detectors; `None` when videos are off (no ffmpeg).
    pub video: Option<DetectorFactory>,
}

/// Everything the handlers share. Cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

pub(crate) struct Shared {
    pub settings: Settings,
    pub limits: Limits,
    /// sha256 of the bearer token, when one is needed.
    pub token: Option<[u8; 32]>,
    pub detectors: OnceLock<Detectors>,
    /// Permits for photo requests: detectors plus queue.
    pub admit: OnceLock<Arc<Semaphore>>,
    /// Megapixels of the photos admitted (waiting or in detection).
    pub work: OnceLock<admit::Work>,
    pub metrics: Metrics,
    pub jobs: Jobs,
    /// One log line per request (ids only).
    pub log: std::sync::atomic::AtomicBool,
}

impl AppState {
    /// A state with these settings; `token` is the bearer token, if any;
    /// video jobs live in `jobs`. Not ready until [`AppState::set_detectors`].
    pub fn new(settings: Settings, limits: Limits, token: Option<&str>, jobs: Jobs) -> AppState {
        AppState(Arc::new(Shared {
            settings,
            limits,
            token: token.map(auth::digest),
            detectors: OnceLock::new(),
            admit: OnceLock::new(),
            work: OnceLock::new(),
            metrics: Metrics::default(),
            jobs,
            log: Default::default(),
        }))
    }

    /// Print one line per request (request id, route, status, time) on stderr.
    pub fn set_log(&self, log: bool) {
        self.0.log.store(log, std::sync::atomic::Ordering::Relaxed);
    }

    /// Hand over the loaded detectors: the service is ready from now on.
    /// Photo requests beyond `pool.size() + limits.queue`, or beyond the
    /// work budget, get 503.
    pub fn set_detectors(&self, d: Detectors) {
        let permits = d.pool.size() + self.0.limits.queue;
        let _ = self.0.admit.set(Arc::new(Semaphore::new(permits)));
        let max_pixels = self.0.settings.options.decode.max_pixels;
        let budget = self
            .0
            .limits
            .work_budget
            .unwrap_or_else(|| admit::default_budget(max_pixels, d.pool.size()));
        let _ = self.0.work.set(admit::Work::new(budget));
        let _ = self.0.detectors.set(d);
    }

    /// Whether the model is loaded.
    pub fn ready(&self) -> bool {
        self.0.detectors.get().is_some()
    }

    /// The counters.
    pub fn metrics(&self) -> &Metrics {
        &self.0.metrics
    }

    /// The video jobs.
    pub fn jobs(&self) -> &Jobs {
        &self.0.jobs
    }

    pub(crate) fn shared(&self) -> &Shared {
        &self.0
    }
}

/// The service's routes, with authentication, request ids, metrics and the
/// security headers.
pub fn app(state: AppState) -> Router {
    use axum::middleware::from_fn_with_state;
    let api = Router::new()
        .route("/healthz", get(health))
        .route("/readyz", get(ready))
        .route("/metrics", get(metrics_text))
        .route("/v1/anonymize", post(photo::anonymize))
        .route("/v1/detect", post(photo::detect))
        .route("/v1/jobs", post(jobs::create))
        .route("/v1/jobs/{id}", get(jobs::status).delete(jobs::remove))
        .route("/v1/jobs/{id}/result", get(jobs::result))
        .method_not_allowed_fallback(|| async { AppError::MethodNotAllowed })
        .fallback(web::page);
    web::headers(api)
        .layer(from_fn_with_state(state.clone(), auth::require_token))
        .layer(from_fn_with_state(state.clone(), host::check))
        .layer(from_fn_with_state(state.clone(), metrics::track))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            |_: Box<dyn std::any::Any + Send>| {
                axum::response::IntoResponse::into_response(AppError::Internal(
                    "internal error".into(),
                ))
            },
        ))
        .with_state(state)
}

async fn health() -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({ "status": "ok" }))
}

async fn ready(
    axum::extract::State(s): axum::extract::State<AppState>,
) -> Result<axum::Json<serde_json::Value>, AppError> {
    let d = s.0.detectors.get().ok_or(AppError::NotReady)?;
    Ok(axum::Json(serde_json::json!({
        "status": "ready",
        "backend": d.backend,
        "precision": d.precision,
        "detectors": d.pool.size(),
        "videos": d.video.is_some(),
        "work_budget_megapixels": s.0.work.get().map(admit::Work::budget),
        "max_pixels": s.0.settings.options.decode.max_pixels,
    })))
}

async fn metrics_text(
    axum::extract::State(s): axum::extract::State<AppState>,
) -> impl axum::response::IntoResponse {
    let work = s.0.work.get().map(|w| (w.in_use(), w.budget()));
    let engine =
        s.0.detectors
            .get()
            .map(|d| (d.backend.as_str(), d.precision.as_str()));
    let text = s.0.metrics.render(engine, &s.0.jobs.counts(), work);
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
}

#[cfg(test)]
mod tests;
