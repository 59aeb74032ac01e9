//! Auditing an anonymised image: does anything that identifies a person,
//! a place or a device remain? Used by `blindfold verify`.
//!
//! [`audit`] decodes the image strictly and looks for:
//! - residual faces, with the caller's detector (run it at its most
//!   thorough setting, [`crate::detect::DetectConfig::thorough`]) on every
//!   view of the pixels ([`crate::views::seen`]: the RGB, the composites
//!   over black and white, and the alpha as grey). A candidate whose box is
//!   covered by a mask fill is not a face left behind but a mask already
//!   drawn; it is listed apart. What counts as a fill is checked over the
//!   whole region it covers ([`fill`]: one exact colour, or noise as
//!   blindfold draws it), so a dark, grainy or very smooth face is never
//!   taken for one; with the original, pixels that changed from it inside
//!   the masks the default settings would draw count too;
//! - identifying metadata of any kind ([`crate::metadata::scan`]), plus text
//!   or device fields in the ICC profile (`icc-text`), a profile that is
//!   not a readable RGB ICC profile (`icc-unreadable`), and pictures that
//!   are neither frames nor pages (`thumbnail`: TIFF reduced copies, an
//!   APNG default image outside the animation);
//! - every frame of an animation and every page of a TIFF is audited
//!   (candidates carry their `frame`);
//! - given the original, the share of pixels changed outside the masks
//!   (the masks the default settings would draw over the faces the same
//!   detector finds in the original, and every pixel that looks like mask
//!   fill; for a JPEG edited in the DCT domain, the MCUs whose blocks
//!   were replaced, see [`crate::codec::dct::replaced`]). It should be only the
//!   re-encode, and is 0 for a lossless JPEG.

pub mod fill;

use crate::anonymize::{Mask, MaskSpec, masks_for};
use crate::codec::frames::{self, Frame, Sequence};
use crate::codec::{DecodeOptions, Format};
use crate::detect::FaceDetector;
use crate::icc::{self, Sanitized};
use crate::views::seen;
use crate::{Detection, Error, metadata};
pub use fill::{Fill, Grain};
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
    /// Candidates whose box is less tall than this (pixels) are listed as
    /// [`Faces::tiny`], not as findings: too small to identify anyone.
    pub min_face_height: f32,
}

/// The default [`AuditOptions::min_face_height`]: a face under 8 pixels
/// tall has no features left to recognise.
pub const MIN_FACE_HEIGHT: f32 = 8.0;

impl Default for AuditOptions {
    fn default() -> Self {
        AuditOptions {
            decode: DecodeOptions::default(),
            max_changed_share: 0.01,
            min_face_height: MIN_FACE_HEIGHT,
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
    /// The frame or page it is in (from 0), in a file of several.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frame: Option<u32>,
}

/// The face candidates of an audit, sorted.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Faces {
    /// Candidates that are not mask fills: faces left behind (findings).
    pub faces: Vec<Candidate>,
    /// Candidates over a mask fill (one exact colour, or noise); not
    /// findings.
    pub masked: Vec<Candidate>,
    /// Candidates less tall than the smallest height that counts; not
    /// findings.
    pub tiny: Vec<Candidate>,
}

impl Faces {
    /// Look for faces in one picture (a view of a photo, or a video frame,
    /// stored with `grain`) and sort the candidates: over a mask fill, less
    /// than `min_height` pixels tall, or faces left behind.
    pub fn look(
        &mut self,
        picture: &RgbImage,
        view: &str,
        grain: Grain,
        detector: &mut dyn FaceDetector,
        min_height: f32,
    ) -> Result<(), Error> {
        let fill = fill::fill_map(picture, grain);
        self.sort(picture, view, &fill, detector, min_height)
    }

    fn sort(
        &mut self,
        picture: &RgbImage,
        view: &str,
        fill: &[Fill],
        detector: &mut dyn FaceDetector,
        min_height: f32,
    ) -> Result<(), Error> {
        for detection in detector.detect(picture)? {
            let c = Candidate {
                detection,
                view: view.to_string(),
                frame: None,
            };
            let (noise, solid) = cover(picture, fill, &c.detection);
            if on_mask(noise, solid) {
                self.masked.push(c);
            } else if c.detection.bbox.height() < min_height {
                self.tiny.push(c);
            } else if noise >= 0.1 && !seen_without_noise(picture, fill, detector, &c.detection)? {
                self.masked.push(c);
            } else {
                self.faces.push(c);
            }
        }
        Ok(())
    }
}

/// In the alpha view, count as fill the pixels that are a fill in the RGB
/// and fully opaque: blindfold makes the alpha 255 wherever it fills the
/// RGB, and white alone is no fill (a blown-out face is white between its
/// features), so the mask is recognised by the RGB fill beneath it.
fn opaque_fill(alpha_view: &RgbImage, rgb_fill: &[Fill], fill: &mut [Fill]) {
    for ((f, &under), px) in fill.iter_mut().zip(rgb_fill).zip(alpha_view.pixels()) {
        if *f == Fill::None && under != Fill::None && px[0] == 255 {
            *f = under;
        }
    }
}

/// Whether the detector still finds `d` once the noise fill around it is
/// flat grey (its mean). The edge and texture of a noise fill, with a collar
/// or a shoulder below it, can look like a face to the detector; a face
/// beside a mask is still found without them. Looks at the box and as much
/// again on every side.
fn seen_without_noise(
    img: &RgbImage,
    fill: &[Fill],
    detector: &mut dyn FaceDetector,
    d: &Detection,
) -> Result<bool, Error> {
    let (w, h) = img.dimensions();
    let area = d.bbox.grow(1.0).clip(w, h);
    let (x0, y0) = (area.x0.floor() as u32, area.y0.floor() as u32);
    let (x1, y1) = (
        (area.x1.ceil() as u32).min(w),
        (area.y1.ceil() as u32).min(h),
    );
    if x1 <= x0 || y1 <= y0 {
        return Ok(true);
    }
    let crop = RgbImage::from_fn(x1 - x0, y1 - y0, |x, y| {
        let (px, py) = (x + x0, y + y0);
        match fill[(py * w + px) as usize] {
            Fill::Noise => image::Rgb([128, 128, 128]),
            _ => *img.get_pixel(px, py),
        }
    });
    let again = detector.detect(&crop)?;
    Ok(again
        .iter()
        .any(|a| a.bbox.translate(x0 as f32, y0 as f32).iou(&d.bbox) >= 0.3))
}

/// What an audit found.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Audit {
    /// The image's real format (from its content).
    pub format: Format,
    /// Face candidates: faces left behind, and those that are not findings.
    #[serde(flatten)]
    pub found: Faces,
    /// Identifying metadata present.
    pub metadata: Vec<&'static str>,
    /// Frames or pages audited: every one in the file (reduced copies
    /// and other pictures that are neither are reported as `thumbnail`).
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
    let seq = frames::decode_all(bytes, &decode)?;
    let grain = Grain::of(bytes, seq.format);
    // With the original: where the faces found in each of its frames were,
    // and which pixels changed from it.
    let originals = match original {
        Some(orig) => Original::all(&seq, bytes, orig, detector, &decode)?,
        None => Vec::new(),
    };
    let many = seq.frames.len() > 1;
    let mut faces = Faces::default();
    for (i, f) in seq.frames.iter().enumerate() {
        let before = (faces.faces.len(), faces.masked.len(), faces.tiny.len());
        let mut rgb_fill = Vec::new();
        for (view, picture) in VIEWS.iter().zip(seen(&f.image, f.alpha.as_ref())) {
            let mut fill = fill::fill_map(&picture, grain);
            if let Some(o) = originals.get(i) {
                o.mark_replaced(&picture, &mut fill);
            }
            if *view == "rgb" {
                rgb_fill.clone_from(&fill);
            } else if *view == "alpha" {
                opaque_fill(&picture, &rgb_fill, &mut fill);
            }
            faces.sort(&picture, view, &fill, detector, opts.min_face_height)?;
        }
        if many {
            let frame = Some(i as u32);
            faces.faces[before.0..]
                .iter_mut()
                .for_each(|c| c.frame = frame);
            faces.masked[before.1..]
                .iter_mut()
                .for_each(|c| c.frame = frame);
            faces.tiny[before.2..]
                .iter_mut()
                .for_each(|c| c.frame = frame);
        }
    }
    let mut found = metadata::scan(bytes, seq.format).identifying();
    // Every frame and page was audited; pictures that are neither were not.
    frames::account_for_frames(&mut found, &seq);
    let profiles = seq.frames.iter().map(|f| f.icc.as_deref());
    for p in profiles.chain([seq.icc.as_deref()]).flatten() {
        let kind = match icc::sanitize(p) {
            Sanitized::Rebuilt {
                removed_text: true, ..
            } => "icc-text",
            Sanitized::Dropped(_) => "icc-unreadable",
            _ => continue,
        };
        if !found.contains(&kind) {
            found.push(kind);
        }
    }
    let changed = (!originals.is_empty()).then(|| {
        originals
            .iter()
            .zip(&seq.frames)
            .map(|(o, f)| o.changed_outside(&f.image, grain))
            .fold(0.0, f64::max)
    });
    let clean = faces.faces.is_empty()
        && found.is_empty()
        && changed.is_none_or(|c| c <= opts.max_changed_share);
    Ok(Audit {
        format: seq.format,
        found: faces,
        metadata: found,
        frames: seq.frames.len() as u32,
        changed_outside_masks: changed,
        clean,
    })
}

/// Whether a candidate sits on a mask, from [`cover`]'s shares: noise
/// covers half the middle of its box, or any fill nine tenths.
pub fn on_mask(noise: f64, solid: f64) -> bool {
    noise >= 0.5 || noise + solid >= 0.9
}

/// How much of the middle of `d`'s box (half its width and height, where a
/// face's eyes, nose and mouth are) noise and solid fills cover, as shares
/// (see [`on_mask`]; a solid fill must cover more, as a face's own pixels
/// can be exactly flat too: [`Fill::Solid`]). A face beside a mask is not
/// covered: the middle of its box is the face.
pub fn cover(img: &RgbImage, fill: &[Fill], d: &Detection) -> (f64, f64) {
    let b = d.bbox.clip(img.width(), img.height());
    let (cx, cy) = b.center();
    let (hw, hh) = (b.width() / 4.0, b.height() / 4.0);
    let (x0, y0) = ((cx - hw) as usize, (cy - hh) as usize);
    let w = img.width() as usize;
    let x1 = ((cx + hw).ceil() as usize).min(w);
    let y1 = ((cy + hh).ceil() as usize).min(img.height() as usize);
    let (mut n, mut noise, mut solid) = (0usize, 0usize, 0usize);
    for y in y0..y1 {
        for x in x0..x1 {
            n += 1;
            match fill[y * w + x] {
                Fill::Noise => noise += 1,
                Fill::Solid => solid += 1,
                Fill::None => {}
            }
        }
    }
    match n {
        0 => (0.0, 0.0),
        n => (noise as f64 / n as f64, solid as f64 / n as f64),
    }
}

/// What the original tells: the masks the default settings draw over the
/// faces the detector finds in it, and its pixels.
struct Original {
    image: RgbImage,
    masks: Vec<Mask>,
    /// For a JPEG edited in the DCT domain: the pixels of the MCUs whose
    /// blocks were replaced, grown by 2 pixels (smooth chroma upsampling
    /// reaches one pixel past them). Those are the masks it drew; every
    /// other block is the original's, bit for bit.
    replaced: Option<Vec<bool>>,
}

impl Original {
    /// One for each frame of `out`, from the frames of `original` (its
    /// first alone when `out` has one frame: the output of a first-frame
    /// run).
    fn all(
        out: &Sequence,
        out_bytes: &[u8],
        original: &[u8],
        detector: &mut dyn FaceDetector,
        decode: &DecodeOptions,
    ) -> Result<Vec<Original>, Error> {
        let mut orig = frames::decode_all(original, decode)?.frames;
        if out.frames.len() == 1 {
            orig.truncate(1);
        }
        if orig.len() != out.frames.len() {
            return Err(Error::Verify(format!(
                "the original has {} frames or pages, the output {}",
                orig.len(),
                out.frames.len()
            )));
        }
        // A JPEG edited in the DCT domain is one picture.
        let replaced = crate::codec::dct::replaced(original, out_bytes);
        orig.into_iter()
            .zip(&out.frames)
            .map(|(o, f)| Original::new(&f.image, o, replaced.clone(), detector))
            .collect()
    }

    fn new(
        out: &RgbImage,
        orig: Frame,
        replaced: Option<Vec<bool>>,
        detector: &mut dyn FaceDetector,
    ) -> Result<Original, Error> {
        if orig.image.dimensions() != out.dimensions() {
            return Err(Error::Verify(format!(
                "the original is {:?}, the output {:?}",
                orig.image.dimensions(),
                out.dimensions()
            )));
        }
        let dets = crate::views::detect_seen(detector, &orig.image, orig.alpha.as_ref())?;
        let (w, h) = (out.width() as usize, out.height() as usize);
        let replaced = replaced
            .filter(|m| m.len() == w * h)
            .map(|m| fill::grow(&m, w, h, 2));
        Ok(Original {
            masks: masks_for(&dets, &MaskSpec::default()),
            image: orig.image,
            replaced,
        })
    }

    /// Every pixel inside a mask, grown by 2 pixels so a mask's rim counts.
    fn inside(&self) -> Vec<bool> {
        let (w, h) = self.image.dimensions();
        let mut inside = vec![false; (w * h) as usize];
        for m in &self.masks {
            for y in m.rows(h) {
                for x in m.row_span(y, w) {
                    inside[(y * w + x) as usize] = true;
                }
            }
        }
        fill::grow(&inside, w as usize, h as usize, 2)
    }

    /// Mark as fill the pixels of `picture` inside the masks that changed
    /// from the original by more than [`CHANGED_LEVEL`]: whatever covers
    /// them there, it is not the original face.
    fn mark_replaced(&self, picture: &RgbImage, fill: &mut [Fill]) {
        let inside = self.inside();
        for (i, (a, b)) in picture.pixels().zip(self.image.pixels()).enumerate() {
            if inside[i] && differs(a.0, b.0) {
                fill[i] = Fill::Noise;
            }
        }
    }

    /// The share of pixels outside the masks (and outside any fill, grown by
    /// 2 pixels: the anonymiser's detections can differ a little) that
    /// differ from the original by more than [`CHANGED_LEVEL`].
    fn changed_outside(&self, out: &RgbImage, grain: Grain) -> f64 {
        let (w, h) = out.dimensions();
        let filled: Vec<bool> = fill::fill_map(out, grain)
            .iter()
            .map(|f| *f != Fill::None)
            .collect();
        let fill = fill::grow(&filled, w as usize, h as usize, 2);
        let inside = self.inside();
        let (mut outside, mut changed) = (0u64, 0u64);
        let replaced = |i: usize| self.replaced.as_ref().is_some_and(|r| r[i]);
        for (i, (a, b)) in out.pixels().zip(self.image.pixels()).enumerate() {
            if inside[i] || fill[i] || replaced(i) {
                continue;
            }
            outside += 1;
            changed += u64::from(differs(a.0, b.0));
        }
        if outside == 0 {
            0.0
        } else {
            changed as f64 / outside as f64
        }
    }
}

fn differs(a: [u8; 3], b: [u8; 3]) -> bool {
    a.iter().zip(b).any(|(p, q)| p.abs_diff(q) > CHANGED_LEVEL)
}

#[cfg(test)]
mod tests;
