use super::*;
use crate::BBox;
use crate::metadata::testdata::png_chunk as chunk;
use image::{GrayImage, Luma, Rgb, RgbImage};

/// A fake detector: a "face" is a bright blob (luma over 128) covering
/// less than half of a dark picture; its box is the blob's bounding box.
pub(crate) struct BrightBlob;

impl FaceDetector for BrightBlob {
    fn backend_name(&self) -> &str {
        "bright-blob"
    }
    fn detect(&mut self, image: &RgbImage) -> Result<Vec<Detection>, Error> {
        let (mut x0, mut y0, mut x1, mut y1, mut n) = (u32::MAX, u32::MAX, 0, 0, 0u64);
        for (x, y, p) in image.enumerate_pixels() {
            let l = (u32::from(p[0]) + u32::from(p[1]) + u32::from(p[2])) / 3;
            if l > 128 {
                (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x + 1), y1.max(y + 1));
                n += 1;
            }
        }
        let total = u64::from(image.width()) * u64::from(image.height());
        if n == 0 || n * 2 >= total {
            return Ok(Vec::new());
        }
        let bbox = BBox::new(x0 as f32, y0 as f32, x1 as f32, y1 as f32);
        Ok(vec![Detection { bbox, score: 0.9 }])
    }
}

/// Black RGB everywhere; the alpha is transparent but for a square "face"
/// (a gradient, so its pixels are the input's own) at 24..40.
pub(crate) fn face_in_alpha() -> (RgbImage, GrayImage) {
    let rgb = RgbImage::from_pixel(64, 64, Rgb([0, 0, 0]));
    let alpha = GrayImage::from_fn(64, 64, |x, y| {
        if (24..40).contains(&x) && (24..40).contains(&y) {
            Luma([(150 + (x - 24) * 4 + (y - 24) * 2) as u8])
        } else {
            Luma([0])
        }
    });
    (rgb, alpha)
}

fn run(input: &[u8], opts: &Options) -> Outcome {
    process(input, &mut BrightBlob, opts, false, &|| 0.0).unwrap()
}

#[test]
fn a_face_only_in_the_alpha_is_found_and_its_alpha_overwritten() {
    let (rgb, alpha) = face_in_alpha();
    // The fake sees nothing in the RGB alone: only the alpha holds the face.
    assert!(BrightBlob.detect(&rgb).unwrap().is_empty());
    for format in [Format::Png, Format::Webp, Format::Tiff] {
        let input = codec::encode(&rgb, Some(&alpha), format, None, &Default::default()).unwrap();
        let out = run(&input, &Options::default());
        assert_eq!(out.faces.len(), 1, "{format:?}");
        let back = codec::decode(&out.bytes, &Default::default()).unwrap();
        let a = back.alpha.expect("alpha kept");
        for m in out.faces.iter().map(|f| f.mask) {
            for y in m.rows(64) {
                for x in m.row_span(y, 64) {
                    assert_eq!(a.get_pixel(x, y)[0], 255, "{format:?} alpha at {x},{y}");
                }
            }
        }
        // Every pixel of the hidden face lies inside the mask.
        for y in 24..40 {
            for x in 24..40 {
                assert_eq!(a.get_pixel(x, y)[0], 255);
            }
        }
        // Outside the masks the alpha is untouched.
        assert_eq!(a.get_pixel(2, 2)[0], 0);
    }
}

#[test]
fn a_face_masked_in_rgb_is_masked_in_alpha_too() {
    // A normal picture whose alpha holds its brightness.
    let rgb = RgbImage::from_fn(64, 64, |x, y| {
        if (24..40).contains(&x) && (24..40).contains(&y) {
            Rgb([200, 180, 160])
        } else {
            Rgb([10, 10, 10])
        }
    });
    let alpha = GrayImage::from_fn(64, 64, |x, y| Luma([rgb.get_pixel(x, y)[0]]));
    let input = codec::encode(&rgb, Some(&alpha), Format::Png, None, &Default::default()).unwrap();
    let out = run(&input, &Options::default());
    assert_eq!(out.faces.len(), 1);
    let back = codec::decode(&out.bytes, &Default::default()).unwrap();
    let a = back.alpha.unwrap();
    for y in 24..40 {
        for x in 24..40 {
            assert_eq!(a.get_pixel(x, y)[0], 255);
        }
    }
}

#[test]
fn opaque_alpha_runs_the_detector_once() {
    struct Count(usize);
    impl FaceDetector for Count {
        fn backend_name(&self) -> &str {
            "count"
        }
        fn detect(&mut self, _: &RgbImage) -> Result<Vec<Detection>, Error> {
            self.0 += 1;
            Ok(Vec::new())
        }
    }
    let rgb = RgbImage::new(64, 64);
    let opaque = GrayImage::from_pixel(64, 64, Luma([255]));
    let input = codec::encode(&rgb, Some(&opaque), Format::Png, None, &Default::default()).unwrap();
    let mut c = Count(0);
    process(&input, &mut c, &Options::default(), true, &|| 0.0).unwrap();
    assert_eq!(c.0, 1);
    let (_, alpha) = face_in_alpha();
    let input = codec::encode(&rgb, Some(&alpha), Format::Png, None, &Default::default()).unwrap();
    let mut c = Count(0);
    process(&input, &mut c, &Options::default(), true, &|| 0.0).unwrap();
    assert_eq!(c.0, 4);
}

#[test]
fn a_hostile_icc_profile_comes_out_as_colour_data_only() {
    use crate::icc::testdata::{PLANTED, contains, profile};
    let img = RgbImage::from_pixel(16, 16, Rgb([20, 30, 40]));
    let hostile = profile(true);
    for format in [Format::Jpeg, Format::Png, Format::Webp, Format::Tiff] {
        let input = codec::encode(&img, None, format, Some(&hostile), &Default::default()).unwrap();
        // PNG compresses its profile: look at the decoded one.
        let icc_in = codec::decode(&input, &Default::default()).unwrap().icc;
        assert_eq!(icc_in.as_deref(), Some(&hostile[..]), "{format:?}");
        let out = run(&input, &Options::default());
        assert_eq!(out.icc, IccAction::TextRemoved, "{format:?}");
        assert_eq!(out.metadata_removed, vec!["icc-text"]);
        assert_eq!(out.metadata_kept, vec!["icc"]);
        for t in PLANTED {
            assert!(!contains(&out.bytes, t), "{format:?}");
        }
        let back = codec::decode(&out.bytes, &Default::default()).unwrap();
        for t in PLANTED {
            assert!(!contains(back.icc.as_deref().unwrap(), t), "{format:?}");
        }
        let want = match icc::sanitize(&hostile) {
            Sanitized::Rebuilt { profile, .. } => profile,
            Sanitized::Dropped(w) => panic!("{w}"),
        };
        assert_eq!(back.icc.as_deref(), Some(&want[..]), "{format:?}");

        // As is, on request only.
        let mut opts = Options::default();
        opts.encode.keep_icc_as_is = true;
        let out = run(&input, &opts);
        assert_eq!(out.icc, IccAction::AsIs);
        let back = codec::decode(&out.bytes, &Default::default()).unwrap();
        assert_eq!(back.icc.as_deref(), Some(&hostile[..]));
    }
}

#[test]
fn a_jpeg_stored_as_the_profile_is_dropped_and_reported() {
    let img = RgbImage::from_pixel(16, 16, Rgb([20, 30, 40]));
    let jpeg = codec::encode(&img, None, Format::Jpeg, None, &Default::default()).unwrap();
    for format in [Format::Jpeg, Format::Png, Format::Webp, Format::Tiff] {
        let input = codec::encode(&img, None, format, Some(&jpeg), &Default::default()).unwrap();
        let out = run(&input, &Options::default());
        assert_eq!(out.icc, IccAction::Unreadable, "{format:?}");
        assert_eq!(out.metadata_removed, vec!["icc"]);
        let back = codec::decode(&out.bytes, &Default::default()).unwrap();
        assert!(back.icc.is_none());
    }
}

/// An animated PNG: the still image as frame 1, and a second frame (the
/// same pixels, in `fdAT`).
fn apng() -> Vec<u8> {
    let img = RgbImage::from_pixel(8, 8, Rgb([10, 20, 30]));
    let png = codec::encode(&img, None, Format::Png, None, &Default::default()).unwrap();
    let ihdr_end = 8 + 12 + 13;
    let idat_at = png.windows(4).position(|w| w == b"IDAT").unwrap() - 4;
    let idat_len = u32::from_be_bytes(png[idat_at..idat_at + 4].try_into().unwrap()) as usize;
    let idat_data = &png[idat_at + 8..idat_at + 8 + idat_len];
    let fctl = |seq: u32| {
        let mut d = seq.to_be_bytes().to_vec();
        for v in [8u32, 8, 0, 0] {
            d.extend_from_slice(&v.to_be_bytes());
        }
        d.extend_from_slice(&[0, 1, 0, 10, 0, 0]);
        d
    };
    let mut out = png[..ihdr_end].to_vec();
    let mut actl = 2u32.to_be_bytes().to_vec();
    actl.extend_from_slice(&0u32.to_be_bytes());
    out.extend(chunk(b"acTL", &actl));
    out.extend(chunk(b"fcTL", &fctl(0)));
    out.extend_from_slice(&png[ihdr_end..idat_at + 12 + idat_len]);
    out.extend(chunk(b"fcTL", &fctl(1)));
    let mut fdat = 2u32.to_be_bytes().to_vec();
    fdat.extend_from_slice(idat_data);
    out.extend(chunk(b"fdAT", &fdat));
    out.extend(chunk(b"IEND", &[]));
    out
}

#[test]
fn every_animation_frame_is_written_unless_the_first_is_asked_for() {
    let input = apng();
    let out = run(&input, &Options::default());
    assert_eq!((out.frames, out.frames_dropped), (2, 0));
    assert!(!out.metadata_removed.contains(&"frames"));
    assert_eq!(metadata::frames(&out.bytes, Format::Png), 2);
    let playback = out.playback.expect("an animation");
    assert_eq!(playback.delays_ms, [100.0, 100.0]);
    assert_eq!(playback.loop_count, Some(0));
    let first = Options {
        first_frame: true,
        ..Options::default()
    };
    let out = run(&input, &first);
    assert_eq!((out.frames, out.frames_dropped), (1, 1));
    assert!(out.metadata_removed.contains(&"frames"));
    assert_eq!(metadata::frames(&out.bytes, Format::Png), 1);
    assert!(!metadata::scan(&out.bytes, Format::Png).frames);
    let still = codec::encode(
        &RgbImage::new(8, 8),
        None,
        Format::Png,
        None,
        &Default::default(),
    )
    .unwrap();
    assert_eq!(run(&still, &Options::default()).frames_dropped, 0);
}

#[test]
fn the_format_comes_from_the_content_not_the_name() {
    // The core never sees a file name: a PNG is read and written as PNG
    // whatever it was called.
    let img = RgbImage::from_pixel(8, 8, Rgb([10, 20, 30]));
    let png = codec::encode(&img, None, Format::Png, None, &Default::default()).unwrap();
    let out = run(&png, &Options::default());
    assert_eq!(out.format, Format::Png);
    assert_eq!(codec::sniff(&out.bytes), Some(Format::Png));
}

/// A two-page TIFF: the encoder's one page, and its directory copied after
/// it as a second page (same strips).
fn two_page_tiff() -> Vec<u8> {
    let img = RgbImage::from_pixel(8, 8, Rgb([10, 20, 30]));
    let mut tiff = codec::encode(&img, None, Format::Tiff, None, &Default::default()).unwrap();
    assert_eq!(&tiff[..4], b"II*\0", "little-endian TIFF");
    let u32_at = |b: &[u8], at: usize| u32::from_le_bytes(b[at..at + 4].try_into().unwrap());
    let ifd = u32_at(&tiff, 4) as usize;
    let count = u16::from_le_bytes([tiff[ifd], tiff[ifd + 1]]) as usize;
    let next_at = ifd + 2 + 12 * count;
    assert_eq!(u32_at(&tiff, next_at), 0, "one page to start with");
    let mut copy = tiff[ifd..next_at + 4].to_vec();
    if tiff.len() % 2 == 1 {
        tiff.push(0);
    }
    let second = tiff.len() as u32;
    tiff[next_at..next_at + 4].copy_from_slice(&second.to_le_bytes());
    let n = copy.len();
    copy[n - 4..].copy_from_slice(&0u32.to_le_bytes());
    tiff.extend(copy);
    tiff
}

/// A RIFF chunk: four-character code, little-endian size, data, padding.
fn riff_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut c = kind.to_vec();
    c.extend((data.len() as u32).to_le_bytes());
    c.extend_from_slice(data);
    if data.len() % 2 == 1 {
        c.push(0);
    }
    c
}

/// An animated WebP of two frames, each the encoder's lossless 8x8 image.
fn animated_webp() -> Vec<u8> {
    let img = RgbImage::from_pixel(8, 8, Rgb([10, 20, 30]));
    let webp = codec::encode(&img, None, Format::Webp, None, &Default::default()).unwrap();
    let at = webp
        .windows(4)
        .position(|w| w == b"VP8L")
        .expect("lossless");
    let len = u32::from_le_bytes(webp[at + 4..at + 8].try_into().unwrap()) as usize;
    let frame = riff_chunk(b"VP8L", &webp[at + 8..at + 8 + len]);
    let three = |v: u32| v.to_le_bytes()[..3].to_vec();
    let mut vp8x = vec![0x02, 0, 0, 0]; // animation
    vp8x.extend(three(7));
    vp8x.extend(three(7));
    let mut body = b"WEBP".to_vec();
    body.extend(riff_chunk(b"VP8X", &vp8x));
    body.extend(riff_chunk(b"ANIM", &[0, 0, 0, 0, 0, 0]));
    for _ in 0..2 {
        let mut anmf = [three(0), three(0), three(7), three(7), three(100)].concat();
        anmf.push(0);
        anmf.extend_from_slice(&frame);
        body.extend(riff_chunk(b"ANMF", &anmf));
    }
    let mut out = b"RIFF".to_vec();
    out.extend((body.len() as u32).to_le_bytes());
    out.extend(body);
    out
}

#[test]
fn every_page_and_webp_frame_is_written_unless_the_first_is_asked_for() {
    let first = Options {
        first_frame: true,
        ..Options::default()
    };
    for (name, input, format) in [
        ("tiff", two_page_tiff(), Format::Tiff),
        ("webp", animated_webp(), Format::Webp),
    ] {
        assert_eq!(metadata::frames(&input, format), 2, "{name}");
        let out = run(&input, &Options::default());
        assert_eq!(out.format, format, "{name}");
        assert_eq!((out.frames, out.frames_dropped), (2, 0), "{name}");
        assert!(!out.metadata_removed.contains(&"frames"), "{name}");
        assert!(!out.metadata_removed.contains(&"thumbnail"), "{name}");
        assert_eq!(metadata::frames(&out.bytes, format), 2, "{name}");
        let out = run(&input, &first);
        assert_eq!(out.format, format, "{name}");
        assert_eq!(out.frames_dropped, 1, "{name}");
        assert!(out.metadata_removed.contains(&"frames"), "{name}");
        assert_eq!(metadata::frames(&out.bytes, format), 1, "{name}");
    }
}
