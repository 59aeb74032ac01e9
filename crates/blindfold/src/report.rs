//! The report of one photo, as every front end prints it (the CLI's
//! `--json`, the HTTP service, the Python package).

use crate::codec::Format;
use crate::pipeline::{Face, IccAction, JpegPath, Outcome, Playback, Timings};
use serde::Serialize;

/// Photo details of a report.
#[derive(Serialize, Debug, Clone)]
pub struct PhotoReport {
    /// The input's format: jpeg, png, webp, tiff, bmp, gif, heif or avif.
    pub format: Format,
    /// The output's format: the input's, except heif (HEIC), written as
    /// jpeg (no free HEVC encoder).
    pub format_out: Format,
    /// Upright width.
    pub width: u32,
    /// Upright height.
    pub height: u32,
    /// EXIF orientation that was applied to the pixels (1 = none).
    pub orientation: u8,
    /// Every face masked: box, score and the mask as drawn; in a file of
    /// several frames or pages, also the `frame` (from 0), and in an
    /// animation the `source` (`detected`, or `interpolated`, `held`,
    /// `backfilled` where tracking put it; those have score 0).
    pub faces: Vec<Face>,
    /// Kinds of identifying metadata found in the input and not written out.
    pub metadata_removed: Vec<&'static str>,
    /// Metadata carried over (only ever `icc`: the colour data of the
    /// profile, or the whole profile with `keep_icc_as_is`).
    pub metadata_kept: Vec<&'static str>,
    /// What became of the colour profile: none, kept, text-removed,
    /// removed, unreadable (dropped) or as-is.
    pub icc: IccAction,
    /// Pictures in the input not written: every frame or page but the
    /// first when only the first was asked for (`first_frame`); always, a
    /// TIFF's reduced-resolution copies and an APNG's default image outside
    /// the animation (`metadata_removed` lists those as `thumbnail`).
    pub frames_dropped: u32,
    /// Frames or pages written (1 for a still image).
    pub frames: u32,
    /// How an animation plays, as written: `loop_count` (0 = forever;
    /// null when the file has none and plays once), `delays_ms` per frame,
    /// and `frames_filled_by_tracking`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub playback: Option<Playback>,
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
            format_out: o.format_out,
            width: o.width,
            height: o.height,
            orientation: o.orientation,
            faces: o.faces.clone(),
            metadata_removed: o.metadata_removed.clone(),
            metadata_kept: o.metadata_kept.clone(),
            icc: o.icc,
            frames_dropped: o.frames_dropped,
            frames: o.frames,
            playback: o.playback.clone(),
            damaged: o.damaged.clone(),
            jpeg: o.jpeg,
            jpeg_reason: o.jpeg_reason.clone(),
            timings: o.timings,
        }
    }
}
