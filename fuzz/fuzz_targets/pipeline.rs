//! Decode -> anonymise -> encode -> verify, on any bytes. Invariants: no
//! panic; an output is produced only for input that decodes strictly; every
//! output decodes strictly, with every frame or page of the input, carries
//! no identifying metadata (ICC text and pictures that are neither frames
//! nor pages included) and has its alpha opaque inside every mask.
#![no_main]

use blindfold::audit::{AuditOptions, audit};
use blindfold::codec::DecodeOptions;
use blindfold::codec::frames::decode_all;
use blindfold::detect::FaceDetector;
use blindfold::pipeline::{Options, process};
use blindfold::{BBox, Detection, Error};
use libfuzzer_sys::fuzz_target;

/// Finds one "face": the middle third of the picture.
struct Middle;

impl FaceDetector for Middle {
    fn backend_name(&self) -> &str {
        "middle"
    }
    fn detect(&mut self, img: &blindfold::image::RgbImage) -> Result<Vec<Detection>, Error> {
        let (w, h) = (img.width() as f32, img.height() as f32);
        let bbox = BBox::new(w / 3.0, h / 3.0, 2.0 * w / 3.0, 2.0 * h / 3.0);
        Ok(vec![Detection { bbox, score: 0.9 }])
    }
}

#[path = "../src/seeds.rs"]
mod seeds;

const LIMIT: u64 = 1 << 20;

fuzz_target!(
    init: {
        if let Some(dir) = std::env::var_os("BLINDFOLD_FUZZ_SEEDS") {
            seeds::write(std::path::Path::new(&dir));
            std::process::exit(0);
        }
    },
    |data: &[u8]| {
    let mut opts = Options::default();
    opts.decode.max_pixels = LIMIT;
    let Ok(out) = process(data, &mut Middle, &opts, false, &|| 0.0) else {
        return;
    };
    // Output only for input that decodes strictly (damage never accepted).
    let strict = DecodeOptions {
        max_pixels: LIMIT,
        accept_damaged: false,
    };
    let input = decode_all(data, &strict).expect("accepted input decodes strictly");
    let back = decode_all(&out.bytes, &strict).expect("output decodes");
    assert_eq!(back.frames.len(), input.frames.len(), "every frame written");
    assert_eq!(back.frames.len() as u32, out.frames);
    for (i, frame) in back.frames.iter().enumerate() {
        let Some(a) = &frame.alpha else { continue };
        let mine = |f: &&blindfold::pipeline::Face| f.frame.is_none_or(|n| n as usize == i);
        for f in out.faces.iter().filter(mine) {
            for y in f.mask.rows(a.height()) {
                for x in f.mask.row_span(y, a.width()) {
                    assert_eq!(a.get_pixel(x, y)[0], 255, "alpha inside a mask");
                }
            }
        }
    }
    let report =
        audit(&out.bytes, &mut Middle, None, &AuditOptions::default()).expect("output audits");
    assert!(
        report.metadata.is_empty(),
        "left in output: {:?}",
        report.metadata
    );
    assert_eq!(report.frames, out.frames);
});
