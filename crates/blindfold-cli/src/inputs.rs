//! Turning the command line's files, folders and globs into jobs: an input
//! path and the path its output goes to.

use anyhow::{Context, Result, bail};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// What a job is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A still image.
    Photo,
    /// A video (handled through ffmpeg).
    Video,
}

/// One file to process.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Job {
    /// The input file.
    pub input: PathBuf,
    /// Where the output goes.
    pub output: PathBuf,
    /// Photo or video.
    pub kind: Kind,
}

/// Where outputs go.
#[derive(Clone, Debug)]
pub enum Placement {
    /// Into this folder, mirroring the input tree below each given root.
    Dir(PathBuf),
    /// Beside the input, with this suffix before the extension.
    Beside(String),
    /// Over the input.
    InPlace,
}

const PHOTO_EXT: &[&str] = &["jpg", "jpeg", "jpe", "png", "webp", "tif", "tiff", "bmp"];

/// The kind of a file, from its extension; `None` for files we skip.
pub fn kind_of(path: &Path) -> Option<Kind> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    if PHOTO_EXT.contains(&ext.as_str()) {
        Some(Kind::Photo)
    } else if blindfold_video::is_video_path(path) {
        Some(Kind::Video)
    } else {
        None
    }
}

/// Expand the arguments into jobs. Files named directly are taken whatever
/// their extension (a wrong one fails later with a clear message); files found
/// in folders or by globs are taken only if their extension is known, and
/// earlier outputs (names containing the suffix) are skipped.
pub fn collect(args: &[String], place: &Placement) -> Result<Vec<Job>> {
    let mut jobs = Vec::new();
    let mut seen = BTreeSet::new();
    for arg in args {
        let path = PathBuf::from(arg);
        if path.is_dir() {
            for entry in walkdir::WalkDir::new(&path).sort_by_file_name() {
                let entry = entry.with_context(|| format!("cannot read folder {arg}"))?;
                let file = entry.path();
                if entry.file_type().is_file() && kind_of(file).is_some() && !is_output(file, place)
                {
                    push(&mut jobs, &mut seen, file, &path, place)?;
                }
            }
        } else if path.is_file() {
            let root = path.parent().unwrap_or(Path::new("")).to_path_buf();
            push(&mut jobs, &mut seen, &path, &root, place)?;
        } else if is_glob(arg) {
            let root = glob_root(arg);
            let mut any = false;
            for hit in glob::glob(arg).with_context(|| format!("bad glob pattern {arg}"))? {
                let file = hit.with_context(|| format!("cannot read a match of {arg}"))?;
                if file.is_file() && kind_of(&file).is_some() && !is_output(&file, place) {
                    any = true;
                    push(&mut jobs, &mut seen, &file, &root, place)?;
                }
            }
            if !any {
                bail!("{arg}: no photos or videos match this pattern");
            }
        } else {
            bail!("{arg}: no such file or folder");
        }
    }
    Ok(jobs)
}

fn push(
    jobs: &mut Vec<Job>,
    seen: &mut BTreeSet<PathBuf>,
    file: &Path,
    root: &Path,
    place: &Placement,
) -> Result<()> {
    if !seen.insert(file.to_path_buf()) {
        return Ok(());
    }
    let kind = kind_of(file).unwrap_or(Kind::Photo);
    let output = output_path(file, root, place, kind);
    if output == file && !matches!(place, Placement::InPlace) {
        bail!(
            "{}: the output would overwrite the input; use --in-place to allow that",
            file.display()
        );
    }
    jobs.push(Job {
        input: file.to_path_buf(),
        output,
        kind,
    });
    Ok(())
}

/// The output path for `file`, found under `root`.
pub fn output_path(file: &Path, root: &Path, place: &Placement, kind: Kind) -> PathBuf {
    let out = match place {
        Placement::InPlace => return file.to_path_buf(),
        Placement::Beside(suffix) => {
            let stem = file.file_stem().unwrap_or_default().to_string_lossy();
            let name = match file.extension() {
                Some(ext) => format!("{stem}{suffix}.{}", ext.to_string_lossy()),
                None => format!("{stem}{suffix}"),
            };
            file.with_file_name(name)
        }
        Placement::Dir(dir) => {
            let rel = file.strip_prefix(root).unwrap_or(file);
            let rel: PathBuf = rel
                .components()
                .filter(|c| matches!(c, std::path::Component::Normal(_)))
                .collect();
            dir.join(rel)
        }
    };
    match kind {
        Kind::Video => {
            let ext = blindfold_video::output_extension(file);
            out.with_extension(ext)
        }
        Kind::Photo => out,
    }
}

fn is_output(file: &Path, place: &Placement) -> bool {
    match place {
        Placement::Beside(suffix) => file
            .file_stem()
            .map(|s| s.to_string_lossy().ends_with(suffix.as_str()))
            .unwrap_or(false),
        _ => false,
    }
}

fn is_glob(arg: &str) -> bool {
    arg.contains(['*', '?', '['])
}

/// The folder part of a glob before its first wildcard.
fn glob_root(pattern: &str) -> PathBuf {
    let mut root = PathBuf::new();
    for comp in Path::new(pattern).components() {
        if is_glob(&comp.as_os_str().to_string_lossy()) {
            break;
        }
        root.push(comp);
    }
    root
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beside_adds_suffix_before_extension() {
        let p = output_path(
            Path::new("a/b/photo.jpg"),
            Path::new("a"),
            &Placement::Beside(".anon".into()),
            Kind::Photo,
        );
        assert_eq!(p, PathBuf::from("a/b/photo.anon.jpg"));
    }

    #[test]
    fn dir_mirrors_tree_below_root() {
        let p = output_path(
            Path::new("in/x/y.png"),
            Path::new("in"),
            &Placement::Dir("out".into()),
            Kind::Photo,
        );
        assert_eq!(p, PathBuf::from("out/x/y.png"));
    }

    #[test]
    fn odd_video_containers_become_mp4() {
        let place = Placement::Dir("out".into());
        let p = output_path(Path::new("v.avi"), Path::new(""), &place, Kind::Video);
        assert_eq!(p, PathBuf::from("out/v.mp4"));
        let p = output_path(Path::new("v.mov"), Path::new(""), &place, Kind::Video);
        assert_eq!(p, PathBuf::from("out/v.mov"));
    }

    #[test]
    fn glob_root_stops_at_wildcard() {
        assert_eq!(glob_root("shots/2024/*.jpg"), PathBuf::from("shots/2024"));
        assert_eq!(glob_root("*.jpg"), PathBuf::from(""));
    }

    #[test]
    fn earlier_outputs_are_recognised() {
        let place = Placement::Beside(".anon".into());
        assert!(is_output(Path::new("p.anon.jpg"), &place));
        assert!(!is_output(Path::new("p.jpg"), &place));
    }
}
