//! Writing a profile back from its colour tags only.

use super::Sanitized;
use super::parse::Profile;

/// Header bytes copied as they are: size (rewritten), version, class,
/// colour space, connection space, `acsp`, rendering intent, illuminant.
/// Everything else (CMM, date, platform, flags, device maker, model and
/// attributes, creator, profile ID, reserved bytes) is written as zeros.
const KEPT_HEADER: [std::ops::Range<usize>; 7] =
    [0..4, 8..12, 12..16, 16..20, 20..24, 36..40, 64..80];

/// Colour tags kept, with the types each may have.
const KEPT_TAGS: &[(&[u8; 4], &[&[u8; 4]])] = &[
    (b"wtpt", &[b"XYZ "]),
    (b"bkpt", &[b"XYZ "]),
    (b"rXYZ", &[b"XYZ "]),
    (b"gXYZ", &[b"XYZ "]),
    (b"bXYZ", &[b"XYZ "]),
    (b"lumi", &[b"XYZ "]),
    (b"rTRC", &[b"curv", b"para"]),
    (b"gTRC", &[b"curv", b"para"]),
    (b"bTRC", &[b"curv", b"para"]),
    (b"chad", &[b"sf32"]),
    (b"chrm", &[b"chrm"]),
    (b"cicp", &[b"cicp"]),
    (b"A2B0", &[b"mft1", b"mft2", b"mAB "]),
    (b"A2B1", &[b"mft1", b"mft2", b"mAB "]),
    (b"A2B2", &[b"mft1", b"mft2", b"mAB "]),
    (b"B2A0", &[b"mft1", b"mft2", b"mBA "]),
    (b"B2A1", &[b"mft1", b"mft2", b"mBA "]),
    (b"B2A2", &[b"mft1", b"mft2", b"mBA "]),
];

/// The description written in place of the original, by major version.
pub(super) fn description(major: u8) -> Vec<u8> {
    let mut d = Vec::new();
    if major >= 4 {
        // multiLocalizedUnicodeType: one record, en-US, "RGB" in UTF-16BE.
        d.extend_from_slice(b"mluc\0\0\0\0");
        d.extend_from_slice(&1u32.to_be_bytes());
        d.extend_from_slice(&12u32.to_be_bytes());
        d.extend_from_slice(b"enUS");
        d.extend_from_slice(&6u32.to_be_bytes());
        d.extend_from_slice(&28u32.to_be_bytes());
        d.extend_from_slice(&[0, b'R', 0, b'G', 0, b'B']);
    } else {
        // textDescriptionType: ASCII "RGB", empty Unicode and ScriptCode parts.
        d.extend_from_slice(b"desc\0\0\0\0");
        d.extend_from_slice(&4u32.to_be_bytes());
        d.extend_from_slice(b"RGB\0");
        d.extend_from_slice(&[0; 8]);
        d.extend_from_slice(&[0; 3]);
        d.extend_from_slice(&[0; 67]);
    }
    d
}

fn be32(b: &[u8], at: usize) -> Option<usize> {
    let s = b.get(at..at + 4)?;
    Some(u32::from_be_bytes([s[0], s[1], s[2], s[3]]) as usize)
}

fn be16(b: &[u8], at: usize) -> Option<usize> {
    let s = b.get(at..at + 2)?;
    Some(usize::from(u16::from_be_bytes([s[0], s[1]])))
}

/// How many bytes of `data` its type needs; `None` when it does not fit.
fn needed(data: &[u8]) -> Option<usize> {
    let byte = |at: usize| data.get(at).copied().map(usize::from);
    let n = match data.get(..4)? {
        b"XYZ " => 20,
        b"curv" => be32(data, 8)?.checked_mul(2)?.checked_add(12)?,
        b"para" => {
            let params = [1, 3, 4, 5, 7].get(be16(data, 8)?)?;
            12 + 4 * params
        }
        b"sf32" => 44,
        b"chrm" => be16(data, 8)? * 8 + 12,
        b"cicp" => 12,
        b"mft1" => {
            let (i, o) = (byte(8)?, byte(9)?);
            let table = clut(byte(10)?, i)?.checked_mul(o)?;
            table.checked_add(48 + 256 * i + 256 * o)?
        }
        b"mft2" => {
            let (i, o) = (byte(8)?, byte(9)?);
            let (ni, no) = (be16(data, 48)?, be16(data, 50)?);
            let table = clut(byte(10)?, i)?.checked_mul(o)?;
            let entries = table.checked_add(i * ni + o * no)?;
            entries.checked_mul(2)?.checked_add(52)?
        }
        // Lut-based A-to-B and B-to-A: a table of offsets; kept whole.
        b"mAB " | b"mBA " => data.len(),
        _ => return None,
    };
    (n <= data.len()).then_some(n)
}

/// Grid points of a colour lookup table with `g` points on each of `i` axes.
fn clut(g: usize, i: usize) -> Option<usize> {
    g.checked_pow(u32::try_from(i).ok()?)
}

/// Rebuild the profile from the tags in [`KEPT_TAGS`].
pub(super) fn build(p: &[u8], parsed: &Profile) -> Sanitized {
    let fixed_desc = description(parsed.major);
    let mut removed_text = parsed.size != p.len();
    let mut kept: Vec<([u8; 4], &[u8])> = Vec::new();
    for tag in &parsed.tags {
        let data = &p[tag.data.clone()];
        let rule = KEPT_TAGS.iter().find(|(sig, _)| **sig == tag.sig);
        let Some((_, types)) = rule else {
            if !(&tag.sig == b"desc" && data == fixed_desc.as_slice()) {
                removed_text = true;
            }
            continue;
        };
        if kept.iter().any(|(s, _)| *s == tag.sig) {
            removed_text = true;
            continue;
        }
        let typed = types.iter().any(|t| data.starts_with(*t));
        let Some(n) = needed(data).filter(|_| typed) else {
            return Sanitized::Dropped(format!(
                "tag {:?} is malformed",
                String::from_utf8_lossy(&tag.sig)
            ));
        };
        if n < data.len() {
            removed_text = true;
        }
        kept.push((tag.sig, &data[..n]));
    }
    let has = |s: &[u8; 4]| kept.iter().any(|(k, _)| k == s);
    let matrix = [b"rXYZ", b"gXYZ", b"bXYZ", b"rTRC", b"gTRC", b"bTRC"]
        .iter()
        .all(|s| has(s));
    if !matrix && !has(b"A2B0") {
        return Sanitized::Dropped("profile holds no RGB colour transform".into());
    }
    let mut header = [0u8; 128];
    for r in KEPT_HEADER {
        header[r.clone()].copy_from_slice(&p[r]);
    }
    if zeroed_fields_set(p) {
        removed_text = true;
    }
    kept.push((*b"desc", &fixed_desc));
    Sanitized::Rebuilt {
        profile: write(header, &kept),
        removed_text,
    }
}

/// Whether any header field that is written as zeros held something.
fn zeroed_fields_set(p: &[u8]) -> bool {
    (0..128).any(|i| p[i] != 0 && !KEPT_HEADER.iter().any(|r| r.contains(&i)))
}

fn write(mut header: [u8; 128], tags: &[([u8; 4], &[u8])]) -> Vec<u8> {
    let table = 132 + 12 * tags.len();
    let mut data = Vec::new();
    let mut entries = Vec::new();
    for (sig, d) in tags {
        let offset = table + data.len();
        entries.push((*sig, offset, d.len()));
        data.extend_from_slice(d);
        while data.len() % 4 != 0 {
            data.push(0);
        }
    }
    let size = table + data.len();
    header[..4].copy_from_slice(&(size as u32).to_be_bytes());
    let mut out = Vec::with_capacity(size);
    out.extend_from_slice(&header);
    out.extend_from_slice(&(tags.len() as u32).to_be_bytes());
    for (sig, off, len) in entries {
        out.extend_from_slice(&sig);
        out.extend_from_slice(&(off as u32).to_be_bytes());
        out.extend_from_slice(&(len as u32).to_be_bytes());
    }
    out.extend_from_slice(&data);
    out
}
