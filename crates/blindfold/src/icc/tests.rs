use super::testdata::{PLANTED, contains, profile};
use super::*;

fn rebuilt(p: &[u8]) -> (Vec<u8>, bool) {
    match sanitize(p) {
        Sanitized::Rebuilt {
            profile,
            removed_text,
        } => (profile, removed_text),
        Sanitized::Dropped(why) => panic!("dropped: {why}"),
    }
}

#[test]
fn hostile_profile_loses_every_planted_text_and_keeps_its_colours() {
    let hostile = profile(true);
    for t in PLANTED {
        assert!(contains(&hostile, t));
    }
    let (out, removed) = rebuilt(&hostile);
    assert!(removed);
    for t in PLANTED {
        assert!(
            !contains(&out, t),
            "{:?} survived",
            String::from_utf8_lossy(t)
        );
    }
    assert!(!contains(&out, b"SN42") && !contains(&out, b"JANE") && !contains(&out, b"APPL"));
    // The colour data is the same as in the clean profile.
    let (clean, _) = rebuilt(&profile(false));
    assert_eq!(out, clean);
    let back = parse::parse(&out).unwrap();
    let sigs: Vec<[u8; 4]> = back.tags.iter().map(|t| t.sig).collect();
    for s in [
        b"wtpt", b"rXYZ", b"gXYZ", b"bXYZ", b"rTRC", b"gTRC", b"bTRC", b"desc",
    ] {
        assert!(sigs.contains(s));
    }
    for (a, b) in [(b"rXYZ", 1usize), (b"bTRC", 6)] {
        let orig = &profile(false);
        let op = parse::parse(orig).unwrap();
        let want = &orig[op.tags[b].data.clone()];
        let got = back.tags.iter().find(|t| &t.sig == a).unwrap();
        assert_eq!(&out[got.data.clone()], want);
    }
}

#[test]
fn sanitizing_twice_removes_nothing_more() {
    let (once, _) = rebuilt(&profile(true));
    let (twice, removed) = rebuilt(&once);
    assert!(!removed);
    assert_eq!(once, twice);
}

#[test]
fn things_that_are_not_rgb_profiles_are_dropped() {
    let jpeg = crate::codec::encode(
        &image::RgbImage::new(8, 8),
        None,
        crate::codec::Format::Jpeg,
        None,
        &Default::default(),
    )
    .unwrap();
    let mut cmyk = profile(false);
    cmyk[16..20].copy_from_slice(b"CMYK");
    let mut bad_tag = profile(false);
    bad_tag[132 + 4..132 + 8].copy_from_slice(&0xFFFF_FF00u32.to_be_bytes());
    let mut no_curves = profile(false);
    no_curves[132 + 12 * 4..132 + 12 * 4 + 4].copy_from_slice(b"xTRC");
    let mut short_curve = profile(false);
    let off = 132 + 12 * 7;
    short_curve.truncate(off - 1);
    for p in [
        jpeg,
        cmyk,
        bad_tag,
        no_curves,
        short_curve,
        Vec::new(),
        b"acsp".to_vec(),
    ] {
        assert!(matches!(sanitize(&p), Sanitized::Dropped(_)));
    }
}

#[test]
fn a_curve_with_bytes_after_it_is_cut_to_size() {
    let p = profile(false);
    let parsed = parse::parse(&p).unwrap();
    // Make rTRC's entry claim 8 more bytes (it runs into gTRC's data).
    let i = parsed.tags.iter().position(|t| &t.sig == b"rTRC").unwrap();
    let mut q = p.clone();
    let len_at = 132 + 12 * i + 8;
    q[len_at..len_at + 4].copy_from_slice(&22u32.to_be_bytes());
    let (out, removed) = rebuilt(&q);
    assert!(removed);
    assert_eq!(out, rebuilt(&p).0);
}

#[test]
fn garbage_never_panics() {
    let base = profile(true);
    let mut x = 0x1234_5678_u64;
    for _ in 0..3000 {
        let mut p = base.clone();
        for _ in 0..4 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let at = (x as usize) % p.len();
            p[at] = (x >> 32) as u8;
        }
        let _ = sanitize(&p);
    }
}
