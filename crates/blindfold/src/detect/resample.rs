//! Resizing straight into the network's input tensor.
//!
//! A pass resizes the image to `(round(W*s), round(H*s))`. Rather than build
//! that image and cut tiles out of it, each tile is sampled from the original
//! image directly into its slot of the NCHW `f32` tensor (separable filter:
//! a horizontal pass over the source rows a block of output rows needs, then
//! a vertical pass into the three planes). Per axis the filter is:
//!
//! - same size: a copy;
//! - enlarging: bilinear with pixel centres at `i + 0.5` (as OpenCV and PIL);
//! - shrinking: the area average (box filter over the source span, as
//!   OpenCV's `INTER_AREA`), which does not alias like plain bilinear does
//!   when the overview pass shrinks a large photo five times or more.

use image::RgbImage;

/// Output rows resampled per block; bounds the scratch buffer.
const BLOCK_ROWS: usize = 16;

/// The filter along one axis: for output index `i`, source pixels
/// `start[i] .. start[i] + len` with weights `weights[i*len ..][..len]`.
#[derive(Clone, Debug)]
pub(crate) struct Taps {
    start: Vec<u32>,
    weights: Vec<f32>,
    len: usize,
    identity: bool,
}

impl Taps {
    /// The filter that maps `src` pixels to `dst` pixels (both at least 1).
    pub(crate) fn new(src: u32, dst: u32) -> Taps {
        let (src_n, dst_n) = (src as usize, dst as usize);
        if src == dst {
            return Taps {
                start: (0..dst).collect(),
                weights: vec![1.0; dst_n],
                len: 1,
                identity: true,
            };
        }
        let ratio = src as f64 / dst as f64;
        let len = if dst > src {
            2
        } else {
            // The widest source span any output pixel touches.
            (0..dst_n)
                .map(|i| {
                    let (a, b) = (i as f64 * ratio, ((i + 1) as f64 * ratio).min(src_n as f64));
                    b.ceil() as usize - a.floor() as usize
                })
                .max()
                .unwrap_or(1)
        }
        .min(src_n);
        let mut start = Vec::with_capacity(dst_n);
        let mut weights = vec![0.0f32; dst_n * len];
        for (i, w) in weights.chunks_exact_mut(len).enumerate() {
            let first;
            if dst > src {
                // Bilinear: the source position of output pixel centre i.
                let x = ((i as f64 + 0.5) * ratio - 0.5).clamp(0.0, (src_n - 1) as f64);
                first = (x.floor() as usize).min(src_n - len);
                let f = x - first as f64;
                w[0] = (1.0 - f) as f32;
                if len == 2 {
                    w[1] = f as f32;
                }
            } else {
                // Area: the source span [a, b) of output pixel i.
                let (a, b) = (i as f64 * ratio, ((i + 1) as f64 * ratio).min(src_n as f64));
                first = (a.floor() as usize).min(src_n - len);
                for (k, wk) in w.iter_mut().enumerate() {
                    let p = (first + k) as f64;
                    let cover = (b.min(p + 1.0) - a.max(p)).max(0.0);
                    *wk = (cover / (b - a)) as f32;
                }
            }
            start.push(first as u32);
        }
        Taps {
            start,
            weights,
            len,
            identity: false,
        }
    }
}

/// Sample the rectangle `(x0, y0, w, h)` of the resized image (whose filters
/// are `xt`, `yt`) from `img` into `slot`, one image of a `[3, th, tw]`
/// tensor: the first `w` columns of the first `h` rows of each plane are
/// written, the rest (the padding) is set to zero. Values stay in 0..255.
pub(crate) fn fill(
    img: &RgbImage,
    xt: &Taps,
    yt: &Taps,
    (x0, y0, w, h): (usize, usize, usize, usize),
    slot: &mut [f32],
    (tw, th): (usize, usize),
    tmp: &mut Vec<f32>,
) {
    let raw: &[u8] = img.as_raw();
    let stride = img.width() as usize * 3;
    let plane = tw * th;
    let slot = &mut slot[..3 * plane];
    zero_padding(slot, (w, h), (tw, th));
    let (rp, rest) = slot.split_at_mut(plane);
    let (gp, bp) = rest.split_at_mut(plane);
    if w == 0 || h == 0 {
        return;
    }

    if xt.identity && yt.identity {
        for yy in 0..h {
            let src = &raw[(y0 + yy) * stride + x0 * 3..][..w * 3];
            let o = yy * tw;
            let rows = rp[o..o + w].iter_mut().zip(&mut gp[o..o + w]);
            for ((r, g), (b, px)) in rows.zip(bp[o..o + w].iter_mut().zip(src.chunks_exact(3))) {
                *r = f32::from(px[0]);
                *g = f32::from(px[1]);
                *b = f32::from(px[2]);
            }
        }
        return;
    }

    let yl = yt.len;
    // The source columns c0..c1 that the tile's output columns read.
    let c0 = xt.start[x0] as usize;
    let c1 = xt.start[x0 + w - 1] as usize + xt.len;
    let taps = Row {
        starts: &xt.start[x0..x0 + w],
        first: c0,
        weights: &xt.weights[x0 * xt.len..(x0 + w) * xt.len],
    };
    for block in (0..h).step_by(BLOCK_ROWS) {
        let block_end = (block + BLOCK_ROWS).min(h);
        let r0 = yt.start[y0 + block] as usize;
        let r1 = yt.start[y0 + block_end - 1] as usize + yl;
        // Horizontal pass over source rows r0..r1, each into three planes
        // of `w` (so the vertical pass runs over contiguous runs). Each
        // source row's span is first converted to f32, once.
        let rows_len = (r1 - r0) * w * 3;
        // Every value is written below; no need to clear.
        tmp.resize(rows_len + (c1 - c0) * 3, 0.0);
        let (rows, row_f) = tmp.split_at_mut(rows_len);
        for (r, out) in (r0..r1).zip(rows.chunks_exact_mut(w * 3)) {
            let src = &raw[r * stride + c0 * 3..r * stride + c1 * 3];
            row_f
                .iter_mut()
                .zip(src)
                .for_each(|(f, &b)| *f = f32::from(b));
            match xt.len {
                1 => taps.horizontal::<1>(1, row_f, out),
                2 => taps.horizontal::<2>(2, row_f, out),
                3 => taps.horizontal::<3>(3, row_f, out),
                4 => taps.horizontal::<4>(4, row_f, out),
                n => taps.horizontal::<0>(n, row_f, out),
            }
        }
        // Vertical pass into the planes. The first tap with weight sets the
        // value and the others add to it, in tap order.
        for yy in block..block_end {
            let s = yt.start[y0 + yy] as usize - r0;
            let wts = &yt.weights[(y0 + yy) * yl..][..yl];
            let o = yy * tw;
            for (c, plane) in [&mut *rp, &mut *gp, &mut *bp].into_iter().enumerate() {
                let out = &mut plane[o..o + w];
                let mut first = true;
                for (k, &wk) in wts.iter().enumerate() {
                    if wk == 0.0 {
                        continue;
                    }
                    let row = &tmp[((s + k) * 3 + c) * w..][..w];
                    if first {
                        out.iter_mut().zip(row).for_each(|(v, p)| *v = wk * p);
                        first = false;
                    } else {
                        out.iter_mut().zip(row).for_each(|(v, p)| *v += wk * p);
                    }
                }
                if first {
                    out.fill(0.0);
                }
            }
        }
    }
}

/// Zero what [`fill`] does not write in a `[3, th, tw]` slot: the columns
/// from `w` on and the rows from `h` on.
fn zero_padding(slot: &mut [f32], (w, h): (usize, usize), (tw, th): (usize, usize)) {
    for plane in slot.chunks_exact_mut(tw * th) {
        for row in plane[..h * tw].chunks_exact_mut(tw) {
            row[w..].fill(0.0);
        }
        plane[h * tw..].fill(0.0);
    }
}

/// The horizontal filter for the output columns of one tile.
struct Row<'a> {
    starts: &'a [u32],
    /// The source column that `src` begins with.
    first: usize,
    weights: &'a [f32],
}

impl Row<'_> {
    /// Filter one interleaved RGB source row (as f32, from column
    /// `self.first`) into `out`: three planes of
    /// the tile's width, red, green, blue. `len` taps per output pixel;
    /// `L`, when not 0, is the same number known at compile time (so the
    /// loop over the taps unrolls).
    fn horizontal<const L: usize>(&self, len: usize, src: &[f32], out: &mut [f32]) {
        let n = if L > 0 { L } else { len };
        let w = self.starts.len();
        let (ro, rest) = out.split_at_mut(w);
        let (go, bo) = rest.split_at_mut(w);
        let outs = ro.iter_mut().zip(go.iter_mut()).zip(bo.iter_mut());
        let taps = self.starts.iter().zip(self.weights.chunks_exact(n));
        for (((r, g), b), (&s, wts)) in outs.zip(taps) {
            let px = &src[(s as usize - self.first) * 3..][..3 * n];
            let (mut red, mut green, mut blue) = (0.0f32, 0.0f32, 0.0f32);
            for (p, &wk) in px.chunks_exact(3).zip(&wts[..n]) {
                red += wk * p[0];
                green += wk * p[1];
                blue += wk * p[2];
            }
            *r = red;
            *g = green;
            *b = blue;
        }
    }
}

/// Write into `dst` the mirror image of `src` (both `[3, th, tw]` slots with
/// content in the first `w` columns): column `x` goes to `w - 1 - x`, the
/// padding stays on the right, copied. Every value of `dst` is written.
pub(crate) fn mirror(src: &[f32], dst: &mut [f32], w: usize, tw: usize) {
    for (s, d) in src.chunks_exact(tw).zip(dst.chunks_exact_mut(tw)) {
        for (a, b) in d[..w].iter_mut().zip(s[..w].iter().rev()) {
            *a = *b;
        }
        d[w..].copy_from_slice(&s[w..]);
    }
}

/// Mirror a slot in place (see [`mirror`]).
pub(crate) fn mirror_in_place(slot: &mut [f32], w: usize, tw: usize) {
    for row in slot.chunks_exact_mut(tw) {
        row[..w].reverse();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgb;

    fn taps_ok(src: u32, dst: u32) {
        let t = Taps::new(src, dst);
        assert_eq!(t.start.len(), dst as usize);
        for (i, w) in t.weights.chunks_exact(t.len).enumerate() {
            let sum: f32 = w.iter().sum();
            assert!((sum - 1.0).abs() < 1e-4, "{src}->{dst} at {i}: {w:?}");
            assert!(t.start[i] as usize + t.len <= src as usize);
        }
    }

    #[test]
    fn filter_weights_sum_to_one() {
        for &(s, d) in &[
            (1, 5),
            (5, 1),
            (2, 3),
            (100, 37),
            (37, 100),
            (640, 640),
            (4000, 640),
        ] {
            taps_ok(s, d);
        }
    }

    /// A horizontal ramp: value = 10 * x + 5 in the red channel.
    fn ramp(w: u32, h: u32) -> RgbImage {
        RgbImage::from_fn(w, h, |x, y| Rgb([(10 * x + 5) as u8, y as u8, 7]))
    }

    fn run(img: &RgbImage, dw: u32, dh: u32, region: (usize, usize, usize, usize)) -> Vec<f32> {
        let (xt, yt) = (Taps::new(img.width(), dw), Taps::new(img.height(), dh));
        let (tw, th) = (region.2.next_multiple_of(32), region.3.next_multiple_of(32));
        // A used tensor: fill must write every value, padding included.
        let mut slot = vec![f32::NAN; 3 * tw * th];
        let mut tmp = vec![f32::NAN; 7];
        fill(img, &xt, &yt, region, &mut slot, (tw, th), &mut tmp);
        assert!(slot.iter().all(|v| v.is_finite()));
        slot
    }

    #[test]
    fn same_size_is_a_copy_with_zero_padding() {
        let img = ramp(20, 10);
        let slot = run(&img, 20, 10, (3, 2, 10, 5));
        let (tw, th) = (32, 32);
        assert_eq!(slot[0], 35.0); // x = 3
        assert_eq!(slot[9], 125.0); // x = 12
        assert_eq!(slot[10], 0.0); // padding
        assert_eq!(slot[tw * th + tw], 3.0); // green at row 1 = y 3
        assert_eq!(slot[2 * tw * th + 4 * tw + 9], 7.0);
        assert_eq!(slot[5 * tw], 0.0); // padding row
    }

    #[test]
    fn enlarging_is_bilinear_and_shrinking_averages() {
        let img = ramp(20, 4);
        // 2x: output x=3 has centre 3.5 -> source 1.25 -> 10*1.25+5.
        let slot = run(&img, 40, 8, (0, 0, 40, 8));
        assert!((slot[3] - 17.5).abs() < 1e-4, "{}", slot[3]);
        assert_eq!(slot[0], 5.0); // clamped at the edge
        // 1/2: output x=3 averages sources 6 and 7.
        let slot = run(&img, 10, 2, (0, 0, 10, 2));
        assert!((slot[3] - 70.0).abs() < 1e-4, "{}", slot[3]);
    }

    #[test]
    fn constant_image_stays_constant_at_any_size() {
        let img = RgbImage::from_pixel(37, 23, Rgb([200, 100, 50]));
        for &(dw, dh) in &[(37, 23), (74, 46), (13, 9), (50, 11)] {
            let (w, h) = (dw as usize, dh as usize);
            let slot = run(&img, dw, dh, (0, 0, w, h));
            let (tw, th) = (w.next_multiple_of(32), h.next_multiple_of(32));
            for y in 0..h {
                for x in 0..w {
                    for (c, v) in [200.0, 100.0, 50.0].iter().enumerate() {
                        let got = slot[c * tw * th + y * tw + x];
                        assert!((got - v).abs() < 1e-3, "{dw}x{dh} ({x},{y},{c}): {got}");
                    }
                }
            }
        }
    }

    #[test]
    fn mirror_keeps_padding_on_the_right() {
        let src = vec![1.0, 2.0, 3.0, 0.0, 4.0, 5.0, 6.0, 0.0];
        // A used slot: every value is written.
        let mut dst = vec![f32::NAN; 8];
        mirror(&src, &mut dst, 3, 4);
        assert_eq!(dst, vec![3.0, 2.0, 1.0, 0.0, 6.0, 5.0, 4.0, 0.0]);
        let mut s = src.clone();
        mirror_in_place(&mut s, 3, 4);
        assert_eq!(s, dst);
    }
}
