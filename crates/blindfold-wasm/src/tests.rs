use super::*;
use blindfold::codec::{DecodeOptions, Format, decode};
use blindfold::metadata::scan;

include!("../tests/common/fixture.rs");

const SETTINGS: &str = r#"{"mode":"solid","grow":0.25,"seed":3}"#;

#[test]
fn redact_reports_and_strips_gps() {
    let input = photo_with_gps();
    assert!(scan(&input, Format::Jpeg).gps, "the fixture must carry GPS");
    let out = redact_boxes(&input, r#"[{"x0":10,"y0":10,"x1":50,"y1":50}]"#, SETTINGS).unwrap();
    let report: serde_json::Value = serde_json::from_str(out.report_json()).unwrap();
    assert_eq!(report["format"], "jpeg");
    assert_eq!(
        (report["width"].as_u64(), report["height"].as_u64()),
        (Some(120), Some(80))
    );
    let removed: Vec<&str> = report["metadata_removed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(
        removed.contains(&"gps") && removed.contains(&"exif"),
        "{removed:?}"
    );
    let face = &report["faces"][0];
    assert_eq!(face["score"], 1.0);
    // The mask is the box grown by a quarter on each side.
    assert_eq!(face["mask"]["bbox"]["x0"], 0.0);
    assert_eq!(face["mask"]["bbox"]["x1"], 60.0);
    let bytes = out.into_bytes();
    assert!(scan(&bytes, Format::Jpeg).identifying().is_empty());
    assert_eq!(
        decode(&bytes, &DecodeOptions::default())
            .unwrap()
            .image
            .dimensions(),
        (120, 80)
    );
}

#[test]
fn bad_input_is_an_error_not_a_picture() {
    assert!(redact_boxes(b"GIF89a not supported", "[]", SETTINGS).is_err());
    let truncated = &photo_with_gps()[..600];
    assert!(redact_boxes(truncated, "[]", SETTINGS).is_err());
}

#[test]
fn bad_settings_and_boxes_are_errors() {
    let input = photo_with_gps();
    for s in [
        r#"{"mode":"swirl"}"#,
        r#"{"grow":9}"#,
        r#"{"colour":1}"#,
        "nope",
    ] {
        assert!(redact_boxes(&input, "[]", s).is_err(), "{s}");
    }
    for b in [r#"[{"x0":1}]"#, r#"{"x0":1,"y0":1,"x1":2,"y1":2}"#] {
        assert!(redact_boxes(&input, b, SETTINGS).is_err(), "{b}");
    }
}

#[test]
fn settings_default_to_the_cli_defaults() {
    let s = Settings::parse("{}").unwrap();
    assert_eq!(s.mode, Mode::Noise);
    assert_eq!(s.grow, MaskSpec::default().grow);
}

#[test]
fn garbage_is_not_a_model() {
    assert!(Engine::load(b"not a model".to_vec()).is_err());
    assert_eq!(prepared_model_sha256().len(), 64);
}
