//! Admission by work. A photo's cost is its megapixels, read from its
//! header before anything is decoded; the photos admitted (waiting for a
//! detector or in detection) may together cost at most the budget, and a
//! photo that does not fit now gets 503 at once. So a few huge photos
//! cannot take every detector while small ones wait: with the default
//! budget (`max_pixels` plus 12 megapixels per further detector) at most
//! one photo at the pixel limit is in work per spare 12-megapixel share.
//! A photo costing more than the whole budget is admitted alone.

use blindfold::Error;
use std::sync::Arc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Megapixels each detector beyond the first adds to the default budget:
/// a 12-megapixel phone photo.
pub const SHARE_MP: u64 = 12;

/// The budget when the operator sets none: one photo at the pixel limit
/// plus a 12-megapixel photo for every other detector.
pub fn default_budget(max_pixels: u64, detectors: usize) -> u64 {
    megapixels(max_pixels) + SHARE_MP * (detectors.max(1) as u64 - 1)
}

/// `pixels` in megapixels, rounded up, at least 1.
pub fn megapixels(pixels: u64) -> u64 {
    pixels.div_ceil(1_000_000).max(1)
}

/// The work budget, in megapixels.
pub struct Work {
    sem: Arc<Semaphore>,
    budget: u64,
}

impl Work {
    /// A budget of `megapixels` (at least 1).
    pub fn new(megapixels: u64) -> Work {
        let budget = megapixels.clamp(1, u64::from(u32::MAX));
        Work {
            sem: Arc::new(Semaphore::new(budget as usize)),
            budget,
        }
    }

    /// The whole budget.
    pub fn budget(&self) -> u64 {
        self.budget
    }

    /// Take the cost of a photo of `pixels` (the whole budget at most) if
    /// it is free now.
    pub fn try_take(&self, pixels: u64) -> Option<OwnedSemaphorePermit> {
        let cost = megapixels(pixels).min(self.budget) as u32;
        self.sem.clone().try_acquire_many_owned(cost).ok()
    }

    /// Megapixels taken now.
    pub fn in_use(&self) -> u64 {
        self.budget - self.sem.available_permits() as u64
    }
}

/// Width and height from the image's header (no pixel is decoded), when
/// the `image` crate can read it; for HEIF and AVIF the largest size the
/// file declares. Not for TIFF: its first picture may be a small preview of
/// a larger one that the engine decodes; nor for a GIF or an animation,
/// whose every frame is decoded (the caller then charges the whole budget).
pub fn dimensions(bytes: &[u8]) -> Option<(u32, u32)> {
    use blindfold::codec::{Format, sniff};
    if blindfold::codec::frames::is_sequence(bytes) {
        return None;
    }
    match sniff(bytes) {
        Some(Format::Tiff) => return None,
        Some(Format::Heif | Format::Avif) => return blindfold::metadata::heif_size(bytes),
        _ => {}
    }
    blindfold::image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .ok()?
        .into_dimensions()
        .ok()
}

/// The core's refusal of an image over the pixel limit, early.
pub fn too_large(width: u32, height: u32, limit: u64) -> Option<Error> {
    let pixels = u64::from(width) * u64::from(height);
    (pixels > limit).then_some(Error::TooLarge {
        width,
        height,
        pixels,
        limit,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tiff_is_not_measured_by_its_first_picture() {
        let img = blindfold::image::RgbImage::new(40, 30);
        let mut tiff = std::io::Cursor::new(Vec::new());
        img.write_to(&mut tiff, blindfold::image::ImageFormat::Tiff)
            .unwrap();
        assert_eq!(dimensions(tiff.get_ref()), None);
        let mut png = std::io::Cursor::new(Vec::new());
        img.write_to(&mut png, blindfold::image::ImageFormat::Png)
            .unwrap();
        assert_eq!(dimensions(png.get_ref()), Some((40, 30)));
    }

    #[test]
    fn an_avif_is_measured_by_its_declared_size() {
        let img = blindfold::image::RgbImage::new(40, 30);
        let avif = blindfold::codec::encode(
            &img,
            None,
            blindfold::codec::Format::Avif,
            None,
            &Default::default(),
        )
        .unwrap();
        assert_eq!(dimensions(&avif), Some((40, 30)));
        assert_eq!(dimensions(&avif[..avif.len() / 3]), None);
    }

    #[test]
    fn costs_fit_the_budget_and_a_huge_one_goes_alone() {
        assert_eq!(default_budget(64_000_000, 1), 64);
        assert_eq!(default_budget(64_000_000, 4), 64 + 36);
        assert_eq!(megapixels(0), 1);
        assert_eq!(megapixels(1_000_001), 2);
        let w = Work::new(10);
        let a = w.try_take(6_000_000).unwrap();
        assert!(w.try_take(5_000_000).is_none(), "6 + 5 > 10");
        let b = w.try_take(300_000).unwrap();
        assert_eq!(w.in_use(), 7);
        drop((a, b));
        let huge = w.try_take(40_000_000).expect("alone, over the budget");
        assert!(w.try_take(1).is_none());
        drop(huge);
        assert_eq!(w.in_use(), 0);
    }
}
