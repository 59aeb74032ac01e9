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
    // One walk over the blocks: the symbols to write, and their counts for
    // the optimal tables.
    let mut dc_freq = [[0u32; 257]; 2];
    let mut ac_freq = [[0u32; 257]; 2];
    let mut tokens = Vec::with_capacity(c.comps.iter().map(|k| k.blocks.len() * 8).sum());
    walk(c, |ci, blk, diff| {
        let t = tables[ci];
        let cat = category(diff);
        if cat > MAX_DC {
            return Err("a DC difference too large for baseline JPEG".into());
        }
        dc_freq[t][usize::from(cat)] += 1;
        tokens.push(Token::new(t, true, cat, magnitude(diff, cat)));
        symbols(blk, |sym, v, cat| {
            if sym & 15 > MAX_AC {
                return Err("an AC coefficient too large for baseline JPEG".into());
            }
            ac_freq[t][usize::from(sym)] += 1;
            tokens.push(Token::new(t, false, sym, magnitude(v, cat)));
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
    for tok in tokens {
        let table = if tok.dc() {
            &dc[tok.table()]
        } else {
            &ac[tok.table()]
        };
        let (code, size) = table.code(tok.sym());
        // A code (at most 16 bits) and its value's bits (at most 11): one put.
        let cat = tok.cat();
        w.put(u32::from(code) << cat | tok.bits(), size + cat);
    }
    let mut out = w.finish();
    out.extend_from_slice(&[0xFF, 0xD9]);
    Ok(out)
}

/// One symbol to write: which table pair (bit 25), DC or AC (bit 24), the
/// symbol (bits 16-23) and its value's extra bits (bits 0-15).
#[derive(Clone, Copy)]
struct Token(u32);

impl Token {
    fn new(table: usize, dc: bool, sym: u8, bits: u32) -> Token {
        Token((table as u32) << 25 | u32::from(dc) << 24 | u32::from(sym) << 16 | bits)
    }
    fn table(self) -> usize {
        (self.0 >> 25) as usize
    }
    fn dc(self) -> bool {
        self.0 >> 24 & 1 == 1
    }
    fn sym(self) -> u8 {
        (self.0 >> 16) as u8
    }
    /// The number of extra bits: the DC symbol itself, an AC symbol's size.
    fn cat(self) -> u8 {
        if self.dc() {
            self.sym()
        } else {
            self.sym() & 15
        }
    }
    fn bits(self) -> u32 {
        self.0 & 0xFFFF
    }
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
    // Which AC coefficients are nonzero, one bit each (bit i: coefficient i).
    let mut nonzero = 0u64;
    for (i, c) in blk.chunks_exact(4).enumerate() {
        nonzero |= nonzero_lanes(c) << (4 * i);
    }
    nonzero &= !1;
    let mut last = 0u32;
    while nonzero != 0 {
        let i = nonzero.trailing_zeros();
        nonzero &= nonzero - 1;
        let mut run = i - last - 1;
        last = i;
        while run > 15 {
            f(0xF0, 0, 0)?;
            run -= 16;
        }
        let v = i32::from(blk[i as usize]);
        let cat = category(v);
        f((run as u8) << 4 | cat.min(15), v, cat)?;
    }
    if last < 63 {
        f(0x00, 0, 0)?;
    }
    Ok(())
}

/// Which of four coefficients are nonzero, as bits 0-3, found in one
/// 64-bit word: the top bit of each 16-bit lane is set where the lane is
/// nonzero (adding 0x7FFF to its low 15 bits carries into it, or it was
/// set), and one multiplication gathers the four top bits.
fn nonzero_lanes(c: &[i16]) -> u64 {
    let w = c
        .iter()
        .rev()
        .fold(0u64, |w, &v| w << 16 | u64::from(v as u16));
    const LOW: u64 = 0x7FFF_7FFF_7FFF_7FFF;
    let top = (((w & LOW) + LOW) | w) & !LOW;
    ((top >> 15).wrapping_mul(1 << 60 | 1 << 45 | 1 << 30 | 1 << 15)) >> 60
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
struct BitWriter {
    out: Vec<u8>,
    /// The last `n` bits (under 32 between calls) not yet written.
    acc: u64,
    n: u32,
}

impl BitWriter {
    fn new(out: Vec<u8>) -> Self {
        BitWriter { out, acc: 0, n: 0 }
    }

    /// Append the low `len` bits of `bits` (`len` at most 32).
    fn put(&mut self, bits: u32, len: u8) {
        if len == 0 {
            return;
        }
        let len = u32::from(len);
        let mask = if len == 32 {
            u32::MAX
        } else {
            (1u32 << len) - 1
        };
        self.acc = (self.acc << len) | u64::from(bits & mask);
        self.n += len;
        if self.n >= 32 {
            self.n -= 32;
            let word = (self.acc >> self.n) as u32;
            // No 0xFF byte: the four bytes as they are (the common case).
            if (!word).wrapping_sub(0x0101_0101) & word & 0x8080_8080 == 0 {
                self.out.extend_from_slice(&word.to_be_bytes());
            } else {
                for b in word.to_be_bytes() {
                    self.out.push(b);
                    if b == 0xFF {
                        self.out.push(0);
                    }
                }
            }
        }
    }

    /// Write what is left, the last byte padded with one bits.
    fn finish(mut self) -> Vec<u8> {
        let pad = (8 - self.n % 8) % 8;
        let (acc, mut n) = ((self.acc << pad) | ((1u64 << pad) - 1), self.n + pad);
        while n >= 8 {
            n -= 8;
            let b = (acc >> n) as u8;
            self.out.push(b);
            if b == 0xFF {
                self.out.push(0);
            }
        }
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The word trick finds exactly the nonzero lanes, for every mix of
    /// zero and values at the edges of i16 (sign bit alone, low bit alone).
    #[test]
    fn nonzero_lanes_finds_each_nonzero_value() {
        let vals = [
            0,
            1,
            -1,
            2,
            0x4000,
            -0x4000,
            i16::MIN,
            i16::MAX,
            0x0100,
            0x00FF,
        ];
        let n = vals.len();
        for i in 0..n.pow(4) {
            let c = [
                vals[i % n],
                vals[i / n % n],
                vals[i / n / n % n],
                vals[i / n / n / n],
            ];
            let want = (0..4).fold(0, |m, j| m | u64::from(c[j] != 0) << j);
            assert_eq!(nonzero_lanes(&c), want, "{c:?}");
        }
    }
}
