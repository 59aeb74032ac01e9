//! Counters for `GET /metrics`, written by hand in the Prometheus text
//! format. Also the middleware that gives each request an id, counts it by
//! status and times it.

use crate::AppState;
use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Instant;

/// Upper bounds of the latency histogram, in seconds.
const BUCKETS: [f64; 11] = [0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0];

/// The service's counters and gauges.
#[derive(Default)]
pub struct Metrics {
    by_status: Mutex<BTreeMap<u16, u64>>,
    /// Faces found in photos answered with 200.
    pub faces: AtomicU64,
    /// Photos answered with 200.
    pub photos: AtomicU64,
    /// Photo requests admitted and not yet answered (queued or in detection).
    pub admitted: AtomicI64,
    /// Photos in detection now.
    pub in_detection: AtomicI64,
    /// Recent time per photo in the pool, seconds (a moving average, as f64 bits).
    photo_secs: AtomicU64,
    hist: [AtomicU64; BUCKETS.len() + 1],
    sum_us: AtomicU64,
    next_id: AtomicU64,
}

impl Metrics {
    /// Note the time one photo took in the pool.
    pub fn photo_took(&self, secs: f64) {
        let old = f64::from_bits(self.photo_secs.load(Ordering::Relaxed));
        let new = if old > 0.0 {
            0.8 * old + 0.2 * secs
        } else {
            secs
        };
        self.photo_secs.store(new.to_bits(), Ordering::Relaxed);
    }

    /// Seconds until a photo refused now would likely be admitted: the
    /// photos admitted, times the recent time per photo, over the detectors
    /// (1 to 60, for `Retry-After`).
    pub fn retry_after(&self, detectors: usize) -> u64 {
        let per = f64::from_bits(self.photo_secs.load(Ordering::Relaxed));
        let admitted = self.admitted.load(Ordering::Relaxed).max(0) as f64;
        let wait = admitted * per / detectors.max(1) as f64;
        (wait.ceil() as u64).clamp(1, 60)
    }

    fn observe(&self, status: u16, seconds: f64, photo: bool) {
        *self
            .by_status
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(status)
            .or_default() += 1;
        if photo {
            let i = BUCKETS
                .iter()
                .position(|b| seconds <= *b)
                .unwrap_or(BUCKETS.len());
            self.hist[i].fetch_add(1, Ordering::Relaxed);
            self.sum_us
                .fetch_add((seconds * 1e6) as u64, Ordering::Relaxed);
        }
    }

    /// Requests answered with `status` so far.
    pub fn count(&self, status: u16) -> u64 {
        let map = self.by_status.lock().unwrap_or_else(|e| e.into_inner());
        map.get(&status).copied().unwrap_or(0)
    }

    /// The text for `/metrics`. `jobs` is (state, count) for the video jobs;
    /// `work` the megapixels admitted and the work budget, once ready.
    /// `engine` is the backend and precision that run, once ready.
    pub fn render(
        &self,
        engine: Option<(&str, &str)>,
        jobs: &[(&str, usize)],
        work: Option<(u64, u64)>,
    ) -> String {
        let ready = engine.is_some();
        let mut s = String::new();
        let head = |s: &mut String, name: &str, kind: &str, help: &str| {
            let _ = writeln!(s, "# HELP {name} {help}\n# TYPE {name} {kind}");
        };
        head(
            &mut s,
            "blindfold_http_requests_total",
            "counter",
            "HTTP requests answered, by status.",
        );
        for (code, n) in self
            .by_status
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            let _ = writeln!(s, "blindfold_http_requests_total{{status=\"{code}\"}} {n}");
        }
        head(
            &mut s,
            "blindfold_photos_total",
            "counter",
            "Photos anonymised or reported (status 200).",
        );
        let _ = writeln!(
            s,
            "blindfold_photos_total {}",
            self.photos.load(Ordering::Relaxed)
        );
        head(
            &mut s,
            "blindfold_faces_total",
            "counter",
            "Faces found in those photos.",
        );
        let _ = writeln!(
            s,
            "blindfold_faces_total {}",
            self.faces.load(Ordering::Relaxed)
        );
        head(
            &mut s,
            "blindfold_photo_request_seconds",
            "histogram",
            "Time to answer /v1/anonymize and /v1/detect, body read included.",
        );
        let mut cum = 0;
        for (i, b) in BUCKETS.iter().enumerate() {
            cum += self.hist[i].load(Ordering::Relaxed);
            let _ = writeln!(
                s,
                "blindfold_photo_request_seconds_bucket{{le=\"{b}\"}} {cum}"
            );
        }
        cum += self.hist[BUCKETS.len()].load(Ordering::Relaxed);
        let _ = writeln!(
            s,
            "blindfold_photo_request_seconds_bucket{{le=\"+Inf\"}} {cum}"
        );
        let sum = self.sum_us.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(s, "blindfold_photo_request_seconds_sum {sum}");
        let _ = writeln!(s, "blindfold_photo_request_seconds_count {cum}");
        let admitted = self.admitted.load(Ordering::Relaxed).max(0);
        let detecting = self.in_detection.load(Ordering::Relaxed).max(0);
        head(
            &mut s,
            "blindfold_queue_depth",
            "gauge",
            "Photo requests admitted and waiting for a detector.",
        );
        let _ = writeln!(s, "blindfold_queue_depth {}", (admitted - detecting).max(0));
        head(
            &mut s,
            "blindfold_photos_in_detection",
            "gauge",
            "Photos in detection now.",
        );
        let _ = writeln!(s, "blindfold_photos_in_detection {detecting}");
        if let Some((used, budget)) = work {
            head(
                &mut s,
                "blindfold_work_megapixels",
                "gauge",
                "Megapixels of the photos admitted (waiting or in detection).",
            );
            let _ = writeln!(s, "blindfold_work_megapixels {used}");
            head(
                &mut s,
                "blindfold_work_budget_megapixels",
                "gauge",
                "The most megapixels admitted at once (a larger photo is admitted alone).",
            );
            let _ = writeln!(s, "blindfold_work_budget_megapixels {budget}");
        }
        head(
            &mut s,
            "blindfold_video_jobs",
            "gauge",
            "Video jobs held, by state.",
        );
        for (state, n) in jobs {
            let _ = writeln!(s, "blindfold_video_jobs{{state=\"{state}\"}} {n}");
        }
        head(
            &mut s,
            "blindfold_ready",
            "gauge",
            "1 when the model is loaded.",
        );
        let _ = writeln!(s, "blindfold_ready {}", u8::from(ready));
        if let Some((backend, precision)) = engine {
            head(
                &mut s,
                "blindfold_engine_info",
                "gauge",
                "The inference backend and the network's precision (fp32 or int8) that run.",
            );
            let _ = writeln!(
                s,
                "blindfold_engine_info{{backend=\"{backend}\",precision=\"{precision}\"}} 1"
            );
        }
        s
    }
}

/// Middleware: a request id (`X-Request-Id`), the count by status, the
/// latency of photo requests, and one log line with the id, route, status
/// and time (no file names, no image data, no boxes) when logging is on.
pub async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let m = &state.shared().metrics;
    let id = m.next_id.fetch_add(1, Ordering::Relaxed) + 1;
    let path = req.uri().path();
    let photo = path == "/v1/anonymize" || path == "/v1/detect";
    let route = match path {
        p if p.starts_with("/v1/jobs/") => "/v1/jobs/{id}".to_string(),
        p => p.to_string(),
    };
    let method = req.method().clone();
    let start = Instant::now();
    let mut res = next.run(req).await;
    let secs = start.elapsed().as_secs_f64();
    let status = res.status().as_u16();
    m.observe(status, secs, photo);
    if state.shared().log.load(Ordering::Relaxed) {
        eprintln!(
            "blindfold: req={id} {method} {route} {status} {:.0} ms",
            secs * 1000.0
        );
    }
    res.headers_mut()
        .insert("x-request-id", HeaderValue::from(id));
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_format_has_counts_buckets_and_gauges() {
        let m = Metrics::default();
        m.observe(200, 0.07, true);
        m.observe(200, 100.0, true);
        m.observe(503, 0.001, false);
        m.faces.fetch_add(3, Ordering::Relaxed);
        m.admitted.store(5, Ordering::Relaxed);
        m.in_detection.store(2, Ordering::Relaxed);
        let t = m.render(Some(("ort", "int8")), &[("running", 1)], Some((7, 76)));
        assert!(
            t.contains("blindfold_engine_info{backend=\"ort\",precision=\"int8\"} 1\n"),
            "{t}"
        );
        assert!(!m.render(None, &[], None).contains("blindfold_engine_info"));
        assert!(
            t.contains("blindfold_http_requests_total{status=\"200\"} 2\n"),
            "{t}"
        );
        assert!(
            t.contains("blindfold_http_requests_total{status=\"503\"} 1\n"),
            "{t}"
        );
        assert!(
            t.contains("blindfold_photo_request_seconds_bucket{le=\"0.05\"} 0\n"),
            "{t}"
        );
        assert!(
            t.contains("blindfold_photo_request_seconds_bucket{le=\"0.1\"} 1\n"),
            "{t}"
        );
        assert!(
            t.contains("blindfold_photo_request_seconds_bucket{le=\"60\"} 1\n"),
            "{t}"
        );
        assert!(
            t.contains("blindfold_photo_request_seconds_bucket{le=\"+Inf\"} 2\n"),
            "{t}"
        );
        assert!(
            t.contains("blindfold_photo_request_seconds_count 2\n"),
            "{t}"
        );
        assert!(t.contains("blindfold_faces_total 3\n"), "{t}");
        assert!(t.contains("blindfold_queue_depth 3\n"), "{t}");
        assert!(
            t.contains("blindfold_video_jobs{state=\"running\"} 1\n"),
            "{t}"
        );
        assert!(t.contains("blindfold_ready 1\n"), "{t}");
        assert!(t.contains("blindfold_work_megapixels 7\n"), "{t}");
        assert!(t.contains("blindfold_work_budget_megapixels 76\n"), "{t}");
        assert_eq!(m.count(503), 1);
        assert_eq!(m.retry_after(2), 1, "no photo timed yet");
        m.photo_took(2.0);
        assert_eq!(m.retry_after(2), 5, "5 admitted at 2 s each on 2 detectors");
        m.admitted.store(500, Ordering::Relaxed);
        assert_eq!(m.retry_after(1), 60);
    }
}
