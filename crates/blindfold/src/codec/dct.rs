//! JPEG in, JPEG out, edited in the DCT domain: every 8x8 block that no mask
//! touches keeps its quantised coefficients bit for bit, with the input's
//! quantisation tables; the blocks of every MCU a mask touches are replaced
//! entirely, in every component (a mask grows to whole MCUs, never shrinks).
//!
//! - `solid`: each replaced block is flat, its DC black (luma) or neutral
//!   (chroma), its AC zero.
//! - `noise`: random RGB pixels, as the pixel fill draws them, turned into
//!   YCbCr (chroma taken at the top-left pixel of its samples, as the
//!   re-encode's 4:2:0 does), transformed and quantised with the input's
//!   tables: random coefficients that do not depend on the original.
//!
//! The output is baseline (progressive input becomes baseline), one
//! interleaved scan with optimised Huffman tables and no restart markers;
//! a JFIF header, the ICC profile when given, and, when the input is turned
//! by its EXIF orientation, an EXIF block holding that tag alone (the pixels
//! stay as stored; see `metadata::exif::orientation_only`).
//!
//! What this path does not carry is an error naming it, and the caller
//! re-encodes from pixels instead: arithmetic coding, 12-bit, lossless and
//! hierarchical JPEG, CMYK and RGB JPEGs, unusual sampling, damaged data.
//! The output is read back and every block compared before it is written:
//! by [`edit`], or by the pipeline's check of the output (which reads the
//! coefficients in its strict walk of the file).

mod huffman;
mod read;
mod write;

pub(crate) use read::read;

use super::jpeg::first_exif;
use crate::anonymize::{Mask, Mode, Rng};
use crate::metadata::jpeg::walk;
use image::metadata::Orientation;

/// One colour component's coefficients, on the MCU-padded block grid.
pub(crate) struct Component {
    id: u8,
    h: usize,
    v: usize,
    /// Its quantisation table.
    tq: usize,
    /// Blocks across and down the padded grid.
    bw: usize,
    bh: usize,
    /// Quantised coefficients in zigzag order, row by row.
    blocks: Vec<[i16; 64]>,
}

impl Component {
    /// Blocks across and down that hold picture (the rest is MCU padding).
    fn real_blocks(&self, c: &Coefs) -> (usize, usize) {
        (
            (c.width * self.h).div_ceil(8 * c.hmax),
            (c.height * self.v).div_ceil(8 * c.vmax),
        )
    }
}

/// A JPEG's frame and coefficients.
pub(crate) struct Coefs {
    width: usize,
    height: usize,
    hmax: usize,
    vmax: usize,
    progressive: bool,
    comps: Vec<Component>,
    /// Quantisation tables in zigzag order, as at the first scan.
    qt: [[u16; 64]; 4],
    jfif: bool,
    /// The Adobe segment's colour transform, if there is one.
    adobe: Option<u8>,
}

impl Coefs {
    /// MCUs across and down.
    fn mcus(&self) -> (usize, usize) {
        (
            self.width.div_ceil(8 * self.hmax),
            self.height.div_ceil(8 * self.vmax),
        )
    }
}

/// A JPEG edited in the DCT domain.
#[derive(Clone, Debug)]
pub struct Edited {
    /// The output file.
    pub bytes: Vec<u8>,
    /// The input was progressive (the output is baseline all the same).
    pub progressive: bool,
    /// MCUs replaced.
    pub mcus_replaced: usize,
    /// MCUs in the picture.
    pub mcus: usize,
}

/// Edit `input` in the DCT domain: replace every MCU that `masks` (in
/// pixels of the upright picture, as a viewer shows it) touch with `mode`'s
/// fill. Only `Noise` and `Solid` are done here. `Err` says why this path
/// cannot carry the input; nothing is written then. The output is read back
/// and every block compared before it is returned.
pub fn edit(
    input: &[u8],
    masks: &[Mask],
    mode: Mode,
    seed: u64,
    icc: Option<&[u8]>,
) -> Result<Edited, String> {
    // The strict walk the decoder makes, for its message: the reader
    // refuses all it refuses.
    super::entropy::check(input).map_err(|e| format!("damaged: {e}"))?;
    let w = edit_coefs(input, read(input)?, masks, mode, seed, icc)?;
    let back = read(&w.edited.bytes).map_err(|e| format!("own output does not read back: {e}"))?;
    same_blocks(&w.coefs, &back)?;
    Ok(w.edited)
}

/// An edit written, before its output is read back.
pub(crate) struct Written {
    pub(crate) edited: Edited,
    /// The coefficients written: the output must read back to exactly these
    /// (see [`same_blocks`]).
    pub(crate) coefs: Coefs,
}

/// [`edit`] of `input` whose coefficients `c` were read already (by
/// [`crate::codec::decode_with`], in the same walk that checked the file),
/// without reading the output back: the caller does that, with the strict
/// read of its own check of the output, and compares with
/// [`Written::coefs`].
pub(crate) fn edit_coefs(
    input: &[u8],
    mut c: Coefs,
    masks: &[Mask],
    mode: Mode,
    seed: u64,
    icc: Option<&[u8]>,
) -> Result<Written, String> {
    if !matches!(mode, Mode::Noise | Mode::Solid) {
        return Err(format!("{mode:?} needs the pixels").to_lowercase());
    }
    let orientation = first_exif(&walk(input))
        .and_then(Orientation::from_exif_chunk)
        .map_or(1, Orientation::to_exif);
    colour(&c)?;
    if c.comps
        .iter()
        .any(|k| !c.hmax.is_multiple_of(k.h) || !c.vmax.is_multiple_of(k.v))
    {
        return Err("unusual chroma sampling factors".into());
    }
    let touched = touched(&c, masks, orientation);
    fill(&mut c, &touched, mode, seed);
    let head = write::Header { orientation, icc };
    let bytes = write::write(&c, &head)?;
    let (mx, my) = c.mcus();
    let edited = Edited {
        bytes,
        progressive: c.progressive,
        mcus_replaced: touched.iter().filter(|&&t| t).count(),
        mcus: mx * my,
    };
    Ok(Written { edited, coefs: c })
}

/// Which pixels of the upright picture lie in an MCU where `output`'s
/// coefficients differ from `original`'s, when `output` is an edit of
/// `original` in the DCT domain: both read, with the same frame, sampling,
/// quantisation tables and orientation. Row by row, `true` where replaced;
/// `None` when the two do not share their blocks' meaning (a re-encoded
/// output, another picture).
pub fn replaced(original: &[u8], output: &[u8]) -> Option<Vec<bool>> {
    let orientation = |b: &[u8]| {
        first_exif(&walk(b))
            .and_then(Orientation::from_exif_chunk)
            .map_or(1, Orientation::to_exif)
    };
    let o = orientation(original);
    if o != orientation(output) {
        return None;
    }
    let (a, b) = (read(original).ok()?, read(output).ok()?);
    let shape = |c: &Coefs| {
        let k: Vec<_> = c.comps.iter().map(|k| (k.h, k.v, c.qt[k.tq])).collect();
        (c.width, c.height, k)
    };
    if shape(&a) != shape(&b) {
        return None;
    }
    let (mx, my) = a.mcus();
    let (mw, mh) = (8 * a.hmax, 8 * a.vmax);
    let (w, h) = (a.width, a.height);
    let uw = if o >= 5 { h } else { w };
    let mut map = vec![false; w * h];
    for uy in 0..my {
        for ux in 0..mx {
            let differs = a.comps.iter().zip(&b.comps).any(|(ka, kb)| {
                (0..ka.v).any(|v| {
                    let row = (uy * ka.v + v) * ka.bw + ux * ka.h;
                    ka.blocks[row..row + ka.h] != kb.blocks[row..row + ka.h]
                })
            });
            if !differs {
                continue;
            }
            for sy in uy * mh..((uy + 1) * mh).min(h) {
                for sx in ux * mw..((ux + 1) * mw).min(w) {
                    let (x, y) = match o {
                        2 => (w - 1 - sx, sy),
                        3 => (w - 1 - sx, h - 1 - sy),
                        4 => (sx, h - 1 - sy),
                        5 => (sy, sx),
                        6 => (h - 1 - sy, sx),
                        7 => (h - 1 - sy, w - 1 - sx),
                        8 => (sy, w - 1 - sx),
                        _ => (sx, sy),
                    };
                    map[y * uw + x] = true;
                }
            }
        }
    }
    Some(map)
}

/// `input` with the picture inverted (every coefficient negated) in the
/// MCU at `(mx, my)`: a replaced MCU that is no fill.
#[cfg(test)]
pub(crate) fn invert_mcu(input: &[u8], mx: usize, my: usize) -> Vec<u8> {
    let mut c = read(input).unwrap();
    for k in &mut c.comps {
        for v in 0..k.v {
            for h in 0..k.h {
                let i = (my * k.v + v) * k.bw + mx * k.h + h;
                k.blocks[i] = k.blocks[i].map(|x| -x);
            }
        }
    }
    let head = write::Header {
        orientation: 1,
        icc: None,
    };
    write::write(&c, &head).unwrap()
}

/// Only grey and YCbCr pictures: the fills' colours assume them.
fn colour(c: &Coefs) -> Result<(), String> {
    match c.comps.len() {
        1 => Ok(()),
        3 => match c.adobe {
            Some(1) => Ok(()),
            Some(0) => Err("an RGB JPEG (Adobe transform 0)".into()),
            Some(t) => Err(format!("Adobe colour transform {t}")),
            None => {
                let ids: Vec<u8> = c.comps.iter().map(|k| k.id).collect();
                if !c.jfif && ids == b"RGB" {
                    Err("an RGB JPEG (components R, G, B)".into())
                } else {
                    Ok(())
                }
            }
        },
        n => Err(format!("{n} colour components (CMYK or other)")),
    }
}

/// Which MCUs (row by row) any mask touches. A pixel is covered as the
/// pixel fill covers it ([`Mask::row_span`]), mapped from the upright
/// picture to the stored one.
fn touched(c: &Coefs, masks: &[Mask], orientation: u8) -> Vec<bool> {
    let (w, h) = (c.width, c.height);
    let (uw, uh) = if orientation >= 5 { (h, w) } else { (w, h) };
    let (mx, my) = c.mcus();
    let (mw, mh) = (8 * c.hmax, 8 * c.vmax);
    let mut t = vec![false; mx * my];
    let stored = |x: usize, y: usize| -> (usize, usize) {
        match orientation {
            2 => (w - 1 - x, y),
            3 => (w - 1 - x, h - 1 - y),
            4 => (x, h - 1 - y),
            5 => (y, x),
            6 => (y, h - 1 - x),
            7 => (w - 1 - y, h - 1 - x),
            8 => (w - 1 - y, x),
            _ => (x, y),
        }
    };
    for m in masks {
        for y in m.rows(uh as u32) {
            let span = m.row_span(y, uw as u32);
            if span.is_empty() {
                continue;
            }
            // A row of the upright picture is a straight row or column of
            // the stored one: mark the MCUs between its two ends.
            let (ax, ay) = stored(span.start as usize, y as usize);
            let (bx, by) = stored(span.end as usize - 1, y as usize);
            let (x0, x1) = (ax.min(bx) / mw, ax.max(bx) / mw);
            let (y0, y1) = (ay.min(by) / mh, ay.max(by) / mh);
            for my_ in y0..=y1 {
                for mx_ in x0..=x1 {
                    t[my_ * mx + mx_] = true;
                }
            }
        }
    }
    t
}

/// Natural (row-major) index of each zigzag position.
const ZIGZAG: [usize; 64] = [
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20,
    13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59,
    52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
];

/// Replace every block of the touched MCUs.
fn fill(c: &mut Coefs, touched: &[bool], mode: Mode, seed: u64) {
    let (mx, _) = c.mcus();
    let (mw, mh) = (8 * c.hmax, 8 * c.vmax);
    let mut rng = Rng::new(seed);
    let cos = cos_table();
    let mut rgb = vec![[0u8; 3]; mw * mh];
    for (i, _) in touched.iter().enumerate().filter(|(_, t)| **t) {
        let (ux, uy) = (i % mx, i / mx);
        if mode == Mode::Noise {
            for p in &mut rgb {
                let v = rng.next();
                *p = [v as u8, (v >> 8) as u8, (v >> 16) as u8];
            }
        }
        let grey = c.comps.len() == 1;
        for ci in 0..c.comps.len() {
            let (kh, kv, tq) = (c.comps[ci].h, c.comps[ci].v, c.comps[ci].tq);
            let (sx, sy) = (c.hmax / kh, c.vmax / kv);
            let q = c.qt[tq];
            for v in 0..kv {
                for h in 0..kh {
                    let mut blk = [0i16; 64];
                    if mode == Mode::Noise {
                        let mut s = [0f32; 64];
                        for (n, val) in s.iter_mut().enumerate() {
                            let (x, y) = ((h * 8 + n % 8) * sx, (v * 8 + n / 8) * sy);
                            let p = rgb[y * mw + x];
                            *val = sample(p, if grey { 3 } else { ci }) - 128.0;
                        }
                        let f = fdct(&s, &cos);
                        for (z, b) in blk.iter_mut().enumerate() {
                            let x = (f[ZIGZAG[z]] / f32::from(q[z])).round();
                            *b = x.clamp(-1023.0, 1023.0) as i16;
                        }
                    } else if ci == 0 {
                        // Black: every sample 0, level-shifted to -128.
                        blk[0] = (-1024.0 / f32::from(q[0])).round() as i16;
                    }
                    let (bx, by) = (ux * kh + h, uy * kv + v);
                    let bw = c.comps[ci].bw;
                    c.comps[ci].blocks[by * bw + bx] = blk;
                }
            }
        }
    }
}

/// Component `ci` of an RGB pixel (JFIF YCbCr; 3: grey, the red value).
fn sample(p: [u8; 3], ci: usize) -> f32 {
    let [r, g, b] = p.map(f32::from);
    match ci {
        0 => 0.299 * r + 0.587 * g + 0.114 * b,
        1 => -0.168_736 * r - 0.331_264 * g + 0.5 * b + 128.0,
        2 => 0.5 * r - 0.418_688 * g - 0.081_312 * b + 128.0,
        _ => r,
    }
}

/// `cos[u][x]` of the 8-point DCT-II with JPEG's scaling (C(0) = 1/sqrt 2,
/// a half per dimension).
fn cos_table() -> [[f32; 8]; 8] {
    let mut t = [[0f32; 8]; 8];
    for (u, row) in t.iter_mut().enumerate() {
        for (x, v) in row.iter_mut().enumerate() {
            let c = if u == 0 {
                std::f32::consts::FRAC_1_SQRT_2
            } else {
                1.0
            };
            let a = ((2 * x + 1) * u) as f32 * std::f32::consts::PI / 16.0;
            *v = 0.5 * c * a.cos();
        }
    }
    t
}

/// The forward DCT of an 8x8 block of level-shifted samples (row-major).
fn fdct(s: &[f32; 64], cos: &[[f32; 8]; 8]) -> [f32; 64] {
    let mut rows = [0f32; 64];
    for y in 0..8 {
        for u in 0..8 {
            rows[y * 8 + u] = (0..8).map(|x| s[y * 8 + x] * cos[u][x]).sum();
        }
    }
    let mut out = [0f32; 64];
    for v in 0..8 {
        for u in 0..8 {
            out[v * 8 + u] = (0..8).map(|y| rows[y * 8 + u] * cos[v][y]).sum();
        }
    }
    out
}

/// The output read back must hold exactly the blocks that were written:
/// `Ok` when `b` (the output read back) holds the frame, tables and every
/// picture block of `a` (what was written).
pub(crate) fn same_blocks(a: &Coefs, b: &Coefs) -> Result<(), String> {
    let frame = |c: &Coefs| {
        let k: Vec<_> = c.comps.iter().map(|k| (k.id, k.h, k.v, k.tq)).collect();
        (c.width, c.height, k)
    };
    if frame(a) != frame(b) {
        return Err("own output has another frame".into());
    }
    for (ka, kb) in a.comps.iter().zip(&b.comps) {
        if a.qt[ka.tq] != b.qt[kb.tq] {
            return Err("own output has other quantisation tables".into());
        }
        let (bw, bh) = ka.real_blocks(a);
        for y in 0..bh {
            let row = y * ka.bw..y * ka.bw + bw;
            if ka.blocks[row.clone()] != kb.blocks[row] {
                return Err("own output holds other coefficients".into());
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
