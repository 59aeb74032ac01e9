//! Golden outputs: the faces the CLI reports (`--json --dry-run`, default
//! settings, real model) on fixed synthetic scenes, in each precision:
//! `tests/golden/NAME.expected.json` for fp32 (ONNX Runtime or rten) and
//! `NAME.int8.expected.json` for int8 (ONNX Runtime only; its scores differ
//! from fp32's by up to about 0.04, more than the margin). Boxes are
//! compared by IoU with a tolerance and scores within a margin, so ONNX
//! Runtime and rten both pass; a change of detection behaviour shows up as a
//! failing test and a reviewable diff.
//!
//! Re-baseline after an intended change:
//! `BLINDFOLD_UPDATE_GOLDEN=1 cargo test -p blindfold-cli --test it golden`.

use crate::support::*;
use serde_json::{Value, json};
use std::path::PathBuf;

/// Two boxes are the same face above this IoU.
const MIN_IOU: f32 = 0.9;
/// Scores may differ this much (backends differ by about 1e-3).
const SCORE_MARGIN: f64 = 0.03;

fn golden_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(format!("{name}.expected.json"))
}

/// Run the CLI on `img` in fp32, and in int8 where ONNX Runtime is at hand,
/// against the golden file of each.
fn check(name: &str, img: &image::RgbImage) {
    check_in(name, img, &["--precision", "fp32"]);
    if let Some(lib) = ort_lib() {
        let lib = lib.to_string_lossy().to_string();
        let args = ["--precision", "int8", "--ort-lib", lib.as_str()];
        check_in(&format!("{name}.int8"), img, &args);
    }
}

/// The faces of a `--json` report as `[x0, y0, x1, y1, score]`, rounded to
/// 0.1 px and 0.001.
fn faces_of(report: &Value) -> Vec<[f64; 5]> {
    let r = |v: &Value, k: f64| (v.as_f64().unwrap() * k).round() / k;
    let mut faces: Vec<[f64; 5]> = report["faces"]
        .as_array()
        .expect("faces")
        .iter()
        .map(|f| {
            let b = &f["bbox"];
            [
                r(&b["x0"], 10.0),
                r(&b["y0"], 10.0),
                r(&b["x1"], 10.0),
                r(&b["y1"], 10.0),
                r(&f["score"], 1000.0),
            ]
        })
        .collect();
    faces.sort_by(|a, b| a.partial_cmp(b).unwrap());
    faces
}

fn iou(a: &[f64; 5], b: &[f64; 5]) -> f32 {
    let w = (a[2].min(b[2]) - a[0].max(b[0])).max(0.0);
    let h = (a[3].min(b[3]) - a[1].max(b[1])).max(0.0);
    let inter = w * h;
    let area = |v: &[f64; 5]| (v[2] - v[0]) * (v[3] - v[1]);
    (inter / (area(a) + area(b) - inter)) as f32
}

/// Run the CLI with `args` on `img` (as PNG) and compare with the golden
/// file `name`.
fn check_in(name: &str, img: &image::RgbImage, args: &[&str]) {
    let dir = tempdir();
    let mut png = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    let input = put(dir.path(), &format!("{name}.png"), &png);
    let out = run(blindfold()
        .args(["--json", "--dry-run", "-q"])
        .args(args)
        .arg(&input));
    assert!(out.status.success(), "{}", text(&out));
    let got = faces_of(&json_lines(&out)[0]);
    let path = golden_path(name);
    if std::env::var("BLINDFOLD_UPDATE_GOLDEN").as_deref() == Ok("1") {
        // One face a line, so a re-baseline reads as a diff of faces.
        let lines: Vec<String> = got.iter().map(|f| json!(f).to_string()).collect();
        let body = format!(
            "{{\"scene\": {},\n\"faces\": [\n{}\n]}}\n",
            json!(name),
            lines.join(",\n")
        );
        std::fs::write(&path, body).unwrap();
        eprintln!("updated {}", path.display());
        return;
    }
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run with BLINDFOLD_UPDATE_GOLDEN=1 to create it",
            path.display()
        )
    });
    let want: Vec<[f64; 5]> =
        serde_json::from_value(serde_json::from_str::<Value>(&text).unwrap()["faces"].clone())
            .unwrap();
    let mut unmatched = got.clone();
    for w in &want {
        let best = unmatched
            .iter()
            .enumerate()
            .map(|(i, g)| (i, iou(w, g)))
            .max_by(|a, b| a.1.total_cmp(&b.1));
        match best {
            Some((i, v)) if v >= MIN_IOU && (unmatched[i][4] - w[4]).abs() <= SCORE_MARGIN => {
                unmatched.remove(i);
            }
            _ => panic!(
                "{name}: expected face {w:?} not found (got {got:?}); \
                 if the change is intended, re-baseline with BLINDFOLD_UPDATE_GOLDEN=1"
            ),
        }
    }
    assert!(
        unmatched.is_empty(),
        "{name}: faces not in the golden file: {unmatched:?}; \
         if the change is intended, re-baseline with BLINDFOLD_UPDATE_GOLDEN=1"
    );
}

#[test]
fn golden_crowd() {
    let (img, _) = crate::photos::crowd();
    check("crowd", &img);
}

#[test]
fn golden_faceless_canvas() {
    check("canvas", &canvas(800, 600));
}

#[test]
fn golden_iou_and_matching_are_strict_enough() {
    let a = [0.0, 0.0, 10.0, 10.0, 0.5];
    assert!((iou(&a, &a) - 1.0).abs() < 1e-6);
    assert!(iou(&a, &[5.0, 0.0, 15.0, 10.0, 0.5]) < MIN_IOU);
}
