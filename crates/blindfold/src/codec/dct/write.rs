//! Writing coefficients as a baseline JPEG with optimised Huffman tables:
//! one interleaved scan (one plain scan for a grey picture), no restart
//! markers, the input's quantisation tables.

use super::Coefs;
use super::huffman::Table;

/// The largest magnitude category 8-bit JPEG allows for a DC difference
/// and for an AC coefficient.
const MAX_DC: u8 = 11;
const MAX_AC: u8 = 10;

/// What goes before the frame: the segments of the header.
pub(crate) struct Header<'a> {
    /// The EXIF orientation to keep in an orientation-only EXIF block
    /// (1: no block).
    pub orientation: u8,
    /// The ICC profile to write, if any.
    pub icc: Option<&'a [u8]>,
}

/// Encode `c` as a baseline JPEG.
pub(crate) fn write(c: &Coefs, head: &Header) -> Result<Vec<u8>, String> {
    let tables = table_of(c);
    let mut dc_freq = [[0u32; 257]; 2];
    let mut ac_freq = [[0u32; 257]; 2];
    walk(c, |ci, blk, diff| {
        let t = tables[ci];
        let cat = category(diff);
        if cat > MAX_DC {
            return Err("a DC difference too large for baseline JPEG".into());
        }
        dc_freq[t][usize::from(cat)] += 1;
        symbols(blk, |sym, _, _| {
            if sym & 15 > MAX_AC {
                return Err("an AC coefficient too large for baseline JPEG".into());
            }
            ac_freq[t][usize::from(sym)] += 1;
            Ok(())
        })
    })?;
    let n_tables = if c.comps.len() > 1 { 2 } else { 1 };
    let dc: Vec<Table> = (0..n_tables).map(|t| Table::optimal(&dc_freq[t])).collect();
    let ac: Vec<Table> = (0..n_tables).map(|t| Table::optimal(&ac_freq[t])).collect();

    let mut out = Vec::with_capacity(c.comps.iter().map(|k| k.blocks.len() * 16).sum());
    out.extend_from_slice(&[0xFF, 0xD8]);
    segment(&mut out, 0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
    if head.orientation != 1 {
        segment(
            &mut out,
            0xE1,
            &crate::metadata::exif::orientation_only(head.orientation),
        );
    }
    if let Some(icc) = head.icc {
        icc_segments(&mut out, icc)?;
    }
    let mut wide = false;
    for tq in used_tables(c) {
        let t = &c.qt[tq];
        let mut seg = Vec::with_capacity(129);
        if t.iter().all(|&q| q <= 255) {
            seg.push(tq as u8);
            seg.extend(t.iter().map(|&q| q as u8));
        } else {
            wide = true;
            seg.push(0x10 | tq as u8);
            seg.extend(t.iter().flat_map(|q| q.to_be_bytes()));
        }
        segment(&mut out, 0xDB, &seg);
    }
    // SOF1 (extended sequential) where a table needs 16-bit entries.
    let mut sof = vec![8];
    sof.extend_from_slice(&(c.height as u16).to_be_bytes());
    sof.extend_from_slice(&(c.width as u16).to_be_bytes());
    sof.push(c.comps.len() as u8);
    for k in &c.comps {
        sof.extend_from_slice(&[k.id, (k.h << 4 | k.v) as u8, k.tq as u8]);
    }
    segment(&mut out, if wide { 0xC1 } else { 0xC0 }, &sof);
    for t in 0..n_tables {
        let mut seg = vec![t as u8];
        dc[t].append_dht(&mut seg);
        seg.push(0x10 | t as u8);
        ac[t].append_dht(&mut seg);
        segment(&mut out, 0xC4, &seg);
    }
    let mut sos = vec![c.comps.len() as u8];
    for (ci, k) in c.comps.iter().enumerate() {
        let t = tables[ci] as u8;
        sos.extend_from_slice(&[k.id, t << 4 | t]);
    }
    sos.extend_from_slice(&[0, 63, 0]);
    segment(&mut out, 0xDA, &sos);
    let mut w = BitWriter::new(out);
    walk(c, |ci, blk, diff| {
        let t = tables[ci];
        let cat = category(diff);
        dc[t].put(&mut w, cat);
        w.put(magnitude(diff, cat), cat);
        symbols(blk, |sym, v, cat| {
            ac[t].put(&mut w, sym);
            w.put(magnitude(v, cat), cat);
            Ok(())
        })
    })?;
    let mut out = w.finish();
    out.extend_from_slice(&[0xFF, 0xD9]);
    Ok(out)
}

/// Which Huffman table pair each component uses: 0 for the first (luma),
/// 1 for the others (chroma).
fn table_of(c: &Coefs) -> Vec<usize> {
    (0..c.comps.len()).map(|i| usize::from(i > 0)).collect()
}

/// The quantisation tables the components use, each once, in order.
fn used_tables(c: &Coefs) -> Vec<usize> {
    let mut v: Vec<usize> = c.comps.iter().map(|k| k.tq).collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// Visit every coded block in scan order with its DC difference.
fn walk(
    c: &Coefs,
    mut f: impl FnMut(usize, &[i16; 64], i32) -> Result<(), String>,
) -> Result<(), String> {
    let mut pred = vec![0i32; c.comps.len()];
    if c.comps.len() == 1 {
        let k = &c.comps[0];
        let (bw, bh) = k.real_blocks(c);
        for by in 0..bh {
            for bx in 0..bw {
                let blk = &k.blocks[by * k.bw + bx];
                f(0, blk, i32::from(blk[0]) - pred[0])?;
                pred[0] = i32::from(blk[0]);
            }
        }
        return Ok(());
    }
    let per_mcu: usize = c.comps.iter().map(|k| k.h * k.v).sum();
    if per_mcu > 10 {
        return Err("too many blocks in an MCU for one scan".into());
    }
    let (mx, my) = c.mcus();
    for my_ in 0..my {
        for mx_ in 0..mx {
            for (ci, k) in c.comps.iter().enumerate() {
                for v in 0..k.v {
                    for h in 0..k.h {
                        let (bx, by) = (mx_ * k.h + h, my_ * k.v + v);
                        let blk = &k.blocks[by * k.bw + bx];
                        f(ci, blk, i32::from(blk[0]) - pred[ci])?;
                        pred[ci] = i32::from(blk[0]);
                    }
                }
            }
        }
    }
    Ok(())
}

/// The run/size symbols of a block's AC coefficients, with each value and
/// its category (0 for ZRL and EOB).
fn symbols(
    blk: &[i16; 64],
    mut f: impl FnMut(u8, i32, u8) -> Result<(), String>,
) -> Result<(), String> {
    let mut run = 0u8;
    for &v in &blk[1..] {
        if v == 0 {
            run += 1;
            continue;
        }
        while run > 15 {
            f(0xF0, 0, 0)?;
            run -= 16;
        }
        let v = i32::from(v);
        let cat = category(v);
        f(run << 4 | cat.min(15), v, cat)?;
        run = 0;
    }
    if run > 0 {
        f(0x00, 0, 0)?;
    }
    Ok(())
}

/// The number of bits of `|v|`.
fn category(v: i32) -> u8 {
    (32 - v.unsigned_abs().leading_zeros()) as u8
}

/// The extra bits of `v` in category `cat` (negative values are stored as
/// `v - 1` in `cat` bits).
fn magnitude(v: i32, cat: u8) -> u32 {
    if cat == 0 {
        0
    } else if v < 0 {
        (v - 1) as u32 & ((1u32 << cat) - 1)
    } else {
        v as u32
    }
}

fn segment(out: &mut Vec<u8>, marker: u8, data: &[u8]) {
    out.extend_from_slice(&[0xFF, marker]);
    out.extend_from_slice(&((data.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(data);
}

/// The ICC profile in APP2 chunks, as the ICC specification lays it out.
fn icc_segments(out: &mut Vec<u8>, icc: &[u8]) -> Result<(), String> {
    const CHUNK: usize = 65_519;
    let n = icc.len().div_ceil(CHUNK);
    if n > 255 {
        return Err("ICC profile too large for JPEG".into());
    }
    for (i, part) in icc.chunks(CHUNK).enumerate() {
        let mut seg = Vec::with_capacity(part.len() + 14);
        seg.extend_from_slice(b"ICC_PROFILE\0");
        seg.extend_from_slice(&[(i + 1) as u8, n as u8]);
        seg.extend_from_slice(part);
        segment(out, 0xE2, &seg);
    }
    Ok(())
}

/// Entropy-coded bytes with 0xFF stuffing.
pub(crate) struct BitWriter {
    out: Vec<u8>,
    acc: u64,
    n: u32,
}

impl BitWriter {
    fn new(out: Vec<u8>) -> Self {
        BitWriter { out, acc: 0, n: 0 }
    }

    /// Append the low `len` bits of `bits`.
    pub(crate) fn put(&mut self, bits: u32, len: u8) {
        if len == 0 {
            return;
        }
        self.acc = (self.acc << len) | u64::from(bits & ((1u32 << len) - 1));
        self.n += u32::from(len);
        while self.n >= 8 {
            self.n -= 8;
            let b = (self.acc >> self.n) as u8;
            self.out.push(b);
            if b == 0xFF {
                self.out.push(0);
            }
        }
    }

    /// Pad the last byte with one bits.
    fn finish(mut self) -> Vec<u8> {
        if self.n > 0 {
            let pad = 8 - self.n as u8;
            self.put((1 << pad) - 1, pad);
        }
        self.out
    }
}
