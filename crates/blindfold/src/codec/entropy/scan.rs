//! One scan: its header, its progression, and every block of its MCUs.

use super::{Bits, Frame, Huff};

/// What kind of data each block of a scan holds.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Sequential,
    DcFirst,
    DcRefine,
    AcFirst,
    AcRefine,
}

/// One component of a scan: its index in the frame and its tables.
struct ScanComp<'t> {
    ci: usize,
    dc: Option<&'t Huff>,
    ac: Option<&'t Huff>,
}

/// Check the scan whose header is `seg` and whose data starts at `pos`;
/// return the offset of the marker that follows it.
pub(super) fn scan(
    bytes: &[u8],
    pos: usize,
    seg: &[u8],
    f: &mut Frame,
    dc: &[Option<Huff>; 4],
    ac: &[Option<Huff>; 4],
    interval: usize,
) -> Result<usize, String> {
    let ns = usize::from(*seg.first().ok_or("bad scan header")?);
    if !(1..=4).contains(&ns) || seg.len() < 4 + 2 * ns {
        return Err("bad scan header".into());
    }
    let (ss, se, ah, al) = (
        usize::from(seg[1 + 2 * ns]),
        usize::from(seg[2 + 2 * ns]),
        i32::from(seg[3 + 2 * ns] >> 4),
        i32::from(seg[3 + 2 * ns] & 15),
    );
    let kind = if !f.progressive {
        if ss != 0 || se != 63 || ah != 0 || al != 0 {
            return Err("not a sequential scan".into());
        }
        Kind::Sequential
    } else {
        let ok = ss <= se && se <= 63 && (ss > 0 || se == 0) && (ss == 0 || ns == 1);
        if !ok || al > 13 || (ah != 0 && al != ah - 1) {
            return Err("bad progression parameters".into());
        }
        match (ss, ah) {
            (0, 0) => Kind::DcFirst,
            (0, _) => Kind::DcRefine,
            (_, 0) => Kind::AcFirst,
            _ => Kind::AcRefine,
        }
    };
    let mut comps = Vec::with_capacity(ns);
    for i in 0..ns {
        let id = seg[1 + 2 * i];
        let tables = seg[2 + 2 * i];
        let ci = f
            .comps
            .iter()
            .position(|c| c.id == id)
            .ok_or("scan names a component the frame does not have")?;
        if comps.iter().any(|c: &ScanComp| c.ci == ci) {
            return Err("a component appears twice in a scan".into());
        }
        let need_dc = matches!(kind, Kind::Sequential | Kind::DcFirst);
        let need_ac = matches!(kind, Kind::Sequential | Kind::AcFirst | Kind::AcRefine);
        let dc_t = dc[usize::from(tables >> 4) & 3].as_ref();
        let ac_t = ac[usize::from(tables & 15) & 3].as_ref();
        if (need_dc && dc_t.is_none())
            || (need_ac && ac_t.is_none())
            || (tables >> 4) > 3
            || (tables & 15) > 3
        {
            return Err("scan uses an undefined Huffman table".into());
        }
        comps.push(ScanComp {
            ci,
            dc: dc_t,
            ac: ac_t,
        });
    }
    progression(f, &comps, kind, ss, se, ah, al)?;
    let blocks_per_mcu: usize = comps
        .iter()
        .map(|c| f.comps[c.ci].h * f.comps[c.ci].v)
        .sum();
    if ns > 1 && blocks_per_mcu > 10 {
        return Err("too many blocks in an MCU".into());
    }
    let (mx, my) = f.mcus();
    let (cols, mcus) = if ns == 1 {
        let c = &f.comps[comps[0].ci];
        let bw = (f.width * c.h).div_ceil(8 * f.hmax);
        let bh = (f.height * c.v).div_ceil(8 * f.vmax);
        (bw, bw * bh)
    } else {
        (mx, mx * my)
    };
    let mut bits = Bits::new(bytes, pos);
    let mut eobrun = 0u32;
    let mut next_rst = 0u8;
    for i in 0..mcus {
        if interval > 0 && i > 0 && i % interval == 0 {
            let (m, after) = bits.finish()?;
            if m != 0xD0 + next_rst {
                return Err(format!(
                    "restart marker out of sequence: found 0x{m:02X}, expected 0x{:02X}",
                    0xD0 + next_rst
                ));
            }
            next_rst = (next_rst + 1) & 7;
            bits = Bits::new(bytes, after);
            eobrun = 0;
        }
        let (x, y) = (i % cols, i / cols);
        for sc in &comps {
            let c = &mut f.comps[sc.ci];
            let (bh, bv) = if ns == 1 { (1, 1) } else { (c.h, c.v) };
            for v in 0..bv {
                for h in 0..bh {
                    let (bx, by) = if ns == 1 {
                        (x, y)
                    } else {
                        (x * c.h + h, y * c.v + v)
                    };
                    let nz = if kind == Kind::AcFirst || kind == Kind::AcRefine {
                        c.nonzero.get_mut(by * c.grid_w + bx)
                    } else {
                        None
                    };
                    block(&mut bits, kind, sc, ss, se, &mut eobrun, nz)?;
                }
            }
        }
    }
    let (_, after) = bits.finish()?;
    // Point at the last 0xFF before the marker code, for the marker loop.
    Ok(after - 2)
}

/// Track which bit depth each coefficient has reached and refuse scans
/// out of order (libjpeg's "bogus progression").
fn progression(
    f: &mut Frame,
    comps: &[ScanComp],
    kind: Kind,
    ss: usize,
    se: usize,
    ah: i32,
    al: i32,
) -> Result<(), String> {
    for sc in comps {
        let bits = &mut f.comps[sc.ci].coef_bits;
        if kind == Kind::Sequential {
            *bits = [0; 64];
            continue;
        }
        if ss > 0 && bits[0] < 0 {
            return Err("AC scan before the DC scan of a component".into());
        }
        for b in &mut bits[ss..=se] {
            if ah != (*b).max(0) {
                return Err("invalid progression of scans".into());
            }
            *b = al;
        }
    }
    Ok(())
}

fn block(
    bits: &mut Bits,
    kind: Kind,
    sc: &ScanComp,
    ss: usize,
    se: usize,
    eobrun: &mut u32,
    nz: Option<&mut u64>,
) -> Result<(), String> {
    match kind {
        Kind::Sequential => {
            dc_first(bits, sc)?;
            let ac = sc.ac.ok_or("no AC table")?;
            let mut k = 1;
            while k < 64 {
                let rs = bits.decode(ac)?;
                let (r, s) = (usize::from(rs >> 4), u32::from(rs & 15));
                if s != 0 {
                    k += r;
                    bits.bits(s)?;
                } else if r != 15 {
                    break;
                } else {
                    k += 15;
                }
                k += 1;
            }
            Ok(())
        }
        Kind::DcFirst => dc_first(bits, sc),
        Kind::DcRefine => bits.bits(1).map(drop),
        Kind::AcFirst => ac_first(
            bits,
            sc,
            ss,
            se,
            eobrun,
            nz.ok_or("block outside the grid")?,
        ),
        Kind::AcRefine => ac_refine(
            bits,
            sc,
            ss,
            se,
            eobrun,
            nz.ok_or("block outside the grid")?,
        ),
    }
}

fn dc_first(bits: &mut Bits, sc: &ScanComp) -> Result<(), String> {
    let s = bits.decode(sc.dc.ok_or("no DC table")?)?;
    if s > 16 {
        return Err("bad DC coefficient size".into());
    }
    bits.bits(u32::from(s)).map(drop)
}

fn ac_first(
    bits: &mut Bits,
    sc: &ScanComp,
    ss: usize,
    se: usize,
    eobrun: &mut u32,
    nz: &mut u64,
) -> Result<(), String> {
    if *eobrun > 0 {
        *eobrun -= 1;
        return Ok(());
    }
    let ac = sc.ac.ok_or("no AC table")?;
    let mut k = ss;
    while k <= se {
        let rs = bits.decode(ac)?;
        let (r, s) = (u32::from(rs >> 4), u32::from(rs & 15));
        if s != 0 {
            k += r as usize;
            bits.bits(s)?;
            *nz |= 1 << k.min(63);
        } else if r < 15 {
            *eobrun = (1 << r) + bits.bits(r)? - 1;
            break;
        } else {
            k += 15;
        }
        k += 1;
    }
    Ok(())
}

fn ac_refine(
    bits: &mut Bits,
    sc: &ScanComp,
    ss: usize,
    se: usize,
    eobrun: &mut u32,
    nz: &mut u64,
) -> Result<(), String> {
    let ac = sc.ac.ok_or("no AC table")?;
    let mut k = ss;
    if *eobrun == 0 {
        while k <= se {
            let rs = bits.decode(ac)?;
            let (mut r, s) = (i32::from(rs >> 4), rs & 15);
            if s != 0 {
                if s != 1 {
                    return Err("bad Huffman code in a refinement scan".into());
                }
                bits.bits(1)?;
            } else if r != 15 {
                *eobrun = (1 << r) + bits.bits(r as u32)?;
                break;
            }
            loop {
                if *nz & (1 << k) != 0 {
                    bits.bits(1)?;
                } else {
                    r -= 1;
                    if r < 0 {
                        break;
                    }
                }
                k += 1;
                if k > se {
                    break;
                }
            }
            if s != 0 {
                *nz |= 1 << k.min(63);
            }
            k += 1;
        }
    }
    if *eobrun > 0 {
        while k <= se {
            if *nz & (1 << k) != 0 {
                bits.bits(1)?;
            }
            k += 1;
        }
        *eobrun -= 1;
    }
    Ok(())
}
