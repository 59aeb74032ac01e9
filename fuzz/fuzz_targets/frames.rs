//! Every frame and page (GIF, APNG, animated WebP, multi-page TIFF) on any
//! bytes: `decode_all`, then `encode_all` and `decode_all` again.
//! Invariants: no panic; what decodes stays within the pixel limit, all
//! frames together; what is written decodes to as many frames of the same
//! sizes and the same loop count.
#![no_main]

use blindfold::codec::DecodeOptions;
use blindfold::codec::frames::{decode_all, encode_all, is_sequence};
use libfuzzer_sys::fuzz_target;

const LIMIT: u64 = 1 << 20;

fuzz_target!(|data: &[u8]| {
    let _ = is_sequence(data);
    let opts = DecodeOptions {
        max_pixels: LIMIT,
        accept_damaged: false,
    };
    let Ok(seq) = decode_all(data, &opts) else {
        return;
    };
    assert!(!seq.frames.is_empty());
    let total: u64 = seq
        .frames
        .iter()
        .map(|f| u64::from(f.image.width()) * u64::from(f.image.height()))
        .sum();
    assert!(total <= LIMIT, "{total} pixels decoded over the limit");
    let Ok(out) = encode_all(&seq, &Default::default()) else {
        return;
    };
    let back = decode_all(&out, &opts).expect("what is written decodes");
    assert_eq!(back.frames.len(), seq.frames.len());
    assert_eq!(back.animation, seq.animation);
    for (a, b) in back.frames.iter().zip(&seq.frames) {
        assert_eq!(a.image.dimensions(), b.image.dimensions());
    }
});
