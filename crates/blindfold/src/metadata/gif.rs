//! GIF blocks: the walk that counts frames, finds the loop count and the
//! metadata, and tells whether the file runs whole to its trailer.

use super::Found;

/// What the walk over a GIF's blocks found.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct GifInfo {
    /// The logical screen (canvas) size.
    pub width: u16,
    /// The logical screen (canvas) height.
    pub height: u16,
    /// Image descriptors (frames).
    pub frames: u32,
    /// The NETSCAPE2.0 loop count (0 = forever), `None` without one.
    pub loop_count: Option<u16>,
    /// Every block was whole and the trailer was reached.
    pub complete: bool,
}

/// Walk a GIF's blocks, noting metadata in `found`.
pub(crate) fn walk(bytes: &[u8], found: &mut Found) -> GifInfo {
    let mut info = GifInfo::default();
    let (Some(head), Some(lsd)) = (bytes.get(..6), bytes.get(6..13)) else {
        found.other = true;
        return info;
    };
    if head != b"GIF87a" && head != b"GIF89a" {
        found.other = true;
        return info;
    }
    info.width = u16::from_le_bytes([lsd[0], lsd[1]]);
    info.height = u16::from_le_bytes([lsd[2], lsd[3]]);
    let mut at = 13 + table_len(lsd[4]);
    loop {
        let Some(&kind) = bytes.get(at) else {
            found.other = true;
            return info;
        };
        at += 1;
        let next = match kind {
            0x2C => {
                let Some(desc) = bytes.get(at..at + 9) else {
                    found.other = true;
                    return info;
                };
                info.frames = info.frames.saturating_add(1);
                // The table, then the LZW code size byte, then the data.
                sub_blocks(bytes, at + 9 + table_len(desc[8]) + 1).map(|(_, end)| end)
            }
            0x21 => extension(bytes, at, found, &mut info),
            0x3B => {
                if bytes.len() > at {
                    found.other = true;
                }
                info.complete = true;
                return info;
            }
            _ => None,
        };
        match next {
            Some(n) => at = n,
            None => {
                found.other = true;
                return info;
            }
        }
    }
}

/// An extension block at `at` (just after 0x21): its label, then sub-blocks.
fn extension(bytes: &[u8], at: usize, found: &mut Found, info: &mut GifInfo) -> Option<usize> {
    let label = *bytes.get(at)?;
    let (first, end) = sub_blocks(bytes, at + 1)?;
    match label {
        0xF9 => {}
        0xFE => found.comment = true,
        // Plain text drawn over the picture.
        0x01 => found.comment = true,
        0xFF => match first.get(..11) {
            Some(b"NETSCAPE2.0") | Some(b"ANIMEXTS1.0") => {
                // The next sub-block: 3 bytes, id 1, the count.
                let sub = bytes.get(at + 1 + 12..at + 1 + 16)?;
                if sub[0] == 3 && sub[1] == 1 {
                    info.loop_count = Some(u16::from_le_bytes([sub[2], sub[3]]));
                }
            }
            Some(b"XMP DataXMP") => found.xmp = true,
            Some(b"ICCRGBG1012") => found.icc = true,
            _ => found.other = true,
        },
        _ => found.other = true,
    }
    Some(end)
}

/// Sub-blocks from `at`: the first block's data and the offset after the
/// terminating empty block; `None` when they run past the end.
fn sub_blocks(bytes: &[u8], mut at: usize) -> Option<(&[u8], usize)> {
    let mut first: Option<&[u8]> = None;
    loop {
        let len = usize::from(*bytes.get(at)?);
        at += 1;
        if len == 0 {
            return Some((first.unwrap_or_default(), at));
        }
        let data = bytes.get(at..at + len)?;
        first.get_or_insert(data);
        at += len;
    }
}

/// Bytes of the colour table a packed field announces.
fn table_len(packed: u8) -> usize {
    match packed & 0x80 {
        0 => 0,
        _ => 3 << ((packed & 7) + 1),
    }
}

/// Scan a GIF file's blocks.
pub(super) fn scan(bytes: &[u8], found: &mut Found) {
    let info = walk(bytes, found);
    if info.frames > 1 {
        found.frames = true;
    }
}
