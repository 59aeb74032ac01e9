//! The whole job for one encoded image: decode, detect, mask, re-encode,
//! check. Any failure is an error and no bytes are returned, so a caller can
//! never write a picture that was not anonymised.

use crate::anonymize::{self, Mask, MaskSpec, Mode};
use crate::codec::{self, DecodeOptions, EncodeOptions, Format};
use crate::detect::FaceDetector;
use crate::metadata::{self, Found};
use crate::{Detection, Error};
use serde::{Deserialize, Serialize};

/// Everything that shapes the result for one image.
#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    /// Decoding limits.
    pub decode: DecodeOptions,
    /// Mask shape and growth.
    pub mask: MaskSpec,
    /// The fill.
    pub mode: Mode,
    /// Output encoding.
    pub encode: EncodeOptions,
    /// Seed for the noise fill; use a fresh random value per image.
    pub seed: u64,
}

/// One face in the report: the detection and the mask drawn over it.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Face {
    /// Detected box and score.
    #[serde(flatten)]
    pub detection: Detection,
    /// The mask as drawn.
    pub mask: Mask,
}

/// Milliseconds spent in each stage.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Timings {
    /// Decoding.
    pub decode_ms: f64,
    /// Face detection.
    pub detect_ms: f64,
    /// Masking.
    pub mask_ms: f64,
    /// Encoding and the output check.
    pub encode_ms: f64,
}

/// What one image turned into.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// The anonymised, re-encoded image. Empty for a dry run.
    pub bytes: Vec<u8>,
    /// Its format (the input's).
    pub format: Format,
    /// Width of the upright image.
    pub width: u32,
    /// Height of the upright image.
    pub height: u32,
    /// The EXIF orientation that was applied.
    pub orientation: u8,
    /// Faces found and masked.
    pub faces: Vec<Face>,
    /// Metadata found in the input. Everything in `identifying()` was removed;
    /// `icc` was kept when `encode.keep_icc` is set.
    pub metadata_in: Found,
    /// Kinds of metadata found in the input and not written out, as every
    /// front end reports them (`gps`, `exif`, ..., and `icc` when dropped).
    pub metadata_removed: Vec<&'static str>,
    /// Metadata carried over (only ever `icc`).
    pub metadata_kept: Vec<&'static str>,
    /// Time per stage, measured with the clock passed in.
    pub timings: Timings,
}

/// Anonymise one encoded image. `now_ms` is a clock for the timings (the
/// library has no clock of its own, so it stays wasm-clean); pass `&|| 0.0`
/// when timings do not matter. With `dry_run` nothing is encoded.
pub fn process(
    input: &[u8],
    detector: &mut dyn FaceDetector,
    opts: &Options,
    dry_run: bool,
    now_ms: &dyn Fn() -> f64,
) -> Result<Outcome, Error> {
    opts.mask.validate()?;
    let t0 = now_ms();
    let decoded = codec::decode(input, &opts.decode)?;
    let metadata_in = metadata::scan(input, decoded.format);
    let t1 = now_ms();
    let dets = detector.detect(&decoded.image)?;
    let t2 = now_ms();
    let masks = anonymize::masks_for(&dets, &opts.mask);
    let mut image = decoded.image;
    anonymize::apply(&mut image, &masks, opts.mode, opts.seed);
    let t3 = now_ms();
    let bytes = if dry_run {
        Vec::new()
    } else {
        let icc = decoded.icc.as_deref().filter(|_| opts.encode.keep_icc);
        let out = codec::encode(
            &image,
            decoded.alpha.as_ref(),
            decoded.format,
            icc,
            &opts.encode,
        )?;
        verify(&out, decoded.format, image.dimensions())?;
        out
    };
    let t4 = now_ms();
    let faces = dets
        .into_iter()
        .zip(masks)
        .map(|(detection, mask)| Face { detection, mask })
        .collect();
    let (metadata_removed, metadata_kept) = metadata_policy(&metadata_in, opts.encode.keep_icc);
    Ok(Outcome {
        metadata_removed,
        metadata_kept,
        bytes,
        format: decoded.format,
        width: image.width(),
        height: image.height(),
        orientation: decoded.orientation,
        faces,
        metadata_in,
        timings: Timings {
            decode_ms: t1 - t0,
            detect_ms: t2 - t1,
            mask_ms: t3 - t2,
            encode_ms: t4 - t3,
        },
    })
}

/// What happens to the metadata `found` in an input: everything identifying
/// is removed, and the ICC colour profile is kept when `keep_icc` is set.
/// Returns the kinds removed and the kinds kept, for the report.
pub fn metadata_policy(found: &Found, keep_icc: bool) -> (Vec<&'static str>, Vec<&'static str>) {
    let mut removed = found.identifying();
    let mut kept = Vec::new();
    if found.icc {
        if keep_icc {
            kept.push("icc");
        } else {
            removed.push("icc");
        }
    }
    (removed, kept)
}

/// Check an encoded output: it must decode to the expected size and carry no
/// identifying metadata.
pub fn verify(out: &[u8], format: Format, dims: (u32, u32)) -> Result<(), Error> {
    let left = metadata::scan(out, format).identifying();
    if !left.is_empty() {
        return Err(Error::Verify(format!(
            "metadata left in output: {}",
            left.join(", ")
        )));
    }
    let back = codec::decode(
        out,
        &DecodeOptions {
            max_pixels: u64::MAX,
        },
    )
    .map_err(|e| Error::Verify(format!("output does not decode: {e}")))?;
    if back.image.dimensions() != dims {
        return Err(Error::Verify(format!(
            "output is {:?}, expected {:?}",
            back.image.dimensions(),
            dims
        )));
    }
    Ok(())
}
