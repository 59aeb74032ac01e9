//! PNG, WebP, TIFF, BMP and a GIF's first frame through the `image` crate's codecs.

use super::{DecodeOptions, Format, Raw, alloc_budget, check_pixels, decode_err, orient};
use crate::Error;
use image::codecs::bmp::BmpEncoder;
use image::codecs::png::PngEncoder;
use image::codecs::tiff::{TiffDecoder, TiffEncoder};
use image::codecs::webp::WebPEncoder;
use image::{
    DynamicImage, ExtendedColorType, GrayImage, ImageDecoder, ImageEncoder, ImageFormat,
    ImageReader, Limits, RgbImage,
};
use std::io::Cursor;

fn image_format(format: Format) -> ImageFormat {
    match format {
        Format::Jpeg => ImageFormat::Jpeg,
        Format::Png => ImageFormat::Png,
        Format::Webp => ImageFormat::WebP,
        Format::Tiff => ImageFormat::Tiff,
        Format::Bmp => ImageFormat::Bmp,
        Format::Gif => ImageFormat::Gif,
        // Never reached: HEIF and AVIF go through libheif (`codec/heif.rs`).
        Format::Heif | Format::Avif => ImageFormat::Avif,
    }
}

/// Decode with the header read first: the pixel limit is checked before the
/// pixel buffer exists, and the decoder's own allocations are capped.
pub(super) fn decode(bytes: &[u8], format: Format, opts: &DecodeOptions) -> Result<Raw, Error> {
    if format == Format::Png && !crate::metadata::png::ends_cleanly(bytes) {
        return Err(Error::Decode(
            "PNG is truncated or corrupt: no complete IEND chunk".into(),
        ));
    }
    if format == Format::Webp && !crate::metadata::riff::ends_cleanly(bytes) {
        return Err(Error::Decode(
            "WebP is truncated or corrupt: a chunk runs past the end of the file".into(),
        ));
    }
    if format == Format::Gif {
        super::frames::check_gif(bytes, opts)?;
    }
    let mut limits = Limits::default();
    limits.max_alloc = Some(alloc_budget(opts));
    if format == Format::Tiff {
        // The TIFF decoder reads tags under the tiff crate's own limits until
        // it is given ours; with ours, image 0.25.10 loses the ICC profile
        // (its tag read is held to the pixel buffer's size).
        let main = super::tiff::main_page(bytes)?;
        let bytes = main.as_deref().unwrap_or(bytes);
        let dec = TiffDecoder::new(Cursor::new(bytes)).map_err(decode_err)?;
        return finish(dec, limits, opts);
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), image_format(format));
    reader.limits(limits.clone());
    let dec = reader.into_decoder().map_err(decode_err)?;
    finish(dec, limits, opts)
}

/// Decode the first directory of a TIFF (a page the header was made to
/// point at), as it is: no choice of main page.
pub(super) fn decode_tiff_page(bytes: &[u8], opts: &DecodeOptions) -> Result<Raw, Error> {
    let mut limits = Limits::default();
    limits.max_alloc = Some(alloc_budget(opts));
    let dec = TiffDecoder::new(Cursor::new(bytes)).map_err(decode_err)?;
    finish(dec, limits, opts)
}

/// Check the size, read orientation and profile, then decode the pixels.
fn finish(mut dec: impl ImageDecoder, limits: Limits, opts: &DecodeOptions) -> Result<Raw, Error> {
    let budget = alloc_budget(opts);
    let (w, h) = dec.dimensions();
    check_pixels(w, h, opts)?;
    if dec.total_bytes() > budget {
        return Err(Error::Decode(format!(
            "image needs {} bytes to decode, over the memory budget",
            dec.total_bytes()
        )));
    }
    let orientation = dec.orientation().map_err(decode_err)?.to_exif();
    let icc = dec.icc_profile().map_err(decode_err)?;
    dec.set_limits(limits).map_err(decode_err)?;
    let mut image = DynamicImage::from_decoder(dec).map_err(decode_err)?;
    orient(&mut image, orientation);
    Ok(Raw {
        image,
        icc,
        orientation,
        damaged: None,
        coefs: None,
    })
}

/// Encode with the `image` crate: PNG (fast deflate, adaptive filters),
/// lossless WebP, uncompressed TIFF, BMP. Alpha is written where given.
pub(super) fn encode(
    image: &RgbImage,
    alpha: Option<&GrayImage>,
    format: Format,
    icc: Option<&[u8]>,
) -> Result<Vec<u8>, Error> {
    let (w, h) = image.dimensions();
    let rgba;
    let (buf, color): (&[u8], _) = match alpha {
        Some(a) => {
            rgba = super::rgba(image, Some(a));
            (&rgba, ExtendedColorType::Rgba8)
        }
        None => (image.as_raw(), ExtendedColorType::Rgb8),
    };
    let mut out = Vec::new();
    let icc = icc.map(<[u8]>::to_vec);
    let result = match format {
        Format::Png => write(PngEncoder::new(&mut out), icc, buf, w, h, color),
        Format::Webp => write(WebPEncoder::new_lossless(&mut out), icc, buf, w, h, color),
        Format::Tiff => {
            let mut cursor = Cursor::new(&mut out);
            write(TiffEncoder::new(&mut cursor), icc, buf, w, h, color)
        }
        Format::Bmp => {
            // BMP has no ICC support in the `image` encoder; the profile is dropped.
            BmpEncoder::new(&mut out).write_image(buf, w, h, color)
        }
        Format::Gif => {
            let frame = super::frames::Frame {
                image: image.clone(),
                alpha: alpha.cloned(),
                icc: None,
                delay: (0, 1),
            };
            return super::anim::encode_gif(&[frame], None);
        }
        Format::Jpeg => {
            return Err(Error::Encode("JPEG is not written by this path".into()));
        }
        Format::Heif | Format::Avif => {
            return Err(Error::Encode(format!(
                "{format:?} is not written by this path"
            )));
        }
    };
    result.map_err(super::encode_err)?;
    Ok(out)
}

fn write<E: ImageEncoder>(
    mut enc: E,
    icc: Option<Vec<u8>>,
    buf: &[u8],
    w: u32,
    h: u32,
    color: ExtendedColorType,
) -> image::ImageResult<()> {
    if let Some(icc) = icc {
        enc.set_icc_profile(icc)
            .map_err(image::ImageError::Unsupported)?;
    }
    enc.write_image(buf, w, h, color)
}
