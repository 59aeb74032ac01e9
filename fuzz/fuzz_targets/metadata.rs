//! The metadata scanners, frame counts and the ICC rebuild on any bytes.
//! Invariants: no panic; a rebuilt profile rebuilds to itself with nothing
//! more removed.
#![no_main]

use blindfold::codec::Format;
use blindfold::icc::{Sanitized, sanitize};
use blindfold::metadata::{frames, scan};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for f in [
        Format::Jpeg,
        Format::Png,
        Format::Webp,
        Format::Tiff,
        Format::Bmp,
        Format::Gif,
        Format::Heif,
        Format::Avif,
    ] {
        let _ = scan(data, f);
        let _ = frames(data, f);
    }
    if let Sanitized::Rebuilt { profile, .. } = sanitize(data) {
        match sanitize(&profile) {
            Sanitized::Rebuilt {
                profile: again,
                removed_text,
            } => {
                assert!(!removed_text, "a rebuilt profile still held text");
                assert_eq!(again, profile, "rebuilding is not stable");
            }
            Sanitized::Dropped(why) => panic!("a rebuilt profile is dropped: {why}"),
        }
    }
});
