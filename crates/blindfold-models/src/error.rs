//! The store's error: a kind to match on and a message that names the file,
//! URL and reason.

/// What went wrong, broadly.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A download failed (network, HTTP status).
    Download,
    /// A file does not have the pinned sha256.
    Hash,
    /// A model file is not what it should be (not prepared, not ONNX...).
    BadModel,
    /// Nothing cached and fetching was not allowed.
    NotCached,
    /// Reading or writing a local file failed.
    Io,
    /// The environment or the platform does not allow it (no cache folder,
    /// no pinned ONNX Runtime for this platform).
    Unsupported,
}

/// An error of the model store.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    kind: ErrorKind,
    message: String,
}

impl Error {
    /// An error of `kind` with a complete message.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
        }
    }

    /// What went wrong, broadly.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }
}

/// Adds what was being done to an error: `"{what}: {cause}"`.
pub(crate) trait Context<T> {
    /// Wrap the error with `kind` and the message from `what`.
    fn ctx(self, kind: ErrorKind, what: impl FnOnce() -> String) -> Result<T, Error>;
}

impl<T, E: std::fmt::Display> Context<T> for Result<T, E> {
    fn ctx(self, kind: ErrorKind, what: impl FnOnce() -> String) -> Result<T, Error> {
        self.map_err(|e| Error::new(kind, format!("{}: {e}", what())))
    }
}
