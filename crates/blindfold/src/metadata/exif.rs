//! EXIF blocks: which identifying tags they hold.

use super::Found;
use super::tiff::Tiff;
use exif::{Context, In, Tag, Value};

/// Tags that name the camera, lens or owner (EXIF 2.3 numbers).
const SERIAL_TAGS: [Tag; 4] = [
    Tag::BodySerialNumber,
    Tag::LensSerialNumber,
    Tag::CameraOwnerName,
    Tag::ImageUniqueID,
];

/// Date and time tags in the primary and EXIF directories.
const DATETIME_TAGS: [Tag; 9] = [
    Tag::DateTime,
    Tag::DateTimeOriginal,
    Tag::DateTimeDigitized,
    Tag::SubSecTime,
    Tag::SubSecTimeOriginal,
    Tag::SubSecTimeDigitized,
    Tag::OffsetTime,
    Tag::OffsetTimeOriginal,
    Tag::OffsetTimeDigitized,
];

/// Note an EXIF block (a TIFF structure, optionally after `Exif\0\0`) and the
/// identifying tags inside it.
pub(super) fn scan(payload: &[u8], found: &mut Found) {
    found.exif = true;
    let tiff = payload.strip_prefix(b"Exif\0\0").unwrap_or(payload);
    scan_tiff(tiff, found);
}

/// Parse a TIFF-structured EXIF block and set the flags its tags call for.
/// Parse errors keep what could be read.
pub(super) fn scan_tiff(tiff: &[u8], found: &mut Found) {
    let parsed = exif::Reader::new()
        .continue_on_error(true)
        .read_raw(tiff.to_vec())
        .or_else(|e| e.distill_partial_result(|_| {}));
    let Ok(parsed) = parsed else {
        return;
    };
    let mut make = String::new();
    let mut maker_note: Option<&[u8]> = None;
    for field in parsed.fields() {
        let tag = field.tag;
        if tag.context() == Context::Gps {
            found.gps = true;
            if matches!(tag, Tag::GPSDateStamp | Tag::GPSTimeStamp) {
                found.datetime = true;
            }
        }
        if SERIAL_TAGS.contains(&tag) || tag == Tag::Artist {
            found.serial = true;
        }
        if DATETIME_TAGS.contains(&tag) {
            found.datetime = true;
        }
        if matches!(
            tag,
            Tag::UserComment | Tag::ImageDescription | Tag::Copyright
        ) {
            found.comment = true;
        }
        if field.ifd_num == In::THUMBNAIL
            && matches!(tag, Tag::JPEGInterchangeFormat | Tag::StripOffsets)
        {
            found.thumbnail = true;
        }
        if tag == Tag::Make
            && let Value::Ascii(v) = &field.value
        {
            make = v
                .iter()
                .map(|s| String::from_utf8_lossy(s).to_string())
                .collect();
        }
        if tag == Tag::MakerNote {
            found.maker_note = true;
            if let Value::Undefined(v, _) = &field.value {
                maker_note = Some(v);
            }
        }
    }
    if let Some(note) = maker_note
        && maker_note_has_serial(note, &make, tiff)
    {
        found.serial = true;
    }
}

/// Look for the serial-number tags of Nikon and Canon maker notes.
fn maker_note_has_serial(note: &[u8], make: &str, outer: &[u8]) -> bool {
    let make = make.to_ascii_lowercase();
    if let Some(rest) = note.strip_prefix(b"Nikon\0") {
        // Type 3: "Nikon\0", two version bytes, two padding bytes, then a TIFF.
        let Some(inner) = rest.get(4..).and_then(Tiff::parse) else {
            return false;
        };
        let Some(ifd) = inner.first_ifd().and_then(|o| inner.entries(o)) else {
            return false;
        };
        // 0x001d SerialNumber, 0x00a0 SerialNumber (older models).
        return ifd.tags.iter().any(|t| matches!(t, 0x001d | 0x00a0));
    }
    if make.starts_with("canon") {
        // A bare directory whose offsets are relative to the outer TIFF.
        let Some(outer) = Tiff::parse(outer) else {
            return false;
        };
        let Some(ifd) = outer.entries_in(note, 0) else {
            return false;
        };
        // 0x000c SerialNumber, 0x0096 InternalSerialNumber.
        return ifd.tags.iter().any(|t| matches!(t, 0x000c | 0x0096));
    }
    false
}

/// The one EXIF block blindfold writes (in a JPEG edited in the DCT domain,
/// whose pixels stay as stored): `Exif\0\0`, a big-endian TIFF header and
/// one directory holding the Orientation tag alone, no further directory.
pub(crate) fn orientation_only(orientation: u8) -> [u8; 32] {
    let mut b = [0u8; 32];
    b[..6].copy_from_slice(b"Exif\0\0");
    b[6..14].copy_from_slice(b"MM\0\x2A\0\0\0\x08");
    // One entry: tag 0x0112, type SHORT, count 1, the value left-justified.
    b[14..16].copy_from_slice(&1u16.to_be_bytes());
    b[16..28].copy_from_slice(&[0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, orientation, 0, 0]);
    // b[28..32]: no next directory.
    b
}

/// Whether an APP1 payload is exactly [`orientation_only`] for an
/// orientation 2..=8: the only EXIF an output may carry.
pub(crate) fn is_orientation_only(payload: &[u8]) -> bool {
    (2..=8).any(|o| payload == orientation_only(o))
}
