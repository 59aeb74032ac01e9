//! Animations in and out: GIF, APNG and animated WebP (see `frames.rs`).

use super::frames::{Animation, Frame, Sequence, check_gif, check_total};
use super::{
    DecodeOptions, Format, alloc_budget, decode_err, encode_err, orient, rgba, split_alpha,
};
use crate::Error;
use image::codecs::gif::GifDecoder;
use image::codecs::png::PngDecoder;
use image::codecs::webp::{WebPDecoder, WebPEncoder};
use image::{
    AnimationDecoder, DynamicImage, ExtendedColorType, ImageDecoder, ImageEncoder, Limits,
};
use std::io::Cursor;

fn limits(opts: &DecodeOptions) -> Limits {
    let mut limits = Limits::default();
    limits.max_alloc = Some(alloc_budget(opts));
    limits
}

/// A GIF: every frame composited on the canvas.
pub(super) fn decode_gif(bytes: &[u8], opts: &DecodeOptions) -> Result<Sequence, Error> {
    let info = check_gif(bytes, opts)?;
    let mut dec = GifDecoder::new(Cursor::new(bytes)).map_err(decode_err)?;
    let (w, h) = dec.dimensions();
    check_total(w, h, info.frames, opts)?;
    dec.set_limits(limits(opts)).map_err(decode_err)?;
    let frames = collect(dec.into_frames(), info.frames, 1)?;
    Ok(Sequence {
        format: Format::Gif,
        frames,
        animation: Some(Animation {
            loop_count: info.loop_count.map(u32::from),
        }),
        icc: None,
        orientation: 1,
        skipped: 0,
    })
}

/// What an APNG's chunks announce, read before decoding.
pub(super) struct ApngPlan {
    /// Frames in the animation (`acTL`).
    frames: u32,
    /// Times it plays (0 = forever).
    plays: u32,
    /// `fcTL` chunks: one per frame.
    controls: u32,
    /// The default image (IDAT) is the first frame.
    default_is_frame: bool,
}

/// The animation an APNG announces (`acTL` before the first `IDAT`), or
/// `None` for a still PNG.
pub(super) fn apng_plan(bytes: &[u8]) -> Option<ApngPlan> {
    let mut rest = bytes.get(8..)?;
    let mut plan: Option<ApngPlan> = None;
    let mut seen_idat = false;
    while let Some(head) = rest.get(..8) {
        let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
        let data = rest.get(8..8usize.saturating_add(len)).unwrap_or_default();
        match &head[4..8] {
            b"acTL" if !seen_idat && data.len() == 8 => {
                plan = Some(ApngPlan {
                    frames: u32::from_be_bytes([data[0], data[1], data[2], data[3]]),
                    plays: u32::from_be_bytes([data[4], data[5], data[6], data[7]]),
                    controls: 0,
                    default_is_frame: false,
                });
            }
            b"fcTL" => {
                if let Some(p) = plan.as_mut() {
                    p.controls = p.controls.saturating_add(1);
                    p.default_is_frame |= !seen_idat;
                }
            }
            b"IDAT" => seen_idat = true,
            b"IEND" => break,
            _ => {}
        }
        rest = rest.get(12usize.saturating_add(len)..).unwrap_or_default();
    }
    plan
}

/// An APNG: every frame composited on the canvas.
pub(super) fn decode_apng(bytes: &[u8], opts: &DecodeOptions) -> Result<Sequence, Error> {
    if !crate::metadata::png::ends_cleanly(bytes) {
        return Err(Error::Decode(
            "PNG is truncated or corrupt: no complete IEND chunk".into(),
        ));
    }
    let plan = apng_plan(bytes).ok_or_else(|| Error::Decode("not an APNG".into()))?;
    if plan.frames == 0 || plan.frames != plan.controls {
        return Err(Error::Decode(format!(
            "APNG announces {} frames but holds {} frame controls",
            plan.frames, plan.controls
        )));
    }
    let mut dec = PngDecoder::with_limits(Cursor::new(bytes), limits(opts)).map_err(decode_err)?;
    let (w, h) = dec.dimensions();
    check_total(w, h, plan.frames + u32::from(!plan.default_is_frame), opts)?;
    let orientation = dec.orientation().map_err(decode_err)?.to_exif();
    let icc = dec.icc_profile().map_err(decode_err)?;
    let frames = collect(
        dec.apng().map_err(decode_err)?.into_frames(),
        plan.frames,
        orientation,
    )?;
    Ok(Sequence {
        format: Format::Png,
        frames,
        animation: Some(Animation {
            loop_count: Some(plan.plays),
        }),
        icc,
        orientation,
        skipped: u32::from(!plan.default_is_frame),
    })
}

/// Whether a WebP is animated: it has `ANMF` frames, or its `VP8X` header
/// says so.
pub(super) fn webp_animated(bytes: &[u8]) -> bool {
    let vp8x_says = bytes.get(12..16) == Some(b"VP8X") && bytes.get(20).is_some_and(|f| f & 2 != 0);
    vp8x_says || crate::metadata::riff::frames(bytes) > 0
}

/// An animated WebP: every frame composited on the canvas.
pub(super) fn decode_webp(bytes: &[u8], opts: &DecodeOptions) -> Result<Sequence, Error> {
    if !crate::metadata::riff::ends_cleanly(bytes) {
        return Err(Error::Decode(
            "WebP is truncated or corrupt: a chunk runs past the end of the file".into(),
        ));
    }
    let n = crate::metadata::riff::frames(bytes);
    if n == 0 {
        return Err(Error::Decode("animated WebP holds no frame".into()));
    }
    let mut dec = WebPDecoder::new(Cursor::new(bytes)).map_err(decode_err)?;
    let (w, h) = dec.dimensions();
    check_total(w, h, n, opts)?;
    if !dec.has_animation() {
        return Err(Error::Decode(
            "WebP has animation frames but is not marked animated".into(),
        ));
    }
    // Viewers show the canvas transparent where no frame has drawn.
    dec.set_background_color(image::Rgba([0, 0, 0, 0]))
        .map_err(decode_err)?;
    let orientation = dec.orientation().map_err(decode_err)?.to_exif();
    let icc = dec.icc_profile().map_err(decode_err)?;
    dec.set_limits(limits(opts)).map_err(decode_err)?;
    let loop_count = match dec.loop_count() {
        image::metadata::LoopCount::Infinite => 0,
        image::metadata::LoopCount::Finite(n) => n.get(),
    };
    let frames = collect(dec.into_frames(), n, orientation)?;
    Ok(Sequence {
        format: Format::Webp,
        frames,
        animation: Some(Animation {
            loop_count: Some(loop_count),
        }),
        icc,
        orientation,
        skipped: 0,
    })
}

/// Exactly `expected` composited frames, upright; an alpha plane only when
/// some frame is not opaque everywhere.
fn collect(frames: image::Frames<'_>, expected: u32, orientation: u8) -> Result<Vec<Frame>, Error> {
    let mut out = Vec::with_capacity(expected as usize);
    for f in frames.take(expected as usize + 1) {
        let f = f.map_err(decode_err)?;
        if out.len() == expected as usize {
            return Err(Error::Decode(format!(
                "the file holds more frames than the {expected} it announces"
            )));
        }
        let delay = f.delay().numer_denom_ms();
        let mut image = DynamicImage::ImageRgba8(f.into_buffer());
        orient(&mut image, orientation);
        let (image, alpha) = split_alpha(image);
        out.push(Frame {
            image,
            alpha,
            icc: None,
            delay,
        });
    }
    if out.len() != expected as usize {
        return Err(Error::Decode(format!(
            "decoded {} of the {expected} frames the file announces: it is truncated or corrupt",
            out.len()
        )));
    }
    let opaque = |f: &Frame| f.alpha.as_ref().is_none_or(|a| a.iter().all(|&v| v == 255));
    if out.iter().all(opaque) {
        for f in &mut out {
            f.alpha = None;
        }
    }
    Ok(out)
}

/// RGBA bytes of a frame (opaque where it has no alpha).
/// GIF: each frame the whole canvas, cleared to the background after it
/// shows, so no earlier frame shows through; delays in centiseconds. GIF
/// has no colour profile.
pub(super) fn encode_gif(frames: &[Frame], anim: Option<&Animation>) -> Result<Vec<u8>, Error> {
    let ((w, h), _) = canvas(frames)?;
    let (Ok(w16), Ok(h16)) = (u16::try_from(w), u16::try_from(h)) else {
        return Err(Error::Encode(format!("GIF cannot hold a {w}x{h} picture")));
    };
    let mut out = Vec::new();
    {
        let mut enc = gif::Encoder::new(&mut out, w16, h16, &[]).map_err(encode_err)?;
        match anim.and_then(|a| a.loop_count) {
            None => {}
            Some(0) => enc.set_repeat(gif::Repeat::Infinite).map_err(encode_err)?,
            Some(n) => enc
                .set_repeat(gif::Repeat::Finite(n.min(65535) as u16))
                .map_err(encode_err)?,
        }
        for f in frames {
            let mut px = rgba(&f.image, f.alpha.as_ref());
            let mut frame = gif::Frame::from_rgba_speed(w16, h16, &mut px, 10);
            let cs = (f.delay_ms() / 10.0).round();
            frame.delay = cs.clamp(0.0, 65535.0) as u16;
            frame.dispose = gif::DisposalMethod::Background;
            enc.write_frame(&frame).map_err(encode_err)?;
        }
    }
    Ok(out)
}

/// An APNG delay (seconds as a fraction of two 16-bit numbers) for a delay
/// in milliseconds `(numer, denom)`: exact when the input was an APNG.
fn apng_delay((numer, denom): (u32, u32)) -> (u16, u16) {
    let denom = denom.max(1);
    if numer % 1000 == 0
        && let (Ok(n), Ok(d)) = (u16::try_from(numer / 1000), u16::try_from(denom))
    {
        return (n, d);
    }
    let ms = (f64::from(numer) / f64::from(denom)).round();
    (ms.clamp(0.0, 65535.0) as u16, 1000)
}

/// An animation's canvas (its first frame's size) and whether any frame
/// has alpha.
fn canvas(frames: &[Frame]) -> Result<((u32, u32), bool), Error> {
    let first = frames
        .first()
        .ok_or_else(|| Error::Encode("no frames".into()))?;
    let has_alpha = frames.iter().any(|f| f.alpha.is_some());
    Ok((first.image.dimensions(), has_alpha))
}

/// APNG: the default image is the first frame; each frame covers the whole
/// canvas and replaces it (blend "source").
pub(super) fn encode_apng(
    frames: &[Frame],
    anim: &Animation,
    icc: Option<&[u8]>,
) -> Result<Vec<u8>, Error> {
    let ((w, h), has_alpha) = canvas(frames)?;
    let mut info = png::Info::with_size(w, h);
    info.color_type = match has_alpha {
        true => png::ColorType::Rgba,
        false => png::ColorType::Rgb,
    };
    info.bit_depth = png::BitDepth::Eight;
    info.icc_profile = icc.map(|p| std::borrow::Cow::Owned(p.to_vec()));
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::with_info(&mut out, info).map_err(encode_err)?;
        enc.set_animated(frames.len() as u32, anim.loop_count.unwrap_or(0))
            .map_err(encode_err)?;
        enc.set_compression(png::Compression::Fast);
        enc.set_blend_op(png::BlendOp::Source).map_err(encode_err)?;
        enc.set_dispose_op(png::DisposeOp::None)
            .map_err(encode_err)?;
        let mut writer = enc.write_header().map_err(encode_err)?;
        for f in frames {
            let (n, d) = apng_delay(f.delay);
            writer.set_frame_delay(n, d).map_err(encode_err)?;
            let data = match has_alpha {
                true => rgba(&f.image, f.alpha.as_ref()),
                false => f.image.as_raw().clone(),
            };
            writer.write_image_data(&data).map_err(encode_err)?;
        }
        writer.finish().map_err(encode_err)?;
    }
    Ok(out)
}

/// Animated WebP: each frame a lossless picture covering the whole canvas,
/// not blended with what was there.
pub(super) fn encode_webp(
    frames: &[Frame],
    anim: &Animation,
    icc: Option<&[u8]>,
) -> Result<Vec<u8>, Error> {
    let ((w, h), has_alpha) = canvas(frames)?;
    if w == 0 || h == 0 || w > 1 << 24 || h > 1 << 24 {
        return Err(Error::Encode(format!("WebP cannot hold a {w}x{h} canvas")));
    }
    let mut body = Vec::new();
    let mut flags = 0x02u8; // animation
    if has_alpha {
        flags |= 0x10;
    }
    if icc.is_some() {
        flags |= 0x20;
    }
    let mut vp8x = vec![flags, 0, 0, 0];
    vp8x.extend_from_slice(&u24(w - 1));
    vp8x.extend_from_slice(&u24(h - 1));
    chunk(&mut body, b"VP8X", &vp8x);
    if let Some(p) = icc {
        chunk(&mut body, b"ICCP", p);
    }
    let loops = anim.loop_count.unwrap_or(0).min(65535) as u16;
    let mut anim_data = vec![0, 0, 0, 0];
    anim_data.extend_from_slice(&loops.to_le_bytes());
    chunk(&mut body, b"ANIM", &anim_data);
    for f in frames {
        let still = still_webp(f)?;
        let bitstream = vp8l_chunk(&still)?;
        let ms = f.delay_ms().round().clamp(0.0, f64::from((1u32 << 24) - 1)) as u32;
        let mut anmf = Vec::with_capacity(16 + bitstream.len());
        anmf.extend_from_slice(&[0; 6]); // x, y
        anmf.extend_from_slice(&u24(w - 1));
        anmf.extend_from_slice(&u24(h - 1));
        anmf.extend_from_slice(&u24(ms));
        anmf.push(0x02); // do not blend; do not dispose
        anmf.extend_from_slice(bitstream);
        chunk(&mut body, b"ANMF", &anmf);
    }
    let size = u32::try_from(body.len() + 4).map_err(|_| encode_err("WebP over 4 GiB"))?;
    let mut out = Vec::with_capacity(body.len() + 12);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&size.to_le_bytes());
    out.extend_from_slice(b"WEBP");
    out.extend_from_slice(&body);
    Ok(out)
}

/// One frame as a lossless still WebP.
fn still_webp(f: &Frame) -> Result<Vec<u8>, Error> {
    let (w, h) = f.image.dimensions();
    let mut out = Vec::new();
    let result = match &f.alpha {
        Some(a) => WebPEncoder::new_lossless(&mut out).write_image(
            &rgba(&f.image, Some(a)),
            w,
            h,
            ExtendedColorType::Rgba8,
        ),
        None => WebPEncoder::new_lossless(&mut out).write_image(
            f.image.as_raw(),
            w,
            h,
            ExtendedColorType::Rgb8,
        ),
    };
    result.map_err(encode_err)?;
    Ok(out)
}

/// The whole `VP8L` chunk (header included) of a still lossless WebP.
fn vp8l_chunk(still: &[u8]) -> Result<&[u8], Error> {
    let mut rest = still.get(12..).unwrap_or_default();
    while let Some(head) = rest.get(..8) {
        let len = u32::from_le_bytes([head[4], head[5], head[6], head[7]]) as usize;
        let end = 8usize.saturating_add(len).saturating_add(len & 1);
        if &head[..4] == b"VP8L" {
            return rest
                .get(..end.min(rest.len()))
                .ok_or_else(|| encode_err("VP8L chunk cut short"));
        }
        rest = rest.get(end..).unwrap_or_default();
    }
    Err(encode_err("the WebP encoder wrote no VP8L chunk"))
}

fn u24(v: u32) -> [u8; 3] {
    let b = v.to_le_bytes();
    [b[0], b[1], b[2]]
}

/// Append a RIFF chunk, padded to an even length.
fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(kind);
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(data);
    if data.len() % 2 == 1 {
        out.push(0);
    }
}
