//! The seed corpus: small images of every format, with and without alpha
//! and a colour profile, baseline, progressive and restart-marker JPEGs, and
//! a bare ICC profile. Written by the pipeline target when
//! `BLINDFOLD_FUZZ_SEEDS=DIR` is set (see run.sh).
use blindfold::codec::frames::{Animation, Frame, Sequence, encode_all};
use blindfold::codec::{EncodeOptions, Format, encode};
use blindfold::image::{GrayImage, Luma, Rgb, RgbImage};
use jpeg_encoder::{ColorType, Encoder};
use std::path::Path;

fn profile() -> Vec<u8> {
    let xyz = |v: [i32; 3]| {
        let mut d = b"XYZ \0\0\0\0".to_vec();
        for x in v {
            d.extend_from_slice(&x.to_be_bytes());
        }
        d
    };
    let curv = b"curv\0\0\0\0\0\0\0\x01\x02\x33".to_vec();
    let tags: Vec<(&[u8; 4], Vec<u8>)> = vec![
        (b"wtpt", xyz([62289, 65536, 71372])),
        (b"rXYZ", xyz([28578, 14581, 911])),
        (b"gXYZ", xyz([25238, 46984, 6362])),
        (b"bXYZ", xyz([9380, 3971, 46799])),
        (b"rTRC", curv.clone()),
        (b"gTRC", curv.clone()),
        (b"bTRC", curv),
        (b"desc", b"text\0\0\0\0somebody 48.85N 2.29E\0".to_vec()),
    ];
    let table = 132 + 12 * tags.len();
    let (mut data, mut entries) = (Vec::new(), Vec::new());
    for (sig, d) in &tags {
        entries.push((**sig, table + data.len(), d.len()));
        data.extend_from_slice(d);
        data.resize(data.len().div_ceil(4) * 4, 0);
    }
    let mut p = vec![0u8; 128];
    p[..4].copy_from_slice(&((table + data.len()) as u32).to_be_bytes());
    p[8] = 2;
    p[12..16].copy_from_slice(b"mntr");
    p[16..20].copy_from_slice(b"RGB ");
    p[20..24].copy_from_slice(b"XYZ ");
    p[36..40].copy_from_slice(b"acsp");
    p.extend_from_slice(&(tags.len() as u32).to_be_bytes());
    for (sig, off, len) in entries {
        p.extend_from_slice(&sig);
        p.extend_from_slice(&(off as u32).to_be_bytes());
        p.extend_from_slice(&(len as u32).to_be_bytes());
    }
    p.extend_from_slice(&data);
    p
}

fn jpeg(img: &RgbImage, kind: u8) -> Vec<u8> {
    let mut out = Vec::new();
    let mut e = Encoder::new(&mut out, 85);
    match kind {
        1 => e.set_progressive(true),
        2 => e.set_restart_interval(2),
        _ => {}
    }
    e.encode(
        img.as_raw(),
        img.width() as u16,
        img.height() as u16,
        ColorType::Rgb,
    )
    .expect("encodes");
    out
}

/// A HEIC (HEVC) file of `img`, made with libheif's encoder.
fn heic(img: &RgbImage) -> Vec<u8> {
    use libheif_rs::{
        Channel, ColorSpace, CompressionFormat, EncoderQuality, HeifContext, Image, LibHeif,
        RgbChroma,
    };
    let lib = LibHeif::new();
    let (w, h) = img.dimensions();
    let mut pic = Image::new(w, h, ColorSpace::Rgb(RgbChroma::Rgb)).unwrap();
    pic.create_plane(Channel::Interleaved, w, h, 8).unwrap();
    let planes = pic.planes_mut();
    let plane = planes.interleaved.unwrap();
    for (y, row) in plane.data.chunks_mut(plane.stride).take(h as usize).enumerate() {
        let src = &img.as_raw()[y * w as usize * 3..][..w as usize * 3];
        row[..src.len()].copy_from_slice(src);
    }
    let mut enc = lib.encoder_for_format(CompressionFormat::Hevc).unwrap();
    enc.set_quality(EncoderQuality::Lossy(50)).unwrap();
    let mut ctx = HeifContext::new().unwrap();
    ctx.encode_image(&pic, &mut enc, None).unwrap();
    ctx.write_to_bytes().unwrap()
}

/// Write the seeds into `dir`.
pub fn write(dir: &Path) {
    let img = RgbImage::from_fn(24, 16, |x, y| {
        Rgb([(x * 10) as u8, (y * 15) as u8, ((x * y) % 256) as u8])
    });
    let alpha = GrayImage::from_fn(24, 16, |x, y| Luma([((x + y) * 8) as u8]));
    let icc = profile();
    let o = EncodeOptions::default();
    let mut seeds: Vec<(String, Vec<u8>)> = Vec::new();
    for (name, f) in [
        ("jpg", Format::Jpeg),
        ("png", Format::Png),
        ("webp", Format::Webp),
        ("tif", Format::Tiff),
        ("bmp", Format::Bmp),
    ] {
        seeds.push((
            format!("plain.{name}"),
            encode(&img, None, f, None, &o).unwrap(),
        ));
        seeds.push((
            format!("icc.{name}"),
            encode(&img, None, f, Some(&icc), &o).unwrap(),
        ));
        if !matches!(f, Format::Jpeg | Format::Bmp) {
            seeds.push((
                format!("alpha.{name}"),
                encode(&img, Some(&alpha), f, None, &o).unwrap(),
            ));
        }
    }
    seeds.push((
        "plain.avif".into(),
        encode(&img, None, Format::Avif, None, &o).unwrap(),
    ));
    seeds.push((
        "alpha.avif".into(),
        encode(&img, Some(&alpha), Format::Avif, Some(&icc), &o).unwrap(),
    ));
    seeds.push(("plain.heic".into(), heic(&img)));
    seeds.push(("progressive.jpg".into(), jpeg(&img, 1)));
    seeds.push(("restarts.jpg".into(), jpeg(&img, 2)));
    seeds.push(("profile.icc".into(), icc.clone()));
    // Animations and pages: three frames (GIF, APNG, WebP) or two pages.
    let frames: Vec<Frame> = (0..3u8)
        .map(|i| Frame {
            image: RgbImage::from_fn(24, 16, |x, y| {
                Rgb([
                    ((x * 10) as u8).wrapping_add(i * 40),
                    (y * 15) as u8,
                    i * 80,
                ])
            }),
            alpha: (i == 1).then(|| alpha.clone()),
            icc: None,
            delay: (100 * u32::from(i + 1), 1),
        })
        .collect();
    for (name, f) in [
        ("gif", Format::Gif),
        ("png", Format::Png),
        ("webp", Format::Webp),
    ] {
        let twice = Some(Animation {
            loop_count: Some(2),
        });
        let mut seq = Sequence::new(f, frames.clone(), twice);
        seq.icc = (f != Format::Gif).then(|| icc.clone());
        seeds.push((format!("anim.{name}"), encode_all(&seq, &o).unwrap()));
    }
    let mut pages = frames[..2].to_vec();
    for p in &mut pages {
        p.delay = (0, 1);
        p.icc = Some(icc.clone());
    }
    let seq = Sequence::new(Format::Tiff, pages, None);
    seeds.push(("pages.tif".into(), encode_all(&seq, &o).unwrap()));
    for (name, bytes) in seeds {
        std::fs::write(dir.join(name), bytes).expect("writes seed");
    }
}
