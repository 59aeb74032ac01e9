//! Masks and fills. A mask is a shape (ellipse or rectangle) over a face box
//! grown on every side; a fill replaces the pixels inside it.
//!
//! `noise` and `solid` keep nothing of the original inside the mask: the new
//! values do not depend on the old ones. `blur` and `pixelate` do keep a
//! summary of the original, and learned attacks can undo them; they are there
//! for looks, not for protection ([`Mode::is_reversible`]).

use crate::{BBox, Detection, Error};
use image::{GrayImage, RgbImage};
use serde::{Deserialize, Serialize};

/// The shape drawn over a face.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Shape {
    /// The ellipse inscribed in the grown box (covers the head, not the corners).
    #[default]
    Ellipse,
    /// The whole grown box.
    Rect,
}

/// How the pixels inside a mask are replaced.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Random colours, independent of the original (irreversible). The default.
    #[default]
    Noise,
    /// One flat colour (irreversible).
    Solid,
    /// A strong blur. Reversible by learned attacks.
    Blur,
    /// Large blocks of the average colour. Reversible by learned attacks.
    Pixelate,
}

impl Mode {
    /// True for fills that keep information about the face, which learned
    /// attacks can use to reconstruct or recognise it.
    pub fn is_reversible(self) -> bool {
        matches!(self, Mode::Blur | Mode::Pixelate)
    }
}

/// How masks are made from detections.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct MaskSpec {
    /// The shape.
    pub shape: Shape,
    /// Each side of the detected box grows by this fraction of the box's
    /// width (left, right) or height (top, bottom), to cover hair and head.
    pub grow: f32,
}

impl Default for MaskSpec {
    fn default() -> Self {
        MaskSpec {
            shape: Shape::Ellipse,
            grow: 0.3,
        }
    }
}

impl MaskSpec {
    /// Reject settings that cannot work.
    pub fn validate(&self) -> Result<(), Error> {
        if !(0.0..=4.0).contains(&self.grow) {
            return Err(Error::Config("grow must be within 0..4".into()));
        }
        Ok(())
    }
}

/// One mask as drawn: the shape and its bounding box after growth (not clipped
/// to the image).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Mask {
    /// Ellipse or rectangle.
    pub shape: Shape,
    /// The shape's bounding box. An ellipse is inscribed in it.
    pub bbox: BBox,
}

impl Mask {
    /// Whether the point `(x, y)` lies inside the shape. Pixel `(i, j)` is
    /// covered when its centre `(i + 0.5, j + 0.5)` is inside.
    pub fn contains(&self, x: f32, y: f32) -> bool {
        let b = &self.bbox;
        match self.shape {
            Shape::Rect => x >= b.x0 && x < b.x1 && y >= b.y0 && y < b.y1,
            Shape::Ellipse => {
                let (cx, cy) = b.center();
                let (a, c) = (b.width() * 0.5, b.height() * 0.5);
                if a <= 0.0 || c <= 0.0 {
                    return false;
                }
                let (dx, dy) = ((x - cx) / a, (y - cy) / c);
                dx * dx + dy * dy <= 1.0
            }
        }
    }

    /// The covered pixels of row `y` in an image `w` wide, as `x_start..x_end`
    /// (empty when the row misses the mask).
    pub fn row_span(&self, y: u32, w: u32) -> std::ops::Range<u32> {
        let b = &self.bbox;
        let yc = y as f32 + 0.5;
        let (lo, hi) = match self.shape {
            Shape::Rect => {
                if yc < b.y0 || yc >= b.y1 {
                    return 0..0;
                }
                (b.x0, b.x1)
            }
            Shape::Ellipse => {
                let (cx, cy) = b.center();
                let (a, c) = (b.width() * 0.5, b.height() * 0.5);
                if a <= 0.0 || c <= 0.0 {
                    return 0..0;
                }
                let dy = (yc - cy) / c;
                let t = 1.0 - dy * dy;
                if t < 0.0 {
                    return 0..0;
                }
                let half = a * t.sqrt();
                (cx - half, cx + half)
            }
        };
        // Pixel i is covered when lo <= i + 0.5 <= hi (< hi for rectangles).
        let start = (lo - 0.5).ceil().max(0.0);
        let end = match self.shape {
            Shape::Rect => (hi - 0.5).ceil(),
            Shape::Ellipse => (hi - 0.5).floor() + 1.0,
        }
        .min(w as f32);
        if end <= start {
            0..0
        } else {
            start as u32..end as u32
        }
    }

    /// Rows `y0..y1` the mask can touch in an image `h` tall.
    pub fn rows(&self, h: u32) -> std::ops::Range<u32> {
        let y0 = (self.bbox.y0 - 0.5).ceil().max(0.0) as u32;
        let y1 = ((self.bbox.y1 + 0.5).ceil().max(0.0) as u32).min(h);
        y0.min(y1)..y1
    }
}

/// Masks for detections, in the same order.
pub fn masks_for(dets: &[Detection], spec: &MaskSpec) -> Vec<Mask> {
    dets.iter()
        .map(|d| Mask {
            shape: spec.shape,
            bbox: d.bbox.grow(spec.grow),
        })
        .collect()
}

/// Replace the pixels inside every mask. `seed` drives the noise fill; pass a
/// fresh random value per image so the noise is not predictable.
pub fn apply(img: &mut RgbImage, masks: &[Mask], mode: Mode, seed: u64) {
    let mut rng = Rng::new(seed);
    for m in masks {
        match mode {
            Mode::Noise => fill_with(img, m, || {
                let v = rng.next();
                [v as u8, (v >> 8) as u8, (v >> 16) as u8]
            }),
            Mode::Solid => fill_with(img, m, || [0, 0, 0]),
            Mode::Blur => blur(img, m),
            Mode::Pixelate => pixelate(img, m),
        }
    }
}

/// Make the alpha fully opaque inside every mask, so no input alpha value
/// (which can hold a picture of its own) survives there.
pub fn apply_alpha(alpha: &mut GrayImage, masks: &[Mask]) {
    let (w, h) = alpha.dimensions();
    for m in masks {
        for y in m.rows(h) {
            for x in m.row_span(y, w) {
                alpha.put_pixel(x, y, image::Luma([255]));
            }
        }
    }
}

fn fill_with(img: &mut RgbImage, m: &Mask, mut f: impl FnMut() -> [u8; 3]) {
    let (w, h) = img.dimensions();
    for y in m.rows(h) {
        for x in m.row_span(y, w) {
            img.put_pixel(x, y, image::Rgb(f()));
        }
    }
}

/// The mask's bounding box clipped to the image, in whole pixels.
fn pixel_rect(m: &Mask, w: u32, h: u32) -> Option<(u32, u32, u32, u32)> {
    let b = m.bbox.clip(w, h);
    let (x0, y0) = (b.x0.floor() as u32, b.y0.floor() as u32);
    let (x1, y1) = (b.x1.ceil() as u32, b.y1.ceil() as u32);
    (x1 > x0 && y1 > y0).then_some((x0, y0, x1, y1))
}

fn blur(img: &mut RgbImage, m: &Mask) {
    let (w, h) = img.dimensions();
    let Some((x0, y0, x1, y1)) = pixel_rect(m, w, h) else {
        return;
    };
    let (rw, rh) = ((x1 - x0) as usize, (y1 - y0) as usize);
    let radius = (rw.max(rh) / 6).max(2);
    let mut buf: Vec<[f32; 3]> = Vec::with_capacity(rw * rh);
    for y in y0..y1 {
        for x in x0..x1 {
            let p = img.get_pixel(x, y).0;
            buf.push([p[0] as f32, p[1] as f32, p[2] as f32]);
        }
    }
    // Three box passes each way approximate a Gaussian.
    for _ in 0..3 {
        box_pass(&mut buf, rw, rh, radius, true);
        box_pass(&mut buf, rw, rh, radius, false);
    }
    for y in m.rows(h) {
        for x in m.row_span(y, w) {
            if x < x0 || x >= x1 || y < y0 || y >= y1 {
                continue;
            }
            let v = buf[(y - y0) as usize * rw + (x - x0) as usize];
            img.put_pixel(
                x,
                y,
                image::Rgb(v.map(|c| c.round().clamp(0.0, 255.0) as u8)),
            );
        }
    }
}

fn box_pass(buf: &mut [[f32; 3]], w: usize, h: usize, r: usize, horizontal: bool) {
    let (lines, len) = if horizontal { (h, w) } else { (w, h) };
    let idx = |line: usize, i: usize| {
        if horizontal {
            line * w + i
        } else {
            i * w + line
        }
    };
    let mut tmp = vec![[0f32; 3]; len];
    for line in 0..lines {
        for (i, t) in tmp.iter_mut().enumerate() {
            let lo = i.saturating_sub(r);
            let hi = (i + r).min(len - 1);
            let mut s = [0f32; 3];
            for j in lo..=hi {
                let p = buf[idx(line, j)];
                s[0] += p[0];
                s[1] += p[1];
                s[2] += p[2];
            }
            let n = (hi - lo + 1) as f32;
            *t = [s[0] / n, s[1] / n, s[2] / n];
        }
        for (i, t) in tmp.iter().enumerate() {
            buf[idx(line, i)] = *t;
        }
    }
}

fn pixelate(img: &mut RgbImage, m: &Mask) {
    let (w, h) = img.dimensions();
    let Some((x0, y0, x1, y1)) = pixel_rect(m, w, h) else {
        return;
    };
    let block = ((x1 - x0).max(y1 - y0) / 8).max(2);
    let mut by = y0;
    while by < y1 {
        let mut bx = x0;
        let ey = (by + block).min(y1);
        while bx < x1 {
            let ex = (bx + block).min(x1);
            let mut s = [0u64; 3];
            for y in by..ey {
                for x in bx..ex {
                    let p = img.get_pixel(x, y).0;
                    (0..3).for_each(|c| s[c] += p[c] as u64);
                }
            }
            let n = ((ex - bx) * (ey - by)) as u64;
            let avg = image::Rgb(s.map(|v| (v / n) as u8));
            for y in by..ey {
                for x in m.row_span(y, w) {
                    if x >= bx && x < ex {
                        img.put_pixel(x, y, avg);
                    }
                }
            }
            bx = ex;
        }
        by = ey;
    }
}

/// A small xorshift64* generator: enough for noise that carries no
/// information about the original pixels.
/// A small xorshift generator for the fills.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15 | 1)
    }
    pub(crate) fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 16
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gradient(w: u32, h: u32) -> RgbImage {
        RgbImage::from_fn(w, h, |x, y| image::Rgb([x as u8, y as u8, (x + y) as u8]))
    }

    fn mask(shape: Shape) -> Mask {
        Mask {
            shape,
            bbox: BBox::new(10.0, 8.0, 30.0, 40.0),
        }
    }

    #[test]
    fn row_span_matches_contains() {
        for shape in [Shape::Ellipse, Shape::Rect] {
            let m = mask(shape);
            for y in 0..50 {
                let span = m.row_span(y, 64);
                for x in 0..64 {
                    let inside = m.contains(x as f32 + 0.5, y as f32 + 0.5);
                    assert_eq!(span.contains(&x), inside, "{shape:?} at {x},{y}");
                }
            }
        }
    }

    #[test]
    fn pixels_outside_masks_are_untouched() {
        for mode in [Mode::Noise, Mode::Solid, Mode::Blur, Mode::Pixelate] {
            let orig = gradient(64, 64);
            let mut img = orig.clone();
            let m = mask(Shape::Ellipse);
            apply(&mut img, &[m], mode, 7);
            for (x, y, p) in img.enumerate_pixels() {
                if !m.contains(x as f32 + 0.5, y as f32 + 0.5) {
                    assert_eq!(p, orig.get_pixel(x, y), "{mode:?} changed {x},{y}");
                }
            }
        }
    }

    #[test]
    fn noise_and_solid_do_not_depend_on_original() {
        for mode in [Mode::Noise, Mode::Solid] {
            let m = mask(Shape::Rect);
            let mut a = gradient(64, 64);
            let mut b = RgbImage::from_pixel(64, 64, image::Rgb([200, 10, 90]));
            apply(&mut a, &[m], mode, 42);
            apply(&mut b, &[m], mode, 42);
            for y in m.rows(64) {
                for x in m.row_span(y, 64) {
                    assert_eq!(a.get_pixel(x, y), b.get_pixel(x, y));
                }
            }
        }
    }

    #[test]
    fn noise_changes_every_masked_region_pixel_set() {
        let m = mask(Shape::Ellipse);
        let orig = gradient(64, 64);
        let mut img = orig.clone();
        apply(&mut img, &[m], Mode::Noise, 1);
        let (mut same, mut total) = (0, 0);
        for y in m.rows(64) {
            for x in m.row_span(y, 64) {
                total += 1;
                same += (img.get_pixel(x, y) == orig.get_pixel(x, y)) as u32;
            }
        }
        assert!(total > 300);
        assert!(same * 50 < total, "{same} of {total} unchanged");
    }

    #[test]
    fn ellipse_covers_whole_box_at_default_grow() {
        let d = Detection {
            bbox: BBox::new(20.0, 20.0, 40.0, 50.0),
            score: 0.9,
        };
        let m = masks_for(&[d], &MaskSpec::default())[0];
        for (x, y) in [(20.5, 20.5), (39.5, 20.5), (20.5, 49.5), (39.5, 49.5)] {
            assert!(m.contains(x, y));
        }
    }

    #[test]
    fn reversible_modes_are_flagged() {
        assert!(Mode::Blur.is_reversible() && Mode::Pixelate.is_reversible());
        assert!(!Mode::Noise.is_reversible() && !Mode::Solid.is_reversible());
    }
}
