//! Small files with metadata, built byte by byte for the tests.

/// One TIFF entry: tag, type, count, value bytes (little-endian).
type Entry = (u16, u16, u32, Vec<u8>);

const ASCII: u16 = 2;
const SHORT: u16 = 3;
const LONG: u16 = 4;
const RATIONAL: u16 = 5;
const UNDEFINED: u16 = 7;

fn ascii(tag: u16, s: &str) -> Entry {
    let mut v = s.as_bytes().to_vec();
    v.push(0);
    (tag, ASCII, v.len() as u32, v)
}

fn long(tag: u16, v: u32) -> Entry {
    (tag, LONG, 1, v.to_le_bytes().to_vec())
}

fn ifd_size(entries: &[Entry]) -> usize {
    let extra: usize = entries
        .iter()
        .map(|e| {
            if e.3.len() > 4 {
                (e.3.len() + 1) & !1
            } else {
                0
            }
        })
        .sum();
    2 + 12 * entries.len() + 4 + extra
}

/// Write one directory at absolute offset `at`, its out-of-line values after it.
fn write_ifd(out: &mut Vec<u8>, entries: &[Entry], next: u32) {
    let at = out.len();
    let mut data_at = at + 2 + 12 * entries.len() + 4;
    let mut data = Vec::new();
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    for (tag, typ, count, value) in entries {
        out.extend_from_slice(&tag.to_le_bytes());
        out.extend_from_slice(&typ.to_le_bytes());
        out.extend_from_slice(&count.to_le_bytes());
        if value.len() <= 4 {
            let mut v = value.clone();
            v.resize(4, 0);
            out.extend_from_slice(&v);
        } else {
            out.extend_from_slice(&(data_at as u32).to_le_bytes());
            data.extend_from_slice(value);
            if value.len() % 2 == 1 {
                data.push(0);
            }
            data_at += (value.len() + 1) & !1;
        }
    }
    out.extend_from_slice(&next.to_le_bytes());
    out.extend_from_slice(&data);
}

/// A little-endian EXIF TIFF block with the given orientation. With `full`,
/// it also holds a date, GPS position, body serial, maker note and a
/// thumbnail pointer in IFD1.
pub(crate) fn exif_tiff(orientation: u16, full: bool) -> Vec<u8> {
    let gps_entries: Vec<Entry> = vec![
        ascii(1, "N"),
        (
            2,
            RATIONAL,
            3,
            [43u32, 1, 28, 1, 0, 1]
                .iter()
                .flat_map(|v| v.to_le_bytes())
                .collect(),
        ),
    ];
    let exif_entries: Vec<Entry> = vec![
        ascii(0x9003, "2008:10:22 16:28:39"),
        (0x927c, UNDEFINED, 8, b"VENDOR\0\0".to_vec()),
        ascii(0xa431, "SN123456"),
    ];
    let thumb = vec![0xFF, 0xD8, 0xFF, 0xD9];
    let ifd1_entries: Vec<Entry> = vec![long(513, 0), long(514, thumb.len() as u32)];
    let ifd0 = |exif: u32, gps: u32| -> Vec<Entry> {
        let mut e = vec![(274, SHORT, 1, orientation.to_le_bytes().to_vec())];
        if full {
            e.push(ascii(306, "2008:10:22 16:28:39"));
            e.push(long(34665, exif));
            e.push(long(34853, gps));
        }
        e
    };
    let off0 = 8;
    let off_exif = off0 + ifd_size(&ifd0(0, 0));
    let off_gps = off_exif + ifd_size(&exif_entries);
    let off_ifd1 = off_gps + ifd_size(&gps_entries);
    let off_thumb = off_ifd1 + ifd_size(&ifd1_entries);

    let mut out = b"II*\0".to_vec();
    out.extend_from_slice(&(off0 as u32).to_le_bytes());
    if !full {
        write_ifd(&mut out, &ifd0(0, 0), 0);
        return out;
    }
    write_ifd(
        &mut out,
        &ifd0(off_exif as u32, off_gps as u32),
        off_ifd1 as u32,
    );
    write_ifd(&mut out, &exif_entries, 0);
    write_ifd(&mut out, &gps_entries, 0);
    let ifd1 = vec![long(513, off_thumb as u32), long(514, thumb.len() as u32)];
    write_ifd(&mut out, &ifd1, 0);
    assert_eq!(out.len(), off_thumb);
    out.extend_from_slice(&thumb);
    out
}

/// A JPEG segment: marker, length, payload.
pub(crate) fn segment(marker: u8, payload: &[u8]) -> Vec<u8> {
    let mut s = vec![0xFF, marker];
    s.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
    s.extend_from_slice(payload);
    s
}

/// Insert segments right after SOI.
pub(crate) fn jpeg_with(jpeg: &[u8], segments: &[Vec<u8>]) -> Vec<u8> {
    let mut out = jpeg[..2].to_vec();
    for s in segments {
        out.extend_from_slice(s);
    }
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// APP1 EXIF, APP1 XMP, APP13 IPTC and COM segments.
pub(crate) fn identifying_segments() -> Vec<Vec<u8>> {
    let mut exif = b"Exif\0\0".to_vec();
    exif.extend_from_slice(&exif_tiff(1, true));
    let mut xmp = b"http://ns.adobe.com/xap/1.0/\0".to_vec();
    xmp.extend_from_slice(b"<x:xmpmeta xmlns:x='adobe:ns:meta/'></x:xmpmeta>");
    // Photoshop IRB with one IPTC resource (0x0404) holding a by-line record.
    let iptc = [0x1C, 0x02, 0x50, 0x00, 0x04, b'J', b'o', b'h', b'n'];
    let mut app13 = b"Photoshop 3.0\08BIM\x04\x04\0\0".to_vec();
    app13.extend_from_slice(&(iptc.len() as u32).to_be_bytes());
    app13.extend_from_slice(&iptc);
    app13.push(0);
    vec![
        segment(0xE1, &exif),
        segment(0xE1, &xmp),
        segment(0xED, &app13),
        segment(0xFE, b"taken by John at home"),
    ]
}

/// CRC-32 as PNG uses it.
pub(crate) fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A PNG chunk with its CRC.
pub(crate) fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut c = (data.len() as u32).to_be_bytes().to_vec();
    c.extend_from_slice(kind);
    c.extend_from_slice(data);
    let crc = crc32(&c[4..]);
    c.extend_from_slice(&crc.to_be_bytes());
    c
}

/// Insert chunks right after IHDR.
pub(crate) fn png_with(png: &[u8], chunks: &[Vec<u8>]) -> Vec<u8> {
    let split = 8 + 8 + 13 + 4;
    let mut out = png[..split].to_vec();
    for c in chunks {
        out.extend_from_slice(c);
    }
    out.extend_from_slice(&png[split..]);
    out
}

/// A small xorshift generator for noise images and fuzzing.
pub(crate) struct Rng(pub u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}
