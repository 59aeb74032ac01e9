//! libjpeg-turbo's `djpeg -strict` as an oracle for damaged JPEGs: every
//! mutation it rejects, blindfold must reject too. Skips (with a message)
//! when `djpeg` is not installed (Debian: `libjpeg-turbo-progs`; CI installs
//! it).

use blindfold::codec::{DecodeOptions, decode};
use jpeg_encoder::{ColorType, Encoder, SamplingFactor};
use std::io::Write;
use std::process::{Command, Stdio};

fn djpeg_available() -> bool {
    Command::new("djpeg")
        .arg("-version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

/// Whether `djpeg -strict` decodes `bytes` without an error or warning.
fn djpeg_accepts(bytes: &[u8]) -> bool {
    let mut child = Command::new("djpeg")
        .args(["-strict", "-ppm"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("djpeg runs");
    // djpeg may stop reading early on an error; a broken pipe is fine.
    let _ = child.stdin.take().expect("stdin").write_all(bytes);
    child.wait().expect("djpeg ends").success()
}

fn blindfold_accepts(bytes: &[u8]) -> bool {
    decode(bytes, &DecodeOptions::default()).is_ok()
}

/// A detailed 120x80 picture encoded as `kind`.
fn sample(kind: &str) -> Vec<u8> {
    let (w, h) = (120u16, 80u16);
    let mut px = Vec::new();
    for y in 0..h as u32 {
        for x in 0..w as u32 {
            let v = (x * 7 + y * 13) ^ (x * y);
            px.extend_from_slice(&[v as u8, (v >> 3) as u8, (x * 2 + y) as u8]);
        }
    }
    let mut out = Vec::new();
    let mut enc = Encoder::new(&mut out, 90);
    match kind {
        "restarts" => {
            enc.set_restart_interval(3);
            enc.set_sampling_factor(SamplingFactor::F_2_2);
        }
        "progressive" => enc.set_progressive(true),
        "progressive-restarts" => {
            enc.set_progressive(true);
            enc.set_restart_interval(5);
        }
        _ => enc.set_sampling_factor(SamplingFactor::F_2_2),
    }
    enc.encode(&px, w, h, ColorType::Rgb).expect("encodes");
    out
}

/// Offset of the first scan's data (just past the first SOS segment).
fn scan_start(b: &[u8]) -> usize {
    let sos = b.windows(2).position(|w| w == [0xFF, 0xDA]).expect("SOS");
    sos + 2 + usize::from(u16::from_be_bytes([b[sos + 2], b[sos + 3]]))
}

struct Tally {
    cases: usize,
    djpeg_rejects: usize,
    missed: Vec<String>,
    stricter: usize,
    /// djpeg rejects that decode with `accept_damaged` (what the walk of
    /// the entropy data catches and zune-jpeg alone would let through).
    lenient: usize,
}

fn compare(t: &mut Tally, name: String, bytes: &[u8]) {
    let dj = djpeg_accepts(bytes);
    let bf = blindfold_accepts(bytes);
    t.cases += 1;
    if !dj {
        t.djpeg_rejects += 1;
        if bf {
            t.missed.push(name);
        }
        let lenient = DecodeOptions {
            accept_damaged: true,
            ..DecodeOptions::default()
        };
        if decode(bytes, &lenient).is_ok_and(|d| d.damaged.is_some()) {
            t.lenient += 1;
        }
    } else if !bf {
        t.stricter += 1;
    }
}

#[test]
fn what_djpeg_strict_rejects_blindfold_rejects() {
    if !djpeg_available() {
        eprintln!("djpeg not found (apt-get install libjpeg-turbo-progs); oracle test skipped");
        return;
    }
    let mut t = Tally {
        cases: 0,
        djpeg_rejects: 0,
        missed: Vec::new(),
        stricter: 0,
        lenient: 0,
    };
    let mut x = 0x2545_F491_4F6C_DD1Du64;
    for kind in [
        "baseline",
        "restarts",
        "progressive",
        "progressive-restarts",
    ] {
        let clean = sample(kind);
        assert!(
            djpeg_accepts(&clean),
            "{kind}: djpeg rejects the clean file"
        );
        assert!(
            blindfold_accepts(&clean),
            "{kind}: blindfold rejects the clean file"
        );
        let start = scan_start(&clean);
        let end = clean.len() - 2;
        // Bit flips in the entropy-coded data (and the scan headers after
        // the first, for progressive files).
        for i in 0..60 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let at = start + (x as usize) % (end - start);
            let mut b = clean.clone();
            b[at] ^= 1 << ((x >> 40) % 8);
            compare(&mut t, format!("{kind} flip {i} at {at}"), &b);
        }
        // Cut inside the data and closed again with an EOI marker.
        for k in 1..=12 {
            let cut = start + (end - start) * k / 13;
            let mut b = clean[..cut].to_vec();
            b.extend_from_slice(&[0xFF, 0xD9]);
            compare(&mut t, format!("{kind} cut at {cut} + EOI"), &b);
            compare(&mut t, format!("{kind} cut at {cut}"), &clean[..cut]);
        }
    }
    eprintln!(
        "{} mutations: djpeg -strict rejected {}, blindfold accepted {} of those; \
         blindfold alone rejected {}; {} would decode with accept_damaged",
        t.cases,
        t.djpeg_rejects,
        t.missed.len(),
        t.stricter,
        t.lenient
    );
    assert!(
        t.lenient > 0,
        "the damage check was never needed: the test proves nothing"
    );
    assert!(
        t.djpeg_rejects > 100,
        "too few rejected cases to mean anything"
    );
    assert!(
        t.missed.is_empty(),
        "accepted although djpeg -strict rejects: {:#?}",
        t.missed
    );
}
