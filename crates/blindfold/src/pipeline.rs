//! The whole job for one encoded image: decode, detect, mask, re-encode,
//! check. Any failure is an error and no bytes are returned, so a caller can
//! never write a picture that was not anonymised.

use crate::anonymize::{self, Mask, MaskSpec, Mode};
use crate::codec::{self, DecodeOptions, EncodeOptions, Format};
use crate::detect::FaceDetector;
use crate::icc::{self, Sanitized};
use crate::metadata::{self, Found};
use crate::track::{Source, TrackerConfig};
use crate::{Detection, Error, views};
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
    /// Anonymise and write only the first frame of an animation or the
    /// main page of a multi-page TIFF (the rest is counted in
    /// [`Outcome::frames_dropped`]). Off by default: every frame and page.
    pub first_frame: bool,
    /// How a face found in one frame of an animation is held across the
    /// frames around it.
    pub tracking: TrackerConfig,
}

/// One face in the report: the detection and the mask drawn over it.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Face {
    /// Detected box and score.
    #[serde(flatten)]
    pub detection: Detection,
    /// The mask as drawn.
    pub mask: Mask,
    /// The frame or page it is in (from 0), for animations and multi-page
    /// files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frame: Option<u32>,
    /// In an animation: whether the detector found the face in this frame
    /// or tracking held it there from the frames around.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Source>,
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
    /// The input's format.
    pub format: Format,
    /// The output's format: the input's, except HEIF, written as JPEG
    /// ([`Format::written_as`]).
    pub format_out: Format,
    /// Width of the upright image.
    pub width: u32,
    /// Height of the upright image.
    pub height: u32,
    /// The EXIF orientation that was applied.
    pub orientation: u8,
    /// Faces found and masked.
    pub faces: Vec<Face>,
    /// Metadata found in the input. Everything in `identifying()` was
    /// removed; what became of the colour profile is in `icc`.
    pub metadata_in: Found,
    /// What became of the input's colour profile.
    pub icc: IccAction,
    /// Pictures in the input that were not written: with
    /// [`Options::first_frame`], every frame or page but the first; always,
    /// a TIFF's reduced-resolution copies and sub-images and an APNG's
    /// default image outside the animation. 0 for a file without those.
    pub frames_dropped: u32,
    /// Frames or pages written (1 for a still image).
    pub frames: u32,
    /// How an animation plays, as written; `None` for a still image or
    /// pages.
    pub playback: Option<Playback>,
    /// The damage let through by [`DecodeOptions::accept_damaged`], if any.
    pub damaged: Option<String>,
    /// Kinds of metadata found in the input and not written out, as every
    /// front end reports them (`gps`, `exif`, ..., `icc-text` when the
    /// profile lost its text, `icc` when it was not written).
    pub metadata_removed: Vec<&'static str>,
    /// Metadata carried over (only ever `icc`: colour data only, unless
    /// `keep_icc_as_is`).
    pub metadata_kept: Vec<&'static str>,
    /// Time per stage, measured with the clock passed in.
    pub timings: Timings,
    /// For a JPEG written out: which path wrote it.
    pub jpeg: Option<JpegPath>,
    /// Why a JPEG was re-encoded although the lossless path was asked for
    /// (blur or pixelate, arithmetic coding, 12-bit, CMYK, damage, ...).
    pub jpeg_reason: Option<String>,
}

/// How a JPEG output was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JpegPath {
    /// Edited in the DCT domain: every block no mask touches is the
    /// input's, bit for bit ([`codec::dct`]).
    Lossless,
    /// Decoded, masked and encoded again at the set quality.
    Reencoded,
}

/// What became of the input's ICC colour profile.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IccAction {
    /// The input had none.
    None,
    /// Rebuilt from its colour data; it held nothing else.
    Kept,
    /// Rebuilt from its colour data; text, device fields or private tags
    /// were dropped.
    TextRemoved,
    /// Not written: not asked for (`keep_icc` off).
    Removed,
    /// Not written: it does not parse as an RGB ICC profile.
    Unreadable,
    /// Written byte for byte (`keep_icc_as_is`).
    AsIs,
}

/// The profile to write for `input` and what was done to it.
pub fn choose_icc(input: Option<&[u8]>, opts: &EncodeOptions) -> (Option<Vec<u8>>, IccAction) {
    let Some(p) = input else {
        return (None, IccAction::None);
    };
    if !opts.keep_icc {
        return (None, IccAction::Removed);
    }
    if opts.keep_icc_as_is {
        return (Some(p.to_vec()), IccAction::AsIs);
    }
    match icc::sanitize(p) {
        Sanitized::Rebuilt {
            profile,
            removed_text,
        } => {
            let action = if removed_text {
                IccAction::TextRemoved
            } else {
                IccAction::Kept
            };
            (Some(profile), action)
        }
        Sanitized::Dropped(_) => (None, IccAction::Unreadable),
    }
}

/// Anonymise one encoded image. `now_ms` is a clock for the timings (the
/// library has no clock of its own, so it stays wasm-clean); pass `&|| 0.0`
/// when timings do not matter. With `dry_run` nothing is encoded.
///
/// Animations and multi-page TIFFs (unless [`Options::first_frame`]):
/// every frame or page is decoded, searched and masked, and written back
/// with its timing; in an animation a face found in one frame is held
/// across the frames around it ([`Options::tracking`]), as in a video.
/// See [`codec::frames`].
pub fn process(
    input: &[u8],
    detector: &mut dyn FaceDetector,
    opts: &Options,
    dry_run: bool,
    now_ms: &dyn Fn() -> f64,
) -> Result<Outcome, Error> {
    opts.mask.validate()?;
    if !opts.first_frame && codec::frames::is_sequence(input) {
        return frames::process(input, Boxes::Detect(detector), opts, dry_run, now_ms);
    }
    let t0 = now_ms();
    let (decoded, coefs) = codec::decode_with(input, &opts.decode, wants_coefs(opts, dry_run))?;
    let metadata_in = metadata::scan(input, decoded.format);
    let t1 = now_ms();
    // Faces are looked for in everything a viewer can see, alpha included.
    let dets = views::detect_seen(detector, &decoded.image, decoded.alpha.as_ref())?;
    let t2 = now_ms();
    let decoded = Read { decoded, coefs };
    let mut out = finish(input, decoded, dets, metadata_in, opts, dry_run, now_ms)?;
    out.timings.decode_ms = t1 - t0;
    out.timings.detect_ms = t2 - t1;
    Ok(out)
}

/// Anonymise one encoded image with boxes chosen by the caller instead of a
/// detector: the boxes of an earlier [`process`] run, edited by a person
/// (false alarms taken out, missed faces added). Each box grows and is
/// filled exactly as a detection would be, and the output is encoded and
/// checked as in [`process`]. Boxes are in pixels of the upright image. An
/// empty list re-encodes the image without masks (metadata still goes).
/// Boxes are for one picture: a file with more frames or pages fails
/// unless [`Options::first_frame`] is set.
pub fn redact(
    input: &[u8],
    boxes: &[Detection],
    opts: &Options,
    now_ms: &dyn Fn() -> f64,
) -> Result<Outcome, Error> {
    opts.mask.validate()?;
    for d in boxes {
        let b = &d.bbox;
        if ![b.x0, b.y0, b.x1, b.y1].iter().all(|v| v.is_finite()) {
            return Err(Error::Config(
                "a box has a coordinate that is not a number".into(),
            ));
        }
    }
    if !opts.first_frame && codec::frames::is_sequence(input) {
        return frames::process(input, Boxes::Given(boxes), opts, false, now_ms);
    }
    let t0 = now_ms();
    let (decoded, coefs) = codec::decode_with(input, &opts.decode, wants_coefs(opts, false))?;
    let metadata_in = metadata::scan(input, decoded.format);
    let t1 = now_ms();
    let mut out = finish(
        input,
        Read { decoded, coefs },
        boxes.to_vec(),
        metadata_in,
        opts,
        false,
        now_ms,
    )?;
    out.timings.decode_ms = t1 - t0;
    Ok(out)
}

/// Whether to read a JPEG's coefficients while decoding it: when the output
/// will be edited in the DCT domain.
fn wants_coefs(opts: &Options, dry_run: bool) -> bool {
    opts.encode.jpeg_lossless && !dry_run
}

/// An input decoded, with its coefficients when it is a JPEG and they were
/// asked for.
struct Read {
    decoded: codec::Decoded,
    coefs: Option<codec::Coefs>,
}

/// Mask `dets` on a decoded image, encode and check it. A JPEG is first
/// edited in the DCT domain when the options ask for it; what that path
/// cannot carry is masked in pixels and re-encoded, and the outcome says why.
fn finish(
    input: &[u8],
    read: Read,
    dets: Vec<Detection>,
    metadata_in: Found,
    opts: &Options,
    dry_run: bool,
    now_ms: &dyn Fn() -> f64,
) -> Result<Outcome, Error> {
    let Read { decoded, coefs } = read;
    let t2 = now_ms();
    let masks = anonymize::masks_for(&dets, &opts.mask);
    let (icc, icc_action) = choose_icc(decoded.icc.as_deref(), &opts.encode);
    let jpeg = decoded.format == Format::Jpeg && !dry_run;
    let mut jpeg_reason = None;
    let lossless = if !jpeg || !opts.encode.jpeg_lossless {
        None
    } else if let Some(why) = &decoded.damaged {
        jpeg_reason = Some(format!("damaged: {why}"));
        None
    } else {
        // `decoded` is a JPEG that the strict walk found undamaged, and its
        // coefficients were read in that walk where the DCT path carries it.
        let coefs = coefs.unwrap_or_else(|| Err("coefficients not read".into()));
        let edit =
            |c| codec::dct::edit_coefs(input, c, &masks, opts.mode, opts.seed, icc.as_deref());
        match coefs.and_then(edit) {
            Ok(w) => Some(w),
            Err(why) => {
                jpeg_reason = Some(why);
                None
            }
        }
    };
    let mut image = decoded.image;
    let mut alpha = decoded.alpha;
    if lossless.is_none() {
        anonymize::apply(&mut image, &masks, opts.mode, opts.seed);
        if let Some(a) = alpha.as_mut() {
            anonymize::apply_alpha(a, &masks);
        }
    }
    let t3 = now_ms();
    let format_out = decoded.format.written_as();
    let jpeg_path = match (&lossless, jpeg) {
        (Some(_), _) => Some(JpegPath::Lossless),
        (None, true) => Some(JpegPath::Reencoded),
        (None, false) => None,
    };
    let bytes = if let Some(w) = lossless {
        verify_with(
            &w.edited.bytes,
            decoded.format,
            image.dimensions(),
            Some(&w.coefs),
        )?;
        w.edited.bytes
    } else if dry_run {
        Vec::new()
    } else {
        let out = codec::encode(
            &image,
            alpha.as_ref(),
            format_out,
            icc.as_deref(),
            &opts.encode,
        )?;
        verify(&out, format_out, image.dimensions())?;
        out
    };
    let t4 = now_ms();
    let faces = dets
        .into_iter()
        .zip(masks)
        .map(|(detection, mask)| Face {
            detection,
            mask,
            frame: None,
            source: None,
        })
        .collect();
    let (metadata_removed, metadata_kept) = metadata_policy(&metadata_in, icc_action);
    Ok(Outcome {
        metadata_removed,
        metadata_kept,
        bytes,
        format: decoded.format,
        format_out,
        width: image.width(),
        height: image.height(),
        orientation: decoded.orientation,
        faces,
        metadata_in,
        icc: icc_action,
        frames_dropped: decoded.frames.saturating_sub(1),
        frames: 1,
        playback: None,
        damaged: decoded.damaged,
        jpeg: jpeg_path,
        jpeg_reason,
        timings: Timings {
            decode_ms: 0.0,
            detect_ms: 0.0,
            mask_ms: t3 - t2,
            encode_ms: t4 - t3,
        },
    })
}

/// What happens to the metadata `found` in an input: everything identifying
/// is removed; the colour profile is reported by what `icc` says became of
/// it (`icc-text` removed when it lost its text, `icc` removed when it was
/// not written, `icc` kept when it was). Returns the kinds removed and the
/// kinds kept, for the report.
pub fn metadata_policy(found: &Found, icc: IccAction) -> (Vec<&'static str>, Vec<&'static str>) {
    let mut removed = found.identifying();
    let mut kept = Vec::new();
    match icc {
        IccAction::None => {}
        IccAction::Kept | IccAction::AsIs => kept.push("icc"),
        IccAction::TextRemoved => {
            removed.push("icc-text");
            kept.push("icc");
        }
        IccAction::Removed | IccAction::Unreadable => removed.push("icc"),
    }
    (removed, kept)
}

/// Check an encoded output: it must decode to the expected size and carry no
/// identifying metadata.
pub fn verify(out: &[u8], format: Format, dims: (u32, u32)) -> Result<(), Error> {
    verify_with(out, format, dims, None)
}

/// [`verify`]; for a JPEG edited in the DCT domain (`written` holds the
/// coefficients written), the output's coefficients are read in the strict
/// walk of its decode and must be exactly those written.
fn verify_with(
    out: &[u8],
    format: Format,
    dims: (u32, u32),
    written: Option<&codec::dct::Coefs>,
) -> Result<(), Error> {
    let left = metadata::scan(out, format).identifying();
    if !left.is_empty() {
        return Err(Error::Verify(format!(
            "metadata left in output: {}",
            left.join(", ")
        )));
    }
    if codec::sniff(out) != Some(format) {
        return Err(Error::Verify(format!("output is not a {format:?} file")));
    }
    let strict = DecodeOptions {
        max_pixels: u64::MAX,
        accept_damaged: false,
    };
    let (back, coefs) = codec::decode_with(out, &strict, written.is_some())
        .map_err(|e| Error::Verify(format!("output does not decode: {e}")))?;
    if let Some(written) = written {
        let back = coefs.unwrap_or_else(|| Err("not a JPEG".into()));
        back.and_then(|b| codec::dct::same_blocks(written, &b))
            .map_err(|e| Error::Verify(format!("own output does not read back: {e}")))?;
    }
    if back.image.dimensions() != dims {
        return Err(Error::Verify(format!(
            "output is {:?}, expected {:?}",
            back.image.dimensions(),
            dims
        )));
    }
    Ok(())
}

mod frames;
use frames::Boxes;
pub use frames::Playback;

#[cfg(test)]
pub(crate) mod tests;

#[cfg(test)]
mod redact_tests;

#[cfg(test)]
mod frames_tests;
