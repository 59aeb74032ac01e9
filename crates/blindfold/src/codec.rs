//! Decoding and re-encoding. Decoding applies the EXIF orientation to the
//! pixels and refuses images over a pixel limit. Encoding writes the same
//! format with no metadata at all, except the ICC colour profile when kept.
//!
//! - Decoding reads the dimensions from the header and refuses images over
//!   [`DecodeOptions::max_pixels`] before any pixel buffer is allocated.
//!   Truncated or corrupt data is an [`Error::Decode`], never a partly grey
//!   picture: JPEG is decoded in strict mode, must end in an EOI marker, and
//!   its entropy-coded data is walked in full (every block of every scan,
//!   restart markers in sequence, nothing missing or left over) unless
//!   [`DecodeOptions::accept_damaged`] is set.
//! - Animated PNG and WebP: only the first frame is decoded. TIFF: only the
//!   main page, the first not marked as a reduced-resolution copy, which
//!   must be the largest (else an [`Error::Decode`] says why; see
//!   `codec/tiff.rs`). [`Decoded::frames`] says how many there were.
//! - JPEG: the EXIF orientation is the first EXIF block's, as viewers read
//!   it, when a file has more than one.
//! - 16-bit images become 8-bit, grey images become RGB, and alpha is kept
//!   apart in [`Decoded::alpha`].
//! - HEIC/HEIF and AVIF (feature `heif`, libheif): the one top-level image,
//!   upright as libheif applies the file's transforms; a file with several
//!   top-level images fails. HEIC is written as JPEG (no free HEVC
//!   encoder), AVIF as AVIF; [`Format::written_as`] says which.
//! - JPEG is written baseline with 4:2:0 chroma subsampling; WebP is written
//!   lossless; PNG, TIFF (uncompressed) and BMP as they come. The output
//!   holds no EXIF (its pixels are already upright), XMP, IPTC, text or
//!   thumbnails; only the ICC profile when given.

mod anim;
pub mod dct;
mod entropy;
pub mod frames;
mod generic;
#[cfg(feature = "heif")]
mod heif;
mod jpeg;
mod pages;
mod tiff;

use crate::Error;
use image::{DynamicImage, GrayImage, RgbImage};
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
    /// GIF (every frame; see [`frames`]).
    Gif,
    /// HEIC or another HEIF file that is not AVIF (read with the `heif`
    /// feature; written as JPEG).
    Heif,
    /// AVIF (read and written with the `heif` feature).
    Avif,
}

impl Format {
    /// The format an anonymised image of this format is written in: the
    /// same, except HEIF (HEVC has no free encoder), which becomes JPEG.
    pub fn written_as(self) -> Format {
        match self {
            Format::Heif => Format::Jpeg,
            f => f,
        }
    }
}

/// Limits and choices for decoding.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DecodeOptions {
    /// Refuse images with more pixels than this (decompression-bomb guard).
    pub max_pixels: u64,
    /// Decode damaged JPEG entropy data (bad Huffman codes, data cut short,
    /// restart markers out of order) instead of refusing it. The damage is
    /// then reported in [`Decoded::damaged`]. Off by default.
    pub accept_damaged: bool,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        DecodeOptions {
            max_pixels: 100_000_000,
            accept_damaged: false,
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
    /// Frames (animation) or pages (TIFF, reduced copies included) in the
    /// input; only one is decoded and written (the first frame, the main
    /// page).
    pub frames: u32,
    /// What was wrong with the data, when it was damaged and
    /// [`DecodeOptions::accept_damaged`] let it through.
    pub damaged: Option<String>,
}

/// Choices for encoding.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EncodeOptions {
    /// JPEG quality 1..=100.
    pub jpeg_quality: u8,
    /// Write a colour profile: the input's, rebuilt from its colour data
    /// only (see [`crate::icc`]).
    pub keep_icc: bool,
    /// With `keep_icc`, write the input's profile byte for byte instead,
    /// text, device fields and private tags included. Off by default.
    pub keep_icc_as_is: bool,
    /// JPEG to JPEG with `noise` or `solid`: edit the coefficients
    /// ([`dct`]) so every block no mask touches stays bit for bit, instead
    /// of re-encoding the pixels at `jpeg_quality`. On by default; what the
    /// DCT path cannot carry is re-encoded all the same.
    pub jpeg_lossless: bool,
}

impl Default for EncodeOptions {
    fn default() -> Self {
        EncodeOptions {
            jpeg_quality: 92,
            keep_icc: true,
            keep_icc_as_is: false,
            jpeg_lossless: true,
        }
    }
}

/// Guess the format from the first bytes.
pub fn sniff(bytes: &[u8]) -> Option<Format> {
    let b = bytes;
    if b.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(Format::Jpeg)
    } else if b.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        Some(Format::Png)
    } else if b.len() >= 12 && &b[..4] == b"RIFF" && &b[8..12] == b"WEBP" {
        Some(Format::Webp)
    } else if b.starts_with(b"II*\0")
        || b.starts_with(b"MM\0*")
        || b.starts_with(b"II+\0")
        || b.starts_with(b"MM\0+")
    {
        Some(Format::Tiff)
    } else if b.starts_with(b"GIF87a") || b.starts_with(b"GIF89a") {
        Some(Format::Gif)
    } else if b.starts_with(b"BM") && b.len() >= 26 {
        Some(Format::Bmp)
    } else {
        sniff_heif(b)
    }
}

/// HEIF or AVIF from the brands of an ISOBMFF `ftyp` box; `None` for other
/// ISOBMFF files (MP4, QuickTime video).
fn sniff_heif(b: &[u8]) -> Option<Format> {
    if b.len() < 16 || &b[4..8] != b"ftyp" {
        return None;
    }
    let size = u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize;
    let end = size.clamp(16, b.len());
    let major = &b[8..12];
    let compatible = b[16..end].chunks_exact(4);
    const AVIF: [&[u8]; 2] = [b"avif", b"avis"];
    const HEIF: [&[u8]; 8] = [
        b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs",
    ];
    const GENERIC: [&[u8]; 3] = [b"mif1", b"msf1", b"miaf"];
    if AVIF.contains(&major) {
        Some(Format::Avif)
    } else if HEIF.contains(&major) {
        Some(Format::Heif)
    } else if GENERIC.contains(&major) {
        let brands: Vec<&[u8]> = compatible.collect();
        if brands.iter().any(|c| AVIF.contains(c)) {
            Some(Format::Avif)
        } else {
            Some(Format::Heif)
        }
    } else {
        None
    }
}

/// Decode `bytes`, refusing truncated or corrupt data and images over the limit.
pub fn decode(bytes: &[u8], opts: &DecodeOptions) -> Result<Decoded, Error> {
    decode_with(bytes, opts, false).map(|(d, _)| d)
}

/// A JPEG's quantised coefficients, or why the DCT-domain path cannot read
/// them.
pub(crate) type Coefs = Result<dct::Coefs, String>;

/// [`decode`]; with `coefs`, a JPEG's coefficients too, read in the strict
/// walk that checks the file (`None` for other formats and without
/// `coefs`).
pub(crate) fn decode_with(
    bytes: &[u8],
    opts: &DecodeOptions,
    coefs: bool,
) -> Result<(Decoded, Option<Coefs>), Error> {
    let format = sniff(bytes).ok_or_else(|| {
        Error::Decode(
            "not a JPEG, PNG, WebP, TIFF, BMP, GIF, HEIC/HEIF or AVIF file (unknown signature)"
                .into(),
        )
    })?;
    let raw = match format {
        Format::Jpeg => jpeg::decode(bytes, opts, coefs)?,
        Format::Heif | Format::Avif => decode_heif(bytes, opts)?,
        _ => generic::decode(bytes, format, opts)?,
    };
    let (image, alpha) = split_alpha(raw.image);
    let decoded = Decoded {
        image,
        alpha,
        format,
        icc: raw.icc.filter(|p| !p.is_empty()),
        orientation: raw.orientation,
        frames: crate::metadata::frames(bytes, format),
        damaged: raw.damaged,
    };
    Ok((decoded, raw.coefs))
}

/// Encode `image` (and `alpha`, where the format has it) as `format`, with no
/// metadata but the ICC profile when given.
pub fn encode(
    image: &RgbImage,
    alpha: Option<&GrayImage>,
    format: Format,
    icc: Option<&[u8]>,
    opts: &EncodeOptions,
) -> Result<Vec<u8>, Error> {
    if let Some(a) = alpha
        && a.dimensions() != image.dimensions()
    {
        return Err(Error::Encode(format!(
            "alpha is {:?} but the image is {:?}",
            a.dimensions(),
            image.dimensions()
        )));
    }
    let icc = icc.filter(|p| !p.is_empty());
    match format {
        Format::Jpeg => jpeg::encode(image, icc, opts),
        Format::Avif => encode_avif(image, alpha, icc, opts),
        Format::Heif => Err(Error::Unsupported(
            "HEIC is not written (no free HEVC encoder); it is written as JPEG".into(),
        )),
        _ => generic::encode(image, alpha, format, icc),
    }
}

#[cfg(feature = "heif")]
fn decode_heif(bytes: &[u8], opts: &DecodeOptions) -> Result<Raw, Error> {
    heif::decode(bytes, opts)
}

#[cfg(not(feature = "heif"))]
fn decode_heif(_: &[u8], _: &DecodeOptions) -> Result<Raw, Error> {
    Err(Error::Unsupported(NO_HEIF.into()))
}

#[cfg(feature = "heif")]
fn encode_avif(
    image: &RgbImage,
    alpha: Option<&GrayImage>,
    icc: Option<&[u8]>,
    opts: &EncodeOptions,
) -> Result<Vec<u8>, Error> {
    heif::encode_avif(image, alpha, icc, opts.jpeg_quality)
}

#[cfg(not(feature = "heif"))]
fn encode_avif(
    _: &RgbImage,
    _: Option<&GrayImage>,
    _: Option<&[u8]>,
    _: &EncodeOptions,
) -> Result<Vec<u8>, Error> {
    Err(Error::Unsupported(NO_HEIF.into()))
}

/// Why a build without the `heif` feature refuses HEIF and AVIF.
#[cfg(not(feature = "heif"))]
const NO_HEIF: &str = "HEIC/HEIF and AVIF need a build with the `heif` feature (libheif); \
                       this build cannot read or write them";

/// What a format decoder hands back before alpha is split off.
struct Raw {
    image: DynamicImage,
    icc: Option<Vec<u8>>,
    orientation: u8,
    damaged: Option<String>,
    coefs: Option<Coefs>,
}

/// A decoder's error, as blindfold's.
fn decode_err(e: impl std::fmt::Display) -> Error {
    Error::Decode(e.to_string())
}

/// An encoder's error, as blindfold's.
fn encode_err(e: impl std::fmt::Display) -> Error {
    Error::Encode(e.to_string())
}

/// Refuse `pixels` (of pictures `width` x `height`) when over the limit.
fn check_limit(width: u32, height: u32, pixels: u64, opts: &DecodeOptions) -> Result<(), Error> {
    match pixels > opts.max_pixels {
        true => Err(Error::TooLarge {
            width,
            height,
            pixels,
            limit: opts.max_pixels,
        }),
        false => Ok(()),
    }
}

/// Refuse `width` x `height` when it is over the limit.
fn check_pixels(width: u32, height: u32, opts: &DecodeOptions) -> Result<(), Error> {
    let pixels = u64::from(width) * u64::from(height);
    check_limit(width, height, pixels, opts)?;
    if pixels == 0 {
        return Err(Error::Decode(format!("image is {width}x{height}")));
    }
    Ok(())
}

/// Bytes a decoder may allocate: room for the largest pixel layout (16-bit
/// RGBA, 8 bytes a pixel) of an image at the limit, plus working space.
fn alloc_budget(opts: &DecodeOptions) -> u64 {
    opts.max_pixels.saturating_mul(8).saturating_add(64 << 20)
}

/// `image`'s pixels interleaved with `alpha` (8-bit RGBA); opaque where no
/// alpha is given.
fn rgba(image: &RgbImage, alpha: Option<&GrayImage>) -> Vec<u8> {
    let mut out = Vec::with_capacity(image.as_raw().len() / 3 * 4);
    for (i, px) in image.as_raw().chunks_exact(3).enumerate() {
        out.extend_from_slice(px);
        out.push(alpha.map_or(255, |a| a.as_raw()[i]));
    }
    out
}

/// Turn any decoded image into 8-bit RGB and, if it has one, an alpha plane.
fn split_alpha(image: DynamicImage) -> (RgbImage, Option<GrayImage>) {
    if !image.color().has_alpha() {
        return (image.into_rgb8(), None);
    }
    let rgba = image.into_rgba8();
    let (w, h) = rgba.dimensions();
    let mut rgb = Vec::with_capacity(w as usize * h as usize * 3);
    let mut alpha = Vec::with_capacity(w as usize * h as usize);
    for px in rgba.as_raw().chunks_exact(4) {
        rgb.extend_from_slice(&px[..3]);
        alpha.push(px[3]);
    }
    let rgb = RgbImage::from_raw(w, h, rgb).expect("buffer sized for the image");
    let alpha = GrayImage::from_raw(w, h, alpha).expect("buffer sized for the image");
    (rgb, Some(alpha))
}

/// Apply an EXIF orientation (1..=8; anything else is left alone) to `image`.
fn orient(image: &mut DynamicImage, orientation: u8) {
    if let Some(o) = image::metadata::Orientation::from_exif(orientation) {
        image.apply_orientation(o);
    }
}

#[cfg(test)]
mod tests;

#[cfg(all(test, feature = "heif"))]
mod heif_tests;
