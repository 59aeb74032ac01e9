//! Auditing an anonymised image: does anything that identifies a person,
//! a place or a device remain? Used by `blindfold verify`.
//!
//! [`audit`] decodes the image strictly and looks for:
//! - residual faces, with the caller's detector (run it at its most
//!   thorough setting, [`crate::detect::DetectConfig::thorough`]) on every
//!   view of the pixels ([`crate::views::seen`]: the RGB, the composites
//!   over black and white, and the alpha as grey). A candidate whose box is
//!   filled with a mask fill (one flat colour, or noise) is not a face left
//!   behind but a mask already drawn; it is listed apart;
//! - identifying metadata of any kind ([`crate::metadata::scan`]), plus text
//!   or device fields in the ICC profile (`icc-text`), a profile that is
//!   not a readable RGB ICC profile (`icc-unreadable`), and further frames
//!   or pages (`frames`);
//! - given the original, the share of pixels changed outside the masks
//!   (the masks the default settings would draw over the faces the same
//!   detector finds in the original). It should be only the re-encode.

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
        for detection in detector.detect(&picture)? {
            let c = Candidate {
                detection,
                view: (*view).to_string(),
            };
            if is_fill(&picture, &c.detection) {
                masked.push(c);
            } else {
                faces.push(c);
            }
        }
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

/// Whether the middle of `d`'s box is a mask fill: one flat colour, or
/// noise (neighbouring pixels as unlike as independent random values).
pub fn is_fill(img: &RgbImage, d: &Detection) -> bool {
    let b = d.bbox.clip(img.width(), img.height());
    let (cx, cy) = b.center();
    let (hw, hh) = (b.width() * 0.3, b.height() * 0.3);
    let (x0, x1) = ((cx - hw).max(0.0) as u32, (cx + hw) as u32);
    let (y0, y1) = ((cy - hh).max(0.0) as u32, (cy + hh) as u32);
    let (x1, y1) = (x1.min(img.width()), y1.min(img.height()));
    if x1 <= x0 + 1 || y1 <= y0 {
        return false;
    }
    let first = img.get_pixel(x0, y0).0;
    let (mut same, mut diff, mut n, mut pairs) = (0u64, 0u64, 0u64, 0u64);
    for y in y0..y1 {
        for x in x0..x1 {
            let p = img.get_pixel(x, y).0;
            n += 1;
            if p.iter().zip(first).all(|(a, b)| a.abs_diff(b) <= 4) {
                same += 1;
            }
            if x + 1 < x1 {
                let q = img.get_pixel(x + 1, y).0;
                diff += p
                    .iter()
                    .zip(q)
                    .map(|(a, b)| u64::from(a.abs_diff(b)))
                    .sum::<u64>();
                pairs += 3;
            }
        }
    }
    // Uniform random bytes differ by 85 on average (less after JPEG
    // compression); faces in photos by a few.
    same * 100 >= n * 98 || (pairs > 0 && diff >= pairs * 30)
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
    let mut inside = vec![false; w as usize * h as usize];
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
