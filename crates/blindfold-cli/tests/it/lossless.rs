//! JPEG in, JPEG out, edited in the DCT domain (issue 20): by default every
//! block no mask touches is the input's, the report says which path ran,
//! the orientation is kept in an EXIF block holding it alone, and
//! `verify --originals` counts no pixel changed outside the masks.

use crate::support::*;
use blindfold::codec::{DecodeOptions, decode};

/// A written photo as a viewer shows it (EXIF orientation applied).
pub(crate) fn upright(path: &std::path::Path) -> image::RgbImage {
    decode(&std::fs::read(path).unwrap(), &DecodeOptions::default())
        .unwrap()
        .image
}

/// MCUs (16x16: the test JPEGs are 4:2:0) that a reported mask's box
/// reaches, grown by one pixel (smooth chroma upsampling).
fn near_a_mask(rep: &serde_json::Value, x: u32, y: u32) -> bool {
    rep["faces"].as_array().unwrap().iter().any(|f| {
        let b = &f["mask"]["bbox"];
        let v = |k: &str| b[k].as_f64().unwrap().max(0.0) as u32;
        let (x0, y0) = ((v("x0") / 16) * 16, (v("y0") / 16) * 16);
        let (x1, y1) = ((v("x1") / 16 + 1) * 16, (v("y1") / 16 + 1) * 16);
        x + 1 >= x0 && x <= x1 && y + 1 >= y0 && y <= y1
    })
}

#[test]
fn jpeg_to_jpeg_keeps_every_pixel_outside_the_masked_mcus() {
    let dir = tempdir();
    let mut img = canvas(640, 480);
    let face = paste_face(&mut img, 140.0, 250.0, 150.0);
    let input = put(dir.path(), "in/a.jpg", &with_exif(&jpeg(&img), 1));
    let out = run(blindfold()
        .arg("--json")
        .arg("-o")
        .arg(dir.path().join("l"))
        .arg(&input));
    assert!(out.status.success(), "{}", text(&out));
    let rep = &json_lines(&out)[0];
    assert_eq!(rep["jpeg"], "lossless", "{rep}");
    assert!(rep.get("jpeg_reason").is_none(), "{rep}");
    assert!(coverage(face, rep) >= 0.95, "{rep}");
    let (before, after) = (upright(&input), upright(&dir.path().join("l/a.jpg")));
    let (mut outside, mut changed) = (0, 0);
    for (x, y, p) in after.enumerate_pixels() {
        if !near_a_mask(rep, x, y) {
            outside += 1;
            changed += usize::from(p != before.get_pixel(x, y));
        }
    }
    assert!(outside > 200_000);
    assert_eq!(changed, 0, "pixels changed outside the masked MCUs");
    let c = [(face[0] + face[2]) / 2.0, (face[1] + face[3]) / 2.0].map(|v| v as u32);
    assert_ne!(after.get_pixel(c[0], c[1]), before.get_pixel(c[0], c[1]));

    // --reencode, and blur (which needs the pixels), take the old path.
    for (i, flags, reason) in [
        (1, &["--reencode"][..], false),
        (2, &["--mode", "blur"][..], true),
    ] {
        let out = run(blindfold()
            .arg("--json")
            .args(flags)
            .arg("-o")
            .arg(dir.path().join(format!("r{i}")))
            .arg(&input));
        assert!(out.status.success(), "{}", text(&out));
        let rep = &json_lines(&out)[0];
        assert_eq!(rep["jpeg"], "reencoded", "{flags:?}: {rep}");
        assert_eq!(rep.get("jpeg_reason").is_some(), reason, "{rep}");
    }
}

#[test]
fn a_turned_photo_keeps_its_orientation_alone_and_verifies_clean() {
    let dir = tempdir();
    let mut upright_img = canvas(480, 640);
    let face = paste_face(&mut upright_img, 120.0, 180.0, 200.0);
    let stored = image::imageops::rotate270(&upright_img);
    let input = put(dir.path(), "orig/phone.jpg", &with_exif(&jpeg(&stored), 6));
    let out = run(blindfold()
        .arg("--json")
        .arg("-o")
        .arg(dir.path().join("out"))
        .arg(&input));
    assert!(out.status.success(), "{}", text(&out));
    let rep = &json_lines(&out)[0];
    assert_eq!(rep["jpeg"], "lossless", "{rep}");
    assert!(coverage(face, rep) >= 0.95, "{rep}");
    let written = dir.path().join("out/phone.jpg");
    let bytes = std::fs::read(&written).unwrap();
    // One EXIF block, the orientation alone: no GPS, no camera make.
    assert_eq!(bytes.windows(6).filter(|w| w == b"Exif\0\0").count(), 1);
    assert!(!bytes.windows(7).any(|w| w == b"PhoneCo"));
    let seen = upright(&written);
    assert_eq!(seen.dimensions(), (480, 640));
    let c = [(face[0] + face[2]) / 2.0, (face[1] + face[3]) / 2.0].map(|v| v as u32);
    assert_ne!(
        seen.get_pixel(c[0], c[1]),
        upright(&input).get_pixel(c[0], c[1])
    );

    // The audit: no metadata finding, nothing changed outside the masks.
    let out = run(blindfold()
        .arg("verify")
        .arg("--json")
        .arg("--originals")
        .arg(dir.path().join("orig"))
        .arg(&written));
    let lines = json_lines(&out);
    let a = &lines[0];
    assert_eq!(a["metadata"], serde_json::json!([]), "{a}");
    assert_eq!(a["changed_outside_masks"], 0.0, "{a}");
    assert!(out.status.success(), "{}", text(&out));
}
