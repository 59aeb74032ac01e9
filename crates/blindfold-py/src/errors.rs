//! The exception classes and the mapping from the engine's typed errors.

use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;

create_exception!(
    blindfold,
    Error,
    PyException,
    "Base class of every blindfold error. No output exists when one is raised."
);
create_exception!(
    blindfold,
    DecodeError,
    Error,
    "The bytes are not an image blindfold can read, or are corrupt or truncated."
);
create_exception!(
    blindfold,
    TooLargeError,
    DecodeError,
    "The image has more pixels than `max_pixels` (decompression-bomb guard)."
);
create_exception!(
    blindfold,
    UnsupportedError,
    Error,
    "The format is recognised but not supported."
);
create_exception!(
    blindfold,
    ModelError,
    Error,
    "The model could not be found, fetched, checked or loaded."
);
create_exception!(
    blindfold,
    BackendError,
    Error,
    "The inference backend asked for cannot be used (e.g. `ort-cuda` without a GPU build of ONNX Runtime)."
);
create_exception!(
    blindfold,
    InferenceError,
    Error,
    "The backend failed while running the model, or the model's output was malformed."
);
create_exception!(
    blindfold,
    EncodeError,
    Error,
    "Re-encoding the anonymised image failed."
);
create_exception!(
    blindfold,
    VerifyError,
    Error,
    "The check of the produced output failed (metadata left, wrong size, ...)."
);
create_exception!(
    blindfold,
    ConfigError,
    Error,
    "A setting is invalid or out of range."
);

/// Add the exception classes to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("Error", py.get_type::<Error>())?;
    m.add("DecodeError", py.get_type::<DecodeError>())?;
    m.add("TooLargeError", py.get_type::<TooLargeError>())?;
    m.add("UnsupportedError", py.get_type::<UnsupportedError>())?;
    m.add("ModelError", py.get_type::<ModelError>())?;
    m.add("BackendError", py.get_type::<BackendError>())?;
    m.add("InferenceError", py.get_type::<InferenceError>())?;
    m.add("EncodeError", py.get_type::<EncodeError>())?;
    m.add("VerifyError", py.get_type::<VerifyError>())?;
    m.add("ConfigError", py.get_type::<ConfigError>())?;
    Ok(())
}

/// The exception for an error of the core library.
pub fn core(e: blindfold::Error) -> PyErr {
    use blindfold::Error as E;
    let msg = e.to_string();
    match e {
        E::Decode(_) => DecodeError::new_err(msg),
        E::TooLarge { .. } => TooLargeError::new_err(msg),
        E::Unsupported(_) => UnsupportedError::new_err(msg),
        E::Inference(_) | E::BadOutput(_) => InferenceError::new_err(msg),
        E::Encode(_) => EncodeError::new_err(msg),
        E::Verify(_) => VerifyError::new_err(msg),
        E::Config(_) => ConfigError::new_err(msg),
        _ => Error::new_err(msg),
    }
}

/// The exception for a failed backend choice or model load.
pub fn select(e: blindfold_infer::select::SelectError) -> PyErr {
    use blindfold_infer::select::SelectError as E;
    let msg = e.to_string();
    match e {
        E::Model { .. } => ModelError::new_err(msg),
        _ => BackendError::new_err(msg),
    }
}

/// The exception for an engine that could not be made.
pub fn open(e: blindfold_models::OpenError) -> PyErr {
    match e {
        blindfold_models::OpenError::Store(e) => store(e),
        blindfold_models::OpenError::Select(e) => select(e),
        other => BackendError::new_err(other.to_string()),
    }
}

/// The exception for a model-store error (find, fetch, check).
pub fn store(e: blindfold_models::Error) -> PyErr {
    ModelError::new_err(e.to_string())
}
