//! Which pixels of a picture are a mask fill: the audit must never excuse a
//! face because its pixels merely look like one.
//!
//! A fill is recognised by what it really is, checked over the whole region
//! it covers, not pixel by pixel:
//! - **solid**: one exact colour. A region of locally flat pixels counts when
//!   90% of it lies within a small tolerance (0 levels stored exactly, 2
//!   through a lossy codec) of its most common colour and its cells (small
//!   squares) have the same mean, so a dark, blown-out or very smooth face (flat in 3x3 windows, but with eyes and
//!   a mouth that differ by a few levels) does not;
//! - **noise**: independent random values, as blindfold draws them (uniform
//!   over 0..=255 in every channel). A region of busy pixels counts when its
//!   channel means are near the middle (127.5), its channels vary as widely
//!   and as independently as such noise does, and its cell means vary no
//!   more than independent values allow, so a grainy face (the grain of a
//!   dark or high-ISO photo, film grain, noise added on purpose) does not:
//!   a face keeps its shape, lighter cheeks and darker eyes, at the scale of
//!   the cells.
//!
//! Lossy codecs (JPEG, lossy WebP, video) blur noise and ring around solid
//! edges, so their tolerances are wider ([`Grain::Lossy`]); the thresholds
//! were set on blindfold's own outputs and on faces darkened, brightened,
//! blurred and made grainy (see `bench/RESULTS.md`, "What verify calls a
//! mask").

use crate::codec::Format;
use image::RgbImage;

/// How the picture was stored: exactly, or through a lossy codec.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Grain {
    /// PNG, TIFF, BMP, lossless WebP: a fill is exactly what was drawn.
    Lossless,
    /// JPEG, lossy WebP, HEIF and AVIF, video frames.
    Lossy,
}

impl Grain {
    /// How a photo of `format` (its bytes) was stored: JPEG, HEIF, AVIF and
    /// lossy WebP (one with a `VP8 ` chunk) are lossy.
    pub fn of(bytes: &[u8], format: Format) -> Grain {
        match format {
            Format::Jpeg | Format::Heif | Format::Avif => Grain::Lossy,
            Format::Webp if webp_chunks(bytes).any(|c| c == *b"VP8 ") => Grain::Lossy,
            _ => Grain::Lossless,
        }
    }

    /// A solid fill's pixels lie within this of its colour.
    fn solid_tolerance(self) -> i32 {
        match self {
            Grain::Lossless => 0,
            Grain::Lossy => 2,
        }
    }

    /// Largest spread of a solid region's cell means.
    fn solid_cell_spread(self) -> f64 {
        match self {
            Grain::Lossless => 0.5,
            Grain::Lossy => 1.0,
        }
    }

    /// A pixel is busy when its 8 neighbours differ from it by at least the
    /// first value per channel on average, and its colour (the differences
    /// between channels) by the second. Measured inside noise fills (5th
    /// percentile): 61 and 73 stored exactly, 33 and 13 through H.264 and
    /// JPEG; a photo's edges and textures rarely change colour that much.
    fn busy(self) -> (i32, i32) {
        match self {
            Grain::Lossless => (50, 50),
            Grain::Lossy => (30, 10),
        }
    }

    /// Smallest standard deviation of each channel in a noise region
    /// (uniform noise: 73.9; measured through JPEG q92: 56, H.264 crf 20: 50).
    fn noise_min_std(self) -> f64 {
        match self {
            Grain::Lossless => 60.0,
            Grain::Lossy => 40.0,
        }
    }

    /// Smallest spread of the channel differences (uniform noise: 104;
    /// through JPEG: 60, H.264: 40; a face with grey grain: about 10).
    fn noise_min_chroma(self) -> f64 {
        match self {
            Grain::Lossless => 60.0,
            Grain::Lossy => 30.0,
        }
    }

    /// Largest ratio of the spread of cell means to what independent values
    /// give (1 for uniform noise; codecs correlate neighbours: up to 2.5
    /// through JPEG, 3.4 through H.264; faces with heavy grain: 1.5 and up
    /// when stored exactly, 2 and up through JPEG, where their means also
    /// stray from the middle).
    fn noise_max_structure(self) -> f64 {
        match self {
            Grain::Lossless => 1.4,
            Grain::Lossy => 3.5,
        }
    }
}

/// The chunk names of a RIFF WebP file, as far as they can be read.
fn webp_chunks(bytes: &[u8]) -> impl Iterator<Item = [u8; 4]> + '_ {
    let mut at = 12usize;
    std::iter::from_fn(move || {
        let head = bytes.get(at..at.checked_add(8)?)?;
        let name: [u8; 4] = head[..4].try_into().ok()?;
        let len = u32::from_le_bytes(head[4..8].try_into().ok()?) as usize;
        at = at.checked_add(8)?.checked_add(len)?.checked_add(len % 2)?;
        Some(name)
    })
}

/// Regions smaller than this cannot be told apart and are never fills.
const MIN_REGION: usize = 64;

/// What covers a pixel.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Fill {
    /// The picture itself.
    #[default]
    None,
    /// A recognised solid fill. A face's own pixels can be exactly flat too
    /// (blown-out skin, deep shadow), between its eyes, brows and mouth, so
    /// a solid fill must cover nearly all of a face's middle.
    Solid,
    /// A recognised noise fill, or (given the original) pixels inside a mask
    /// that changed from it: nothing of a face is left there.
    Noise,
}

/// The fill map: what covers each pixel (row by row).
pub fn fill_map(img: &RgbImage, grain: Grain) -> Vec<Fill> {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let px = img.as_raw();
    let mut fill = vec![Fill::None; w * h];
    let (flat, busy) = local_maps(px, w, h, grain);
    for region in regions(&flat, w, h, MIN_REGION) {
        if let Some(colour) = solid_colour(px, w, &region, grain) {
            let tol = grain.solid_tolerance();
            for &i in &region {
                let p = &px[i * 3..i * 3 + 3];
                if (0..3).all(|c| (i32::from(p[c]) - i32::from(colour[c])).abs() <= tol) {
                    fill[i] = Fill::Solid;
                }
            }
        }
    }
    let mut noise = vec![false; w * h];
    for region in regions(&majority(&busy, w, h), w, h, MIN_REGION) {
        if is_noise(px, w, &region, grain) {
            for &i in &region {
                noise[i] = true;
            }
        }
    }
    // The vote took the fill's outermost pixels: give them back.
    for (f, n) in fill.iter_mut().zip(grow(&noise, w, h, 1)) {
        if n {
            *f = Fill::Noise;
        }
    }
    fill
}

/// Per pixel: flat (its 3x3 neighbourhood within the solid tolerance, or
/// within 1 for a lossless picture so that a solid region's rim joins it)
/// and busy (its neighbours as unlike it as independent random values are,
/// in brightness and in colour: see [`Grain::busy`]).
fn local_maps(px: &[u8], w: usize, h: usize, grain: Grain) -> (Vec<bool>, Vec<bool>) {
    let tol = grain.solid_tolerance().max(1);
    let (min_level, min_colour) = grain.busy();
    let at = |x: usize, y: usize| {
        let i = (y * w + x) * 3;
        [0, 1, 2].map(|c| i32::from(px[i + c]))
    };
    let (mut flat, mut busy) = (vec![false; w * h], vec![false; w * h]);
    for y in 1..h.saturating_sub(1) {
        for x in 1..w.saturating_sub(1) {
            let p = at(x, y);
            let (mut f, mut level, mut colour) = (true, 0i32, 0i32);
            for (dx, dy) in NEIGHBOURS {
                let q = at((x as isize + dx) as usize, (y as isize + dy) as usize);
                let d = [0, 1, 2].map(|c| q[c] - p[c]);
                f &= d.iter().all(|v| v.abs() <= tol);
                level += d.iter().map(|v| v.abs()).sum::<i32>();
                colour += (d[0] - d[1]).abs() + (d[1] - d[2]).abs();
            }
            flat[y * w + x] = f;
            // Sums over 8 neighbours: 3 channels, 2 colour differences.
            busy[y * w + x] = level >= min_level * 24 && colour >= min_colour * 16;
        }
    }
    (flat, busy)
}

const NEIGHBOURS: [(isize, isize); 8] = [
    (-1, -1),
    (0, -1),
    (1, -1),
    (-1, 0),
    (1, 0),
    (-1, 1),
    (0, 1),
    (1, 1),
];

/// `map` smoothed by a 3x3 majority vote: the odd pixel of a noise fill
/// that happens to resemble its neighbours joins it, and thin lines and
/// specks of busy texture (which would bridge a fill to the picture around
/// it) go.
fn majority(map: &[bool], w: usize, h: usize) -> Vec<bool> {
    let mut out = vec![false; w * h];
    for y in 1..h.saturating_sub(1) {
        for x in 1..w.saturating_sub(1) {
            let set = NEIGHBOURS
                .iter()
                .filter(|(dx, dy)| map[(y as isize + dy) as usize * w + (x as isize + dx) as usize])
                .count()
                + usize::from(map[y * w + x]);
            out[y * w + x] = set >= 5;
        }
    }
    out
}

/// Connected regions (4-neighbours) of `map`, each of at least `min` pixels,
/// as lists of pixel indices (row by row).
pub(crate) fn regions(map: &[bool], w: usize, h: usize, min: usize) -> Vec<Vec<usize>> {
    let mut seen = vec![false; map.len()];
    let mut out = Vec::new();
    let mut stack = Vec::new();
    for start in 0..map.len() {
        if !map[start] || seen[start] {
            continue;
        }
        seen[start] = true;
        stack.push(start);
        let mut region = Vec::new();
        while let Some(i) = stack.pop() {
            region.push(i);
            let (x, y) = (i % w, i / w);
            let mut visit = |j: usize| {
                if map[j] && !seen[j] {
                    seen[j] = true;
                    stack.push(j);
                }
            };
            if x > 0 {
                visit(i - 1);
            }
            if x + 1 < w {
                visit(i + 1);
            }
            if y > 0 {
                visit(i - w);
            }
            if y + 1 < h {
                visit(i + w);
            }
        }
        if region.len() >= min {
            out.push(region);
        }
    }
    out
}

/// A square of a region's pixels.
struct Cell {
    /// Mean of each channel.
    mean: [f64; 3],
    /// The eight cells around it belong to the region too: it is away from
    /// the region's edge, where a lossy codec rings.
    interior: bool,
}

/// The cells of side `c` (on a grid from the region's bounding box) of
/// which nine tenths of the pixels belong to the region (means of those
/// pixels).
fn cells(px: &[u8], w: usize, region: &[usize], c: usize) -> Vec<Cell> {
    let (mut x0, mut y0, mut x1, mut y1) = (usize::MAX, usize::MAX, 0, 0);
    for &i in region {
        let (x, y) = (i % w, i / w);
        (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x), y1.max(y));
    }
    let (cw, ch) = ((x1 - x0 + 1) / c, (y1 - y0 + 1) / c);
    let mut count = vec![0usize; cw * ch];
    let mut sum = vec![[0f64; 3]; cw * ch];
    for &i in region {
        let (cx, cy) = ((i % w - x0) / c, (i / w - y0) / c);
        if cx < cw && cy < ch {
            let k = cy * cw + cx;
            count[k] += 1;
            for (s, v) in sum[k].iter_mut().zip(&px[i * 3..i * 3 + 3]) {
                *s += f64::from(*v);
            }
        }
    }
    let enough = (c * c * 9).div_ceil(10);
    let full = |cx: usize, cy: usize| count[cy * cw + cx] >= enough;
    let mut out = Vec::new();
    for cy in 0..ch {
        for cx in 0..cw {
            if !full(cx, cy) {
                continue;
            }
            let interior = cx > 0
                && cy > 0
                && cx + 1 < cw
                && cy + 1 < ch
                && NEIGHBOURS
                    .iter()
                    .all(|(dx, dy)| full((cx as isize + dx) as usize, (cy as isize + dy) as usize));
            let k = cy * cw + cx;
            out.push(Cell {
                mean: sum[k].map(|v| v / count[k] as f64),
                interior,
            });
        }
    }
    out
}

/// The cell side for a region of `n` pixels: about a quarter of its width,
/// 2 to 8 pixels.
fn cell_side(n: usize) -> usize {
    (((n as f64).sqrt() / 4.0) as usize).clamp(2, 8)
}

/// The solid colour of a flat region, if it is one: not white, 90% of its
/// pixels within the tolerance of the most common colour, and its cell
/// means all the same.
fn solid_colour(px: &[u8], w: usize, region: &[usize], grain: Grain) -> Option<[u8; 3]> {
    let mut hist = [[0usize; 256]; 3];
    for &i in region {
        for c in 0..3 {
            hist[c][usize::from(px[i * 3 + c])] += 1;
        }
    }
    let colour = hist.map(|h| {
        (0..256)
            .max_by_key(|&v| h[v])
            .expect("a histogram has 256 bins") as u8
    });
    // Pure white is where an over-exposed photo clips: a blown-out face is
    // white between its eyes, brows and mouth. No fill of blindfold's is
    // white, so a white region is never taken for one.
    if colour.iter().all(|&v| v >= 250) {
        return None;
    }
    let tol = grain.solid_tolerance();
    let near = region
        .iter()
        .filter(|&&i| {
            (0..3).all(|c| (i32::from(px[i * 3 + c]) - i32::from(colour[c])).abs() <= tol)
        })
        .count();
    if near * 10 < region.len() * 9 {
        return None;
    }
    // Away from the edges where a lossy codec rings, if the region is
    // large enough to tell.
    let all = cells(px, w, region, cell_side(region.len()));
    let inner: Vec<&Cell> = all.iter().filter(|c| c.interior).collect();
    let used: Vec<&Cell> = match inner.len() >= 4 {
        true => inner,
        false => all.iter().collect(),
    };
    if used.len() < 4 {
        return None;
    }
    let spread = (0..3)
        .map(|c| {
            let (lo, hi) = used.iter().fold((f64::MAX, f64::MIN), |(lo, hi), m| {
                (lo.min(m.mean[c]), hi.max(m.mean[c]))
            });
            hi - lo
        })
        .fold(0.0, f64::max);
    (spread <= grain.solid_cell_spread()).then_some(colour)
}

/// Whether a busy region is noise as blindfold draws it (see the module
/// documentation).
fn is_noise(px: &[u8], w: usize, region: &[usize], grain: Grain) -> bool {
    let n = region.len() as f64;
    let (mut sum, mut sq) = ([0f64; 3], [0f64; 3]);
    let (mut dsum, mut dsq) = ([0f64; 2], [0f64; 2]);
    for &i in region {
        let p = [0, 1, 2].map(|c| f64::from(px[i * 3 + c]));
        for c in 0..3 {
            sum[c] += p[c];
            sq[c] += p[c] * p[c];
        }
        for (k, d) in [p[0] - p[1], p[1] - p[2]].into_iter().enumerate() {
            dsum[k] += d;
            dsq[k] += d * d;
        }
    }
    let sd = |s: f64, q: f64| (q / n - (s / n).powi(2)).max(0.0).sqrt();
    let std = [0, 1, 2].map(|c| sd(sum[c], sq[c]));
    let chroma = (sd(dsum[0], dsq[0]) + sd(dsum[1], dsq[1])) / 2.0;
    if std.iter().any(|&s| s < grain.noise_min_std()) || chroma < grain.noise_min_chroma() {
        return false;
    }
    // The mean of independent values strays by std / sqrt(n); codecs make
    // neighbours alike, so count a quarter as many independent values.
    let centred = (0..3).all(|c| {
        let slack = 8.0 + 3.0 * std[c] / (n / 4.0).sqrt();
        (sum[c] / n - 127.5).abs() <= slack
    });
    if !centred {
        return false;
    }
    let side = cell_side(region.len());
    let cells = cells(px, w, region, side);
    if cells.len() < 8 {
        return false;
    }
    let k = cells.len() as f64;
    let cell_sd = (0..3)
        .map(|c| {
            let m = cells.iter().map(|v| v.mean[c]).sum::<f64>() / k;
            (cells.iter().map(|v| (v.mean[c] - m).powi(2)).sum::<f64>() / k).sqrt()
        })
        .sum::<f64>()
        / 3.0;
    let mean_std = std.iter().sum::<f64>() / 3.0;
    cell_sd * side as f64 / mean_std <= grain.noise_max_structure()
}

/// `map` grown by `r` pixels in every direction (a square neighbourhood).
pub(crate) fn grow(map: &[bool], w: usize, h: usize, r: usize) -> Vec<bool> {
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
