//! Reading a JPEG's quantised DCT coefficients (baseline, extended and
//! progressive Huffman-coded, 8-bit), without decoding pixels.
//!
//! Anything this reader does not carry is an `Err` naming it, and the
//! caller takes the re-encode path: arithmetic coding, 12-bit samples,
//! lossless and hierarchical JPEG, a DNL marker, quantisation tables
//! redefined after the first scan, and any damage.
//!
//! It refuses everything the strict walk ([`crate::codec::entropy`]'s
//! `check`) refuses, and more: it shares that walk's marker loop, headers,
//! progression rules and bit reader, and its block decoding checks at least
//! as much. So a file this reads is one `check` passes, and a caller that
//! reads the coefficients need not walk the file a second time to check it
//! (the test `reading_refuses_all_the_strict_walk_refuses` holds it to
//! that on thousands of damaged files).

use super::super::entropy::walk::{FrameHeader, Kind, ScanComp, ScanHeader, segments};
use super::super::entropy::{Bits, Huff, be16, extend, parse_dht};
use super::{Coefs, Component};

/// Tables and state carried from scan to scan.
struct State {
    dc: [Option<Huff>; 4],
    ac: [Option<Huff>; 4],
    interval: usize,
    /// Bit depth reached per component and coefficient, -1 before any scan.
    coef_bits: Vec<[i32; 64]>,
    scans: usize,
}

/// Read every coefficient of `bytes`.
pub(crate) fn read(bytes: &[u8]) -> Result<Coefs, String> {
    let mut st = State {
        dc: Default::default(),
        ac: Default::default(),
        interval: 0,
        coef_bits: Vec::new(),
        scans: 0,
    };
    let mut qt: [Option<[u16; 64]>; 4] = [None; 4];
    let mut coefs: Option<Coefs> = None;
    let (mut jfif, mut adobe) = (false, None);
    segments(bytes, |marker, seg, pos| {
        match marker {
            0xC0..=0xC2 => {
                if coefs.is_some() {
                    return Err("more than one frame header".into());
                }
                let c = frame(seg, marker == 0xC2)?;
                st.coef_bits = vec![[-1; 64]; c.comps.len()];
                coefs = Some(c);
            }
            0xC3 => return Err("lossless JPEG".into()),
            0xC5..=0xC7 => return Err("hierarchical JPEG".into()),
            0xC9..=0xCF => return Err("arithmetic-coded JPEG".into()),
            0xDC => return Err("a DNL marker (height defined after the scan)".into()),
            0xC4 => parse_dht(seg, &mut st.dc, &mut st.ac)?,
            0xDB => {
                if st.scans > 0 {
                    return Err("a quantisation table defined after the first scan".into());
                }
                dqt(seg, &mut qt)?;
            }
            0xDD => st.interval = be16(seg, 0)?,
            0xDA => {
                let c = coefs.as_mut().ok_or("scan before the frame header")?;
                if st.scans == 0 {
                    for comp in &c.comps {
                        c.qt[comp.tq] = qt[comp.tq].ok_or("a quantisation table is missing")?;
                    }
                }
                let after = scan(bytes, pos, seg, c, &mut st)?;
                st.scans += 1;
                return Ok(Some(after));
            }
            0xE0 => jfif |= seg.starts_with(b"JFIF\0"),
            0xEE if seg.starts_with(b"Adobe") && seg.len() >= 12 => adobe = Some(seg[11]),
            0xE0..=0xEF | 0xFE => {}
            // As the strict walk (`entropy::check`) refuses them.
            _ => return Err(format!("unexpected marker 0x{marker:02X}")),
        }
        Ok(None)
    })?;
    let mut c = coefs.ok_or("no frame header")?;
    if st.coef_bits.iter().any(|b| b[0] < 0) {
        return Err("a component has no scan".into());
    }
    if !c.progressive && st.coef_bits.iter().any(|b| b.iter().any(|&x| x < 0)) {
        return Err("a component has no complete scan".into());
    }
    c.jfif = jfif;
    c.adobe = adobe;
    Ok(c)
}

fn frame(seg: &[u8], progressive: bool) -> Result<Coefs, String> {
    let head = FrameHeader::parse(seg)?;
    if head.precision != 8 {
        return Err("not 8-bit samples (12-bit JPEG)".into());
    }
    let mut comps = Vec::with_capacity(head.comps.len());
    for k in &head.comps {
        if k.tq > 3 {
            return Err("bad component in the frame header".into());
        }
        comps.push(Component {
            id: k.id,
            h: k.h,
            v: k.v,
            tq: k.tq,
            bw: 0,
            bh: 0,
            blocks: Vec::new(),
        });
    }
    let mut c = Coefs {
        width: head.width,
        height: head.height,
        hmax: head.hmax,
        vmax: head.vmax,
        progressive,
        comps,
        qt: [[0; 64]; 4],
        jfif: false,
        adobe: None,
    };
    let (mx, my) = c.mcus();
    for comp in &mut c.comps {
        comp.bw = mx * comp.h;
        comp.bh = my * comp.v;
        comp.blocks = vec![[0; 64]; comp.bw * comp.bh];
    }
    Ok(c)
}

/// Quantisation tables, kept in zigzag order as stored.
fn dqt(mut seg: &[u8], qt: &mut [Option<[u16; 64]>; 4]) -> Result<(), String> {
    while let Some(&pq_tq) = seg.first() {
        let (pq, tq) = (pq_tq >> 4, usize::from(pq_tq & 15));
        if pq > 1 || tq > 3 {
            return Err("bad quantisation table".into());
        }
        let size = if pq == 0 { 64 } else { 128 };
        let vals = seg.get(1..1 + size).ok_or("truncated quantisation table")?;
        let mut t = [0u16; 64];
        for (k, q) in t.iter_mut().enumerate() {
            *q = if pq == 0 {
                u16::from(vals[k])
            } else {
                u16::from_be_bytes([vals[2 * k], vals[2 * k + 1]])
            };
        }
        if t.contains(&0) {
            return Err("a quantisation table holds a zero".into());
        }
        qt[tq] = Some(t);
        seg = &seg[1 + size..];
    }
    Ok(())
}

fn scan(
    bytes: &[u8],
    pos: usize,
    seg: &[u8],
    c: &mut Coefs,
    st: &mut State,
) -> Result<usize, String> {
    let ids: Vec<u8> = c.comps.iter().map(|k| k.id).collect();
    let head = ScanHeader::parse(seg, c.progressive, &ids, &st.dc, &st.ac)?;
    head.progression(&mut st.coef_bits)?;
    let sampling: Vec<_> = c.comps.iter().map(|k| (k.h, k.v)).collect();
    let (cols, mcus) = head.grid(c.width, c.height, &sampling)?;
    let comps = &head.comps;
    let ns = comps.len();
    let mut bits = Bits::new(bytes, pos);
    let mut eobrun = 0u32;
    let mut pred = [0i32; 4];
    let mut next_rst = 0u8;
    let p = Params {
        kind: head.kind,
        ss: head.ss,
        se: head.se,
        al: head.al as u32,
    };
    for i in 0..mcus {
        if st.interval > 0 && i > 0 && i % st.interval == 0 {
            let (m, after) = bits.finish()?;
            if m != 0xD0 + next_rst {
                return Err("restart marker out of sequence".into());
            }
            next_rst = (next_rst + 1) & 7;
            bits = Bits::new(bytes, after);
            eobrun = 0;
            pred = [0; 4];
        }
        let (x, y) = (i % cols, i / cols);
        for (n, sc) in comps.iter().enumerate() {
            let k = &mut c.comps[sc.ci];
            let (nh, nv) = if ns == 1 { (1, 1) } else { (k.h, k.v) };
            for v in 0..nv {
                for h in 0..nh {
                    let (bx, by) = if ns == 1 {
                        (x, y)
                    } else {
                        (x * k.h + h, y * k.v + v)
                    };
                    let blk = k
                        .blocks
                        .get_mut(by * k.bw + bx)
                        .ok_or("block outside the grid")?;
                    block(&mut bits, &p, sc, &mut pred[n], &mut eobrun, blk)?;
                }
            }
        }
    }
    let (_, after) = bits.finish()?;
    Ok(after - 2)
}

struct Params {
    kind: Kind,
    ss: usize,
    se: usize,
    al: u32,
}

fn coef(v: i32) -> Result<i16, String> {
    i16::try_from(v).map_err(|_| "a coefficient out of range".to_string())
}

fn block(
    bits: &mut Bits,
    p: &Params,
    sc: &ScanComp,
    pred: &mut i32,
    eobrun: &mut u32,
    blk: &mut [i16; 64],
) -> Result<(), String> {
    match p.kind {
        Kind::Sequential => {
            dc_first(bits, sc, pred, 0, blk)?;
            sequential_ac(bits, sc.ac.ok_or("no AC table")?, blk)
        }
        Kind::DcFirst => dc_first(bits, sc, pred, p.al, blk),
        Kind::DcRefine => {
            if bits.bits(1)? == 1 {
                blk[0] |= 1 << p.al;
            }
            Ok(())
        }
        Kind::AcFirst => ac_first(bits, sc, p, eobrun, blk),
        Kind::AcRefine => ac_refine(bits, sc, p, eobrun, blk),
    }
}

/// The AC coefficients of a block of a sequential scan. A short code with
/// a small value is taken in one lookup ([`Bits::ac_fast`]), the rest code
/// by code.
pub(super) fn sequential_ac(bits: &mut Bits, ac: &Huff, blk: &mut [i16; 64]) -> Result<(), String> {
    let mut k = 1;
    while k < 64 {
        let e = bits.ac_fast(ac);
        if e != 0 {
            k += (e >> 4 & 15) as usize;
            if k > 63 {
                return Err("a block with more than 64 coefficients".into());
            }
            blk[k] = (e >> 16) as u16 as i16;
            k += 1;
            continue;
        }
        let rs = bits.decode(ac)?;
        let (r, s) = (usize::from(rs >> 4), u32::from(rs & 15));
        if s != 0 {
            k += r;
            if k > 63 {
                return Err("a block with more than 64 coefficients".into());
            }
            blk[k] = coef(extend(bits.bits(s)?, s))?;
        } else if r == 15 {
            k += 15;
        } else {
            break;
        }
        k += 1;
    }
    Ok(())
}

fn dc_first(
    bits: &mut Bits,
    sc: &ScanComp,
    pred: &mut i32,
    al: u32,
    blk: &mut [i16; 64],
) -> Result<(), String> {
    let s = u32::from(bits.decode(sc.dc.ok_or("no DC table")?)?);
    if s > 11 {
        return Err("a DC difference too large for 8-bit JPEG".into());
    }
    *pred += extend(bits.bits(s)?, s);
    if pred.abs() > 2047 {
        return Err("a DC coefficient out of range".into());
    }
    blk[0] = coef(*pred << al)?;
    Ok(())
}

fn ac_first(
    bits: &mut Bits,
    sc: &ScanComp,
    p: &Params,
    eobrun: &mut u32,
    blk: &mut [i16; 64],
) -> Result<(), String> {
    if *eobrun > 0 {
        *eobrun -= 1;
        return Ok(());
    }
    let ac = sc.ac.ok_or("no AC table")?;
    let mut k = p.ss;
    while k <= p.se {
        let rs = bits.decode(ac)?;
        let (r, s) = (u32::from(rs >> 4), u32::from(rs & 15));
        if s != 0 {
            k += r as usize;
            if k > p.se {
                return Err("a coefficient beyond the scan's band".into());
            }
            blk[k] = coef(extend(bits.bits(s)?, s) << p.al)?;
        } else if r == 15 {
            k += 15;
        } else {
            *eobrun = (1 << r) + bits.bits(r)? - 1;
            break;
        }
        k += 1;
    }
    Ok(())
}

/// A successive-approximation AC scan (libjpeg's `decode_mcu_AC_refine`).
fn ac_refine(
    bits: &mut Bits,
    sc: &ScanComp,
    p: &Params,
    eobrun: &mut u32,
    blk: &mut [i16; 64],
) -> Result<(), String> {
    let ac = sc.ac.ok_or("no AC table")?;
    let p1: i16 = 1 << p.al;
    let m1: i16 = -p1;
    let mut k = p.ss;
    if *eobrun == 0 {
        while k <= p.se {
            let rs = bits.decode(ac)?;
            let (mut r, s) = (i32::from(rs >> 4), rs & 15);
            let mut value = 0;
            if s != 0 {
                if s != 1 {
                    return Err("bad Huffman code in a refinement scan".into());
                }
                value = if bits.bits(1)? == 1 { p1 } else { m1 };
            } else if r != 15 {
                *eobrun = (1 << r) + bits.bits(r as u32)?;
                break;
            }
            loop {
                let c = &mut blk[k];
                if *c != 0 {
                    refine(bits, c, p1, m1)?;
                } else {
                    r -= 1;
                    if r < 0 {
                        break;
                    }
                }
                k += 1;
                if k > p.se {
                    break;
                }
            }
            if value != 0 {
                if k > p.se {
                    return Err("a coefficient beyond the scan's band".into());
                }
                blk[k] = value;
            }
            k += 1;
        }
    }
    if *eobrun > 0 {
        while k <= p.se {
            if blk[k] != 0 {
                refine(bits, &mut blk[k], p1, m1)?;
            }
            k += 1;
        }
        *eobrun -= 1;
    }
    Ok(())
}

/// One correction bit of a coefficient already nonzero.
fn refine(bits: &mut Bits, c: &mut i16, p1: i16, m1: i16) -> Result<(), String> {
    if bits.bits(1)? == 1 && (*c & p1) == 0 {
        *c = if *c >= 0 {
            c.checked_add(p1)
        } else {
            c.checked_add(m1)
        }
        .ok_or("a coefficient out of range")?;
    }
    Ok(())
}
