//! The two inference backends on the real model: ONNX Runtime and rten must
//! compute the same network, so they must find the same faces. Also: bad
//! inputs are errors, not panics, and a timing run (`--ignored`).

#![cfg(all(feature = "ort", feature = "rten"))]

use crate::support::*;
use blindfold::detect::{
    Backend, CENTERFACE, CenterFace, DetectConfig, FaceDetector, ModelOutput, Tensor4,
};
use blindfold::{BBox, Detection, Error};
use blindfold_infer::ort_backend::{OrtBackend, ort_available};
use blindfold_infer::rten_backend::RtenBackend;
use image::RgbImage;
use std::path::Path;
use std::time::Instant;

fn model() -> Vec<u8> {
    std::fs::read(model_path()).expect("read the prepared model")
}

/// The ONNX Runtime backend, or `None` (with a note) where this platform has
/// no pinned library.
fn ort(threads: usize) -> Option<OrtBackend> {
    let Some(lib) = ort_lib() else {
        eprintln!("no ONNX Runtime library for this platform; ORT checks skipped");
        return None;
    };
    Some(OrtBackend::new(&model(), CENTERFACE, &lib, threads).expect("ORT backend"))
}

fn rten() -> RtenBackend {
    RtenBackend::new(model(), CENTERFACE).expect("rten backend")
}

/// Images as one NCHW batch, RGB 0..255 (all the same size).
fn batch(images: &[&RgbImage]) -> Tensor4 {
    let (w, h) = (images[0].width() as usize, images[0].height() as usize);
    let mut t = Tensor4::zeros([images.len(), 3, h, w]);
    for (n, img) in images.iter().enumerate() {
        assert_eq!((img.width() as usize, img.height() as usize), (w, h));
        for (x, y, p) in img.enumerate_pixels() {
            for c in 0..3 {
                t.data[((n * 3 + c) * h + y as usize) * w + x as usize] = p[c] as f32;
            }
        }
    }
    t
}

fn max_diff(a: &Tensor4, b: &Tensor4) -> f32 {
    assert_eq!(a.shape, b.shape);
    a.data
        .iter()
        .zip(&b.data)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

fn peak(out: &ModelOutput, n: usize) -> f32 {
    let len = out.heatmap.data.len() / out.heatmap.shape[0];
    out.heatmap.data[n * len..(n + 1) * len]
        .iter()
        .copied()
        .fold(0.0, f32::max)
}

/// A 640x480 scene with three real faces, 40, 80 and 150 px tall, whose
/// pasted portraits do not cover one another's face. Returns the face boxes.
fn scene() -> (RgbImage, Vec<[f32; 4]>) {
    let mut img = canvas(640, 480);
    let faces = vec![
        paste_face(&mut img, 150.0, 400.0, 200.0),
        paste_face(&mut img, 40.0, 40.0, 40.0),
        paste_face(&mut img, 80.0, 40.0, 300.0),
    ];
    (img, faces)
}

#[test]
fn raw_outputs_agree() {
    let Some(mut ort) = ort(2) else { return };
    let mut rten = rten();
    // A batch of two: the portrait (512x512) and a faceless canvas.
    let input = batch(&[&astronaut(), &canvas(512, 512)]);
    let a = ModelOutput::from_outputs(ort.run(&input).expect("ORT runs")).unwrap();
    let b = ModelOutput::from_outputs(rten.run(&input).expect("rten runs")).unwrap();
    for out in [&a, &b] {
        assert_eq!(out.heatmap.shape, [2, 1, 128, 128]);
        assert_eq!(out.scale.shape, [2, 2, 128, 128]);
        assert_eq!(out.offset.shape, [2, 2, 128, 128]);
        assert!(
            peak(out, 0) > 0.8,
            "the portrait's face: peak {}",
            peak(out, 0)
        );
        assert!(
            peak(out, 1) < 0.2,
            "no face on the canvas: peak {}",
            peak(out, 1)
        );
    }
    let d = max_diff(&a.heatmap, &b.heatmap);
    assert!(d < 1e-3, "heatmaps differ by {d}");
    let d = max_diff(&a.scale, &b.scale);
    assert!(d < 1e-2, "scales differ by {d}");
    let d = max_diff(&a.offset, &b.offset);
    assert!(d < 1e-2, "offsets differ by {d}");
}

fn detect(backend: impl Backend, img: &RgbImage) -> Vec<Detection> {
    let mut det = CenterFace::new(backend, DetectConfig::default()).expect("detector");
    det.detect(img).expect("detection runs")
}

/// Panic unless `dets` (from `name`) has a box on each of `faces`.
fn assert_finds(name: &str, dets: &[Detection], faces: &[[f32; 4]]) {
    for f in faces {
        let face = BBox::new(f[0], f[1], f[2], f[3]);
        assert!(
            dets.iter().any(|d| d.bbox.iou(&face) >= 0.5),
            "{name} missed the face at {f:?}: {dets:?}"
        );
    }
}

/// For each box of `a`, the box of `b` that overlaps it most, with their IoU.
fn matches<'a>(a: &'a [Detection], b: &'a [Detection]) -> Vec<(&'a Detection, &'a Detection, f32)> {
    a.iter()
        .map(|d| {
            let best = b
                .iter()
                .max_by(|x, y| x.bbox.iou(&d.bbox).total_cmp(&y.bbox.iou(&d.bbox)))
                .expect("a box to match");
            (d, best, best.bbox.iou(&d.bbox))
        })
        .collect()
}

#[test]
fn both_backends_find_the_same_faces() {
    let Some(ort) = ort(2) else { return };
    let (img, faces) = scene();
    let a = detect(ort, &img);
    let b = detect(rten(), &img);
    assert_finds("ORT", &a, &faces);
    assert_eq!(a.len(), b.len(), "ORT {a:?}\nrten {b:?}");
    for (d, best, iou) in matches(&a, &b) {
        assert!(iou >= 0.9, "ORT {d:?} best rten match {best:?} (IoU {iou})");
        assert!(
            (best.score - d.score).abs() <= 0.02,
            "ORT {d:?} rten {best:?}"
        );
    }
}

/// int8 detections may differ from fp32 ones by this much: IoU of the
/// matched boxes at least this, ...
const INT8_MIN_IOU: f32 = 0.9;
/// ... and scores within this (measured on these four faces with ONNX
/// Runtime 1.32 on AVX-512 VNNI: worst IoU 0.970, worst score difference
/// 0.037).
const INT8_SCORE_MARGIN: f32 = 0.06;

#[test]
fn int8_graph_is_pinned_and_finds_the_faces_fp32_finds() {
    use blindfold_infer::onnx::{quantize, sha256_hex};
    let Some(lib) = ort_lib() else { return };
    let int8 = quantize::quantize_centerface(&model()).expect("int8 derives");
    assert_eq!(sha256_hex(&int8), quantize::CENTERFACE_INT8_SHA256);
    let backend = |bytes: &[u8]| OrtBackend::new(bytes, CENTERFACE, &lib, 2).expect("ORT");
    let (img, mut faces) = scene();
    let portrait = astronaut();
    faces.push(ASTRONAUT_FACE);
    let (mut worst_iou, mut worst_score) = (1.0f32, 0.0f32);
    for (img, faces) in [(&img, &faces[..3]), (&portrait, &faces[3..])] {
        let a = detect(backend(&model()), img);
        let b = detect(backend(&int8), img);
        assert_finds("fp32", &a, faces);
        assert_finds("int8", &b, faces);
        assert_eq!(a.len(), b.len(), "fp32 {a:?}\nint8 {b:?}");
        for (d, best, iou) in matches(&a, &b) {
            worst_iou = worst_iou.min(iou);
            worst_score = worst_score.max((best.score - d.score).abs());
        }
    }
    eprintln!(
        "int8 against fp32: worst IoU {worst_iou:.3}, worst score difference {worst_score:.3}"
    );
    assert!(worst_iou >= INT8_MIN_IOU, "IoU {worst_iou}");
    assert!(
        worst_score <= INT8_SCORE_MARGIN,
        "score difference {worst_score}"
    );
}

fn assert_rejects(backend: &mut dyn Backend) {
    let bad = [
        Tensor4::zeros([1, 3, 30, 32]),
        Tensor4::zeros([1, 4, 32, 32]),
        Tensor4::zeros([0, 3, 32, 32]),
        Tensor4 {
            data: vec![0.0; 10],
            shape: [1, 3, 32, 32],
        },
    ];
    for t in bad {
        match backend.run(&t) {
            Err(Error::Inference(_)) => {}
            other => panic!("{}: {:?} gave {other:?}", backend.name(), t.shape),
        }
    }
    // And it still works afterwards, with a batch of three small tiles.
    let out = backend.run(&Tensor4::zeros([3, 3, 64, 96])).expect("runs");
    assert_eq!(out[0].shape, [3, 1, 16, 24]);
}

#[test]
fn bad_input_shapes_are_errors() {
    assert_rejects(&mut rten());
    if let Some(mut ort) = ort(1) {
        assert_rejects(&mut ort);
    }
}

#[test]
fn ort_loads_once_and_refuses_another_library() {
    let Some(lib) = ort_lib() else { return };
    assert!(ort_available(&lib));
    // The same library again: shares the loaded runtime.
    OrtBackend::new(&model(), CENTERFACE, &lib, 1).expect("second backend");
    OrtBackend::new(&model(), CENTERFACE, &lib, 1).expect("third backend");
    // A different file: refused (if not already loaded, it is not a library).
    let other = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
    assert!(matches!(
        OrtBackend::new(&model(), CENTERFACE, &other, 1),
        Err(Error::Inference(_))
    ));
    assert!(!ort_available(&other));
    // Bytes that are not a model.
    assert!(matches!(
        OrtBackend::new(b"junk", CENTERFACE, &lib, 1),
        Err(Error::Inference(_))
    ));
}

/// Median of 10 runs after 2 warm-up runs, in milliseconds.
fn time(backend: &mut dyn Backend, input: &Tensor4) -> f64 {
    for _ in 0..2 {
        backend.run(input).expect("runs");
    }
    let mut ms: Vec<f64> = (0..10)
        .map(|_| {
            let t = Instant::now();
            backend.run(input).expect("runs");
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    ms.sort_by(f64::total_cmp);
    (ms[4] + ms[5]) / 2.0
}

/// Time per run at 1x3x480x640. Run with
/// `cargo test --release -p blindfold-cli --test it backends::timing -- --ignored --nocapture`.
#[test]
#[ignore]
fn timing() {
    let input = batch(&[&scene().0]);
    if let Some(mut ort) = ort(2) {
        eprintln!("ort (2 threads): {:.1} ms", time(&mut ort, &input));
    }
    let mut rten = rten();
    eprintln!("rten (shared pool): {:.1} ms", time(&mut rten, &input));
    let mut rten = RtenBackend::new(model(), CENTERFACE)
        .unwrap()
        .with_threads(2);
    eprintln!("rten (2 threads): {:.1} ms", time(&mut rten, &input));
    // The int8 graph on each backend: does int8 pay on rten too?
    let int8 = blindfold_infer::onnx::quantize::quantize_centerface(&model()).unwrap();
    if let Some(lib) = ort_lib() {
        let mut ort = OrtBackend::new(&int8, CENTERFACE, &lib, 2).unwrap();
        eprintln!("ort int8 (2 threads): {:.1} ms", time(&mut ort, &input));
    }
    match RtenBackend::new(int8, CENTERFACE) {
        Ok(r) => {
            let mut r = r.with_threads(2);
            match r.run(&input) {
                Ok(_) => eprintln!("rten int8 (2 threads): {:.1} ms", time(&mut r, &input)),
                Err(e) => eprintln!("rten int8 cannot run: {e}"),
            }
        }
        Err(e) => eprintln!("rten int8 cannot load: {e}"),
    }
}
