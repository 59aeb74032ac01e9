//! Every ffmpeg this process starts, so that a signal handler can stop them
//! all at once ([`stop_all`]) and no new one starts afterwards.
//!
//! The children run in their own process group: a Ctrl-C in the terminal
//! reaches blindfold only, and ffmpeg never gets the chance to finish a
//! half-written output on its own (it does that on SIGINT).

use std::sync::Mutex;

#[derive(Default)]
struct Registry {
    stopping: bool,
    pids: Vec<u32>,
}

impl Registry {
    fn spawn<T>(
        &mut self,
        start: impl FnOnce() -> T,
        pid: impl Fn(&T) -> Option<u32>,
    ) -> Option<T> {
        if self.stopping {
            return None;
        }
        let child = start();
        if let Some(p) = pid(&child) {
            self.pids.push(p);
        }
        Some(child)
    }

    fn stop(&mut self) {
        self.stopping = true;
        for &pid in &self.pids {
            kill(pid);
        }
    }
}

static LIVE: Mutex<Registry> = Mutex::new(Registry {
    stopping: false,
    pids: Vec::new(),
});

fn lock() -> std::sync::MutexGuard<'static, Registry> {
    LIVE.lock().unwrap_or_else(|p| p.into_inner())
}

/// Start a child with `start` and remember its pid; `None` once [`stop_all`]
/// was called (nothing is started then).
pub(crate) fn spawn<T>(start: impl FnOnce() -> T, pid: impl Fn(&T) -> Option<u32>) -> Option<T> {
    lock().spawn(start, pid)
}

/// Forget a child that has been waited for.
pub(crate) fn forget(pid: u32) {
    lock().pids.retain(|&p| p != pid);
}

/// Kill every ffmpeg child still running (SIGKILL) and refuse to start new
/// ones from now on. For signal handlers: the process is about to exit.
pub fn stop_all() {
    lock().stop();
}

#[cfg(unix)]
fn kill(pid: u32) {
    use rustix::process::{Pid, Signal, kill_process};
    if let Some(p) = i32::try_from(pid).ok().and_then(Pid::from_raw) {
        let _ = kill_process(p, Signal::KILL);
    }
}

#[cfg(not(unix))]
fn kill(_pid: u32) {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    #[cfg(unix)]
    #[test]
    fn stop_kills_children_and_nothing_starts_after() {
        let mut reg = Registry::default();
        let mut child = reg
            .spawn(
                || Command::new("sleep").arg("30").spawn().unwrap(),
                |c| Some(c.id()),
            )
            .unwrap();
        let t = std::time::Instant::now();
        reg.stop();
        let status = child.wait().unwrap();
        assert!(!status.success(), "sleep was killed");
        assert!(t.elapsed().as_secs() < 10);
        assert!(reg.spawn(|| 1, |_| None).is_none());
    }
}
