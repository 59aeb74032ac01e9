//! What the strict check ([`super::check`]) and the coefficient reader
//! (`codec::dct::read`) share: the walk from marker to marker, the frame
//! and scan headers, and the progression rules.

use super::{Huff, be16};

/// What each block of a scan holds.
#[derive(Clone, Copy, PartialEq, Debug)]
pub(in crate::codec) enum Kind {
    Sequential,
    DcFirst,
    DcRefine,
    AcFirst,
    AcRefine,
}

/// Walk the segments of `bytes` from SOI to EOI. `segment` gets each
/// marker with its segment and the offset just past it, and returns, for
/// a scan, the offset of the marker that follows its data.
pub(in crate::codec) fn segments(
    bytes: &[u8],
    mut segment: impl FnMut(u8, &[u8], usize) -> Result<Option<usize>, String>,
) -> Result<(), String> {
    if !bytes.starts_with(&[0xFF, 0xD8]) {
        return Err("no start-of-image marker".into());
    }
    let mut pos = 2;
    loop {
        if bytes.get(pos) != Some(&0xFF) {
            return Err("extraneous bytes between segments, or file cut short".into());
        }
        while bytes.get(pos + 1) == Some(&0xFF) {
            pos += 1;
        }
        let marker = *bytes.get(pos + 1).ok_or("premature end of JPEG file")?;
        pos += 2;
        match marker {
            0xD9 => return Ok(()),
            0xD0..=0xD7 | 0x01 => continue,
            0x00 | 0xD8 => return Err(format!("unexpected marker 0x{marker:02X}")),
            _ => {}
        }
        let len = be16(bytes, pos)?;
        let seg = bytes
            .get(pos + 2..pos + len.max(2))
            .ok_or("premature end of JPEG file")?;
        pos += len.max(2);
        if let Some(after) = segment(marker, seg, pos)? {
            pos = after;
        }
    }
}

/// One component of a frame header.
pub(in crate::codec) struct FrameComp {
    pub id: u8,
    pub h: usize,
    pub v: usize,
    /// Its quantisation table's slot (not checked here).
    pub tq: usize,
}

/// A frame header (SOF0..SOF2).
pub(in crate::codec) struct FrameHeader {
    pub precision: u8,
    pub width: usize,
    pub height: usize,
    pub comps: Vec<FrameComp>,
    pub hmax: usize,
    pub vmax: usize,
}

impl FrameHeader {
    pub(in crate::codec) fn parse(seg: &[u8]) -> Result<FrameHeader, String> {
        let precision = *seg.first().ok_or("truncated frame header")?;
        let height = be16(seg, 1)?;
        let width = be16(seg, 3)?;
        let n = usize::from(*seg.get(5).ok_or("truncated frame header")?);
        if width == 0 || height == 0 || !(1..=4).contains(&n) || seg.len() < 6 + 3 * n {
            return Err("bad frame header".into());
        }
        let mut comps = Vec::with_capacity(n);
        for i in 0..n {
            let c = &seg[6 + 3 * i..9 + 3 * i];
            let (h, v) = (usize::from(c[1] >> 4), usize::from(c[1] & 15));
            if !(1..=4).contains(&h) || !(1..=4).contains(&v) {
                return Err("bad sampling factors".into());
            }
            comps.push(FrameComp {
                id: c[0],
                h,
                v,
                tq: usize::from(c[2]),
            });
        }
        Ok(FrameHeader {
            precision,
            width,
            height,
            hmax: comps.iter().map(|c| c.h).max().unwrap_or(1),
            vmax: comps.iter().map(|c| c.v).max().unwrap_or(1),
            comps,
        })
    }
}

/// One component of a scan: its index in the frame and its tables.
pub(in crate::codec) struct ScanComp<'t> {
    pub ci: usize,
    pub dc: Option<&'t Huff>,
    pub ac: Option<&'t Huff>,
}

/// A scan header, checked against the frame's components (`ids`) and
/// the Huffman tables defined so far.
pub(in crate::codec) struct ScanHeader<'t> {
    pub kind: Kind,
    pub ss: usize,
    pub se: usize,
    pub ah: i32,
    pub al: i32,
    pub comps: Vec<ScanComp<'t>>,
}

impl<'t> ScanHeader<'t> {
    pub(in crate::codec) fn parse(
        seg: &[u8],
        progressive: bool,
        ids: &[u8],
        dc: &'t [Option<Huff>; 4],
        ac: &'t [Option<Huff>; 4],
    ) -> Result<ScanHeader<'t>, String> {
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
        let kind = if !progressive {
            if ss != 0 || se != 63 || ah != 0 || al != 0 {
                return Err("not a sequential scan".into());
            }
            Kind::Sequential
        } else {
            let ok = ss <= se && se <= 63 && (ss > 0 || se == 0) && (ss == 0 || ns == 1);
            if !ok || al > 13 || (ah != 0 && al + 1 != ah) {
                return Err("bad progression parameters".into());
            }
            match (ss, ah) {
                (0, 0) => Kind::DcFirst,
                (0, _) => Kind::DcRefine,
                (_, 0) => Kind::AcFirst,
                _ => Kind::AcRefine,
            }
        };
        let need_dc = matches!(kind, Kind::Sequential | Kind::DcFirst);
        let need_ac = matches!(kind, Kind::Sequential | Kind::AcFirst | Kind::AcRefine);
        let mut comps = Vec::with_capacity(ns);
        for i in 0..ns {
            let (id, tables) = (seg[1 + 2 * i], seg[2 + 2 * i]);
            let ci = ids
                .iter()
                .position(|&k| k == id)
                .ok_or("scan names a component the frame does not have")?;
            if comps.iter().any(|k: &ScanComp| k.ci == ci) {
                return Err("a component appears twice in a scan".into());
            }
            let (d, a) = (usize::from(tables >> 4), usize::from(tables & 15));
            let (dc, ac) = (dc.get(d).and_then(Option::as_ref), ac.get(a));
            let ac = ac.and_then(Option::as_ref);
            if d > 3 || a > 3 || (need_dc && dc.is_none()) || (need_ac && ac.is_none()) {
                return Err("scan uses an undefined Huffman table".into());
            }
            comps.push(ScanComp { ci, dc, ac });
        }
        Ok(ScanHeader {
            kind,
            ss,
            se,
            ah,
            al,
            comps,
        })
    }

    /// Track the bit depth each coefficient has reached (`coef_bits`, per
    /// frame component, -1 before any scan) and refuse scans out of order
    /// (libjpeg's "bogus progression").
    pub(in crate::codec) fn progression(&self, coef_bits: &mut [[i32; 64]]) -> Result<(), String> {
        for sc in &self.comps {
            let bits = &mut coef_bits[sc.ci];
            if self.kind == Kind::Sequential {
                *bits = [0; 64];
                continue;
            }
            if self.ss > 0 && bits[0] < 0 {
                return Err("AC scan before the DC scan of a component".into());
            }
            for b in &mut bits[self.ss..=self.se] {
                if self.ah != (*b).max(0) {
                    return Err("invalid progression of scans".into());
                }
                *b = self.al;
            }
        }
        Ok(())
    }

    /// Columns of the scan's MCU grid and the number of MCUs, for a frame
    /// of `width` x `height` whose components are sampled `sampling` (h, v):
    /// a scan of one component covers its own blocks, one by one; a scan
    /// of several covers the frame's MCUs (at most 10 blocks each).
    pub(in crate::codec) fn grid(
        &self,
        width: usize,
        height: usize,
        sampling: &[(usize, usize)],
    ) -> Result<(usize, usize), String> {
        let hmax = sampling.iter().map(|s| s.0).max().unwrap_or(1);
        let vmax = sampling.iter().map(|s| s.1).max().unwrap_or(1);
        if let [one] = self.comps.as_slice() {
            let (h, v) = sampling[one.ci];
            let bw = (width * h).div_ceil(8 * hmax);
            let bh = (height * v).div_ceil(8 * vmax);
            return Ok((bw, bw * bh));
        }
        let per_mcu: usize = self
            .comps
            .iter()
            .map(|k| sampling[k.ci].0 * sampling[k.ci].1)
            .sum();
        if per_mcu > 10 {
            return Err("too many blocks in an MCU".into());
        }
        let mx = width.div_ceil(8 * hmax);
        Ok((mx, mx * height.div_ceil(8 * vmax)))
    }
}
