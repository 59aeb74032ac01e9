//! Where ffmpeg writes: a temp file inside a private temp folder beside the
//! output, both named like every blindfold temp file
//! (`.{name}.{pid}-{n}.blindfold-tmp`, see `blindfold_models::atomic`).
//!
//! The folder is there for a run killed outright (SIGKILL): the orphaned
//! encoder then sees the end of its input and finishes its file, opening it
//! by name, possibly after the next run has deleted the leftovers. Once the
//! folder is deleted it cannot: ffmpeg does not create folders.

use blindfold_models::atomic::{TempFile, create_beside};
use std::path::{Path, PathBuf};

/// A private temp folder beside a target, deleted with its contents on drop.
#[derive(Debug)]
pub struct Scratch {
    dir: PathBuf,
}

impl Scratch {
    /// Create the folder beside `target` (private: 0700).
    pub fn beside(target: &Path) -> std::io::Result<Scratch> {
        let (dir, ()) = create_beside(target, "d", |p| {
            let mut b = std::fs::DirBuilder::new();
            #[cfg(unix)]
            std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
            b.create(p)
        })?;
        Ok(Scratch { dir })
    }

    /// A temp file in the folder, for an output named like `target`; it can
    /// be persisted (renamed) to `target` beside the folder.
    pub fn file_for(&self, target: &Path) -> std::io::Result<TempFile> {
        TempFile::beside(&self.dir.join(target.file_name().unwrap_or_default()))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use blindfold_models::atomic::{DEFAULT_MODE, is_temp_name};

    #[test]
    fn persists_out_of_the_folder_and_leaves_nothing() {
        let d = tempfile::tempdir().unwrap();
        let target = d.path().join("clip.mp4");
        let s = Scratch::beside(&target).unwrap();
        let name = s.dir.file_name().unwrap().to_string_lossy().into_owned();
        assert!(is_temp_name(&name), "{name}");
        let t = s.file_for(&target).unwrap();
        std::fs::write(t.path(), b"video").unwrap();
        t.persist(&target, DEFAULT_MODE).unwrap();
        drop(s);
        let left: Vec<_> = std::fs::read_dir(d.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, ["clip.mp4"]);
        let s = Scratch::beside(&target).unwrap();
        let _t = s.file_for(&target).unwrap();
        drop(s);
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 1);
    }
}
