//! Between Python values and the engine's types: numpy frames, box tuples,
//! the report as a dict, setting names.

use blindfold::image::RgbImage;
use blindfold::{BBox, Detection};
use numpy::{IntoPyArray, PyArray3, PyArrayMethods, PyReadonlyArray3, PyUntypedArrayMethods};
use pyo3::prelude::*;
use pyo3::types::{PyAny, PyFloat};

use crate::errors::ConfigError;

/// A copy of an `(H, W, 3)` uint8 array as an RGB image.
pub fn image(array: &PyReadonlyArray3<'_, u8>) -> PyResult<RgbImage> {
    let shape = array.shape();
    let (h, w, c) = (shape[0], shape[1], shape[2]);
    if c != 3 {
        return Err(ConfigError::new_err(format!(
            "expected an (H, W, 3) RGB uint8 array, got shape ({h}, {w}, {c})"
        )));
    }
    let too_big = || ConfigError::new_err(format!("array of {w}x{h} pixels is too large"));
    let (w32, h32) = (
        u32::try_from(w).map_err(|_| too_big())?,
        u32::try_from(h).map_err(|_| too_big())?,
    );
    let data = match array.as_slice() {
        Ok(s) => s.to_vec(),
        // Not C-contiguous: iterate in logical (row, column, channel) order.
        Err(_) => array.as_array().iter().copied().collect(),
    };
    RgbImage::from_raw(w32, h32, data).ok_or_else(too_big)
}

/// An RGB image as a new `(H, W, 3)` uint8 array.
pub fn array(py: Python<'_>, img: RgbImage) -> PyResult<Bound<'_, PyArray3<u8>>> {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let flat = img.into_raw().into_pyarray(py);
    flat.reshape([h, w, 3])
}

/// A detection as Python sees it: `(x0, y0, x1, y1, score)`.
pub type DetTuple = (f32, f32, f32, f32, f32);

/// A detection as `(x0, y0, x1, y1, score)`.
pub fn det_tuple(d: &Detection) -> DetTuple {
    (d.bbox.x0, d.bbox.y0, d.bbox.x1, d.bbox.y1, d.score)
}

/// Boxes from Python: each a sequence whose first four items are
/// `x0, y0, x1, y1`; a fifth number is taken as the score (1.0 when absent
/// or not a float, as for the tracker's `(.., track, source)` tuples).
pub fn boxes(items: &Bound<'_, PyAny>) -> PyResult<Vec<Detection>> {
    let mut out = Vec::new();
    for item in items.try_iter()? {
        let item = item?;
        let n = item.len()?;
        if n < 4 {
            return Err(ConfigError::new_err(format!(
                "a box needs x0, y0, x1, y1; got {n} values"
            )));
        }
        let c = |i: usize| -> PyResult<f32> { item.get_item(i)?.extract::<f32>() };
        let (x0, y0, x1, y1) = (c(0)?, c(1)?, c(2)?, c(3)?);
        if !(x0.is_finite() && y0.is_finite() && x1.is_finite() && y1.is_finite())
            || x1 < x0
            || y1 < y0
        {
            return Err(ConfigError::new_err(format!(
                "bad box ({x0}, {y0}, {x1}, {y1}): need finite x0 <= x1, y0 <= y1"
            )));
        }
        let fifth = match n {
            5.. => Some(item.get_item(4)?),
            _ => None,
        };
        let score = fifth
            .filter(|v| v.is_instance_of::<PyFloat>())
            .map_or(Ok(1.0), |v| v.extract::<f32>())?;
        out.push(Detection {
            bbox: BBox::new(x0, y0, x1, y1),
            score,
        });
    }
    Ok(out)
}

/// A JSON value as the matching Python object (dicts, lists, numbers,
/// strings), through the standard `json` module.
pub fn json<'py>(py: Python<'py>, value: &serde_json::Value) -> PyResult<Bound<'py, PyAny>> {
    let text = serde_json::to_string(value)
        .map_err(|e| crate::errors::Error::new_err(format!("report: {e}")))?;
    py.import("json")?.call_method1("loads", (text,))
}

/// A setting spelled as in the CLI (`"noise"`, `"ellipse"`, ...) as the core
/// enum it names (the core's own serde names).
pub fn named<T: serde::de::DeserializeOwned>(what: &str, name: &str, allowed: &str) -> PyResult<T> {
    serde_json::from_value(serde_json::Value::String(name.to_string()))
        .map_err(|_| ConfigError::new_err(format!("{what} must be one of {allowed}, not {name:?}")))
}
