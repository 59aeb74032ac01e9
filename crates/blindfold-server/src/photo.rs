//! `POST /v1/anonymize` and `POST /v1/detect`: one photo, in memory only.
//!
//! Order of checks: parameters (400), settings weaker than the service's
//! (403), Content-Type (415), ready (503), admission (503 at once when
//! detectors and queue are full), body size and time (413, 408), empty body
//! (400), signature (415), pixel count from the header (413), admission by
//! work (503 at once when the megapixels admitted would pass the budget),
//! then decode, detect, mask and encode in the engine (422 undecodable, 500),
//! all within the request's deadline (504, nothing kept).

use crate::{AppError, AppState, Effective, Settings, admit};
use axum::body::{Body, Bytes};
use axum::extract::{Query, State, rejection::QueryRejection};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use blindfold::Detection;
use blindfold::anonymize::{Mode, Shape};
use blindfold::codec::{self, Format};
use blindfold::detect::{DetectConfig, FaceDetector};
use blindfold::image::RgbImage;
use blindfold::pipeline::{self, Options, Outcome};
use blindfold::report::PhotoReport;
use http_body_util::BodyExt;
use serde::Serialize;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::time::Instant;

type Params = Result<Query<Vec<(String, String)>>, QueryRejection>;

/// `POST /v1/anonymize`
pub async fn anonymize(
    State(s): State<AppState>,
    q: Params,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, AppError> {
    let req = Request::parse(&query(q)?, &s.shared().settings, true)?;
    let t = Instant::now();
    let out = run(&s, &req, &headers, body, false).await?;
    let total_ms = t.elapsed().as_secs_f64() * 1000.0;
    let (backend, precision) = backend(&s);
    let content_type = content_type(out.format_out);
    let compact = serde_json::json!({
        "format": out.format,
        "format_out": out.format_out,
        "width": out.width,
        "height": out.height,
        "faces": out.faces.len(),
        "metadata_removed": out.metadata_removed,
        "backend": backend,
        "precision": precision,
        "settings": req.effective(),
    });
    let mut res = if req.json {
        let image = base64::engine::general_purpose::STANDARD.encode(&out.bytes);
        axum::Json(Report {
            status: "ok",
            kind: "photo",
            backend: backend.clone(),
            precision: precision.clone(),
            settings: req.effective(),
            photo: PhotoReport::from(&out),
            total_ms,
            content_type: Some(content_type),
            image: Some(image),
        })
        .into_response()
    } else {
        let mut r = Bytes::from(out.bytes).into_response();
        r.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        r
    };
    let h = res.headers_mut();
    h.insert("x-blindfold-faces", HeaderValue::from(out.faces.len()));
    // serde_json writes ASCII for these fields (names and numbers only).
    if let Ok(v) = HeaderValue::from_str(&compact.to_string()) {
        h.insert("x-blindfold-report", v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

/// `POST /v1/detect`
pub async fn detect(
    State(s): State<AppState>,
    q: Params,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, AppError> {
    let req = Request::parse(&query(q)?, &s.shared().settings, false)?;
    let t = Instant::now();
    let out = run(&s, &req, &headers, body, true).await?;
    let (backend, precision) = backend(&s);
    let mut res = axum::Json(Report {
        status: "ok",
        kind: "photo",
        backend,
        precision,
        settings: req.effective(),
        photo: PhotoReport::from(&out),
        total_ms: t.elapsed().as_secs_f64() * 1000.0,
        content_type: None,
        image: None,
    })
    .into_response();
    res.headers_mut()
        .insert("x-blindfold-faces", HeaderValue::from(out.faces.len()));
    Ok(res)
}

/// The JSON reply: the CLI's `--json` fields for a photo, plus the image.
#[derive(Serialize)]
struct Report {
    status: &'static str,
    kind: &'static str,
    backend: String,
    precision: String,
    /// The settings the photo ran with.
    settings: Effective,
    #[serde(flatten)]
    photo: PhotoReport,
    total_ms: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    content_type: Option<&'static str>,
    /// The anonymised image, base64 (standard alphabet, padded).
    #[serde(skip_serializing_if = "Option::is_none")]
    image: Option<String>,
}

/// The backend and precision that run.
fn backend(s: &AppState) -> (String, String) {
    s.shared()
        .detectors
        .get()
        .map_or_else(Default::default, |d| {
            (d.backend.clone(), d.precision.clone())
        })
}

fn query(q: Params) -> Result<Vec<(String, String)>, AppError> {
    q.map(|Query(v)| v)
        .map_err(|e| AppError::BadRequest(format!("bad query string: {}", e.body_text())))
}

/// The MIME type of a format.
pub fn content_type(f: Format) -> &'static str {
    match f {
        Format::Jpeg => "image/jpeg",
        Format::Png => "image/png",
        Format::Webp => "image/webp",
        Format::Tiff => "image/tiff",
        Format::Bmp => "image/bmp",
        Format::Gif => "image/gif",
        Format::Heif => "image/heic",
        Format::Avif => "image/avif",
    }
}

/// One request's settings: the service's, changed by the query parameters.
#[derive(Debug, Clone)]
pub struct Request {
    /// Detection.
    pub cfg: DetectConfig,
    /// Mask, fill, decoding and encoding.
    pub opts: Options,
    /// `?report=json`.
    pub json: bool,
    /// `?fast=true`.
    pub fast: bool,
}

impl Request {
    /// Apply `mode`, `shape`, `grow`, `threshold`, `fast`, `first_frame`
    /// (only the first frame of an animation or page of a TIFF; by default
    /// every one), `reencode` (and `report`
    /// where `allow_report`) to the defaults. Unknown parameters are refused,
    /// so a misspelt setting is never silently ignored (400), and so are
    /// settings weaker than the defaults beyond what `s.client` allows (403).
    pub fn parse(
        q: &[(String, String)],
        s: &Settings,
        allow_report: bool,
    ) -> Result<Request, AppError> {
        let bad = |m: String| AppError::BadRequest(m);
        let mut r = Request {
            cfg: s.detect.clone(),
            opts: s.options,
            json: false,
            fast: false,
        };
        let mut threshold = None;
        for (k, v) in q {
            match k.as_str() {
                "mode" => r.opts.mode = enum_value::<Mode>(k, v)?,
                "shape" => r.opts.mask.shape = enum_value::<Shape>(k, v)?,
                "grow" => r.opts.mask.grow = number(k, v)?,
                "threshold" => threshold = Some(number(k, v)?),
                "first_frame" => r.opts.first_frame = boolean(k, v)?,
                // Both JPEG paths fill the same way; no weaker setting.
                "reencode" => r.opts.encode.jpeg_lossless = !boolean(k, v)?,
                "fast" => {
                    r.fast = boolean(k, v)?;
                    r.cfg = match r.fast {
                        true => DetectConfig::fast(),
                        false => s.detect.clone(),
                    };
                }
                "report" if allow_report => match v.as_str() {
                    "json" => r.json = true,
                    "image" => r.json = false,
                    _ => return Err(bad(format!("report must be json or image, not {v:?}"))),
                },
                _ => return Err(bad(format!("unknown query parameter {k:?}"))),
            }
        }
        if let Some(t) = threshold {
            r.cfg.threshold = t;
        }
        r.cfg.validate()?;
        r.opts.mask.validate()?;
        r.fast = r.fast || s.detect == DetectConfig::fast();
        s.client
            .check(&r.cfg, &r.opts, r.fast, &s.detect, &s.options)?;
        r.opts.seed = fresh_seed();
        Ok(r)
    }

    /// The settings this request runs with, for its report.
    pub fn effective(&self) -> Effective {
        Effective::of(&self.cfg, &self.opts, self.fast)
    }
}

fn enum_value<T: serde::de::DeserializeOwned>(k: &str, v: &str) -> Result<T, AppError> {
    serde_json::from_value(serde_json::Value::String(v.to_ascii_lowercase()))
        .map_err(|_| AppError::BadRequest(format!("bad {k}: {v:?}")))
}

fn number(k: &str, v: &str) -> Result<f32, AppError> {
    v.parse::<f32>()
        .ok()
        .filter(|x| x.is_finite())
        .ok_or_else(|| AppError::BadRequest(format!("{k} must be a number, not {v:?}")))
}

fn boolean(k: &str, v: &str) -> Result<bool, AppError> {
    match v {
        "" | "1" | "true" | "yes" => Ok(true),
        "0" | "false" | "no" => Ok(false),
        _ => Err(AppError::BadRequest(format!(
            "{k} must be true or false, not {v:?}"
        ))),
    }
}

/// A fresh random seed for the noise fill (std's hasher keys come from the
/// operating system's random source).
fn fresh_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(0x626c_696e_6466_6f6c);
    h.finish()
}

/// Refuse a declared Content-Type that is not `prefix*` (`image/`,
/// `video/`); a missing one, or `application/octet-stream`, is fine: the
/// type is read from the bytes.
pub fn check_type(headers: &HeaderMap, prefix: &str) -> Result<(), AppError> {
    let Some(v) = headers.get(header::CONTENT_TYPE) else {
        return Ok(());
    };
    let v = v.to_str().unwrap_or("").to_ascii_lowercase();
    let essence = v.split(';').next().unwrap_or("").trim();
    if essence.starts_with(prefix) || essence == "application/octet-stream" {
        Ok(())
    } else {
        Err(AppError::Unsupported(format!(
            "Content-Type {essence:?} is not {prefix}*; send the file's bytes as the body"
        )))
    }
}

/// Read a whole body of at most `max` bytes within `timeout`: 413 over the
/// size (at once when Content-Length says so), 408 past the time.
pub async fn read_body(
    body: Body,
    headers: &HeaderMap,
    max: usize,
    timeout: Duration,
) -> Result<Bytes, AppError> {
    let too_large = || AppError::TooLarge(format!("the body is over the limit of {max} bytes"));
    if declared_length(headers).is_some_and(|n| n > max as u64) {
        return Err(too_large());
    }
    let read = async {
        let mut body = body;
        let mut buf = Vec::new();
        while let Some(frame) = body.frame().await {
            let frame =
                frame.map_err(|e| AppError::BadRequest(format!("cannot read the body: {e}")))?;
            if let Ok(data) = frame.into_data() {
                if buf.len() + data.len() > max {
                    return Err(too_large());
                }
                buf.extend_from_slice(&data);
            }
        }
        Ok(Bytes::from(buf))
    };
    tokio::time::timeout(timeout, read)
        .await
        .map_err(|_| AppError::BodyTimeout)?
}

/// Read and discard a body of at most `max` bytes within `timeout`; stop
/// early past either (the connection is then closed).
async fn drain(body: Body, max: usize, timeout: Duration) {
    let read = async {
        let mut body = body;
        let mut n = 0usize;
        while let Some(Ok(frame)) = body.frame().await {
            n += frame.data_ref().map_or(0, |d| d.len());
            if n > max {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(timeout, read).await;
}

/// The Content-Length header, when there is a valid one.
pub fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

/// Holds a photo's admission (its place and its megapixels) and counts
/// it. Released when the work is over, even if the client has gone or the
/// deadline has passed: a request keeps its place until its detection ends.
struct Admitted {
    _permit: tokio::sync::OwnedSemaphorePermit,
    _work: Option<tokio::sync::OwnedSemaphorePermit>,
    state: AppState,
}

impl Drop for Admitted {
    fn drop(&mut self) {
        let m = &self.state.shared().metrics;
        m.admitted.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A detector that refuses to start past the deadline, so that a photo
/// whose client has been answered with 504 does not run the network.
struct Until<'a> {
    inner: &'a mut dyn FaceDetector,
    deadline: std::time::Instant,
}

impl FaceDetector for Until<'_> {
    fn backend_name(&self) -> &str {
        self.inner.backend_name()
    }

    fn detect(&mut self, image: &RgbImage) -> Result<Vec<Detection>, blindfold::Error> {
        if std::time::Instant::now() >= self.deadline {
            return Err(blindfold::Error::Inference("past the deadline".into()));
        }
        self.inner.detect(image)
    }

    fn set_config(&mut self, config: &DetectConfig) -> Result<(), blindfold::Error> {
        self.inner.set_config(config)
    }
}

async fn run(
    s: &AppState,
    req: &Request,
    headers: &HeaderMap,
    body: Body,
    dry_run: bool,
) -> Result<Outcome, AppError> {
    check_type(headers, "image/")?;
    let shared = s.shared();
    let limits = &shared.limits;
    let deadline = Instant::now() + limits.request_timeout;
    let busy = || match shared.detectors.get() {
        Some(d) => AppError::Busy {
            retry_after: shared.metrics.retry_after(d.pool.size()),
        },
        None => AppError::NotReady,
    };
    let permit = match shared.admit.get().map(|a| a.clone().try_acquire_owned()) {
        Some(Ok(p)) => p,
        _ => {
            // Read and drop the body (bounded like any body) so the client
            // sees the 503 instead of a reset connection.
            drain(body, limits.max_body, limits.body_timeout).await;
            return Err(busy());
        }
    };
    shared.metrics.admitted.fetch_add(1, Ordering::Relaxed);
    let bytes = read_body(body, headers, limits.max_body, limits.body_timeout).await;
    let mut admitted = Admitted {
        _permit: permit,
        _work: None,
        state: s.clone(),
    };
    let bytes = bytes?;
    if bytes.is_empty() {
        return Err(AppError::BadRequest(
            "the body is empty; send an image".into(),
        ));
    }
    if codec::sniff(&bytes).is_none() {
        return Err(AppError::Unsupported(
            "not a JPEG, PNG, WebP, TIFF, BMP or GIF image".into(),
        ));
    }
    // Its cost: the pixels its header names; unreadable: the whole budget.
    let max_pixels = req.opts.decode.max_pixels;
    let pixels = match admit::dimensions(&bytes) {
        Some((w, h)) => {
            if let Some(e) = admit::too_large(w, h, max_pixels) {
                return Err(e.into());
            }
            u64::from(w) * u64::from(h)
        }
        None => u64::MAX,
    };
    let work = shared.work.get().ok_or(AppError::NotReady)?;
    let taken = work.try_take(pixels).ok_or_else(busy)?;
    admitted._work = Some(taken);
    let (cfg, opts) = (req.cfg.clone(), req.opts);
    let until = deadline.into_std();
    let job = tokio::task::spawn_blocking(move || {
        let state = admitted.state.clone();
        let _admitted = admitted;
        let shared = state.shared();
        let d = shared.detectors.get().ok_or(AppError::NotReady)?;
        let secs = shared.limits.request_timeout.as_secs();
        d.pool.with(|det| {
            // The client has been answered already: skip the work.
            if std::time::Instant::now() >= until {
                return Err(AppError::Deadline(secs));
            }
            let mut det = Until {
                inner: det,
                deadline: until,
            };
            let m = &shared.metrics;
            m.in_detection.fetch_add(1, Ordering::Relaxed);
            let t0 = std::time::Instant::now();
            let res = det.set_config(&cfg).and_then(|()| {
                pipeline::process(&bytes, &mut det, &opts, dry_run, &|| {
                    t0.elapsed().as_secs_f64() * 1000.0
                })
            });
            m.in_detection.fetch_sub(1, Ordering::Relaxed);
            m.photo_took(t0.elapsed().as_secs_f64());
            res.map_err(AppError::from)
        })
    });
    // Past the deadline the client is answered; the work, if it runs,
    // stops before its next detection and its result is dropped.
    let out = match tokio::time::timeout_at(deadline, job).await {
        Ok(joined) => joined.map_err(|_| AppError::Internal("processing failed".into()))??,
        Err(_) => return Err(AppError::Deadline(limits.request_timeout.as_secs())),
    };
    shared.metrics.photos.fetch_add(1, Ordering::Relaxed);
    shared
        .metrics
        .faces
        .fetch_add(out.faces.len() as u64, Ordering::Relaxed);
    Ok(out)
}
