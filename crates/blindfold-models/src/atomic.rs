//! The one way blindfold writes a file: a temp file in the target's folder,
//! then a rename, so the target is absent, the old file, or complete.
//!
//! Temp files are named `.{name}.{pid}-{n}.blindfold-tmp` beside the target,
//! so a run killed before it could clean up leaves names that are easy to
//! recognise (see [`is_temp_name`]).

use crate::error::{Context as _, Error, ErrorKind};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

/// The suffix of every temp file blindfold makes.
pub const TEMP_SUFFIX: &str = ".blindfold-tmp";

/// Is `name` (a file name) one of blindfold's temp files?
pub fn is_temp_name(name: &str) -> bool {
    name.starts_with('.') && name.ends_with(TEMP_SUFFIX)
}

/// A temp file beside a target, deleted on drop unless [`TempFile::persist`]
/// moved it into place. A writer that is not Rust (ffmpeg) can write to
/// [`TempFile::path`].
#[derive(Debug)]
pub struct TempFile {
    path: PathBuf,
    armed: bool,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

impl TempFile {
    /// Create an empty, private (0600) temp file in `target`'s folder.
    pub fn beside(target: &Path) -> std::io::Result<TempFile> {
        let (path, ()) = create_beside(target, "", |p| {
            let mut open = fs::OpenOptions::new();
            open.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut open, 0o600);
            open.open(p).map(drop)
        })?;
        Ok(TempFile { path, armed: true })
    }

    /// Where the temp file is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Give it `mode` (Unix permission bits), flush it to disk and rename it
    /// to `to` (in the same folder).
    pub fn persist(mut self, to: &Path, mode: u32) -> std::io::Result<()> {
        let f = fs::OpenOptions::new().write(true).open(&self.path)?;
        set_mode(&f, mode)?;
        f.sync_all()?;
        fs::rename(&self.path, to)?;
        self.armed = false;
        Ok(())
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if self.armed {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// Make something new (a file, a folder) under a fresh temp name beside
/// `target`: `.{name}.{pid}-{tag}{n}.blindfold-tmp`, trying the next `n`
/// while `create` says the name is taken (`AlreadyExists`).
pub fn create_beside<T>(
    target: &Path,
    tag: &str,
    mut create: impl FnMut(&Path) -> std::io::Result<T>,
) -> std::io::Result<(PathBuf, T)> {
    let dir = folder_of(target);
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    for _ in 0..100 {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let p = dir.join(format!(
            ".{name}.{}-{tag}{n}{TEMP_SUFFIX}",
            std::process::id()
        ));
        match create(&p) {
            Ok(made) => return Ok((p, made)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::other("cannot find a free temp name"))
}

/// Permission bits of an ordinary output file (readable by all).
pub const DEFAULT_MODE: u32 = 0o644;

/// Write `bytes` to `path` atomically with permission bits `mode`
/// ([`DEFAULT_MODE`] for an ordinary file). The folder is created if needed.
/// On any failure nothing is left at `path` (an old file stays) or beside it.
pub fn write_atomic_mode(path: &Path, bytes: &[u8], mode: u32) -> Result<(), Error> {
    let dir = folder_of(path);
    fs::create_dir_all(dir).ctx(ErrorKind::Io, || {
        format!("cannot create folder {}", dir.display())
    })?;
    let tmp = TempFile::beside(path).ctx(ErrorKind::Io, || {
        format!("cannot create a temp file in {}", dir.display())
    })?;
    fs::OpenOptions::new()
        .write(true)
        .open(tmp.path())
        .and_then(|mut f| f.write_all(bytes))
        .ctx(ErrorKind::Io, || format!("cannot write {}", path.display()))?;
    tmp.persist(path, mode).ctx(ErrorKind::Io, || {
        format!("cannot move the output into place at {}", path.display())
    })
}

/// [`write_atomic_mode`] with [`DEFAULT_MODE`].
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    write_atomic_mode(path, bytes, DEFAULT_MODE)
}

fn folder_of(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

#[cfg(unix)]
fn set_mode(f: &fs::File, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    f.set_permissions(fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_: &fs::File, _: u32) -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn writes_and_leaves_no_temp_files() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sub/out.bin");
        write_atomic(&p, b"hello").unwrap();
        write_atomic(&p, b"again").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"again");
        assert_eq!(names(&dir.path().join("sub")), ["out.bin"]);
    }

    #[cfg(unix)]
    #[test]
    fn outputs_get_the_mode_asked_for() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.jpg");
        write_atomic(&p, b"x").unwrap();
        assert_eq!(
            fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o644
        );
        write_atomic_mode(&p, b"y", 0o600).unwrap();
        assert_eq!(
            fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }

    #[test]
    fn failure_names_the_path_and_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("file");
        fs::write(&blocker, b"x").unwrap();
        let err = write_atomic(&blocker.join("out.jpg"), b"x").unwrap_err();
        assert!(err.to_string().contains("file"), "{err}");
        assert_eq!(err.kind(), ErrorKind::Io);
        assert_eq!(names(dir.path()), ["file"]);
    }

    #[test]
    fn temp_file_is_removed_unless_persisted() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("clip.mp4");
        let t = TempFile::beside(&target).unwrap();
        let name = t.path().file_name().unwrap().to_string_lossy().into_owned();
        assert!(is_temp_name(&name), "{name}");
        assert!(t.path().exists());
        drop(t);
        assert!(names(dir.path()).is_empty());
        let t = TempFile::beside(&target).unwrap();
        fs::write(t.path(), b"video").unwrap();
        t.persist(&target, DEFAULT_MODE).unwrap();
        assert_eq!(names(dir.path()), ["clip.mp4"]);
        assert!(!is_temp_name("clip.mp4"));
    }
}
