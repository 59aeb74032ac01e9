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
    let mut out = finish(decoded, dets, metadata_in, opts, dry_run, now_ms)?;
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
    let t0 = now_ms();
    let decoded = codec::decode(input, &opts.decode)?;
    let metadata_in = metadata::scan(input, decoded.format);
    let t1 = now_ms();
    let mut out = finish(decoded, boxes.to_vec(), metadata_in, opts, false, now_ms)?;
    out.timings.decode_ms = t1 - t0;
    Ok(out)
}

/// Mask `dets` on a decoded image, encode and check it.
fn finish(
    decoded: codec::Decoded,
    dets: Vec<Detection>,
    metadata_in: Found,
    opts: &Options,
    dry_run: bool,
    now_ms: &dyn Fn() -> f64,
) -> Result<Outcome, Error> {
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
            decode_ms: 0.0,
            detect_ms: 0.0,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BBox;
    use crate::metadata::testdata;
    use image::{Rgb, RgbImage};

    fn photo() -> Vec<u8> {
        let img = RgbImage::from_fn(96, 64, |x, y| Rgb([(x * 2) as u8, (y * 3) as u8, 120]));
        let jpeg =
            codec::encode(&img, None, Format::Jpeg, None, &EncodeOptions::default()).unwrap();
        testdata::jpeg_with(&jpeg, &testdata::identifying_segments())
    }

    fn det(x0: f32, y0: f32, x1: f32, y1: f32) -> Detection {
        Detection {
            bbox: BBox::new(x0, y0, x1, y1),
            score: 1.0,
        }
    }

    fn opts(mode: Mode) -> Options {
        Options {
            mode,
            seed: 7,
            ..Options::default()
        }
    }

    fn decoded(bytes: &[u8]) -> RgbImage {
        codec::decode(bytes, &DecodeOptions::default())
            .unwrap()
            .image
    }

    #[test]
    fn redact_masks_the_given_boxes_only_and_strips_metadata() {
        let input = photo();
        let before = decoded(&input);
        let boxes = [det(10.0, 10.0, 30.0, 30.0), det(60.0, 20.0, 80.0, 50.0)];
        let out = redact(&input, &boxes, &opts(Mode::Solid), &|| 0.0).unwrap();
        assert_eq!((out.width, out.height, out.format), (96, 64, Format::Jpeg));
        assert_eq!(out.faces.len(), 2);
        assert!(out.metadata_in.gps && out.metadata_in.exif && out.metadata_in.comment);
        assert!(
            metadata::scan(&out.bytes, Format::Jpeg)
                .identifying()
                .is_empty()
        );
        let after = decoded(&out.bytes);
        let diff = |x: u32, y: u32| {
            let (a, b) = (before.get_pixel(x, y), after.get_pixel(x, y));
            (0..3).map(|i| a[i].abs_diff(b[i])).max().unwrap()
        };
        // Box centres changed (solid fill is far from the gradient there)...
        assert!(diff(20, 20) > 20 || diff(70, 35) > 20);
        let masks: Vec<Mask> = out.faces.iter().map(|f| f.mask).collect();
        // ...and pixels well outside every mask stay within the re-encode.
        for (x, y) in [(2, 60), (45, 2), (94, 62), (45, 60)] {
            assert!(
                !masks
                    .iter()
                    .any(|m| m.contains(x as f32 + 0.5, y as f32 + 0.5))
            );
            assert!(diff(x, y) < 12, "pixel {x},{y} changed by {}", diff(x, y));
        }
    }

    #[test]
    fn redact_grows_boxes_like_detections() {
        let input = photo();
        let mut o = opts(Mode::Noise);
        o.mask.grow = 0.5;
        let out = redact(&input, &[det(40.0, 20.0, 60.0, 40.0)], &o, &|| 0.0).unwrap();
        assert_eq!(out.faces[0].mask.bbox, BBox::new(30.0, 10.0, 70.0, 50.0));
        assert_eq!(
            out.faces[0].detection.bbox,
            BBox::new(40.0, 20.0, 60.0, 40.0)
        );
    }

    #[test]
    fn redact_with_no_boxes_still_strips_metadata() {
        let out = redact(&photo(), &[], &opts(Mode::Noise), &|| 0.0).unwrap();
        assert!(out.faces.is_empty());
        assert!(
            metadata::scan(&out.bytes, Format::Jpeg)
                .identifying()
                .is_empty()
        );
    }

    #[test]
    fn redact_fails_closed() {
        assert!(redact(b"not a picture", &[], &opts(Mode::Noise), &|| 0.0).is_err());
        let nan = det(f32::NAN, 0.0, 10.0, 10.0);
        assert!(matches!(
            redact(&photo(), &[nan], &opts(Mode::Noise), &|| 0.0),
            Err(Error::Config(_))
        ));
        let mut o = opts(Mode::Noise);
        o.mask.grow = 9.0;
        assert!(matches!(
            redact(&photo(), &[], &o, &|| 0.0),
            Err(Error::Config(_))
        ));
    }
}
