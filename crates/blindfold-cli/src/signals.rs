//! SIGINT and SIGTERM: stop the ffmpeg children, let an output being moved
//! into place finish, delete this run's temp files and exit with 130 or 143.
//! And at the start of a run: delete temp files left by runs that were
//! killed outright (SIGKILL, power loss), whose process is gone.
//!
//! Temp files are named `.{name}.{pid}-{n}.blindfold-tmp` (see
//! `blindfold_models::atomic`), so the pid says whose they are.

use blindfold_models::atomic::{TEMP_SUFFIX, is_temp_name};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// Held (shared) while a temp file may be created or moved into place;
/// the signal handler takes it exclusively, so nothing new starts and
/// nothing is half-renamed while it cleans up.
static WRITING: RwLock<()> = RwLock::new(());

/// Set inside the signal handler itself, the moment a signal arrives.
static STOPPING: std::sync::OnceLock<Arc<AtomicBool>> = std::sync::OnceLock::new();

/// Whether a signal has arrived: the process is about to exit, and what
/// fails now fails because of it (not worth reporting).
pub fn stopping() -> bool {
    STOPPING.get().is_some_and(|f| f.load(Ordering::SeqCst))
}

/// Called before the process would exit on its own: when a signal has
/// arrived, wait for its handler to clean up and exit with 130 or 143.
pub fn hold_if_stopping() {
    if stopping() {
        loop {
            std::thread::park();
        }
    }
}

/// Run `f` (which creates and persists temp files) so that a signal waits
/// for it, or stops the process before it starts.
pub fn writing<T>(f: impl FnOnce() -> T) -> T {
    let _guard = WRITING.read().unwrap_or_else(|p| p.into_inner());
    f()
}

/// Handle SIGINT and SIGTERM from now on; `dirs` are the folders outputs go
/// to (where temp files are made).
#[cfg(unix)]
pub fn install(dirs: Vec<PathBuf>) -> std::io::Result<()> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let flag = STOPPING.get_or_init(Arc::default);
    for sig in [SIGINT, SIGTERM] {
        signal_hook::flag::register(sig, Arc::clone(flag))?;
    }
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM])?;
    std::thread::spawn(move || {
        if let Some(sig) = signals.forever().next() {
            blindfold_video::stop_ffmpeg_children();
            // Wait (a little) for writes under way; new ones wait for exit.
            let deadline = Instant::now() + Duration::from_secs(5);
            let _guard = loop {
                match WRITING.try_write() {
                    Ok(g) => break Some(g),
                    Err(std::sync::TryLockError::Poisoned(p)) => break Some(p.into_inner()),
                    Err(_) if Instant::now() > deadline => break None,
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            };
            let me = std::process::id();
            remove_temp_files(&dirs, |pid| pid == me);
            let name = if sig == SIGINT { "SIGINT" } else { "SIGTERM" };
            eprintln!("\nblindfold: stopped by {name}; temp files removed, no partial output left");
            std::process::exit(128 + sig);
        }
    });
    Ok(())
}

/// Signals are not handled on this platform.
#[cfg(not(unix))]
pub fn install(_dirs: Vec<PathBuf>) -> std::io::Result<()> {
    Ok(())
}

/// Delete temp files left in `dirs` by blindfold processes that no longer
/// run. Returns how many were deleted.
pub fn clean_stale(dirs: &[PathBuf]) -> usize {
    let me = std::process::id();
    remove_temp_files(dirs, |pid| pid != me && !alive(pid))
}

/// Delete the temp files in `dirs` whose pid passes `whose`.
fn remove_temp_files(dirs: &[PathBuf], whose: impl Fn(u32) -> bool) -> usize {
    let mut n = 0;
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        for e in entries.flatten() {
            let name = e.file_name();
            let name = name.to_string_lossy();
            if !temp_pid(&name).is_some_and(&whose) {
                continue;
            }
            // Video temp files sit in a temp folder of the same form.
            let is_dir = e.file_type().is_ok_and(|t| t.is_dir());
            let removed = if is_dir {
                std::fs::remove_dir_all(e.path())
            } else {
                std::fs::remove_file(e.path())
            };
            n += usize::from(removed.is_ok());
        }
    }
    n
}

/// The pid in a temp file's name, `.{name}.{pid}-{n}.blindfold-tmp`.
fn temp_pid(name: &str) -> Option<u32> {
    if !is_temp_name(name) {
        return None;
    }
    let stem = name.strip_suffix(TEMP_SUFFIX)?;
    let (_, tail) = stem.rsplit_once('.')?;
    let (pid, _) = tail.split_once('-')?;
    pid.parse().ok()
}

/// Whether a process with this pid runs (or cannot be asked: then assume so).
#[cfg(unix)]
fn alive(pid: u32) -> bool {
    use rustix::process::{Pid, test_kill_process};
    match i32::try_from(pid).ok().and_then(Pid::from_raw) {
        Some(p) => !matches!(test_kill_process(p), Err(rustix::io::Errno::SRCH)),
        None => true,
    }
}

#[cfg(not(unix))]
fn alive(_: u32) -> bool {
    true
}

/// The folders of the outputs, each once (existing or not yet).
pub fn output_dirs<'a>(outputs: impl Iterator<Item = &'a Path>) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = outputs
        .map(|p| match p.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        })
        .collect();
    dirs.sort();
    dirs.dedup();
    dirs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_names_give_their_pid() {
        assert_eq!(temp_pid(".a.b.jpg.1234-7.blindfold-tmp"), Some(1234));
        assert_eq!(temp_pid(".clip.mp4.99-0.blindfold-tmp"), Some(99));
        assert_eq!(temp_pid(".clip.mp4.99-d3.blindfold-tmp"), Some(99));
        assert_eq!(temp_pid("a.jpg"), None);
        assert_eq!(temp_pid(".x.blindfold-tmp"), None);
    }

    #[cfg(unix)]
    #[test]
    fn stale_temp_files_go_and_live_ones_stay() {
        let d = tempfile::tempdir().unwrap();
        // A pid that no process has (above the kernel's pid_max of 2^22).
        let dead = d.path().join(".a.jpg.4999999-0.blindfold-tmp");
        let mine = d
            .path()
            .join(format!(".b.jpg.{}-0.blindfold-tmp", std::process::id()));
        let other = d.path().join("c.jpg");
        for p in [&dead, &mine, &other] {
            std::fs::write(p, b"x").unwrap();
        }
        let dead_dir = d.path().join(".v.mp4.4999999-d0.blindfold-tmp");
        std::fs::create_dir(&dead_dir).unwrap();
        std::fs::write(dead_dir.join(".v.mp4.4999999-1.blindfold-tmp"), b"x").unwrap();
        assert_eq!(clean_stale(&[d.path().to_path_buf()]), 2);
        assert!(!dead.exists() && !dead_dir.exists() && mine.exists() && other.exists());
    }
}
