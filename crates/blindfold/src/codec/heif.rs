//! HEIC/HEIF and AVIF through the system libheif (feature `heif`).
//!
//! Decoding takes the file's one top-level image (a file with several, such
//! as a burst, fails), checks its size against the pixel limit before any
//! pixel buffer exists, and lets libheif apply the geometric transforms
//! (`irot`, `imir`, `clap`) as viewers do. EXIF orientation inside a HEIF
//! file is not applied: the transforms are authoritative there. Thumbnails,
//! depth maps and other auxiliary images and every metadata item are never
//! decoded. AVIF is written with libheif's AV1 encoder (libaom) in 4:4:4,
//! lossless AV1 at quality 100 (the RGB to YCbCr conversion still rounds);
//! HEIC is never written (see
//! [`super::Format::written_as`]).

use super::{DecodeOptions, Raw, check_pixels};
use crate::Error;
use image::{DynamicImage, GrayImage, RgbImage, RgbaImage};
use libheif_rs::{
    Channel, ColorProfile, ColorProfileRaw, ColorSpace, CompressionFormat, EncoderParameterValue,
    EncoderQuality, HeifContext, Image, LibHeif, RgbChroma, color_profile_types,
};

fn decode_err(e: libheif_rs::HeifError) -> Error {
    Error::Decode(format!("HEIF: {e}"))
}

fn encode_err(e: libheif_rs::HeifError) -> Error {
    Error::Encode(format!("AVIF: {e}"))
}

/// Decode the one top-level image of a HEIF or AVIF file.
pub(super) fn decode(bytes: &[u8], opts: &DecodeOptions) -> Result<Raw, Error> {
    let lib = LibHeif::new();
    let ctx = HeifContext::read_from_bytes(bytes).map_err(decode_err)?;
    let images = ctx.number_of_top_level_images();
    if images != 1 {
        return Err(Error::Decode(format!(
            "the file holds {images} top-level images (a burst or collection); \
             blindfold writes one picture per file and will not pick one of them"
        )));
    }
    let handle = ctx.primary_image_handle().map_err(decode_err)?;
    // The coded size (before a crop) and the size shown are both checked.
    let coded = (
        u32::try_from(handle.ispe_width()).unwrap_or(u32::MAX),
        u32::try_from(handle.ispe_height()).unwrap_or(u32::MAX),
    );
    if coded.0 > 0 && coded.1 > 0 {
        check_pixels(coded.0, coded.1, opts)?;
    }
    let (w, h) = (handle.width(), handle.height());
    check_pixels(w, h, opts)?;
    // What a grid or overlay says it makes, which libheif follows.
    if let Some((dw, dh)) = crate::metadata::heif::largest_size(bytes) {
        check_pixels(dw, dh, opts)?;
    }
    let has_alpha = handle.has_alpha_channel();
    let chroma = if has_alpha {
        RgbChroma::Rgba
    } else {
        RgbChroma::Rgb
    };
    let icc = handle
        .color_profile_raw()
        .filter(|p| {
            let t = p.profile_type();
            t == color_profile_types::PROF || t == color_profile_types::R_ICC
        })
        .map(|p| p.data);
    let decoded = lib
        .decode(&handle, ColorSpace::Rgb(chroma), None)
        .map_err(decode_err)?;
    let image = to_dynamic(&decoded, has_alpha)?;
    // And what was decoded, whatever was declared.
    check_pixels(image.width(), image.height(), opts)?;
    Ok(Raw {
        image,
        icc,
        orientation: 1,
        damaged: None,
        coefs: None,
    })
}

/// Copy libheif's interleaved 8-bit plane (rows may be padded) into an image.
fn to_dynamic(decoded: &Image, has_alpha: bool) -> Result<DynamicImage, Error> {
    let planes = decoded.planes();
    let plane = planes
        .interleaved
        .ok_or_else(|| Error::Decode("HEIF: the decoder returned no RGB plane".into()))?;
    let channels = if has_alpha { 4 } else { 3 };
    let (w, h) = (plane.width as usize, plane.height as usize);
    if plane.storage_bits_per_pixel as usize != 8 * channels {
        return Err(Error::Decode(format!(
            "HEIF: the decoder returned {} bits a pixel, expected {}",
            plane.storage_bits_per_pixel,
            8 * channels
        )));
    }
    let row = w * channels;
    if plane.stride < row || plane.data.len() < plane.stride * h.saturating_sub(1) + row {
        return Err(Error::Decode(
            "HEIF: the decoded plane is smaller than its size".into(),
        ));
    }
    let mut buf = Vec::with_capacity(row * h);
    for y in 0..h {
        buf.extend_from_slice(&plane.data[y * plane.stride..y * plane.stride + row]);
    }
    let short = || Error::Decode("HEIF: the decoded plane does not match its size".into());
    Ok(if has_alpha {
        DynamicImage::ImageRgba8(
            RgbaImage::from_raw(plane.width, plane.height, buf).ok_or_else(short)?,
        )
    } else {
        DynamicImage::ImageRgb8(
            RgbImage::from_raw(plane.width, plane.height, buf).ok_or_else(short)?,
        )
    })
}

/// `image` (with `alpha`, if given) as an 8-bit interleaved libheif image.
pub(super) fn libheif_image(image: &RgbImage, alpha: Option<&GrayImage>) -> Result<Image, Error> {
    let (w, h) = image.dimensions();
    let joined;
    let (pixels, chroma, channels): (&[u8], _, usize) = match alpha {
        Some(_) => {
            joined = super::rgba(image, alpha);
            (&joined, RgbChroma::Rgba, 4)
        }
        None => (image.as_raw(), RgbChroma::Rgb, 3),
    };
    let mut out = Image::new(w, h, ColorSpace::Rgb(chroma)).map_err(encode_err)?;
    out.create_plane(Channel::Interleaved, w, h, 8)
        .map_err(encode_err)?;
    {
        let planes = out.planes_mut();
        let plane = planes
            .interleaved
            .ok_or_else(|| Error::Encode("AVIF: libheif made no RGB plane".into()))?;
        let row = w as usize * channels;
        for (dst, src) in plane
            .data
            .chunks_mut(plane.stride)
            .zip(pixels.chunks_exact(row))
        {
            dst[..row].copy_from_slice(src);
        }
    }
    Ok(out)
}

/// Encode as AVIF with libheif's AV1 encoder in 4:4:4: lossless AV1 at
/// `quality` 100, lossy at that quality below. No metadata item is written; the colour
/// profile only when given.
pub(super) fn encode_avif(
    image: &RgbImage,
    alpha: Option<&GrayImage>,
    icc: Option<&[u8]>,
    quality: u8,
) -> Result<Vec<u8>, Error> {
    let lib = LibHeif::new();
    let mut out = libheif_image(image, alpha)?;
    if let Some(p) = icc {
        out.set_color_profile_raw(&ColorProfileRaw::new(color_profile_types::PROF, p.to_vec()))
            .map_err(encode_err)?;
    }
    let mut encoder = lib
        .encoder_for_format(CompressionFormat::Av1)
        .map_err(encode_err)?;
    let q = if quality >= 100 {
        EncoderQuality::LossLess
    } else {
        EncoderQuality::Lossy(quality)
    };
    encoder.set_quality(q).map_err(encode_err)?;
    // Full-resolution colour: a mask's edge and a lossless output stay exact.
    encoder
        .set_parameter_value("chroma", EncoderParameterValue::String("444".into()))
        .map_err(encode_err)?;
    // The alpha losslessly: blindfold makes it 255 under every mask, and a
    // lossy alpha plane would let a little of what lies behind show through.
    if alpha.is_some() {
        encoder
            .set_parameter_value("lossless-alpha", EncoderParameterValue::Bool(true))
            .map_err(encode_err)?;
    }
    let mut ctx = HeifContext::new().map_err(encode_err)?;
    ctx.encode_image(&out, &mut encoder, None)
        .map_err(encode_err)?;
    ctx.write_to_bytes().map_err(encode_err)
}
