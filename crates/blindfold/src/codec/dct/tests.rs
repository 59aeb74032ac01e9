use super::*;
use crate::BBox;
use crate::anonymize::Shape;
use crate::codec::{self, DecodeOptions, Format};
use image::RgbImage;
use jpeg_encoder::{ColorType, Encoder, SamplingFactor};

/// A busy picture: every block has AC coefficients.
fn picture(w: u32, h: u32) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| {
        let v = (x * 7 + y * 13) ^ (x * y / 5);
        image::Rgb([v as u8, (x * 3) as u8, (y * 5 + v / 3) as u8])
    })
}

struct Style {
    sampling: SamplingFactor,
    progressive: bool,
    restart: u16,
    grey: bool,
}

const PLAIN: Style = Style {
    sampling: SamplingFactor::F_2_2,
    progressive: false,
    restart: 0,
    grey: false,
};

fn jpeg(img: &RgbImage, s: &Style, app: &[(u8, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut e = Encoder::new(&mut out, 85);
    e.set_sampling_factor(s.sampling);
    e.set_progressive(s.progressive);
    if s.restart > 0 {
        e.set_restart_interval(s.restart);
    }
    for (n, data) in app {
        e.add_app_segment(*n, data.clone()).unwrap();
    }
    let (w, h) = (img.width() as u16, img.height() as u16);
    if s.grey {
        let g: Vec<u8> = img.pixels().map(|p| p[0]).collect();
        e.encode(&g, w, h, ColorType::Luma).unwrap();
    } else {
        e.encode(img.as_raw(), w, h, ColorType::Rgb).unwrap();
    }
    out
}

fn pixels(bytes: &[u8]) -> RgbImage {
    codec::decode(bytes, &DecodeOptions::default())
        .unwrap()
        .image
}

fn rect(x0: f32, y0: f32, x1: f32, y1: f32) -> Mask {
    Mask {
        shape: Shape::Rect,
        bbox: BBox { x0, y0, x1, y1 },
    }
}

#[test]
fn no_mask_keeps_every_coefficient_and_pixel() {
    let img = picture(203, 141);
    for s in [
        PLAIN,
        Style {
            sampling: SamplingFactor::F_1_1,
            ..PLAIN
        },
        Style {
            sampling: SamplingFactor::F_2_1,
            restart: 3,
            ..PLAIN
        },
        Style {
            progressive: true,
            ..PLAIN
        },
        Style {
            grey: true,
            ..PLAIN
        },
        Style {
            grey: true,
            progressive: true,
            ..PLAIN
        },
    ] {
        let input = jpeg(&img, &s, &[]);
        let out = edit(&input, &[], Mode::Noise, 1, None).unwrap();
        assert_eq!(out.mcus_replaced, 0);
        assert_eq!(out.progressive, s.progressive);
        let (a, b) = (read::read(&input).unwrap(), read::read(&out.bytes).unwrap());
        same_blocks(&a, &b).unwrap();
        assert_eq!(pixels(&input), pixels(&out.bytes));
        // Baseline, optimised tables: never larger than the input by much.
        assert!(out.bytes.len() < input.len() + 200, "{}", out.bytes.len());
    }
}

#[test]
fn a_mask_replaces_whole_mcus_and_nothing_else() {
    let img = picture(200, 120);
    for (mode, sampling) in [
        (Mode::Noise, SamplingFactor::F_2_2),
        (Mode::Solid, SamplingFactor::F_2_2),
        (Mode::Noise, SamplingFactor::F_1_1),
        (Mode::Solid, SamplingFactor::F_2_1),
    ] {
        let s = Style { sampling, ..PLAIN };
        let input = jpeg(&img, &s, &[]);
        // Pixels 20..37 x 17..30: MCUs (16 px) 1..=2 x 1 for 4:2:0.
        let out = edit(&input, &[rect(20.0, 17.0, 37.0, 30.0)], mode, 7, None).unwrap();
        let (a, b) = (read::read(&input).unwrap(), read::read(&out.bytes).unwrap());
        let (mw, mh) = (8 * a.hmax, 8 * a.vmax);
        let hit = |x: usize, y: usize| {
            (20 / mw..=36 / mw).contains(&(x / mw)) && (17 / mh..=29 / mh).contains(&(y / mh))
        };
        let mut replaced = 0;
        for (ka, kb) in a.comps.iter().zip(&b.comps) {
            let (sx, sy) = (a.hmax / ka.h, a.vmax / ka.v);
            let (bw, bh) = ka.real_blocks(&a);
            for by in 0..bh {
                for bx in 0..bw {
                    let i = by * ka.bw + bx;
                    if hit(bx * 8 * sx, by * 8 * sy) {
                        replaced += 1;
                        assert_ne!(ka.blocks[i], kb.blocks[i]);
                        if mode == Mode::Solid {
                            assert!(kb.blocks[i][1..].iter().all(|&v| v == 0));
                        }
                    } else {
                        assert_eq!(ka.blocks[i], kb.blocks[i], "block {bx},{by}");
                    }
                }
            }
        }
        assert!(replaced >= 6, "{replaced}");
        let (pa, pb) = (pixels(&input), pixels(&out.bytes));
        let mut inside_changed = 0;
        let mut outside_changed = Vec::new();
        for (x, y, p) in pa.enumerate_pixels() {
            let q = pb.get_pixel(x, y);
            if hit(x as usize, y as usize) {
                inside_changed += usize::from(p != q);
            } else if p != q {
                outside_changed.push((x, y));
            }
        }
        // zune-jpeg (the image crate's decoder) upsamples chroma smoothly,
        // so subsampled chroma reaches one pixel past a replaced MCU; with
        // 4:4:4 nothing outside changes (djpeg -nosmooth: see the oracle
        // test).
        let near = |x: u32, y: u32| {
            let (x, y) = (x as usize, y as usize);
            [(1, 0), (0, 1), (1, 1)].iter().any(|&(dx, dy)| {
                hit(x + dx, y + dy)
                    || (x >= dx && y >= dy && hit(x - dx, y - dy))
                    || (x >= dx && hit(x - dx, y + dy))
                    || (y >= dy && hit(x + dx, y - dy))
            })
        };
        assert!(
            outside_changed.iter().all(|&(x, y)| near(x, y)),
            "{outside_changed:?}"
        );
        if sampling == SamplingFactor::F_1_1 {
            assert!(outside_changed.is_empty());
        }
        assert!(inside_changed > mw * mh, "{inside_changed}");
        if mode == Mode::Solid {
            // The masked MCUs are black, whatever was there.
            let p = pb.get_pixel(24, 20).0;
            assert!(p.iter().all(|&v| v <= 3), "{p:?}");
        }
    }
}

#[test]
fn noise_does_not_depend_on_the_face() {
    let (a, b) = (
        picture(64, 64),
        RgbImage::from_pixel(64, 64, image::Rgb([9, 200, 40])),
    );
    let m = [rect(0.0, 0.0, 32.0, 32.0)];
    let ea = edit(&jpeg(&a, &PLAIN, &[]), &m, Mode::Noise, 5, None).unwrap();
    let eb = edit(&jpeg(&b, &PLAIN, &[]), &m, Mode::Noise, 5, None).unwrap();
    let (ca, cb) = (
        read::read(&ea.bytes).unwrap(),
        read::read(&eb.bytes).unwrap(),
    );
    let k = 0;
    let (ka, kb) = (&ca.comps[k], &cb.comps[k]);
    for by in 0..4 {
        for bx in 0..4 {
            assert_eq!(ka.blocks[by * ka.bw + bx], kb.blocks[by * kb.bw + bx]);
        }
    }
    // A fresh seed draws other noise.
    let ec = edit(&jpeg(&a, &PLAIN, &[]), &m, Mode::Noise, 6, None).unwrap();
    assert_ne!(
        read::read(&ec.bytes).unwrap().comps[0].blocks[0],
        ka.blocks[0]
    );
}

/// A big-endian EXIF block with the orientation and a GPS-looking extra tag.
fn exif_with(orientation: u8) -> Vec<u8> {
    let mut b = b"Exif\0\0MM\0\x2A\0\0\0\x08\0\x02".to_vec();
    b.extend_from_slice(&[0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, orientation, 0, 0]);
    b.extend_from_slice(&[0x01, 0x31, 0, 2, 0, 0, 0, 4, b'c', b'a', b'm', 0]);
    b.extend_from_slice(&[0, 0, 0, 0]);
    b
}

#[test]
fn orientation_is_kept_alone_and_masks_land_upright() {
    // Stored 96x64; every orientation shows a mask in the top-left corner
    // of the upright picture.
    let img = picture(96, 64);
    for o in 1..=8u8 {
        let input = jpeg(&img, &PLAIN, &[(1, exif_with(o))]);
        let up = codec::decode(&input, &DecodeOptions::default()).unwrap();
        assert_eq!(up.orientation, o);
        let out = edit(&input, &[rect(0.0, 0.0, 10.0, 10.0)], Mode::Solid, 1, None).unwrap();
        let back = codec::decode(&out.bytes, &DecodeOptions::default()).unwrap();
        assert_eq!(back.orientation, o);
        assert_eq!(back.image.dimensions(), up.image.dimensions());
        let (w, h) = back.image.dimensions();
        assert!(
            back.image.get_pixel(2, 2).0.iter().all(|&v| v <= 3),
            "o={o}"
        );
        assert_eq!(
            back.image.get_pixel(w - 2, h - 2),
            up.image.get_pixel(w - 2, h - 2),
            "o={o}"
        );
        let found = crate::metadata::scan(&out.bytes, Format::Jpeg);
        assert!(
            found.identifying().is_empty(),
            "o={o}: {:?}",
            found.identifying()
        );
        let found_in = crate::metadata::scan(&input, Format::Jpeg);
        assert!(found_in.exif);
    }
}

#[test]
fn what_the_path_cannot_carry_is_refused_with_a_reason() {
    let img = picture(64, 48);
    let input = jpeg(&img, &PLAIN, &[]);
    let why = edit(&input, &[], Mode::Blur, 1, None).unwrap_err();
    assert!(why.contains("pixels"), "{why}");
    // Cut short.
    let why = edit(&input[..input.len() - 40], &[], Mode::Noise, 1, None).unwrap_err();
    assert!(!why.is_empty());
    // Arithmetic coding (SOF9) is named.
    let mut arith = input.clone();
    let sof = arith.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
    arith[sof + 1] = 0xC9;
    assert!(
        edit(&arith, &[], Mode::Noise, 1, None)
            .unwrap_err()
            .contains("arithmetic")
    );
    // 12-bit samples.
    let mut twelve = input.clone();
    twelve[sof + 4] = 12;
    assert!(
        edit(&twelve, &[], Mode::Noise, 1, None)
            .unwrap_err()
            .contains("12-bit")
    );
}

#[test]
fn icc_profile_is_written_in_chunks() {
    let img = picture(32, 32);
    let input = jpeg(&img, &PLAIN, &[]);
    let icc = vec![7u8; 70_000];
    let out = edit(&input, &[], Mode::Noise, 1, Some(&icc)).unwrap();
    let back = codec::decode(&out.bytes, &DecodeOptions::default()).unwrap();
    assert_eq!(back.icc.as_deref(), Some(&icc[..]));
}

#[test]
fn optimal_tables_are_valid_for_skewed_counts() {
    let mut f = [0u32; 257];
    for (i, v) in f.iter_mut().enumerate().take(256) {
        *v = 1 << (i % 31);
    }
    let t = huffman::Table::optimal(&f);
    let mut seg = Vec::new();
    t.append_dht(&mut seg);
    let counts = &seg[..16];
    assert_eq!(counts.iter().map(|&c| usize::from(c)).sum::<usize>(), 256);
    // Kraft: no code of all ones is left out.
    let kraft: f64 = counts
        .iter()
        .enumerate()
        .map(|(l, &c)| f64::from(c) / f64::from(1u32 << (l + 1)))
        .sum();
    assert!(kraft < 1.0, "{kraft}");
}

/// The reader refuses every file the strict walk refuses, so reading the
/// coefficients is also the check (the pipeline walks a JPEG once). Damaged
/// copies of files of each kind the reader carries (baseline, progressive,
/// restart intervals, greyscale): bytes changed, cut, inserted or dropped,
/// and a segment's marker replaced. Whatever reads must pass the walk.
#[test]
fn reading_refuses_all_the_strict_walk_refuses() {
    let img = picture(40, 27);
    let styles = [
        PLAIN,
        Style {
            progressive: true,
            ..PLAIN
        },
        Style {
            sampling: SamplingFactor::F_2_1,
            restart: 2,
            ..PLAIN
        },
        Style {
            progressive: true,
            restart: 1,
            sampling: SamplingFactor::F_1_1,
            ..PLAIN
        },
        Style {
            grey: true,
            ..PLAIN
        },
    ];
    let mut rng = Rng::new(11);
    let (mut refused, mut tried) = (0, 0);
    for s in &styles {
        let good = jpeg(&img, s, &[(1, b"Exif\0\0MM".to_vec())]);
        read(&good).unwrap();
        for _ in 0..1500 {
            let mut bad = good.clone();
            let at = (rng.next() as usize) % bad.len();
            match rng.next() % 5 {
                0 => bad[at] = rng.next() as u8,
                1 => bad.truncate(at.max(2)),
                2 => bad.insert(at, rng.next() as u8),
                3 => drop(bad.remove(at)),
                _ => {
                    // A marker (0xFF then a code) turned into another.
                    let marks: Vec<usize> = (2..bad.len() - 1)
                        .filter(|&i| bad[i] == 0xFF && bad[i + 1] != 0 && bad[i + 1] != 0xFF)
                        .collect();
                    bad[marks[at % marks.len()] + 1] = rng.next() as u8;
                }
            }
            tried += 1;
            let walk = super::super::entropy::check(&bad);
            refused += usize::from(walk.is_err());
            if read(&bad).is_ok() {
                assert_eq!(walk, Ok(()), "read, but the walk refuses it");
            }
        }
    }
    // The damage is real: most copies are refused by the walk.
    assert!(refused * 2 > tried, "{refused} of {tried} refused");
}

/// Reading with the one-lookup AC path gives exactly what reading code by
/// code gives: coefficients, and the error where there is one. Noisy
/// pictures (values of every size) at three qualities and samplings, and
/// damaged copies of them.
#[test]
fn one_lookup_ac_reads_as_code_by_code() {
    let mut rng = Rng::new(5);
    let noisy = RgbImage::from_fn(48, 40, |x, y| {
        let v = rng.next();
        let base = (x * 5 + y * 3) as u8;
        image::Rgb([base ^ (v as u8 & 0x3F), v as u8 >> (x % 8), (v >> 8) as u8])
    });
    let same = |a: &Result<Coefs, String>, b: &Result<Coefs, String>| match (a, b) {
        (Ok(a), Ok(b)) => same_blocks(a, b).is_ok(),
        (Err(a), Err(b)) => a == b,
        _ => false,
    };
    let (mut errors, mut reads) = (0, 0);
    for (quality, sampling) in [
        (95, SamplingFactor::F_1_1),
        (75, SamplingFactor::F_2_2),
        (30, SamplingFactor::F_2_1),
    ] {
        let mut good = Vec::new();
        let mut e = Encoder::new(&mut good, quality);
        e.set_sampling_factor(sampling);
        e.encode(noisy.as_raw(), 48, 40, ColorType::Rgb).unwrap();
        for i in 0..400 {
            let mut bad = good.clone();
            if i > 0 {
                let at = (rng.next() as usize) % bad.len();
                bad[at] ^= 1 << (rng.next() % 8);
            }
            let (fast, slow) = (read(&bad), super::super::entropy::slow_only(|| read(&bad)));
            assert!(same(&fast, &slow), "quality {quality}, copy {i}");
            errors += usize::from(slow.is_err());
            reads += 1;
        }
    }
    assert!(
        errors > 100 && errors < reads - 100,
        "{errors} errors in {reads}"
    );
}
