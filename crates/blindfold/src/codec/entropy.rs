//! A strict walk over a JPEG's entropy-coded data, as libjpeg-turbo's
//! `djpeg -strict` would read it, without decoding pixels.
//!
//! zune-jpeg is lenient where a viewer wants to be: it decodes a scan cut
//! short as flat colour, reads past restart markers out of sequence, and
//! skips damaged bytes. [`check`] refuses all of that. For each scan it
//! Huffman-decodes every block of every MCU (progressive scans included,
//! with the refinement state they need) and requires:
//! - every code to be in its table, and no block to need data from beyond
//!   the next marker (a premature end);
//! - after each restart interval and at the end of the scan, nothing left
//!   over but the bits padding the last byte (no extraneous bytes);
//! - restart markers `RST0..RST7` in sequence at every interval;
//! - sequential scans to cover all 64 coefficients; progressive scans to
//!   follow a valid progression; every component to get its DC data;
//! - nothing but markers between segments, and an EOI after the last scan.

mod scan;
pub(super) mod walk;

use scan::scan;
use walk::{FrameHeader, segments};

/// Codes of up to this many bits are decoded by one table lookup.
const LOOKUP_BITS: u32 = 9;

/// A Huffman table in canonical form.
pub(super) struct Huff {
    /// Largest code of each length (index 1..=16), -1 when none.
    maxcode: [i32; 18],
    /// Offset from a code to its symbol index, per length.
    valoff: [i32; 17],
    vals: Vec<u8>,
    /// By the next [`LOOKUP_BITS`] bits: `length << 8 | symbol` of the code
    /// they start with, or 0 when that code is longer (or not in the
    /// table): then the lengths are walked one by one.
    lookup: Vec<u16>,
    /// By the next [`LOOKUP_BITS`] bits, for an AC table: an AC code and its
    /// value's bits when both fit in them (see [`Bits::ac_fast`]), else 0.
    fast_ac: Vec<u32>,
}

impl Huff {
    pub(super) fn parse(counts: &[u8], vals: &[u8]) -> Result<Huff, String> {
        let mut h = Huff {
            maxcode: [-1; 18],
            valoff: [0; 17],
            vals: vals.to_vec(),
            lookup: Vec::new(),
            fast_ac: Vec::new(),
        };
        let (mut code, mut k) = (0i32, 0i32);
        for l in 1..=16 {
            let n = i32::from(counts[l - 1]);
            h.valoff[l] = k - code;
            if n > 0 {
                code += n;
                k += n;
                h.maxcode[l] = code - 1;
            }
            if code > (1 << l) {
                return Err("bad Huffman table".into());
            }
            code <<= 1;
        }
        h.maxcode[17] = i32::MAX;
        h.lookup = vec![0; 1 << LOOKUP_BITS];
        for l in 1..=LOOKUP_BITS as usize {
            let n = i32::from(counts[l - 1]);
            for code in h.maxcode[l] - n + 1..=h.maxcode[l] {
                let Some(&val) = usize::try_from(code + h.valoff[l])
                    .ok()
                    .and_then(|i| h.vals.get(i))
                else {
                    continue;
                };
                let free = LOOKUP_BITS as usize - l;
                let first = (code as usize) << free;
                for e in &mut h.lookup[first..first + (1 << free)] {
                    *e = (l as u16) << 8 | u16::from(val);
                }
            }
        }
        h.fast_ac = (0..1u32 << LOOKUP_BITS).map(|i| fast_ac(&h, i)).collect();
        Ok(h)
    }
}

/// The [`Huff::fast_ac`] entry of the bits `i`: the value (bits 16-31, as
/// i16), the run (bits 4-7) and the bits used, code and value (bits 0-3),
/// of an AC code with a nonzero value that fits in [`LOOKUP_BITS`] with it;
/// 0 otherwise.
fn fast_ac(h: &Huff, i: u32) -> u32 {
    let hit = h.lookup[i as usize];
    let (l, rs) = (u32::from(hit >> 8), u32::from(hit & 0xFF));
    let (r, size) = (rs >> 4, rs & 15);
    if hit == 0 || size == 0 || l + size > LOOKUP_BITS {
        return 0;
    }
    let v = extend((i >> (LOOKUP_BITS - l - size)) & ((1 << size) - 1), size);
    u32::from(v as i16 as u16) << 16 | r << 4 | (l + size)
}

/// The value of `s` extra bits `v` (JPEG's EXTEND).
pub(super) fn extend(v: u32, s: u32) -> i32 {
    if s == 0 {
        0
    } else if v < 1 << (s - 1) {
        v as i32 - (1 << s) + 1
    } else {
        v as i32
    }
}

#[cfg(test)]
thread_local! {
    /// Tests: [`Bits::ac_fast`] takes nothing, every code goes the long way.
    static SLOW_ONLY: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Tests: `f` run with every AC code decoded code by code, for comparing
/// with the one-lookup path.
#[cfg(test)]
pub(super) fn slow_only<T>(f: impl FnOnce() -> T) -> T {
    SLOW_ONLY.set(true);
    let out = f();
    SLOW_ONLY.set(false);
    out
}

/// Bits of one restart interval, with markers and byte stuffing handled.
pub(super) struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
    buf: u64,
    n: u32,
    marker: bool,
}

const PREMATURE: &str = "premature end of data segment (scan data cut short)";

impl<'a> Bits<'a> {
    pub(super) fn new(data: &'a [u8], pos: usize) -> Self {
        Bits {
            data,
            pos,
            buf: 0,
            n: 0,
            marker: false,
        }
    }

    /// Top up `buf` to more than 56 bits, or to the marker. Eight bytes at
    /// once where they hold no 0xFF (no stuffing, no marker).
    #[inline(never)]
    fn fill(&mut self) {
        if self.n <= 56
            && let Some(word) = self.data.get(self.pos..self.pos + 8)
        {
            let word = u64::from_be_bytes(word.try_into().unwrap_or_default());
            // A byte 0xFF is a byte of !word that is zero.
            let inv = !word;
            if inv.wrapping_sub(0x0101_0101_0101_0101) & word & 0x8080_8080_8080_8080 == 0 {
                let take = (64 - self.n) / 8;
                let bits = 8 * take;
                self.buf |= (word >> self.n) & (u64::MAX << (64 - self.n - bits));
                self.n += bits;
                self.pos += take as usize;
                return;
            }
        }
        while self.n <= 56 && !self.marker {
            let Some(&b) = self.data.get(self.pos) else {
                self.marker = true;
                return;
            };
            if b == 0xFF {
                let mut j = self.pos + 1;
                while self.data.get(j) == Some(&0xFF) {
                    j += 1;
                }
                if self.data.get(j) != Some(&0) {
                    self.marker = true;
                    return;
                }
                self.pos = j + 1;
            } else {
                self.pos += 1;
            }
            self.buf |= u64::from(b) << (56 - self.n);
            self.n += 8;
        }
    }

    #[inline(always)]
    pub(super) fn bits(&mut self, s: u32) -> Result<u32, String> {
        if s == 0 {
            return Ok(0);
        }
        if self.n < s {
            self.fill();
            if self.n < s {
                return Err(PREMATURE.into());
            }
        }
        let v = (self.buf >> (64 - s)) as u32;
        self.buf <<= s;
        self.n -= s;
        Ok(v)
    }

    #[inline(always)]
    pub(super) fn decode(&mut self, h: &Huff) -> Result<u8, String> {
        if self.n < 16 {
            self.fill();
        }
        let hit = h.lookup[(self.buf >> (64 - LOOKUP_BITS)) as usize];
        let l = u32::from(hit >> 8);
        if hit != 0 && l <= self.n {
            self.buf <<= l;
            self.n -= l;
            return Ok(hit as u8);
        }
        self.decode_slow(h)
    }

    /// An AC code and its value's bits at once, when both fit in the next
    /// [`LOOKUP_BITS`] bits and are there: `(value << 16 | run << 4 | bits
    /// used)`, consumed; 0 (nothing consumed) when the caller must take the
    /// code by [`Bits::decode`] and its value by [`Bits::bits`].
    #[inline(always)]
    pub(super) fn ac_fast(&mut self, h: &Huff) -> u32 {
        #[cfg(test)]
        if SLOW_ONLY.get() {
            return 0;
        }
        if self.n < 16 {
            self.fill();
        }
        let e = h.fast_ac[(self.buf >> (64 - LOOKUP_BITS)) as usize];
        let l = e & 15;
        if e == 0 || l > self.n {
            return 0;
        }
        self.buf <<= l;
        self.n -= l;
        e
    }

    /// [`Bits::decode`] of a code longer than the lookup, or of one cut
    /// short.
    #[cold]
    #[inline(never)]
    fn decode_slow(&mut self, h: &Huff) -> Result<u8, String> {
        let peek = (self.buf >> 48) as i32;
        let mut l = 1;
        while l <= 16 && (peek >> (16 - l)) > h.maxcode[l] {
            l += 1;
        }
        if l > 16 {
            return Err("bad Huffman code".into());
        }
        if l as u32 > self.n {
            return Err(PREMATURE.into());
        }
        let code = peek >> (16 - l);
        self.buf <<= l;
        self.n -= l as u32;
        let i = usize::try_from(code + h.valoff[l]).map_err(|_| "bad Huffman code")?;
        h.vals
            .get(i)
            .copied()
            .ok_or_else(|| "bad Huffman code".into())
    }

    /// End of an interval: only padding bits may be left before a marker.
    /// Returns the marker's code and the offset just past it.
    pub(super) fn finish(&mut self) -> Result<(u8, usize), String> {
        self.fill();
        if !self.marker || self.n >= 8 {
            return Err("extraneous bytes after the scan data of an interval".into());
        }
        let mut j = self.pos + 1;
        while self.data.get(j) == Some(&0xFF) {
            j += 1;
        }
        match self.data.get(j) {
            Some(&m) => Ok((m, j + 1)),
            None => Err("premature end of JPEG file".into()),
        }
    }
}

struct Comp {
    id: u8,
    h: usize,
    v: usize,
    /// Per block (in the MCU-padded grid), which coefficients are nonzero
    /// so far (progressive only).
    nonzero: Vec<u64>,
    grid_w: usize,
}

struct Frame {
    progressive: bool,
    width: usize,
    height: usize,
    hmax: usize,
    vmax: usize,
    comps: Vec<Comp>,
    /// Bit depth reached per component and coefficient, -1 before any scan.
    coef_bits: Vec<[i32; 64]>,
}

impl Frame {
    fn mcus(&self) -> (usize, usize) {
        (
            self.width.div_ceil(8 * self.hmax),
            self.height.div_ceil(8 * self.vmax),
        )
    }
}

pub(super) fn be16(b: &[u8], at: usize) -> Result<usize, String> {
    b.get(at..at + 2)
        .map(|s| usize::from(u16::from_be_bytes([s[0], s[1]])))
        .ok_or_else(|| "truncated segment".into())
}

/// Walk `bytes` from SOI to EOI, checking every scan. `Ok` means a strict
/// decoder would read it without a warning.
pub(super) fn check(bytes: &[u8]) -> Result<(), String> {
    let mut dc: [Option<Huff>; 4] = Default::default();
    let mut ac: [Option<Huff>; 4] = Default::default();
    let mut frame: Option<Frame> = None;
    let mut interval = 0usize;
    segments(bytes, |marker, seg, pos| {
        match marker {
            0xC0..=0xC2 => {
                if frame.is_some() {
                    return Err("more than one frame header".into());
                }
                frame = Some(parse_frame(seg, marker == 0xC2)?);
            }
            0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => {
                return Err("lossless, hierarchical or arithmetic-coded JPEG".into());
            }
            0xC4 => parse_dht(seg, &mut dc, &mut ac)?,
            0xDD => interval = be16(seg, 0)?,
            0xDA => {
                let f = frame.as_mut().ok_or("scan before the frame header")?;
                return scan(bytes, pos, seg, f, &dc, &ac, interval).map(Some);
            }
            0xDB | 0xE0..=0xEF | 0xFE => {}
            _ => return Err(format!("unexpected marker 0x{marker:02X}")),
        }
        Ok(None)
    })?;
    finish(frame.as_ref())
}

fn finish(frame: Option<&Frame>) -> Result<(), String> {
    let f = frame.ok_or("no frame header")?;
    if f.coef_bits.iter().any(|b| b[0] < 0) {
        return Err("premature end of JPEG file: a component has no scan".into());
    }
    if !f.progressive && f.coef_bits.iter().any(|b| b.iter().any(|&x| x < 0)) {
        return Err("a component has no complete scan".into());
    }
    Ok(())
}

fn parse_frame(seg: &[u8], progressive: bool) -> Result<Frame, String> {
    let head = FrameHeader::parse(seg)?;
    let comps = head
        .comps
        .iter()
        .map(|c| Comp {
            id: c.id,
            h: c.h,
            v: c.v,
            nonzero: Vec::new(),
            grid_w: 0,
        })
        .collect::<Vec<_>>();
    let mut f = Frame {
        progressive,
        width: head.width,
        height: head.height,
        hmax: head.hmax,
        vmax: head.vmax,
        coef_bits: vec![[-1; 64]; comps.len()],
        comps,
    };
    if progressive {
        let (mx, my) = f.mcus();
        for c in &mut f.comps {
            c.grid_w = mx * c.h;
            c.nonzero = vec![0; mx * c.h * my * c.v];
        }
    }
    Ok(f)
}

pub(super) fn parse_dht(
    mut seg: &[u8],
    dc: &mut [Option<Huff>; 4],
    ac: &mut [Option<Huff>; 4],
) -> Result<(), String> {
    while !seg.is_empty() {
        let tc_th = seg[0];
        let counts = seg.get(1..17).ok_or("truncated Huffman table")?;
        let total: usize = counts.iter().map(|&c| usize::from(c)).sum();
        let vals = seg.get(17..17 + total).ok_or("truncated Huffman table")?;
        if total > 256 || (tc_th >> 4) > 1 || (tc_th & 15) > 3 {
            return Err("bad Huffman table".into());
        }
        let h = Huff::parse(counts, vals)?;
        let slot = usize::from(tc_th & 15);
        if tc_th >> 4 == 0 {
            dc[slot] = Some(h);
        } else {
            ac[slot] = Some(h);
        }
        seg = &seg[17 + total..];
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A repeatable stream of random numbers.
    fn xorshift(mut seed: u64) -> impl FnMut() -> u64 {
        move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        }
    }

    /// Bits come out as the destuffed bytes before the first marker hold
    /// them, whichever way the buffer was filled (eight bytes at once, or
    /// byte by byte around 0xFF), and reading past the marker is an error.
    #[test]
    fn bits_read_the_destuffed_bytes_up_to_the_marker() {
        let mut next = xorshift(0x9e37_79b9_7f4a_7c15);
        for _ in 0..500 {
            // Random bytes, some 0xFF (stuffed, with fill bytes 0xFF before
            // them sometimes), then a marker.
            let (mut data, mut plain) = (Vec::new(), Vec::new());
            for _ in 0..next() % 80 {
                let b = match next() % 8 {
                    0 => 0xFF,
                    _ => next() as u8,
                };
                plain.push(b);
                data.push(b);
                if b == 0xFF {
                    if next().is_multiple_of(4) {
                        data.push(0xFF);
                    }
                    data.push(0);
                }
            }
            data.extend_from_slice(&[0xFF, 0xD0 + (next() % 8) as u8, 1, 2, 3]);
            let total = plain.len() * 8;
            let mut r = Bits::new(&data, 0);
            let mut at = 0usize;
            loop {
                let want = (next() % 17) as u32;
                let got = r.bits(want);
                if at + want as usize > total {
                    assert!(got.is_err(), "read past the marker");
                    break;
                }
                let mut v = 0u32;
                for i in at..at + want as usize {
                    v = v << 1 | u32::from(plain[i / 8] >> (7 - i % 8) & 1);
                }
                assert_eq!(got, Ok(v), "at bit {at} of {total}");
                at += want as usize;
            }
        }
    }

    /// The lookup table decodes exactly as walking the lengths does:
    /// symbols, bits used, and errors (a code not in the table, a code cut
    /// short by a marker), on random tables and random bits.
    #[test]
    fn lookup_decodes_as_the_length_walk() {
        let mut next = xorshift(0x2545_f491_4f6c_dd1d);
        for _ in 0..200 {
            // Random code counts per length, kept within a valid prefix code.
            let mut counts = [0u8; 16];
            let mut room = 1i64;
            for (i, c) in counts.iter_mut().enumerate() {
                room *= 2;
                let n = (next() % 4) as i64 * if i < 3 { 1 } else { 2 };
                let n = n.min(room - 1).max(0);
                *c = n as u8;
                room -= n;
            }
            let total: usize = counts.iter().map(|&c| usize::from(c)).sum();
            if total == 0 {
                continue;
            }
            // Sometimes fewer symbols than codes: those codes are errors.
            let short = next().is_multiple_of(4);
            let vals: Vec<u8> = (0..total - usize::from(short))
                .map(|_| next() as u8)
                .collect();
            let fast = Huff::parse(&counts, &vals).unwrap();
            let mut slow = Huff::parse(&counts, &vals).unwrap();
            slow.lookup = vec![0; 1 << LOOKUP_BITS];
            let data: Vec<u8> = (0..64)
                .map(|_| next() as u8)
                .map(|b| if b == 0xFF { 0xFE } else { b })
                .chain([0xFF, 0xD9])
                .collect();
            let (mut a, mut b) = (Bits::new(&data, 0), Bits::new(&data, 0));
            loop {
                let (x, y) = (a.decode(&fast), b.decode(&slow));
                assert_eq!(x, y, "counts {counts:?}");
                assert_eq!((a.pos, a.n, a.buf), (b.pos, b.n, b.buf));
                if x.is_err() {
                    break;
                }
            }
        }
    }
}
