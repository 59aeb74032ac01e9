//! What identifying metadata an encoded image carries. Used to report what
//! was removed from the input, and to check that the output carries none.
//!
//! [`scan`] walks the container (JPEG segments, PNG chunks, WebP RIFF chunks,
//! every TIFF directory, the items of a HEIF or AVIF file) and parses EXIF blocks with `kamadak-exif`. It
//! never panics and never fails: unreadable parts are reported as present
//! rather than skipped, so a check on an output fails closed.

pub(crate) mod exif;
pub(crate) mod gif;
pub(crate) mod heif;
pub(crate) mod jpeg;
pub(crate) mod png;
pub(crate) mod riff;
pub(crate) mod tiff;

use crate::codec::Format;
use serde::{Deserialize, Serialize};

/// Metadata found in one encoded file. Each field names a kind of metadata;
/// `icc` is colour information and is not identifying.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Found {
    /// An EXIF block of any kind (also camera make, model and software tags
    /// in a TIFF file's directories).
    pub exif: bool,
    /// GPS position tags inside EXIF.
    pub gps: bool,
    /// Camera or lens serial numbers, owner or artist name, unique image id.
    pub serial: bool,
    /// Maker notes (vendor blobs that often hold serials).
    pub maker_note: bool,
    /// Date and time tags.
    pub datetime: bool,
    /// An embedded thumbnail or further image (which can still show the
    /// unmasked faces): EXIF IFD1, JFXX, MPF, Photoshop thumbnails, more TIFF
    /// pages.
    pub thumbnail: bool,
    /// XMP packets.
    pub xmp: bool,
    /// IPTC / Photoshop IRB blocks.
    pub iptc: bool,
    /// Comments and free text chunks.
    pub comment: bool,
    /// Anything else that is not needed to show the picture: unknown vendor
    /// segments or chunks, bytes after the end of the image, unreadable
    /// structure.
    #[serde(default)]
    pub other: bool,
    /// Further animation frames or TIFF pages (each can show a face).
    #[serde(default)]
    pub frames: bool,
    /// Auxiliary images of a HEIF or AVIF file other than alpha: depth
    /// maps, portrait mattes, HDR gain maps (each can show a face's shape).
    #[serde(default)]
    pub auxiliary: bool,
    /// An ICC colour profile.
    pub icc: bool,
}

impl Found {
    /// Names of the identifying kinds present, in a fixed order (not `icc`).
    pub fn identifying(&self) -> Vec<&'static str> {
        let all = [
            (self.exif, "exif"),
            (self.gps, "gps"),
            (self.serial, "serial"),
            (self.maker_note, "maker_note"),
            (self.datetime, "datetime"),
            (self.thumbnail, "thumbnail"),
            (self.xmp, "xmp"),
            (self.iptc, "iptc"),
            (self.comment, "comment"),
            (self.other, "other"),
            (self.frames, "frames"),
            (self.auxiliary, "auxiliary"),
        ];
        all.iter().filter(|(b, _)| *b).map(|(_, n)| *n).collect()
    }
}

/// Scan an encoded image for metadata.
pub fn scan(bytes: &[u8], format: Format) -> Found {
    let mut found = Found::default();
    match format {
        Format::Jpeg => jpeg::scan(bytes, &mut found),
        Format::Png => png::scan(bytes, &mut found),
        Format::Webp => riff::scan(bytes, &mut found),
        Format::Tiff => tiff::scan(bytes, &mut found),
        Format::Bmp => scan_bmp(bytes, &mut found),
        Format::Gif => gif::scan(bytes, &mut found),
        Format::Heif | Format::Avif => heif::scan(bytes, &mut found),
    }
    found
}

/// How many frames (GIF, animated PNG or WebP) or pages (TIFF) `bytes` holds;
/// 1 for a still image or anything unreadable.
pub fn frames(bytes: &[u8], format: Format) -> u32 {
    match format {
        Format::Png => 1 + png::extra_frames(bytes),
        Format::Webp => riff::frames(bytes).max(1),
        Format::Tiff => tiff::pages(bytes).max(1),
        Format::Gif => gif::walk(bytes, &mut Found::default()).frames.max(1),
        Format::Heif | Format::Avif => heif::top_level_images(bytes).max(1),
        Format::Jpeg | Format::Bmp => 1,
    }
}

/// The largest picture size a HEIF or AVIF file declares (its `ispe`
/// properties), read without decoding: at least the size of the picture it
/// shows. `None` when it declares none or its boxes do not read.
pub fn heif_size(bytes: &[u8]) -> Option<(u32, u32)> {
    heif::largest_size(bytes)
}

/// BMP has no metadata blocks; a version 5 header may embed a colour profile.
fn scan_bmp(bytes: &[u8], found: &mut Found) {
    let header_size = bytes
        .get(14..18)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
    // bV5CSType sits 56 bytes into the info header; 'MBED' marks an embedded profile.
    if header_size == Some(124) && bytes.get(70..74) == Some(&b"DEBM"[..]) {
        found.icc = true;
    }
}

#[cfg(test)]
pub(crate) mod testdata;
#[cfg(test)]
mod tests;
