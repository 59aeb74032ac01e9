//! Router tests: every route and every error status, through
//! `tower::ServiceExt::oneshot`, with scripted detectors (no model).

use super::*;
use axum::body::Body;
use axum::http::{Request, Response, StatusCode, header};
use blindfold::BBox;
use blindfold::testing::ScriptedDetector;
use http_body_util::BodyExt;
use image::{ImageFormat, RgbImage};
use std::io::Cursor;
use tower::ServiceExt;

mod frames;
mod guards;
mod heif;

/// A detector that reports one face at (20, 10)-(44, 34), after `delay`,
/// or fails when `fail`.
fn detector(delay: Duration, fail: bool) -> Box<dyn FaceDetector> {
    Box::new(ScriptedDetector::new(move |_, _| {
        std::thread::sleep(delay);
        if fail {
            return Err(blindfold::Error::Inference("scripted failure".into()));
        }
        Ok(vec![BBox::new(20.0, 10.0, 44.0, 34.0)])
    }))
}

struct Fixture {
    state: AppState,
    _dir: tempfile::TempDir,
}

/// The service's defaults with `client` as what clients may weaken.
fn settings(client: ClientBounds) -> Settings {
    Settings {
        detect: DetectConfig::default(),
        video_detect: DetectConfig::default().for_video(),
        options: Options::default(),
        video: VideoOptions::default(),
        client,
    }
}

/// A ready service with these photo detectors; video detectors take
/// `video_delay` per frame.
fn fixture_of(
    settings: Settings,
    limits: Limits,
    token: Option<&str>,
    dets: Vec<Box<dyn FaceDetector>>,
    video_delay: Duration,
) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let jobs = Jobs::open(dir.path()).unwrap();
    let state = AppState::new(settings, limits, token, jobs);
    let video: Option<DetectorFactory> = match blindfold_video::check_ffmpeg() {
        Ok(()) => Some(Arc::new(move |_: &DetectConfig| {
            Ok(vec![detector(video_delay, false)])
        })),
        Err(_) => None,
    };
    state.set_detectors(Detectors {
        pool: Pool::from_detectors(dets),
        backend: "scripted".into(),
        precision: "fp32".into(),
        video,
    });
    Fixture { state, _dir: dir }
}

fn fixture_with(
    limits: Limits,
    token: Option<&str>,
    n: usize,
    delay: Duration,
    fail: bool,
) -> Fixture {
    let dets = (0..n).map(|_| detector(delay, fail)).collect();
    let s = settings(ClientBounds::default());
    fixture_of(s, limits, token, dets, Duration::ZERO)
}

fn fixture() -> Fixture {
    fixture_with(Limits::default(), None, 1, Duration::ZERO, false)
}

/// A 64x48 picture with a bright pattern, encoded as `fmt`.
fn picture(fmt: ImageFormat) -> Vec<u8> {
    let img = RgbImage::from_fn(64, 48, |x, y| {
        image::Rgb([(x * 4) as u8, (y * 5) as u8, 200])
    });
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, fmt).unwrap();
    out.into_inner()
}

fn post(uri: &str, body: impl Into<Body>, content_type: Option<&str>) -> Request<Body> {
    let mut b = Request::post(uri);
    if let Some(t) = content_type {
        b = b.header(header::CONTENT_TYPE, t);
    }
    b.body(body.into()).unwrap()
}

fn get(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).unwrap()
}

async fn send(f: &Fixture, req: Request<Body>) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let res: Response<Body> = app(f.state.clone()).oneshot(req).await.unwrap();
    let (parts, body) = res.into_parts();
    let bytes = body.collect().await.unwrap().to_bytes().to_vec();
    (parts.status, parts.headers, bytes)
}

fn json(bytes: &[u8]) -> serde_json::Value {
    serde_json::from_slice(bytes)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(bytes)))
}

/// The job's status once it is done or failed (polled for up to 30 s).
async fn wait_for_job(f: &Fixture, id: &str) -> serde_json::Value {
    let mut last = serde_json::Value::Null;
    for _ in 0..300 {
        let (_, _, b) = send(f, get(&format!("/v1/jobs/{id}"))).await;
        last = json(&b);
        if last["state"] == "done" || last["state"] == "failed" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    last
}

/// An error reply: the status, a JSON `error` and no image bytes.
async fn expect_error(f: &Fixture, req: Request<Body>, status: StatusCode) -> String {
    let (st, h, body) = send(f, req).await;
    let text = String::from_utf8_lossy(&body).to_string();
    assert_eq!(st, status, "{text}");
    assert_eq!(h[header::CONTENT_TYPE], "application/json", "{text}");
    json(&body)["error"]
        .as_str()
        .expect("error message")
        .to_string()
}

#[tokio::test]
async fn anonymize_returns_the_same_format_with_the_face_masked() {
    let f = fixture();
    for (fmt, ct) in [
        (ImageFormat::Png, "image/png"),
        (ImageFormat::Jpeg, "image/jpeg"),
    ] {
        let input = picture(fmt);
        let (st, h, body) = send(&f, post("/v1/anonymize", input.clone(), Some(ct))).await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(h[header::CONTENT_TYPE], ct);
        assert_eq!(h["x-blindfold-faces"], "1");
        let compact = json(h["x-blindfold-report"].as_bytes());
        assert_eq!(compact["faces"], 1);
        assert_eq!(compact["width"], 64);
        assert_eq!(h[header::CACHE_CONTROL], "no-store");
        let before = image::load_from_memory(&input).unwrap().to_rgb8();
        let after = image::load_from_memory(&body).unwrap().to_rgb8();
        assert_eq!(after.dimensions(), (64, 48));
        // The face centre changed; a far corner did not (beyond JPEG noise).
        let diff = |x, y| {
            let (a, b) = (before.get_pixel(x, y), after.get_pixel(x, y));
            (0..3)
                .map(|c| (a[c] as i32 - b[c] as i32).abs())
                .max()
                .unwrap()
        };
        assert!(diff(32, 22) > 0 || before.get_pixel(32, 22) != after.get_pixel(32, 22));
        let changed = (15..50)
            .flat_map(|x| (5..40).map(move |y| (x, y)))
            .filter(|&(x, y)| diff(x, y) > 30)
            .count();
        assert!(changed > 200, "{changed} pixels changed under the mask");
        assert!(diff(63, 47) < 30);
    }
}

#[tokio::test]
async fn report_json_holds_the_image_and_the_cli_fields() {
    let dets = vec![detector(Duration::ZERO, false)];
    let s = settings(ClientBounds::any());
    let f = fixture_of(s, Limits::default(), None, dets, Duration::ZERO);
    let (st, _, body) = send(
        &f,
        post(
            "/v1/anonymize?report=json&mode=solid&shape=rect&grow=0",
            picture(ImageFormat::Png),
            None,
        ),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    let v = json(&body);
    assert_eq!(v["status"], "ok");
    assert_eq!(v["kind"], "photo");
    assert_eq!(v["format"], "png");
    assert_eq!(v["content_type"], "image/png");
    assert_eq!(v["faces"].as_array().unwrap().len(), 1);
    assert_eq!(v["faces"][0]["mask"]["shape"], "rect");
    use base64::Engine as _;
    let png = base64::engine::general_purpose::STANDARD
        .decode(v["image"].as_str().unwrap())
        .unwrap();
    let img = image::load_from_memory(&png).unwrap().to_rgb8();
    // Solid fill, rectangle, no growth: the box is black.
    assert_eq!(img.get_pixel(30, 20), &image::Rgb([0, 0, 0]));
    assert_ne!(img.get_pixel(60, 44), &image::Rgb([0, 0, 0]));
}

#[tokio::test]
async fn a_jpeg_is_edited_losslessly_unless_reencode_is_asked() {
    let dets = vec![detector(Duration::ZERO, false)];
    let s = settings(ClientBounds::default());
    let f = fixture_of(s, Limits::default(), None, dets, Duration::ZERO);
    for (query, path) in [
        ("", "lossless"),
        ("&reencode=true", "reencoded"),
        ("&mode=blur", "reencoded"),
    ] {
        let uri = format!("/v1/anonymize?report=json{query}");
        let (st, _, body) = send(&f, post(&uri, picture(ImageFormat::Jpeg), None)).await;
        if query == "&mode=blur" {
            // Blur is weaker than the service's noise: refused here.
            assert_eq!(st, StatusCode::FORBIDDEN);
            continue;
        }
        assert_eq!(st, StatusCode::OK, "{query}");
        assert_eq!(json(&body)["jpeg"], path, "{query}");
    }
    let (_, _, body) = send(
        &f,
        post("/v1/anonymize?report=json", picture(ImageFormat::Png), None),
    )
    .await;
    assert!(json(&body).get("jpeg").is_none());
}

#[tokio::test]
async fn detect_returns_the_report_only() {
    let f = fixture();
    let (st, h, body) = send(
        &f,
        post(
            "/v1/detect?threshold=0.1&mode=solid",
            picture(ImageFormat::Jpeg),
            Some("image/jpeg"),
        ),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(h["x-blindfold-faces"], "1");
    let v = json(&body);
    assert_eq!(v["faces"][0]["bbox"]["x0"], 20.0);
    assert_eq!(v["width"], 64);
    assert!(v.get("image").is_none());
    // ?report is for /v1/anonymize only.
    expect_error(
        &f,
        post("/v1/detect?report=json", picture(ImageFormat::Png), None),
        StatusCode::BAD_REQUEST,
    )
    .await;
}

#[tokio::test]
async fn bad_input_gets_its_status() {
    let f = fixture_with(
        Limits {
            max_body: 100_000,
            ..Limits::default()
        },
        None,
        1,
        Duration::ZERO,
        false,
    );
    let png = picture(ImageFormat::Png);
    let jpeg = picture(ImageFormat::Jpeg);
    let m = expect_error(
        &f,
        post("/v1/anonymize", Vec::new(), None),
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(m.contains("empty"), "{m}");
    expect_error(
        &f,
        post(
            "/v1/anonymize",
            "hello, not an image",
            Some("application/octet-stream"),
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
    )
    .await;
    expect_error(
        &f,
        post("/v1/anonymize", png.clone(), Some("text/plain")),
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
    )
    .await;
    expect_error(
        &f,
        post(
            "/v1/anonymize",
            jpeg[..jpeg.len() / 2].to_vec(),
            Some("image/jpeg"),
        ),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    expect_error(
        &f,
        post("/v1/anonymize", png[..png.len() - 30].to_vec(), None),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let mut corrupt = png.clone();
    for b in corrupt.iter_mut().skip(60).take(200) {
        *b ^= 0x5a;
    }
    expect_error(
        &f,
        post("/v1/anonymize", corrupt, None),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    // A 60000x60000 PNG with no pixel data: refused before any allocation,
    // as truncated (no IEND) or, complete, as over the pixel limit.
    let mut bomb = header_only_png(60_000, 60_000);
    expect_error(
        &f,
        post("/v1/anonymize", bomb.clone(), None),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    for chunk in [&b"IDAT"[..], b"IEND"] {
        bomb.extend(0u32.to_be_bytes());
        bomb.extend(chunk);
        bomb.extend(crc32(chunk).to_be_bytes());
    }
    let m = expect_error(
        &f,
        post("/v1/anonymize", bomb, None),
        StatusCode::PAYLOAD_TOO_LARGE,
    )
    .await;
    assert!(m.contains("pixels"), "{m}");
    // Over the body limit: declared, and streamed without a length.
    expect_error(
        &f,
        post("/v1/anonymize", vec![0u8; 100_001], None),
        StatusCode::PAYLOAD_TOO_LARGE,
    )
    .await;
    let chunks = (0..30).map(|_| Ok::<_, std::io::Error>(vec![0u8; 10_000]));
    let body = Body::from_stream(futures_util::stream::iter(chunks));
    expect_error(
        &f,
        post("/v1/anonymize", body, None),
        StatusCode::PAYLOAD_TOO_LARGE,
    )
    .await;
    for q in [
        "mode=sparkle",
        "shape=star",
        "grow=-1",
        "threshold=2",
        "threshold=x",
        "fast=maybe",
        "treshold=0.1",
        "report=xml",
    ] {
        expect_error(
            &f,
            post(&format!("/v1/anonymize?{q}"), png.clone(), None),
            StatusCode::BAD_REQUEST,
        )
        .await;
    }
    // Still up.
    let (st, _, _) = send(&f, post("/v1/anonymize", png, None)).await;
    assert_eq!(st, StatusCode::OK);
}

/// A PNG signature and IHDR saying `w` x `h`, and nothing else.
fn header_only_png(w: u32, h: u32) -> Vec<u8> {
    let mut ihdr = b"IHDR".to_vec();
    ihdr.extend(w.to_be_bytes());
    ihdr.extend(h.to_be_bytes());
    ihdr.extend([8, 2, 0, 0, 0]);
    let crc = crc32(&ihdr);
    let mut out = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    out.extend(13u32.to_be_bytes());
    out.extend(&ihdr);
    out.extend(crc.to_be_bytes());
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[tokio::test]
async fn a_client_that_stops_sending_gets_408() {
    let f = fixture_with(
        Limits {
            body_timeout: Duration::from_millis(200),
            ..Limits::default()
        },
        None,
        1,
        Duration::ZERO,
        false,
    );
    let png = picture(ImageFormat::Png);
    let first = png[..20].to_vec();
    use futures_util::StreamExt;
    let body = Body::from_stream(
        futures_util::stream::iter([Ok::<_, std::io::Error>(first)])
            .chain(futures_util::stream::pending()),
    );
    expect_error(
        &f,
        post("/v1/anonymize", body, None),
        StatusCode::REQUEST_TIMEOUT,
    )
    .await;
    let (st, _, _) = send(&f, post("/v1/anonymize", png, None)).await;
    assert_eq!(st, StatusCode::OK);
}

#[tokio::test]
async fn a_failing_detector_is_a_500_without_image_bytes() {
    let f = fixture_with(Limits::default(), None, 1, Duration::ZERO, true);
    let m = expect_error(
        &f,
        post("/v1/anonymize", picture(ImageFormat::Png), None),
        StatusCode::INTERNAL_SERVER_ERROR,
    )
    .await;
    assert!(m.contains("scripted failure"), "{m}");
}

#[tokio::test]
async fn beyond_the_queue_requests_get_503_at_once() {
    let f = fixture_with(
        Limits {
            queue: 0,
            ..Limits::default()
        },
        None,
        1,
        Duration::from_millis(600),
        false,
    );
    let png = picture(ImageFormat::Png);
    let app1 = app(f.state.clone());
    let req = post("/v1/anonymize", png.clone(), None);
    let slow = tokio::spawn(async move { app1.oneshot(req).await.unwrap().status() });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let t = std::time::Instant::now();
    let (st, h, _) = send(&f, post("/v1/anonymize", png.clone(), None)).await;
    assert_eq!(st, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(h[header::RETRY_AFTER], "1");
    assert!(t.elapsed() < Duration::from_millis(300), "503 is immediate");
    assert_eq!(slow.await.unwrap(), StatusCode::OK);
    let (_, _, m) = send(&f, get("/metrics")).await;
    let m = String::from_utf8(m).unwrap();
    assert!(
        m.contains("blindfold_http_requests_total{status=\"503\"} 1"),
        "{m}"
    );
    assert!(m.contains("blindfold_faces_total 1"), "{m}");
    assert!(m.contains("blindfold_queue_depth 0"), "{m}");
}

#[tokio::test]
async fn health_ready_and_not_ready() {
    let dir = tempfile::tempdir().unwrap();
    let loading = Fixture {
        state: AppState::new(
            settings(ClientBounds::default()),
            Limits::default(),
            None,
            Jobs::open(dir.path()).unwrap(),
        ),
        _dir: dir,
    };
    let (st, _, _) = send(&loading, get("/healthz")).await;
    assert_eq!(st, StatusCode::OK);
    expect_error(&loading, get("/readyz"), StatusCode::SERVICE_UNAVAILABLE).await;
    expect_error(
        &loading,
        post("/v1/anonymize", picture(ImageFormat::Png), None),
        StatusCode::SERVICE_UNAVAILABLE,
    )
    .await;
    let (_, _, m) = send(&loading, get("/metrics")).await;
    assert!(String::from_utf8(m).unwrap().contains("blindfold_ready 0"));
    let f = fixture();
    let (st, _, body) = send(&f, get("/readyz")).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(json(&body)["backend"], "scripted");
    assert_eq!(json(&body)["precision"], "fp32");
    let (_, _, m) = send(&f, get("/metrics")).await;
    let m = String::from_utf8(m).unwrap();
    assert!(
        m.contains("blindfold_engine_info{backend=\"scripted\",precision=\"fp32\"} 1"),
        "{m}"
    );
}

#[tokio::test]
async fn the_token_is_needed_everywhere_but_healthz_and_the_page() {
    let f = fixture_with(
        Limits::default(),
        Some("s3cret-token"),
        1,
        Duration::ZERO,
        false,
    );
    let png = picture(ImageFormat::Png);
    for req in [
        post("/v1/anonymize", png.clone(), None),
        get("/metrics"),
        get("/readyz"),
        get("/v1/jobs/abc"),
    ] {
        let (st, h, _) = send(&f, req).await;
        assert_eq!(st, StatusCode::UNAUTHORIZED);
        assert_eq!(h[header::WWW_AUTHENTICATE], "Bearer");
    }
    for token in ["wrong", "s3cret-token2", ""] {
        let req = Request::post("/v1/anonymize")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::from(png.clone()))
            .unwrap();
        expect_error(&f, req, StatusCode::UNAUTHORIZED).await;
    }
    let req = Request::post("/v1/anonymize")
        .header(header::AUTHORIZATION, "Bearer s3cret-token")
        .body(Body::from(png))
        .unwrap();
    assert_eq!(send(&f, req).await.0, StatusCode::OK);
    assert_eq!(send(&f, get("/healthz")).await.0, StatusCode::OK);
    assert_eq!(send(&f, get("/")).await.0, StatusCode::OK);
}

#[tokio::test]
async fn page_headers_and_unknown_routes() {
    let f = fixture();
    let (st, h, body) = send(&f, get("/")).await;
    assert_eq!(st, StatusCode::OK);
    assert!(
        h[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert_eq!(h["cross-origin-opener-policy"], "same-origin");
    assert_eq!(h["cross-origin-embedder-policy"], "require-corp");
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("script-src 'self' 'wasm-unsafe-eval'"),
        "{csp}"
    );
    assert!(csp.starts_with("default-src 'self'"), "{csp}");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert!(!body.is_empty());
    assert_eq!(web::mime("pkg/blindfold_bg.wasm"), "application/wasm");
    assert!(web::mime("index.js").starts_with("text/javascript"));
    expect_error(&f, get("/no/such/thing"), StatusCode::NOT_FOUND).await;
    expect_error(&f, get("/../../etc/passwd"), StatusCode::NOT_FOUND).await;
    expect_error(&f, get("/v1/anonymize"), StatusCode::METHOD_NOT_ALLOWED).await;
    expect_error(
        &f,
        post("/healthz", "x", None),
        StatusCode::METHOD_NOT_ALLOWED,
    )
    .await;
    let (_, h, _) = send(&f, get("/healthz")).await;
    assert!(h.contains_key("x-request-id"));
}

#[tokio::test]
async fn unknown_jobs_and_bad_uploads() {
    let f = fixture();
    expect_error(&f, get("/v1/jobs/0123"), StatusCode::NOT_FOUND).await;
    expect_error(&f, get("/v1/jobs/0123/result"), StatusCode::NOT_FOUND).await;
    let del = Request::delete("/v1/jobs/0123")
        .body(Body::empty())
        .unwrap();
    expect_error(&f, del, StatusCode::NOT_FOUND).await;
    expect_error(
        &f,
        post("/v1/jobs?container=avi", "x", None),
        StatusCode::BAD_REQUEST,
    )
    .await;
    expect_error(
        &f,
        post("/v1/jobs", "x", Some("text/plain")),
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
    )
    .await;
    if blindfold_video::check_ffmpeg().is_err() {
        expect_error(&f, post("/v1/jobs", "x", None), StatusCode::NOT_IMPLEMENTED).await;
        return;
    }
    expect_error(
        &f,
        post("/v1/jobs", Vec::new(), None),
        StatusCode::BAD_REQUEST,
    )
    .await;
    // Nothing is left of refused uploads.
    assert_eq!(std::fs::read_dir(f.state.jobs().dir()).unwrap().count(), 0);
}

/// A 2-second 64x48 test video made with ffmpeg.
fn tiny_video(dir: &std::path::Path) -> Vec<u8> {
    let path = dir.join("clip.mp4");
    let ok = std::process::Command::new("ffmpeg")
        .args([
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=64x48:rate=10:duration=2",
        ])
        .args(["-pix_fmt", "yuv420p", "-y"])
        .arg(&path)
        .status()
        .unwrap()
        .success();
    assert!(ok);
    std::fs::read(path).unwrap()
}

#[tokio::test]
async fn a_video_job_runs_reports_progress_and_is_downloaded_once() {
    if blindfold_video::check_ffmpeg().is_err() {
        eprintln!("ffmpeg not found: skipped");
        return;
    }
    let f = fixture();
    let tmp = tempfile::tempdir().unwrap();
    let video = tiny_video(tmp.path());
    let (st, h, body) = send(
        &f,
        post("/v1/jobs?mode=solid", video.clone(), Some("video/mp4")),
    )
    .await;
    assert_eq!(
        st,
        StatusCode::ACCEPTED,
        "{}",
        String::from_utf8_lossy(&body)
    );
    let id = json(&body)["id"].as_str().unwrap().to_string();
    assert_eq!(id.len(), 32);
    assert_eq!(h[header::LOCATION], format!("/v1/jobs/{id}"));
    let last = wait_for_job(&f, &id).await;
    assert_eq!(last["state"], "done", "{last}");
    assert_eq!(last["frames_done"], 20, "{last}");
    assert_eq!(last["frames_total"], 20, "{last}");
    let (st, h, out) = send(&f, get(&format!("/v1/jobs/{id}/result"))).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(h[header::CONTENT_TYPE], "video/mp4");
    assert!(out.len() > 100 && out != video);
    // Gone after the download, files too.
    expect_error(
        &f,
        get(&format!("/v1/jobs/{id}/result")),
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(std::fs::read_dir(f.state.jobs().dir()).unwrap().count(), 0);

    // A second job: 409 before it is done, deleted on request.
    let (_, _, body) = send(&f, post("/v1/jobs", video.clone(), None)).await;
    let id = json(&body)["id"].as_str().unwrap().to_string();
    let (st, _, _) = send(&f, get(&format!("/v1/jobs/{id}/result"))).await;
    assert!(st == StatusCode::CONFLICT || st == StatusCode::OK, "{st}");
    let del = Request::delete(format!("/v1/jobs/{id}"))
        .body(Body::empty())
        .unwrap();
    let (st, _, _) = send(&f, del).await;
    assert!(st == StatusCode::NO_CONTENT || st == StatusCode::NOT_FOUND);
    expect_error(&f, get(&format!("/v1/jobs/{id}")), StatusCode::NOT_FOUND).await;
    // A corrupt video fails without output.
    let (_, _, body) = send(
        &f,
        post("/v1/jobs", video[..video.len() / 3].to_vec(), None),
    )
    .await;
    let id = json(&body)["id"].as_str().unwrap().to_string();
    let last = wait_for_job(&f, &id).await;
    assert_eq!(last["state"], "failed", "{last}");
    // Its reason names no server path, process id or memory address.
    let why = last["error"].as_str().unwrap();
    let dir = f.state.jobs().dir().to_string_lossy().to_string();
    let pid = format!("run-{}", std::process::id());
    assert!(!why.contains(&dir) && !why.contains(&pid), "{why}");
    assert!(!why.contains(" @ 0x") && !why.contains("/tmp/"), "{why}");
    expect_error(
        &f,
        get(&format!("/v1/jobs/{id}/result")),
        StatusCode::CONFLICT,
    )
    .await;
    // Expired results are removed.
    f.state.jobs().reap(Duration::ZERO);
    expect_error(&f, get(&format!("/v1/jobs/{id}")), StatusCode::NOT_FOUND).await;
    // Wait for the deleted job's worker, then nothing is left on disk.
    f.state.jobs().shutdown(Duration::from_secs(30)).await;
    assert!(!f.state.jobs().dir().exists());
}
