//! From where the model and runtime come from to a ready
//! [`Engine`](blindfold_infer::select::Engine): the one path every front end
//! (CLI, service, Python) takes, so they find files, derive the int8 graph
//! and choose the backend and precision the same way.

use std::path::PathBuf;

use blindfold_infer::select::{Choice, Engine, PrecisionChoice, Request, SelectError};

use crate::store::{int8_model_or_reason, model_path, ort_lib_or_reason};

/// Where the model and the runtime come from, and what to run them on.
#[derive(Clone, Debug, Default)]
pub struct EngineSource {
    /// The model file (`--model`); else `$BLINDFOLD_MODEL`, else the cache.
    pub model: Option<PathBuf>,
    /// The ONNX Runtime library (`--ort-lib`); else the environment, else
    /// the cache.
    pub ort_lib: Option<PathBuf>,
    /// Never download (`--offline`).
    pub offline: bool,
    /// The backend (`--backend`).
    pub choice: Choice,
    /// The precision (`--precision`).
    pub precision: PrecisionChoice,
}

/// Why no engine could be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    /// The model could not be found, fetched or checked.
    #[error(transparent)]
    Store(#[from] crate::Error),
    /// The backend or precision asked for cannot be used.
    #[error(transparent)]
    Select(#[from] SelectError),
}

/// Find the model (and ONNX Runtime, unless rten was asked for), derive the
/// int8 graph if it may run, and choose the backend and precision; each
/// detector runs on `threads` threads unless told otherwise.
pub fn open_engine(
    src: &EngineSource,
    threads: usize,
    progress: &dyn Fn(&str),
) -> Result<Engine, OpenError> {
    let model = model_path(src.model.as_deref(), !src.offline, progress)?;
    let ort_lib = match src.choice {
        Choice::Rten => Err("rten was asked for".to_string()),
        _ => ort_lib_or_reason(src.ort_lib.as_deref(), !src.offline, progress),
    };
    let int8_model = || int8_model_or_reason(&model, progress);
    Ok(Engine::new(Request {
        model: &model,
        int8_model: &int8_model,
        ort_lib,
        choice: src.choice,
        precision: src.precision,
        threads,
    })?)
}
