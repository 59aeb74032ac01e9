//! HEIC and AVIF over HTTP (issue 21): a HEIC comes back as a JPEG and the
//! report's `format_out` says so; an AVIF comes back as an AVIF. The files
//! are made by Debian's `heif-enc` (libheif-examples).

use super::*;
use blindfold::codec::{self, Format};

/// `picture` as a PNG, made into `.suffix` by heif-enc.
fn heif_enc(suffix: &str) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let (src, out) = (
        dir.path().join("in.png"),
        dir.path().join(format!("out.{suffix}")),
    );
    std::fs::write(&src, picture(ImageFormat::Png)).unwrap();
    let status = std::process::Command::new("heif-enc")
        .args(["-q", "90", "-o"])
        .arg(&out)
        .arg(&src)
        .stdout(std::process::Stdio::null())
        .status()
        .expect("heif-enc runs (apt-get install libheif-examples)");
    assert!(status.success());
    std::fs::read(out).unwrap()
}

#[tokio::test]
async fn a_heic_comes_back_as_jpeg_and_an_avif_as_avif() {
    let f = fixture();
    for (suffix, ct, format, format_out) in [
        ("heic", "image/jpeg", Format::Heif, Format::Jpeg),
        ("avif", "image/avif", Format::Avif, Format::Avif),
    ] {
        let input = heif_enc(suffix);
        assert_eq!(codec::sniff(&input), Some(format));
        let (st, h, body) = send(&f, post("/v1/anonymize", input, Some("image/heic"))).await;
        assert_eq!(st, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
        assert_eq!(h[header::CONTENT_TYPE], ct);
        let compact = json(h["x-blindfold-report"].as_bytes());
        assert_eq!(compact["format"], serde_json::json!(format));
        assert_eq!(compact["format_out"], serde_json::json!(format_out));
        assert_eq!(compact["faces"], 1);
        assert_eq!(codec::sniff(&body), Some(format_out));
        let out = codec::decode(&body, &Default::default()).unwrap();
        assert_eq!(out.image.dimensions(), (64, 48));
        let left = blindfold::metadata::scan(&body, format_out).identifying();
        assert!(left.is_empty(), "{left:?}");
    }
}
