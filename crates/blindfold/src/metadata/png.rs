//! PNG chunks.

use super::{Found, exif};

const SIGNATURE: &[u8] = &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];

/// Chunks that only describe the pixels (or animation frames).
const IMAGE_CHUNKS: &[&[u8; 4]] = &[
    b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"sBIT", b"bKGD",
    b"pHYs", b"hIST", b"sPLT", b"cICP", b"mDCV", b"mDCv", b"cLLI", b"cLLi", b"acTL", b"fcTL",
    b"fdAT",
];

/// Scan a PNG file's chunks.
pub(super) fn scan(bytes: &[u8], found: &mut Found) {
    let Some(mut rest) = bytes.strip_prefix(SIGNATURE) else {
        found.other = true;
        return;
    };
    loop {
        let Some(head) = rest.get(..8) else {
            found.other = true;
            return;
        };
        let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
        let kind: [u8; 4] = [head[4], head[5], head[6], head[7]];
        let Some(data) = rest.get(8..8usize.saturating_add(len)) else {
            found.other = true;
            return;
        };
        chunk(&kind, data, found);
        if &kind == b"fdAT" {
            found.frames = true;
        }
        if &kind == b"IEND" {
            if rest.len() > 12 + len {
                found.other = true;
            }
            return;
        }
        rest = rest.get(12usize.saturating_add(len)..).unwrap_or_default();
    }
}

fn chunk(kind: &[u8; 4], data: &[u8], found: &mut Found) {
    match kind {
        b"iCCP" => found.icc = true,
        b"eXIf" => exif::scan(data, found),
        b"tIME" => found.datetime = true,
        b"tEXt" | b"zTXt" | b"iTXt" => text(data, found),
        k if IMAGE_CHUNKS.contains(&k) => {}
        _ => found.other = true,
    }
}

/// Text chunks: the keyword says what they carry.
fn text(data: &[u8], found: &mut Found) {
    let keyword = data.split(|&b| b == 0).next().unwrap_or_default();
    let keyword = String::from_utf8_lossy(keyword).to_ascii_lowercase();
    match keyword.as_str() {
        "xml:com.adobe.xmp" | "raw profile type xmp" => found.xmp = true,
        "raw profile type exif" | "raw profile type app1" => found.exif = true,
        "raw profile type iptc" | "raw profile type 8bim" => found.iptc = true,
        "raw profile type icc" | "raw profile type icm" => found.icc = true,
        "creation time" | "date:create" | "date:modify" | "date:timestamp" => {
            found.datetime = true;
        }
        _ => found.comment = true,
    }
}

/// Whether the chunks run, whole, up to a complete IEND chunk (CRC included).
pub(crate) fn ends_cleanly(bytes: &[u8]) -> bool {
    let Some(mut rest) = bytes.strip_prefix(SIGNATURE) else {
        return false;
    };
    while let Some(head) = rest.get(..8) {
        let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
        let Some(after) = rest.get(12usize.saturating_add(len)..) else {
            return false;
        };
        if &head[4..8] == b"IEND" {
            return true;
        }
        rest = after;
    }
    false
}

/// Animation frames stored after the first image (`fcTL` chunks after the
/// first `IDAT`, whose pixels are in `fdAT` chunks).
pub(crate) fn extra_frames(bytes: &[u8]) -> u32 {
    let Some(mut rest) = bytes.strip_prefix(SIGNATURE) else {
        return 0;
    };
    let (mut seen_idat, mut extra) = (false, 0u32);
    while let Some(head) = rest.get(..8) {
        let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
        match &head[4..8] {
            b"IDAT" => seen_idat = true,
            b"fcTL" if seen_idat => extra = extra.saturating_add(1),
            b"IEND" => break,
            _ => {}
        }
        rest = rest.get(12usize.saturating_add(len)..).unwrap_or_default();
    }
    extra
}
