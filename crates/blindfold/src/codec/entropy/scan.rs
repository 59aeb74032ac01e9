//! One scan: its header, its progression, and every block of its MCUs.

use super::walk::{Kind, ScanComp, ScanHeader};
use super::{Bits, Frame, Huff};

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
    let ids: Vec<u8> = f.comps.iter().map(|c| c.id).collect();
    let head = ScanHeader::parse(seg, f.progressive, &ids, dc, ac)?;
    head.progression(&mut f.coef_bits)?;
    let sampling: Vec<_> = f.comps.iter().map(|c| (c.h, c.v)).collect();
    let (cols, mcus) = head.grid(f.width, f.height, &sampling)?;
    let (kind, ss, se, comps) = (head.kind, head.ss, head.se, &head.comps);
    let ns = comps.len();
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
        for sc in comps {
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
