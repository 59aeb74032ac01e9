//! The service's guards (issue 22): the operator's floor of protection,
//! the Host check, the upload idle timeout, DELETE stopping a running job,
//! the request deadline and admission by work.

use super::*;
use std::sync::atomic::{AtomicUsize, Ordering};

fn with_host(mut req: Request<Body>, host: &str) -> Request<Body> {
    req.headers_mut()
        .insert(header::HOST, host.parse().unwrap());
    req
}

#[tokio::test]
async fn weaker_settings_get_403_unless_the_operator_allows_them() {
    let f = fixture();
    let png = picture(ImageFormat::Png);
    for q in [
        "threshold=0.99999",
        "mode=blur",
        "mode=pixelate",
        "grow=0",
        "grow=0.29",
        "fast=true",
        "fast=1&threshold=0.05",
    ] {
        for route in ["/v1/anonymize", "/v1/detect", "/v1/jobs"] {
            let m = expect_error(
                &f,
                post(&format!("{route}?{q}"), png.clone(), None),
                StatusCode::FORBIDDEN,
            )
            .await;
            assert!(m.contains("operator"), "{route}?{q}: {m}");
        }
    }
    // Stronger settings stay open to every client, and are echoed.
    let (st, h, body) = send(
        &f,
        post(
            "/v1/anonymize?threshold=0.05&grow=1&mode=solid&shape=rect&first_frame=true&reencode=true",
            png.clone(),
            None,
        ),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let echo = &json(h["x-blindfold-report"].as_bytes())["settings"];
    assert_eq!(echo["mode"], "solid", "{echo}");
    assert_eq!(echo["shape"], "rect", "{echo}");
    assert_eq!(echo["grow"], 1.0, "{echo}");
    assert_eq!(echo["threshold"].as_f64().unwrap() as f32, 0.05, "{echo}");
    assert_eq!(echo["fast"], false, "{echo}");
    assert_eq!(echo["max_pixels"], 100_000_000, "{echo}");
    assert_eq!(echo["first_frame"], true, "{echo}");
    assert_eq!(echo["reencode"], true, "{echo}");
    let (_, h, _) = send(&f, post("/v1/anonymize", png.clone(), None)).await;
    let echo = &json(h["x-blindfold-report"].as_bytes())["settings"];
    assert_eq!(echo["mode"], "noise", "{echo}");
    assert_eq!(echo["first_frame"], false, "{echo}");
    assert_eq!(echo["reencode"], false, "{echo}");
    assert_eq!(
        echo["threshold"].as_f64().unwrap() as f32,
        DetectConfig::default().threshold
    );
    let (_, _, body) = send(&f, post("/v1/detect?threshold=0.1", png.clone(), None)).await;
    let grow = json(&body)["settings"]["grow"].as_f64().unwrap() as f32;
    assert_eq!(grow, 0.3);

    // The operator allows everything, or a bound.
    let dets = vec![detector(Duration::ZERO, false)];
    let open = fixture_of(
        settings(ClientBounds::any()),
        Limits::default(),
        None,
        dets,
        Duration::ZERO,
    );
    let (st, h, _) = send(
        &open,
        post(
            "/v1/anonymize?threshold=0.99999&mode=blur",
            png.clone(),
            None,
        ),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    let echo = &json(h["x-blindfold-report"].as_bytes())["settings"];
    assert_eq!(echo["mode"], "blur", "{echo}");
    assert_eq!(
        echo["threshold"].as_f64().unwrap() as f32,
        0.99999,
        "{echo}"
    );
    let bounded = ClientBounds {
        max_threshold: Some(0.5),
        ..ClientBounds::default()
    };
    let dets = vec![detector(Duration::ZERO, false)];
    let some = fixture_of(
        settings(bounded),
        Limits::default(),
        None,
        dets,
        Duration::ZERO,
    );
    let q = "/v1/anonymize?threshold=0.5";
    assert_eq!(
        send(&some, post(q, png.clone(), None)).await.0,
        StatusCode::OK
    );
    let q = "/v1/anonymize?threshold=0.51";
    expect_error(&some, post(q, png.clone(), None), StatusCode::FORBIDDEN).await;
    expect_error(
        &some,
        post("/v1/anonymize?mode=blur", png, None),
        StatusCode::FORBIDDEN,
    )
    .await;
}

#[tokio::test]
async fn a_foreign_host_gets_421() {
    let dets = vec![detector(Duration::ZERO, false)];
    let limits = Limits {
        hosts: Hosts::new("127.0.0.1".parse().unwrap(), &["news.example".into()]),
        ..Limits::default()
    };
    let f = fixture_of(
        settings(ClientBounds::default()),
        limits,
        None,
        dets,
        Duration::ZERO,
    );
    let png = picture(ImageFormat::Png);
    for host in [
        "evil.example",
        "evil.example:8080",
        "127.0.0.1.evil.example",
    ] {
        let m = expect_error(
            &f,
            with_host(post("/v1/anonymize", png.clone(), None), host),
            StatusCode::MISDIRECTED_REQUEST,
        )
        .await;
        assert!(m.contains("--allowed-host"), "{m}");
        expect_error(
            &f,
            with_host(get("/"), host),
            StatusCode::MISDIRECTED_REQUEST,
        )
        .await;
    }
    let abs = Request::get("http://evil.example/readyz")
        .body(Body::empty())
        .unwrap();
    expect_error(&f, abs, StatusCode::MISDIRECTED_REQUEST).await;
    for host in [
        "localhost:8080",
        "127.0.0.1:8080",
        "[::1]:8080",
        "news.example",
    ] {
        let req = with_host(post("/v1/anonymize", png.clone(), None), host);
        assert_eq!(send(&f, req).await.0, StatusCode::OK, "{host}");
    }
    // Load balancers probe /healthz by address.
    let req = with_host(get("/healthz"), "10.1.2.3:8080");
    assert_eq!(send(&f, req).await.0, StatusCode::OK);
}

/// A body that sends `first` and then nothing, forever.
fn stalled(first: Vec<u8>) -> Body {
    use futures_util::StreamExt;
    Body::from_stream(
        futures_util::stream::iter([Ok::<_, std::io::Error>(first)])
            .chain(futures_util::stream::pending()),
    )
}

#[tokio::test]
async fn an_idle_upload_ends_with_408_and_frees_its_slot() {
    if blindfold_video::check_ffmpeg().is_err() {
        eprintln!("ffmpeg not found: skipped");
        return;
    }
    let limits = Limits {
        upload_idle: Duration::from_millis(300),
        max_jobs: 1,
        ..Limits::default()
    };
    let f = fixture_with(limits, None, 1, Duration::ZERO, false);
    let t = std::time::Instant::now();
    let req = post("/v1/jobs", stalled(vec![0u8; 10]), Some("video/mp4"));
    let res = tokio::time::timeout(Duration::from_secs(10), send(&f, req))
        .await
        .expect("the stalled upload is still held after 10 s");
    assert_eq!(res.0, StatusCode::REQUEST_TIMEOUT);
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    assert!(String::from_utf8_lossy(&res.2).contains("--upload-idle-timeout"));
    assert_eq!(std::fs::read_dir(f.state.jobs().dir()).unwrap().count(), 0);
    // The only job slot is free again.
    let tmp = tempfile::tempdir().unwrap();
    let (st, _, body) = send(&f, post("/v1/jobs", tiny_video(tmp.path()), None)).await;
    assert_eq!(
        st,
        StatusCode::ACCEPTED,
        "{}",
        String::from_utf8_lossy(&body)
    );
    f.state.jobs().shutdown(Duration::from_secs(30)).await;
}

/// The ids of running processes whose command line holds `needle`.
fn processes_naming(needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        if let Ok(cmd) = std::fs::read(e.path().join("cmdline"))
            && String::from_utf8_lossy(&cmd).contains(needle)
        {
            found.push(e.file_name().to_string_lossy().into_owned());
        }
    }
    found
}

/// A 64x48 test video of `secs` seconds at 10 frames a second.
fn long_video(dir: &std::path::Path, secs: u32) -> Vec<u8> {
    let path = dir.join("long.mp4");
    let src = format!("testsrc=size=64x48:rate=10:duration={secs}");
    let ok = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-f", "lavfi", "-i", &src])
        .args(["-pix_fmt", "yuv420p", "-y"])
        .arg(&path)
        .status()
        .unwrap()
        .success();
    assert!(ok);
    std::fs::read(path).unwrap()
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn delete_stops_a_running_video_and_leaves_nothing() {
    if blindfold_video::check_ffmpeg().is_err() {
        eprintln!("ffmpeg not found: skipped");
        return;
    }
    // 600 frames at 50 ms each: half a minute of work.
    let dets = vec![detector(Duration::ZERO, false)];
    let s = settings(ClientBounds::default());
    let f = fixture_of(s, Limits::default(), None, dets, Duration::from_millis(50));
    let tmp = tempfile::tempdir().unwrap();
    let (st, _, body) = send(&f, post("/v1/jobs", long_video(tmp.path(), 60), None)).await;
    assert_eq!(
        st,
        StatusCode::ACCEPTED,
        "{}",
        String::from_utf8_lossy(&body)
    );
    let id = json(&body)["id"].as_str().unwrap().to_string();
    let t = std::time::Instant::now();
    loop {
        let (_, _, b) = send(&f, get(&format!("/v1/jobs/{id}"))).await;
        let v = json(&b);
        if v["state"] == "running" && v["frames_done"].as_u64().unwrap_or(0) > 0 {
            break;
        }
        assert!(t.elapsed() < Duration::from_secs(30), "never ran: {v}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(!processes_naming(&id).is_empty(), "ffmpeg runs on the job");
    let del = Request::delete(format!("/v1/jobs/{id}"))
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(&f, del).await.0, StatusCode::NO_CONTENT);
    let job_dir = f.state.jobs().dir().join(&id);
    let t = std::time::Instant::now();
    while job_dir.exists() || !processes_naming(&id).is_empty() {
        assert!(
            t.elapsed() < Duration::from_secs(3),
            "3 s after DELETE: folder {} exists: {}, ffmpeg children {:?}",
            job_dir.display(),
            job_dir.exists(),
            processes_naming(&id)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The worker is free for the next job.
    assert!(f.state.jobs().wait_idle(Duration::from_secs(3)).await);
}

/// A detector that counts its calls and takes `delay` for each.
fn counting(delay: Duration, calls: Arc<AtomicUsize>) -> Box<dyn FaceDetector> {
    Box::new(ScriptedDetector::new(move |_, _| {
        calls.fetch_add(1, Ordering::SeqCst);
        std::thread::sleep(delay);
        Ok(vec![BBox::new(20.0, 10.0, 44.0, 34.0)])
    }))
}

/// A half-transparent PNG: four views to search (RGB, over black, over
/// white, the alpha), so four detector calls without a deadline.
fn translucent_png() -> Vec<u8> {
    let img = image::RgbaImage::from_fn(64, 48, |x, y| {
        image::Rgba([(x * 4) as u8, (y * 5) as u8, 200, 128])
    });
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, ImageFormat::Png).unwrap();
    out.into_inner()
}

#[tokio::test]
async fn past_the_deadline_the_client_gets_504_and_the_work_stops() {
    let calls = Arc::new(AtomicUsize::new(0));
    let dets = vec![counting(Duration::from_millis(1500), calls.clone())];
    let limits = Limits {
        request_timeout: Duration::from_millis(300),
        ..Limits::default()
    };
    let s = settings(ClientBounds::default());
    let f = fixture_of(s, limits, None, dets, Duration::ZERO);
    let t = std::time::Instant::now();
    let first = {
        let app = app(f.state.clone());
        let req = post("/v1/anonymize", translucent_png(), None);
        tokio::spawn(async move { app.oneshot(req).await.unwrap() })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    // The second waits for the only detector, past its deadline.
    let m = expect_error(
        &f,
        post("/v1/anonymize", translucent_png(), None),
        StatusCode::GATEWAY_TIMEOUT,
    )
    .await;
    assert!(
        m.contains("--request-timeout") && m.contains("nothing"),
        "{m}"
    );
    let first = first.await.unwrap();
    assert_eq!(first.status(), StatusCode::GATEWAY_TIMEOUT);
    assert!(
        t.elapsed() < Duration::from_millis(1200),
        "{:?}",
        t.elapsed()
    );
    // The first photo's detection under way ends; its other three views
    // and the whole second photo never run.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    let (_, _, m) = send(&f, get("/metrics")).await;
    let m = String::from_utf8(m).unwrap();
    for line in [
        "blindfold_photos_total 0\n",
        "blindfold_queue_depth 0\n",
        "blindfold_photos_in_detection 0\n",
        "blindfold_work_megapixels 0\n",
        "blindfold_http_requests_total{status=\"504\"} 2\n",
    ] {
        assert!(m.contains(line), "{line} missing in\n{m}");
    }
}

/// A flat PNG of `w` x `h`.
fn flat_png(w: u32, h: u32) -> Vec<u8> {
    let img = RgbImage::from_pixel(w, h, image::Rgb([90, 120, 150]));
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, ImageFormat::Png).unwrap();
    out.into_inner()
}

/// A service with `n` detectors taking `delay` each, a pixel limit of 5
/// megapixels and a work budget of `budget` megapixels.
fn budgeted(n: usize, delay: Duration, budget: u64) -> Fixture {
    let mut s = settings(ClientBounds::default());
    s.options.decode.max_pixels = 5_000_000;
    let limits = Limits {
        work_budget: Some(budget),
        ..Limits::default()
    };
    let dets = (0..n).map(|_| detector(delay, false)).collect();
    fixture_of(s, limits, None, dets, Duration::ZERO)
}

/// Send `req` on its own task.
fn spawn(f: &Fixture, req: Request<Body>) -> tokio::task::JoinHandle<StatusCode> {
    let app = app(f.state.clone());
    tokio::spawn(async move { app.oneshot(req).await.unwrap().status() })
}

#[tokio::test]
async fn huge_photos_cannot_take_every_detector_from_small_ones() {
    let f = budgeted(2, Duration::from_millis(1000), 5);
    let huge = flat_png(2000, 2000);
    let a = spawn(&f, post("/v1/anonymize", huge.clone(), None));
    tokio::time::sleep(Duration::from_millis(300)).await;
    // A second 4-megapixel photo does not fit the 5 left... 1 left: 503 at once.
    let t = std::time::Instant::now();
    let (st, h, _) = send(&f, post("/v1/anonymize", huge.clone(), None)).await;
    assert_eq!(st, StatusCode::SERVICE_UNAVAILABLE);
    assert!(h.contains_key(header::RETRY_AFTER));
    assert!(
        t.elapsed() < Duration::from_millis(500),
        "{:?}",
        t.elapsed()
    );
    // A small one fits and gets the other detector.
    let (st, _, _) = send(&f, post("/v1/anonymize", picture(ImageFormat::Png), None)).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(a.await.unwrap(), StatusCode::OK);
    // Over the pixel limit: 413 from the header, before any work.
    let m = expect_error(
        &f,
        post("/v1/anonymize", flat_png(2500, 2001), None),
        StatusCode::PAYLOAD_TOO_LARGE,
    )
    .await;
    assert!(m.contains("pixels"), "{m}");

    // A photo over the whole budget is admitted alone.
    let f = budgeted(2, Duration::from_millis(1000), 3);
    let a = spawn(&f, post("/v1/anonymize", huge, None));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let small = picture(ImageFormat::Png);
    let (st, _, _) = send(&f, post("/v1/anonymize", small.clone(), None)).await;
    assert_eq!(st, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(a.await.unwrap(), StatusCode::OK);
    let (st, _, _) = send(&f, post("/v1/anonymize", small, None)).await;
    assert_eq!(st, StatusCode::OK);
}
