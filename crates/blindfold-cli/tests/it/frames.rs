//! Every frame (issue 21): animated GIF and PNG and multi-page TIFF through
//! the binary with the real model, a real face in every frame. The inputs
//! are made with the `image` and `png` crates' own encoders; the outputs
//! are read back with the `image` crate's animation decoders.

use crate::support::*;
use blindfold::anonymize::Mask;
use image::codecs::gif::{GifDecoder, GifEncoder, Repeat};
use image::codecs::png::PngDecoder;
use image::{AnimationDecoder, Delay, Frame, RgbImage, RgbaImage};
use serde_json::Value;
use std::io::Cursor;
use std::path::Path;

/// Three 320x240 frames with the astronaut's face (100 px tall) moving
/// right by 20 px a frame; the face boxes.
fn moving_face() -> (Vec<RgbImage>, Vec<[f32; 4]>) {
    let mut frames = Vec::new();
    let mut faces = Vec::new();
    for i in 0..3 {
        let mut img = canvas(320, 240);
        faces.push(paste_face(&mut img, 100.0, 80.0 + 20.0 * i as f32, 60.0));
        frames.push(img);
    }
    (frames, faces)
}

fn rgba(img: &RgbImage) -> RgbaImage {
    image::DynamicImage::ImageRgb8(img.clone()).to_rgba8()
}

fn gif(frames: &[RgbImage]) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut enc = GifEncoder::new_with_speed(&mut out, 10);
        enc.set_repeat(Repeat::Infinite).unwrap();
        for (i, f) in frames.iter().enumerate() {
            let delay = Delay::from_numer_denom_ms(100 * (i as u32 + 1), 1);
            enc.encode_frame(Frame::from_parts(rgba(f), 0, 0, delay))
                .unwrap();
        }
    }
    out
}

fn apng(frames: &[RgbImage]) -> Vec<u8> {
    let (w, h) = frames[0].dimensions();
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        enc.set_animated(frames.len() as u32, 0).unwrap();
        let mut writer = enc.write_header().unwrap();
        for (i, f) in frames.iter().enumerate() {
            writer.set_frame_delay(i as u16 + 1, 10).unwrap();
            writer.write_image_data(f.as_raw()).unwrap();
        }
        writer.finish().unwrap();
    }
    out
}

/// The frames of a GIF or APNG, as the `image` crate composites them.
fn read_frames(bytes: &[u8]) -> Vec<(RgbImage, f64)> {
    let frames = match &bytes[..3] {
        b"GIF" => GifDecoder::new(Cursor::new(bytes)).unwrap().into_frames(),
        _ => PngDecoder::new(Cursor::new(bytes))
            .unwrap()
            .apng()
            .unwrap()
            .into_frames(),
    };
    frames
        .collect_frames()
        .unwrap()
        .into_iter()
        .map(|f| {
            let (n, d) = f.delay().numer_denom_ms();
            let img = image::DynamicImage::ImageRgba8(f.into_buffer()).to_rgb8();
            (img, f64::from(n) / f64::from(d))
        })
        .collect()
}

/// The masks of frame `i` in a report.
fn masks_of(rep: &Value, i: usize) -> Vec<Mask> {
    rep["faces"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["frame"] == i)
        .map(|f| serde_json::from_value(f["mask"].clone()).unwrap())
        .collect()
}

/// Share of `face` covered by `masks`.
fn covered(face: [f32; 4], masks: &[Mask]) -> f64 {
    let (mut inside, mut total) = (0u64, 0u64);
    for y in face[1] as u32..face[3] as u32 {
        for x in face[0] as u32..face[2] as u32 {
            total += 1;
            let (px, py) = (x as f32 + 0.5, y as f32 + 0.5);
            inside += u64::from(masks.iter().any(|m| m.contains(px, py)));
        }
    }
    inside as f64 / total.max(1) as f64
}

/// Mean change per channel in the middle of `face` (eyes, nose, mouth).
fn change_in_middle(a: &RgbImage, b: &RgbImage, face: [f32; 4]) -> f64 {
    let (cx, cy) = ((face[0] + face[2]) / 2.0, (face[1] + face[3]) / 2.0);
    let (hw, hh) = ((face[2] - face[0]) / 4.0, (face[3] - face[1]) / 4.0);
    let (mut sum, mut n) = (0u64, 0u64);
    for y in (cy - hh) as u32..(cy + hh) as u32 {
        for x in (cx - hw) as u32..(cx + hw) as u32 {
            let (p, q) = (a.get_pixel(x, y), b.get_pixel(x, y));
            sum += (0..3).map(|c| u64::from(p[c].abs_diff(q[c]))).sum::<u64>();
            n += 3;
        }
    }
    sum as f64 / n.max(1) as f64
}

fn anonymise(dir: &Path, name: &str, extra: &[&str]) -> (Value, Vec<u8>) {
    let out = run(blindfold()
        .arg("--json")
        .args(extra)
        .arg("-o")
        .arg(dir.join("out"))
        .arg(dir.join("in").join(name)));
    assert!(out.status.success(), "{}", text(&out));
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 1, "{}", text(&out));
    let written = std::fs::read(dir.join("out").join(name)).expect("output written");
    (lines[0].clone(), written)
}

fn verify_status(path: &Path) -> String {
    let out = run(blindfold().args(["verify", "--json"]).arg(path));
    let line: Value = String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| {
            serde_json::from_str::<Value>(l)
                .ok()
                .filter(|v| v.get("path").is_some())
        })
        .unwrap_or_else(|| panic!("no line: {}", text(&out)));
    line["status"].as_str().unwrap().to_string()
}

#[test]
fn every_frame_of_a_gif_and_an_apng_is_masked_and_timed() {
    let (frames, faces) = moving_face();
    for (name, bytes) in [("moving.gif", gif(&frames)), ("moving.png", apng(&frames))] {
        let dir = tempdir();
        let input = put(dir.path(), &format!("in/{name}"), &bytes);
        let originals = read_frames(&bytes);
        assert_eq!(originals.len(), 3);
        let (rep, written) = anonymise(dir.path(), name, &[]);
        assert_eq!(rep["status"], "ok", "{rep}");
        assert_eq!(
            (rep["frames"].as_u64(), rep["frames_dropped"].as_u64()),
            (Some(3), Some(0))
        );
        let delays = rep["playback"]["delays_ms"].clone();
        assert_eq!(
            delays,
            serde_json::json!([100.0, 200.0, 300.0]),
            "{name}: {rep}"
        );
        assert_eq!(rep["playback"]["loop_count"], 0, "{name}");
        let out = read_frames(&written);
        assert_eq!(out.len(), 3, "{name}: 3 frames out");
        for (i, ((img, delay), (orig, _))) in out.iter().zip(&originals).enumerate() {
            assert_eq!(*delay, 100.0 * (i + 1) as f64, "{name} frame {i}");
            let c = covered(faces[i], &masks_of(&rep, i));
            assert!(
                c >= 0.95,
                "{name} frame {i}: face {:.0}% covered",
                c * 100.0
            );
            let change = change_in_middle(img, orig, faces[i]);
            assert!(
                change > 20.0,
                "{name} frame {i}: face pixels barely changed ({change:.1})"
            );
        }
        // verify audits every frame: the output is clean, the input is not.
        let out_path = dir.path().join("out").join(name);
        assert_eq!(verify_status(&out_path), "clean", "{name}");
        assert_eq!(verify_status(&input), "found", "{name}");
    }
}

#[test]
fn both_pages_of_a_tiff_are_masked() {
    use blindfold::codec::frames::{self, Frame as Page, Sequence};
    let (frames_in, faces) = moving_face();
    let pages: Vec<Page> = frames_in[..2]
        .iter()
        .map(|img| Page {
            image: img.clone(),
            alpha: None,
            icc: None,
            delay: (0, 1),
        })
        .collect();
    let seq = Sequence {
        format: blindfold::codec::Format::Tiff,
        frames: pages,
        animation: None,
        icc: None,
        orientation: 1,
        skipped: 0,
    };
    let bytes = frames::encode_all(&seq, &Default::default()).unwrap();
    let dir = tempdir();
    put(dir.path(), "in/pages.tiff", &bytes);
    let (rep, written) = anonymise(dir.path(), "pages.tiff", &[]);
    assert_eq!(
        (rep["frames"].as_u64(), rep["frames_dropped"].as_u64()),
        (Some(2), Some(0))
    );
    assert!(rep.get("playback").is_none());
    let back = frames::decode_all(&written, &Default::default()).unwrap();
    assert_eq!(back.frames.len(), 2);
    for (i, page) in back.frames.iter().enumerate() {
        assert!(covered(faces[i], &masks_of(&rep, i)) >= 0.95, "page {i}");
        assert!(
            change_in_middle(&page.image, &frames_in[i], faces[i]) > 20.0,
            "page {i}"
        );
    }
    assert_eq!(verify_status(&dir.path().join("out/pages.tiff")), "clean");
}

#[test]
fn first_frame_writes_the_first_frame_only() {
    let (frames, faces) = moving_face();
    let dir = tempdir();
    put(dir.path(), "in/moving.gif", &gif(&frames));
    let (rep, written) = anonymise(dir.path(), "moving.gif", &["--first-frame"]);
    assert_eq!(
        (rep["frames"].as_u64(), rep["frames_dropped"].as_u64()),
        (Some(1), Some(2))
    );
    assert!(
        rep["metadata_removed"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v == "frames")
    );
    let out = read_frames(&written);
    assert_eq!(out.len(), 1);
    assert!(covered(faces[0], &masks_of_still(&rep)) >= 0.95);
}

fn masks_of_still(rep: &Value) -> Vec<Mask> {
    rep["faces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| serde_json::from_value(f["mask"].clone()).unwrap())
        .collect()
}

#[test]
fn a_cut_gif_writes_nothing_and_says_why() {
    let (frames, _) = moving_face();
    let bytes = gif(&frames);
    let dir = tempdir();
    put(dir.path(), "in/cut.gif", &bytes[..bytes.len() * 2 / 3]);
    let out = run(blindfold()
        .arg("-o")
        .arg(dir.path().join("out"))
        .arg(dir.path().join("in/cut.gif")));
    assert!(!out.status.success(), "{}", text(&out));
    assert!(!dir.path().join("out/cut.gif").exists());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("truncated or corrupt"), "{err}");
}

#[test]
fn the_pixel_limit_counts_every_frame() {
    let (frames, _) = moving_face();
    let dir = tempdir();
    put(dir.path(), "in/moving.gif", &gif(&frames));
    // One frame is 76800 pixels; all three 230400.
    let out = run(blindfold()
        .args(["--max-pixels", "200000", "-o"])
        .arg(dir.path().join("out"))
        .arg(dir.path().join("in/moving.gif")));
    assert!(!out.status.success(), "{}", text(&out));
    assert!(!dir.path().join("out/moving.gif").exists());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("230400 pixels"), "{err}");
}
