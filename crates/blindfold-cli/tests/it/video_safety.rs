//! Videos that must fail closed (issue 9): subtitles and data streams are
//! dropped unless asked for, damaged data fails unless accepted, a signal
//! leaves no temp file and no ffmpeg behind, and video outputs are checked
//! against inputs like photos.

use crate::support::{blindfold, model_path, run, tempdir, text};
use crate::video::{have_ffmpeg, make_clip, probe};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn blindfold_in(dir: &Path, args: &[&str]) -> Output {
    run(blindfold()
        .current_dir(dir)
        .arg("--model")
        .arg(model_path())
        .args(["--fast", "--backend", "rten"])
        .args(args))
}

fn ffmpeg(dir: &Path, args: &[&str]) {
    let out = Command::new("ffmpeg")
        .current_dir(dir)
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

fn kinds(v: &serde_json::Value) -> Vec<String> {
    v["streams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["codec_type"].as_str().unwrap_or("").to_string())
        .collect()
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// `drone.mp4` in `root`: the test clip (a moving face, a location tag)
/// with a subtitle stream holding a GPS position and a name.
fn make_drone_clip(root: &Path) {
    make_clip(&root.join("plain.mp4"));
    std::fs::write(
        root.join("gps.srt"),
        "1\n00:00:00,000 --> 00:00:01,500\n[latitude: 48.858400] [longitude: 2.294500] Jane Doe\n",
    )
    .unwrap();
    ffmpeg(
        root,
        &[
            "-i",
            "plain.mp4",
            "-i",
            "gps.srt",
            "-map",
            "0",
            "-map",
            "1",
            "-c",
            "copy",
            "-c:s",
            "mov_text",
            "drone.mp4",
        ],
    );
}

#[test]
fn subtitles_with_gps_are_dropped_unless_kept() {
    if !have_ffmpeg() {
        return;
    }
    let dir = tempdir();
    let root = dir.path();
    make_drone_clip(root);
    assert!(kinds(&probe(&root.join("drone.mp4"))).contains(&"subtitle".to_string()));
    let out = blindfold_in(root, &["-o", "out", "drone.mp4"]);
    assert!(out.status.success(), "{}", text(&out));
    let k = kinds(&probe(&root.join("out/drone.mp4")));
    assert!(
        !k.contains(&"subtitle".to_string()) && !k.contains(&"data".to_string()),
        "{k:?}"
    );
    let bytes = std::fs::read(root.join("out/drone.mp4")).unwrap();
    assert!(!bytes.windows(8).any(|w| w == b"48.85840"), "GPS text left");

    let out = blindfold_in(root, &["--keep-subtitles", "-o", "kept", "drone.mp4"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("warning"),
        "{}",
        text(&out)
    );
    assert!(kinds(&probe(&root.join("kept/drone.mp4"))).contains(&"subtitle".to_string()));
}

#[test]
fn damaged_video_fails_unless_accepted() {
    if !have_ffmpeg() {
        return;
    }
    let dir = tempdir();
    let root = dir.path();
    ffmpeg(
        root,
        &[
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
            "clip.mp4",
        ],
    );
    let mut bytes = std::fs::read(root.join("clip.mp4")).unwrap();
    let n = bytes.len();
    for i in (n / 4..n / 2).step_by(97) {
        bytes[i] ^= 0xff;
    }
    std::fs::write(root.join("bad.mp4"), &bytes).unwrap();
    let out = blindfold_in(root, &["-o", "out", "bad.mp4"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.mp4") && err.contains("damaged"), "{err}");
    assert!(
        names(&root.join("out")).is_empty(),
        "{:?}",
        names(&root.join("out"))
    );
    let out = blindfold_in(
        root,
        &["--accept-damaged", "--json", "-o", "out", "bad.mp4"],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("\"damage\""),
        "{}",
        text(&out)
    );
    assert_eq!(names(&root.join("out")), ["bad.mp4"]);
}

#[test]
fn video_outputs_are_checked_against_inputs() {
    if !have_ffmpeg() {
        return;
    }
    let dir = tempdir();
    let root = dir.path();
    std::fs::create_dir(root.join("in")).unwrap();
    make_clip(&root.join("in/clip.mp4"));
    let original = std::fs::read(root.join("in/clip.mp4")).unwrap();
    let out = blindfold_in(root, &["-o", "./in", "in/clip.mp4"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert_eq!(std::fs::read(root.join("in/clip.mp4")).unwrap(), original);
    ffmpeg(root, &["-i", "in/clip.mp4", "-c", "copy", "in/clip.mkv"]);
    ffmpeg(
        root,
        &[
            "-i",
            "in/clip.mp4",
            "-c:v",
            "mpeg4",
            "-c:a",
            "copy",
            "in/clip.avi",
        ],
    );
    let out = blindfold_in(root, &["-o", "out", "in/clip.mp4", "in/clip.avi"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("clip.mp4") && err.contains("clip.avi"),
        "{err}"
    );
    assert!(!root.join("out").exists());
}

/// A 640x480 clip long enough to be stopped in the middle.
fn long_clip(root: &Path) -> PathBuf {
    ffmpeg(
        root,
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=640x480:rate=25",
            "-t",
            "60",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
            "long.mp4",
        ],
    );
    root.join("long.mp4")
}

/// Start blindfold on `long.mp4` into `out/` and wait until its temp file
/// is there; returns the child and the pids of its ffmpeg children.
#[cfg(target_os = "linux")]
fn start_long(root: &Path) -> (std::process::Child, Vec<u32>) {
    let child = blindfold()
        .current_dir(root)
        .arg("--model")
        .arg(model_path())
        .args(["--fast", "--backend", "rten", "-q", "-o", "out", "long.mp4"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let t = Instant::now();
    while !names(&root.join("out"))
        .iter()
        .any(|n| n.ends_with(".blindfold-tmp"))
    {
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "no temp file appeared"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(500));
    // Children are listed per thread that started them.
    let mut kids = Vec::new();
    for task in std::fs::read_dir(format!("/proc/{}/task", child.id())).unwrap() {
        let list = std::fs::read_to_string(task.unwrap().path().join("children"));
        kids.extend(
            list.unwrap_or_default()
                .split_whitespace()
                .filter_map(|p| p.parse::<u32>().ok()),
        );
    }
    (child, kids)
}

#[cfg(target_os = "linux")]
fn gone(pid: u32) -> bool {
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(5) {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        // Gone, or a zombie waiting to be reaped.
        if stat.is_empty() || stat.split_whitespace().nth(2) == Some("Z") {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

#[cfg(target_os = "linux")]
#[test]
fn a_signal_stops_ffmpeg_and_leaves_no_temp_file() {
    if !have_ffmpeg() {
        return;
    }
    let dir = tempdir();
    let root = dir.path();
    long_clip(root);
    use rustix::process::{Pid, Signal, kill_process};
    for (sig, code) in [(Signal::INT, 130), (Signal::TERM, 143)] {
        let (mut child, kids) = start_long(root);
        assert!(!kids.is_empty(), "ffmpeg children were running");
        let pid = Pid::from_raw(child.id() as i32).unwrap();
        kill_process(pid, sig).unwrap();
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(code), "{sig:?}");
        for k in kids {
            assert!(gone(k), "ffmpeg {k} still runs after {sig:?}");
        }
        std::thread::sleep(Duration::from_millis(500));
        assert!(
            names(&root.join("out")).is_empty(),
            "{:?}",
            names(&root.join("out"))
        );
    }
    // SIGKILL: the temp file stays, under a name the next run removes.
    let (mut child, _) = start_long(root);
    child.kill().unwrap();
    child.wait().unwrap();
    let left = names(&root.join("out"));
    assert!(
        !left.is_empty() && left.iter().all(|n| n.ends_with(".blindfold-tmp")),
        "{left:?}"
    );
    std::fs::write(
        root.join("p.jpg"),
        crate::support::jpeg(&crate::support::canvas(64, 48)),
    )
    .unwrap();
    let out = blindfold_in(root, &["-o", "out", "p.jpg"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(names(&root.join("out")), ["p.jpg"]);
}

/// A folder where no file can be made (as root too): the error names the
/// output, not only the system's "No such file" / "Permission denied".
#[cfg(target_os = "linux")]
#[test]
fn a_write_error_names_the_output() {
    if !have_ffmpeg() {
        return;
    }
    let dir = tempdir();
    let root = dir.path();
    make_clip(&root.join("clip.mp4"));
    let out = blindfold_in(root, &["-o", "/proc/self", "clip.mp4"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/proc/self/clip.mp4"), "{err}");
}

/// `blindfold verify` on videos: a clip with a face, a location tag and a
/// subtitle stream is found out on all three counts; blindfold's own output
/// of it is clean.
#[test]
fn verify_audits_videos_streams_tags_and_frames() {
    if !have_ffmpeg() {
        return;
    }
    let dir = tempdir();
    let root = dir.path();
    make_drone_clip(root);
    let verify = |file: &str| {
        let out = run(blindfold()
            .current_dir(root)
            .arg("verify")
            .arg("--json")
            .arg("--model")
            .arg(model_path())
            .args(["--every", "0.5"])
            .arg(file));
        let line: serde_json::Value = serde_json::from_str(
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .next()
                .expect("a line"),
        )
        .unwrap();
        (out.status.code(), line, text(&out))
    };
    let (code, line, log) = verify("drone.mp4");
    assert_eq!(code, Some(1), "{log}");
    assert_eq!(line["status"], "found", "{line}");
    let v = &line["video"];
    assert!(v["frames_checked"].as_u64().unwrap() >= 3, "{v}");
    assert!(!v["faces"].as_array().unwrap().is_empty(), "{v}");
    let streams = v["streams"].to_string();
    assert!(streams.contains("subtitle"), "{v}");
    let tags = v["tags"].to_string();
    assert!(tags.contains("location"), "{v}");

    let out = blindfold_in(root, &["-o", "out", "drone.mp4"]);
    assert!(out.status.success(), "{}", text(&out));
    let (code, line, log) = verify("out/drone.mp4");
    assert_eq!(line["status"], "clean", "{line}\n{log}");
    assert_eq!(code, Some(0), "{log}");
}
