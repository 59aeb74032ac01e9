//! WebP (RIFF) chunks.

use super::{Found, exif};

/// Scan a WebP file's chunks.
pub(super) fn scan(bytes: &[u8], found: &mut Found) {
    if bytes.get(..4) != Some(b"RIFF") || bytes.get(8..12) != Some(b"WEBP") {
        found.other = true;
        return;
    }
    let mut rest = &bytes[12..];
    let mut frames = 0u32;
    while !rest.is_empty() {
        let Some(head) = rest.get(..8) else {
            found.other = true;
            return;
        };
        let len = u32::from_le_bytes([head[4], head[5], head[6], head[7]]) as usize;
        let Some(data) = rest.get(8..8usize.saturating_add(len)) else {
            found.other = true;
            return;
        };
        match &head[..4] {
            b"ICCP" => found.icc = true,
            b"EXIF" => exif::scan(data, found),
            b"XMP " => found.xmp = true,
            b"ANMF" => {
                frames += 1;
                if frames > 1 {
                    found.frames = true;
                }
            }
            b"VP8 " | b"VP8L" | b"VP8X" | b"ALPH" | b"ANIM" => {}
            _ => found.other = true,
        }
        let next = 8usize.saturating_add(len).saturating_add(len & 1);
        rest = rest.get(next..).unwrap_or_default();
    }
}

/// Whether the file is as long as its RIFF header says and every chunk in it
/// is whole.
pub(crate) fn ends_cleanly(bytes: &[u8]) -> bool {
    let Some(size) = bytes.get(4..8) else {
        return false;
    };
    let size = u32::from_le_bytes([size[0], size[1], size[2], size[3]]) as usize;
    let Some(body) = bytes.get(12..size.saturating_add(8)) else {
        return false;
    };
    let mut rest = body;
    while !rest.is_empty() {
        let Some(head) = rest.get(..8) else {
            return false;
        };
        let len = u32::from_le_bytes([head[4], head[5], head[6], head[7]]) as usize;
        let Some(after) = rest.get(8usize.saturating_add(len)..) else {
            return false;
        };
        // The pad byte after an odd-sized chunk may be missing at the very end.
        rest = if len & 1 == 1 {
            after.get(1..).unwrap_or_default()
        } else {
            after
        };
    }
    true
}

/// The number of animation frames (`ANMF` chunks); 0 for a still image.
pub(crate) fn frames(bytes: &[u8]) -> u32 {
    let mut rest = bytes.get(12..).unwrap_or_default();
    let mut n = 0u32;
    while let Some(head) = rest.get(..8) {
        let len = u32::from_le_bytes([head[4], head[5], head[6], head[7]]) as usize;
        if &head[..4] == b"ANMF" {
            n = n.saturating_add(1);
        }
        let next = 8usize.saturating_add(len).saturating_add(len & 1);
        rest = rest.get(next..).unwrap_or_default();
    }
    n
}
