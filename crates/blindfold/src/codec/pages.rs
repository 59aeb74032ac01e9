//! Every page of a multi-page TIFF (see `frames.rs` and `tiff.rs`).

use super::frames::{Frame, Sequence};
use super::{DecodeOptions, Format, check_limit, check_pixels, encode_err, generic, split_alpha};
use crate::Error;
use crate::metadata::tiff::Tiff;
use std::io::Cursor;
use tiff::encoder::{TiffEncoder, colortype};
use tiff::tags::Tag;

/// A TIFF's pages, by directory offset and size, and the reduced copies
/// and masks beside them.
pub(super) struct Pages {
    /// `(offset, width, height)` of each page, in order.
    pub pages: Vec<(u64, u32, u32)>,
    /// Directories marked as reduced copies or transparency masks, and
    /// directories with sub-images (SubIFDs).
    pub copies: u32,
}

/// Walk the TIFF's directories. Errors when the chain cannot be read whole,
/// a directory has no size, or a reduced copy is larger than every page
/// (then which picture is meant is in doubt).
pub(super) fn pages(bytes: &[u8]) -> Result<Pages, Error> {
    let t = Tiff::parse(bytes).ok_or_else(|| Error::Decode("not a readable TIFF".into()))?;
    let chain = t.chain();
    if !chain.complete {
        return Err(Error::Decode(format!(
            "TIFF directory {} cannot be read",
            chain.offsets.len() + 1
        )));
    }
    let mut out = Pages {
        pages: Vec::new(),
        copies: 0,
    };
    let mut largest_copy = 0u64;
    for (i, &offset) in chain.offsets.iter().enumerate() {
        let size = |tag| t.number(offset, tag);
        let dims = (size(256), size(257));
        let (Some(w), Some(h)) = dims else {
            return Err(Error::Decode(format!(
                "TIFF page {} has no width or height",
                i + 1
            )));
        };
        // Sub-images (SubIFDs) are not pages: counted, never decoded.
        if t.entries(offset).is_some_and(|e| e.tags.contains(&330)) {
            out.copies += 1;
        }
        let copy = size(254).unwrap_or(0) & 0b101 != 0 || size(255) == Some(2);
        if copy {
            out.copies += 1;
            largest_copy = largest_copy.max(w.saturating_mul(h));
            continue;
        }
        let (Ok(w), Ok(h)) = (u32::try_from(w), u32::try_from(h)) else {
            return Err(Error::Decode(format!("TIFF page {} is {w}x{h}", i + 1)));
        };
        out.pages.push((offset, w, h));
    }
    let largest = out
        .pages
        .iter()
        .map(|&(_, w, h)| u64::from(w) * u64::from(h))
        .max();
    match largest {
        None => Err(Error::Decode(
            "every directory of the TIFF is marked as a reduced copy: cannot tell which is \
             the picture"
                .into(),
        )),
        Some(l) if largest_copy > l => Err(Error::Decode(
            "a TIFF directory marked as a reduced copy is larger than every page: cannot tell \
             which is the picture"
                .into(),
        )),
        Some(_) => Ok(out),
    }
}

/// Every page, each upright with its own colour profile. Each page and all
/// pages together must be within the pixel limit before any is decoded.
pub(super) fn decode(bytes: &[u8], opts: &DecodeOptions) -> Result<Sequence, Error> {
    let p = pages(bytes)?;
    super::frames::check_frames(p.pages.len() as u32)?;
    let mut total = 0u64;
    for &(_, w, h) in &p.pages {
        check_pixels(w, h, opts)?;
        total = total.saturating_add(u64::from(w) * u64::from(h));
    }
    let &(_, w, h) = p.pages.first().expect("pages() returns at least one page");
    check_limit(w, h, total, opts)?;
    let t = Tiff::parse(bytes).ok_or_else(|| Error::Decode("not a readable TIFF".into()))?;
    let mut frames = Vec::with_capacity(p.pages.len());
    let mut orientation = 1;
    for (i, &(offset, _, _)) in p.pages.iter().enumerate() {
        let page = t
            .with_first_ifd(offset)
            .ok_or_else(|| Error::Decode("TIFF header cannot point at a page".into()))?;
        let raw = generic::decode_tiff_page(&page, opts)
            .map_err(|e| Error::Decode(format!("TIFF page {}: {e}", i + 1)))?;
        if i == 0 {
            orientation = raw.orientation;
        }
        let (image, alpha) = split_alpha(raw.image);
        frames.push(Frame {
            image,
            alpha,
            icc: raw.icc.filter(|p| !p.is_empty()),
            delay: (0, 1),
        });
    }
    Ok(Sequence {
        format: Format::Tiff,
        frames,
        animation: None,
        icc: None,
        orientation,
        skipped: p.copies,
    })
}

/// Every page of an uncompressed TIFF, each with its colour profile.
pub(super) fn encode(frames: &[Frame]) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    {
        let mut enc = TiffEncoder::new(Cursor::new(&mut out)).map_err(encode_err)?;
        for f in frames {
            let (w, h) = f.image.dimensions();
            let icc = f.icc.as_deref().filter(|p| !p.is_empty());
            match &f.alpha {
                Some(a) => {
                    let mut px = Vec::with_capacity(a.as_raw().len() * 4);
                    for (rgb, a) in f.image.as_raw().chunks_exact(3).zip(a.as_raw()) {
                        px.extend_from_slice(rgb);
                        px.push(*a);
                    }
                    let mut img = enc
                        .new_image::<colortype::RGBA8>(w, h)
                        .map_err(encode_err)?;
                    if let Some(p) = icc {
                        img.encoder()
                            .write_tag(Tag::IccProfile, p)
                            .map_err(encode_err)?;
                    }
                    img.write_data(&px).map_err(encode_err)?;
                }
                None => {
                    let mut img = enc.new_image::<colortype::RGB8>(w, h).map_err(encode_err)?;
                    if let Some(p) = icc {
                        img.encoder()
                            .write_tag(Tag::IccProfile, p)
                            .map_err(encode_err)?;
                    }
                    img.write_data(f.image.as_raw()).map_err(encode_err)?;
                }
            }
        }
    }
    Ok(out)
}
