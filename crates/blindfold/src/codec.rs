//! Decoding and re-encoding. Decoding applies the EXIF orientation to the
//! pixels and refuses images over a pixel limit. Encoding writes the same
//! format with no metadata at all, except the ICC colour profile when kept.

use crate::Error;
use image::{GrayImage, RgbImage};
use serde::{Deserialize, Serialize};

/// Image formats read and written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// JPEG.
    Jpeg,
    /// PNG.
    Png,
    /// WebP (written lossless).
    Webp,
    /// TIFF.
    Tiff,
    /// BMP.
    Bmp,
}

/// Limits and choices for decoding.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DecodeOptions {
    /// Refuse images with more pixels than this (decompression-bomb guard).
    pub max_pixels: u64,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        DecodeOptions {
            max_pixels: 100_000_000,
        }
    }
}

/// A decoded, upright image.
#[derive(Clone, Debug)]
pub struct Decoded {
    /// The pixels, EXIF orientation already applied.
    pub image: RgbImage,
    /// The alpha channel, if the input had one.
    pub alpha: Option<GrayImage>,
    /// The input's format.
    pub format: Format,
    /// The embedded ICC profile, if any.
    pub icc: Option<Vec<u8>>,
    /// The EXIF orientation that was applied (1 = none).
    pub orientation: u8,
}

/// Choices for encoding.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EncodeOptions {
    /// JPEG quality 1..=100.
    pub jpeg_quality: u8,
    /// Write the ICC profile back (it describes colours, not people or places).
    pub keep_icc: bool,
}

impl Default for EncodeOptions {
    fn default() -> Self {
        EncodeOptions {
            jpeg_quality: 92,
            keep_icc: true,
        }
    }
}

/// Guess the format from the first bytes.
pub fn sniff(_bytes: &[u8]) -> Option<Format> {
    None
}

/// Decode `bytes`, refusing truncated or corrupt data and images over the limit.
pub fn decode(_bytes: &[u8], _opts: &DecodeOptions) -> Result<Decoded, Error> {
    Err(Error::Unsupported("codec not written yet".into()))
}

/// Encode `image` (and `alpha`, where the format has it) as `format`, with no
/// metadata but the ICC profile when given.
pub fn encode(
    _image: &RgbImage,
    _alpha: Option<&GrayImage>,
    _format: Format,
    _icc: Option<&[u8]>,
    _opts: &EncodeOptions,
) -> Result<Vec<u8>, Error> {
    Err(Error::Unsupported("codec not written yet".into()))
}
