//! Which page of a TIFF is the picture. A TIFF's chain of directories can
//! hold several images: pages, and reduced-resolution copies (thumbnails,
//! pyramid levels) marked by bit 0 of `NewSubfileType` (tag 254) or by the
//! old `SubfileType` (tag 255) set to 2. A viewer shows the first page that
//! is not such a copy; tifffile, for one, can write the copy first.
//!
//! The main page is the first directory not marked as a reduced copy or a
//! transparency mask, and it must be at least as large as every other
//! directory. When it is not, or when every directory is marked reduced, or
//! when a directory cannot be read, which picture a viewer shows is in doubt
//! and decoding fails, saying why: never a smaller or other picture than the
//! one a viewer shows.

use crate::Error;
use crate::metadata::tiff::Tiff;

/// One directory's size and marks.
struct Page {
    offset: u64,
    width: u64,
    height: u64,
    /// A reduced-resolution copy or a transparency mask, by its tags.
    copy: bool,
}

impl Page {
    fn pixels(&self) -> u64 {
        self.width.saturating_mul(self.height)
    }

    fn size(&self) -> String {
        format!("{}x{}", self.width, self.height)
    }
}

/// The input to decode for the main page: `None` when it is the first
/// directory already (or the file is not a TIFF the reader below can walk,
/// left to the decoder to refuse), else a copy of the file whose header
/// points at the main page.
pub(super) fn main_page(bytes: &[u8]) -> Result<Option<Vec<u8>>, Error> {
    let Some(t) = Tiff::parse(bytes) else {
        return Ok(None);
    };
    let chain = t.chain();
    if !chain.complete {
        return Err(Error::Decode(format!(
            "TIFF directory {} cannot be read: cannot tell which page is the picture",
            chain.offsets.len() + 1
        )));
    }
    if chain.offsets.len() <= 1 {
        return Ok(None);
    }
    let mut pages = Vec::with_capacity(chain.offsets.len());
    for (i, &offset) in chain.offsets.iter().enumerate() {
        let size = |tag| t.number(offset, tag);
        let (Some(width), Some(height)) = (size(256), size(257)) else {
            return Err(Error::Decode(format!(
                "TIFF page {} has no width or height: cannot tell which page is the picture",
                i + 1
            )));
        };
        let new_subfile = size(254).unwrap_or(0);
        pages.push(Page {
            offset,
            width,
            height,
            copy: new_subfile & 0b101 != 0 || size(255) == Some(2),
        });
    }
    let Some((index, main)) = pages.iter().enumerate().find(|(_, p)| !p.copy) else {
        return Err(Error::Decode(format!(
            "every one of the TIFF's {} pages is marked as a reduced-resolution copy: \
             cannot tell which is the picture",
            pages.len()
        )));
    };
    if let Some((j, larger)) = pages
        .iter()
        .enumerate()
        .find(|(_, p)| p.pixels() > main.pixels())
    {
        return Err(Error::Decode(format!(
            "TIFF page {} ({}) is larger than page {} ({}), the first not marked as a \
             reduced copy: cannot tell which is the picture",
            j + 1,
            larger.size(),
            index + 1,
            main.size()
        )));
    }
    if index == 0 {
        return Ok(None);
    }
    t.with_first_ifd(main.offset)
        .map(Some)
        .ok_or_else(|| Error::Decode("TIFF header cannot point at the main page".into()))
}

#[cfg(test)]
mod tests;
