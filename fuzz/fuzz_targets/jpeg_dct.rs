//! The JPEG edited in the DCT domain (`blindfold::codec::dct`), on any
//! bytes that decode strictly (as the pipeline calls it). Invariants: no
//! panic; an edit decodes strictly to the input's size, carries no
//! identifying metadata, is read back as an edit of its input, and shows
//! the input's pixels outside the MCUs it replaced (one pixel of margin for
//! smooth chroma upsampling).
#![no_main]

use blindfold::BBox;
use blindfold::anonymize::{Mask, Mode, Shape};
use blindfold::codec::{self, DecodeOptions, Format, dct};
use libfuzzer_sys::fuzz_target;

const LIMIT: u64 = 1 << 20;

fuzz_target!(|data: &[u8]| {
    let strict = DecodeOptions {
        max_pixels: LIMIT,
        accept_damaged: false,
    };
    let Ok(input) = codec::decode(data, &strict) else {
        return;
    };
    if input.format != Format::Jpeg {
        return;
    }
    let (w, h) = input.image.dimensions();
    let (wf, hf) = (w as f32, h as f32);
    // Masks and fill chosen from the length, so plain JPEG seeds work.
    let n = data.len();
    let masks = [
        Mask {
            shape: Shape::Ellipse,
            bbox: BBox::new(wf / 3.0, hf / 3.0, 2.0 * wf / 3.0, 2.0 * hf / 3.0),
        },
        Mask {
            shape: Shape::Rect,
            bbox: BBox::new((n % 97) as f32 - 20.0, 0.0, (n % 97) as f32 + 5.0, 9.0),
        },
    ];
    let mode = if n % 2 == 0 { Mode::Noise } else { Mode::Solid };
    let edited = match dct::edit(data, &masks, mode, n as u64, None) {
        Ok(e) => e,
        Err(why) => {
            assert!(!why.is_empty());
            return;
        }
    };
    let out = codec::decode(&edited.bytes, &strict).expect("an edit decodes strictly");
    assert_eq!(out.image.dimensions(), (w, h));
    assert!(
        blindfold::metadata::scan(&edited.bytes, Format::Jpeg)
            .identifying()
            .is_empty()
    );
    let replaced = dct::replaced(data, &edited.bytes).expect("an edit of its input");
    let near = |x: u32, y: u32| {
        (x.saturating_sub(1)..=(x + 1).min(w - 1)).any(|a| {
            (y.saturating_sub(1)..=(y + 1).min(h - 1)).any(|b| replaced[(b * w + a) as usize])
        })
    };
    for (x, y, p) in out.image.enumerate_pixels() {
        if !near(x, y) {
            assert_eq!(p, input.image.get_pixel(x, y), "pixel {x},{y} outside");
        }
    }
});
