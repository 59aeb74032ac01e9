//! CenterFace decoding over scales and tiles.

use super::{Backend, DetectConfig, FaceDetector};
use crate::{Detection, Error};
use image::RgbImage;

/// The CenterFace detection procedure on top of a [`Backend`].
pub struct CenterFace<B: Backend> {
    backend: B,
    config: DetectConfig,
}

impl<B: Backend> CenterFace<B> {
    /// A detector with the given settings.
    pub fn new(backend: B, config: DetectConfig) -> Result<Self, Error> {
        config.validate()?;
        Ok(CenterFace { backend, config })
    }

    /// The settings in use.
    pub fn config(&self) -> &DetectConfig {
        &self.config
    }
}

impl<B: Backend> FaceDetector for CenterFace<B> {
    fn backend_name(&self) -> &str {
        self.backend.name()
    }

    fn detect(&mut self, _image: &RgbImage) -> Result<Vec<Detection>, Error> {
        Err(Error::Inference("not written yet".into()))
    }
}
