//! `blindfold.Anonymizer`: the model loaded once, a pool of detectors shared
//! by the calling threads, the GIL released while working.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::path::PathBuf;
use std::time::Instant;

use blindfold::anonymize::{self, MaskSpec, Mode, Shape};
use blindfold::codec::{DecodeOptions, EncodeOptions};
use blindfold::detect::DetectConfig;
use blindfold::pipeline::{self, Options};
use blindfold::report::PhotoReport;
use blindfold::track::TrackerConfig;
use blindfold_infer::select::{
    Choice, Pool, PrecisionChoice, default_workers, mem_available, num_cpus,
};
use blindfold_models::{EngineSource, OpenError};
use numpy::{PyArray3, PyReadonlyArray3};
use pyo3::exceptions::PyUserWarning;
use pyo3::prelude::*;
use pyo3::types::{PyAny, PyBytes};

use crate::convert;
use crate::errors::{self, ConfigError};

/// An unpredictable seed for the noise fill, so noise cannot be replayed.
fn fresh_seed() -> u64 {
    RandomState::new().hash_one(Instant::now())
}

/// Finds and masks faces with one loaded model. Safe to share between
/// threads: each call borrows one of ``jobs`` detectors and releases the GIL
/// while it works.
#[pyclass(frozen, module = "blindfold")]
pub struct Anonymizer {
    pool: Pool,
    opts: Options,
    backend: &'static str,
    precision: &'static str,
    precision_reason: String,
    fallback_reason: Option<String>,
    model: PathBuf,
}

/// What :meth:`Anonymizer.anonymize` returns.
#[pyclass(frozen, module = "blindfold", name = "Result")]
pub struct PhotoResult {
    /// The anonymised file, in the input's format, without identifying
    /// metadata.
    #[pyo3(get)]
    data: Py<PyBytes>,
    /// The report the CLI prints for the photo with ``--json``.
    #[pyo3(get)]
    report: Py<PyAny>,
}

#[pymethods]
impl PhotoResult {
    fn __repr__(&self, py: Python<'_>) -> String {
        let faces = self
            .report
            .bind(py)
            .get_item("faces")
            .and_then(|f| f.len())
            .unwrap_or(0);
        format!(
            "blindfold.Result({} bytes, {faces} faces)",
            self.data.bind(py).as_bytes().len()
        )
    }
}

#[pymethods]
impl Anonymizer {
    /// Load the model (fetching it into the CLI's cache on first use unless
    /// ``offline``) and make ``jobs`` detectors, each running on ``threads``
    /// threads (default: the CPUs shared out between the jobs).
    #[new]
    #[pyo3(signature = (
        model=None, backend="auto", mode="noise", threshold=None, fast=false, grow=None,
        shape="ellipse", jobs=None, threads=None, offline=false, ort_lib=None, quality=92, keep_icc=true,
        max_pixels=100_000_000, first_frame=false, reencode=false, precision="auto"
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        model: Option<PathBuf>,
        backend: &str,
        mode: &str,
        threshold: Option<f32>,
        fast: bool,
        grow: Option<f32>,
        shape: &str,
        jobs: Option<usize>,
        threads: Option<usize>,
        offline: bool,
        ort_lib: Option<PathBuf>,
        quality: u8,
        keep_icc: bool,
        max_pixels: u64,
        first_frame: bool,
        reencode: bool,
        precision: &str,
    ) -> PyResult<Anonymizer> {
        let choice = Choice::from_name(backend).ok_or_else(|| {
            ConfigError::new_err(format!(
                "backend must be auto, ort, ort-cuda or rten, not {backend:?}"
            ))
        })?;
        let precision = PrecisionChoice::from_name(precision).ok_or_else(|| {
            ConfigError::new_err(format!(
                "precision must be auto, fp32 or int8, not {precision:?}"
            ))
        })?;
        let mode: Mode = convert::named("mode", mode, "noise, solid, blur, pixelate")?;
        let shape: Shape = convert::named("shape", shape, "ellipse, rect")?;
        let mut cfg = if fast {
            DetectConfig::fast()
        } else {
            DetectConfig::default()
        };
        if let Some(t) = threshold {
            cfg.threshold = t;
        }
        cfg.validate().map_err(errors::core)?;
        let mask = MaskSpec {
            shape,
            grow: grow.unwrap_or(MaskSpec::default().grow),
        };
        mask.validate().map_err(errors::core)?;
        if !(1..=100).contains(&quality) {
            return Err(ConfigError::new_err("quality must be within 1..100"));
        }
        if jobs == Some(0) || threads == Some(0) {
            return Err(ConfigError::new_err("jobs and threads must be at least 1"));
        }
        if mode.is_reversible() {
            PyErr::warn(
                py,
                &py.get_type::<PyUserWarning>(),
                &std::ffi::CString::new(format!(
                    "mode={mode:?} can be reversed by learned attacks; use noise or solid to protect people"
                ))
                .expect("no NUL"),
                1,
            )?;
        }
        let jobs = jobs
            .unwrap_or_else(|| default_workers(num_cpus(), mem_available(), cfg.worker_memory()));
        let opts = Options {
            decode: DecodeOptions {
                max_pixels,
                ..DecodeOptions::default()
            },
            mask,
            mode,
            encode: EncodeOptions {
                jpeg_quality: quality,
                keep_icc,
                jpeg_lossless: !reencode,
                ..EncodeOptions::default()
            },
            seed: 0,
            first_frame,
            tracking: TrackerConfig::default(),
        };
        let (engine, pool) = py
            .detach(|| {
                let source = EngineSource {
                    model,
                    ort_lib,
                    offline,
                    choice,
                    precision,
                };
                let threads = threads.unwrap_or((num_cpus() / jobs).max(1));
                let engine = blindfold_models::open_engine(&source, threads, &|_| {})?;
                let pool = Pool::new(&engine, &cfg, jobs)?;
                Ok::<_, OpenError>((engine, pool))
            })
            .map_err(errors::open)?;
        Ok(Anonymizer {
            pool,
            opts,
            backend: engine.backend(),
            precision: engine.precision().name(),
            precision_reason: engine.precision_reason().to_string(),
            fallback_reason: engine.fallback_reason().map(str::to_string),
            model: engine.model().to_path_buf(),
        })
    }

    /// The backend that runs: ``"ort"``, ``"ort-cuda"`` or ``"rten"``.
    #[getter]
    fn backend(&self) -> &'static str {
        self.backend
    }

    /// The precision the network runs in: ``"fp32"`` or ``"int8"``.
    #[getter]
    fn precision(&self) -> &'static str {
        self.precision
    }

    /// Why :attr:`precision` was chosen (e.g. ``"the CPU has AVX-512 VNNI"``).
    #[getter]
    fn precision_reason(&self) -> &str {
        &self.precision_reason
    }

    /// Why ONNX Runtime is not used, when ``backend="auto"`` fell back to rten.
    #[getter]
    fn fallback_reason(&self) -> Option<&str> {
        self.fallback_reason.as_deref()
    }

    /// How many detectors there are (calls that can run at once).
    #[getter]
    fn jobs(&self) -> usize {
        self.pool.size()
    }

    /// The prepared model file in use.
    #[getter]
    fn model(&self) -> PathBuf {
        self.model.clone()
    }

    /// Anonymise one encoded photo (JPEG, PNG, WebP, TIFF or BMP). Returns a
    /// :class:`Result`; raises a :class:`blindfold.Error` subclass on any
    /// failure, and then there are no bytes at all.
    fn anonymize(&self, py: Python<'_>, data: &[u8]) -> PyResult<PhotoResult> {
        let start = Instant::now();
        let clock = || start.elapsed().as_secs_f64() * 1000.0;
        let opts = Options {
            seed: fresh_seed(),
            ..self.opts
        };
        let out = py
            .detach(|| {
                self.pool
                    .with(|d| pipeline::process(data, d, &opts, false, &clock))
            })
            .map_err(errors::core)?;
        let mut report = serde_json::json!({
            "status": "ok",
            "kind": "photo",
            "backend": self.backend,
            "precision": self.precision,
        });
        let photo = serde_json::to_value(PhotoReport::from(&out))
            .map_err(|e| errors::Error::new_err(format!("report: {e}")))?;
        if let (Some(r), serde_json::Value::Object(p)) = (report.as_object_mut(), photo) {
            r.extend(p);
            r.insert("total_ms".into(), clock().into());
        }
        Ok(PhotoResult {
            data: PyBytes::new(py, &out.bytes).unbind(),
            report: convert::json(py, &report)?.unbind(),
        })
    }

    /// Faces in an ``(H, W, 3)`` RGB uint8 frame, as
    /// ``[(x0, y0, x1, y1, score), ...]`` in pixels. The frame is read into
    /// a copy before the GIL is released; no reference to it is kept.
    fn detect(
        &self,
        py: Python<'_>,
        image: PyReadonlyArray3<'_, u8>,
    ) -> PyResult<Vec<convert::DetTuple>> {
        let img = convert::image(&image)?;
        let dets = py
            .detach(|| self.pool.with(|d| d.detect(&img)))
            .map_err(errors::core)?;
        Ok(dets.iter().map(convert::det_tuple).collect())
    }

    /// A copy of ``image`` with a mask drawn over each box (grown and shaped
    /// as this anonymizer's settings say, filled with ``mode`` or its own).
    /// Boxes are sequences starting ``x0, y0, x1, y1`` (detections or
    /// tracker boxes). ``image`` is read into a copy before the GIL is
    /// released, and neither changed nor kept.
    #[pyo3(signature = (image, boxes, mode=None))]
    fn mask<'py>(
        &self,
        py: Python<'py>,
        image: PyReadonlyArray3<'py, u8>,
        boxes: &Bound<'py, PyAny>,
        mode: Option<&str>,
    ) -> PyResult<Bound<'py, PyArray3<u8>>> {
        let mode: Mode = match mode {
            Some(m) => convert::named("mode", m, "noise, solid, blur, pixelate")?,
            None => self.opts.mode,
        };
        let dets = convert::boxes(boxes)?;
        let mut img = convert::image(&image)?;
        let spec = self.opts.mask;
        let img = py.detach(move || {
            let masks = anonymize::masks_for(&dets, &spec);
            anonymize::apply(&mut img, &masks, mode, fresh_seed());
            img
        });
        convert::array(py, img)
    }

    fn __repr__(&self) -> String {
        format!(
            "blindfold.Anonymizer(backend={:?}, jobs={}, model={:?})",
            self.backend,
            self.pool.size(),
            self.model.display().to_string()
        )
    }
}
