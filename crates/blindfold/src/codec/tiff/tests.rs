//! Which TIFF page is the picture.

use crate::Error;
use crate::codec::{DecodeOptions, Decoded, Format, decode};
use crate::metadata::{frames, scan};
use crate::testing::tiff_pages;
use image::{Rgb, RgbImage, imageops};

/// A gradient with a bright block in its top-left quarter.
fn full() -> RgbImage {
    RgbImage::from_fn(64, 48, |x, y| {
        if x < 32 && y < 24 {
            Rgb([250, 250, 40])
        } else {
            Rgb([(x * 4) as u8, (y * 5) as u8, 90])
        }
    })
}

fn quarter(img: &RgbImage) -> RgbImage {
    imageops::resize(img, img.width() / 4, img.height() / 4, imageops::Nearest)
}

fn dec(bytes: &[u8]) -> Result<Decoded, Error> {
    decode(bytes, &DecodeOptions::default())
}

#[test]
fn a_reduced_copy_first_gives_way_to_the_full_picture() {
    // As tifffile writes it: IFD0 a quarter-size copy flagged reduced
    // (NewSubfileType 1), IFD1 the full picture.
    let pic = full();
    let tiff = tiff_pages(&[(&quarter(&pic), 1), (&pic, 0)]);
    let d = dec(&tiff).unwrap();
    assert_eq!(d.image, pic);
    assert_eq!(d.frames, 2);
    assert_eq!(frames(&tiff, Format::Tiff), 2);
    assert!(scan(&tiff, Format::Tiff).thumbnail);
}

#[test]
fn the_full_picture_first_is_kept_as_before() {
    let pic = full();
    let tiff = tiff_pages(&[(&pic, 0), (&quarter(&pic), 1)]);
    assert_eq!(dec(&tiff).unwrap().image, pic);
    // Pages of one size: the first, as a viewer opens it.
    let other = RgbImage::from_pixel(64, 48, Rgb([1, 2, 3]));
    let tiff = tiff_pages(&[(&pic, 0), (&other, 0)]);
    assert_eq!(dec(&tiff).unwrap().image, pic);
}

#[test]
fn an_unflagged_small_first_page_before_a_larger_one_is_refused() {
    // Nothing says which is the picture: fail, and say why.
    let pic = full();
    let tiff = tiff_pages(&[(&quarter(&pic), 0), (&pic, 0)]);
    let Err(Error::Decode(why)) = dec(&tiff) else {
        panic!("decoded a 16x12 page of a TIFF whose second page is 64x48");
    };
    assert!(why.contains("64x48") && why.contains("16x12"), "{why}");
    // A page flagged reduced that is larger than the full one: as doubtful.
    let tiff = tiff_pages(&[(&quarter(&pic), 0), (&pic, 1)]);
    assert!(matches!(dec(&tiff), Err(Error::Decode(_))));
}

#[test]
fn every_page_flagged_reduced_is_refused_unless_it_is_the_only_one() {
    let pic = full();
    let tiff = tiff_pages(&[(&quarter(&pic), 1), (&pic, 1)]);
    let Err(Error::Decode(why)) = dec(&tiff) else {
        panic!("decoded a TIFF whose every page is flagged a reduced copy");
    };
    assert!(why.contains("reduced"), "{why}");
    assert_eq!(dec(&tiff_pages(&[(&pic, 1)])).unwrap().image, pic);
}

#[test]
fn tags_of_every_page_are_reported() {
    // The picture may be any page, so the scan reads them all: an Artist
    // tag (315) in a third directory counts.
    let pic = full();
    let mut tiff = tiff_pages(&[(&quarter(&pic), 1), (&pic, 0)]);
    assert!(!scan(&tiff, Format::Tiff).serial);
    let n = tiff.len();
    let third = (n as u32).to_le_bytes();
    tiff[n - 4..].copy_from_slice(&third);
    tiff.extend_from_slice(&1u16.to_le_bytes());
    tiff.extend_from_slice(&[0x3B, 0x01, 2, 0, 3, 0, 0, 0, b'J', b'o', 0, 0]);
    tiff.extend_from_slice(&[0; 4]);
    assert!(scan(&tiff, Format::Tiff).serial);
}
