//! Ordinary and odd videos through the binary with the real model (issue 22):
//! a clip trimmed by stream copy (an edit list) and a clip behind cover art
//! stored as a video track are masked in every frame; `verify` finds GPS in
//! an MP4's XMP and a name in a Matroska chapter title, and reads a
//! one-frame video.

use crate::support::{
    astronaut, blindfold, canvas, jpeg, model_path, paste_face, put, run, tempdir, text,
};
use crate::video::{FRAMES, H, W, black_share, blindfold_video, decode, have_ffmpeg, make_clip};
use serde_json::Value;
use std::path::Path;
use std::process::Command;

/// Run ffmpeg in `dir` on a command line written as one string (file names
/// relative to `dir`, without spaces).
fn ffmpeg(dir: &Path, line: &str) {
    let out = Command::new("ffmpeg")
        .current_dir(dir)
        .args(["-v", "error", "-y"])
        .args(line.split(' '))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{line}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `blindfold verify --json` on `file` in `dir`: its report line.
fn verify(dir: &Path, file: &str) -> Value {
    let out = run(blindfold()
        .current_dir(dir)
        .args(["verify", "--json", "--model"])
        .arg(model_path())
        .arg(file));
    let line = String::from_utf8_lossy(&out.stdout)
        .lines()
        .next()
        .map(str::to_string);
    serde_json::from_str(&line.unwrap_or_default()).unwrap_or_else(|_| panic!("{}", text(&out)))
}

fn width(path: &Path) -> Value {
    let v = crate::video::probe(path);
    let video = v["streams"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["codec_type"] == "video");
    video.expect("a video stream")["width"].clone()
}

/// Trimmed by stream copy, the file holds all 40 frames and an edit list
/// plays the last 25; behind cover art, the whole clip plays. Each output ends
/// with the clip's last frame, and the face is masked in every frame.
#[test]
fn trimmed_and_cover_art_clips_are_masked_in_every_frame() {
    if !have_ffmpeg() {
        return;
    }
    let dir = tempdir();
    let root = dir.path();
    let boxes = make_clip(&root.join("clip.mp4"));
    ffmpeg(root, "-ss 0.6 -i clip.mp4 -c copy trimmed.mp4");
    put(root, "cover.jpg", &jpeg(&astronaut()));
    let line = "-i cover.jpg -i clip.mp4 -map 0 -map 1 -c copy -disposition:v:0 attached_pic";
    ffmpeg(root, &format!("{line} cover.mkv"));
    let out_dir = root.join("out");
    for (name, played) in [("trimmed.mp4", 25..=25), ("cover.mkv", 40..=41)] {
        let out = blindfold_video(&["--mode", "solid"], &root.join(name), &out_dir);
        assert!(out.status.success(), "{name}: {}", text(&out));
        let output = out_dir.join(name);
        assert_eq!(width(&output), W, "{name}");
        let frames = decode(&output, W, H);
        assert!(
            played.contains(&frames.len()),
            "{name}: {} frames",
            frames.len()
        );
        for (i, f) in frames.iter().enumerate() {
            let b = boxes[(i + FRAMES as usize).saturating_sub(frames.len())];
            let share = black_share(f, W, b);
            assert!(
                share >= 0.9,
                "{name} frame {i}: {share:.2} of the face masked"
            );
        }
    }
    // The cover art is not carried over (the face part of the audit is not
    // checked here).
    let v = verify(root, "out/cover.mkv");
    assert_eq!(v["video"]["streams"], serde_json::json!([]), "{v}");
    assert_eq!(v["video"]["tags"], serde_json::json!([]), "{v}");
}

/// An MP4 box holding an XMP packet with a GPS position, as exiftool writes
/// it (`uuid` BE7ACFCB-97A9-42E8-9C71-999491E3AFAC), appended to the file.
fn with_xmp_gps(mp4: &[u8]) -> Vec<u8> {
    let xmp = "<?xpacket begin='' id='W5M0MpCehiHzreSzNTczkc9d'?>\
        <x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF \
        xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'><rdf:Description \
        rdf:about='' xmlns:exif='http://ns.adobe.com/exif/1.0/'>\
        <exif:GPSLatitude>48,51.462N</exif:GPSLatitude>\
        <exif:GPSLongitude>2,17.7E</exif:GPSLongitude></rdf:Description></rdf:RDF>\
        </x:xmpmeta><?xpacket end='w'?>";
    let uuid = [
        0xbe, 0x7a, 0xcf, 0xcb, 0x97, 0xa9, 0x42, 0xe8, 0x9c, 0x71, 0x99, 0x94, 0x91, 0xe3, 0xaf,
        0xac,
    ];
    let mut out = mp4.to_vec();
    out.extend_from_slice(&((8 + 16 + xmp.len()) as u32).to_be_bytes());
    out.extend_from_slice(b"uuid");
    out.extend_from_slice(&uuid);
    out.extend_from_slice(xmp.as_bytes());
    out
}

/// blindfold's own output of a clip is the base: with XMP added, or with a
/// chapter whose title is a name and an address, it is no longer clean.
#[test]
fn verify_finds_gps_in_xmp_and_a_name_in_a_chapter_title() {
    if !have_ffmpeg() {
        return;
    }
    let dir = tempdir();
    let root = dir.path();
    make_clip(&root.join("clip.mp4"));
    let out = blindfold_video(&[], &root.join("clip.mp4"), &root.join("out"));
    assert!(out.status.success(), "{}", text(&out));
    let clean = std::fs::read(root.join("out/clip.mp4")).unwrap();
    put(root, "xmp.mp4", &with_xmp_gps(&clean));
    let chapters = ";FFMETADATA1\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=1000\n\
                    title=Anna Schmidt, 12 Rue de Rivoli, Paris\n";
    put(root, "chapters.txt", chapters.as_bytes());
    let line = "-i out/clip.mp4 -i chapters.txt -map 0 -map_chapters 1 -c copy chapter.mkv";
    ffmpeg(root, line);
    for (file, finding) in [
        ("xmp.mp4", "format: xmp"),
        ("chapter.mkv", "chapter 0: title"),
    ] {
        let v = verify(root, file);
        assert_eq!(v["status"], "found", "{file}: {v}");
        let tags = v["video"]["tags"].to_string();
        assert!(tags.contains(finding), "{file}: {v}");
    }
}

/// A one-frame video: blindfold writes it, and `verify` reads its one frame.
#[test]
fn verify_reads_a_one_frame_video() {
    if !have_ffmpeg() {
        return;
    }
    let dir = tempdir();
    let root = dir.path();
    let mut img = canvas(W, H);
    paste_face(&mut img, 70.0, 120.0, 70.0);
    let png = root.join("one.png");
    img.save(&png).unwrap();
    ffmpeg(
        root,
        "-i one.png -frames:v 1 -c:v libx264 -pix_fmt yuv420p one.mp4",
    );
    let out = blindfold_video(&[], &root.join("one.mp4"), &root.join("out"));
    assert!(out.status.success(), "{}", text(&out));
    let v = verify(root, "out/one.mp4");
    assert_ne!(v["status"], "error", "{v}");
    assert_eq!(v["video"]["frames_checked"], 1, "{v}");
    assert_eq!(v["video"]["streams"], serde_json::json!([]), "{v}");
    assert_eq!(v["video"]["tags"], serde_json::json!([]), "{v}");
}
