//! `blindfold serve`'s guards (issue 22), with the real model: settings
//! weaker than the operator's get 403, a foreign Host gets 421, an idle
//! upload gets 408 and frees its slot, a failed job's error names no server
//! path, and DELETE and SIGTERM end a running video's work (no ffmpeg
//! child, no file left, the process gone within seconds).

use crate::serve::{Server, auth, error_of, read_response, request, start_with};
use crate::support::*;
use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// The running processes whose command line holds `needle`.
fn processes_naming(needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        if let Ok(cmd) = std::fs::read(e.path().join("cmdline"))
            && String::from_utf8_lossy(&cmd).contains(needle)
        {
            found.push(String::from_utf8_lossy(&cmd).replace('\0', " "));
        }
    }
    found
}

/// Files and folders under `dir`.
fn left_in(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        out.push(e.path());
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            out.extend(left_in(&e.path()));
        }
    }
    out
}

/// The astronaut looped for `secs` seconds at 10 frames a second (512x512,
/// H.264): a long job for the real model.
fn face_video(dir: &std::path::Path, secs: u32) -> Vec<u8> {
    let png = dir.join("face.png");
    astronaut().save(&png).unwrap();
    let out = dir.join("face.mp4");
    let ok = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-loop", "1", "-framerate", "10", "-t"])
        .arg(secs.to_string())
        .arg("-i")
        .arg(&png)
        .args([
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            "-tune",
            "stillimage",
            "-y",
        ])
        .arg(&out)
        .status()
        .unwrap()
        .success();
    assert!(ok, "ffmpeg could not make the test video");
    std::fs::read(out).unwrap()
}

fn ffmpeg() -> bool {
    blindfold_video::check_ffmpeg().is_ok()
}

/// Upload `video` as a job; its id.
fn upload(s: &Server, video: &[u8]) -> String {
    let ct = ("Content-Type", "video/mp4".to_string());
    let (st, _, body) = request(s, "POST", "/v1/jobs", &[auth(), ct], video);
    assert_eq!(st, 202, "{}", String::from_utf8_lossy(&body));
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    v["id"].as_str().unwrap().to_string()
}

/// The job's status.
fn status(s: &Server, id: &str) -> serde_json::Value {
    let (_, _, body) = request(s, "GET", &format!("/v1/jobs/{id}"), &[auth()], b"");
    serde_json::from_slice(&body).unwrap()
}

/// Wait until the job has processed frames (ffmpeg runs on it).
fn wait_running(s: &Server, id: &str) {
    let t = Instant::now();
    loop {
        let v = status(s, id);
        if v["state"] == "running" && v["frames_done"].as_u64().unwrap_or(0) > 0 {
            return;
        }
        assert!(t.elapsed() < Duration::from_secs(120), "never ran: {v}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn serve_refuses_weaker_settings_and_foreign_hosts() {
    let s = start_with(&["--allowed-host", "blindfold.example.org"]);
    let photo = jpeg(&canvas(320, 240));
    for q in ["threshold=0.99999", "mode=blur", "grow=0", "fast=true"] {
        for route in ["/v1/anonymize", "/v1/jobs"] {
            let (st, _, b) = request(&s, "POST", &format!("{route}?{q}"), &[auth()], &photo);
            assert_eq!(st, 403, "{route}?{q}: {}", String::from_utf8_lossy(&b));
            assert!(error_of(&b).contains("--allow-client-settings"));
        }
    }
    // Stronger settings are the client's to choose, and are echoed.
    let (st, h, b) = request(
        &s,
        "POST",
        "/v1/anonymize?threshold=0.05&mode=solid",
        &[auth()],
        &photo,
    );
    assert_eq!(st, 200, "{}", String::from_utf8_lossy(&b));
    let rep = h.iter().find(|(k, _)| k == "x-blindfold-report").unwrap();
    let rep: serde_json::Value = serde_json::from_str(&rep.1).unwrap();
    assert_eq!(rep["settings"]["mode"], "solid", "{rep}");
    assert_eq!(rep["settings"]["max_pixels"], 64_000_000, "{rep}");

    // A name the operator did not list: 421, before the token is looked at.
    let host = |name: &str| {
        let mut c = TcpStream::connect(&s.addr).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        write!(
            c,
            "GET /readyz HTTP/1.1\r\nHost: {name}\r\nAuthorization: Bearer {}\r\nConnection: close\r\n\r\n",
            crate::serve::TOKEN
        )
        .unwrap();
        read_response(&mut c).0
    };
    assert_eq!(host("rebind.attacker.example"), 421);
    assert_eq!(host("rebind.attacker.example:8080"), 421);
    assert_eq!(host("localhost"), 200);
    assert_eq!(host(&s.addr), 200);
    assert_eq!(host("blindfold.example.org"), 200);
    assert_eq!(host("BLINDFOLD.example.org:443"), 200);
}

#[test]
fn serve_ends_an_idle_upload_and_names_no_server_path() {
    if !ffmpeg() {
        eprintln!("ffmpeg not found: skipped");
        return;
    }
    let s = start_with(&["--upload-idle-timeout", "1"]);
    // 10 bytes of a promised megabyte, then nothing.
    let t = Instant::now();
    let mut c = TcpStream::connect(&s.addr).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        c,
        "POST /v1/jobs HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {}\r\nContent-Length: 1000000\r\n\r\n0123456789",
        crate::serve::TOKEN
    )
    .unwrap();
    let (st, _, b) = read_response(&mut c);
    assert_eq!(st, 408, "{}", String::from_utf8_lossy(&b));
    assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
    let mine = format!("run-{}", s.child.id());
    let t = Instant::now();
    while !left_in(&s.work.join(&mine)).is_empty() {
        assert!(t.elapsed() < Duration::from_secs(5), "upload left on disk");
        std::thread::sleep(Duration::from_millis(50));
    }
    // A video that cannot be read fails; its reason names no server path,
    // process id or memory address.
    let tmp = tempdir();
    let video = face_video(tmp.path(), 1);
    let id = upload(&s, &video[..video.len() / 3]);
    let t = Instant::now();
    let v = loop {
        let v = status(&s, &id);
        if v["state"] == "failed" {
            break v;
        }
        assert!(t.elapsed() < Duration::from_secs(60), "never failed: {v}");
        std::thread::sleep(Duration::from_millis(100));
    };
    let why = v["error"].as_str().unwrap();
    let work = s.work.to_string_lossy().to_string();
    assert!(!why.contains(&work) && !why.contains(&mine), "{why}");
    assert!(!why.contains(" @ 0x") && !why.contains("/tmp"), "{why}");
}

#[cfg(target_os = "linux")]
#[test]
fn serve_stops_a_running_video_on_delete_and_on_sigterm() {
    if !ffmpeg() {
        eprintln!("ffmpeg not found: skipped");
        return;
    }
    let tmp = tempdir();
    let video = face_video(tmp.path(), 300);
    let mut s = start_with(&[]);
    let work = s.work.to_string_lossy().to_string();

    // DELETE: the job's ffmpeg children and files are gone within seconds.
    let id = upload(&s, &video);
    wait_running(&s, &id);
    assert!(!processes_naming(&id).is_empty(), "ffmpeg runs on the job");
    let (st, _, _) = request(&s, "DELETE", &format!("/v1/jobs/{id}"), &[auth()], b"");
    assert_eq!(st, 204);
    let t = Instant::now();
    let took = || eprintln!("job gone {:?} after DELETE", t.elapsed());
    let job_files = |s: &Server| -> Vec<_> {
        let all = left_in(&s.work);
        all.into_iter()
            .filter(|p| p.to_string_lossy().contains(&id))
            .collect()
    };
    while !processes_naming(&id).is_empty() || !job_files(&s).is_empty() {
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "5 s after DELETE: children {:?}, files {:?}",
            processes_naming(&id),
            job_files(&s)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    took();
    assert_eq!(request(&s, "GET", "/healthz", &[], b"").0, 200);

    // SIGTERM during a job: the process exits within seconds, with 0, and
    // leaves no child and no file.
    let id = upload(&s, &video);
    wait_running(&s, &id);
    let pid = s.child.id().to_string();
    let t = Instant::now();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = loop {
        if let Some(st) = s.child.try_wait().unwrap() {
            break st;
        }
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "still running 10 s after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    eprintln!("exited {:?} after SIGTERM", t.elapsed());
    assert!(status.success(), "{status:?}");
    assert_eq!(processes_naming(&work), Vec::<String>::new());
    assert_eq!(left_in(&s.work), Vec::<std::path::PathBuf>::new());
}
