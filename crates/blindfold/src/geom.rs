//! Boxes and detections, in pixel coordinates of the upright image.

use serde::{Deserialize, Serialize};

/// An axis-aligned box: `x0,y0` is the top-left corner, `x1,y1` the
/// bottom-right corner, in pixels (continuous coordinates; pixel `i` spans
/// `i..i+1`).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct BBox {
    /// Left edge.
    pub x0: f32,
    /// Top edge.
    pub y0: f32,
    /// Right edge.
    pub x1: f32,
    /// Bottom edge.
    pub y1: f32,
}

impl BBox {
    /// A box from its corners.
    pub fn new(x0: f32, y0: f32, x1: f32, y1: f32) -> Self {
        BBox { x0, y0, x1, y1 }
    }

    /// A box from its top-left corner and size.
    pub fn from_xywh(x: f32, y: f32, w: f32, h: f32) -> Self {
        BBox::new(x, y, x + w, y + h)
    }

    /// Width (0 if the box is inverted).
    pub fn width(&self) -> f32 {
        (self.x1 - self.x0).max(0.0)
    }

    /// Height (0 if the box is inverted).
    pub fn height(&self) -> f32 {
        (self.y1 - self.y0).max(0.0)
    }

    /// Area.
    pub fn area(&self) -> f32 {
        self.width() * self.height()
    }

    /// Centre point.
    pub fn center(&self) -> (f32, f32) {
        ((self.x0 + self.x1) * 0.5, (self.y0 + self.y1) * 0.5)
    }

    /// The overlap of two boxes (may be empty).
    pub fn intersect(&self, o: &BBox) -> BBox {
        BBox::new(
            self.x0.max(o.x0),
            self.y0.max(o.y0),
            self.x1.min(o.x1),
            self.y1.min(o.y1),
        )
    }

    /// Intersection over union, 0 when either box is empty.
    pub fn iou(&self, o: &BBox) -> f32 {
        let inter = self.intersect(o).area();
        let union = self.area() + o.area() - inter;
        if union <= 0.0 { 0.0 } else { inter / union }
    }

    /// Grow each side by `frac` of the box's width (left/right) or height
    /// (top/bottom). `frac = 0.3` turns a 10 px wide box into a 16 px one.
    pub fn grow(&self, frac: f32) -> BBox {
        let (dw, dh) = (self.width() * frac, self.height() * frac);
        BBox::new(self.x0 - dw, self.y0 - dh, self.x1 + dw, self.y1 + dh)
    }

    /// Clip the box to an image of `w` x `h` pixels.
    pub fn clip(&self, w: u32, h: u32) -> BBox {
        let (w, h) = (w as f32, h as f32);
        BBox::new(
            self.x0.clamp(0.0, w),
            self.y0.clamp(0.0, h),
            self.x1.clamp(0.0, w),
            self.y1.clamp(0.0, h),
        )
    }

    /// Scale all coordinates by `s` (for mapping between resized images).
    pub fn scale(&self, s: f32) -> BBox {
        BBox::new(self.x0 * s, self.y0 * s, self.x1 * s, self.y1 * s)
    }

    /// Move the box by `(dx, dy)`.
    pub fn translate(&self, dx: f32, dy: f32) -> BBox {
        BBox::new(self.x0 + dx, self.y0 + dy, self.x1 + dx, self.y1 + dy)
    }
}

/// One detected face: where it is and how sure the detector is (0..1).
/// Nothing else about the face is ever computed.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Detection {
    /// The face box in image pixels.
    pub bbox: BBox,
    /// Detector confidence, 0..1.
    pub score: f32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iou_of_identical_and_disjoint_boxes() {
        let a = BBox::from_xywh(0.0, 0.0, 10.0, 10.0);
        assert!((a.iou(&a) - 1.0).abs() < 1e-6);
        let b = BBox::from_xywh(20.0, 20.0, 5.0, 5.0);
        assert_eq!(a.iou(&b), 0.0);
        let c = BBox::from_xywh(5.0, 0.0, 10.0, 10.0);
        assert!((a.iou(&c) - 50.0 / 150.0).abs() < 1e-6);
    }

    #[test]
    fn grow_extends_each_side_by_fraction() {
        let a = BBox::from_xywh(10.0, 20.0, 10.0, 20.0).grow(0.3);
        assert_eq!(a, BBox::new(7.0, 14.0, 23.0, 46.0));
    }

    #[test]
    fn clip_keeps_box_inside_image() {
        let a = BBox::new(-5.0, -1.0, 50.0, 8.0).clip(20, 10);
        assert_eq!(a, BBox::new(0.0, 0.0, 20.0, 8.0));
    }
}
