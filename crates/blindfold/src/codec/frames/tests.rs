use super::*;
use crate::metadata::testdata::crc32;
use image::Rgb;

/// `n` frames of `w` x `h`, frame `i` a flat colour with a white square at
/// `(4 + 2i, 4)`, showing `100 * (i + 1)` ms.
pub(crate) fn frames(n: usize, w: u32, h: u32) -> Vec<Frame> {
    (0..n)
        .map(|i| Frame {
            image: RgbImage::from_fn(w, h, |x, y| {
                let sx = 4 + 2 * i as u32;
                if (sx..sx + 8).contains(&x) && (4..12).contains(&y) {
                    Rgb([255, 255, 255])
                } else {
                    Rgb([20 * i as u8, 40, 200 - 30 * i as u8])
                }
            }),
            alpha: None,
            icc: None,
            delay: (100 * (i as u32 + 1), 1),
        })
        .collect()
}

/// An animation of `frames(3, 32, 24)` as `format`, looping `loops` times.
pub(crate) fn animation(format: Format, loops: Option<u32>) -> Vec<u8> {
    let seq = Sequence::new(
        format,
        frames(3, 32, 24),
        Some(Animation { loop_count: loops }),
    );
    encode_all(&seq, &EncodeOptions::default()).unwrap()
}

fn close(a: &RgbImage, b: &RgbImage, tolerance: u8) -> bool {
    a.dimensions() == b.dimensions()
        && a.as_raw()
            .iter()
            .zip(b.as_raw())
            .all(|(p, q)| p.abs_diff(*q) <= tolerance)
}

#[test]
fn animations_keep_every_frame_and_their_timing() {
    for (format, loops, tolerance) in [
        (Format::Gif, Some(0), 8),
        (Format::Gif, None, 8),
        (Format::Png, Some(2), 0),
        (Format::Webp, Some(3), 0),
    ] {
        let bytes = animation(format, loops);
        assert_eq!(super::super::sniff(&bytes), Some(format));
        assert!(is_sequence(&bytes), "{format:?}");
        let back = decode_all(&bytes, &DecodeOptions::default()).unwrap();
        assert_eq!(back.format, format);
        assert_eq!(back.frames.len(), 3, "{format:?}");
        assert_eq!(back.animation, Some(Animation { loop_count: loops }));
        assert_eq!(back.skipped, 0);
        for (i, (a, b)) in back.frames.iter().zip(frames(3, 32, 24)).enumerate() {
            assert!(close(&a.image, &b.image, tolerance), "{format:?} frame {i}");
            assert_eq!(a.delay_ms(), b.delay_ms(), "{format:?} frame {i}");
            assert!(a.alpha.is_none());
        }
    }
}

#[test]
fn a_gif_patch_is_composited_over_the_frame_before() {
    // Frame 1: all red. Frame 2: a 2x2 blue patch at (1, 1), kept over it.
    let mut bytes = Vec::new();
    {
        let mut enc = ::gif::Encoder::new(&mut bytes, 4, 4, &[]).unwrap();
        let mut red = [255u8, 0, 0, 255].repeat(16);
        let mut f = ::gif::Frame::from_rgba(4, 4, &mut red);
        f.dispose = ::gif::DisposalMethod::Keep;
        enc.write_frame(&f).unwrap();
        let mut blue = [0u8, 0, 255, 255].repeat(4);
        let mut f = ::gif::Frame::from_rgba(2, 2, &mut blue);
        (f.left, f.top) = (1, 1);
        enc.write_frame(&f).unwrap();
    }
    let seq = decode_all(&bytes, &DecodeOptions::default()).unwrap();
    assert_eq!(seq.frames.len(), 2);
    let second = &seq.frames[1].image;
    assert_eq!(second.dimensions(), (4, 4));
    assert_eq!(second.get_pixel(0, 0), &Rgb([255, 0, 0]));
    assert_eq!(second.get_pixel(1, 1), &Rgb([0, 0, 255]));
    // Written back, every frame is the whole canvas: the same pictures.
    let again = decode_all(
        &encode_all(&seq, &Default::default()).unwrap(),
        &Default::default(),
    );
    let again = again.unwrap();
    for (a, b) in again.frames.iter().zip(&seq.frames) {
        assert!(close(&a.image, &b.image, 0));
    }
}

#[test]
fn a_transparent_pixel_shows_no_earlier_frame() {
    // Frame 2 is transparent where frame 1 had its white square: written
    // back, frame 2 must not show frame 1's pixels there.
    let mut f = frames(2, 32, 24);
    let mut alpha = GrayImage::from_pixel(32, 24, image::Luma([255]));
    for y in 4..12 {
        for x in 4..12 {
            alpha.put_pixel(x, y, image::Luma([0]));
        }
    }
    f[1].alpha = Some(alpha);
    f[0].alpha = Some(GrayImage::from_pixel(32, 24, image::Luma([255])));
    for format in [Format::Gif, Format::Png, Format::Webp] {
        let looping = Some(Animation {
            loop_count: Some(0),
        });
        let seq = Sequence::new(format, f.clone(), looping);
        let back = decode_all(
            &encode_all(&seq, &Default::default()).unwrap(),
            &Default::default(),
        )
        .unwrap();
        let a = back.frames[1].alpha.as_ref().expect("alpha kept");
        assert_eq!(a.get_pixel(6, 6)[0], 0, "{format:?}: frame 1 shows through");
    }
}

#[test]
fn tiff_pages_are_each_kept() {
    let mut pages = frames(2, 32, 24);
    pages[1].image = image::imageops::resize(
        &pages[1].image,
        20,
        30,
        image::imageops::FilterType::Nearest,
    );
    for p in &mut pages {
        p.delay = (0, 1);
    }
    let seq = Sequence::new(Format::Tiff, pages.clone(), None);
    let bytes = encode_all(&seq, &Default::default()).unwrap();
    assert!(is_sequence(&bytes));
    let back = decode_all(&bytes, &Default::default()).unwrap();
    assert_eq!(back.frames.len(), 2);
    assert!(back.animation.is_none());
    for (a, b) in back.frames.iter().zip(&pages) {
        assert!(close(&a.image, &b.image, 0));
    }
    // The first page alone is a still TIFF, read the old way.
    let first = super::super::encode(
        &pages[0].image,
        None,
        Format::Tiff,
        None,
        &Default::default(),
    )
    .unwrap();
    assert!(!is_sequence(&first));
}

#[test]
fn the_pixel_limit_counts_every_frame() {
    for format in [Format::Gif, Format::Png, Format::Webp] {
        let bytes = animation(format, Some(0));
        // One frame is 768 pixels, all three 2304.
        let fits = DecodeOptions {
            max_pixels: 2304,
            ..Default::default()
        };
        decode_all(&bytes, &fits).unwrap();
        let over = DecodeOptions {
            max_pixels: 2303,
            ..Default::default()
        };
        let err = decode_all(&bytes, &over).unwrap_err();
        assert!(
            matches!(err, Error::TooLarge { pixels: 2304, .. }),
            "{format:?}: {err}"
        );
    }
    let mut pages = frames(2, 32, 24);
    pages[1].delay = (0, 1);
    let seq = Sequence::new(Format::Tiff, pages, None);
    let bytes = encode_all(&seq, &Default::default()).unwrap();
    let over = DecodeOptions {
        max_pixels: 1535,
        ..Default::default()
    };
    assert!(matches!(
        decode_all(&bytes, &over),
        Err(Error::TooLarge { pixels: 1536, .. })
    ));
}

#[test]
fn a_cut_animation_fails_whole() {
    for format in [Format::Gif, Format::Png, Format::Webp] {
        let bytes = animation(format, Some(0));
        for cut in [bytes.len() - 1, bytes.len() * 2 / 3, bytes.len() / 3] {
            let err = decode_all(&bytes[..cut], &Default::default());
            assert!(
                matches!(err, Err(Error::Decode(_))),
                "{format:?} cut at {cut}: {:?}",
                err.map(|s| s.frames.len())
            );
        }
    }
}

#[test]
fn an_apng_holding_fewer_frames_than_it_announces_fails() {
    let mut bytes = animation(Format::Png, Some(0));
    // acTL's frame count: 3 -> 4.
    let at = bytes.windows(4).position(|w| w == b"acTL").unwrap();
    bytes[at + 7] = 4;
    let crc = crc32(&bytes[at..at + 12]);
    bytes[at + 12..at + 16].copy_from_slice(&crc.to_be_bytes());
    let err = decode_all(&bytes, &Default::default()).unwrap_err();
    assert!(err.to_string().contains("announces 4 frames"), "{err}");
}

#[test]
fn at_most_max_frames_are_read() {
    check_total(1, 1, MAX_FRAMES, &DecodeOptions::default()).unwrap();
    let err = check_total(1, 1, MAX_FRAMES + 1, &DecodeOptions::default()).unwrap_err();
    assert!(err.to_string().contains("more than the 10000"), "{err}");
}
