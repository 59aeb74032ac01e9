//! The HEIF and AVIF entry points on any bytes: sniffing, decoding through
//! libheif under the pixel limit, the pure-Rust box scan and image count.
//! Invariants: no panic, no crash in libheif; a decoded picture is within
//! the limit and its alpha has its size.
#![no_main]

use blindfold::codec::{self, DecodeOptions, Format};
use blindfold::metadata::{frames, scan};
use libfuzzer_sys::fuzz_target;

const LIMIT: u64 = 1 << 20;

fuzz_target!(|data: &[u8]| {
    let format = codec::sniff(data);
    for f in [Format::Heif, Format::Avif] {
        let _ = scan(data, f);
        let _ = frames(data, f);
    }
    if !matches!(format, Some(Format::Heif | Format::Avif)) {
        return;
    }
    let opts = DecodeOptions {
        max_pixels: LIMIT,
        accept_damaged: false,
    };
    if let Ok(d) = codec::decode(data, &opts) {
        let (w, h) = d.image.dimensions();
        assert!(u64::from(w) * u64::from(h) <= LIMIT, "{w}x{h} over the limit");
        if let Some(a) = &d.alpha {
            assert_eq!(a.dimensions(), (w, h));
        }
    }
});
