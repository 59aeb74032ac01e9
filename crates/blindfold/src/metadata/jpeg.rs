//! JPEG segments: a walk over the marker structure, shared with the decoder
//! (which needs to know that the entropy-coded data ends in an EOI marker).

use super::{Found, exif};

/// One marker segment with its payload (after the two length bytes).
pub(crate) struct Segment<'a> {
    /// The marker's second byte (`0xE1` for APP1, ...).
    pub marker: u8,
    /// The payload.
    pub data: &'a [u8],
}

/// The result of walking a JPEG file.
pub(crate) struct Walk<'a> {
    /// Segments in file order (SOS included, its scan data not).
    pub segments: Vec<Segment<'a>>,
    /// The number of scans (SOS markers) whose data ended in a marker.
    pub scans: usize,
    /// The offset just past the EOI marker, when the walk reached one.
    pub end: Option<usize>,
}

/// Walk the markers from SOI to EOI. Stops at the first thing that does not
/// fit (truncation, a missing marker); `end` is then `None`.
pub(crate) fn walk(bytes: &[u8]) -> Walk<'_> {
    let mut w = Walk {
        segments: Vec::new(),
        scans: 0,
        end: None,
    };
    if !bytes.starts_with(&[0xFF, 0xD8]) {
        return w;
    }
    let mut pos = 2;
    loop {
        if bytes.get(pos) != Some(&0xFF) {
            return w;
        }
        // Fill bytes: any number of 0xFF before the marker byte.
        while bytes.get(pos + 1) == Some(&0xFF) {
            pos += 1;
        }
        let Some(&marker) = bytes.get(pos + 1) else {
            return w;
        };
        pos += 2;
        match marker {
            0xD9 => {
                w.end = Some(pos);
                return w;
            }
            0x01 | 0xD0..=0xD7 => continue,
            0x00 | 0xD8 => return w,
            _ => {}
        }
        let Some(len) = bytes.get(pos..pos + 2) else {
            return w;
        };
        let len = usize::from(u16::from_be_bytes([len[0], len[1]]));
        if len < 2 {
            return w;
        }
        let Some(data) = bytes.get(pos + 2..pos + len) else {
            return w;
        };
        w.segments.push(Segment { marker, data });
        pos += len;
        if marker == 0xDA {
            match scan_end(bytes, pos) {
                Some(next) => {
                    w.scans += 1;
                    pos = next;
                }
                None => return w,
            }
        }
    }
}

/// Skip entropy-coded data from `pos`; return the offset of the next marker
/// (an 0xFF not followed by a stuffed 0x00 or a restart marker).
fn scan_end(bytes: &[u8], mut pos: usize) -> Option<usize> {
    loop {
        let at = pos + memchr_ff(bytes.get(pos..)?)?;
        match *bytes.get(at + 1)? {
            0x00 | 0xD0..=0xD7 => pos = at + 2,
            0xFF => pos = at + 1,
            _ => return Some(at),
        }
    }
}

fn memchr_ff(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|&b| b == 0xFF)
}

/// Scan a JPEG file's segments.
pub(super) fn scan(bytes: &[u8], found: &mut Found) {
    let w = walk(bytes);
    for seg in &w.segments {
        segment(seg, found);
    }
    match w.end {
        // Bytes after EOI: appended images (MPF), videos (motion photos),
        // vendor trailers. Zero or 0xFF padding is harmless.
        Some(end) => {
            if bytes[end..].iter().any(|&b| b != 0 && b != 0xFF) {
                found.other = true;
            }
        }
        None => found.other = true,
    }
}

fn segment(seg: &Segment<'_>, found: &mut Found) {
    let d = seg.data;
    match seg.marker {
        0xE0 => {
            if d.starts_with(b"JFXX\0") {
                found.thumbnail = true;
            } else if !d.starts_with(b"JFIF\0") {
                found.other = true;
            }
        }
        // The orientation-only block of a JPEG edited in the DCT domain
        // identifies nothing.
        0xE1 if exif::is_orientation_only(d) => {}
        0xE1 => {
            if d.starts_with(b"Exif\0") {
                exif::scan(d.get(6..).unwrap_or_default(), found);
            } else if d.starts_with(b"http://ns.adobe.com/xap/1.0/\0")
                || d.starts_with(b"http://ns.adobe.com/xmp/extension/\0")
                || d.starts_with(b"XMP\0")
            {
                found.xmp = true;
            } else {
                found.other = true;
            }
        }
        0xE2 => {
            if d.starts_with(b"ICC_PROFILE\0") {
                found.icc = true;
            } else if d.starts_with(b"MPF\0") {
                found.thumbnail = true;
            } else {
                found.other = true;
            }
        }
        0xEC => found.comment = true,
        0xED => {
            found.iptc = true;
            photoshop(d, found);
        }
        0xEE if d.starts_with(b"Adobe") => {}
        0xE3..=0xEF => found.other = true,
        0xFE => found.comment = true,
        _ => {}
    }
}

/// Photoshop image resources in APP13: thumbnails, EXIF and XMP copies.
fn photoshop(d: &[u8], found: &mut Found) {
    let Some(mut rest) = d.strip_prefix(b"Photoshop 3.0\0") else {
        return;
    };
    while let Some(r) = rest.strip_prefix(b"8BIM") {
        let Some(&[a, b, name_len]) = r.get(..3) else {
            return;
        };
        let id = u16::from_be_bytes([a, b]);
        // Pascal name padded to an even length (length byte included).
        let name = (usize::from(name_len) + 2) & !1;
        let Some(size) = r.get(2 + name..6 + name) else {
            return;
        };
        let size = u32::from_be_bytes([size[0], size[1], size[2], size[3]]) as usize;
        match id {
            0x0409 | 0x040C => found.thumbnail = true,
            0x0422 => found.exif = true,
            0x0424 => found.xmp = true,
            _ => {}
        }
        let start = 6 + name;
        let Some(next) = start.checked_add(size).map(|e| e + (size & 1)) else {
            return;
        };
        rest = r.get(next..).unwrap_or_default();
    }
}
