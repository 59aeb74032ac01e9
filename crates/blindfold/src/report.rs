//! The report of one photo, as every front end prints it (the CLI's
//! `--json`, the HTTP service, the Python package).

use crate::codec::Format;
use crate::pipeline::{Face, IccAction, JpegPath, Outcome, Timings};
use serde::Serialize;

/// Photo details of a report.
#[derive(Serialize, Debug, Clone)]
pub struct PhotoReport {
    /// jpeg, png, webp, tiff or bmp.
    pub format: Format,
    /// Upright width.
    pub width: u32,
    /// Upright height.
    pub height: u32,
    /// EXIF orientation that was applied to the pixels (1 = none).
    pub orientation: u8,
    /// Every face masked: box, score and the mask as drawn.
    pub faces: Vec<Face>,
    /// Kinds of identifying metadata found in the input and not written out.
    pub metadata_removed: Vec<&'static str>,
    /// Metadata carried over (only ever `icc`: the colour data of the
    /// profile, or the whole profile with `keep_icc_as_is`).
    pub metadata_kept: Vec<&'static str>,
    /// What became of the colour profile: none, kept, text-removed,
    /// removed, unreadable (dropped) or as-is.
    pub icc: IccAction,
    /// Animation frames or TIFF pages not written (only the first is).
    pub frames_dropped: u32,
    /// The damage let through by `accept_damaged`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub damaged: Option<String>,
    /// For a JPEG: `lossless` (edited in the DCT domain, every block no
    /// mask touches kept bit for bit) or `reencoded` (from pixels).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jpeg: Option<JpegPath>,
    /// Why a JPEG was re-encoded although lossless was asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jpeg_reason: Option<String>,
    /// Milliseconds per stage.
    pub timings: Timings,
}

impl From<&Outcome> for PhotoReport {
    fn from(o: &Outcome) -> Self {
        PhotoReport {
            format: o.format,
            width: o.width,
            height: o.height,
            orientation: o.orientation,
            faces: o.faces.clone(),
            metadata_removed: o.metadata_removed.clone(),
            metadata_kept: o.metadata_kept.clone(),
            icc: o.icc,
            frames_dropped: o.frames_dropped,
            damaged: o.damaged.clone(),
            jpeg: o.jpeg,
            jpeg_reason: o.jpeg_reason.clone(),
            timings: o.timings,
        }
    }
}
