//! Cutting a large image into overlapping tiles.
//!
//! Along each axis: if the image fits in one tile, there is one tile, the
//! whole axis (the network input is then padded to a multiple of 32). Else
//! tiles of exactly `tile` pixels start every `tile - overlap` pixels and the
//! last one is shifted inward to end at the image edge, so every tile is full
//! size and neighbours overlap by at least `overlap`.
//!
//! Each tile also has a *core*: the boundary between two neighbours is the
//! middle of their overlap, so the cores partition the image and a face is
//! reported by the tile whose core holds its centre.

/// One tile: a rectangle of the (resized) image, and its core.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tile {
    /// Left.
    pub x: u32,
    /// Top.
    pub y: u32,
    /// Width.
    pub w: u32,
    /// Height.
    pub h: u32,
    /// The core `[x0, y0, x1, y1]` (half-open, image pixels): the share of
    /// the image this tile reports faces for. Sides on the image border are
    /// `0` or `u32::MAX`, so a centre just outside the image still counts.
    pub core: [u32; 4],
}

impl Tile {
    /// A single tile covering a whole `w` x `h` image.
    pub fn whole(w: u32, h: u32) -> Tile {
        Tile {
            x: 0,
            y: 0,
            w,
            h,
            core: [0, 0, u32::MAX, u32::MAX],
        }
    }
}

/// One span along an axis: start, length, core start, core end.
type Span = (u32, u32, u32, u32);

/// Spans covering `0..dim` with spans of `tile` overlapping by `overlap`.
fn plan_axis(dim: u32, tile: u32, overlap: u32) -> Vec<Span> {
    if dim <= tile {
        return vec![(0, dim, 0, u32::MAX)];
    }
    let step = tile.saturating_sub(overlap).max(1);
    let n = (dim - tile).div_ceil(step) + 1;
    let starts: Vec<u32> = (0..n)
        .map(|i| if i + 1 == n { dim - tile } else { i * step })
        .collect();
    let mut spans = Vec::with_capacity(starts.len());
    for (i, &s) in starts.iter().enumerate() {
        let lo = if i == 0 {
            0
        } else {
            // Middle of the overlap with the previous tile.
            (s + starts[i - 1] + tile) / 2
        };
        let hi = match starts.get(i + 1) {
            Some(&next) => (next + s + tile) / 2,
            None => u32::MAX,
        };
        spans.push((s, tile, lo, hi));
    }
    spans
}

/// Tiles covering a `w` x `h` image with tiles of side `tile` overlapping by
/// at least `overlap`, row by row. All tiles have the same size:
/// `min(tile, w)` x `min(tile, h)`.
pub fn plan_tiles(w: u32, h: u32, tile: u32, overlap: u32) -> Vec<Tile> {
    let xs = plan_axis(w, tile, overlap);
    let ys = plan_axis(h, tile, overlap);
    let mut tiles = Vec::with_capacity(xs.len() * ys.len());
    for &(y, th, cy0, cy1) in &ys {
        for &(x, tw, cx0, cx1) in &xs {
            tiles.push(Tile {
                x,
                y,
                w: tw,
                h: th,
                core: [cx0, cy0, cx1, cy1],
            });
        }
    }
    tiles
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every pixel is in at least one tile and in exactly one core; tiles are
    /// full size, inside the image, and neighbours overlap enough.
    fn check(w: u32, h: u32, tile: u32, overlap: u32) {
        let tiles = plan_tiles(w, h, tile, overlap);
        let (tw, th) = (tile.min(w), tile.min(h));
        for t in &tiles {
            assert_eq!((t.w, t.h), (tw, th), "{w}x{h}: {t:?}");
            assert!(t.x + t.w <= w && t.y + t.h <= h, "{w}x{h}: {t:?}");
            // The core lies within the tile, at least overlap/2 from interior edges.
            let [x0, y0, x1, y1] = t.core;
            assert!(x0 >= t.x && y0 >= t.y);
            if x0 > 0 {
                assert!(x0 - t.x >= overlap / 2, "{t:?}");
            }
            if x1 != u32::MAX {
                assert!(t.x + t.w - x1 >= overlap / 2, "{t:?}");
            }
            if y0 > 0 {
                assert!(y0 - t.y >= overlap / 2, "{t:?}");
            }
            if y1 != u32::MAX {
                assert!(t.y + t.h - y1 >= overlap / 2, "{t:?}");
            }
        }
        for py in 0..h {
            for px in 0..w {
                let covering = tiles
                    .iter()
                    .filter(|t| px >= t.x && px < t.x + t.w && py >= t.y && py < t.y + t.h)
                    .count();
                assert!(covering >= 1, "{w}x{h}: ({px},{py}) uncovered");
                let cores = tiles
                    .iter()
                    .filter(|t| {
                        let [x0, y0, x1, y1] = t.core;
                        px >= x0 && px < x1 && py >= y0 && py < y1
                    })
                    .count();
                assert_eq!(cores, 1, "{w}x{h}: ({px},{py}) in {cores} cores");
            }
        }
        // Neighbouring tiles along each axis overlap by at least `overlap`.
        let mut xs: Vec<u32> = tiles.iter().map(|t| t.x).collect();
        xs.sort_unstable();
        xs.dedup();
        for p in xs.windows(2) {
            assert!(p[0] + tw - p[1] >= overlap, "{w}x{h}: x {p:?}");
        }
        let mut ys: Vec<u32> = tiles.iter().map(|t| t.y).collect();
        ys.sort_unstable();
        ys.dedup();
        for p in ys.windows(2) {
            assert!(p[0] + th - p[1] >= overlap, "{w}x{h}: y {p:?}");
        }
    }

    #[test]
    fn small_image_is_one_tile() {
        assert_eq!(plan_tiles(300, 200, 640, 96), vec![Tile::whole(300, 200)]);
        assert_eq!(plan_tiles(640, 640, 640, 96), vec![Tile::whole(640, 640)]);
    }

    #[test]
    fn tiles_cover_with_overlap_and_full_size() {
        for &(w, h) in &[
            (641, 100),
            (1000, 700),
            (1184, 640),
            (1185, 641),
            (2000, 1500),
            (100, 1700),
            (3000, 97),
        ] {
            check(w, h, 640, 96);
        }
        check(500, 400, 128, 32);
        check(257, 129, 64, 0);
        check(1001, 999, 96, 47);
    }

    #[test]
    fn last_tile_is_shifted_inward() {
        let t = plan_tiles(1000, 100, 640, 96);
        let xs: Vec<u32> = t.iter().map(|t| t.x).collect();
        assert_eq!(xs, vec![0, 360]);
        // Exact fit: step 544, two tiles end at 1184.
        let xs: Vec<u32> = plan_tiles(1184, 10, 640, 96).iter().map(|t| t.x).collect();
        assert_eq!(xs, vec![0, 544]);
        let xs: Vec<u32> = plan_tiles(1185, 10, 640, 96).iter().map(|t| t.x).collect();
        assert_eq!(xs, vec![0, 544, 545]);
    }
}
