//! HEIF and AVIF: decoding, the pixel limit, several images, orientation,
//! metadata items, and the pipeline's output. Fixtures are made here with
//! libheif's own encoders (x265 for HEIC, libaom for AVIF).

use super::tests::mean_abs_diff;
use super::*;
use crate::metadata::{scan, testdata};
use crate::pipeline::{Options, process, tests::BrightBlob};
use libheif_rs::{CompressionFormat, EncoderQuality, HeifContext, LibHeif};

/// Dark grey with a bright square at `(x, y)` of side `s`.
fn picture(w: u32, h: u32, (x, y, s): (u32, u32, u32)) -> RgbImage {
    RgbImage::from_fn(w, h, |px, py| {
        if (x..x + s).contains(&px) && (y..y + s).contains(&py) {
            image::Rgb([240, 230, 220])
        } else {
            image::Rgb([30, 40, 50])
        }
    })
}

/// What goes into a fixture besides the pictures.
#[derive(Default)]
struct Extra<'a> {
    exif: Option<&'a [u8]>,
    xmp: Option<&'a [u8]>,
}

/// A HEIF file (HEVC, or AV1 for AVIF) holding `images` as top-level images.
fn heif_file(images: &[&RgbImage], format: CompressionFormat, extra: &Extra) -> Vec<u8> {
    let lib = LibHeif::new();
    let mut ctx = HeifContext::new().unwrap();
    let mut encoder = lib.encoder_for_format(format).unwrap();
    encoder.set_quality(EncoderQuality::Lossy(90)).unwrap();
    for img in images {
        let out = heif::libheif_image(img, None).unwrap();
        let handle = ctx.encode_image(&out, &mut encoder, None).unwrap();
        if let Some(exif) = extra.exif {
            ctx.add_exif_metadata(&handle, exif).unwrap();
        }
        if let Some(xmp) = extra.xmp {
            ctx.add_xmp_metadata(&handle, xmp).unwrap();
        }
    }
    ctx.write_to_bytes().unwrap()
}

fn heic(img: &RgbImage) -> Vec<u8> {
    heif_file(&[img], CompressionFormat::Hevc, &Extra::default())
}

#[test]
fn heic_and_avif_are_sniffed_decoded_and_mp4_is_not_taken_for_them() {
    let img = picture(64, 48, (16, 8, 20));
    let h = heic(&img);
    let a = heif_file(&[&img], CompressionFormat::Av1, &Extra::default());
    assert_eq!(sniff(&h), Some(Format::Heif));
    assert_eq!(sniff(&a), Some(Format::Avif));
    for bytes in [&h, &a] {
        let d = decode(bytes, &DecodeOptions::default()).unwrap();
        assert_eq!(d.image.dimensions(), (64, 48));
        assert!(mean_abs_diff(&d.image, &img) < 4.0);
        assert_eq!(d.frames, 1);
        // The coded size (x265 pads to 64x64; a `clap` crops it) covers the picture.
        let (w, h) = crate::metadata::heif_size(bytes).unwrap();
        assert!(w >= 64 && h >= 48 && w * h <= 64 * 64, "{w}x{h}");
    }
    let mut mp4 = b"\0\0\0\x18ftypisom\0\0\0\0isommp42".to_vec();
    mp4.extend_from_slice(&[0; 16]);
    assert_eq!(sniff(&mp4), None);
}

#[test]
fn the_pixel_limit_is_checked_before_decoding() {
    let img = picture(64, 48, (16, 8, 20));
    for bytes in [
        heic(&img),
        heif_file(&[&img], CompressionFormat::Av1, &Extra::default()),
    ] {
        let opts = DecodeOptions {
            max_pixels: 64 * 48 - 1,
            ..Default::default()
        };
        assert!(matches!(
            decode(&bytes, &opts),
            Err(Error::TooLarge { pixels: 3072, .. })
        ));
    }
}

#[test]
fn a_file_with_two_top_level_images_fails_and_is_reported_as_frames() {
    let a = picture(64, 48, (16, 8, 20));
    let b = picture(64, 48, (40, 20, 20));
    let two = heif_file(&[&a, &b], CompressionFormat::Hevc, &Extra::default());
    let err = decode(&two, &DecodeOptions::default()).unwrap_err();
    assert!(err.to_string().contains("2 top-level images"), "{err}");
    assert!(scan(&two, Format::Heif).frames);
    assert!(!scan(&heic(&a), Format::Heif).frames);
}

#[test]
fn truncated_or_damaged_files_fail() {
    let bytes = heic(&picture(64, 48, (16, 8, 20)));
    for cut in [bytes.len() / 2, bytes.len() - 10, 40] {
        assert!(
            decode(&bytes[..cut], &DecodeOptions::default()).is_err(),
            "cut at {cut}"
        );
    }
}

#[test]
fn the_file_s_rotation_is_applied_as_viewers_show_it() {
    // Stored 64x48 with a square at the top left. `irot` 3 (270 degrees
    // anticlockwise) shows it turned 90 degrees clockwise: 48x64 with the
    // square at the top right.
    let img = picture(64, 48, (0, 0, 12));
    let plain = heic(&img);
    let d = decode(&plain, &DecodeOptions::default()).unwrap();
    assert_eq!(d.image.dimensions(), (64, 48));
    let turned = with_irot(&plain, 3);
    let d = decode(&turned, &DecodeOptions::default()).unwrap();
    assert_eq!(d.image.dimensions(), (48, 64));
    assert!(d.image.get_pixel(42, 5)[0] > 200, "the square is top right");
    assert!(d.image.get_pixel(5, 5)[0] < 60, "not top left");
    assert!(scan(&turned, Format::Heif).identifying().is_empty());
}

/// Boxes of `bytes` as (type, body); 32-bit sizes only (libheif's files).
fn split(mut bytes: &[u8]) -> Vec<([u8; 4], Vec<u8>)> {
    let mut out = Vec::new();
    while bytes.len() >= 8 {
        let size = u32::from_be_bytes(bytes[..4].try_into().unwrap()) as usize;
        out.push((bytes[4..8].try_into().unwrap(), bytes[8..size].to_vec()));
        bytes = &bytes[size..];
    }
    out
}

fn join(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut out = ((body.len() + 8) as u32).to_be_bytes().to_vec();
    out.extend_from_slice(kind);
    out.extend_from_slice(body);
    out
}

/// `file` (one image, as libheif writes it: ftyp, meta, mdat) with an
/// `irot` property of `angle` (x 90 degrees anticlockwise) on the primary
/// item (a grid's tiles keep theirs);
/// the data offsets in `iloc` are moved by what the `meta` box grew.
fn with_irot(file: &[u8], angle: u8) -> Vec<u8> {
    let top = split(file);
    let meta = &top.iter().find(|(k, _)| k == b"meta").unwrap().1;
    let mut children = split(&meta[4..]);
    let pitm = &children.iter().find(|(k, _)| k == b"pitm").unwrap().1;
    let primary = read(pitm, &mut 4, if pitm[0] == 0 { 2 } else { 4 });
    for (kind, body) in children.iter_mut().filter(|(k, _)| k == b"iprp") {
        let mut props = split(body);
        let ipco = &mut props.iter_mut().find(|(k, _)| k == b"ipco").unwrap().1;
        let index = split(ipco).len() as u8 + 1;
        ipco.extend_from_slice(&join(b"irot", &[angle]));
        let ipma = &mut props.iter_mut().find(|(k, _)| k == b"ipma").unwrap().1;
        let (version, wide) = (ipma[0], ipma[3] & 1 == 1);
        let count = u32::from_be_bytes(ipma[4..8].try_into().unwrap());
        let mut out = ipma[..8].to_vec();
        let mut at = 8;
        for _ in 0..count {
            let id_len = if version == 0 { 2 } else { 4 };
            out.extend_from_slice(&ipma[at..at + id_len]);
            let id = read(ipma, &mut at.clone(), id_len);
            let n = ipma[at + id_len] as usize;
            out.push(n as u8 + u8::from(id == primary));
            let assoc = if wide { 2 } else { 1 };
            let from = at + id_len + 1;
            out.extend_from_slice(&ipma[from..from + n * assoc]);
            if id != primary {
            } else if wide {
                out.extend_from_slice(&(0x8000u16 | u16::from(index)).to_be_bytes());
            } else {
                out.push(0x80 | index);
            }
            at = from + n * assoc;
        }
        *ipma = out;
        *body = props.iter().flat_map(|(k, b)| join(k, b)).collect();
        assert_eq!(kind, b"iprp");
    }
    let rebuilt = |children: &[([u8; 4], Vec<u8>)]| {
        let mut body = meta[..4].to_vec();
        body.extend(children.iter().flat_map(|(k, b)| join(k, b)));
        body
    };
    let delta = (rebuilt(&children).len() - meta.len()) as u64;
    let iloc = &mut children.iter_mut().find(|(k, _)| k == b"iloc").unwrap().1;
    shift_iloc(iloc, delta);
    let meta = rebuilt(&children);
    top.iter()
        .flat_map(|(k, b)| join(k, if k == b"meta" { &meta } else { b }))
        .collect()
}

/// Add `delta` to every item's base offset, or where there is none to its
/// extent offsets, in an `iloc` box body (as libheif writes it); items
/// stored in `idat` stay.
fn shift_iloc(iloc: &mut [u8], delta: u64) {
    let version = iloc[0];
    let (off_len, len_len) = (usize::from(iloc[4] >> 4), usize::from(iloc[4] & 15));
    let (base_len, index_len) = (usize::from(iloc[5] >> 4), usize::from(iloc[5] & 15));
    let index_len = if version == 0 { 0 } else { index_len };
    let id_len = if version < 2 { 2 } else { 4 };
    let mut at = 6;
    let count = read(iloc, &mut at, id_len);
    let shift = |iloc: &mut [u8], at: usize, len: usize| {
        let field = &mut iloc[at..at + len];
        let v = field.iter().fold(0u64, |a, b| (a << 8) | u64::from(*b)) + delta;
        field.copy_from_slice(&v.to_be_bytes()[8 - len..]);
    };
    for _ in 0..count {
        at += id_len;
        // Construction method 1 points into `idat`, which does not move.
        let in_file = version == 0 || read(iloc, &mut at, 2) & 15 == 0;
        at += 2;
        if base_len > 0 && in_file {
            shift(iloc, at, base_len);
        }
        at += base_len;
        let extents = read(iloc, &mut at, 2);
        for _ in 0..extents {
            at += index_len;
            if base_len == 0 && in_file {
                shift(iloc, at, off_len);
            }
            at += off_len + len_len;
        }
    }
}

fn read(b: &[u8], at: &mut usize, len: usize) -> u64 {
    let v = b[*at..*at + len]
        .iter()
        .fold(0u64, |a, x| (a << 8) | u64::from(*x));
    *at += len;
    v
}

#[test]
fn exif_gps_and_xmp_items_are_found_and_none_is_written() {
    let img = picture(96, 64, (30, 20, 24));
    let mut exif = b"Exif\0\0".to_vec();
    exif.extend_from_slice(&testdata::exif_tiff(1, true));
    let xmp = b"<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF/></x:xmpmeta>";
    let extra = Extra {
        exif: Some(&exif),
        xmp: Some(xmp),
    };
    for (format, name) in [
        (CompressionFormat::Hevc, Format::Heif),
        (CompressionFormat::Av1, Format::Avif),
    ] {
        let bytes = heif_file(&[&img], format, &extra);
        let found = scan(&bytes, name);
        assert!(found.exif && found.gps && found.xmp, "{name:?}: {found:?}");
        assert!(found.serial && found.datetime, "{name:?}: {found:?}");
        let out = process(&bytes, &mut BrightBlob, &Options::default(), false, &|| 0.0).unwrap();
        assert_eq!(out.format, name);
        assert_eq!(out.format_out, name.written_as());
        assert_eq!(sniff(&out.bytes), Some(name.written_as()));
        assert_eq!(out.faces.len(), 1, "{name:?}");
        for kind in ["exif", "gps", "xmp"] {
            assert!(out.metadata_removed.contains(&kind), "{name:?}: {kind}");
        }
        assert!(scan(&out.bytes, out.format_out).identifying().is_empty());
        // The square is masked: its middle no longer shows its colour.
        let back = decode(&out.bytes, &DecodeOptions::default()).unwrap();
        let p = back.image.get_pixel(42, 32);
        assert!(
            p[0].abs_diff(240) > 20 || p[1].abs_diff(230) > 20,
            "{name:?}: {p:?}"
        );
    }
    assert_eq!(Format::Heif.written_as(), Format::Jpeg);
    assert_eq!(Format::Avif.written_as(), Format::Avif);
}

#[test]
fn avif_is_written_with_alpha_and_no_metadata() {
    let img = picture(40, 30, (5, 5, 10));
    let alpha = GrayImage::from_fn(40, 30, |x, _| image::Luma([(x * 6) as u8]));
    let out = encode(&img, Some(&alpha), Format::Avif, None, &Default::default()).unwrap();
    assert_eq!(sniff(&out), Some(Format::Avif));
    assert!(scan(&out, Format::Avif).identifying().is_empty());
    let d = decode(&out, &DecodeOptions::default()).unwrap();
    assert!(mean_abs_diff(&d.image, &img) < 4.0);
    // The alpha is stored losslessly whatever the quality: a mask's 255
    // stays 255 (lossy AV1 gave 254 in the fuzz run) and nothing else moves.
    let a = d.alpha.expect("alpha kept");
    assert_eq!(a, alpha);
}

#[test]
fn avif_at_quality_100_is_lossless_but_for_colour_rounding() {
    let img = RgbImage::from_fn(40, 30, |x, y| {
        image::Rgb([(x * 6) as u8, (y * 8) as u8, ((x * y) % 251) as u8])
    });
    let opts = EncodeOptions {
        jpeg_quality: 100,
        ..Default::default()
    };
    let out = encode(&img, None, Format::Avif, None, &opts).unwrap();
    let d = decode(&out, &DecodeOptions::default()).unwrap();
    let max = d
        .image
        .as_raw()
        .iter()
        .zip(img.as_raw())
        .map(|(a, b)| a.abs_diff(*b))
        .max()
        .unwrap();
    // Lossless AV1 of 4:4:4 YCbCr: only the RGB-YCbCr conversion rounds.
    assert!(max <= 2, "max difference {max}");
    let lossy = encode(&img, None, Format::Avif, None, &EncodeOptions::default()).unwrap();
    assert!(lossy.len() < out.len());
}

/// A grid whose `ispe` says 24x16 and whose grid data says 16973x18761
/// (587 bytes, found by the pipeline fuzz target in CI on 2026-12-05, when
/// it took 4 s and 1 GB to decode under a 1-megapixel limit). libheif makes
/// the grid as large as its data says, so the limit reads that size too,
/// before decoding.
#[test]
fn a_grid_larger_than_its_ispe_is_refused_before_decoding() {
    let bytes = include_bytes!("fixtures/grid_bomb.heic");
    assert_eq!(crate::metadata::heif_size(bytes), Some((16973, 18761)));
    let opts = DecodeOptions {
        max_pixels: 1 << 20,
        accept_damaged: false,
    };
    let Err(err) = decode(bytes, &opts) else {
        panic!("a grid over the limit was decoded");
    };
    assert!(err.to_string().contains("16973x18761"), "{err}");
}
