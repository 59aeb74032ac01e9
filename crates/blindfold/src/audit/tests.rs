use super::*;
use crate::codec;
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
    assert!(a.found.faces.iter().any(|c| c.view == "alpha"), "{a:?}");

    let ours = anonymise(&leaky);
    let a = check(&ours, Some(&leaky));
    assert!(a.clean, "{a:?}");
    assert!(
        !a.found.masked.is_empty(),
        "the masks are seen and recognised as fills"
    );
    assert_eq!(a.changed_outside_masks, Some(0.0));
    // Without the original too: the alpha under a mask is opaque (white in
    // the alpha view), and white alone is no fill; the RGB fill beneath it
    // tells the mask.
    let a = check(&ours, None);
    assert!(a.clean, "{a:?}");
    assert!(a.found.masked.iter().any(|c| c.view == "alpha"), "{a:?}");
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

/// A repeatable stream of random bytes.
fn random(seed: u64) -> impl FnMut() -> u64 {
    let mut x = seed;
    move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    }
}

/// A crude face, 128 px square: a light oval on a mid background with dark
/// eyes and mouth, as levels 0..=255 scaled by `gain` and shifted by `lift`.
fn face(gain: f64, lift: f64) -> RgbImage {
    RgbImage::from_fn(128, 128, |x, y| {
        let (fx, fy) = ((x as f64 - 64.0) / 40.0, (y as f64 - 64.0) / 52.0);
        let eye = |cx: f64| ((x as f64 - cx).powi(2) + (y as f64 - 50.0).powi(2)).sqrt() < 7.0;
        let mouth = (48..80).contains(&x) && (86..94).contains(&y);
        let v = if eye(48.0) || eye(80.0) || mouth {
            40.0
        } else if fx * fx + fy * fy <= 1.0 {
            210.0 - 30.0 * fy
        } else {
            110.0
        };
        let l = (v * gain + lift).round().clamp(0.0, 255.0) as u8;
        Rgb([l, (f64::from(l) * 0.85) as u8, (f64::from(l) * 0.7) as u8])
    })
}

fn face_box() -> Detection {
    Detection {
        bbox: crate::BBox::new(24.0, 12.0, 104.0, 116.0),
        score: 0.9,
    }
}

fn covered(img: &RgbImage, grain: Grain) -> bool {
    let (noise, solid) = cover(img, &fill::fill_map(img, grain), &face_box());
    on_mask(noise, solid)
}

fn through_jpeg(img: &RgbImage) -> RgbImage {
    let j = codec::encode(img, None, Format::Jpeg, None, &Default::default()).unwrap();
    codec::decode(&j, &Default::default()).unwrap().image
}

/// The pictures the old 3x3 test took for fills (issue 22): a face that is
/// dark, grainy or very smooth is a face, stored exactly or as a JPEG.
#[test]
fn dark_grainy_and_smooth_faces_are_not_fills() {
    let mut next = random(11);
    let mut grainy = face(0.5, 64.0);
    for p in grainy.pixels_mut() {
        for c in p.0.iter_mut() {
            let n = (next() % 201) as i32 - 100;
            *c = (i32::from(*c) + n).clamp(0, 255) as u8;
        }
    }
    let mut next = random(12);
    let mut grey_grain = face(1.0, 0.0);
    for p in grey_grain.pixels_mut() {
        let n = (next() % 161) as i32 - 80;
        for c in p.0.iter_mut() {
            *c = (i32::from(*c) + n).clamp(0, 255) as u8;
        }
    }
    let smooth = image::imageops::blur(&face(1.0, 0.0), 6.0);
    let cases = [
        ("dark", face(0.03, 0.0)),
        ("very dark", face(0.015, 0.0)),
        ("blown out", face(3.0, 0.0)),
        ("blown out, nearly gone", face(6.0, 0.0)),
        ("grainy", grainy),
        ("grey grain", grey_grain),
        ("smooth", smooth),
    ];
    for (what, img) in cases {
        assert!(!covered(&img, Grain::Lossless), "{what}");
        assert!(!covered(&img, Grain::Lossy), "{what}, as if lossy");
        assert!(!covered(&through_jpeg(&img), Grain::Lossy), "{what}, JPEG");
    }
}

#[test]
fn blindfold_fills_are_fills() {
    let mut next = random(7);
    let noise = RgbImage::from_fn(128, 128, |_, _| {
        let x = next();
        Rgb([x as u8, (x >> 8) as u8, (x >> 16) as u8])
    });
    assert!(covered(&noise, Grain::Lossless));
    assert!(covered(&through_jpeg(&noise), Grain::Lossy));
    let black = RgbImage::from_pixel(128, 128, Rgb([0, 0, 0]));
    assert!(covered(&black, Grain::Lossless));
    assert!(covered(&through_jpeg(&black), Grain::Lossy));
    // A fill drawn over a face by the anonymiser, on a photo.
    let masks = masks_for(&[face_box()], &MaskSpec::default());
    for mode in [crate::anonymize::Mode::Noise, crate::anonymize::Mode::Solid] {
        let mut img = face(1.0, 0.0);
        crate::anonymize::apply(&mut img, &masks, mode, 5);
        assert!(covered(&img, Grain::Lossless), "{mode:?}");
        assert!(covered(&through_jpeg(&img), Grain::Lossy), "{mode:?}, JPEG");
    }
}

#[test]
fn a_face_on_a_flat_backdrop_is_not_a_fill() {
    // The box is mostly backdrop; its middle is the face.
    let studio = RgbImage::from_fn(128, 128, |x, y| {
        if (44..84).contains(&x) && (40..90).contains(&y) {
            Rgb([(100 + x) as u8, (80 + y) as u8, 70])
        } else {
            Rgb([255, 255, 255])
        }
    });
    assert!(!covered(&studio, Grain::Lossless));
}

#[test]
fn lossy_webp_is_told_from_lossless() {
    let img = face(1.0, 0.0);
    let png = codec::encode(&img, None, Format::Png, None, &Default::default()).unwrap();
    assert_eq!(Grain::of(&png, Format::Png), Grain::Lossless);
    let webp = codec::encode(&img, None, Format::Webp, None, &Default::default()).unwrap();
    assert_eq!(Grain::of(&webp, Format::Webp), Grain::Lossless);
    let mut lossy = webp.clone();
    lossy[12..16].copy_from_slice(b"VP8 ");
    assert_eq!(Grain::of(&lossy, Format::Webp), Grain::Lossy);
    assert_eq!(Grain::of(b"", Format::Jpeg), Grain::Lossy);
}

/// A candidate half beside a noise fill: a finding only when the detector
/// still sees it once the noise is flat grey.
#[test]
fn a_candidate_made_by_a_fills_edge_is_not_a_finding() {
    // A smooth picture with a noise mask over its top half.
    let mut img = RgbImage::from_fn(160, 160, |x, y| {
        Rgb([(60 + x / 2) as u8, (90 + y / 3) as u8, 120])
    });
    let mask = masks_for(
        &[Detection {
            bbox: crate::BBox::new(50.0, 10.0, 110.0, 70.0),
            score: 0.9,
        }],
        &MaskSpec::default(),
    );
    crate::anonymize::apply(&mut img, &mask, crate::anonymize::Mode::Noise, 3);
    // Below the mask, overlapping its lower edge.
    let below = crate::BBox::new(55.0, 70.0, 105.0, 130.0);
    struct Sees {
        bbox: crate::BBox,
        only_with_noise: bool,
    }
    impl FaceDetector for Sees {
        fn backend_name(&self) -> &str {
            "sees"
        }
        fn detect(&mut self, image: &RgbImage) -> Result<Vec<Detection>, Error> {
            // Noise in the picture: some pixel far from its neighbour.
            let noisy = image
                .pixels()
                .zip(image.pixels().skip(1))
                .any(|(a, b)| a.0[0].abs_diff(b.0[0]) > 100);
            if self.only_with_noise && !noisy {
                return Ok(Vec::new());
            }
            // The box in this picture's coordinates: the whole picture or a
            // crop around the box.
            let (w, h) = image.dimensions();
            let bbox = match (w, h) {
                (160, 160) => self.bbox,
                _ => {
                    let a = self.bbox.grow(1.0).clip(160, 160);
                    self.bbox.translate(-a.x0.floor(), -a.y0.floor())
                }
            };
            Ok(vec![Detection { bbox, score: 0.4 }])
        }
    }
    let (noise, _) = cover(
        &img,
        &fill::fill_map(&img, Grain::Lossless),
        &Detection {
            bbox: below,
            score: 0.4,
        },
    );
    assert!((0.1..0.5).contains(&noise), "{noise}");
    for (only_with_noise, finding) in [(true, false), (false, true)] {
        let mut found = Faces::default();
        let mut det = Sees {
            bbox: below,
            only_with_noise,
        };
        found
            .look(&img, "rgb", Grain::Lossless, &mut det, 0.0)
            .unwrap();
        assert_eq!(found.faces.len(), usize::from(finding), "{found:?}");
        assert_eq!(found.masked.len(), usize::from(!finding), "{found:?}");
    }
}

#[test]
fn a_lossless_jpeg_changes_nothing_outside_the_mcus_it_replaced() {
    // Dark (the test detector finds bright blobs), with some texture.
    let img = RgbImage::from_fn(96, 64, |x, y| {
        Rgb([((x * 5 + y * 3) % 90) as u8, ((x * y) % 70) as u8, 40])
    });
    let orig = codec::encode(&img, None, Format::Jpeg, None, &Default::default()).unwrap();
    let mask = Mask {
        shape: crate::anonymize::Shape::Ellipse,
        bbox: crate::BBox::new(20.0, 20.0, 44.0, 40.0),
    };
    let out = codec::dct::edit(&orig, &[mask], crate::anonymize::Mode::Noise, 3, None)
        .unwrap()
        .bytes;
    let replaced = codec::dct::replaced(&orig, &out).unwrap();
    // MCUs of 16 px: columns 1..=2, rows 1..=2.
    let at = |x: usize, y: usize| replaced[y * 96 + x];
    assert!(at(16, 16) && at(47, 47) && !at(15, 16) && !at(48, 30) && !at(30, 48));
    assert_eq!(check(&out, Some(&orig)).changed_outside_masks, Some(0.0));
    // An MCU replaced by something that is no fill (the picture inverted)
    // is still outside nothing: only its own pixels changed.
    let inverted = codec::dct::invert_mcu(&orig, 4, 2);
    let a = check(&inverted, Some(&orig));
    assert_eq!(a.changed_outside_masks, Some(0.0), "{a:?}");
    // A re-encoded output is not read as an edit of the original.
    let q80 = codec::EncodeOptions {
        jpeg_quality: 80,
        ..Default::default()
    };
    let other = codec::encode(&img, None, Format::Jpeg, None, &q80).unwrap();
    assert!(codec::dct::replaced(&orig, &other).is_none());
}
