//! Inference backends for blindfold and CenterFace model preparation.
//!
//! - [`onnx`]: turns the CenterFace file as shipped into one any runtime can
//!   run at any size (pure byte rewriting, no runtime needed), and checks it.
//! - `ort_backend` (feature `ort`): ONNX Runtime, loaded at run time from a
//!   `libonnxruntime` the caller names. The fast path.
//! - `rten_backend` (feature `rten`): pure Rust, no native library.
//! - `select` (native only): choosing the backend (`auto`: ONNX Runtime, else
//!   rten with the reason) and a pool of detectors shared by worker threads.

#[cfg(any(feature = "ort", feature = "rten"))]
mod check;
pub mod onnx;
#[cfg(feature = "ort")]
pub mod ort_backend;
#[cfg(feature = "rten")]
pub mod rten_backend;
#[cfg(not(target_arch = "wasm32"))]
pub mod select;
