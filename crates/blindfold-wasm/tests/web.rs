//! The crate's JavaScript API, run as wasm (`wasm-bindgen-test`, node).
#![cfg(target_arch = "wasm32")]

use blindfold::codec::Format;
use blindfold::metadata::scan;
use blindfold_wasm::{Engine, prepared_model_sha256, redact};
use wasm_bindgen_test::wasm_bindgen_test;

include!("common/fixture.rs");

const SETTINGS: &str = r#"{"mode":"noise","grow":0.3,"seed":11}"#;

#[wasm_bindgen_test]
fn redact_masks_the_boxes_and_strips_metadata() {
    let input = photo_with_gps();
    let out = redact(&input, r#"[{"x0":20,"y0":20,"x1":60,"y1":60}]"#, SETTINGS).unwrap();
    let report: serde_json::Value = serde_json::from_str(&out.report()).unwrap();
    assert_eq!(report["faces"].as_array().unwrap().len(), 1);
    assert!(
        report["metadata_removed"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v == "gps")
    );
    assert!(report["timings"]["encode_ms"].as_f64().unwrap() >= 0.0);
    let bytes = out.bytes();
    assert!(!bytes.is_empty());
    assert!(scan(&bytes, Format::Jpeg).identifying().is_empty());
    assert_ne!(bytes, input);
}

#[wasm_bindgen_test]
fn corrupt_and_unsupported_files_fail() {
    assert!(redact(b"\x89PNG\r\n\x1a\n broken", "[]", SETTINGS).is_err());
    assert!(redact(b"plain text", "[]", SETTINGS).is_err());
    assert!(redact(&photo_with_gps(), "[]", r#"{"mode":"swirl"}"#).is_err());
}

#[wasm_bindgen_test]
fn a_wrong_model_is_refused() {
    assert!(Engine::new(b"not a model".to_vec()).is_err());
    assert!(
        prepared_model_sha256()
            .chars()
            .all(|c| c.is_ascii_hexdigit())
    );
}
