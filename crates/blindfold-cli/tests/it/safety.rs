//! Fail-closed file handling (issue 9): an input is never overwritten
//! without --in-place however the output folder is spelled, two inputs never
//! share an output, skipped files are listed, permissions are kept, a file
//! whose content does not match its name fails, and names are escaped.

use crate::support::*;
use std::path::Path;
use std::process::Output;

/// A small photo with no face.
fn photo() -> Vec<u8> {
    jpeg(&canvas(96, 64))
}

fn blindfold_in(dir: &Path, args: &[&str]) -> Output {
    run(blindfold()
        .current_dir(dir)
        .arg("--model")
        .arg(model_path())
        .args(["--fast", "--backend", "rten"])
        .args(args))
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn summary(out: &Output) -> serde_json::Value {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|v| v.get("summary").is_some())
        .expect("a summary line")
}

#[test]
fn the_input_folder_under_another_name_is_refused() {
    let dir = tempdir();
    let root = dir.path();
    let original = photo();
    put(root, "in/a.jpg", &original);
    #[cfg(unix)]
    std::os::unix::fs::symlink(root.join("in"), root.join("link")).unwrap();
    let abs = root.join("in");
    let abs = abs.to_str().unwrap();
    let mut cases: Vec<(&Path, Vec<&str>)> = vec![
        (root, vec!["-o", "./in", "in/a.jpg"]),
        (root, vec!["-o", abs, "in/"]),
        (root, vec!["-o", "in/../in", "in/a.jpg"]),
    ];
    let inner = root.join("in");
    cases.push((&inner, vec!["-o", ".", "a.jpg"]));
    #[cfg(unix)]
    cases.push((root, vec!["-o", "link", "in/a.jpg"]));
    for (cwd, args) in cases {
        let out = blindfold_in(cwd, &args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out));
        assert!(stderr(&out).contains("a.jpg"), "{args:?}: {}", text(&out));
        assert_eq!(std::fs::read(root.join("in/a.jpg")).unwrap(), original);
    }
    // --in-place is the way to ask for it.
    let out = blindfold_in(root, &["--in-place", "in/a.jpg"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_ne!(std::fs::read(root.join("in/a.jpg")).unwrap(), original);
}

#[test]
fn two_inputs_with_one_output_name_are_refused() {
    let dir = tempdir();
    let root = dir.path();
    put(root, "cam1/IMG_0001.jpg", &photo());
    put(root, "cam2/IMG_0001.jpg", &photo());
    for args in [
        vec!["-o", "out", "cam1/", "cam2/"],
        vec!["-o", "out", "cam1/IMG_0001.jpg", "cam2/IMG_0001.jpg"],
    ] {
        let out = blindfold_in(root, &args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out));
        let err = stderr(&out);
        assert!(
            err.contains("cam1/IMG_0001.jpg") && err.contains("cam2/IMG_0001.jpg"),
            "{err}"
        );
        assert!(!root.join("out").exists(), "nothing may be written");
    }
    // The same file named twice runs once.
    let out = blindfold_in(
        root,
        &[
            "--json",
            "-o",
            "out",
            "cam1/IMG_0001.jpg",
            "cam1/../cam1/IMG_0001.jpg",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(summary(&out)["files"], 1, "{}", text(&out));
}

#[cfg(unix)]
#[test]
fn skipped_files_are_counted_and_listed_and_jfif_is_read() {
    let dir = tempdir();
    let root = dir.path();
    for name in [
        "in/a.jpg",
        "in/b.jfif",
        "in/c.jxl",
        "in/d.dng",
        "elsewhere/e.jpg",
    ] {
        put(root, name, &photo());
    }
    std::os::unix::fs::symlink(root.join("elsewhere/e.jpg"), root.join("in/link.jpg")).unwrap();
    put(root, "in/.x.jpg.4999999-0.blindfold-tmp", b"stale");
    let out = blindfold_in(root, &["--json", "-o", "out", "in"]);
    assert!(out.status.success(), "{}", text(&out));
    let s = summary(&out);
    assert_eq!(s["files"], 2, "{s}");
    assert_eq!(s["skipped"], 3, "{s}");
    let listed: Vec<String> = s["skipped_files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| format!("{} {}", f["path"].as_str().unwrap(), f["reason"]))
        .collect();
    for (name, why) in [
        ("c.jxl", "not supported"),
        ("d.dng", "not supported"),
        ("link.jpg", "symbolic link"),
    ] {
        assert!(
            listed.iter().any(|l| l.contains(name) && l.contains(why)),
            "{name}: {listed:?}"
        );
    }
    assert!(root.join("out/b.jfif").exists());
    // The human summary says the same.
    let out = blindfold_in(root, &["-o", "out2", "in"]);
    let err = stderr(&out);
    assert!(err.contains("3 skipped") && err.contains("c.jxl"), "{err}");
}

#[cfg(unix)]
#[test]
fn in_place_refuses_a_link_and_outputs_keep_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempdir();
    let root = dir.path();
    let original = photo();
    let target = put(root, "photos/a.jpg", &original);
    std::os::unix::fs::symlink(&target, root.join("link.jpg")).unwrap();
    let out = blindfold_in(root, &["--in-place", "link.jpg"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(stderr(&out).contains("link.jpg"), "{}", text(&out));
    assert!(
        std::fs::symlink_metadata(root.join("link.jpg"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(std::fs::read(&target).unwrap(), original);

    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = blindfold_in(root, &["photos/a.jpg"]);
    assert!(out.status.success(), "{}", text(&out));
    let mode = std::fs::metadata(root.join("photos/a.anon.jpg"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let out = blindfold_in(root, &["--in-place", "photos/a.jpg"]);
    assert!(out.status.success(), "{}", text(&out));
    let mode = std::fs::metadata(&target).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn a_png_named_jpg_fails_and_writes_nothing() {
    let dir = tempdir();
    let root = dir.path();
    let mut png = Vec::new();
    canvas(96, 64)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    put(root, "in/a.jpg", &png);
    let out = blindfold_in(root, &["-o", "out", "in/a.jpg"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let err = stderr(&out);
    assert!(err.contains("a.jpg") && err.contains("PNG"), "{err}");
    assert!(!root.join("out/a.jpg").exists());
}

#[cfg(unix)]
#[test]
fn control_characters_in_names_are_escaped() {
    let dir = tempdir();
    let root = dir.path();
    put(root, "in/evil\nblindfold: 0 faces.jpg", &photo());
    let out = blindfold_in(root, &["-o", "out", "in"]);
    assert!(out.status.success(), "{}", text(&out));
    let err = stderr(&out);
    assert!(err.contains("evil\\nblindfold"), "{err}");
    assert!(
        !err.lines().any(|l| l.starts_with("blindfold: 0 faces")),
        "{err}"
    );
}

/// Outputs are written by a thread of their own while the workers go on: a
/// write that fails is still that file's error, named, with no output and
/// exit code 1, and the other photos are written.
#[test]
fn a_write_that_fails_is_the_files_error() {
    let dir = tempdir();
    let root = dir.path();
    put(root, "in/a.jpg", &photo());
    put(root, "in/c.jpg", &photo());
    put(root, "in/sub/b.jpg", &photo());
    put(
        root,
        "out/sub",
        b"a file where the folder of b.jpg's output goes",
    );
    let out = blindfold_in(root, &["--json", "-j", "2", "-o", "out", "in"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let lines = json_lines(&out);
    let of = |name: &str| {
        lines
            .iter()
            .find(|l| l["input"].as_str().is_some_and(|i| i.ends_with(name)))
            .unwrap_or_else(|| panic!("no line for {name}: {}", text(&out)))
    };
    let b = of("b.jpg");
    assert_eq!(b["status"], "error", "{b}");
    assert!(b.get("output").is_none_or(|o| o.is_null()), "{b}");
    assert!(b["error"].as_str().unwrap().contains("sub"), "{b}");
    assert!(stderr(&out).contains("b.jpg"), "{}", text(&out));
    for name in ["a.jpg", "c.jpg"] {
        assert_eq!(of(name)["status"], "ok");
        assert!(root.join("out").join(name).is_file(), "{name}");
    }
    let s = summary(&out);
    assert_eq!(
        (s["ok"].as_u64(), s["failed"].as_u64()),
        (Some(2), Some(1)),
        "{s}"
    );
}
