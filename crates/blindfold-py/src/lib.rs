//! Python bindings: the `blindfold._blindfold` extension module of the
//! `blindfold` wheel. Thin glue over the engine: the model store
//! (`blindfold_models`), backend choice and the detector pool
//! (`blindfold_infer::select`), the one-image pipeline, masks and tracking
//! (`blindfold`). Nothing here decides how faces are found or masked.

mod anonymizer;
mod convert;
mod errors;
mod tracker;

use pyo3::prelude::*;

/// The extension module; `blindfold/__init__.py` re-exports it.
#[pymodule]
fn _blindfold(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<anonymizer::Anonymizer>()?;
    m.add_class::<anonymizer::PhotoResult>()?;
    m.add_class::<tracker::Tracker>()?;
    errors::register(m)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
