//! Fail closed for real: a face hidden in the alpha channel, text in the ICC
//! profile, and `blindfold verify` on leaky and on blindfold's own outputs.

use crate::support::*;
use blindfold::codec::{Format, encode};
use blindfold::testing::{ICC_PLANTED, hostile_icc_profile};
use image::{GrayImage, Luma, RgbImage};

/// The astronaut as a viewer sees her over black, stored as flat white RGB
/// with her brightness in the alpha channel.
fn astronaut_in_alpha() -> (RgbImage, GrayImage) {
    let a = astronaut();
    let alpha = GrayImage::from_fn(a.width(), a.height(), |x, y| {
        let p = a.get_pixel(x, y).0;
        Luma([((u32::from(p[0]) * 3 + u32::from(p[1]) * 6 + u32::from(p[2])) / 10) as u8])
    });
    (
        RgbImage::from_pixel(a.width(), a.height(), image::Rgb([255, 255, 255])),
        alpha,
    )
}

fn verify(args: &[&std::path::Path]) -> (Option<i32>, Vec<serde_json::Value>, String) {
    let out = run(blindfold().args(["verify", "--json"]).args(args));
    let lines = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    (out.status.code(), lines, text(&out))
}

#[test]
fn a_face_hidden_in_the_alpha_is_masked_there_and_verify_sees_it() {
    let dir = tempdir();
    let (rgb, alpha) = astronaut_in_alpha();
    let leaky = encode(&rgb, Some(&alpha), Format::Png, None, &Default::default()).unwrap();
    let input = put(dir.path(), "in/hidden.png", &leaky);
    let out_dir = dir.path().join("out");
    let out = run(blindfold()
        .arg("--json")
        .arg("-o")
        .arg(&out_dir)
        .arg(&input));
    assert!(out.status.success(), "{}", text(&out));
    let rep = &json_lines(&out)[0];
    assert!(coverage(ASTRONAUT_FACE, rep) >= 0.95, "{rep}");
    let written = image::open(out_dir.join("hidden.png")).unwrap().to_rgba8();
    let [x0, y0, x1, y1] = ASTRONAUT_FACE.map(|v| v as u32);
    for y in y0 + 10..y1 - 10 {
        for x in x0 + 10..x1 - 10 {
            assert_eq!(
                written.get_pixel(x, y)[3],
                255,
                "alpha at {x},{y} kept the face"
            );
        }
    }

    // The input is what a tool that copies alpha would write: verify finds
    // the face; blindfold's output (with the original beside it) is clean.
    let (code, lines, t) = verify(&[&input]);
    assert_eq!(code, Some(1), "{t}");
    assert_eq!(lines[0]["status"], "found", "{t}");
    let views: Vec<&str> = lines[0]["faces"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["view"].as_str())
        .collect();
    assert!(
        views.contains(&"alpha") || views.contains(&"over-black"),
        "{t}"
    );
    let out = run(blindfold()
        .args(["verify", "--json", "--originals"])
        .arg(dir.path().join("in"))
        .arg(out_dir.join("hidden.png")));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let line: serde_json::Value =
        serde_json::from_str(String::from_utf8_lossy(&out.stdout).lines().next().unwrap()).unwrap();
    assert!(
        line["changed_outside_masks"].as_f64().unwrap() < 0.01,
        "{line}"
    );
}

#[test]
fn icc_text_is_removed_reported_and_found_by_verify() {
    let dir = tempdir();
    let img = canvas(320, 240);
    let profile = hostile_icc_profile();
    let leaky = encode(
        &img,
        None,
        Format::Jpeg,
        Some(&profile),
        &Default::default(),
    )
    .unwrap();
    let input = put(dir.path(), "in/wall.jpg", &leaky);
    let out = run(blindfold().arg("--json").arg(&input));
    assert!(out.status.success(), "{}", text(&out));
    let rep = &json_lines(&out)[0];
    assert_eq!(
        rep["metadata_removed"],
        serde_json::json!(["icc-text"]),
        "{rep}"
    );
    assert_eq!(rep["metadata_kept"], serde_json::json!(["icc"]), "{rep}");
    let written = std::fs::read(dir.path().join("in/wall.anon.jpg")).unwrap();
    for planted in ICC_PLANTED.iter().chain([&&b"48.8584N"[..], &&b"SN42"[..]]) {
        assert!(
            !written.windows(planted.len()).any(|w| w == *planted),
            "{planted:?} survived"
        );
    }

    let (code, lines, t) = verify(&[&input]);
    assert_eq!(code, Some(1), "{t}");
    assert_eq!(lines[0]["metadata"], serde_json::json!(["icc-text"]), "{t}");
    let (code, _, t) = verify(&[&dir.path().join("in/wall.anon.jpg")]);
    assert_eq!(code, Some(0), "{t}");
}

#[test]
fn a_jpeg_cut_and_closed_again_fails_unless_damage_is_accepted() {
    let dir = tempdir();
    let good = jpeg(&canvas(320, 240));
    let sos = good.windows(2).position(|w| w == [0xFF, 0xDA]).unwrap();
    let mut cut = good[..sos + (good.len() - sos) / 2].to_vec();
    cut.extend_from_slice(&[0xFF, 0xD9]);
    let input = put(dir.path(), "cut.jpg", &cut);
    let out = run(blindfold().arg(&input));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(!dir.path().join("cut.anon.jpg").exists());
    let out = run(blindfold().args(["--json", "--accept-damaged"]).arg(&input));
    assert!(out.status.success(), "{}", text(&out));
    assert!(json_lines(&out)[0]["damaged"].is_string());
}

#[test]
fn a_tiff_with_no_clear_main_page_is_written_page_by_page_or_fails_for_the_first_only() {
    // A small page first, not flagged as a reduced copy, then a larger one:
    // which one a viewer shows as the picture cannot be known. Every page
    // is written (issue 21); asked for the first page only, it fails.
    let dir = tempdir();
    let mut full = canvas(640, 480);
    paste_face(&mut full, 100.0, 200.0, 150.0);
    let small = image::imageops::resize(&full, 160, 120, image::imageops::FilterType::Triangle);
    let tiff = blindfold::testing::tiff_pages(&[(&small, 0), (&full, 0)]);
    let input = put(dir.path(), "pages.tif", &tiff);
    let out = run(blindfold().arg("--json").arg(&input));
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(json_lines(&out)[0]["frames"], 2, "{}", text(&out));
    std::fs::remove_file(dir.path().join("pages.anon.tif")).unwrap();
    let out = run(blindfold().arg("--first-frame").arg(&input));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("pages.tif") && err.contains("640x480"),
        "{}",
        text(&out)
    );
    assert!(!dir.path().join("pages.anon.tif").exists());
}
