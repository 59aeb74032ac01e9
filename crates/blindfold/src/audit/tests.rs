use super::*;
use crate::icc::testdata::profile;
use crate::pipeline::tests::{BrightBlob, face_in_alpha};
use crate::pipeline::{Options, process};
use image::{Rgb, RgbImage};

fn check(bytes: &[u8], original: Option<&[u8]>) -> Audit {
    audit(bytes, &mut BrightBlob, original, &AuditOptions::default()).unwrap()
}

fn anonymise(input: &[u8]) -> Vec<u8> {
    process(input, &mut BrightBlob, &Options::default(), false, &|| 0.0)
        .unwrap()
        .bytes
}

#[test]
fn a_face_hidden_in_the_alpha_is_found() {
    let (rgb, alpha) = face_in_alpha();
    // What a tool that copies alpha writes: the face is still in it.
    let leaky = codec::encode(&rgb, Some(&alpha), Format::Png, None, &Default::default()).unwrap();
    let a = check(&leaky, None);
    assert!(!a.clean);
    assert!(a.faces.iter().any(|c| c.view == "alpha"), "{a:?}");

    let ours = anonymise(&leaky);
    let a = check(&ours, Some(&leaky));
    assert!(a.clean, "{a:?}");
    assert!(
        !a.masked.is_empty(),
        "the masks are seen and recognised as fills"
    );
    assert_eq!(a.changed_outside_masks, Some(0.0));
}

#[test]
fn text_in_an_icc_profile_is_found() {
    let img = RgbImage::from_pixel(32, 32, Rgb([40, 50, 60]));
    for format in [Format::Jpeg, Format::Png, Format::Webp, Format::Tiff] {
        let leaky = codec::encode(
            &img,
            None,
            format,
            Some(&profile(true)),
            &Default::default(),
        )
        .unwrap();
        let a = check(&leaky, None);
        assert_eq!(a.metadata, vec!["icc-text"], "{format:?}");
        assert!(!a.clean);
        let a = check(&anonymise(&leaky), None);
        assert!(a.clean, "{format:?}: {a:?}");

        let jpeg = codec::encode(&img, None, Format::Jpeg, None, &Default::default()).unwrap();
        let odd = codec::encode(&img, None, format, Some(&jpeg), &Default::default()).unwrap();
        assert_eq!(check(&odd, None).metadata, vec!["icc-unreadable"]);
    }
}

#[test]
fn pixels_changed_outside_the_masks_are_counted() {
    let img = RgbImage::from_fn(40, 40, |x, y| Rgb([(x * 3) as u8, (y * 3) as u8, 60]));
    let orig = codec::encode(&img, None, Format::Png, None, &Default::default()).unwrap();
    let mut shifted = img.clone();
    for p in shifted.pixels_mut().take(400) {
        p.0[2] = 200;
    }
    let out = codec::encode(&shifted, None, Format::Png, None, &Default::default()).unwrap();
    let a = check(&out, Some(&orig));
    assert_eq!(a.changed_outside_masks, Some(0.25));
    assert!(!a.clean);
}

#[test]
fn fills_are_told_from_pictures() {
    let d = Detection {
        bbox: crate::BBox::new(0.0, 0.0, 40.0, 40.0),
        score: 0.9,
    };
    let flat = RgbImage::from_pixel(40, 40, Rgb([0, 0, 0]));
    let mut x = 7u64;
    let noise = RgbImage::from_fn(40, 40, |_, _| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        Rgb([x as u8, (x >> 8) as u8, (x >> 16) as u8])
    });
    let smooth = RgbImage::from_fn(40, 40, |x, y| Rgb([(x * 5) as u8, (y * 5) as u8, 90]));
    let f = |img: &RgbImage| is_fill(img, &fill_map(img), &d);
    assert!(f(&flat));
    assert!(f(&noise));
    assert!(!f(&smooth));
    // A face on a flat backdrop: the box is mostly backdrop, its middle is
    // the face.
    let studio = RgbImage::from_fn(40, 40, |x, y| {
        if (10..30).contains(&x) && (10..30).contains(&y) {
            Rgb([(100 + x * 3) as u8, (80 + y * 2) as u8, 70])
        } else {
            Rgb([255, 255, 255])
        }
    });
    assert!(!f(&studio));
    // Noise through JPEG is still noise.
    let j = codec::encode(&noise, None, Format::Jpeg, None, &Default::default()).unwrap();
    let back = codec::decode(&j, &Default::default()).unwrap().image;
    assert!(f(&back));
}
