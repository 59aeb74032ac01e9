//! A small TIFF directory reader (classic and BigTIFF) and the scan of TIFF
//! files. Only tag numbers are read; values are left to `kamadak-exif`.

use super::{Found, exif};

/// Most entries read from one directory (a real one has a few dozen).
const MAX_ENTRIES: u64 = 4096;

/// A TIFF header: byte order and offset size.
pub(crate) struct Tiff<'a> {
    data: &'a [u8],
    little: bool,
    big: bool,
}

/// The directories of a TIFF's chain.
pub(crate) struct Chain {
    /// Their offsets, in file order.
    pub offsets: Vec<u64>,
    /// False when the walk stopped at a directory it could not read or a
    /// loop, rather than at the chain's end.
    pub complete: bool,
}

/// The tag numbers of one directory and the offset of the next.
pub(crate) struct Ifd {
    pub tags: Vec<u16>,
    pub next: u64,
}

impl<'a> Tiff<'a> {
    /// Read the header; `None` when it is not a TIFF.
    pub fn parse(data: &'a [u8]) -> Option<Self> {
        let little = match data.get(..2)? {
            b"II" => true,
            b"MM" => false,
            _ => return None,
        };
        let mut t = Tiff {
            data,
            little,
            big: false,
        };
        match t.u16_at(2)? {
            42 => {}
            43 => t.big = true,
            _ => return None,
        }
        Some(t)
    }

    /// Offset of the first directory.
    pub fn first_ifd(&self) -> Option<u64> {
        if self.big {
            self.u64_at(8)
        } else {
            self.u32_at(4).map(u64::from)
        }
    }

    /// The directory at `offset` in this TIFF.
    pub fn entries(&self, offset: u64) -> Option<Ifd> {
        self.entries_in(self.data, offset)
    }

    /// A directory at `offset` in `data`, read with this TIFF's byte order
    /// and offset size (maker notes hold bare directories).
    pub fn entries_in(&self, data: &[u8], offset: u64) -> Option<Ifd> {
        let r = Tiff {
            data,
            little: self.little,
            big: self.big,
        };
        let offset = usize::try_from(offset).ok()?;
        let (count, head, entry) = if r.big {
            (r.u64_at(offset)?, 8, 20)
        } else {
            (u64::from(r.u16_at(offset)?), 2, 12)
        };
        if count > MAX_ENTRIES {
            return None;
        }
        let count = count as usize;
        let first = offset.checked_add(head)?;
        let mut tags = Vec::with_capacity(count);
        for i in 0..count {
            tags.push(r.u16_at(first.checked_add(i.checked_mul(entry)?)?)?);
        }
        let end = first.checked_add(count.checked_mul(entry)?)?;
        let next = if r.big {
            r.u64_at(end)
        } else {
            r.u32_at(end).map(u64::from)
        };
        Some(Ifd {
            tags,
            next: next.unwrap_or(0),
        })
    }

    /// The offsets of the directories in the file's chain, in order. Stops
    /// at a loop, at 65536 directories, or where a directory cannot be read;
    /// `complete` is false then.
    pub fn chain(&self) -> Chain {
        let mut chain = Chain {
            offsets: Vec::new(),
            complete: true,
        };
        let mut seen = std::collections::BTreeSet::new();
        let mut next = self.first_ifd().unwrap_or(0);
        while next != 0 {
            let Some(ifd) = self.entries(next).filter(|_| seen.insert(next)) else {
                chain.complete = false;
                break;
            };
            chain.offsets.push(next);
            if chain.offsets.len() >= 65536 {
                chain.complete = ifd.next == 0;
                break;
            }
            next = ifd.next;
        }
        chain
    }

    /// The value of `tag` in the directory at `offset`, when it is one
    /// SHORT, LONG or LONG8 number.
    pub fn number(&self, offset: u64, tag: u16) -> Option<u64> {
        let offset = usize::try_from(offset).ok()?;
        let (count, head, entry) = if self.big {
            (self.u64_at(offset)?, 8, 20)
        } else {
            (u64::from(self.u16_at(offset)?), 2, 12)
        };
        let first = offset.checked_add(head)?;
        for i in 0..usize::try_from(count.min(MAX_ENTRIES)).ok()? {
            let at = first.checked_add(i.checked_mul(entry)?)?;
            if self.u16_at(at)? != tag {
                continue;
            }
            let (n, value) = if self.big {
                (self.u64_at(at + 4)?, at + 12)
            } else {
                (u64::from(self.u32_at(at + 4)?), at + 8)
            };
            return match (self.u16_at(at + 2)?, n) {
                (3, 1) => self.u16_at(value).map(u64::from),
                (4 | 13, 1) => self.u32_at(value).map(u64::from),
                (16 | 18, 1) if self.big => self.u64_at(value),
                _ => None,
            };
        }
        None
    }

    /// A copy of the file whose header points at the directory at `offset`
    /// as its first, so that a reader of first pages reads that one.
    pub fn with_first_ifd(&self, offset: u64) -> Option<Vec<u8>> {
        let mut out = self.data.to_vec();
        let (at, b) = match (self.big, self.little) {
            (true, true) => (8, offset.to_le_bytes().to_vec()),
            (true, false) => (8, offset.to_be_bytes().to_vec()),
            (false, true) => (4, u32::try_from(offset).ok()?.to_le_bytes().to_vec()),
            (false, false) => (4, u32::try_from(offset).ok()?.to_be_bytes().to_vec()),
        };
        out.get_mut(at..at + b.len())?.copy_from_slice(&b);
        Some(out)
    }

    fn bytes<const N: usize>(&self, at: usize) -> Option<[u8; N]> {
        let b: [u8; N] = self.data.get(at..at.checked_add(N)?)?.try_into().ok()?;
        Some(b)
    }

    fn u16_at(&self, at: usize) -> Option<u16> {
        let b = self.bytes::<2>(at)?;
        Some(if self.little {
            u16::from_le_bytes(b)
        } else {
            u16::from_be_bytes(b)
        })
    }

    fn u32_at(&self, at: usize) -> Option<u32> {
        let b = self.bytes::<4>(at)?;
        Some(if self.little {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        })
    }

    fn u64_at(&self, at: usize) -> Option<u64> {
        let b = self.bytes::<8>(at)?;
        Some(if self.little {
            u64::from_le_bytes(b)
        } else {
            u64::from_be_bytes(b)
        })
    }
}

/// Tags that describe the pixels only (TIFF 6.0 baseline and extensions).
const IMAGE_TAGS: &[u16] = &[
    254, 255, 256, 257, 258, 259, 262, 263, 264, 265, 266, 273, 274, 277, 278, 279, 280, 281, 282,
    283, 284, 286, 287, 290, 291, 292, 293, 296, 297, 301, 317, 318, 319, 320, 321, 322, 323, 324,
    325, 332, 338, 339, 340, 341, 347, 512, 513, 514, 515, 517, 518, 519, 520, 521, 529, 530, 531,
    532,
];

/// Scan every directory of a TIFF file's chain: the picture may be any one
/// of them (see `codec::tiff`), and the others are further images (pages or
/// reduced copies) that count as thumbnails.
pub(super) fn scan(bytes: &[u8], found: &mut Found) {
    let Some(t) = Tiff::parse(bytes) else {
        found.other = true;
        return;
    };
    let chain = t.chain();
    if !chain.complete || chain.offsets.is_empty() {
        found.other = true;
    }
    let mut has_exif = false;
    let mut has_gps = false;
    for &offset in &chain.offsets {
        let Some(ifd) = t.entries(offset) else {
            continue;
        };
        for &tag in &ifd.tags {
            match tag {
                34665 => has_exif = true,
                34853 => has_gps = true,
                700 => found.xmp = true,
                33723 | 34377 => found.iptc = true,
                34675 => found.icc = true,
                270 | 33432 | 37510 | 40091..=40095 => found.comment = true,
                306 => found.datetime = true,
                315 => found.serial = true,
                330 => found.thumbnail = true,
                269 | 271 | 272 | 285 | 305 | 316 | 42016 => found.exif = true,
                t if IMAGE_TAGS.contains(&t) => {}
                _ => found.other = true,
            }
        }
    }
    if chain.offsets.len() > 1 {
        found.thumbnail = true;
        found.frames = true;
    }
    if has_exif || has_gps {
        found.exif = true;
        if bytes.get(2) == Some(&42) || bytes.get(3) == Some(&42) {
            exif::scan_tiff(bytes, found);
        } else if has_gps {
            // BigTIFF: kamadak-exif cannot read it; say what is there.
            found.gps = true;
        }
    }
}

/// The number of directories (pages and reduced copies) in a TIFF's chain
/// that can be read; loops and more than 65536 directories end the count.
pub(super) fn pages(bytes: &[u8]) -> u32 {
    Tiff::parse(bytes).map_or(0, |t| t.chain().offsets.len() as u32)
}
