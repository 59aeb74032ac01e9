//! HEIC and AVIF (issue 21) through the `blindfold` binary with the real
//! model. The files are made by Debian's `heif-enc` (libheif-examples) from
//! a JPEG with GPS in its EXIF, as a phone's would carry it.

use crate::photos::crowd;
use crate::support::*;
use blindfold::codec::{self, DecodeOptions, Format};
use std::path::Path;
use std::process::Command;

/// `heif-enc ARGS -o OUT SOURCES...`; panics when it is not installed.
fn heif_enc(out: &Path, sources: &[&Path], args: &[&str]) {
    let status = Command::new("heif-enc")
        .args(args)
        .arg("-o")
        .arg(out)
        .args(sources)
        .stdout(std::process::Stdio::null())
        .status()
        .expect("heif-enc runs (apt-get install libheif-examples)");
    assert!(status.success(), "heif-enc failed for {}", out.display());
}

/// The share of pixels in the middle quarter of `face` that differ from
/// the original by more than 30 (summed over the channels).
fn changed_share(out: &image::RgbImage, original: &image::RgbImage, face: [f32; 4]) -> f64 {
    let (w, h) = (face[2] - face[0], face[3] - face[1]);
    let (x0, y0) = ((face[0] + w * 0.25) as u32, (face[1] + h * 0.25) as u32);
    let (x1, y1) = ((face[2] - w * 0.25) as u32, (face[3] - h * 0.25) as u32);
    let (mut changed, mut n) = (0u32, 0u32);
    for y in y0..y1 {
        for x in x0..x1 {
            let (a, b) = (out.get_pixel(x, y), original.get_pixel(x, y));
            changed += u32::from((0..3).map(|c| u32::from(a[c].abs_diff(b[c]))).sum::<u32>() > 30);
            n += 1;
        }
    }
    f64::from(changed) / f64::from(n.max(1))
}

/// The EXIF, XMP and GPS tags exiftool reads in `path`, when it is installed.
fn exiftool_tags(path: &Path) -> Option<String> {
    let out = Command::new("exiftool")
        .args(["-s", "-EXIF:all", "-XMP:all", "-GPS:all"])
        .arg(path)
        .output()
        .ok()?;
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn heic_and_avif_with_faces_come_out_masked_without_metadata_and_verify_clean() {
    let dir = tempdir();
    let (img, faces) = crowd();
    let src = put(dir.path(), "src/crowd.jpg", &with_exif(&jpeg(&img), 1));
    let input = dir.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    heif_enc(&input.join("crowd.heic"), &[&src], &["-q", "90"]);
    heif_enc(&input.join("crowd.avif"), &[&src], &["-q", "90"]);
    heif_enc(
        &input.join("thumb.heic"),
        &[&src],
        &["-q", "60", "-t", "160"],
    );
    for name in ["crowd.heic", "thumb.heic", "crowd.avif"] {
        let tags = exiftool_tags(&input.join(name)).unwrap_or_else(|| "GPS".into());
        assert!(
            tags.contains("GPS"),
            "the fixture {name} carries GPS: {tags}"
        );
    }
    let out_dir = dir.path().join("out");
    let out = run(blindfold()
        .arg("--json")
        .arg("-o")
        .arg(&out_dir)
        .arg(&input));
    assert!(out.status.success(), "{}", text(&out));
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 3, "{}", text(&out));
    for rep in &lines {
        let name = Path::new(rep["input"].as_str().unwrap())
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        let (format, format_out, written) = match name.as_str() {
            "crowd.avif" => ("avif", "avif", "crowd.avif"),
            "crowd.heic" => ("heif", "jpeg", "crowd.jpg"),
            _ => ("heif", "jpeg", "thumb.jpg"),
        };
        assert_eq!(rep["status"], "ok", "{rep}");
        assert_eq!(
            (rep["format"].as_str(), rep["format_out"].as_str()),
            (Some(format), Some(format_out))
        );
        let removed = rep["metadata_removed"].to_string();
        for kind in ["exif", "gps"] {
            assert!(removed.contains(kind), "{name}: {kind} not in {removed}");
        }
        if name == "thumb.heic" {
            assert!(removed.contains("thumbnail"), "{name}: {removed}");
        }
        for face in &faces {
            let c = coverage(*face, rep);
            assert!(
                c >= 0.95,
                "{name}: face {face:?} only {:.0}% covered",
                c * 100.0
            );
        }
        let path = out_dir.join(written);
        let bytes = std::fs::read(&path).expect("output written");
        let kind = if format_out == "avif" {
            Format::Avif
        } else {
            Format::Jpeg
        };
        assert_eq!(codec::sniff(&bytes), Some(kind), "{name}");
        let left = blindfold::metadata::scan(&bytes, kind).identifying();
        assert!(left.is_empty(), "{name}: {left:?}");
        if let Some(tags) = exiftool_tags(&path) {
            assert!(tags.trim().is_empty(), "{name}: exiftool reads {tags}");
        }
        let back = codec::decode(&bytes, &DecodeOptions::default())
            .unwrap()
            .image;
        assert_eq!(back.dimensions(), img.dimensions());
        for face in &faces[3..] {
            let share = changed_share(&back, &img, *face);
            assert!(share > 0.6, "{name}: face {face:?} only {share:.2} changed");
        }
    }
    let audit = run(blindfold().arg("verify").arg(&out_dir));
    assert!(audit.status.success(), "{}", text(&audit));
    assert!(
        text(&audit).contains("3 of 3 files clean"),
        "{}",
        text(&audit)
    );
    // The inputs themselves are not clean: faces and GPS.
    let raw = run(blindfold().arg("verify").arg(input.join("crowd.heic")));
    assert_eq!(raw.status.code(), Some(1), "{}", text(&raw));
    assert!(text(&raw).contains("gps"), "{}", text(&raw));
}

#[test]
fn a_heic_with_two_pictures_fails_and_writes_nothing() {
    let dir = tempdir();
    let (img, _) = crowd();
    let a = put(dir.path(), "a.jpg", &jpeg(&img));
    let b = put(
        dir.path(),
        "b.jpg",
        &jpeg(&image::imageops::flip_horizontal(&img)),
    );
    let two = dir.path().join("burst.heic");
    heif_enc(&two, &[&a, &b], &["-q", "50"]);
    let out_dir = dir.path().join("out");
    let out = run(blindfold().arg("-o").arg(&out_dir).arg(&two));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("2 top-level images"), "{}", text(&out));
    assert!(!out_dir.join("burst.jpg").exists());
}

#[test]
fn a_heic_is_not_replaced_in_place_and_a_misnamed_one_fails() {
    let dir = tempdir();
    let (img, _) = crowd();
    let src = put(dir.path(), "src.jpg", &jpeg(&img));
    let heic = dir.path().join("photo.heic");
    heif_enc(&heic, &[&src], &["-q", "50"]);
    let before = std::fs::read(&heic).unwrap();
    let out = run(blindfold().arg("--in-place").arg(&heic));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("cannot replace its input"),
        "{}",
        text(&out)
    );
    assert_eq!(std::fs::read(&heic).unwrap(), before);
    assert!(!dir.path().join("photo.jpg").exists());

    let misnamed = put(dir.path(), "other.avif", &before);
    let out = run(blindfold().arg(&misnamed));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("rename it"), "{}", text(&out));
    assert!(!dir.path().join("other.anon.avif").exists());

    // Beside the input, a HEIC's output is named .jpg.
    let out = run(blindfold().arg(&heic));
    assert!(out.status.success(), "{}", text(&out));
    assert!(dir.path().join("photo.anon.jpg").is_file());
}
