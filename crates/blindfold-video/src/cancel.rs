//! A per-run stop switch: another thread (a service's DELETE, a shutdown)
//! sets it, and the run it was given to stops within a frame or so, kills
//! its ffmpeg children and deletes its temp file.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Shared between the run (in [`crate::VideoOptions::cancel`]) and whoever
/// may stop it. Clones share one switch; two tokens are equal when they are
/// the same switch.
#[derive(Clone, Debug, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    /// A new switch, not set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Ask the run to stop.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether [`Cancel::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

impl PartialEq for Cancel {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_one_switch() {
        let a = Cancel::new();
        let b = a.clone();
        assert_eq!(a, b);
        assert_ne!(a, Cancel::new());
        assert!(!b.is_cancelled());
        a.cancel();
        assert!(b.is_cancelled());
    }
}
