//! JPEG: strict decoding with zune-jpeg, encoding with jpeg-encoder.

use super::entropy;
use super::{
    DecodeOptions, EncodeOptions, Raw, alloc_budget, check_pixels, decode_err, encode_err, orient,
};
use crate::Error;
use crate::metadata::jpeg::{Walk, walk};
use image::metadata::Orientation;
use image::{DynamicImage, RgbImage};
use jpeg_encoder::{ChromaSubsamplingMethod, ColorType, Encoder, SamplingFactor};
use zune_core::bytestream::ZCursor;
use zune_core::colorspace::ColorSpace;
use zune_core::options::DecoderOptions;
use zune_jpeg::JpegDecoder;

/// Decode a JPEG. Damage is caught before any pixel is decoded:
/// [`entropy::check`] walks every scan the way `djpeg -strict` reads it
/// (bad codes, data cut short, even when an EOI marker was appended after the
/// cut, restart markers out of sequence, extraneous bytes), and the marker
/// walk must reach an EOI marker after the last scan. zune-jpeg then runs in
/// strict mode. With [`DecodeOptions::accept_damaged`] the damage is
/// recorded instead, and zune-jpeg decodes what it can, as browsers do.
///
/// With `coefs`, the quantised coefficients are read in that same walk
/// where the DCT reader carries the file (it refuses all the strict walk
/// refuses, see [`super::dct::read`]); where it does not, `Raw::coefs` says
/// why and the strict walk runs as without.
pub(super) fn decode(bytes: &[u8], opts: &DecodeOptions, coefs: bool) -> Result<Raw, Error> {
    let options = DecoderOptions::default()
        .set_strict_mode(true)
        .set_max_width(usize::MAX)
        .set_max_height(usize::MAX)
        .jpeg_set_out_colorspace(ColorSpace::RGB);
    let mut dec = JpegDecoder::new_with_options(ZCursor::new(bytes), options);
    dec.decode_headers().map_err(decode_err)?;
    let (w, h) = dec
        .dimensions()
        .ok_or_else(|| Error::Decode("JPEG has no frame header".into()))?;
    let (w, h) = (w as u32, h as u32);
    check_pixels(w, h, opts)?;
    // After the size check: the walk of a progressive file keeps a few
    // bytes per block.
    let coefs = coefs.then(|| super::dct::read(bytes));
    let damaged = match coefs {
        Some(Ok(_)) => None,
        _ => match entropy::check(bytes) {
            Ok(()) => None,
            Err(why) if opts.accept_damaged => Some(why),
            Err(why) => {
                return Err(Error::Decode(format!("JPEG is damaged: {why}")));
            }
        },
    };
    let walked = walk(bytes);
    if damaged.is_none() && (walked.end.is_none() || walked.scans == 0) {
        return Err(Error::Decode(
            "JPEG is truncated or corrupt: no end-of-image marker after the scan data".into(),
        ));
    }
    let size = dec
        .output_buffer_size()
        .ok_or_else(|| Error::Decode("JPEG has no frame header".into()))?;
    if size as u64 > alloc_budget(opts) {
        return Err(Error::Decode(format!(
            "JPEG needs {size} bytes to decode, over the memory budget"
        )));
    }
    let mut pixels = vec![0u8; size];
    dec.decode_into(&mut pixels).map_err(decode_err)?;
    if dec.output_colorspace() != Some(ColorSpace::RGB) {
        return Err(Error::Decode(format!(
            "JPEG colour space {:?} cannot be converted to RGB",
            dec.output_colorspace()
        )));
    }
    let icc = dec.icc_profile();
    let orientation = first_exif(&walked)
        .and_then(Orientation::from_exif_chunk)
        .map_or(1, Orientation::to_exif);
    let rgb = RgbImage::from_raw(w, h, pixels)
        .ok_or_else(|| Error::Decode("JPEG decoder returned a short buffer".into()))?;
    let mut image = DynamicImage::ImageRgb8(rgb);
    orient(&mut image, orientation);
    Ok(Raw {
        image,
        icc,
        orientation,
        damaged,
        coefs,
    })
}

/// The TIFF data of the first APP1 EXIF block. zune-jpeg keeps the last
/// one; viewers (browsers, Pillow, exiftool) read the first, so a file with
/// two that disagree would come out turned from what the user saw.
pub(super) fn first_exif<'a>(walked: &Walk<'a>) -> Option<&'a [u8]> {
    walked
        .segments
        .iter()
        .find(|s| s.marker == 0xE1 && s.data.starts_with(b"Exif\0"))
        .and_then(|s| s.data.get(6..))
}

/// Encode baseline JPEG, 4:2:0 chroma subsampling (nearest sample: about 15%
/// faster than averaging, with no visible difference on photos), standard
/// Huffman tables; a JFIF header and, when given, the ICC profile in APP2
/// segments. The quality is clamped to 1..=100.
pub(super) fn encode(
    image: &RgbImage,
    icc: Option<&[u8]>,
    opts: &EncodeOptions,
) -> Result<Vec<u8>, Error> {
    let (w, h) = image.dimensions();
    let (Ok(w16), Ok(h16)) = (u16::try_from(w), u16::try_from(h)) else {
        return Err(Error::Encode(format!(
            "{w}x{h} is larger than JPEG allows (65535x65535)"
        )));
    };
    let quality = opts.jpeg_quality.clamp(1, 100);
    let mut out = Vec::with_capacity(image.as_raw().len() / 8);
    let mut enc = Encoder::new(&mut out, quality);
    enc.set_sampling_factor(SamplingFactor::F_2_2);
    enc.set_chroma_subsampling_method(ChromaSubsamplingMethod::Nearest);
    if let Some(icc) = icc {
        enc.add_icc_profile(icc).map_err(encode_err)?;
    }
    enc.encode(image.as_raw(), w16, h16, ColorType::Rgb)
        .map_err(encode_err)?;
    Ok(out)
}
