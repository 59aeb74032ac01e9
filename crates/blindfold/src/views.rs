//! What a viewer can see of an image with an alpha channel, and detection
//! over all of it.
//!
//! An alpha channel is image content: shown over black, a picture whose RGB
//! is flat white and whose alpha holds a face *is* that face. So faces are
//! looked for in every way the pixels can be shown: the RGB as stored (a
//! viewer that ignores alpha), the composite over black and over white, and
//! the alpha itself as a grey picture. The detections are merged.

use crate::detect::{FaceDetector, nms};
use crate::{Detection, Error};
use image::{GrayImage, RgbImage};

/// Boxes from different views overlapping this much are one face; lower
/// overlaps are kept apart (two masks cost nothing, a lost one leaks).
const SAME_FACE_IOU: f32 = 0.7;

/// The pictures a viewer can get from `rgb` and `alpha`: the RGB itself,
/// then (when the alpha is not fully opaque) the composites over black and
/// over white and the alpha as grey. Without alpha, or with an opaque one,
/// only the RGB: the others would show the same thing.
pub fn seen(rgb: &RgbImage, alpha: Option<&GrayImage>) -> Vec<RgbImage> {
    let mut out = vec![rgb.clone()];
    let Some(a) = translucent(alpha) else {
        return out;
    };
    let (w, h) = rgb.dimensions();
    let over = |bg: u16| {
        let mut img = rgb.clone();
        for (px, &av) in img.as_mut().chunks_exact_mut(3).zip(a.as_raw()) {
            let av = u16::from(av);
            for c in px {
                *c = ((u16::from(*c) * av + bg * (255 - av) + 127) / 255) as u8;
            }
        }
        img
    };
    out.push(over(0));
    out.push(over(255));
    let grey: Vec<u8> = a.as_raw().iter().flat_map(|&v| [v, v, v]).collect();
    out.push(RgbImage::from_raw(w, h, grey).expect("buffer sized for the image"));
    out
}

/// The alpha channel when some pixel is not fully opaque: then there is
/// more than the RGB to see.
fn translucent(alpha: Option<&GrayImage>) -> Option<&GrayImage> {
    alpha.filter(|a| a.as_raw().iter().any(|&v| v != 255))
}

/// Run `detector` on every view of [`seen`] and merge the boxes.
pub fn detect_seen(
    detector: &mut dyn FaceDetector,
    rgb: &RgbImage,
    alpha: Option<&GrayImage>,
) -> Result<Vec<Detection>, Error> {
    if translucent(alpha).is_none() {
        return detector.detect(rgb);
    }
    let views = seen(rgb, alpha);
    let mut all = Vec::new();
    for view in &views {
        all.extend(detector.detect(view)?);
    }
    Ok(nms(all, SAME_FACE_IOU))
}
