//! Every frame of an animation (GIF, APNG, animated WebP) and every page of
//! a multi-page TIFF, decoded whole and written back whole.
//!
//! - Frames are decoded as a viewer shows them: each is the full canvas
//!   after the file's disposal and blending, so what is anonymised is the
//!   composited picture, never a patch that leaves earlier pixels to show
//!   through. They are written back the same way: every frame covers the
//!   whole canvas and replaces what was there (GIF: disposal "restore to
//!   background"; APNG: blend "source"; WebP: no blending), so no pixel of
//!   an earlier frame can show through a later one.
//! - Timing is kept: each frame's delay and the file's loop count, in the
//!   format's own units (GIF centiseconds, APNG fractions of a second,
//!   WebP milliseconds). Each format is written back as itself; animated
//!   WebP frames are written lossless.
//! - A TIFF's pages are its directories that are not marked as reduced
//!   copies (thumbnails, pyramid levels) or transparency masks; each page is
//!   decoded upright with its own colour profile and written as a page of
//!   an uncompressed TIFF. The copies are not decoded or written (they are
//!   counted in [`Sequence::skipped`]); a copy larger than every page puts
//!   in doubt which picture is meant, and decoding fails. An APNG's default
//!   image that is not part of the animation is skipped the same way.
//! - The file must decode whole: every frame the header or container
//!   announces, or decoding fails. Before any pixel buffer exists, every
//!   frame and page must be within [`DecodeOptions::max_pixels`], and so
//!   must all of them together (frames x pixels); and there may be at most
//!   [`MAX_FRAMES`] of them.

use super::{DecodeOptions, EncodeOptions, Format, anim, check_limit, check_pixels, pages};
use crate::Error;
use crate::metadata::{Found, gif};
use image::{GrayImage, RgbImage};
use serde::{Deserialize, Serialize};

/// One frame or page, upright.
#[derive(Clone, Debug)]
pub struct Frame {
    /// The pixels, as a viewer sees this frame.
    pub image: RgbImage,
    /// The alpha channel, when the file has one.
    pub alpha: Option<GrayImage>,
    /// The colour profile: a TIFF page's own; an animation's frames carry
    /// none (the file's is in [`Sequence::icc`]).
    pub icc: Option<Vec<u8>>,
    /// How long the frame shows, in milliseconds as numerator and
    /// denominator (`(0, 1)` for a page).
    pub delay: (u32, u32),
}

impl Frame {
    /// The delay in milliseconds.
    pub fn delay_ms(&self) -> f64 {
        f64::from(self.delay.0) / f64::from(self.delay.1.max(1))
    }
}

/// How an animation plays.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Animation {
    /// The file's loop count as stored (0 = forever); `None` when it has
    /// none (a GIF without a NETSCAPE2.0 block plays once).
    pub loop_count: Option<u32>,
}

/// Every frame or page of a file.
#[derive(Clone, Debug)]
pub struct Sequence {
    /// The file's format.
    pub format: Format,
    /// The frames or pages, in order.
    pub frames: Vec<Frame>,
    /// `Some` for an animation (GIF, APNG, animated WebP).
    pub animation: Option<Animation>,
    /// An animation's colour profile.
    pub icc: Option<Vec<u8>>,
    /// The EXIF orientation applied to the pixels (the first page's).
    pub orientation: u8,
    /// Pictures in the file that are neither frames nor pages and were not
    /// decoded: TIFF reduced copies and masks, an APNG default image outside
    /// the animation.
    pub skipped: u32,
}

impl Sequence {
    /// `frames` to write as `format` (an animation when `animation` is
    /// given): no colour profile for the whole sequence, upright, nothing
    /// skipped.
    pub fn new(format: Format, frames: Vec<Frame>, animation: Option<Animation>) -> Sequence {
        Sequence {
            format,
            frames,
            animation,
            icc: None,
            orientation: 1,
            skipped: 0,
        }
    }
}

/// Whether `bytes` is a GIF, an animation, or a TIFF with more than one
/// page: the files [`decode_all`] reads frame by frame.
pub fn is_sequence(bytes: &[u8]) -> bool {
    match super::sniff(bytes) {
        Some(Format::Gif) => true,
        Some(Format::Png) => anim::apng_plan(bytes).is_some(),
        Some(Format::Webp) => anim::webp_animated(bytes),
        Some(Format::Tiff) => pages::pages(bytes).is_ok_and(|p| p.pages.len() > 1),
        _ => false,
    }
}

/// Decode every frame or page of `bytes`; a still image gives one frame.
pub fn decode_all(bytes: &[u8], opts: &DecodeOptions) -> Result<Sequence, Error> {
    let format = super::sniff(bytes);
    if is_sequence(bytes) {
        return match format {
            Some(Format::Gif) => anim::decode_gif(bytes, opts),
            Some(Format::Png) => anim::decode_apng(bytes, opts),
            Some(Format::Webp) => anim::decode_webp(bytes, opts),
            _ => pages::decode(bytes, opts),
        };
    }
    let d = super::decode(bytes, opts)?;
    Ok(Sequence {
        format: d.format,
        frames: vec![Frame {
            image: d.image,
            alpha: d.alpha,
            icc: d.icc,
            delay: (0, 1),
        }],
        animation: None,
        icc: None,
        orientation: d.orientation,
        skipped: d.frames.saturating_sub(1),
    })
}

/// Correct the kinds of metadata a scan found (`kinds`) once every frame
/// and page of `seq` has been read: no `frames` were left out, a TIFF's
/// further pages are pages and not `thumbnail`s, and pictures that are
/// neither (`seq.skipped`) are `thumbnail`s.
pub(crate) fn account_for_frames(kinds: &mut Vec<&'static str>, seq: &Sequence) {
    let pages = seq.format == Format::Tiff && seq.frames.len() > 1;
    kinds.retain(|k| match *k {
        "frames" => false,
        "thumbnail" => seq.skipped > 0 || !pages,
        _ => true,
    });
    if seq.skipped > 0 && !kinds.contains(&"thumbnail") {
        kinds.push("thumbnail");
    }
}

/// Encode `seq` as its format with every frame or page and its timing, and
/// no metadata but the colour profiles given (the sequence's, or each
/// page's). GIF carries no colour profile.
pub fn encode_all(seq: &Sequence, opts: &EncodeOptions) -> Result<Vec<u8>, Error> {
    let Some(first) = seq.frames.first() else {
        return Err(Error::Encode("no frames to write".into()));
    };
    for f in &seq.frames {
        if let Some(a) = &f.alpha
            && a.dimensions() != f.image.dimensions()
        {
            return Err(Error::Encode("a frame's alpha is not its size".into()));
        }
        if seq.animation.is_some() && f.image.dimensions() != first.image.dimensions() {
            return Err(Error::Encode("an animation's frames differ in size".into()));
        }
    }
    let icc = seq.icc.as_deref().filter(|p| !p.is_empty());
    match (seq.format, &seq.animation) {
        (Format::Gif, anim) => anim::encode_gif(&seq.frames, anim.as_ref()),
        (Format::Png, Some(a)) => anim::encode_apng(&seq.frames, a, icc),
        (Format::Webp, Some(a)) => anim::encode_webp(&seq.frames, a, icc),
        (Format::Tiff, None) => pages::encode(&seq.frames),
        (format, _) if seq.frames.len() == 1 => super::encode(
            &first.image,
            first.alpha.as_ref(),
            format,
            first.icc.as_deref(),
            opts,
        ),
        (format, _) => Err(Error::Encode(format!(
            "{format:?} cannot hold {} frames",
            seq.frames.len()
        ))),
    }
}

/// The most frames or pages read from one file: each costs a detector run
/// however small it is (a minute at 60 frames a second is 3,600).
pub const MAX_FRAMES: u32 = 10_000;

/// Refuse `frames` frames of `width` x `height` when one frame, or all of
/// them together, are over the pixel limit, or there are more than
/// [`MAX_FRAMES`].
pub(super) fn check_total(
    width: u32,
    height: u32,
    frames: u32,
    opts: &DecodeOptions,
) -> Result<(), Error> {
    check_frames(frames)?;
    check_pixels(width, height, opts)?;
    let pixels = u64::from(width) * u64::from(height) * u64::from(frames);
    check_limit(width, height, pixels, opts)
}

/// Refuse more than [`MAX_FRAMES`] frames or pages.
pub(super) fn check_frames(frames: u32) -> Result<(), Error> {
    match frames > MAX_FRAMES {
        true => Err(Error::Decode(format!(
            "the file holds {frames} frames or pages, more than the {MAX_FRAMES} blindfold reads"
        ))),
        false => Ok(()),
    }
}

/// A GIF must run whole to its trailer and hold a frame; its canvas and all
/// its frames together must be within the pixel limit. Returns the walk.
pub(super) fn check_gif(bytes: &[u8], opts: &DecodeOptions) -> Result<gif::GifInfo, Error> {
    let info = gif::walk(bytes, &mut Found::default());
    if !info.complete {
        return Err(Error::Decode(
            "GIF is truncated or corrupt: its blocks do not run whole to the trailer".into(),
        ));
    }
    if info.frames == 0 {
        return Err(Error::Decode("GIF holds no frame".into()));
    }
    check_total(info.width.into(), info.height.into(), info.frames, opts)?;
    Ok(info)
}

#[cfg(test)]
pub(crate) mod tests;
