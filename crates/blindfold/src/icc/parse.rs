//! Reading the header and tag table of an ICC profile.

/// Most tags read from one profile (real ones have about 10 to 40).
const MAX_TAGS: usize = 256;

/// One entry of the tag table.
pub(super) struct Tag {
    /// The tag signature (`rXYZ`, `desc`, ...).
    pub sig: [u8; 4],
    /// Its data, as the table points to it.
    pub data: std::ops::Range<usize>,
}

/// A profile whose structure checks out.
pub(super) struct Profile {
    /// The size the header declares (at most the buffer's length).
    pub size: usize,
    /// The major version byte (2 or 4).
    pub major: u8,
    /// The tag table.
    pub tags: Vec<Tag>,
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

/// Parse the header and tag table, refusing anything that is not an RGB
/// profile for a device (input, display, output or colour space class) with
/// every tag inside the declared size.
pub(super) fn parse(p: &[u8]) -> Result<Profile, String> {
    let size = be32(p, 0).ok_or("shorter than an ICC header")? as usize;
    if p.len() < 132 || size < 132 || size > p.len() {
        return Err(format!(
            "not an ICC profile: declared size {size}, {} bytes present",
            p.len()
        ));
    }
    if &p[36..40] != b"acsp" {
        return Err("not an ICC profile: no 'acsp' signature".into());
    }
    let major = p[8];
    if !(2..=4).contains(&major) {
        return Err(format!("unknown ICC version {major}"));
    }
    if !matches!(&p[12..16], b"mntr" | b"scnr" | b"prtr" | b"spac") {
        return Err("not a device or colour-space profile".into());
    }
    if &p[16..20] != b"RGB " {
        return Err(format!(
            "profile is for colour space {:?}, the output is RGB",
            String::from_utf8_lossy(&p[16..20])
        ));
    }
    if !matches!(&p[20..24], b"XYZ " | b"Lab ") {
        return Err("unknown profile connection space".into());
    }
    let count = be32(p, 128).ok_or("no tag count")? as usize;
    if count > MAX_TAGS || 132 + count * 12 > size {
        return Err(format!("tag table of {count} entries does not fit"));
    }
    let mut tags = Vec::with_capacity(count);
    for i in 0..count {
        let at = 132 + i * 12;
        let mut sig = [0u8; 4];
        sig.copy_from_slice(&p[at..at + 4]);
        let off = be32(p, at + 4).ok_or("short tag table")? as usize;
        let len = be32(p, at + 8).ok_or("short tag table")? as usize;
        let end = off.checked_add(len).ok_or("tag out of range")?;
        if off < 128 || end > size || len < 8 {
            return Err(format!(
                "tag {:?} lies outside the profile",
                String::from_utf8_lossy(&sig)
            ));
        }
        tags.push(Tag {
            sig,
            data: off..end,
        });
    }
    Ok(Profile { size, major, tags })
}
