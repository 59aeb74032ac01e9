//! Tests of [`super::redact`]: caller-given boxes (the browser page).

use super::*;
use crate::BBox;
use crate::metadata::testdata;
use image::{Rgb, RgbImage};

fn photo() -> Vec<u8> {
    let img = RgbImage::from_fn(96, 64, |x, y| Rgb([(x * 2) as u8, (y * 3) as u8, 120]));
    let jpeg = codec::encode(&img, None, Format::Jpeg, None, &EncodeOptions::default()).unwrap();
    testdata::jpeg_with(&jpeg, &testdata::identifying_segments())
}

fn det(x0: f32, y0: f32, x1: f32, y1: f32) -> Detection {
    Detection {
        bbox: BBox::new(x0, y0, x1, y1),
        score: 1.0,
    }
}

fn opts(mode: Mode) -> Options {
    Options {
        mode,
        seed: 7,
        ..Options::default()
    }
}

fn decoded(bytes: &[u8]) -> RgbImage {
    codec::decode(bytes, &DecodeOptions::default())
        .unwrap()
        .image
}

#[test]
fn redact_masks_the_given_boxes_only_and_strips_metadata() {
    let input = photo();
    let before = decoded(&input);
    let boxes = [det(10.0, 10.0, 30.0, 30.0), det(60.0, 20.0, 80.0, 50.0)];
    let out = redact(&input, &boxes, &opts(Mode::Solid), &|| 0.0).unwrap();
    assert_eq!((out.width, out.height, out.format), (96, 64, Format::Jpeg));
    assert_eq!(out.faces.len(), 2);
    assert!(out.metadata_in.gps && out.metadata_in.exif && out.metadata_in.comment);
    assert!(
        metadata::scan(&out.bytes, Format::Jpeg)
            .identifying()
            .is_empty()
    );
    let after = decoded(&out.bytes);
    let diff = |x: u32, y: u32| {
        let (a, b) = (before.get_pixel(x, y), after.get_pixel(x, y));
        (0..3).map(|i| a[i].abs_diff(b[i])).max().unwrap()
    };
    // Box centres changed (solid fill is far from the gradient there)...
    assert!(diff(20, 20) > 20 || diff(70, 35) > 20);
    // ...and pixels outside the MCUs (16x16) the masks touch are the
    // input's exactly (the masks reach MCU rows 0..=2 at the left and
    // columns 3..=5 at the right).
    assert_eq!(out.jpeg, Some(JpegPath::Lossless));
    for (x, y) in [(2, 60), (45, 60), (20, 50)] {
        assert_eq!(diff(x, y), 0, "pixel {x},{y} changed");
    }
    // Re-encoded: pixels well outside every mask stay within the re-encode.
    let mut o = opts(Mode::Solid);
    o.encode.jpeg_lossless = false;
    let out = redact(&input, &boxes, &o, &|| 0.0).unwrap();
    assert_eq!(out.jpeg, Some(JpegPath::Reencoded));
    assert_eq!(out.jpeg_reason, None);
    let after = decoded(&out.bytes);
    let masks: Vec<Mask> = out.faces.iter().map(|f| f.mask).collect();
    for (x, y) in [(2, 60), (45, 2), (94, 62), (45, 60)] {
        assert!(
            !masks
                .iter()
                .any(|m| m.contains(x as f32 + 0.5, y as f32 + 0.5))
        );
        let d = (0..3)
            .map(|i| before.get_pixel(x, y)[i].abs_diff(after.get_pixel(x, y)[i]))
            .max()
            .unwrap();
        assert!(d < 12, "pixel {x},{y} changed by {d}");
    }
}

#[test]
fn redact_grows_boxes_like_detections() {
    let input = photo();
    let mut o = opts(Mode::Noise);
    o.mask.grow = 0.5;
    let out = redact(&input, &[det(40.0, 20.0, 60.0, 40.0)], &o, &|| 0.0).unwrap();
    assert_eq!(out.faces[0].mask.bbox, BBox::new(30.0, 10.0, 70.0, 50.0));
    assert_eq!(
        out.faces[0].detection.bbox,
        BBox::new(40.0, 20.0, 60.0, 40.0)
    );
}

#[test]
fn redact_with_no_boxes_still_strips_metadata() {
    let out = redact(&photo(), &[], &opts(Mode::Noise), &|| 0.0).unwrap();
    assert!(out.faces.is_empty());
    assert!(
        metadata::scan(&out.bytes, Format::Jpeg)
            .identifying()
            .is_empty()
    );
}

#[test]
fn redact_fails_closed() {
    assert!(redact(b"not a picture", &[], &opts(Mode::Noise), &|| 0.0).is_err());
    let nan = det(f32::NAN, 0.0, 10.0, 10.0);
    assert!(matches!(
        redact(&photo(), &[nan], &opts(Mode::Noise), &|| 0.0),
        Err(Error::Config(_))
    ));
    let mut o = opts(Mode::Noise);
    o.mask.grow = 9.0;
    assert!(matches!(
        redact(&photo(), &[], &o, &|| 0.0),
        Err(Error::Config(_))
    ));
}
