//! Profiles for tests: a plain sRGB-like one and a hostile one.

/// Text planted in the hostile profile; none of it may survive.
pub(crate) const PLANTED: [&[u8]; 4] = [
    b"Jane Photographer iPhone 15 Pro - 48.8584N 2.2945E",
    b"SN-0042-7781-XQ",
    b"(c) Jane, 12 Rue de Rivoli, Paris",
    b"\xFF\xD8\xFF\xE0\0\x10JFIF\0face-pixels",
];

fn xyz(x: f32, y: f32, z: f32) -> Vec<u8> {
    let mut d = b"XYZ \0\0\0\0".to_vec();
    for v in [x, y, z] {
        d.extend_from_slice(&((v * 65536.0) as i32).to_be_bytes());
    }
    d
}

fn curv_gamma(g: f32) -> Vec<u8> {
    let mut d = b"curv\0\0\0\0".to_vec();
    d.extend_from_slice(&1u32.to_be_bytes());
    d.extend_from_slice(&((g * 256.0) as u16).to_be_bytes());
    d
}

fn text(t: &[u8]) -> Vec<u8> {
    let mut d = b"text\0\0\0\0".to_vec();
    d.extend_from_slice(t);
    d.push(0);
    d
}

/// A v2 display profile with sRGB-like colour tags and, when `hostile`,
/// identifying text in the description, device model, copyright, device
/// fields of the header, and a private tag holding JPEG bytes.
pub(crate) fn profile(hostile: bool) -> Vec<u8> {
    let mut tags: Vec<([u8; 4], Vec<u8>)> = vec![
        (*b"wtpt", xyz(0.9505, 1.0, 1.089)),
        (*b"rXYZ", xyz(0.4361, 0.2225, 0.0139)),
        (*b"gXYZ", xyz(0.3851, 0.7169, 0.0971)),
        (*b"bXYZ", xyz(0.1431, 0.0606, 0.7141)),
        (*b"rTRC", curv_gamma(2.2)),
        (*b"gTRC", curv_gamma(2.2)),
        (*b"bTRC", curv_gamma(2.2)),
    ];
    if hostile {
        tags.push((*b"desc", text(PLANTED[0])));
        tags.push((*b"dmdd", text(PLANTED[1])));
        tags.push((*b"cprt", text(PLANTED[2])));
        let mut private = b"zzzz\0\0\0\0".to_vec();
        private.extend_from_slice(PLANTED[3]);
        tags.push((*b"zPRV", private));
    }
    let table = 132 + 12 * tags.len();
    let mut data = Vec::new();
    let mut entries = Vec::new();
    for (sig, d) in &tags {
        entries.push((*sig, table + data.len(), d.len()));
        data.extend_from_slice(d);
        while data.len() % 4 != 0 {
            data.push(0);
        }
    }
    let mut p = vec![0u8; 128];
    p[..4].copy_from_slice(&((table + data.len()) as u32).to_be_bytes());
    p[8] = 2;
    p[9] = 0x10;
    p[12..16].copy_from_slice(b"mntr");
    p[16..20].copy_from_slice(b"RGB ");
    p[20..24].copy_from_slice(b"XYZ ");
    p[36..40].copy_from_slice(b"acsp");
    p[68..80].copy_from_slice(&xyz(0.9642, 1.0, 0.8249)[8..]);
    if hostile {
        p[48..52].copy_from_slice(b"APPL");
        p[52..56].copy_from_slice(b"SN42");
        p[80..84].copy_from_slice(b"JANE");
    }
    p.extend_from_slice(&(tags.len() as u32).to_be_bytes());
    for (sig, off, len) in entries {
        p.extend_from_slice(&sig);
        p.extend_from_slice(&(off as u32).to_be_bytes());
        p.extend_from_slice(&(len as u32).to_be_bytes());
    }
    p.extend_from_slice(&data);
    p
}

/// Whether `hay` contains `needle`.
#[cfg(test)]
pub(crate) fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}
