//! blindfold: find every face in a picture and remove it irreversibly.
//!
//! This crate is the core. It does no file or network I/O, never prints, and
//! builds for `wasm32-unknown-unknown`. It holds:
//!
//! - [`geom`]: boxes and detections.
//! - [`detect`]: the [`detect::Backend`] trait that runs the CenterFace network,
//!   the [`detect::FaceDetector`] trait, and [`detect::CenterFace`], which turns
//!   raw network outputs into face boxes over several scales and tiles.
//! - [`anonymize`]: mask shapes and the fills (`noise`, `solid`, `blur`, `pixelate`).
//! - [`codec`]: decoding (with EXIF orientation and a pixel limit) and
//!   re-encoding in the input's format, keeping only the ICC profile.
//! - [`metadata`]: what identifying metadata an encoded file carries.
//! - [`icc`]: colour profiles rebuilt from their colour data only.
//! - [`views`]: what a viewer can see of an image with alpha; detection on all of it.
//! - [`pipeline`]: the whole job for one encoded image, failing closed, and
//!   the metadata policy every front end reports.
//! - [`report`]: the report of one photo, the same in every front end.
//! - [`track`]: face tracks across the frames of a video (pure logic).
//! - [`audit`]: checking an anonymised image for faces and metadata left behind.
//!
//! blindfold never infers identity, ethnicity, gender, age or emotion, and
//! never compares faces. It finds faces only to remove them.

pub mod anonymize;
pub mod audit;
pub mod codec;
pub mod detect;
pub mod error;
pub mod geom;
pub mod icc;
pub mod metadata;
pub mod pipeline;
pub mod report;
#[cfg(any(test, feature = "test-util"))]
pub mod testing;
pub mod track;
pub mod views;

pub use error::Error;
pub use geom::{BBox, Detection};
pub use image;
