//! Auditing an anonymised image: does anything that identifies a person,
//! a place or a device remain? Used by `blindfold verify`.
//!
//! [`audit`] decodes the image strictly and looks for:
//! - residual faces, with the caller's detector (run it at its most
//!   thorough setting, [`crate::detect::DetectConfig::thorough`]) on every
//!   view of the pixels ([`crate::views::seen`]: the RGB, the composites
//!   over black and white, and the alpha as grey). A candidate whose box is
//!   filled with a mask fill (one flat colour, or noise) is not a face left
//!   behind but a mask already drawn (the middle of its box is mostly flat
//!   or noise, see [`is_fill`]); it is listed apart;
//! - identifying metadata of any kind ([`crate::metadata::scan`]), plus text
//!   or device fields in the ICC profile (`icc-text`), a profile that is
//!   not a readable RGB ICC profile (`icc-unreadable`), and further frames
//!   or pages (`frames`);
//! - given the original, the share of pixels changed outside the masks
//!   (the masks the default settings would draw over the faces the same
//!   detector finds in the original, and every pixel that looks like mask
//!   fill). It should be only the re-encode.

use crate::anonymize::{MaskSpec, masks_for};
use crate::codec::{self, DecodeOptions, Format};
use crate::detect::FaceDetector;
use crate::icc::{self, Sanitized};
use crate::views::seen;
use crate::{Detection, Error, metadata};
use image::RgbImage;
use serde::{Deserialize, Serialize};

/// Names of the views, in the order of [`crate::views::seen`].
const VIEWS: [&str; 4] = ["rgb", "over-black", "over-white", "alpha"];

/// A pixel counts as changed when a channel differs by more than this
/// (JPEG re-encoding at the default quality stays well below).
pub const CHANGED_LEVEL: u8 = 40;

/// Settings of an audit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AuditOptions {
    /// Decoding limits (damaged data is never accepted).
    pub decode: DecodeOptions,
    /// Share of pixels outside the masks that may differ from the original
    /// by more than [`CHANGED_LEVEL`] before it counts as a finding.
    pub max_changed_share: f64,
}

impl Default for AuditOptions {
    fn default() -> Self {
        AuditOptions {
            decode: DecodeOptions::default(),
            max_changed_share: 0.01,
        }
    }
}

/// A face candidate in an audited image.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    /// Box and score.
    #[serde(flatten)]
    pub detection: Detection,
    /// The view it was seen in: `rgb`, `over-black`, `over-white`, `alpha`.
    pub view: String,
}

/// What an audit found.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Audit {
    /// The image's real format (from its content).
    pub format: Format,
    /// Face candidates that are not mask fills: faces left behind.
    pub faces: Vec<Candidate>,
    /// Candidates over a mask fill (flat colour or noise); not findings.
    pub masked: Vec<Candidate>,
    /// Identifying metadata present.
    pub metadata: Vec<&'static str>,
    /// Frames or pages in the file.
    pub frames: u32,
    /// With an original: the share of pixels outside the masks that differ
    /// from it by more than [`CHANGED_LEVEL`].
    pub changed_outside_masks: Option<f64>,
    /// True when nothing was found.
    pub clean: bool,
}

/// Audit one encoded image; `original` is the input it was made from, if
/// known. Errors when the image (or the original) cannot be decoded.
pub fn audit(
    bytes: &[u8],
    detector: &mut dyn FaceDetector,
    original: Option<&[u8]>,
    opts: &AuditOptions,
) -> Result<Audit, Error> {
    let decode = DecodeOptions {
        accept_damaged: false,
        ..opts.decode
    };
    let img = codec::decode(bytes, &decode)?;
    let (mut faces, mut masked) = (Vec::new(), Vec::new());
    for (view, picture) in VIEWS.iter().zip(seen(&img.image, img.alpha.as_ref())) {
        audit_picture(&picture, view, detector, &mut faces, &mut masked)?;
    }
    let mut found = metadata::scan(bytes, img.format).identifying();
    match img.icc.as_deref().map(icc::sanitize) {
        Some(Sanitized::Rebuilt {
            removed_text: true, ..
        }) => found.push("icc-text"),
        Some(Sanitized::Dropped(_)) => found.push("icc-unreadable"),
        _ => {}
    }
    if img.frames > 1 && !found.contains(&"frames") {
        found.push("frames");
    }
    let changed = match original {
        Some(orig) => Some(changed_outside(&img.image, orig, detector, &decode)?),
        None => None,
    };
    let clean =
        faces.is_empty() && found.is_empty() && changed.is_none_or(|c| c <= opts.max_changed_share);
    Ok(Audit {
        format: img.format,
        faces,
        masked,
        metadata: found,
        frames: img.frames,
        changed_outside_masks: changed,
        clean,
    })
}

/// Look for faces in one picture (a view of a photo, or a video frame):
/// candidates over a mask fill go to `masked`, the rest to `faces`.
pub fn audit_picture(
    picture: &RgbImage,
    view: &str,
    detector: &mut dyn FaceDetector,
    faces: &mut Vec<Candidate>,
    masked: &mut Vec<Candidate>,
) -> Result<(), Error> {
    let fill = fill_map(picture);
    for detection in detector.detect(picture)? {
        let c = Candidate {
            detection,
            view: view.to_string(),
        };
        if is_fill(picture, &fill, &c.detection) {
            masked.push(c);
        } else {
            faces.push(c);
        }
    }
    Ok(())
}

/// Which pixels look like a mask fill: their 3x3 neighbourhood is one flat
/// colour, or as unlike as independent random values (noise; uniform random
/// bytes differ by 85 on average, less after JPEG compression, while
/// neighbouring pixels of a photo differ by a few).
pub fn fill_map(img: &RgbImage) -> Vec<bool> {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let px = img.as_raw();
    let at = |x: usize, y: usize, c: usize| i32::from(px[(y * w + x) * 3 + c]);
    let mut fill = vec![false; w * h];
    for y in 1..h.saturating_sub(1) {
        for x in 1..w.saturating_sub(1) {
            let (mut flat, mut diff) = (true, 0i32);
            for dy in 0..3 {
                for dx in 0..3 {
                    for c in 0..3 {
                        let d = (at(x + dx - 1, y + dy - 1, c) - at(x, y, c)).abs();
                        flat &= d <= 2;
                        diff += d;
                    }
                }
            }
            fill[y * w + x] = flat || diff > 24 * 28;
        }
    }
    fill
}

fn grow(map: &[bool], w: usize, h: usize, r: usize) -> Vec<bool> {
    let mut rows = vec![false; w * h];
    for y in 0..h {
        for x in 0..w {
            let (lo, hi) = (x.saturating_sub(r), (x + r).min(w - 1));
            rows[y * w + x] = (lo..=hi).any(|i| map[y * w + i]);
        }
    }
    let mut out = vec![false; w * h];
    for y in 0..h {
        let (lo, hi) = (y.saturating_sub(r), (y + r).min(h - 1));
        for x in 0..w {
            out[y * w + x] = (lo..=hi).any(|j| rows[j * w + x]);
        }
    }
    out
}

/// Whether `d` sits on a mask: at least 40% of the middle of its box (half
/// its width and height) is fill (see [`fill_map`]). A face on a flat
/// background is not: the middle of its box is the face.
pub fn is_fill(img: &RgbImage, fill: &[bool], d: &Detection) -> bool {
    let b = d.bbox.clip(img.width(), img.height());
    let (cx, cy) = b.center();
    let (hw, hh) = (b.width() / 4.0, b.height() / 4.0);
    let (x0, y0) = ((cx - hw) as usize, (cy - hh) as usize);
    let w = img.width() as usize;
    let x1 = ((cx + hw).ceil() as usize).min(w);
    let y1 = ((cy + hh).ceil() as usize).min(img.height() as usize);
    let (mut n, mut filled) = (0usize, 0usize);
    for y in y0..y1 {
        for x in x0..x1 {
            n += 1;
            filled += usize::from(fill[y * w + x]);
        }
    }
    n > 0 && filled * 10 >= n * 4
}

/// The share of pixels outside the masks over the faces found in the
/// original that differ from it by more than [`CHANGED_LEVEL`].
fn changed_outside(
    out: &RgbImage,
    original: &[u8],
    detector: &mut dyn FaceDetector,
    decode: &DecodeOptions,
) -> Result<f64, Error> {
    let orig = codec::decode(original, decode)?;
    if orig.image.dimensions() != out.dimensions() {
        return Err(Error::Verify(format!(
            "the original is {:?}, the output {:?}",
            orig.image.dimensions(),
            out.dimensions()
        )));
    }
    let dets = crate::views::detect_seen(detector, &orig.image, orig.alpha.as_ref())?;
    let masks = masks_for(&dets, &MaskSpec::default());
    let (w, h) = out.dimensions();
    // Inside a mask: under one drawn over a face found in the original, or
    // filled (the anonymiser's detections can differ a little).
    // Grown by 2 pixels so a mask's rim counts as mask.
    let mut inside = grow(&fill_map(out), w as usize, h as usize, 2);
    for m in &masks {
        for y in m.rows(h) {
            for x in m.row_span(y, w) {
                inside[(y * w + x) as usize] = true;
            }
        }
    }
    let (mut outside, mut changed) = (0u64, 0u64);
    for (i, (a, b)) in out.pixels().zip(orig.image.pixels()).enumerate() {
        if inside[i] {
            continue;
        }
        outside += 1;
        if a.0
            .iter()
            .zip(b.0)
            .any(|(p, q)| p.abs_diff(q) > CHANGED_LEVEL)
        {
            changed += 1;
        }
    }
    Ok(if outside == 0 {
        0.0
    } else {
        changed as f64 / outside as f64
    })
}

#[cfg(test)]
mod tests;
