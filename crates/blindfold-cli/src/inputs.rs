//! Turning the command line's files, folders and globs into jobs: an input
//! path and the path its output goes to.

use crate::report::shown;
use anyhow::{Context, Result, bail};
use serde::Serialize;
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

/// Extensions of photos read; `.jfif` and `.jpe` are JPEG.
const PHOTO_EXT: &[&str] = &[
    "jpg", "jpeg", "jpe", "jfif", "png", "webp", "tif", "tiff", "bmp", "gif",
];

/// HEIC/HEIF and AVIF: read in a build with the `heif` feature (libheif).
/// HEIC and HEIF are written as JPEG, so their outputs are named `.jpg`.
const HEIF_EXT: &[&str] = &["heic", "heif", "hif", "avif"];

/// Picture formats blindfold cannot read (without the `heif` feature: nor
/// HEIC and AVIF): skipped and listed as such.
const UNSUPPORTED_EXT: &[&str] = &[
    "heic", "heif", "avif", "jxl", "jp2", "dng", "cr2", "cr3", "nef", "arw", "raf", "orf", "rw2",
    "psd", "svg", "ico",
];

/// The kind of a file, from its extension; `None` for files we skip.
pub fn kind_of(path: &Path) -> Option<Kind> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    if PHOTO_EXT.contains(&ext.as_str())
        || (cfg!(feature = "heif") && HEIF_EXT.contains(&ext.as_str()))
    {
        Some(Kind::Photo)
    } else if blindfold_video::is_video_path(path) {
        Some(Kind::Video)
    } else {
        None
    }
}

/// A file found in a folder or by a glob and not processed, with the reason.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// The file.
    pub path: PathBuf,
    /// Why it was skipped.
    pub reason: String,
}

/// The jobs to run and the files passed over.
#[derive(Debug, Default)]
pub struct Plan {
    /// Files to process, in order.
    pub jobs: Vec<Job>,
    /// Files seen in folders or globs and skipped.
    pub skipped: Vec<Skipped>,
}

/// What to do with a file met in a folder or a glob.
enum Found {
    Take,
    Skip(String),
    /// Not worth a word: blindfold's own temp files.
    Ignore,
}

/// Decide about a file met in a folder or a glob, from its own metadata
/// (`meta` does not follow a symbolic link).
fn classify(file: &Path, meta: &std::fs::Metadata, place: &Placement) -> Found {
    let name = file.file_name().unwrap_or_default().to_string_lossy();
    if blindfold_models::atomic::is_temp_name(&name) {
        return Found::Ignore;
    }
    if meta.file_type().is_symlink() {
        return Found::Skip(
            "symbolic link: not followed inside folders (name the file itself to process it)"
                .into(),
        );
    }
    if !meta.is_file() {
        return Found::Skip("not a regular file".into());
    }
    if kind_of(file).is_none() {
        let ext = file
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase());
        return Found::Skip(match ext {
            Some(e) if UNSUPPORTED_EXT.contains(&e.as_str()) => {
                format!("format not supported (.{e})")
            }
            Some(e) => format!("not a photo or video (.{e})"),
            None => "not a photo or video (no extension)".into(),
        });
    }
    if is_output(file, place) {
        return Found::Skip("an earlier output (its name ends in the suffix)".into());
    }
    Found::Take
}

/// Expand the arguments into jobs. Files named directly are taken whatever
/// their extension (a wrong one fails later with a clear message); files found
/// in folders or by globs are taken only if their extension is known, and
/// the others are listed in [`Plan::skipped`] with the reason: unsupported
/// formats, symbolic links (not followed), earlier outputs (names containing
/// the suffix). blindfold's own temp files are ignored, and so is the output
/// folder when it lies inside an input folder.
pub fn collect(args: &[String], place: &Placement) -> Result<Plan> {
    let mut plan = Plan::default();
    let mut seen = BTreeSet::new();
    let out_dir = match place {
        Placement::Dir(d) => std::fs::canonicalize(d).ok(),
        _ => None,
    };
    for arg in args {
        let path = PathBuf::from(arg);
        if path.is_dir() {
            let walk = walkdir::WalkDir::new(&path)
                .sort_by_file_name()
                .into_iter()
                .filter_entry(|e| {
                    let temp =
                        blindfold_models::atomic::is_temp_name(&e.file_name().to_string_lossy());
                    e.depth() == 0
                        || !e.file_type().is_dir()
                        || (!temp
                            && (out_dir.is_none()
                                || std::fs::canonicalize(e.path()).ok() != out_dir))
                });
            for entry in walk {
                let entry =
                    entry.with_context(|| format!("cannot read folder {}", shown(&path)))?;
                if entry.file_type().is_dir() {
                    continue;
                }
                let meta = entry
                    .metadata()
                    .with_context(|| format!("cannot read {}", shown(entry.path())))?;
                take(&mut plan, &mut seen, entry.path(), &meta, &path, place)?;
            }
        } else if path.is_file() {
            let root = path.parent().unwrap_or(Path::new("")).to_path_buf();
            push(&mut plan.jobs, &mut seen, &path, &root, place);
        } else if is_glob(arg) {
            let root = glob_root(arg);
            let before = plan.jobs.len();
            for hit in glob::glob(arg).with_context(|| format!("bad glob pattern {arg}"))? {
                let file = hit.with_context(|| format!("cannot read a match of {arg}"))?;
                let meta = std::fs::symlink_metadata(&file)
                    .with_context(|| format!("cannot read {}", shown(&file)))?;
                if !meta.is_dir() {
                    take(&mut plan, &mut seen, &file, &meta, &root, place)?;
                }
            }
            if plan.jobs.len() == before {
                bail!("{arg}: no photos or videos match this pattern");
            }
        } else {
            bail!("{}: no such file or folder", shown(&path));
        }
    }
    Ok(plan)
}

fn take(
    plan: &mut Plan,
    seen: &mut BTreeSet<PathBuf>,
    file: &Path,
    meta: &std::fs::Metadata,
    root: &Path,
    place: &Placement,
) -> Result<()> {
    match classify(file, meta, place) {
        Found::Take => push(&mut plan.jobs, seen, file, root, place),
        Found::Skip(reason) => plan.skipped.push(Skipped {
            path: file.to_path_buf(),
            reason,
        }),
        Found::Ignore => {}
    }
    Ok(())
}

fn push(
    jobs: &mut Vec<Job>,
    seen: &mut BTreeSet<PathBuf>,
    file: &Path,
    root: &Path,
    place: &Placement,
) {
    if !seen.insert(file.to_path_buf()) {
        return;
    }
    let kind = kind_of(file).unwrap_or(Kind::Photo);
    let output = output_path(file, root, place, kind);
    jobs.push(Job {
        input: file.to_path_buf(),
        output,
        kind,
    });
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
        Kind::Photo => match file.extension().and_then(|e| e.to_str()) {
            Some(e) if ["heic", "heif", "hif"].contains(&e.to_ascii_lowercase().as_str()) => {
                out.with_extension("jpg")
            }
            _ => out,
        },
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
