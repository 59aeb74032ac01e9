use super::testdata::{self, Rng};
use super::*;

fn base_jpeg() -> Vec<u8> {
    let img = image::RgbImage::from_pixel(16, 16, image::Rgb([90, 120, 200]));
    crate::codec::encode(&img, None, Format::Jpeg, None, &Default::default()).unwrap()
}

fn base_png() -> Vec<u8> {
    let img = image::RgbImage::from_pixel(4, 4, image::Rgb([1, 2, 3]));
    crate::codec::encode(&img, None, Format::Png, None, &Default::default()).unwrap()
}

#[test]
fn clean_jpeg_has_nothing() {
    assert_eq!(scan(&base_jpeg(), Format::Jpeg), Found::default());
}

#[test]
fn exif_parts_are_told_apart() {
    let mut minimal = b"Exif\0\0".to_vec();
    minimal.extend_from_slice(&testdata::exif_tiff(1, false));
    let jpeg = testdata::jpeg_with(&base_jpeg(), &[testdata::segment(0xE1, &minimal)]);
    let f = scan(&jpeg, Format::Jpeg);
    assert_eq!(f.identifying(), vec!["exif"]);

    let found = scan(
        &testdata::jpeg_with(&base_jpeg(), &testdata::identifying_segments()[..1]),
        Format::Jpeg,
    );
    assert_eq!(
        found.identifying(),
        vec![
            "exif",
            "gps",
            "serial",
            "maker_note",
            "datetime",
            "thumbnail"
        ]
    );
}

#[test]
fn jpeg_segments_are_classified() {
    let cases: [(Vec<u8>, &str); 8] = [
        (
            testdata::segment(0xE1, b"http://ns.adobe.com/xmp/extension/\0abc"),
            "xmp",
        ),
        (testdata::segment(0xED, b"Photoshop 3.0\0"), "iptc"),
        (testdata::segment(0xFE, b"hello"), "comment"),
        (testdata::segment(0xE0, b"JFXX\0\x10thumb"), "thumbnail"),
        (testdata::segment(0xE2, b"MPF\0II*\0"), "thumbnail"),
        (testdata::segment(0xE1, b"something else"), "other"),
        (testdata::segment(0xEB, b"JP\0\0"), "other"),
        (testdata::segment(0xEC, b"Ducky"), "comment"),
    ];
    for (seg, want) in cases {
        let f = scan(&testdata::jpeg_with(&base_jpeg(), &[seg]), Format::Jpeg);
        assert_eq!(f.identifying(), vec![want]);
    }
    let icc = testdata::segment(0xE2, b"ICC_PROFILE\0\x01\x01abc");
    let f = scan(&testdata::jpeg_with(&base_jpeg(), &[icc]), Format::Jpeg);
    assert!(f.icc && f.identifying().is_empty());
    let adobe = testdata::segment(0xEE, b"Adobe\0\x64\0\0\0\0\x01");
    let f = scan(&testdata::jpeg_with(&base_jpeg(), &[adobe]), Format::Jpeg);
    assert_eq!(f, Found::default());
}

#[test]
fn photoshop_thumbnail_is_found() {
    let mut app13 = b"Photoshop 3.0\08BIM\x04\x0C\0\0".to_vec();
    app13.extend_from_slice(&4u32.to_be_bytes());
    app13.extend_from_slice(b"\xFF\xD8\xFF\xD9");
    let f = scan(
        &testdata::jpeg_with(&base_jpeg(), &[testdata::segment(0xED, &app13)]),
        Format::Jpeg,
    );
    assert_eq!(f.identifying(), vec!["thumbnail", "iptc"]);
}

#[test]
fn data_after_jpeg_end_is_other() {
    let mut j = base_jpeg();
    j.extend_from_slice(&[0, 0, 0xFF]);
    assert_eq!(scan(&j, Format::Jpeg), Found::default());
    j.extend_from_slice(b"\xFF\xD8 second image or a motion-photo video");
    assert_eq!(scan(&j, Format::Jpeg).identifying(), vec!["other"]);
}

#[test]
fn png_chunks_are_classified() {
    let mut itxt = b"XML:com.adobe.xmp\0\0\0\0\0".to_vec();
    itxt.extend_from_slice(b"<x:xmpmeta/>");
    let cases: [(Vec<u8>, &str); 6] = [
        (
            testdata::png_chunk(b"eXIf", &testdata::exif_tiff(1, false)),
            "exif",
        ),
        (testdata::png_chunk(b"iTXt", &itxt), "xmp"),
        (testdata::png_chunk(b"tEXt", b"Comment\0hello"), "comment"),
        (
            testdata::png_chunk(b"zTXt", b"Raw profile type iptc\0\0x"),
            "iptc",
        ),
        (
            testdata::png_chunk(b"tIME", &[7, 232, 1, 2, 3, 4, 5]),
            "datetime",
        ),
        (testdata::png_chunk(b"caBX", b"c2pa"), "other"),
    ];
    for (chunk, want) in cases {
        let f = scan(&testdata::png_with(&base_png(), &[chunk]), Format::Png);
        assert_eq!(f.identifying(), vec![want]);
    }
    let full = testdata::png_chunk(b"eXIf", &testdata::exif_tiff(3, true));
    let f = scan(&testdata::png_with(&base_png(), &[full]), Format::Png);
    assert!(f.gps && f.serial && f.thumbnail && f.datetime && f.maker_note);
    let f = scan(
        &testdata::png_with(&base_png(), &[testdata::png_chunk(b"iCCP", b"p\0\0x")]),
        Format::Png,
    );
    assert!(f.icc && f.identifying().is_empty());
}

fn riff(chunks: &[(&[u8; 4], &[u8])]) -> Vec<u8> {
    let mut body = b"WEBP".to_vec();
    for (kind, data) in chunks {
        body.extend_from_slice(*kind);
        body.extend_from_slice(&(data.len() as u32).to_le_bytes());
        body.extend_from_slice(data);
        if data.len() % 2 == 1 {
            body.push(0);
        }
    }
    let mut out = b"RIFF".to_vec();
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(&body);
    out
}

#[test]
fn webp_chunks_are_classified() {
    let exif = testdata::exif_tiff(1, true);
    let f = scan(
        &riff(&[
            (b"VP8X", &[0; 10]),
            (b"ICCP", b"abc"),
            (b"EXIF", &exif),
            (b"XMP ", b"<x/>"),
            (b"VP8L", b"\x2f"),
        ]),
        Format::Webp,
    );
    assert!(f.icc && f.exif && f.gps && f.xmp && f.thumbnail);
    let f = scan(&riff(&[(b"VP8L", b"\x2f"), (b"JUNK", b"x")]), Format::Webp);
    assert_eq!(f.identifying(), vec!["other"]);
}

#[test]
fn tiff_tags_are_classified() {
    // An EXIF block is itself a TIFF: IFD0 with the ExifIFD and GPS pointers.
    let f = scan(&testdata::exif_tiff(1, true), Format::Tiff);
    assert!(f.exif && f.gps && f.serial && f.datetime && f.maker_note && f.thumbnail);
    let f = scan(&testdata::exif_tiff(1, false), Format::Tiff);
    assert_eq!(f, Found::default());
    // XMP (700), IPTC (33723) and ICC (34675) tags in a big-endian TIFF.
    let mut t = b"MM\0*\0\0\0\x08\0\x03".to_vec();
    for tag in [700u16, 33723, 34675] {
        t.extend_from_slice(&tag.to_be_bytes());
        t.extend_from_slice(&[0, 7, 0, 0, 0, 1, 0, 0, 0, 0]);
    }
    t.extend_from_slice(&[0; 4]);
    let f = scan(&t, Format::Tiff);
    assert!(f.xmp && f.iptc && f.icc);
    assert_eq!(f.identifying(), vec!["xmp", "iptc"]);
}

#[test]
fn bmp_has_nothing() {
    let img = image::RgbImage::from_pixel(3, 3, image::Rgb([1, 2, 3]));
    let bmp = crate::codec::encode(&img, None, Format::Bmp, None, &Default::default()).unwrap();
    assert_eq!(scan(&bmp, Format::Bmp), Found::default());
}

#[test]
fn unreadable_containers_count_as_other() {
    for f in [Format::Png, Format::Webp, Format::Tiff] {
        assert!(scan(b"garbage", f).other, "{f:?}");
    }
    let j = base_jpeg();
    assert!(scan(&j[..j.len() / 2], Format::Jpeg).other);
}

#[test]
fn garbage_never_panics() {
    let formats = [
        Format::Jpeg,
        Format::Png,
        Format::Webp,
        Format::Tiff,
        Format::Bmp,
    ];
    let mut seeds: Vec<Vec<u8>> = vec![
        testdata::jpeg_with(&base_jpeg(), &testdata::identifying_segments()),
        testdata::png_with(
            &base_png(),
            &[testdata::png_chunk(b"eXIf", &testdata::exif_tiff(6, true))],
        ),
        riff(&[(b"EXIF", &testdata::exif_tiff(1, true)), (b"VP8L", b"\x2f")]),
        testdata::exif_tiff(1, true),
    ];
    let mut rng = Rng(42);
    // Pure noise, with and without each format's signature.
    for i in 0..200 {
        let len = (rng.next() % 300) as usize;
        let mut b: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        let prefix: &[u8] = match i % 5 {
            0 => b"\xFF\xD8\xFF",
            1 => b"\x89PNG\r\n\x1a\n",
            2 => b"RIFF\0\0\0\0WEBP",
            3 => b"II*\0\x08\0\0\0",
            _ => b"MM\0+\0\x08\0\0\0\0\0\0\0\x10",
        };
        b.splice(0..0, prefix.iter().copied());
        seeds.push(b);
    }
    for seed in &seeds {
        for _ in 0..30 {
            let mut b = seed.clone();
            if !b.is_empty() {
                for _ in 0..1 + rng.next() % 6 {
                    let i = (rng.next() % b.len() as u64) as usize;
                    b[i] = rng.next() as u8;
                }
            }
            b.truncate((rng.next() % (b.len() as u64 + 1)) as usize);
            for f in formats {
                let _ = scan(&b, f);
            }
        }
    }
}
