//! blindfold in the browser: thin wasm-bindgen bindings over the core
//! ([`blindfold::pipeline`]) with the rten backend.
//!
//! The page's Web Worker loads the prepared CenterFace model (after checking
//! its sha256 against [`prepared_model_sha256`]), makes an [`Engine`], and
//! calls [`Engine::process`] on each photo: decode, orient, detect, mask,
//! re-encode, check. When a person edits the boxes or the fill, [`redact`]
//! masks the edited boxes on the original photo again. Both return an
//! [`Output`]: the encoded bytes (no identifying metadata, checked by the
//! core) and the core's JSON report of the photo.
//!
//! Settings and boxes travel as JSON strings, so the JavaScript side needs no
//! generated classes beyond these few. Every failure is an error with the
//! core's message and no bytes (fail closed).

use blindfold::anonymize::{MaskSpec, Mode};
use blindfold::detect::{CENTERFACE, CenterFace, DetectConfig};
use blindfold::pipeline::{self, Options, Outcome};
use blindfold::report::PhotoReport;
use blindfold::{BBox, Detection};
use blindfold_infer::rten_backend::RtenBackend;
use serde::Deserialize;
use wasm_bindgen::prelude::*;

/// The sha256 (lower-case hex) of the prepared CenterFace model this build
/// expects. The page refuses any other model file.
#[wasm_bindgen(js_name = preparedModelSha256)]
pub fn prepared_model_sha256() -> String {
    blindfold_infer::onnx::CENTERFACE_PREPARED_SHA256.to_string()
}

/// The fill and mask settings chosen on the page.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// `noise`, `solid`, `blur` or `pixelate`.
    #[serde(default)]
    pub mode: Mode,
    /// Growth of each side of a box, as a fraction of its size.
    #[serde(default = "default_grow")]
    pub grow: f32,
    /// Seed for the noise fill (the page draws a fresh one per photo).
    #[serde(default)]
    pub seed: u64,
}

fn default_grow() -> f32 {
    MaskSpec::default().grow
}

impl Settings {
    /// Parse settings from JSON such as `{"mode":"noise","grow":0.3,"seed":1}`.
    pub fn parse(json: &str) -> Result<Settings, String> {
        serde_json::from_str(json).map_err(|e| format!("bad settings: {e}"))
    }

    fn options(&self) -> Options {
        Options {
            mask: MaskSpec {
                grow: self.grow,
                ..MaskSpec::default()
            },
            mode: self.mode,
            seed: self.seed,
            ..Options::default()
        }
    }
}

/// A box drawn or kept on the page, in pixels of the upright image.
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageBox {
    /// Left edge.
    pub x0: f32,
    /// Top edge.
    pub y0: f32,
    /// Right edge.
    pub x1: f32,
    /// Bottom edge.
    pub y1: f32,
    /// Detector score; boxes drawn by hand have none (taken as 1).
    #[serde(default)]
    pub score: Option<f32>,
}

/// Parse a JSON list of boxes (`[{"x0":..,"y0":..,"x1":..,"y1":..}]`).
pub fn parse_boxes(json: &str) -> Result<Vec<Detection>, String> {
    let boxes: Vec<PageBox> = serde_json::from_str(json).map_err(|e| format!("bad boxes: {e}"))?;
    Ok(boxes
        .into_iter()
        .map(|b| Detection {
            bbox: BBox::new(b.x0, b.y0, b.x1, b.y1),
            score: b.score.unwrap_or(1.0),
        })
        .collect())
}

/// One anonymised photo: its encoded bytes and a JSON report.
#[wasm_bindgen]
pub struct Output {
    bytes: Vec<u8>,
    report: String,
}

#[wasm_bindgen]
impl Output {
    /// The anonymised file, in the input's format.
    #[wasm_bindgen(getter)]
    pub fn bytes(&self) -> Vec<u8> {
        self.bytes.clone()
    }

    /// The core's [`PhotoReport`] as JSON (the CLI's `--json` fields for a photo).
    #[wasm_bindgen(getter)]
    pub fn report(&self) -> String {
        self.report.clone()
    }
}

impl Output {
    fn from(out: Outcome) -> Result<Output, String> {
        let report =
            serde_json::to_string(&PhotoReport::from(&out)).map_err(|e| format!("report: {e}"))?;
        Ok(Output {
            bytes: out.bytes,
            report,
        })
    }
}

/// The detector: CenterFace on rten, with the CLI's default settings.
#[wasm_bindgen]
pub struct Engine {
    detector: CenterFace<RtenBackend>,
}

#[wasm_bindgen]
impl Engine {
    /// Load the prepared model (its bytes). The page checks the hash first.
    #[wasm_bindgen(constructor)]
    pub fn new(model: Vec<u8>) -> Result<Engine, JsError> {
        Engine::load(model).map_err(|e| JsError::new(&e))
    }

    /// Anonymise one encoded photo (`settings` as for [`Settings::parse`]).
    pub fn process(&mut self, input: &[u8], settings: &str) -> Result<Output, JsError> {
        self.run(input, settings).map_err(|e| JsError::new(&e))
    }
}

impl Engine {
    /// [`Engine::new`] without the JavaScript error type.
    pub fn load(model: Vec<u8>) -> Result<Engine, String> {
        let backend = RtenBackend::new(model, CENTERFACE).map_err(|e| e.to_string())?;
        let detector =
            CenterFace::new(backend, DetectConfig::default()).map_err(|e| e.to_string())?;
        Ok(Engine { detector })
    }

    /// [`Engine::process`] without the JavaScript error type.
    pub fn run(&mut self, input: &[u8], settings: &str) -> Result<Output, String> {
        let opts = Settings::parse(settings)?.options();
        let out = pipeline::process(input, &mut self.detector, &opts, false, &now_ms)
            .map_err(|e| e.to_string())?;
        Output::from(out)
    }
}

/// Mask the given boxes (JSON, see [`parse_boxes`]) on the original photo
/// and encode it, as [`blindfold::pipeline::redact`] does.
#[wasm_bindgen]
pub fn redact(input: &[u8], boxes: &str, settings: &str) -> Result<Output, JsError> {
    redact_boxes(input, boxes, settings).map_err(|e| JsError::new(&e))
}

/// [`redact`] without the JavaScript error type.
pub fn redact_boxes(input: &[u8], boxes: &str, settings: &str) -> Result<Output, String> {
    let opts = Settings::parse(settings)?.options();
    let boxes = parse_boxes(boxes)?;
    let out = pipeline::redact(input, &boxes, &opts, &now_ms).map_err(|e| e.to_string())?;
    Output::from(out)
}

impl Output {
    /// The encoded bytes, without a copy.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    /// The report JSON.
    pub fn report_json(&self) -> &str {
        &self.report
    }
}

#[cfg(target_arch = "wasm32")]
#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    fn performance_now() -> f64;
}

#[cfg(target_arch = "wasm32")]
fn now_ms() -> f64 {
    performance_now()
}

#[cfg(not(target_arch = "wasm32"))]
fn now_ms() -> f64 {
    0.0
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests;
