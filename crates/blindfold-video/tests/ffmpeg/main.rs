//! End-to-end tests of the video pipeline with real ffmpeg and a fake
//! detector. They need `ffmpeg` and `ffprobe` on PATH (CI installs them);
//! set `BLINDFOLD_SKIP_FFMPEG_TESTS=1` to skip them where they are missing.

use blindfold::BBox;
use blindfold::anonymize::Mode;
use blindfold::image::RgbImage;
use blindfold::testing::{Script, ScriptedDetector};
use blindfold_video::{ErrorKind, VideoOptions, anonymize_video, anonymize_video_lanes};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

mod inputs;

/// The square drawn into test clips, where the fake detector "finds a face".
const SQUARE: (u32, u32, u32) = (100, 80, 60);

fn square() -> BBox {
    let (x, y, s) = SQUARE;
    BBox::from_xywh(x as f32, y as f32, s as f32, s as f32)
}

/// Reports the square on even frames only, so odd frames need tracking; fails
/// on frame `fail_at`.
fn even_frames(
    fail_at: Option<u64>,
) -> ScriptedDetector<impl FnMut(u64, &RgbImage) -> Script + Send> {
    ScriptedDetector::new(move |f, _| {
        if Some(f) == fail_at {
            return Err(blindfold::Error::Inference("fake failure".into()));
        }
        Ok(match f.is_multiple_of(2) {
            true => vec![square()],
            false => vec![],
        })
    })
}

fn fake() -> ScriptedDetector<impl FnMut(u64, &RgbImage) -> Script + Send> {
    even_frames(None)
}

/// A temporary folder and two paths in it (`a`, `b`: an input and an
/// output), or `None` when ffmpeg is missing and the test is skipped.
fn workdir(a: &str, b: &str) -> Option<(tempfile::TempDir, PathBuf, PathBuf)> {
    if !have_ffmpeg() {
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let (pa, pb) = (dir.path().join(a), dir.path().join(b));
    Some((dir, pa, pb))
}

fn have_ffmpeg() -> bool {
    let ok = Command::new("ffmpeg").arg("-version").output().is_ok()
        && Command::new("ffprobe").arg("-version").output().is_ok();
    if !ok && std::env::var("BLINDFOLD_SKIP_FFMPEG_TESTS").as_deref() == Ok("1") {
        eprintln!("ffmpeg not found: skipped (BLINDFOLD_SKIP_FFMPEG_TESTS=1)");
        return false;
    }
    assert!(
        ok,
        "ffmpeg/ffprobe not on PATH (set BLINDFOLD_SKIP_FFMPEG_TESTS=1 to skip)"
    );
    true
}

fn ffmpeg(args: &[&str]) {
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-y"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A 2 s 320x240 25 fps clip with a white square, a sine tone and
/// identifying tags.
fn make_clip(path: &Path, extra: &[&str]) {
    let (x, y, s) = SQUARE;
    let draw = format!("drawbox=x={x}:y={y}:w={s}:h={s}:color=white:t=fill");
    let p = path.to_str().unwrap();
    let mut args = vec![
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=320x240:rate=25",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:sample_rate=48000",
        "-t",
        "2",
        "-vf",
        &draw,
        "-metadata",
        "location=+48.8577+002.2950/",
        "-metadata",
        "com.apple.quicktime.location.ISO6709=+48.8577+002.2950/",
        "-metadata",
        "creation_time=2020-01-01T00:00:00Z",
        "-metadata",
        "make=Acme",
        "-metadata",
        "model=Phone 9",
        "-movflags",
        "use_metadata_tags",
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
    ];
    args.extend_from_slice(extra);
    args.push(p);
    ffmpeg(&args);
}

fn probe(path: &Path) -> Value {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-count_frames", "-print_format", "json"])
        .args(["-show_format", "-show_streams"])
        .arg(path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn stream<'a>(v: &'a Value, kind: &str) -> &'a Value {
    v["streams"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["codec_type"] == kind)
        .unwrap_or_else(|| panic!("no {kind} stream"))
}

fn num(v: &Value) -> f64 {
    v.as_str().unwrap().parse().unwrap()
}

/// Decode every frame as RGB.
fn frames(path: &Path, w: u32, h: u32) -> Vec<RgbImage> {
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(path)
        .args(["-f", "rawvideo", "-pix_fmt", "rgb24", "-"])
        .output()
        .unwrap();
    assert!(out.status.success());
    out.stdout
        .chunks_exact((w * h * 3) as usize)
        .map(|c| RgbImage::from_raw(w, h, c.to_vec()).unwrap())
        .collect()
}

fn all_tags(v: &Value) -> Vec<String> {
    let mut keys = Vec::new();
    let mut add = |t: &Value| {
        if let Some(m) = t.as_object() {
            keys.extend(m.keys().map(|k| k.to_ascii_lowercase()));
        }
    };
    add(&v["format"]["tags"]);
    for s in v["streams"].as_array().unwrap() {
        add(&s["tags"]);
    }
    keys
}

fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "in.mp4")
        .collect()
}

fn opts() -> VideoOptions {
    VideoOptions {
        mode: Mode::Solid,
        ..VideoOptions::default()
    }
}

#[test]
fn anonymises_keeps_audio_and_strips_metadata() {
    let Some((dir, input, output)) = workdir("in.mp4", "out.mp4") else {
        return;
    };
    make_clip(&input, &[]);
    let before = probe(&input);
    let tags_in = all_tags(&before);
    for t in ["location", "creation_time", "make", "model"] {
        assert!(
            tags_in.iter().any(|k| k == t),
            "test clip lacks {t}: {tags_in:?}"
        );
    }

    let mut calls = 0;
    let report =
        anonymize_video(&input, &output, &mut fake(), &opts(), &mut |_| calls += 1).unwrap();
    assert_eq!(calls, 50);
    assert_eq!(report.frames, 50);
    assert_eq!(report.tracks.len(), 1);
    assert_eq!(report.tracks[0].frames_masked, 50);
    assert_eq!(report.tracks[0].frames_filled_by_tracking, 25);
    assert_eq!(report.frames_filled_by_tracking, 25);

    let after = probe(&output);
    let (vi, vo) = (stream(&before, "video"), stream(&after, "video"));
    assert_eq!(vo["codec_name"], "h264");
    assert_eq!(vo["nb_read_frames"], vi["nb_read_frames"]);
    assert_eq!(vo["avg_frame_rate"], "25/1");
    let (ai, ao) = (stream(&before, "audio"), stream(&after, "audio"));
    assert_eq!(ao["codec_name"], ai["codec_name"]);
    assert_eq!(ao["sample_rate"], ai["sample_rate"]);
    assert_eq!(ao["channels"], ai["channels"]);
    let dd = (num(&ao["duration"]) - num(&ai["duration"])).abs();
    assert!(dd <= 1.0 / 25.0, "audio duration changed by {dd} s");

    let tags_out = all_tags(&after);
    for bad in ["location", "creation_time", "make", "model", "iso6709"] {
        assert!(
            !tags_out.iter().any(|k| k.contains(bad)),
            "{bad} survived: {tags_out:?}"
        );
    }

    // Inside the square: black (solid fill) in every frame, including the
    // frames the fake detector missed. Far from it: the picture survives.
    let ins = frames(&input, 320, 240);
    let outs = frames(&output, 320, 240);
    assert_eq!(outs.len(), 50);
    let (x, y, s) = SQUARE;
    for (i, (a, b)) in ins.iter().zip(&outs).enumerate() {
        for (px, py) in [
            (x + s / 2, y + s / 2),
            (x + 5, y + 5),
            (x + s - 5, y + s - 5),
        ] {
            let p = b.get_pixel(px, py).0;
            assert!(p.iter().all(|&c| c < 40), "frame {i} at {px},{py}: {p:?}");
        }
        let (o, q) = (a.get_pixel(10, 200).0, b.get_pixel(10, 200).0);
        let diff: i32 = (0..3).map(|c| (o[c] as i32 - q[c] as i32).abs()).sum();
        assert!(diff < 60, "frame {i}: background changed {o:?} -> {q:?}");
    }
    assert_eq!(leftovers(dir.path()), vec!["out.mp4".to_string()]);
}

#[test]
fn truncated_input_fails_and_leaves_nothing() {
    let Some((dir, full, _)) = workdir("full.mp4", "out") else {
        return;
    };
    // Index at the front, so the cut file still opens and decodes half-way
    // with a zero exit code.
    make_clip(&full, &["-movflags", "+faststart"]);
    let bytes = std::fs::read(&full).unwrap();
    std::fs::remove_file(&full).unwrap();
    let input = dir.path().join("in.mp4");
    std::fs::write(&input, &bytes[..bytes.len() / 2]).unwrap();
    let output = dir.path().join("out.mp4");
    let err = anonymize_video(&input, &output, &mut fake(), &opts(), &mut |_| {}).unwrap_err();
    assert!(matches!(err.kind, ErrorKind::Decode(_)), "{err}");
    assert!(err.to_string().contains("in.mp4"), "{err}");
    assert_eq!(leftovers(dir.path()), Vec::<String>::new());
}

#[test]
fn cancel_stops_the_run_and_leaves_nothing() {
    let Some((dir, input, output)) = workdir("in.mp4", "out.mp4") else {
        return;
    };
    make_clip(&input, &[]);
    let o = opts();
    let switch = o.cancel.clone();
    let mut frames = 0;
    let err = anonymize_video(&input, &output, &mut fake(), &o, &mut |p| {
        frames = p.frame;
        if p.frame == 10 {
            switch.cancel();
        }
    })
    .unwrap_err();
    assert!(matches!(err.kind, ErrorKind::Cancelled), "{err}");
    assert!(frames < 20, "{frames} frames after the cancel at 10");
    assert_eq!(leftovers(dir.path()), Vec::<String>::new());
}

#[test]
fn detector_failure_fails_and_leaves_nothing() {
    let Some((dir, input, output)) = workdir("in.mp4", "out.mp4") else {
        return;
    };
    make_clip(&input, &[]);
    let mut det = even_frames(Some(30));
    let err = anonymize_video(&input, &output, &mut det, &opts(), &mut |_| {}).unwrap_err();
    assert!(
        matches!(err.kind, ErrorKind::Detect { frame: 30, .. }),
        "{err}"
    );
    assert_eq!(leftovers(dir.path()), Vec::<String>::new());
    // With two lanes, the second fails on its 8th call: frame 15. The other
    // lane is stopped too, and nothing is left.
    let (mut a, mut b) = (fake(), even_frames(Some(7)));
    let err = anonymize_video_lanes(&input, &output, &mut [&mut a, &mut b], &opts(), &mut |_| {})
        .unwrap_err();
    assert!(
        matches!(err.kind, ErrorKind::Detect { frame: 15, .. }),
        "{err}"
    );
    assert!(a.calls() <= 10, "{}", a.calls());
    assert_eq!(leftovers(dir.path()), Vec::<String>::new());
}

#[test]
fn rotated_input_comes_out_upright() {
    let Some((dir, plain, input)) = workdir("plain.mp4", "in.mp4") else {
        return;
    };
    make_clip(&plain, &[]);
    ffmpeg(&[
        "-i",
        plain.to_str().unwrap(),
        "-c",
        "copy",
        "-metadata:s:v",
        "rotate=90",
        input.to_str().unwrap(),
    ]);
    let rot = probe(&input);
    assert!(stream(&rot, "video")["side_data_list"].is_array());
    let output = dir.path().join("out.mov");
    let report = anonymize_video(&input, &output, &mut fake(), &opts(), &mut |_| {}).unwrap();
    assert_eq!(report.input.rotation % 180, 90);
    let v = probe(&output);
    let vs = stream(&v, "video");
    assert_eq!(
        (vs["width"].as_u64(), vs["height"].as_u64()),
        (Some(240), Some(320))
    );
    assert!(vs["side_data_list"].is_null(), "{vs}");
    assert!(vs["tags"]["rotate"].is_null());
}

#[test]
fn variable_frame_rate_keeps_duration() {
    let Some((_dir, input, output)) = workdir("in.mkv", "out.mkv") else {
        return;
    };
    // 25 frames at 25 fps, then 25 frames at 12.5 fps: 3 s in all.
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=160x120:rate=25",
        "-frames:v",
        "50",
        "-vf",
        "setpts='if(lt(N,25),N,25+(N-25)*2)/25/TB'",
        "-vsync",
        "vfr",
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        input.to_str().unwrap(),
    ]);
    let report = anonymize_video(&input, &output, &mut fake(), &opts(), &mut |_| {}).unwrap();
    let v = probe(&output);
    let d = num(&v["format"]["duration"]);
    assert!(
        (d - 3.0).abs() < 0.1,
        "duration {d}, report {:?}",
        report.input
    );
    assert!(report.frames >= 50, "{}", report.frames);
}

#[test]
fn subtitles_are_dropped_unless_kept() {
    let Some((dir, plain, srt)) = workdir("plain.mp4", "s.srt") else {
        return;
    };
    make_clip(&plain, &[]);
    std::fs::write(
        &srt,
        "1\n00:00:00,000 --> 00:00:01,000\n[latitude: 48.858400] [longitude: 2.294500]\n",
    )
    .unwrap();
    let input = dir.path().join("in.mkv");
    ffmpeg(&[
        "-i",
        plain.to_str().unwrap(),
        "-i",
        srt.to_str().unwrap(),
        "-map",
        "0",
        "-map",
        "1",
        "-c",
        "copy",
        "-metadata:s:s:0",
        "language=fra",
        input.to_str().unwrap(),
    ]);
    let output = dir.path().join("out.mp4");
    let report = anonymize_video(&input, &output, &mut fake(), &opts(), &mut |_| {}).unwrap();
    assert_eq!(report.output.streams.subtitles_kept, 0);
    assert_eq!(report.output.streams.subtitles_dropped, 1);
    let v = probe(&output);
    let kinds: Vec<&str> = v["streams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["codec_type"].as_str().unwrap())
        .collect();
    assert!(!kinds.contains(&"subtitle"), "{kinds:?}");
    let keep = VideoOptions {
        keep_subtitles: true,
        ..opts()
    };
    let report = anonymize_video(&input, &output, &mut fake(), &keep, &mut |_| {}).unwrap();
    assert_eq!(report.output.streams.subtitles_kept, 1);
    let v = probe(&output);
    let s = stream(&v, "subtitle");
    assert_eq!(s["codec_name"], "mov_text");
    assert_eq!(s["tags"]["language"], "fra");
}

/// Bytes flipped inside the H.264 data: the decoder logs errors and
/// conceals them; the file fails unless damage is accepted.
#[test]
fn damaged_video_fails_unless_accepted() {
    let Some((dir, input, _)) = workdir("in.mp4", "out") else {
        return;
    };
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=320x240:rate=25",
        "-frames:v",
        "50",
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        input.to_str().unwrap(),
    ]);
    let mut bytes = std::fs::read(&input).unwrap();
    let n = bytes.len();
    // Every 97th byte of the second quarter: inside the frame data (the
    // index is at the end of the file, so the container still opens).
    for i in (n / 4..n / 2).step_by(97) {
        bytes[i] ^= 0xff;
    }
    std::fs::write(&input, &bytes).unwrap();
    let output = dir.path().join("out.mp4");
    let err = anonymize_video(&input, &output, &mut fake(), &opts(), &mut |_| {}).unwrap_err();
    assert!(matches!(err.kind, ErrorKind::Damaged(_)), "{err}");
    assert!(
        leftovers(dir.path()).is_empty(),
        "{:?}",
        leftovers(dir.path())
    );
    let accept = VideoOptions {
        accept_damaged: true,
        ..opts()
    };
    let report = anonymize_video(&input, &output, &mut fake(), &accept, &mut |_| {}).unwrap();
    assert!(report.damage.is_some());
    assert!(output.exists());
}

#[cfg(unix)]
#[test]
fn output_gets_the_mode_asked_for() {
    use std::os::unix::fs::PermissionsExt;
    let Some((_dir, input, output)) = workdir("in.mp4", "out.mp4") else {
        return;
    };
    make_clip(&input, &[]);
    let o = VideoOptions {
        output_mode: 0o600,
        ..opts()
    };
    let report = anonymize_video(&input, &output, &mut fake(), &o, &mut |_| {}).unwrap();
    assert!(report.damage.is_none());
    let mode = std::fs::metadata(&output).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
}

#[test]
fn not_a_video_fails_cleanly() {
    let Some((dir, input, _)) = workdir("in.mp4", "out") else {
        return;
    };
    std::fs::write(&input, b"not a video at all").unwrap();
    let output = dir.path().join("out.mp4");
    let err = anonymize_video(&input, &output, &mut fake(), &opts(), &mut |_| {}).unwrap_err();
    assert!(matches!(err.kind, ErrorKind::Probe(_)), "{err}");
    assert!(leftovers(dir.path()).is_empty());
}

/// Runs only inside the child process started by
/// `missing_ffmpeg_says_how_to_install`, where the tool paths point nowhere.
#[test]
fn child_with_missing_tools() {
    if std::env::var("BLINDFOLD_TEST_CHILD").as_deref() != Ok("1") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.mp4");
    std::fs::write(&input, b"x").unwrap();
    let output = dir.path().join("out.mp4");
    let err = anonymize_video(&input, &output, &mut fake(), &opts(), &mut |_| {}).unwrap_err();
    assert!(matches!(err.kind, ErrorKind::MissingTool(_)), "{err}");
    let msg = err.to_string();
    assert!(msg.contains("not found on PATH"), "{msg}");
    assert!(msg.contains("sudo apt-get install ffmpeg"), "{msg}");
    assert!(blindfold_video::check_ffmpeg().is_err());
}

#[test]
fn missing_ffmpeg_says_how_to_install() {
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_with_missing_tools", "--nocapture"])
        .env("BLINDFOLD_TEST_CHILD", "1")
        .env("BLINDFOLD_FFMPEG", "/nonexistent/ffmpeg")
        .env("BLINDFOLD_FFPROBE", "/nonexistent/ffprobe")
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{log}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(log.contains("1 passed"), "{log}");
}

#[test]
fn odd_size_avi_with_pcm_audio() {
    let Some((_dir, input, output)) = workdir("in.avi", "out.mp4") else {
        return;
    };
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=160x120:rate=10",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=300",
        "-t",
        "1",
        "-vf",
        "scale=161:121",
        "-c:v",
        "rawvideo",
        "-pix_fmt",
        "bgr24",
        "-c:a",
        "pcm_s16le",
        input.to_str().unwrap(),
    ]);
    let report = anonymize_video(&input, &output, &mut fake(), &opts(), &mut |_| {}).unwrap();
    assert_eq!((report.output.width, report.output.height), (162, 122));
    assert_eq!(report.output.streams.audio_transcoded, 1);
    assert_eq!(report.frames, 10);
    let v = probe(&output);
    assert_eq!(stream(&v, "audio")["codec_name"], "aac");
}

#[test]
fn detect_every_second_frame_still_masks_all() {
    let Some((_dir, input, output)) = workdir("in.mp4", "out.mp4") else {
        return;
    };
    make_clip(&input, &[]);
    // Finds the square on every call; called only on even frames.
    let mut det = ScriptedDetector::new(|_, _| Ok(vec![square()]));
    let o = VideoOptions {
        detect_every: 2,
        ..opts()
    };
    let report = anonymize_video(&input, &output, &mut det, &o, &mut |_| {}).unwrap();
    assert_eq!(det.calls(), 25);
    assert_eq!(report.frames_with_masks, 50);
    assert_eq!(report.tracks.len(), 1);
    let (x, y, s) = SQUARE;
    for (i, f) in frames(&output, 320, 240).iter().enumerate() {
        let p = f.get_pixel(x + s / 2, y + s / 2).0;
        assert!(p.iter().all(|&c| c < 40), "frame {i}: {p:?}");
    }
}

#[test]
fn two_lanes_write_the_same_video_as_one_detector() {
    let Some((dir, input, _)) = workdir("in.mp4", "out") else {
        return;
    };
    // The square shows in frames 0, 1, 4, 5, 8, 9, ...: 26 of 50.
    let (x, y, s) = SQUARE;
    let draw =
        format!("drawbox=x={x}:y={y}:w={s}:h={s}:color=white:t=fill:enable='lt(mod(n,4),2)'");
    let p = input.to_str().unwrap();
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=320x240:rate=25",
        "-t",
        "2",
        "-vf",
        &draw,
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        p,
    ]);
    // Finds the square where it is drawn, whichever lane gets the frame.
    let seen = |img: &RgbImage| {
        img.get_pixel(x + s / 2, y + s / 2)
            .0
            .iter()
            .all(|&c| c > 200)
    };
    let finder = move || {
        ScriptedDetector::new(move |_, img| Ok(seen(img).then(square).into_iter().collect()))
    };
    let o = VideoOptions {
        tracking: blindfold_video::TrackerConfig {
            hold: 0,
            lookahead: 0,
            ..Default::default()
        },
        ..opts()
    };
    let one = dir.path().join("one.mp4");
    let r1 = anonymize_video(&input, &one, &mut finder(), &o, &mut |_| {}).unwrap();
    let two = dir.path().join("two.mp4");
    let (mut a, mut b) = (finder(), finder());
    let r2 = anonymize_video_lanes(&input, &two, &mut [&mut a, &mut b], &o, &mut |_| {}).unwrap();
    assert_eq!((a.calls(), b.calls()), (25, 25));
    assert_eq!((r1.masks_detected, r2.masks_detected), (26, 26));
    assert_eq!(r1.frames_with_masks, r2.frames_with_masks);
    // Frames come back in order: the outputs are the same, byte for byte.
    let same = std::fs::read(&one).unwrap() == std::fs::read(&two).unwrap();
    assert!(same, "two lanes wrote a different video");
    for (i, f) in frames(&two, 320, 240).iter().enumerate() {
        let px = f.get_pixel(x + s / 2, y + s / 2).0;
        assert!(
            !px.iter().all(|&c| c > 200),
            "frame {i} shows the square: {px:?}"
        );
    }
}
