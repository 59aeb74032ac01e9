//! `blindfold serve` on loopback with the real model: a real face through
//! HTTP, bad input of every kind (each gets its status and the server stays
//! up), the token, the metrics, and a clean stop on SIGTERM.

use crate::support::*;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

pub const TOKEN: &str = "it-test-token-0123456789";

pub struct Server {
    pub child: Child,
    pub addr: String,
    _dir: tempfile::TempDir,
    pub work: std::path::PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start() -> Server {
    start_with(&[])
}

/// `blindfold serve` on a free loopback port with the test token, one
/// detector, a queue of 2, short timeouts, and `extra` flags; ready.
pub fn start_with(extra: &[&str]) -> Server {
    let dir = tempdir();
    let token = put(dir.path(), "token", format!("{TOKEN}\n").as_bytes());
    let work = dir.path().join("work");
    let mut cmd = blindfold();
    cmd.args([
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--offline",
        "-j",
        "1",
        "--queue",
        "2",
    ])
    .args([
        "--max-body",
        "5",
        "--body-timeout",
        "2",
        "--header-timeout",
        "2",
    ])
    .arg("--model")
    .arg(model_path())
    .arg("--token-file")
    .arg(&token)
    .arg("--work-dir")
    .arg(&work)
    .args(extra)
    .stdout(Stdio::null())
    .stderr(Stdio::piped());
    if let Some(lib) = ort_lib() {
        cmd.arg("--ort-lib").arg(lib);
    }
    let mut child = cmd.spawn().expect("cannot start blindfold serve");
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let addr = loop {
        let line = lines.next().expect("serve exited early").unwrap();
        if let Some(rest) = line.strip_prefix("blindfold: listening on http://") {
            break rest.split_whitespace().next().unwrap().to_string();
        }
    };
    // Keep draining stderr so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    let server = Server {
        child,
        addr,
        _dir: dir,
        work,
    };
    let t = Instant::now();
    while request(&server, "GET", "/readyz", &[auth()], b"").0 != 200 {
        assert!(t.elapsed() < Duration::from_secs(120), "never ready");
        std::thread::sleep(Duration::from_millis(200));
    }
    server
}

pub fn auth() -> (&'static str, String) {
    ("Authorization", format!("Bearer {TOKEN}"))
}

/// One HTTP/1.1 request on a new connection: status, headers (lower-case
/// names), body.
pub fn request(
    s: &Server,
    method: &str,
    path: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let mut c = TcpStream::connect(&s.addr).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: {}\r\n",
        s.addr,
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    c.write_all(head.as_bytes()).unwrap();
    let _ = c.write_all(body);
    read_response(&mut c)
}

pub fn read_response(c: &mut TcpStream) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let mut raw = Vec::new();
    let _ = c.read_to_end(&mut raw);
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no response: {:?}", String::from_utf8_lossy(&raw)));
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    (status, headers, raw[split + 4..].to_vec())
}

fn header<'a>(h: &'a [(String, String)], name: &str) -> Option<&'a str> {
    h.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

pub fn error_of(body: &[u8]) -> String {
    let v: serde_json::Value = serde_json::from_slice(body)
        .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(body)));
    v["error"].as_str().expect("an error message").to_string()
}

/// A PNG that says `w` x `h` and holds no pixel data.
fn bomb_png(w: u32, h: u32) -> Vec<u8> {
    let mut img = image::RgbImage::new(1, 1);
    img.put_pixel(0, 0, image::Rgb([1, 2, 3]));
    let mut png = Vec::new();
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    // Patch the IHDR size; the decoder must refuse by the header alone.
    png[16..20].copy_from_slice(&w.to_be_bytes());
    png[20..24].copy_from_slice(&h.to_be_bytes());
    let crc = crc32(&png[12..29]);
    png[29..33].copy_from_slice(&crc.to_be_bytes());
    png
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

#[test]
fn serve_masks_a_real_face_refuses_bad_input_and_stops_cleanly() {
    let mut s = start();
    let mut img = canvas(800, 600);
    let face = paste_face(&mut img, 200.0, 300.0, 200.0);
    let photo = jpeg(&img);
    let ct = ("Content-Type", "image/jpeg".to_string());

    // No token, wrong token: 401; /healthz needs none.
    assert_eq!(
        request(
            &s,
            "POST",
            "/v1/anonymize",
            std::slice::from_ref(&ct),
            &photo
        )
        .0,
        401
    );
    let wrong = ("Authorization", "Bearer nope".to_string());
    assert_eq!(
        request(&s, "POST", "/v1/anonymize", &[wrong], &photo).0,
        401
    );
    assert_eq!(request(&s, "GET", "/healthz", &[], b"").0, 200);

    // The face is covered; the image comes back as a JPEG of the same size.
    let (st, h, body) = request(
        &s,
        "POST",
        "/v1/anonymize?report=json",
        &[auth(), ct.clone()],
        &photo,
    );
    assert_eq!(st, 200, "{}", String::from_utf8_lossy(&body));
    let rep: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(rep["status"], "ok");
    let c = coverage(face, &rep);
    assert!(c >= 0.95, "face only {:.0}% covered: {rep}", c * 100.0);
    assert_eq!(header(&h, "x-blindfold-faces"), Some("1"), "{rep}");
    let (st, h, body) = request(&s, "POST", "/v1/anonymize", &[auth(), ct.clone()], &photo);
    assert_eq!(st, 200);
    assert_eq!(header(&h, "content-type"), Some("image/jpeg"));
    let out = image::load_from_memory(&body).unwrap().to_rgb8();
    assert_eq!(out.dimensions(), (800, 600));
    let (cx, cy) = (
        ((face[0] + face[2]) / 2.0) as u32,
        ((face[1] + face[3]) / 2.0) as u32,
    );
    let (a, b) = (img.get_pixel(cx, cy), out.get_pixel(cx, cy));
    let diff: i32 = (0..3).map(|i| (a[i] as i32 - b[i] as i32).abs()).sum();
    let (st, _, body) = request(&s, "POST", "/v1/detect", &[auth()], &photo);
    assert_eq!(st, 200);
    let det: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(det["faces"].as_array().unwrap().len(), 1, "{det}");
    assert!(diff > 0 || out != img, "the output differs from the input");

    // Bad input: each gets its status, as JSON, without image bytes.
    let cases: Vec<(&str, Vec<u8>, Option<&str>, u16)> = vec![
        ("empty body", Vec::new(), None, 400),
        (
            "truncated JPEG",
            photo[..photo.len() / 2].to_vec(),
            Some("image/jpeg"),
            422,
        ),
        ("not an image", b"HEAD89a nothing here".to_vec(), None, 415),
        ("a cut GIF", b"GIF89a nothing here".to_vec(), None, 422),
        (
            "wrong Content-Type",
            photo.clone(),
            Some("application/json"),
            415,
        ),
        (
            "60000x60000 header-only PNG",
            bomb_png(60_000, 60_000),
            Some("image/png"),
            413,
        ),
        ("over the 5 MB limit", vec![0xFF; 6 << 20], None, 413),
        ("unknown parameter", photo.clone(), Some("image/jpeg"), 400),
    ];
    for (what, body, ctype, want) in cases {
        let mut hs = vec![auth()];
        if let Some(t) = ctype {
            hs.push(("Content-Type", t.to_string()));
        }
        let path = match what {
            "unknown parameter" => "/v1/anonymize?treshold=0.1",
            _ => "/v1/anonymize",
        };
        let (st, h, b) = request(&s, "POST", path, &hs, &body);
        assert_eq!(st, want, "{what}: {}", String::from_utf8_lossy(&b));
        assert_eq!(
            header(&h, "content-type"),
            Some("application/json"),
            "{what}"
        );
        assert!(!error_of(&b).is_empty());
    }
    let mut corrupt = photo.clone();
    let n = corrupt.len();
    for b in &mut corrupt[n / 3..n / 3 + 400] {
        *b = 0xFF;
    }
    let st = request(&s, "POST", "/v1/anonymize", &[auth()], &corrupt).0;
    assert!(st == 422 || st == 200, "corrupt JPEG: {st}");

    // A 2 GB body is refused by its declared length, at once.
    let mut c = TcpStream::connect(&s.addr).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        c,
        "POST /v1/anonymize HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {TOKEN}\r\nContent-Length: 2147483648\r\n\r\n"
    )
    .unwrap();
    let _ = c.write_all(&[0u8; 65536]);
    assert_eq!(read_response(&mut c).0, 413);

    // A client that trickles its body is cut off with 408 (2 s limit).
    let t = Instant::now();
    let mut c = TcpStream::connect(&s.addr).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    write!(
        c,
        "POST /v1/anonymize HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {TOKEN}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        photo.len()
    )
    .unwrap();
    for chunk in photo[..2000].chunks(100) {
        if c.write_all(chunk).is_err() {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(read_response(&mut c).0, 408);
    assert!(t.elapsed() < Duration::from_secs(10));

    // A client that trickles its headers is disconnected (2 s limit).
    let t = Instant::now();
    let mut c = TcpStream::connect(&s.addr).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    c.write_all(b"POST /v1/anonymize HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    let mut buf = Vec::new();
    let _ = c.read_to_end(&mut buf);
    assert!(t.elapsed() < Duration::from_secs(10), "header timeout");

    // Still up and working; the metrics counted it all.
    let (st, _, _) = request(&s, "POST", "/v1/anonymize", &[auth(), ct], &photo);
    assert_eq!(st, 200);
    let (st, _, m) = request(&s, "GET", "/metrics", &[auth()], b"");
    assert_eq!(st, 200);
    let m = String::from_utf8(m).unwrap();
    for line in [
        "blindfold_http_requests_total{status=\"200\"}",
        "blindfold_http_requests_total{status=\"401\"} 2",
        "blindfold_http_requests_total{status=\"408\"} 1",
        "blindfold_http_requests_total{status=\"413\"} 3",
        "blindfold_ready 1",
    ] {
        assert!(m.contains(line), "{line} missing in\n{m}");
    }

    // SIGTERM: a clean exit and no files left.
    let pid = s.child.id().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let t = Instant::now();
    let status = loop {
        if let Some(st) = s.child.try_wait().unwrap() {
            break st;
        }
        assert!(
            t.elapsed() < Duration::from_secs(40),
            "no exit after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "{status:?}");
    let left: Vec<_> = std::fs::read_dir(&s.work)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert_eq!(left, Vec::<std::path::PathBuf>::new());
}
