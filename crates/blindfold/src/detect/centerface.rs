//! CenterFace decoding over scales and tiles.
//!
//! [`CenterFace::detect`] plans *passes* (one per scale, plus the overview
//! pass), cuts each into tiles ([`plan_tiles`]), and turns every tile (and its
//! mirror image when `flip` is set) into a *job*. Jobs with the same input
//! size are batched, `batch` images per network call, whatever pass they come
//! from. Each job's pixels are resampled straight from the original image
//! into its slot of the input tensor (see `resample`), so no resized copy of
//! the image is ever built. Every image's outputs are decoded (see `decode`)
//! into boxes in original-image pixels, keeping only boxes centred in the
//! tile's core, and all boxes are merged with NMS or weighted box fusion.
//!
//! With `upscaled_gate` set, the upscaled passes run after the others, and
//! only on the tiles where those saw evidence of a small face (see `gate`).

use super::decode::{Placement, check_shapes, decode};
use super::gate::Evidence;
use super::resample::{Taps, fill, mirror, mirror_in_place};
use super::tiles::{Tile, plan_tiles};
use super::{
    Adapter, Backend, Candidate, DetectConfig, FaceDetector, ModelOutput, Tensor4, finish,
};
use crate::{Detection, Error};
use image::RgbImage;

/// The CenterFace detection procedure on top of a [`Backend`].
pub struct CenterFace<B: Backend> {
    backend: B,
    config: DetectConfig,
    /// Reused input tensor.
    input: Tensor4,
    /// Reused resampling scratch.
    tmp: Vec<f32>,
    /// What the ungated passes saw, for the gated ones.
    evidence: Evidence,
    /// The pass of each raw detection of the current image.
    from: Vec<usize>,
}

/// One pass: the image resized to `rw` x `rh`, cut into tiles.
struct Pass {
    sx: f32,
    sy: f32,
    xt: Taps,
    yt: Taps,
    tiles: Vec<Tile>,
    threshold: f32,
    /// Extra room around interior core edges, in resized pixels.
    slack: f32,
    /// Tiles run only where other passes saw evidence of a face.
    gated: bool,
    /// Boxes shorter than this (original-image pixels) are dropped.
    min_h: f32,
    /// Its tiles also run mirrored.
    mirror: bool,
}

impl Pass {
    fn new(w: u32, h: u32, rw: u32, rh: u32, tiles: Vec<Tile>, threshold: f32, slack: f32) -> Pass {
        Pass {
            sx: rw as f32 / w as f32,
            sy: rh as f32 / h as f32,
            xt: Taps::new(w, rw),
            yt: Taps::new(h, rh),
            tiles,
            threshold,
            slack,
            gated: false,
            min_h: 0.0,
            mirror: false,
        }
    }

    /// Where tile `t` reports faces (its core with slack), in original-image
    /// pixels; unbounded on image borders.
    fn reach(&self, t: &Tile) -> [f32; 4] {
        let [x0, y0, x1, y1] = self.core(t);
        [x0 / self.sx, y0 / self.sy, x1 / self.sx, y1 / self.sy]
    }

    /// Tile `t`'s core with slack, in resized pixels.
    fn core(&self, t: &Tile) -> [f32; 4] {
        let [x0, y0, x1, y1] = t.core;
        [
            edge(x0, self.slack, true),
            edge(y0, self.slack, true),
            edge(x1, self.slack, false),
            edge(y1, self.slack, false),
        ]
    }
}

/// Jobs sharing one network input size (`w`, `h`).
type Group = ((usize, usize), Vec<Job>);

/// The jobs for the tiles that `keep` accepts, grouped by input size in the
/// order of first use; mirrored jobs follow their tile in passes that mirror.
fn group_jobs(passes: &[Pass], keep: impl Fn(&Pass, &Tile) -> bool) -> Vec<Group> {
    let mut groups: Vec<Group> = Vec::new();
    for (pi, pass) in passes.iter().enumerate() {
        for (ti, t) in pass.tiles.iter().enumerate() {
            if !keep(pass, t) {
                continue;
            }
            let size = (
                (t.w as usize).next_multiple_of(32),
                (t.h as usize).next_multiple_of(32),
            );
            let at = match groups.iter().position(|g| g.0 == size) {
                Some(at) => at,
                None => {
                    groups.push((size, Vec::new()));
                    groups.len() - 1
                }
            };
            let job = Job {
                pass: pi,
                tile: ti,
                flipped: false,
            };
            groups[at].1.push(job);
            if pass.mirror {
                groups[at].1.push(Job {
                    flipped: true,
                    ..job
                });
            }
        }
    }
    groups
}

/// One network image: a tile of a pass, maybe mirrored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Job {
    pass: usize,
    tile: usize,
    flipped: bool,
}

/// Network input pixels per call above which images are not batched
/// together: the network's memory grows with its input (see
/// [`super::NETWORK_BYTES_PER_PIXEL`]), and large tiles gain nothing from
/// batching.
const BATCH_PIXELS: usize = 1 << 20;

/// How many `w` x `h` images go into one network call: up to `batch`, as
/// long as they stay within [`BATCH_PIXELS`]; always at least one.
fn per_call(batch: usize, (w, h): (usize, usize)) -> usize {
    (BATCH_PIXELS / (w * h).max(1)).clamp(1, batch.max(1))
}

/// `round(n * s)`, at least 1.
fn scaled(n: u32, s: f32) -> u32 {
    ((n as f64 * s as f64).round() as u32).max(1)
}

/// A core edge with slack; image-border edges become unbounded.
fn edge(v: u32, slack: f32, lower: bool) -> f32 {
    match (lower, v) {
        (true, 0) => f32::NEG_INFINITY,
        (false, u32::MAX) => f32::INFINITY,
        (true, v) => v as f32 - slack,
        (false, v) => v as f32 + slack,
    }
}

impl<B: Backend> CenterFace<B> {
    /// A detector with the given settings.
    pub fn new(backend: B, config: DetectConfig) -> Result<Self, Error> {
        config.validate()?;
        Ok(CenterFace {
            backend,
            config,
            input: Tensor4::zeros([0, 3, 0, 0]),
            tmp: Vec::new(),
            evidence: Evidence::default(),
            from: Vec::new(),
        })
    }

    /// The settings in use.
    pub fn config(&self) -> &DetectConfig {
        &self.config
    }

    /// The backend.
    pub fn backend(&self) -> &B {
        &self.backend
    }

    /// The passes for a `w` x `h` image.
    fn plan(&self, w: u32, h: u32) -> Vec<Pass> {
        let c = &self.config;
        // Faces centred within this distance of a core edge are reported by
        // both neighbours (and merged), so a centre that moves slightly
        // between two tiles is never dropped by both.
        let slack = (c.overlap / 8) as f32;
        let mut passes = Vec::with_capacity(c.scales.len() + 1);
        for (k, &s) in c.scales.iter().enumerate() {
            let (rw, rh) = (scaled(w, s), scaled(h, s));
            let threshold = c.scale_thresholds.get(k).copied().unwrap_or(c.threshold);
            let up = s > 1.0;
            let tile = if up && c.upscaled_tile > 0 {
                c.upscaled_tile
            } else {
                c.tile
            };
            let tiles = plan_tiles(rw, rh, tile, c.overlap);
            let mut pass = Pass::new(w, h, rw, rh, tiles, threshold, slack);
            pass.gated = up && c.upscaled_gate > 0.0;
            passes.push(pass);
        }
        let long = w.max(h);
        // The whole image shrunk so its long side is `side` (never enlarged).
        let whole = |side: u32| {
            let (rw, rh) = if long > side {
                let s = side as f64 / long as f64;
                let r = |n: u32| ((n as f64 * s).round() as u32).clamp(1, side);
                (r(w), r(h))
            } else {
                (w, h)
            };
            Pass::new(w, h, rw, rh, vec![Tile::whole(rw, rh)], c.threshold, 0.0)
        };
        if c.overview > 0 && (long > c.overview || passes.is_empty()) {
            // With no scales and a small image, the overview pass is the only
            // one and runs at native size.
            passes.push(whole(c.overview));
            if long > c.overview && c.coarse_overview > 0 && c.coarse_overview < c.overview {
                passes.push(whole(c.coarse_overview));
            }
        }
        if c.downscaled_min > 0 && c.scales.iter().any(|&s| s >= 1.0) {
            // Small faces are found at full resolution: a shrunk image's
            // small boxes would be duplicates or false alarms.
            for p in passes.iter_mut().filter(|p| p.sy < 1.0) {
                p.min_h = c.downscaled_min as f32 / p.sy;
            }
        }
        if passes.iter().all(|p| p.gated) {
            // No pass to gather evidence: run everything.
            for p in &mut passes {
                p.gated = false;
            }
        }
        for p in &mut passes {
            p.mirror = c.flip || (c.flip_shrunk && p.sx.max(p.sy) < 1.0);
        }
        passes
    }

    /// Fill the input tensor for `jobs` (all `tw` x `th`), run the network,
    /// and decode every image into `dets`. With `gather`, also keep the
    /// heatmap cells at or above the gate as evidence.
    fn run_batch(
        &mut self,
        image: &RgbImage,
        passes: &[Pass],
        jobs: &[Job],
        (tw, th): (usize, usize),
        gather: bool,
        dets: &mut Vec<Detection>,
    ) -> Result<(), Error> {
        let n = jobs.len();
        let slot = 3 * tw * th;
        self.input.shape = [n, 3, th, tw];
        // Not cleared: `fill` and `mirror` write every value of a slot, the
        // padding included, so no pass pays to zero it first.
        self.input.data.resize(n * slot, 0.0);
        for (j, job) in jobs.iter().enumerate() {
            let pass = &passes[job.pass];
            let t = pass.tiles[job.tile];
            let (before, rest) = self.input.data.split_at_mut(j * slot);
            let cur = &mut rest[..slot];
            let unflipped = Job {
                flipped: false,
                ..*job
            };
            if job.flipped && j > 0 && jobs[j - 1] == unflipped {
                mirror(&before[(j - 1) * slot..], cur, t.w as usize, tw);
                continue;
            }
            let region = (t.x as usize, t.y as usize, t.w as usize, t.h as usize);
            fill(
                image,
                &pass.xt,
                &pass.yt,
                region,
                cur,
                (tw, th),
                &mut self.tmp,
            );
            if job.flipped {
                mirror_in_place(cur, t.w as usize, tw);
            }
        }
        let out = ModelOutput::from_outputs(self.backend.run(&self.input)?)?;
        check_shapes(&out, n, th, tw)?;
        let (img_w, img_h) = image.dimensions();
        for (j, job) in jobs.iter().enumerate() {
            let pass = &passes[job.pass];
            let t = pass.tiles[job.tile];
            let p = Placement {
                x: t.x as f32,
                y: t.y as f32,
                w: t.w,
                h: t.h,
                flipped: job.flipped,
                sx: pass.sx,
                sy: pass.sy,
                core: pass.core(&t),
                threshold: pass.threshold,
                peaks_only: self.config.peaks_only,
                img_w,
                img_h,
            };
            let start = dets.len();
            decode(&out, j, &p, dets)?;
            if pass.min_h > 0.0 {
                let tall: Vec<Detection> = dets
                    .drain(start..)
                    .filter(|d| d.bbox.height() >= pass.min_h)
                    .collect();
                dets.extend(tall);
            }
            self.from.resize(dets.len(), job.pass);
            if gather {
                self.evidence.add(&out, j, &p, self.config.upscaled_gate);
            }
        }
        Ok(())
    }

    /// Run every group of jobs, up to `batch` images per network call (fewer
    /// for large tiles, see [`per_call`]).
    fn run_groups(
        &mut self,
        image: &RgbImage,
        passes: &[Pass],
        groups: &[Group],
        gather: bool,
        dets: &mut Vec<Detection>,
    ) -> Result<(), Error> {
        for (size, jobs) in groups {
            for chunk in jobs.chunks(per_call(self.config.batch, *size)) {
                self.run_batch(image, passes, chunk, *size, gather, dets)?;
            }
        }
        Ok(())
    }
}

/// On its own, CenterFace is a detector: its candidates through [`finish`].
impl<B: Backend> FaceDetector for CenterFace<B> {
    fn backend_name(&self) -> &str {
        self.backend.name()
    }

    fn detect(&mut self, image: &RgbImage) -> Result<Vec<Detection>, Error> {
        let candidates = self.candidates(image)?;
        Ok(finish(candidates, &self.config))
    }

    fn set_config(&mut self, config: &DetectConfig) -> Result<(), Error> {
        config.validate()?;
        self.config = config.clone();
        Ok(())
    }
}

impl<B: Backend> Adapter for CenterFace<B> {
    fn backend_name(&self) -> &str {
        self.backend.name()
    }

    /// Every box from every pass, tile and flip, before merging.
    fn candidates(&mut self, image: &RgbImage) -> Result<Vec<Candidate>, Error> {
        let (w, h) = image.dimensions();
        self.from.clear();
        if w == 0 || h == 0 {
            return Ok(Vec::new());
        }
        let passes = self.plan(w, h);
        let gating = passes.iter().any(|p| p.gated);
        let mut dets = Vec::new();
        let first = group_jobs(&passes, |p, _| !p.gated);
        self.evidence.clear();
        self.run_groups(image, &passes, &first, gating, &mut dets)?;
        if gating {
            let ev = &self.evidence;
            let second = group_jobs(&passes, |p, t| p.gated && ev.any_in(p.reach(t)));
            self.run_groups(image, &passes, &second, false, &mut dets)?;
        }
        Ok(dets
            .into_iter()
            .zip(&self.from)
            .map(|(detection, &pass)| Candidate {
                detection,
                pass: pass as u32,
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The settings these tests were written for: one native pass, 640 px
    /// tiles, an overview at 640, no gates. The shipped defaults differ
    /// (they are tuned on real photos); the mechanics are the same.
    fn base() -> DetectConfig {
        DetectConfig {
            threshold: 0.2,
            scales: vec![1.0],
            overview: 640,
            coarse_overview: 0,
            tile: 640,
            upscaled_tile: 0,
            upscaled_gate: 0.0,
            size_gate: super::super::SizeGate::OFF,
            weak_picture: super::super::WeakPicture::OFF,
            ..DetectConfig::default()
        }
    }
    use crate::BBox;
    use crate::detect::Fusion;
    use crate::testing::{FakeCenterFace as Fake, FakeMode as Mode, red_squares as scene};

    fn fake(mode: Mode) -> Fake {
        Fake::new(mode)
    }

    fn truth(faces: &[(u32, u32, u32)]) -> Vec<BBox> {
        faces
            .iter()
            .map(|&(x, y, s)| BBox::from_xywh(x as f32, y as f32, s as f32, s as f32))
            .collect()
    }

    fn best_iou(dets: &[Detection], b: &BBox) -> f32 {
        dets.iter().map(|d| d.bbox.iou(b)).fold(0.0, f32::max)
    }

    /// Each true face matched by exactly one detection (IoU >= `min`), and
    /// nothing else.
    fn assert_one_each(dets: &[Detection], faces: &[(u32, u32, u32)], min: f32) {
        for t in truth(faces) {
            let hits = dets.iter().filter(|d| d.bbox.iou(&t) >= min).count();
            assert_eq!(hits, 1, "{t:?} matched {hits} times in {dets:?}");
        }
        assert_eq!(dets.len(), faces.len(), "{dets:?}");
    }

    fn detector(mode: Mode, config: DetectConfig) -> CenterFace<Fake> {
        CenterFace::new(fake(mode), config).unwrap()
    }

    fn both_fusions(config: DetectConfig) -> [DetectConfig; 2] {
        [
            DetectConfig {
                fusion: Fusion::Nms,
                ..config.clone()
            },
            DetectConfig {
                fusion: Fusion::Wbf,
                ..config
            },
        ]
    }

    #[test]
    fn settings_change_between_calls_and_bad_ones_are_refused() {
        let img = scene(200, 150, &[(50, 40, 30)]);
        let mut d = detector(Mode::Faces, base());
        assert_eq!(d.detect(&img).unwrap().len(), 1);
        // The fake scores its peak 0.9: a threshold above it finds nothing.
        let strict = DetectConfig {
            threshold: 0.95,
            ..base()
        };
        d.set_config(&strict).unwrap();
        assert_eq!(d.config(), &strict);
        assert!(d.detect(&img).unwrap().is_empty());
        let bad = DetectConfig { tile: 33, ..base() };
        assert!(d.set_config(&bad).is_err());
        assert_eq!(d.config(), &strict, "a refused change keeps the settings");
        let mut boxed: Box<dyn FaceDetector> = Box::new(detector(Mode::Faces, strict));
        boxed.set_config(&base()).unwrap();
        assert_eq!(boxed.detect(&img).unwrap().len(), 1);
    }

    #[test]
    fn single_pass_finds_the_face_and_pads_without_stretching() {
        let faces = [(50, 40, 30)];
        let img = scene(200, 150, &faces);
        for config in both_fusions(base()) {
            let mut d = detector(Mode::Faces, config);
            let dets = d.detect(&img).unwrap();
            assert_one_each(&dets, &faces, 0.99);
            assert_eq!(dets[0].score, 0.9);
            assert_eq!(d.backend().calls, vec![[1, 3, 160, 224]]);
        }
    }

    #[test]
    fn tiles_find_every_face_once_even_on_borders() {
        // 1500x700 with 640 tiles, overlap 96: x starts 0, 544, 860; y 0, 60.
        // Core edges: x 592 and 1022, y 350.
        let faces = [
            (100, 100, 24),
            (700, 120, 24),
            (1300, 100, 24),
            (150, 500, 24),
            (800, 560, 24),
            (1400, 600, 24),
            (580, 338, 24),  // centred on the corner of four cores
            (1010, 200, 24), // centred on a core edge
            (1019, 360, 30), // just past one
            (0, 0, 20),      // image corner
            (1480, 680, 20), // image corner
        ];
        let img = scene(1500, 700, &faces);
        let base = DetectConfig {
            overview: 0,
            ..base()
        };
        for config in both_fusions(base) {
            let mut d = detector(Mode::Faces, config);
            let dets = d.detect(&img).unwrap();
            assert_one_each(&dets, &faces, 0.95);
            // 6 tiles of 640x640, 2 per call (1 Mpx at most).
            assert_eq!(d.backend().calls, vec![[2, 3, 640, 640]; 3]);
        }
    }

    #[test]
    fn large_tiles_are_not_batched() {
        assert_eq!(per_call(4, (320, 320)), 4);
        assert_eq!(per_call(4, (640, 640)), 2);
        assert_eq!(per_call(4, (1024, 1024)), 1);
        assert_eq!(per_call(4, (2048, 2048)), 1);
        assert_eq!(per_call(1, (32, 32)), 1);
    }

    #[test]
    fn each_tile_reports_only_faces_in_its_core() {
        // Tiles as above. Peak cells (score 0.9) before fusion: one per face,
        // except near a core edge (within overlap / 8 = 12 px), where the
        // neighbours both report it.
        let inner = [
            (548, 100, 24),
            (100, 100, 24),
            (1300, 600, 24),
            (900, 90, 24),
        ];
        let edge = [(580, 338, 24), (1010, 200, 24)];
        let all: Vec<_> = inner.iter().chain(&edge).copied().collect();
        let img = scene(1500, 700, &all);
        let config = DetectConfig {
            overview: 0,
            ..base()
        };
        let raw = detector(Mode::Faces, config).candidates(&img).unwrap();
        let peaks = |t: &BBox| {
            raw.iter()
                .map(|c| c.detection)
                .filter(|d| d.score == 0.9 && d.bbox.iou(t) > 0.95)
                .count()
        };
        for t in truth(&inner) {
            assert_eq!(peaks(&t), 1, "{t:?} in {raw:?}");
        }
        for t in truth(&edge) {
            assert!((2..=4).contains(&peaks(&t)), "{t:?} in {raw:?}");
        }
    }

    #[test]
    fn flip_finds_the_same_box_in_the_same_batch() {
        let faces = [(20, 30, 40), (150, 90, 16)];
        let img = scene(203, 131, &faces);
        for batch in [1, 2, 3] {
            for config in both_fusions(DetectConfig {
                flip: true,
                batch,
                ..base()
            }) {
                let mut d = detector(Mode::Faces, config);
                let dets = d.detect(&img).unwrap();
                assert_one_each(&dets, &faces, 0.99);
                let images: usize = d.backend().calls.iter().map(|c| c[0]).sum();
                assert_eq!(images, 2);
                assert_eq!(d.backend().calls.len(), if batch == 1 { 2 } else { 1 });
            }
        }
    }

    /// The fake network, checking first that every image of each input
    /// is zero outside its first `w` columns and `h` rows.
    struct PaddingChecked(Fake, usize, usize);

    impl Backend for PaddingChecked {
        fn name(&self) -> &str {
            "padding-checked"
        }
        fn run(&mut self, input: &Tensor4) -> Result<Vec<Tensor4>, Error> {
            let [_, _, th, tw] = input.shape;
            for (i, v) in input.data.iter().enumerate() {
                let (y, x) = ((i / tw) % th, i % tw);
                if x >= self.1 || y >= self.2 {
                    assert_eq!(*v, 0.0, "padding at ({x}, {y})");
                }
            }
            self.0.run(input)
        }
    }

    #[test]
    fn a_used_input_tensor_carries_nothing_into_the_next_image() {
        // The input tensor is reused without being cleared: the second,
        // smaller image gets the same 224 x 160 slots, and what the first
        // left in them must not show in its padding (plain and mirrored).
        let red = RgbImage::from_pixel(220, 150, image::Rgb([255, 0, 0]));
        let black = scene(200, 130, &[]);
        for batch in [1, 2] {
            let config = DetectConfig {
                flip: true,
                batch,
                ..base()
            };
            let backend = PaddingChecked(fake(Mode::Faces), 220, 150);
            let mut d = CenterFace::new(backend, config).unwrap();
            assert!(!d.detect(&red).unwrap().is_empty());
            d.backend.1 = 200;
            d.backend.2 = 130;
            assert_eq!(d.detect(&black).unwrap(), vec![]);
            assert!(d.backend().0.calls.iter().all(|c| c[2..] == [160, 224]));
        }
    }

    #[test]
    fn flip_shrunk_mirrors_only_the_shrunk_passes() {
        let faces = [(100, 60, 40), (230, 150, 32)];
        let img = scene(301, 199, &faces);
        let config = DetectConfig {
            scales: vec![0.5, 1.0],
            flip_shrunk: true,
            batch: 1,
            ..base()
        };
        let mut d = detector(Mode::Faces, config);
        let dets = d.detect(&img).unwrap();
        assert_one_each(&dets, &faces, 0.85);
        // The half-size pass twice (plain, mirrored), the native pass once.
        let mut shapes = d.backend().calls.clone();
        shapes.sort();
        assert_eq!(
            shapes,
            vec![[1, 3, 128, 160], [1, 3, 128, 160], [1, 3, 224, 320]]
        );
    }

    #[test]
    fn scales_map_boxes_back() {
        let faces = [(100, 60, 40), (230, 150, 32)];
        let img = scene(301, 199, &faces);
        for (s, shape) in [
            (2.0, [1, 3, 416, 608]),
            (0.5, [1, 3, 128, 160]),
            (0.7, [1, 3, 160, 224]),
        ] {
            for config in both_fusions(DetectConfig {
                scales: vec![s],
                ..base()
            }) {
                let mut d = detector(Mode::Faces, config);
                let dets = d.detect(&img).unwrap();
                assert_one_each(&dets, &faces, 0.85);
                assert_eq!(d.backend().calls, vec![shape], "scale {s}");
            }
        }
        // Two scales, same faces: still one box each.
        let config = DetectConfig {
            scales: vec![1.0, 2.0],
            ..base()
        };
        for config in both_fusions(config) {
            let dets = detector(Mode::Faces, config).detect(&img).unwrap();
            assert_one_each(&dets, &faces, 0.85);
        }
    }

    #[test]
    fn upscaled_pass_is_tiled_and_maps_back() {
        let faces = [(40, 40, 12), (300, 200, 12), (161, 95, 14)];
        let img = scene(400, 300, &faces);
        let config = DetectConfig {
            scales: vec![2.0],
            tile: 320,
            overlap: 64,
            overview: 0,
            ..base()
        };
        for config in both_fusions(config) {
            let mut d = detector(Mode::Faces, config);
            let dets = d.detect(&img).unwrap();
            assert_one_each(&dets, &faces, 0.8);
            // 800x600 in 320 tiles: 3 x 3.
            let n: usize = d.backend().calls.iter().map(|c| c[0]).sum();
            assert_eq!(n, 9);
        }
    }

    #[test]
    fn overview_pass_finds_a_face_larger_than_a_tile() {
        // A 700 px face cannot fit in any 640 px tile.
        let faces = [(650, 400, 700)];
        let img = scene(2000, 1500, &faces);
        let t = truth(&faces)[0];
        let nms = DetectConfig {
            fusion: Fusion::Nms,
            ..base()
        };
        let mut d = detector(Mode::Faces, nms.clone());
        let dets = d.detect(&img).unwrap();
        assert!(best_iou(&dets, &t) > 0.95, "{dets:?}");
        assert!(d.backend().calls.contains(&[1, 3, 480, 640]));
        let off = DetectConfig { overview: 0, ..nms };
        let dets = detector(Mode::Faces, off).detect(&img).unwrap();
        assert!(best_iou(&dets, &t) < 0.7, "{dets:?}");
        // Fused with the tile fragments the box still covers most of the face.
        let dets = detector(Mode::Faces, base()).detect(&img).unwrap();
        assert!(best_iou(&dets, &t) > 0.7, "{dets:?}");
    }

    #[test]
    fn coarse_overview_runs_only_beside_the_overview() {
        let faces = [(650, 400, 700)];
        let img = scene(2000, 1500, &faces);
        let t = truth(&faces)[0];
        let coarse = DetectConfig {
            coarse_overview: 320,
            fusion: Fusion::Nms,
            ..base()
        };
        let mut d = detector(Mode::Faces, coarse.clone());
        let dets = d.detect(&img).unwrap();
        assert!(best_iou(&dets, &t) > 0.9, "{dets:?}");
        // Overview at 640 x 480, coarse overview at 320 x 240 (padded to 256).
        let calls = &d.backend().calls;
        assert!(calls.contains(&[1, 3, 480, 640]), "{calls:?}");
        assert!(calls.contains(&[1, 3, 256, 320]), "{calls:?}");
        // The coarse pass alone maps its box back to the image.
        let only = DetectConfig {
            scales: vec![],
            overview: 640,
            ..coarse.clone()
        };
        let mut d = detector(Mode::Faces, only);
        let dets = d.detect(&img).unwrap();
        assert!(best_iou(&dets, &t) > 0.9, "{dets:?}");
        // Not for an image no larger than the overview, nor when it is not smaller.
        let mut d = detector(Mode::Faces, coarse.clone());
        d.detect(&scene(600, 400, &[(100, 100, 50)])).unwrap();
        assert_eq!(d.backend().calls, vec![[1, 3, 416, 608]]);
        let same = DetectConfig {
            coarse_overview: 640,
            ..coarse
        };
        let mut d = detector(Mode::Faces, same);
        d.detect(&img).unwrap();
        assert!(!d.backend().calls.contains(&[1, 3, 256, 320]));
    }

    #[test]
    fn overview_is_skipped_for_small_images_unless_it_is_the_only_pass() {
        let faces = [(10, 10, 20)];
        let img = scene(300, 200, &faces);
        let mut d = detector(Mode::Faces, base());
        d.detect(&img).unwrap();
        assert_eq!(d.backend().calls.len(), 1);
        let only = DetectConfig {
            scales: vec![],
            ..base()
        };
        let mut d = detector(Mode::Faces, only);
        let dets = d.detect(&img).unwrap();
        assert_one_each(&dets, &faces, 0.99);
        assert_eq!(d.backend().calls, vec![[1, 3, 224, 320]]);
    }

    #[test]
    fn per_scale_thresholds_apply_to_their_pass() {
        let faces = [(100, 60, 40)];
        let img = scene(300, 200, &faces);
        let run = |th: Vec<f32>| {
            let config = DetectConfig {
                scales: vec![1.0, 2.0],
                scale_thresholds: th,
                ..base()
            };
            detector(Mode::Faces, config).detect(&img).unwrap()
        };
        assert_eq!(run(vec![0.95, 0.5]).len(), 1);
        assert_eq!(run(vec![0.5, 0.95]).len(), 1);
        assert!(run(vec![0.95, 0.95]).is_empty());
        let bad = DetectConfig {
            scale_thresholds: vec![0.5, 0.5],
            ..base()
        };
        assert!(matches!(
            CenterFace::new(fake(Mode::Faces), bad),
            Err(Error::Config(_))
        ));
    }

    #[test]
    fn peaks_only_finds_the_same_faces() {
        let faces = [(20, 30, 40), (150, 90, 16)];
        let img = scene(203, 131, &faces);
        let config = DetectConfig {
            peaks_only: true,
            ..base()
        };
        let dets = detector(Mode::Faces, config).detect(&img).unwrap();
        assert_one_each(&dets, &faces, 0.99);
        assert!(dets.iter().all(|d| d.score == 0.9));
    }

    /// Scales 1 and 2: the native pass in one piece, the upscaled one in
    /// 320 px tiles, gated at `gate`.
    fn gated(gate: f32) -> DetectConfig {
        DetectConfig {
            scales: vec![1.0, 2.0],
            tile: 1024,
            upscaled_tile: 320,
            upscaled_gate: gate,
            overview: 0,
            ..base()
        }
    }

    /// Images run in 320 x 320 tiles (the upscaled pass).
    fn upscaled_tiles(d: &CenterFace<Fake>) -> usize {
        let calls = &d.backend().calls;
        calls
            .iter()
            .filter(|c| c[2..] == [320, 320])
            .map(|c| c[0])
            .sum()
    }

    #[test]
    fn gate_runs_upscaled_tiles_only_where_the_native_pass_saw_a_small_face() {
        // 800x600 at 2x is 1600x1200: 7 x 5 tiles of 320. The 6 and 7 px
        // faces score only 0.1 at native size, below the threshold, and 0.9
        // at 2x; the 30 px one 0.9 at both, and is too large to be evidence.
        let faces = [(500, 300, 6), (100, 100, 30), (700, 20, 7)];
        let img = scene(800, 600, &faces);
        for flip in [false, true] {
            let run = |gate: f32| {
                let mut d = detector(
                    Mode::Faces,
                    DetectConfig {
                        flip,
                        ..gated(gate)
                    },
                );
                let dets = d.detect(&img).unwrap();
                (dets, upscaled_tiles(&d) / if flip { 2 } else { 1 })
            };
            let (all, n) = run(0.0);
            assert_one_each(&all, &faces, 0.8);
            assert_eq!(n, 35);
            // A gate below the weak responses: the same faces, from the
            // few tiles around the tiny ones.
            let (dets, n) = run(0.05);
            assert_one_each(&dets, &faces, 0.8);
            for (a, b) in dets.iter().zip(&all) {
                assert!(a.bbox.iou(&b.bbox) > 0.99 && a.score == b.score);
            }
            assert!((2..=8).contains(&n), "{n} tiles");
            // A gate above them: no upscaled tile runs, the tiny faces are
            // lost and the large one is still found at native size.
            let (dets, n) = run(0.5);
            assert_one_each(&dets, &faces[1..2], 0.8);
            assert_eq!(n, 0);
        }
        // An empty picture runs no upscaled tile either.
        let mut d = detector(Mode::Faces, gated(0.05));
        assert!(d.detect(&scene(800, 600, &[])).unwrap().is_empty());
        assert_eq!(d.backend().calls, vec![[1, 3, 608, 800]]);
    }

    #[test]
    fn gate_without_another_pass_skips_nothing() {
        let faces = [(500, 300, 6)];
        let img = scene(800, 600, &faces);
        let only_up = DetectConfig {
            scales: vec![2.0],
            ..gated(0.05)
        };
        let mut d = detector(Mode::Faces, only_up);
        assert_one_each(&d.detect(&img).unwrap(), &faces, 0.8);
        assert_eq!(upscaled_tiles(&d), 35);
    }

    #[test]
    fn gate_and_upscaled_tile_are_checked() {
        for bad in [
            gated(1.5),
            gated(f32::NAN),
            DetectConfig {
                upscaled_tile: 100,
                ..gated(0.05)
            },
            DetectConfig {
                upscaled_tile: 128,
                ..gated(0.05)
            },
        ] {
            let r = CenterFace::new(fake(Mode::Faces), bad);
            assert!(matches!(r, Err(Error::Config(_))), "{:?}", r.err());
        }
    }

    #[test]
    fn size_gate_keeps_a_weak_large_box_that_two_passes_saw() {
        // The fake scores faces 0.9; a gate asking 0.95 from 64 px drops a
        // 100 px face unless `agree` passes saw it. Mirrored images are the
        // same pass.
        let faces = [(60, 50, 100)];
        let img = scene(300, 220, &faces);
        let gate = |agree| super::super::SizeGate {
            large_px: 64.0,
            large_threshold: 0.95,
            agree,
            confirm_below: 0.0,
        };
        let run = |scales: Vec<f32>, flip: bool, agree: u32| {
            let mut all = Vec::new();
            for config in both_fusions(DetectConfig {
                scales: scales.clone(),
                flip,
                overview: 0,
                size_gate: gate(agree),
                ..base()
            }) {
                all.push(detector(Mode::Faces, config).detect(&img).unwrap());
            }
            assert_eq!(all[0].len(), all[1].len());
            all.pop().unwrap()
        };
        assert!(run(vec![0.5, 1.0], false, 0).is_empty());
        assert_one_each(&run(vec![0.5, 1.0], false, 2), &faces, 0.85);
        assert!(run(vec![1.0], true, 2).is_empty());
        assert!(run(vec![0.5, 1.0], false, 3).is_empty());
        // A small face never needs the agreement.
        let small = [(20, 20, 12)];
        let mut d = detector(
            Mode::Faces,
            DetectConfig {
                size_gate: gate(2),
                ..base()
            },
        );
        assert_one_each(&d.detect(&scene(100, 80, &small)).unwrap(), &small, 0.85);
    }

    #[test]
    fn a_weak_picture_loses_its_faint_boxes_unless_a_strong_one_is_there() {
        // The fake scores blobs under 8 px 0.1 and others 0.9. At threshold
        // 0.05 a lone tiny blob is kept without the rule, dropped with it,
        // and kept again beside a clear face.
        let weak = super::super::WeakPicture {
            top: 0.5,
            floor: 0.2,
        };
        let run = |faces: &[(u32, u32, u32)], weak_picture| {
            let config = DetectConfig {
                threshold: 0.05,
                weak_picture,
                ..base()
            };
            detector(Mode::Faces, config)
                .detect(&scene(200, 160, faces))
                .unwrap()
        };
        let tiny = [(30, 30, 6)];
        assert_eq!(run(&tiny, super::super::WeakPicture::OFF).len(), 1);
        assert!(run(&tiny, weak).is_empty());
        let both = [(30, 30, 6), (100, 60, 40)];
        assert_eq!(run(&both, weak).len(), 2);
    }

    #[test]
    fn downscaled_passes_keep_only_tall_boxes_beside_a_native_pass() {
        // A 100 px and a 20 px face. At scale 0.5 they are 50 and 10 px: with
        // downscaled_min 32 the half-size pass keeps only the large one.
        let faces = [(40, 40, 100), (200, 60, 20)];
        let img = scene(300, 200, &faces);
        let config = |scales: Vec<f32>, downscaled_min| DetectConfig {
            scales,
            overview: 0,
            downscaled_min,
            ..base()
        };
        let mut d = detector(Mode::Faces, config(vec![0.5, 1.0], 32));
        let raw = d.candidates(&img).unwrap();
        let half: Vec<f32> = raw
            .iter()
            .filter(|c| c.pass == 0)
            .map(|c| c.detection.bbox.height())
            .collect();
        assert!(
            !half.is_empty() && half.iter().all(|&h| h >= 64.0),
            "{half:?}"
        );
        assert!(
            raw.iter()
                .any(|c| c.pass == 1 && c.detection.bbox.height() < 30.0)
        );
        assert_one_each(&d.detect(&img).unwrap(), &faces, 0.8);
        // Without a native pass the shrunk pass keeps everything.
        let mut d = detector(Mode::Faces, config(vec![0.5], 32));
        assert_one_each(&d.detect(&img).unwrap(), &faces, 0.7);
        // 0 keeps every box.
        let mut d = detector(Mode::Faces, config(vec![0.5, 1.0], 0));
        let raw = d.candidates(&img).unwrap();
        assert!(
            raw.iter()
                .any(|c| c.pass == 0 && c.detection.bbox.height() < 30.0)
        );
    }

    #[test]
    fn bad_outputs_are_errors_not_panics() {
        let img = scene(100, 100, &[(10, 10, 20)]);
        for mode in [Mode::WrongShape, Mode::WrongCount, Mode::Nan] {
            let r = detector(mode, base()).detect(&img);
            assert!(matches!(r, Err(Error::BadOutput(_))), "{r:?}");
        }
        let r = detector(Mode::Fails, base()).detect(&img);
        assert!(matches!(r, Err(Error::Inference(_))), "{r:?}");
    }

    #[test]
    fn empty_image_has_no_faces() {
        let mut d = detector(Mode::Faces, base());
        assert!(d.detect(&RgbImage::new(0, 0)).unwrap().is_empty());
        assert!(d.backend().calls.is_empty());
    }
}
