//! JPEGs edited in the DCT domain, checked with libjpeg-turbo as the
//! oracle: inputs made by `cjpeg` (progressive, restart markers, 4:2:0,
//! 4:2:2, 4:4:4, 4:4:0, grey, low and high quality, arithmetic coding),
//! outputs decoded by `djpeg -dct int -nosmooth` must equal the input's
//! pixels outside the MCUs a mask touches, differ inside them, and pass
//! `djpeg -strict`. Skips (with a message) when the tools are missing
//! (Debian: `libjpeg-turbo-progs`; CI installs it).

use blindfold::BBox;
use blindfold::anonymize::{Mask, Mode, Shape};
use blindfold::codec::dct::edit;
use std::io::Write;
use std::process::{Command, Stdio};

fn tools() -> bool {
    ["cjpeg", "djpeg"].iter().all(|t| {
        Command::new(t)
            .arg("-version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok()
    })
}

/// Run `tool args` with `input` on stdin; its stdout, or None on failure
/// or any warning on stderr.
fn pipe(tool: &str, args: &[&str], input: &[u8]) -> Option<Vec<u8>> {
    let mut child = Command::new(tool)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("tool runs");
    let mut stdin = child.stdin.take().expect("stdin");
    let data = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&data);
    });
    let out = child.wait_with_output().expect("tool ends");
    writer.join().unwrap();
    (out.status.success() && out.stderr.is_empty()).then_some(out.stdout)
}

/// A 203x141 picture (odd sizes: partial MCUs) as a binary PPM.
fn ppm() -> Vec<u8> {
    let (w, h) = (203u32, 141u32);
    let mut out = format!("P6\n{w} {h}\n255\n").into_bytes();
    for y in 0..h {
        for x in 0..w {
            let v = (x * 7 + y * 13) ^ (x * y / 3);
            out.extend_from_slice(&[v as u8, (x + 2 * y) as u8, (y * 5 + v / 2) as u8]);
        }
    }
    out
}

/// The pixels djpeg decodes, with the width and the bytes per pixel.
fn pixels(jpeg: &[u8]) -> (usize, usize, Vec<u8>) {
    let out = pipe("djpeg", &["-dct", "int", "-nosmooth", "-pnm"], jpeg).expect("djpeg decodes");
    let text = String::from_utf8_lossy(&out[..20.min(out.len())]).to_string();
    let f: Vec<&str> = text.split_ascii_whitespace().take(4).collect();
    let ch = if f[0] == "P6" { 3 } else { 1 };
    let header = f.iter().map(|s| s.len() + 1).sum::<usize>();
    (f[1].parse().unwrap(), ch, out[header..].to_vec())
}

fn mask(x0: f32, y0: f32, x1: f32, y1: f32) -> Mask {
    Mask {
        shape: Shape::Ellipse,
        bbox: BBox::new(x0, y0, x1, y1),
    }
}

#[test]
fn outside_the_touched_mcus_djpeg_sees_the_same_pixels() {
    if !tools() {
        eprintln!("cjpeg/djpeg not installed: skipped");
        return;
    }
    let masks = [
        mask(30.0, 20.0, 70.0, 60.0),
        mask(150.0, 100.0, 203.0, 141.0),
    ];
    let cases: [(&[&str], usize, usize); 9] = [
        (&["-quality", "90"], 16, 16),
        (&["-quality", "90", "-progressive"], 16, 16),
        (&["-quality", "75", "-restart", "2"], 16, 16),
        (
            &["-quality", "95", "-progressive", "-restart", "3B"],
            16,
            16,
        ),
        (&["-quality", "90", "-sample", "2x1"], 16, 8),
        (&["-quality", "90", "-sample", "1x2", "-progressive"], 8, 16),
        (&["-quality", "100", "-sample", "1x1"], 8, 8),
        (&["-quality", "30", "-grayscale", "-progressive"], 8, 8),
        (
            &[
                "-quality",
                "85",
                "-optimize",
                "-sample",
                "1x1",
                "-restart",
                "1",
            ],
            8,
            8,
        ),
    ];
    for (args, mw, mh) in cases {
        let input = pipe("cjpeg", args, &ppm()).expect("cjpeg encodes");
        for mode in [Mode::Noise, Mode::Solid] {
            let out =
                edit(&input, &masks, mode, 42, None).unwrap_or_else(|e| panic!("{args:?}: {e}"));
            assert!(
                pipe("djpeg", &["-strict"], &out.bytes).is_some(),
                "{args:?}: djpeg -strict refuses the output"
            );
            let (w, ch, a) = pixels(&input);
            let (_, _, b) = pixels(&out.bytes);
            assert_eq!(a.len(), b.len());
            // The MCUs the masks' boxes reach (an ellipse touches no more).
            let touched = |x: usize, y: usize| {
                masks.iter().any(|m| {
                    let b = m.bbox;
                    let (x0, y0) = (b.x0 as usize / mw, b.y0 as usize / mh);
                    let (x1, y1) = ((b.x1 as usize - 1) / mw, (b.y1 as usize - 1) / mh);
                    (x0..=x1).contains(&(x / mw)) && (y0..=y1).contains(&(y / mh))
                })
            };
            let (mut outside, mut inside, mut inside_same) = (0, 0, 0);
            for (i, (p, q)) in a.chunks(ch).zip(b.chunks(ch)).enumerate() {
                let (x, y) = (i % w, i / w);
                if !touched(x, y) {
                    outside += usize::from(p != q);
                } else if m_centre(&masks, x, y) {
                    inside += 1;
                    inside_same += usize::from(p == q);
                }
            }
            assert_eq!(outside, 0, "{args:?} {mode:?}: pixels changed outside");
            assert!(inside > 800, "{args:?}: {inside}");
            // Nothing of the picture survives in the middle of the masks.
            assert!(
                inside_same * 50 < inside,
                "{args:?} {mode:?}: {inside_same} of {inside} pixels kept"
            );
            let kept = out.mcus - out.mcus_replaced;
            assert!(kept > out.mcus / 2, "{args:?}");
        }
    }
}

/// Whether `(x, y)` lies in the middle half of a mask's box.
fn m_centre(masks: &[Mask], x: usize, y: usize) -> bool {
    masks.iter().any(|m| {
        let b = m.bbox;
        let (cx, cy) = b.center();
        let (x, y) = (x as f32 + 0.5, y as f32 + 0.5);
        (x - cx).abs() < b.width() / 4.0 && (y - cy).abs() < b.height() / 4.0
    })
}

#[test]
fn what_the_dct_path_cannot_carry_is_refused() {
    if !tools() {
        eprintln!("cjpeg/djpeg not installed: skipped");
        return;
    }
    let arith = pipe("cjpeg", &["-arithmetic"], &ppm()).expect("cjpeg encodes");
    let why = edit(&arith, &[], Mode::Noise, 1, None).unwrap_err();
    assert!(why.contains("arithmetic"), "{why}");
    let rgb = pipe("cjpeg", &["-rgb"], &ppm()).expect("cjpeg encodes");
    let why = edit(&rgb, &[], Mode::Noise, 1, None).unwrap_err();
    assert!(why.contains("RGB"), "{why}");
}
