//! HEIF and AVIF (ISOBMFF) boxes: the items of the `meta` box and what they
//! hold. Pure Rust, so the scan also runs where libheif is not built in.
//!
//! An item is an image (coded, grid, overlay, derived), an EXIF block, an
//! XMP packet (a `mime` item) or something else. Images referenced as
//! thumbnails (`thmb`) are thumbnails; auxiliary images (`auxl`) other than
//! alpha planes (depth maps, portrait mattes, gain maps) are `auxiliary`;
//! more than one top-level image is `frames`. An image sequence (`moov`)
//! counts as frames too. Anything not known is `other`.

use super::{Found, exif};
use std::collections::{BTreeMap, BTreeSet};

/// Item types that code a picture, or derive one from others.
const IMAGE_ITEMS: [&[u8; 4]; 12] = [
    b"hvc1", b"av01", b"grid", b"iden", b"iovl", b"jpeg", b"hvt1", b"unci", b"avc1", b"vvc1",
    b"j2k1", b"tmap",
];

/// `auxC` types of an alpha plane: part of the picture, not extra.
const ALPHA_AUX: [&[u8]; 2] = [
    b"urn:mpeg:hevc:2015:auxid:1",
    b"urn:mpeg:mpegB:cicp:systems:auxiliary:alpha",
];

/// Top-level boxes that hold nothing but the picture's data or padding.
const PLAIN_TOP: [&[u8; 4]; 5] = [b"ftyp", b"mdat", b"free", b"skip", b"wide"];

/// One box: its type and its body.
struct Bx<'a> {
    kind: [u8; 4],
    body: &'a [u8],
}

/// The boxes in `bytes`, in order; `None` where one runs past the end.
fn boxes(mut bytes: &[u8]) -> Option<Vec<Bx<'_>>> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let size = u32::from_be_bytes(bytes.get(..4)?.try_into().ok()?) as u64;
        let kind: [u8; 4] = bytes.get(4..8)?.try_into().ok()?;
        let (head, size) = match size {
            0 => (8, bytes.len() as u64),
            1 => (16, u64::from_be_bytes(bytes.get(8..16)?.try_into().ok()?)),
            s => (8, s),
        };
        let size = usize::try_from(size).ok()?;
        if size < head {
            return None;
        }
        out.push(Bx {
            kind,
            body: bytes.get(head..size)?,
        });
        bytes = &bytes[size..];
    }
    Some(out)
}

/// A big-endian unsigned number of `n` bytes (0, 2, 4 or 8) at `*at`.
fn num(b: &[u8], at: &mut usize, n: usize) -> Option<u64> {
    let v = b.get(*at..at.checked_add(n)?)?;
    *at += n;
    Some(v.iter().fold(0u64, |acc, x| (acc << 8) | u64::from(*x)))
}

/// A NUL-terminated string at `*at`.
fn cstr<'a>(b: &'a [u8], at: &mut usize) -> Option<&'a [u8]> {
    let rest = b.get(*at..)?;
    let end = rest.iter().position(|c| *c == 0)?;
    *at += end + 1;
    Some(&rest[..end])
}

/// One item from `iinf`.
struct Item {
    kind: [u8; 4],
    content_type: Vec<u8>,
    hidden: bool,
}

/// Where an item's bytes are: (construction method, extents as offset, length).
type Location = (u8, Vec<(u64, u64)>);

/// What the `meta` box says.
#[derive(Default)]
struct Meta<'a> {
    items: BTreeMap<u32, Item>,
    locations: BTreeMap<u32, Location>,
    /// (reference type, from, to).
    refs: Vec<([u8; 4], u32, u32)>,
    idat: &'a [u8],
}

/// Scan a HEIF or AVIF file's boxes.
pub(super) fn scan(bytes: &[u8], found: &mut Found) {
    let Some(top) = boxes(bytes) else {
        found.other = true;
        return;
    };
    let mut metas = 0;
    for b in &top {
        match &b.kind {
            b"meta" => {
                metas += 1;
                scan_meta(bytes, b.body, found);
            }
            b"moov" => found.frames = true,
            k if PLAIN_TOP.contains(&k) => {}
            _ => found.other = true,
        }
    }
    if metas != 1 {
        found.other = true;
    }
}

/// How many top-level images the file holds (0 when unreadable).
pub(crate) fn top_level_images(bytes: &[u8]) -> u32 {
    let Some(top) = boxes(bytes) else {
        return 0;
    };
    let Some(meta) = top.iter().find(|b| &b.kind == b"meta") else {
        return 0;
    };
    let mut found = Found::default();
    match read_meta(meta.body, &mut found) {
        Some(m) => top_level(&m),
        None => 0,
    }
}

/// The largest width x height among the file's `ispe` (image size)
/// properties and the output sizes that its grid and overlay images declare
/// in their data: at least the size of the picture it shows. (libheif makes
/// a grid as large as its data says, whatever its `ispe` says: a 587-byte
/// file with a 24x16 `ispe` decoded to 16973x18761.)
pub(crate) fn largest_size(bytes: &[u8]) -> Option<(u32, u32)> {
    let area = |(w, h): (u32, u32)| u64::from(w) * u64::from(h);
    let mut best = ispe_largest(bytes);
    for size in derived_sizes(bytes) {
        if best.is_none_or(|b| area(size) > area(b)) {
            best = Some(size);
        }
    }
    best
}

/// The output sizes in the data of the grid (`grid`) and overlay (`iovl`)
/// items: version, flags (bit 0: 32-bit sizes), then for a grid the rows and
/// columns, for an overlay four 16-bit fill values, then width and height.
fn derived_sizes(bytes: &[u8]) -> Vec<(u32, u32)> {
    let mut out = Vec::new();
    let Some(top) = boxes(bytes) else {
        return out;
    };
    let Some(meta) = top.iter().find(|b| &b.kind == b"meta") else {
        return out;
    };
    let Some(m) = read_meta(meta.body, &mut Found::default()) else {
        return out;
    };
    for (id, item) in &m.items {
        let skip = match &item.kind {
            b"grid" => 2,
            b"iovl" => 8,
            _ => continue,
        };
        let Some(data) = item_bytes(bytes, &m, *id) else {
            continue;
        };
        let Some(&flags) = data.get(1) else {
            continue;
        };
        let n = if flags & 1 == 1 { 4 } else { 2 };
        let mut at = 2 + skip;
        if let (Some(w), Some(h)) = (num(&data, &mut at, n), num(&data, &mut at, n)) {
            out.push((w as u32, h as u32));
        }
    }
    out
}

/// The largest width x height among the file's `ispe` properties.
fn ispe_largest(bytes: &[u8]) -> Option<(u32, u32)> {
    let top = boxes(bytes)?;
    let meta = top.iter().find(|b| &b.kind == b"meta")?;
    let iprp = boxes(meta.body.get(4..)?)?
        .into_iter()
        .find(|b| &b.kind == b"iprp")?;
    let ipco = boxes(iprp.body)?.into_iter().find(|b| &b.kind == b"ipco")?;
    let mut best: Option<(u32, u32)> = None;
    for p in boxes(ipco.body)?.iter().filter(|p| &p.kind == b"ispe") {
        let mut at = 4;
        let w = u32::try_from(num(p.body, &mut at, 4)?).ok()?;
        let h = u32::try_from(num(p.body, &mut at, 4)?).ok()?;
        let area = |(w, h): (u32, u32)| u64::from(w) * u64::from(h);
        if best.is_none_or(|b| area((w, h)) > area(b)) {
            best = Some((w, h));
        }
    }
    best
}

fn scan_meta(file: &[u8], body: &[u8], found: &mut Found) {
    let Some(meta) = read_meta(body, found) else {
        found.other = true;
        return;
    };
    for (id, item) in &meta.items {
        match &item.kind {
            k if IMAGE_ITEMS.contains(&k) => {}
            b"Exif" => match item_bytes(file, &meta, *id) {
                Some(data) => exif_item(&data, found),
                None => found.exif = true,
            },
            b"mime" => {
                let t = String::from_utf8_lossy(&item.content_type).to_ascii_lowercase();
                if t.contains("xmp") || t.contains("rdf") {
                    found.xmp = true;
                } else {
                    found.other = true;
                }
            }
            _ => found.other = true,
        }
    }
    if meta.refs.iter().any(|(k, _, _)| k == b"thmb") {
        found.thumbnail = true;
    }
    if top_level(&meta) > 1 {
        found.frames = true;
    }
}

/// An EXIF item: a 4-byte offset to the TIFF header, then the block.
fn exif_item(data: &[u8], found: &mut Found) {
    found.exif = true;
    let mut at = 0;
    let Some(skip) = num(data, &mut at, 4) else {
        return;
    };
    let start = usize::try_from(skip).ok().and_then(|s| s.checked_add(4));
    if let Some(tiff) = start.and_then(|s| data.get(s..)) {
        exif::scan(tiff, found);
    }
}

/// The images a viewer would list: image items that are not hidden, not a
/// thumbnail or auxiliary image of another, and not a tile or input of a
/// derived image.
fn top_level(meta: &Meta) -> u32 {
    let mut inner = BTreeSet::new();
    for (kind, from, to) in &meta.refs {
        match kind {
            b"thmb" | b"auxl" => {
                inner.insert(*from);
            }
            b"dimg" | b"base" => {
                inner.insert(*to);
            }
            _ => {}
        }
    }
    let count = meta
        .items
        .iter()
        .filter(|(id, item)| {
            IMAGE_ITEMS.contains(&&item.kind) && !item.hidden && !inner.contains(id)
        })
        .count();
    u32::try_from(count).unwrap_or(u32::MAX)
}

/// Read the `meta` box's children (after its version and flags).
fn read_meta<'a>(body: &'a [u8], found: &mut Found) -> Option<Meta<'a>> {
    let mut meta = Meta::default();
    for b in boxes(body.get(4..)?)? {
        match &b.kind {
            b"hdlr" | b"pitm" | b"dinf" => {}
            b"iinf" => read_iinf(b.body, &mut meta)?,
            b"iloc" => read_iloc(b.body, &mut meta)?,
            b"iref" => read_iref(b.body, &mut meta)?,
            b"iprp" => read_iprp(b.body, found)?,
            b"idat" => meta.idat = b.body,
            _ => found.other = true,
        }
    }
    Some(meta)
}

fn read_iinf(body: &[u8], meta: &mut Meta) -> Option<()> {
    let version = *body.first()?;
    let mut at = 4;
    num(body, &mut at, if version == 0 { 2 } else { 4 })?;
    for b in boxes(body.get(at..)?)? {
        if &b.kind != b"infe" {
            return None;
        }
        let v = *b.body.first()?;
        let hidden = b.body.get(3)? & 1 == 1;
        if v < 2 {
            return None; // the old form carries no item type
        }
        let mut at = 4;
        let id = num(b.body, &mut at, if v == 2 { 2 } else { 4 })?;
        num(b.body, &mut at, 2)?; // protection index
        let kind: [u8; 4] = b.body.get(at..at + 4)?.try_into().ok()?;
        at += 4;
        cstr(b.body, &mut at)?; // name
        let content_type = if &kind == b"mime" {
            cstr(b.body, &mut at).unwrap_or_default().to_vec()
        } else {
            Vec::new()
        };
        let item = Item {
            kind,
            content_type,
            hidden,
        };
        meta.items.insert(u32::try_from(id).ok()?, item);
    }
    Some(())
}

fn read_iloc(body: &[u8], meta: &mut Meta) -> Option<()> {
    let version = *body.first()?;
    let sizes = *body.get(4)?;
    let more = *body.get(5)?;
    let (offset_size, length_size) = (usize::from(sizes >> 4), usize::from(sizes & 15));
    let base_size = usize::from(more >> 4);
    let index_size = if version >= 1 {
        usize::from(more & 15)
    } else {
        0
    };
    let mut at = 6;
    let count = num(body, &mut at, if version < 2 { 2 } else { 4 })?;
    for _ in 0..count {
        let id = num(body, &mut at, if version < 2 { 2 } else { 4 })?;
        let method = if version >= 1 {
            (num(body, &mut at, 2)? & 15) as u8
        } else {
            0
        };
        num(body, &mut at, 2)?; // data reference index
        let base = num(body, &mut at, base_size)?;
        let extents = num(body, &mut at, 2)?;
        let mut list = Vec::new();
        for _ in 0..extents {
            num(body, &mut at, index_size)?;
            let offset = num(body, &mut at, offset_size)?;
            let length = num(body, &mut at, length_size)?;
            list.push((base.checked_add(offset)?, length));
        }
        meta.locations
            .insert(u32::try_from(id).ok()?, (method, list));
    }
    Some(())
}

fn read_iref(body: &[u8], meta: &mut Meta) -> Option<()> {
    let wide = *body.first()? != 0;
    let id_size = if wide { 4 } else { 2 };
    for b in boxes(body.get(4..)?)? {
        let mut at = 0;
        let from = u32::try_from(num(b.body, &mut at, id_size)?).ok()?;
        let count = num(b.body, &mut at, 2)?;
        for _ in 0..count {
            let to = u32::try_from(num(b.body, &mut at, id_size)?).ok()?;
            meta.refs.push((b.kind, from, to));
        }
    }
    Some(())
}

/// Item properties: colour profiles, auxiliary types, descriptions.
fn read_iprp(body: &[u8], found: &mut Found) -> Option<()> {
    for b in boxes(body)? {
        if &b.kind != b"ipco" {
            continue; // ipma: which item has which property
        }
        for p in boxes(b.body)? {
            match &p.kind {
                b"colr" => {
                    if matches!(p.body.get(..4), Some(b"prof" | b"rICC")) {
                        found.icc = true;
                    }
                }
                b"auxC" => {
                    let mut at = 4;
                    let urn = cstr(p.body, &mut at)?;
                    if !ALPHA_AUX.contains(&urn) {
                        found.auxiliary = true;
                    }
                }
                b"udes" => found.comment = true,
                _ => {}
            }
        }
    }
    Some(())
}

/// The bytes of item `id`, joined from its extents (at most 16 MiB).
fn item_bytes(file: &[u8], meta: &Meta, id: u32) -> Option<Vec<u8>> {
    let (method, extents) = meta.locations.get(&id)?;
    let source = match method {
        0 => file,
        1 => meta.idat,
        _ => return None,
    };
    let mut out = Vec::new();
    for (offset, length) in extents {
        let start = usize::try_from(*offset).ok()?;
        let len = if *length == 0 {
            source.len().checked_sub(start)?
        } else {
            usize::try_from(*length).ok()?
        };
        if out.len() + len > 16 << 20 {
            return None;
        }
        out.extend_from_slice(source.get(start..start.checked_add(len)?)?);
    }
    Some(out)
}
