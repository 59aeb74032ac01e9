// Shared by the native unit tests (src/tests.rs) and the wasm tests
// (tests/web.rs): a small photo with a GPS position in its EXIF.

/// A 120x80 JPEG (a gradient) with an EXIF block holding GPSLatitudeRef.
pub fn photo_with_gps() -> Vec<u8> {
    use blindfold::codec::{EncodeOptions, Format, encode};
    use blindfold::image::{Rgb, RgbImage};
    let img = RgbImage::from_fn(120, 80, |x, y| Rgb([(x * 2) as u8, (y * 3) as u8, 120]));
    let jpeg = encode(&img, None, Format::Jpeg, None, &EncodeOptions::default()).unwrap();
    // TIFF: header, IFD0 with a GPS pointer (tag 0x8825) to a GPS IFD with
    // GPSLatitudeRef = "N".
    let mut tiff = b"II*\0".to_vec();
    tiff.extend_from_slice(&8u32.to_le_bytes());
    tiff.extend_from_slice(&1u16.to_le_bytes());
    tiff.extend_from_slice(&0x8825u16.to_le_bytes());
    tiff.extend_from_slice(&4u16.to_le_bytes()); // LONG
    tiff.extend_from_slice(&1u32.to_le_bytes());
    tiff.extend_from_slice(&26u32.to_le_bytes());
    tiff.extend_from_slice(&0u32.to_le_bytes());
    tiff.extend_from_slice(&1u16.to_le_bytes());
    tiff.extend_from_slice(&1u16.to_le_bytes()); // GPSLatitudeRef
    tiff.extend_from_slice(&2u16.to_le_bytes()); // ASCII
    tiff.extend_from_slice(&2u32.to_le_bytes());
    tiff.extend_from_slice(b"N\0\0\0");
    tiff.extend_from_slice(&0u32.to_le_bytes());
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&tiff);
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((app1.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&app1);
    out.extend_from_slice(&jpeg[2..]);
    out
}
