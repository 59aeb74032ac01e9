//! The whole job for a GIF, an animation or a multi-page TIFF: every frame
//! or page is decoded, searched, masked and written back, and the output is
//! checked frame by frame. In an animation, faces go through the video
//! path's tracker ([`crate::track`]), so a face found in one frame is held
//! across the frames around it; every raw detection is masked as well,
//! whatever the tracker makes of it. Pages are separate pictures and are not
//! tracked.

use super::{Face, IccAction, Options, Outcome, Timings, choose_icc, metadata_policy};
use crate::anonymize;
use crate::codec::frames::{self, Sequence};
use crate::codec::{DecodeOptions, Format};
use crate::detect::FaceDetector;
use crate::metadata::{self, Found};
use crate::track::{Source, Tracker, TrackerConfig};
use crate::{Detection, Error, views};
use serde::{Deserialize, Serialize};

/// How an animation plays, as written.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Playback {
    /// The loop count as stored (0 = forever); `None` when the file has
    /// none (a GIF without a NETSCAPE2.0 block plays once).
    pub loop_count: Option<u32>,
    /// Each frame's delay in milliseconds, in order.
    pub delays_ms: Vec<f64>,
    /// Frames with a mask that tracking, not the detector, put there.
    pub frames_filled_by_tracking: u32,
}

/// Where a sequence's boxes come from.
pub(super) enum Boxes<'a> {
    /// The detector, on every frame.
    Detect(&'a mut dyn FaceDetector),
    /// The caller (one picture only).
    Given(&'a [Detection]),
}

/// One box to mask in one frame.
type Found1 = (Detection, Option<Source>);

/// Anonymise every frame or page of `input`.
pub(super) fn process(
    input: &[u8],
    boxes: Boxes<'_>,
    opts: &Options,
    dry_run: bool,
    now_ms: &dyn Fn() -> f64,
) -> Result<Outcome, Error> {
    let t0 = now_ms();
    let mut seq = frames::decode_all(input, &opts.decode)?;
    let metadata_in = metadata::scan(input, seq.format);
    let t1 = now_ms();
    let per_frame: Vec<Vec<Found1>> = match boxes {
        Boxes::Given(given) => {
            if seq.frames.len() > 1 {
                return Err(Error::Config(format!(
                    "boxes are for one picture but the file holds {} frames or pages; ask for \
                     the first frame only, or let the detector look at every frame",
                    seq.frames.len()
                )));
            }
            vec![given.iter().map(|d| (*d, None)).collect()]
        }
        Boxes::Detect(detector) => {
            let mut raw = Vec::with_capacity(seq.frames.len());
            for f in &seq.frames {
                raw.push(views::detect_seen(detector, &f.image, f.alpha.as_ref())?);
            }
            match seq.animation.is_some() && raw.len() > 1 {
                true => track(&raw, opts.tracking),
                false => raw
                    .into_iter()
                    .map(|d| d.into_iter().map(|d| (d, None)).collect())
                    .collect(),
            }
        }
    };
    let t2 = now_ms();
    let many = seq.frames.len() > 1;
    let mut faces = Vec::new();
    for (i, (f, found)) in seq.frames.iter_mut().zip(&per_frame).enumerate() {
        let dets: Vec<Detection> = found.iter().map(|(d, _)| *d).collect();
        let masks = anonymize::masks_for(&dets, &opts.mask);
        let seed = opts.seed ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        anonymize::apply(&mut f.image, &masks, opts.mode, seed);
        if let Some(a) = f.alpha.as_mut() {
            anonymize::apply_alpha(a, &masks);
        }
        let frame = many.then_some(i as u32);
        faces.extend(found.iter().zip(masks).map(|((d, source), mask)| Face {
            detection: *d,
            mask,
            frame,
            source: *source,
        }));
    }
    let t3 = now_ms();
    let icc_action = set_icc(&mut seq, &metadata_in, opts);
    let bytes = match dry_run {
        true => Vec::new(),
        false => {
            let out = frames::encode_all(&seq, &opts.encode)?;
            verify(&out, &seq)?;
            out
        }
    };
    let t4 = now_ms();
    let (mut metadata_removed, metadata_kept) = metadata_policy(&metadata_in, icc_action);
    // Every frame and page is written; only pictures skipped are removed.
    frames::account_for_frames(&mut metadata_removed, &seq);
    let first = &seq.frames[0];
    let filled = per_frame
        .iter()
        .filter(|f| f.iter().any(|(_, s)| s.is_some_and(Source::is_filled)))
        .count() as u32;
    Ok(Outcome {
        bytes,
        format: seq.format,
        format_out: seq.format.written_as(),
        width: first.image.width(),
        height: first.image.height(),
        orientation: seq.orientation,
        faces,
        metadata_in,
        icc: icc_action,
        frames_dropped: seq.skipped,
        frames: seq.frames.len() as u32,
        playback: seq.animation.map(|a| Playback {
            loop_count: a.loop_count,
            delays_ms: seq.frames.iter().map(|f| f.delay_ms()).collect(),
            frames_filled_by_tracking: filled,
        }),
        damaged: None,
        jpeg: None,
        jpeg_reason: None,
        metadata_removed,
        metadata_kept,
        timings: Timings {
            decode_ms: t1 - t0,
            detect_ms: t2 - t1,
            mask_ms: t3 - t2,
            encode_ms: t4 - t3,
        },
    })
}

/// Each frame's boxes: the tracker's (detected, interpolated, held or
/// backfilled), plus any raw detection no tracked box covers. Boxes that
/// tracking put there have score 0.
fn track(raw: &[Vec<Detection>], cfg: TrackerConfig) -> Vec<Vec<Found1>> {
    let mut tracker = Tracker::new(cfg);
    let mut emitted = Vec::with_capacity(raw.len());
    for dets in raw {
        emitted.extend(tracker.push(dets));
    }
    emitted.extend(tracker.finish());
    debug_assert_eq!(emitted.len(), raw.len());
    emitted
        .iter()
        .zip(raw)
        .map(|(fb, dets)| {
            let mut out: Vec<Found1> = fb
                .boxes
                .iter()
                .map(|b| {
                    let score = match b.source {
                        Source::Detected => dets
                            .iter()
                            .filter(|d| covers(&b.bbox, &d.bbox))
                            .map(|d| d.score)
                            .fold(0.0, f32::max),
                        _ => 0.0,
                    };
                    (
                        Detection {
                            bbox: b.bbox,
                            score,
                        },
                        Some(b.source),
                    )
                })
                .collect();
            for d in dets {
                if !fb.boxes.iter().any(|b| covers(&b.bbox, &d.bbox)) {
                    out.push((*d, Some(Source::Detected)));
                }
            }
            out
        })
        .collect()
}

/// Whether box `a` holds box `b` (to half a pixel).
fn covers(a: &crate::BBox, b: &crate::BBox) -> bool {
    a.x0 <= b.x0 + 0.5 && a.y0 <= b.y0 + 0.5 && a.x1 >= b.x1 - 0.5 && a.y1 >= b.y1 - 0.5
}

/// Choose the colour profiles to write (the animation's, or each page's)
/// and say what became of the input's.
fn set_icc(seq: &mut Sequence, found: &Found, opts: &Options) -> IccAction {
    if seq.format == Format::Gif {
        // GIF output carries no profile.
        seq.icc = None;
        return match found.icc {
            true => IccAction::Removed,
            false => IccAction::None,
        };
    }
    if seq.animation.is_some() {
        let (icc, action) = choose_icc(seq.icc.as_deref(), &opts.encode);
        seq.icc = icc;
        return action;
    }
    let mut action = IccAction::None;
    for f in &mut seq.frames {
        let (icc, a) = choose_icc(f.icc.as_deref(), &opts.encode);
        f.icc = icc;
        if action == IccAction::None {
            action = a;
        }
    }
    action
}

/// Check an encoded sequence: it decodes to as many frames or pages of the
/// same sizes, holds no other picture, and carries no identifying metadata.
fn verify(out: &[u8], seq: &Sequence) -> Result<(), Error> {
    let strict = DecodeOptions {
        max_pixels: u64::MAX,
        accept_damaged: false,
    };
    let back = frames::decode_all(out, &strict)
        .map_err(|e| Error::Verify(format!("output does not decode: {e}")))?;
    if back.frames.len() != seq.frames.len() || back.skipped != 0 {
        return Err(Error::Verify(format!(
            "output holds {} frames and {} other pictures, expected {} frames",
            back.frames.len(),
            back.skipped,
            seq.frames.len()
        )));
    }
    for (i, (a, b)) in back.frames.iter().zip(&seq.frames).enumerate() {
        if a.image.dimensions() != b.image.dimensions() {
            return Err(Error::Verify(format!(
                "output frame {} is {:?}, expected {:?}",
                i + 1,
                a.image.dimensions(),
                b.image.dimensions()
            )));
        }
    }
    // Its frames and pages are the ones just checked.
    let mut left = metadata::scan(out, seq.format).identifying();
    left.retain(|k| *k != "frames" && !(*k == "thumbnail" && seq.format == Format::Tiff));
    if !left.is_empty() {
        return Err(Error::Verify(format!(
            "metadata left in output: {}",
            left.join(", ")
        )));
    }
    Ok(())
}
