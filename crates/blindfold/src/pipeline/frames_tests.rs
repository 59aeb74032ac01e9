//! Every frame and page through the pipeline (see `frames.rs`).

use super::tests::BrightBlob;
use super::*;
use crate::codec::frames::tests::{animation, frames};
use crate::codec::frames::{self as seqs, Animation, Sequence};
use crate::testing::ScriptedDetector;
use crate::{BBox, audit};

fn solid() -> Options {
    Options {
        mode: Mode::Solid,
        ..Options::default()
    }
}

/// Pixels brighter than the fake's threshold in the white square's place
/// in frame `i` of `frames(...)`.
fn bright_in_square(img: &image::RgbImage, i: usize) -> usize {
    let sx = 4 + 2 * i as u32;
    (4..12)
        .flat_map(|y| (sx..sx + 8).map(move |x| (x, y)))
        .filter(|&(x, y)| {
            let p = img.get_pixel(x, y);
            (u32::from(p[0]) + u32::from(p[1]) + u32::from(p[2])) / 3 > 128
        })
        .count()
}

fn two_pages() -> Vec<u8> {
    let mut pages = frames(2, 32, 24);
    for p in &mut pages {
        p.delay = (0, 1);
    }
    let seq = Sequence::new(Format::Tiff, pages, None);
    seqs::encode_all(&seq, &Default::default()).unwrap()
}

#[test]
fn every_frame_and_page_is_masked_and_written_with_its_timing() {
    for (format, input) in [
        (Format::Gif, animation(Format::Gif, Some(0))),
        (Format::Png, animation(Format::Png, Some(2))),
        (Format::Webp, animation(Format::Webp, Some(0))),
        (Format::Tiff, two_pages()),
    ] {
        let before = seqs::decode_all(&input, &Default::default()).unwrap();
        for (i, f) in before.frames.iter().enumerate() {
            assert_eq!(
                bright_in_square(&f.image, i),
                64,
                "{format:?} frame {i} fixture"
            );
        }
        let out = process(&input, &mut BrightBlob, &solid(), false, &|| 0.0).unwrap();
        let n = before.frames.len();
        assert_eq!(
            (out.format, out.frames, out.frames_dropped),
            (format, n as u32, 0)
        );
        let back = seqs::decode_all(&out.bytes, &Default::default()).unwrap();
        assert_eq!(back.frames.len(), n, "{format:?}");
        for (i, f) in back.frames.iter().enumerate() {
            assert_eq!(bright_in_square(&f.image, i), 0, "{format:?} frame {i}");
            assert!(out.faces.iter().any(|x| x.frame == Some(i as u32)));
        }
        assert_eq!(back.animation, before.animation, "{format:?}");
        match format {
            Format::Tiff => assert!(out.playback.is_none()),
            _ => assert_eq!(out.playback.unwrap().delays_ms, [100.0, 200.0, 300.0]),
        }
        // The output passes the audit, frame by frame; the input does not.
        let opts = audit::AuditOptions::default();
        let a = audit::audit(&out.bytes, &mut BrightBlob, None, &opts).unwrap();
        assert!(a.clean, "{format:?}: {a:?}");
        assert_eq!(a.frames, n as u32);
        let a = audit::audit(&input, &mut BrightBlob, None, &opts).unwrap();
        assert!(!a.clean);
        let frames: Vec<_> = a.found.faces.iter().map(|c| c.frame).collect();
        for i in 0..n {
            assert!(frames.contains(&Some(i as u32)), "{format:?} {frames:?}");
        }
    }
}

/// The white square's box in frame `i`.
fn square(i: u64) -> BBox {
    let x = 4.0 + 2.0 * i as f32;
    BBox::new(x, 4.0, x + 8.0, 12.0)
}

#[test]
fn a_face_the_detector_misses_in_one_frame_is_held_by_tracking() {
    let input = animation(Format::Gif, Some(0));
    // The detector sees the face in frames 0 and 2 only.
    let misses_1 = || {
        ScriptedDetector::new(|call, _| {
            Ok(if call == 1 {
                vec![]
            } else {
                vec![square(call)]
            })
        })
    };
    let out = process(&input, &mut misses_1(), &solid(), false, &|| 0.0).unwrap();
    let back = seqs::decode_all(&out.bytes, &Default::default()).unwrap();
    assert_eq!(bright_in_square(&back.frames[1].image, 1), 0);
    let held: Vec<_> = out.faces.iter().filter(|f| f.frame == Some(1)).collect();
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].source, Some(Source::Interpolated));
    assert_eq!(out.playback.unwrap().frames_filled_by_tracking, 1);
    // Without tracking the face in frame 1 would be left.
    let off = Options {
        tracking: TrackerConfig::off(),
        ..solid()
    };
    let out = process(&input, &mut misses_1(), &off, false, &|| 0.0).unwrap();
    let back = seqs::decode_all(&out.bytes, &Default::default()).unwrap();
    assert!(bright_in_square(&back.frames[1].image, 1) > 0);
}

#[test]
fn first_frame_writes_one_frame_and_counts_the_rest() {
    let first = Options {
        first_frame: true,
        ..solid()
    };
    for (format, input) in [
        (Format::Gif, animation(Format::Gif, Some(0))),
        (Format::Png, animation(Format::Png, Some(0))),
        (Format::Tiff, two_pages()),
    ] {
        let out = process(&input, &mut BrightBlob, &first, false, &|| 0.0).unwrap();
        let n = seqs::decode_all(&input, &Default::default())
            .unwrap()
            .frames
            .len() as u32;
        assert_eq!((out.frames, out.frames_dropped), (1, n - 1), "{format:?}");
        assert!(out.metadata_removed.contains(&"frames"), "{format:?}");
        let back = codec::decode(&out.bytes, &Default::default()).unwrap();
        assert_eq!(back.format, format);
        assert_eq!(back.frames, 1, "{format:?}");
        assert_eq!(bright_in_square(&back.image, 0), 0);
    }
}

#[test]
fn boxes_for_one_picture_do_not_fit_an_animation() {
    let input = animation(Format::Gif, Some(0));
    let boxes = [Detection {
        bbox: square(0),
        score: 1.0,
    }];
    let err = redact(&input, &boxes, &solid(), &|| 0.0).unwrap_err();
    assert!(matches!(err, Error::Config(_)), "{err}");
    let first = Options {
        first_frame: true,
        ..solid()
    };
    let out = redact(&input, &boxes, &first, &|| 0.0).unwrap();
    assert_eq!(out.frames, 1);
}

#[test]
fn a_one_frame_gif_stays_a_gif() {
    let seq = Sequence::new(
        Format::Gif,
        frames(1, 32, 24),
        Some(Animation { loop_count: None }),
    );
    let input = seqs::encode_all(&seq, &Default::default()).unwrap();
    let out = process(&input, &mut BrightBlob, &solid(), false, &|| 0.0).unwrap();
    assert_eq!(
        (out.format, out.frames, out.faces.len()),
        (Format::Gif, 1, 1)
    );
    assert_eq!(out.faces[0].frame, None);
    let back = seqs::decode_all(&out.bytes, &Default::default()).unwrap();
    assert_eq!(back.animation, Some(Animation { loop_count: None }));
}

#[test]
fn a_reduced_copy_beside_pages_is_not_written_and_is_counted() {
    let f = frames(2, 32, 24);
    let copy = image::imageops::resize(&f[0].image, 16, 12, image::imageops::FilterType::Nearest);
    let input = crate::testing::tiff_pages(&[(&f[0].image, 0), (&copy, 1), (&f[1].image, 0)]);
    let out = process(&input, &mut BrightBlob, &solid(), false, &|| 0.0).unwrap();
    assert_eq!((out.frames, out.frames_dropped), (2, 1));
    assert!(
        out.metadata_removed.contains(&"thumbnail"),
        "{:?}",
        out.metadata_removed
    );
    assert!(!out.metadata_removed.contains(&"frames"));
    let back = seqs::decode_all(&out.bytes, &Default::default()).unwrap();
    assert_eq!((back.frames.len(), back.skipped), (2, 0));
    // A copy larger than every page: which picture is meant is in doubt.
    let big = image::imageops::resize(&f[0].image, 64, 48, image::imageops::FilterType::Nearest);
    let input = crate::testing::tiff_pages(&[(&f[0].image, 0), (&big, 1), (&f[1].image, 0)]);
    let err = process(&input, &mut BrightBlob, &solid(), false, &|| 0.0).unwrap_err();
    assert!(
        err.to_string().contains("cannot tell which is the picture"),
        "{err}"
    );
}

#[test]
fn a_gif_comment_and_xmp_are_removed() {
    let mut input = Vec::new();
    {
        let mut enc = ::gif::Encoder::new(&mut input, 32, 24, &[]).unwrap();
        enc.write_raw_extension(::gif::AnyExtension(0xFE), &[b"Jane at 48.85N 2.29E"])
            .unwrap();
        enc.write_raw_extension(
            ::gif::AnyExtension(0xFF),
            &[b"XMP DataXMP", b"<x:xmpmeta/>"],
        )
        .unwrap();
        for f in frames(2, 32, 24) {
            let mut px: Vec<u8> = f
                .image
                .pixels()
                .flat_map(|p| [p[0], p[1], p[2], 255])
                .collect();
            enc.write_frame(&::gif::Frame::from_rgba(32, 24, &mut px))
                .unwrap();
        }
    }
    let found = metadata::scan(&input, Format::Gif);
    assert!(found.comment && found.xmp, "{found:?}");
    let out = process(&input, &mut BrightBlob, &solid(), false, &|| 0.0).unwrap();
    assert_eq!(out.frames, 2);
    for kind in ["comment", "xmp"] {
        assert!(
            out.metadata_removed.contains(&kind),
            "{:?}",
            out.metadata_removed
        );
    }
    assert!(metadata::scan(&out.bytes, Format::Gif).identifying() == ["frames"]);
    assert!(!out.bytes.windows(4).any(|w| w == b"Jane"));
}
