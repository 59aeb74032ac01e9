//! Turning one image's network outputs into boxes in original-image pixels.

use super::ModelOutput;
use crate::{BBox, Detection, Error};

/// Where one network image came from, and how to map its boxes back.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Placement {
    /// Tile origin in the resized image.
    pub x: f32,
    /// Tile origin in the resized image.
    pub y: f32,
    /// Content size of the tile (the rest of the input is padding).
    pub w: u32,
    /// Content size of the tile.
    pub h: u32,
    /// The input was the mirrored tile.
    pub flipped: bool,
    /// Resized size over original size, per axis.
    pub sx: f32,
    /// Resized size over original size, per axis.
    pub sy: f32,
    /// Keep a box only if its centre (resized-image pixels) is in
    /// `[x0, x1) x [y0, y1)`.
    pub core: [f32; 4],
    /// Heatmap cells strictly above this are faces.
    pub threshold: f32,
    /// Only 3x3 local maxima of the heatmap count.
    pub peaks_only: bool,
    /// Original image size, for clipping.
    pub img_w: u32,
    /// Original image size, for clipping.
    pub img_h: u32,
}

/// Check that `out` holds `n` images for an input of `h` x `w` pixels.
pub(crate) fn check_shapes(out: &ModelOutput, n: usize, h: usize, w: usize) -> Result<(), Error> {
    let want = |c: usize| [n, c, h / 4, w / 4];
    for (name, t, c) in [
        ("heatmap", &out.heatmap, 1),
        ("scale", &out.scale, 2),
        ("offset", &out.offset, 2),
    ] {
        if t.shape != want(c) {
            return Err(Error::BadOutput(format!(
                "{name} has shape {:?}, expected {:?}",
                t.shape,
                want(c)
            )));
        }
        if t.data.len() != t.shape.iter().product::<usize>() {
            return Err(Error::BadOutput(format!(
                "{name} has {} values for shape {:?}",
                t.data.len(),
                t.shape
            )));
        }
    }
    Ok(())
}

/// Is `(r, c)` a 3x3 local maximum (ties count) of the `h4` x `w4` map `hm`?
fn is_peak(hm: &[f32], w4: usize, h4: usize, r: usize, c: usize) -> bool {
    let v = hm[r * w4 + c];
    let (r0, r1) = (r.saturating_sub(1), (r + 1).min(h4 - 1));
    let (c0, c1) = (c.saturating_sub(1), (c + 1).min(w4 - 1));
    (r0..=r1).all(|rr| hm[rr * w4 + c0..=rr * w4 + c1].iter().all(|&u| u <= v))
}

/// Decode image `i` of `out` (shapes already checked) into `dets`. A NaN in
/// the heatmap, or a non-finite size/offset at a face cell, is an error:
/// the detector must not silently see nothing.
pub(crate) fn decode(
    out: &ModelOutput,
    i: usize,
    p: &Placement,
    dets: &mut Vec<Detection>,
) -> Result<(), Error> {
    let [_, _, h4, w4] = out.heatmap.shape;
    let cells = h4 * w4;
    let hm = &out.heatmap.data[i * cells..][..cells];
    let sc = &out.scale.data[i * 2 * cells..][..2 * cells];
    let of = &out.offset.data[i * 2 * cells..][..2 * cells];
    // Cells whose 4x4 block holds content; the rest is padding.
    let rows = (p.h as usize).div_ceil(4).min(h4);
    let cols = (p.w as usize).div_ceil(4).min(w4);
    let [kx0, ky0, kx1, ky1] = p.core;
    let (img_w, img_h) = (p.img_w, p.img_h);
    for r in 0..rows {
        let row = &hm[r * w4..r * w4 + cols];
        for (c, &v) in row.iter().enumerate() {
            // One comparison per cell in the common case; NaN falls through.
            if v <= p.threshold {
                continue;
            }
            if v.is_nan() {
                return Err(Error::BadOutput("heatmap holds NaN".into()));
            }
            if p.peaks_only && !is_peak(hm, w4, h4, r, c) {
                continue;
            }
            let k = r * w4 + c;
            let (ls_h, ls_w) = (sc[k], sc[cells + k]);
            let (off_y, off_x) = (of[k], of[cells + k]);
            if !(ls_h.is_finite() && ls_w.is_finite() && off_y.is_finite() && off_x.is_finite()) {
                return Err(Error::BadOutput(
                    "non-finite box size or offset at a face".into(),
                ));
            }
            // Network-input pixels (stride 4), then the tile's frame.
            let (bh, bw) = (ls_h.exp() * 4.0, ls_w.exp() * 4.0);
            let mut cx = (c as f32 + off_x + 0.5) * 4.0;
            let cy = (r as f32 + off_y + 0.5) * 4.0;
            if p.flipped {
                cx = p.w as f32 - cx;
            }
            let (cx, cy) = (cx + p.x, cy + p.y);
            if !(cx >= kx0 && cx < kx1 && cy >= ky0 && cy < ky1) {
                continue;
            }
            let b = BBox::new(
                (cx - bw * 0.5) / p.sx,
                (cy - bh * 0.5) / p.sy,
                (cx + bw * 0.5) / p.sx,
                (cy + bh * 0.5) / p.sy,
            )
            .clip(img_w, img_h);
            if b.area() > 0.0 {
                dets.push(Detection {
                    bbox: b,
                    score: v.min(1.0),
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::Tensor4;

    fn output(h4: usize, w4: usize) -> ModelOutput {
        ModelOutput {
            heatmap: Tensor4::zeros([1, 1, h4, w4]),
            scale: Tensor4::zeros([1, 2, h4, w4]),
            offset: Tensor4::zeros([1, 2, h4, w4]),
        }
    }

    fn placement() -> Placement {
        Placement {
            x: 0.0,
            y: 0.0,
            w: 64,
            h: 64,
            flipped: false,
            sx: 1.0,
            sy: 1.0,
            core: [
                f32::NEG_INFINITY,
                f32::NEG_INFINITY,
                f32::INFINITY,
                f32::INFINITY,
            ],
            threshold: 0.5,
            peaks_only: false,
            img_w: 64,
            img_h: 64,
        }
    }

    #[test]
    fn decodes_centre_size_and_offset() {
        let mut out = output(16, 16);
        let k = 5 * 16 + 3; // row 5, col 3
        out.heatmap.data[k] = 0.8;
        out.scale.data[k] = (10.0f32 / 4.0).ln(); // height 10
        out.scale.data[256 + k] = (6.0f32 / 4.0).ln(); // width 6
        out.offset.data[k] = 0.25; // y
        out.offset.data[256 + k] = -0.25; // x
        let mut dets = Vec::new();
        decode(&out, 0, &placement(), &mut dets).unwrap();
        assert_eq!(dets.len(), 1);
        // centre x = (3 - 0.25 + 0.5) * 4 = 13, y = (5 + 0.25 + 0.5) * 4 = 23
        let b = dets[0].bbox;
        let want = BBox::new(10.0, 18.0, 16.0, 28.0);
        assert!(b.iou(&want) > 0.999, "{b:?}");
        assert_eq!(dets[0].score, 0.8);
        // Mirrored input: the same cell maps to x = 64 - 13 = 51.
        let mut dets = Vec::new();
        let p = Placement {
            flipped: true,
            ..placement()
        };
        decode(&out, 0, &p, &mut dets).unwrap();
        assert!(dets[0].bbox.iou(&BBox::new(48.0, 18.0, 54.0, 28.0)) > 0.999);
    }

    #[test]
    fn threshold_is_strict_and_peaks_only_drops_shoulders() {
        let mut out = output(8, 8);
        out.heatmap.data[2 * 8 + 2] = 0.9;
        out.heatmap.data[2 * 8 + 3] = 0.6;
        out.heatmap.data[6 * 8 + 6] = 0.5; // at the threshold: not a face
        let mut dets = Vec::new();
        decode(&out, 0, &placement(), &mut dets).unwrap();
        assert_eq!(dets.len(), 2);
        let mut dets = Vec::new();
        let p = Placement {
            peaks_only: true,
            ..placement()
        };
        decode(&out, 0, &p, &mut dets).unwrap();
        assert_eq!(dets.len(), 1);
        assert_eq!(dets[0].score, 0.9);
    }

    #[test]
    fn nan_is_an_error_and_core_filters() {
        let mut out = output(8, 8);
        out.heatmap.data[9] = f32::NAN;
        let r = decode(&out, 0, &placement(), &mut Vec::new());
        assert!(matches!(r, Err(Error::BadOutput(_))), "{r:?}");
        let mut out = output(8, 8);
        out.heatmap.data[9] = 0.9; // centre (6, 6)
        let p = Placement {
            core: [0.0, 0.0, 6.0, 100.0],
            ..placement()
        };
        let mut dets = Vec::new();
        decode(&out, 0, &p, &mut dets).unwrap();
        assert!(dets.is_empty());
    }
}
