use super::*;
use crate::metadata::testdata::{self, Rng};
use crate::metadata::{Found, scan};

const ALL: [Format; 5] = [
    Format::Jpeg,
    Format::Png,
    Format::Webp,
    Format::Tiff,
    Format::Bmp,
];

/// A smooth gradient with a bright square: compresses well, checks geometry.
fn picture(w: u32, h: u32) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| {
        let inside = (w / 4..w / 2).contains(&x) && (h / 4..h / 2).contains(&y);
        if inside {
            image::Rgb([250, 250, 40])
        } else {
            image::Rgb([(x * 255 / w) as u8, (y * 255 / h) as u8, 90])
        }
    })
}

fn noise(w: u32, h: u32, seed: u64) -> RgbImage {
    let mut rng = Rng(seed);
    RgbImage::from_fn(w, h, |_, _| {
        let v = rng.next();
        image::Rgb([v as u8, (v >> 8) as u8, (v >> 16) as u8])
    })
}

fn alpha(w: u32, h: u32) -> GrayImage {
    GrayImage::from_fn(w, h, |x, y| image::Luma([((x + y) * 7 % 256) as u8]))
}

pub(super) fn mean_abs_diff(a: &RgbImage, b: &RgbImage) -> f64 {
    let sum: u64 = a
        .as_raw()
        .iter()
        .zip(b.as_raw())
        .map(|(x, y)| u64::from(x.abs_diff(*y)))
        .sum();
    sum as f64 / a.as_raw().len() as f64
}

fn enc(img: &RgbImage, format: Format) -> Vec<u8> {
    encode(img, None, format, None, &EncodeOptions::default()).unwrap()
}

fn dec(bytes: &[u8]) -> Result<Decoded, Error> {
    decode(bytes, &DecodeOptions::default())
}

#[test]
fn sniff_knows_each_format_and_nothing_else() {
    let img = picture(8, 8);
    for f in ALL {
        assert_eq!(sniff(&enc(&img, f)), Some(f), "{f:?}");
    }
    assert_eq!(sniff(b"GIF89a......................"), Some(Format::Gif));
    assert_eq!(sniff(b"GIF90a......................"), None);
    assert_eq!(sniff(b""), None);
    assert!(matches!(dec(b"hello world"), Err(Error::Decode(_))));
}

#[test]
fn round_trip_every_format() {
    // Odd sizes exercise JPEG's partial MCUs and row padding in BMP.
    let img = picture(67, 45);
    for f in ALL {
        let back = dec(&enc(&img, f)).unwrap();
        assert_eq!(back.format, f);
        assert_eq!(back.image.dimensions(), (67, 45), "{f:?}");
        assert_eq!(back.orientation, 1);
        assert!(back.alpha.is_none(), "{f:?}");
        if f == Format::Jpeg {
            let d = mean_abs_diff(&back.image, &img);
            assert!(d < 3.0, "JPEG differs by {d} on average");
        } else {
            assert_eq!(back.image, img, "{f:?} is lossless");
        }
    }
}

#[test]
fn alpha_round_trips_where_the_format_has_it() {
    let (img, a) = (picture(20, 11), alpha(20, 11));
    for f in [Format::Png, Format::Webp, Format::Tiff, Format::Bmp] {
        let bytes = encode(&img, Some(&a), f, None, &EncodeOptions::default()).unwrap();
        let back = dec(&bytes).unwrap();
        assert_eq!(back.alpha.as_ref(), Some(&a), "{f:?}");
        assert_eq!(back.image, img, "{f:?}");
    }
    let jpeg = encode(
        &img,
        Some(&a),
        Format::Jpeg,
        None,
        &EncodeOptions::default(),
    )
    .unwrap();
    assert!(dec(&jpeg).unwrap().alpha.is_none());
    let wrong = alpha(3, 3);
    assert!(matches!(
        encode(
            &img,
            Some(&wrong),
            Format::Png,
            None,
            &EncodeOptions::default()
        ),
        Err(Error::Encode(_))
    ));
}

#[test]
fn jpeg_quality_changes_the_size() {
    let img = noise(64, 64, 7);
    let at = |q| {
        let o = EncodeOptions {
            jpeg_quality: q,
            ..Default::default()
        };
        encode(&img, None, Format::Jpeg, None, &o).unwrap().len()
    };
    assert!(at(30) < at(95));
}

#[test]
fn icc_is_kept_when_given_and_absent_otherwise() {
    let icc: Vec<u8> = (0..3000u32).map(|i| (i * 31 % 251) as u8).collect();
    let img = picture(16, 16);
    for f in [Format::Jpeg, Format::Png, Format::Webp, Format::Tiff] {
        let with = encode(&img, None, f, Some(&icc), &EncodeOptions::default()).unwrap();
        assert_eq!(dec(&with).unwrap().icc.as_deref(), Some(&icc[..]), "{f:?}");
        assert!(scan(&with, f).icc, "{f:?}");
        let without = enc(&img, f);
        assert_eq!(dec(&without).unwrap().icc, None, "{f:?}");
        assert!(!scan(&without, f).icc, "{f:?}");
    }
}

#[test]
fn outputs_carry_no_metadata() {
    let img = picture(24, 24);
    for f in ALL {
        for a in [None, Some(alpha(24, 24))] {
            let out = encode(&img, a.as_ref(), f, None, &EncodeOptions::default()).unwrap();
            assert_eq!(scan(&out, f), Found::default(), "{f:?}");
        }
    }
}

#[test]
fn jpeg_with_every_kind_of_metadata_is_cleaned() {
    let icc = vec![7u8; 500];
    let base = encode(
        &picture(32, 32),
        None,
        Format::Jpeg,
        Some(&icc),
        &Default::default(),
    );
    let input = testdata::jpeg_with(&base.unwrap(), &testdata::identifying_segments());
    let found = scan(&input, Format::Jpeg);
    let want = Found {
        exif: true,
        gps: true,
        serial: true,
        maker_note: true,
        datetime: true,
        thumbnail: true,
        xmp: true,
        iptc: true,
        comment: true,
        other: false,
        icc: true,
        frames: false,
        auxiliary: false,
    };
    assert_eq!(found, want);

    let d = dec(&input).unwrap();
    assert_eq!(d.icc.as_deref(), Some(&icc[..]));
    let kept = encode(
        &d.image,
        None,
        d.format,
        d.icc.as_deref(),
        &Default::default(),
    )
    .unwrap();
    let f = scan(&kept, Format::Jpeg);
    assert!(f.identifying().is_empty(), "{:?}", f.identifying());
    assert!(f.icc);
    let dropped = encode(&d.image, None, d.format, None, &Default::default()).unwrap();
    assert_eq!(scan(&dropped, Format::Jpeg), Found::default());
}

/// Left half red, right half blue, 32x16.
fn halves() -> RgbImage {
    RgbImage::from_fn(32, 16, |x, _| {
        if x < 16 {
            image::Rgb([255, 0, 0])
        } else {
            image::Rgb([0, 0, 255])
        }
    })
}

fn exif_orientation_6() -> Vec<u8> {
    testdata::exif_tiff(6, false)
}

#[test]
fn jpeg_orientation_6_is_applied() {
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&exif_orientation_6());
    let jpeg = testdata::jpeg_with(
        &enc(&halves(), Format::Jpeg),
        &[testdata::segment(0xE1, &app1)],
    );
    let d = dec(&jpeg).unwrap();
    assert_eq!(d.orientation, 6);
    assert_eq!(d.image.dimensions(), (16, 32));
    // Rotated 90 degrees clockwise: the left (red) half is now on top.
    let top = d.image.get_pixel(8, 4).0;
    let bottom = d.image.get_pixel(8, 27).0;
    assert!(top[0] > 200 && top[2] < 60, "{top:?}");
    assert!(bottom[2] > 200 && bottom[0] < 60, "{bottom:?}");
}

#[test]
fn jpeg_with_two_exif_blocks_takes_the_first_as_viewers_do() {
    let exif = |o: u16| {
        let mut app1 = b"Exif\0\0".to_vec();
        app1.extend_from_slice(&testdata::exif_tiff(o, false));
        testdata::segment(0xE1, &app1)
    };
    let jpeg = testdata::jpeg_with(&enc(&halves(), Format::Jpeg), &[exif(8), exif(6)]);
    let d = dec(&jpeg).unwrap();
    assert_eq!(d.orientation, 8);
    // Turned 90 degrees counter-clockwise: the left (red) half is at the bottom.
    let bottom = d.image.get_pixel(8, 27).0;
    assert!(bottom[0] > 200 && bottom[2] < 60, "{bottom:?}");
}

#[test]
fn png_orientation_6_is_applied_exactly() {
    let png = testdata::png_with(
        &enc(&halves(), Format::Png),
        &[testdata::png_chunk(b"eXIf", &exif_orientation_6())],
    );
    let d = dec(&png).unwrap();
    assert_eq!(d.orientation, 6);
    assert_eq!(d.image, image::imageops::rotate90(&halves()));
    // The output has no EXIF, so its upright pixels are read as they are.
    let out = enc(&d.image, Format::Png);
    assert_eq!(dec(&out).unwrap().image.dimensions(), (16, 32));
}

#[test]
fn truncated_files_are_refused() {
    let img = noise(96, 80, 3);
    for f in ALL {
        let full = enc(&img, f);
        let n = full.len();
        let cuts = (1..20).map(|i| n * i / 20).chain([n - 3, n - 2, n - 1]);
        for cut in cuts {
            match dec(&full[..cut]) {
                Err(Error::Decode(_)) => {}
                other => panic!("{f:?} cut at {cut}/{n}: {:?}", other.map(|d| d.format)),
            }
        }
    }
}

#[test]
fn jpeg_without_end_marker_is_refused() {
    let full = enc(&noise(64, 64, 5), Format::Jpeg);
    assert!(full.ends_with(&[0xFF, 0xD9]));
    assert!(matches!(
        dec(&full[..full.len() - 2]),
        Err(Error::Decode(_))
    ));
    assert!(dec(&full).is_ok());
}

#[test]
fn jpeg_cut_inside_its_data_and_closed_again_is_refused_unless_accepted() {
    let full = enc(&noise(64, 64, 5), Format::Jpeg);
    let sos = full.windows(2).position(|w| w == [0xFF, 0xDA]).unwrap();
    for frac in [2, 4, 8] {
        let cut = sos + 20 + (full.len() - sos - 22) / frac;
        let mut b = full[..cut].to_vec();
        b.extend_from_slice(&[0xFF, 0xD9]);
        match dec(&b) {
            Err(Error::Decode(m)) => assert!(m.contains("damaged"), "{m}"),
            other => panic!("cut at {cut}: {:?}", other.map(|d| d.damaged)),
        }
        let lenient = DecodeOptions {
            accept_damaged: true,
            ..Default::default()
        };
        let d = decode(&b, &lenient).unwrap();
        assert!(d.damaged.is_some());
    }
    assert!(dec(&full).unwrap().damaged.is_none());
}

#[test]
fn restart_markers_out_of_sequence_are_refused() {
    let img = noise(64, 64, 9);
    let mut full = Vec::new();
    let mut e = jpeg_encoder::Encoder::new(&mut full, 90);
    e.set_restart_interval(2);
    e.encode(img.as_raw(), 64, 64, jpeg_encoder::ColorType::Rgb)
        .unwrap();
    assert!(dec(&full).is_ok());
    let sos = full.windows(2).position(|w| w == [0xFF, 0xDA]).unwrap();
    let rst: Vec<usize> = (sos..full.len() - 1)
        .filter(|&i| full[i] == 0xFF && (0xD0..=0xD7).contains(&full[i + 1]))
        .collect();
    assert!(rst.len() >= 3);
    let mut swapped = full.clone();
    swapped.swap(rst[0] + 1, rst[1] + 1);
    assert!(matches!(dec(&swapped), Err(Error::Decode(_))));
    let mut dropped = full.clone();
    dropped.drain(rst[1]..rst[1] + 2);
    assert!(matches!(dec(&dropped), Err(Error::Decode(_))));
}

#[test]
fn over_the_pixel_limit_is_too_large() {
    let small = DecodeOptions {
        max_pixels: 100,
        ..Default::default()
    };
    for f in ALL {
        match decode(&enc(&picture(11, 10), f), &small) {
            Err(Error::TooLarge {
                width: 11,
                height: 10,
                pixels: 110,
                limit: 100,
            }) => {}
            other => panic!("{f:?}: {:?}", other.map(|d| d.format)),
        }
    }
}

#[test]
fn huge_headers_are_refused_before_allocating() {
    // Headers that claim 65000x65000 (4.2 gigapixels, 12 GB of RGB). Were the
    // buffer allocated first, this test would abort instead of passing.
    let jpeg = enc(&picture(8, 8), Format::Jpeg);
    let sof = jpeg.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
    let mut big = jpeg.clone();
    big[sof + 5..sof + 9].copy_from_slice(&[0xFD, 0xE8, 0xFD, 0xE8]);
    assert!(matches!(
        dec(&big),
        Err(Error::TooLarge {
            width: 65000,
            height: 65000,
            ..
        })
    ));

    let png = enc(&picture(8, 8), Format::Png);
    let mut ihdr = png[12..29].to_vec();
    ihdr[4..8].copy_from_slice(&65000u32.to_be_bytes());
    ihdr[8..12].copy_from_slice(&65000u32.to_be_bytes());
    let mut big = png[..8].to_vec();
    big.extend_from_slice(&testdata::png_chunk(b"IHDR", &ihdr[4..]));
    big.extend_from_slice(&png[33..]);
    assert!(matches!(
        dec(&big),
        Err(Error::TooLarge { width: 65000, .. })
    ));

    let bmp = enc(&picture(8, 8), Format::Bmp);
    let mut big = bmp.clone();
    big[18..22].copy_from_slice(&65000i32.to_le_bytes());
    big[22..26].copy_from_slice(&65000i32.to_le_bytes());
    assert!(matches!(dec(&big), Err(Error::TooLarge { .. })));
}

#[test]
fn sixteen_bit_and_grey_inputs_become_8_bit_rgb() {
    let img16 = image::ImageBuffer::<image::Rgb<u16>, _>::from_fn(5, 4, |x, y| {
        image::Rgb([(x * 10000) as u16, (y * 20000) as u16, 65535])
    });
    let mut png = Vec::new();
    image::DynamicImage::ImageRgb16(img16)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    let d = dec(&png).unwrap();
    assert_eq!(d.image.get_pixel(1, 2).0, [39, 156, 255]);

    let grey = image::GrayImage::from_fn(9, 9, |x, _| image::Luma([(x * 20) as u8]));
    let mut jpeg = Vec::new();
    let e = jpeg_encoder::Encoder::new(&mut jpeg, 95);
    e.encode(grey.as_raw(), 9, 9, jpeg_encoder::ColorType::Luma)
        .unwrap();
    let d = dec(&jpeg).unwrap();
    let p = d.image.get_pixel(5, 5).0;
    assert!(
        p[0].abs_diff(100) < 6 && p[0] == p[1] && p[1] == p[2],
        "{p:?}"
    );
}

#[test]
fn corrupted_files_never_panic() {
    let img = noise(40, 30, 11);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for f in ALL {
        let full = enc(&img, f);
        for _ in 0..60 {
            let mut b = full.clone();
            for _ in 0..1 + rng.next() % 8 {
                let i = (rng.next() % b.len() as u64) as usize;
                b[i] = rng.next() as u8;
            }
            let cut = (rng.next() % (b.len() as u64 + 1)) as usize;
            b.truncate(cut.max(b.len() / 2));
            let _ = dec(&b);
            let _ = scan(&b, f);
        }
    }
}
