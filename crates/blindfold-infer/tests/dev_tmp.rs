// TEMPORARY dev test (backends helper); to be deleted.
use blindfold::detect::{Backend, Tensor4};
use blindfold_infer::{ort_backend::OrtBackend, rten_backend::RtenBackend};
use std::path::Path;
use std::time::Instant;

fn read(p: &str) -> Vec<f32> {
    std::fs::read(p).unwrap().chunks(4).map(|c| f32::from_le_bytes(c.try_into().unwrap())).collect()
}

fn maxdiff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

#[test]
#[ignore]
fn dev_compare() {
    let model = std::fs::read("/tmp/centerface-prepared.onnx").unwrap();
    let input = Tensor4 { data: read("/tmp/bk/input.bin"), shape: [1, 3, 480, 640] };
    let refs = ["537", "538", "539"].map(|n| read(&format!("/tmp/bk/ref_{n}.bin")));
    let mut o = OrtBackend::new(&model, Path::new("/tmp/ort/libonnxruntime.so.1.32.0"), 2).unwrap();
    let mut o2 = OrtBackend::new(&model, Path::new("/tmp/ort/libonnxruntime.so.1.32.0"), 2).unwrap();
    let mut r = RtenBackend::new(model.clone()).unwrap();
    for (name, b) in [("ort", &mut o as &mut dyn Backend), ("ort2", &mut o2), ("rten", &mut r)] {
        let out = b.run(&input).unwrap();
        let d = [&out.heatmap, &out.scale, &out.offset].map(|t| t.shape);
        let m = [
            maxdiff(&out.heatmap.data, &refs[0]),
            maxdiff(&out.scale.data, &refs[1]),
            maxdiff(&out.offset.data, &refs[2]),
        ];
        println!("{name}: shapes {d:?} maxdiff vs python ort {m:?}");
        let mut times = Vec::new();
        for _ in 0..(if std::env::var("BENCH").is_ok() { 11 } else { 0 }) {
            let t = Instant::now();
            b.run(&input).unwrap();
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        if !times.is_empty() {
            times.remove(0);
            times.sort_by(f64::total_cmp);
            println!("{name}: median {:.1} ms ({times:.1?})", times[times.len() / 2]);
        }
    }
    // batch of 2 with different-size input
    let b2 = Tensor4::zeros([2, 3, 64, 96]);
    let a = o.run(&b2).unwrap();
    let c = r.run(&b2).unwrap();
    println!("batch2: {:?} {:?} diff {}", a.heatmap.shape, c.heatmap.shape, maxdiff(&a.heatmap.data, &c.heatmap.data));
    for bad in [[1, 3, 30, 32], [1, 1, 32, 32]] {
        println!("bad {bad:?}: {:?} / {:?}", o.run(&Tensor4::zeros(bad)).err(), r.run(&Tensor4::zeros(bad)).err());
    }
    println!("other lib: {:?}", OrtBackend::new(&model, Path::new("/tmp/bk/input.bin"), 1).err());
    println!("bad model: {:?}", OrtBackend::new(b"junk", Path::new("/tmp/ort/libonnxruntime.so.1.32.0"), 1).err());
}
