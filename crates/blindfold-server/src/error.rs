//! Errors. Every failure of a request becomes one [`AppError`], and every
//! `AppError` becomes a JSON response `{"error": "..."}` with a fitting
//! status. The messages name reasons, never image bytes or face boxes, and
//! never a server path or memory address ([`crate::scrub`]).

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AppError {
    /// The request is malformed: a bad parameter, an empty body (400).
    #[error("{0}")]
    BadRequest(String),
    /// No or a wrong bearer token (401).
    #[error("a valid bearer token is needed (Authorization: Bearer ...)")]
    Unauthorized,
    /// A setting that would lower protection below the service's (403).
    #[error("{0}")]
    Forbidden(String),
    /// No such route or job (404).
    #[error("{0}")]
    NotFound(String),
    /// The route exists but not with this method (405).
    #[error("method not allowed")]
    MethodNotAllowed,
    /// The client took too long to send its body (408).
    #[error("the request body was not received in time")]
    BodyTimeout,
    /// A video upload paused for longer than this many seconds (408).
    #[error("the upload paused for more than {0} s (--upload-idle-timeout); nothing was kept")]
    UploadIdle(f64),
    /// The job is not in a state that allows this (409).
    #[error("{0}")]
    Conflict(String),
    /// The `Host` header names a host this service does not answer to (421).
    #[error(
        "this service does not answer to the host named in the request (its operator can add \
         the name with --allowed-host)"
    )]
    MisdirectedHost,
    /// The body or the image is over a limit (413).
    #[error("{0}")]
    TooLarge(String),
    /// The body is not a kind of file this service takes (415).
    #[error("{0}")]
    Unsupported(String),
    /// The image is truncated or corrupt (422).
    #[error("{0}")]
    Undecodable(String),
    /// Too many requests are waiting: retry after this many seconds (503).
    #[error("busy: too many requests are waiting; retry later")]
    Busy {
        /// Seconds, for `Retry-After`.
        retry_after: u64,
    },
    /// The model is still loading (503).
    #[error("not ready: the model is still loading")]
    NotReady,
    /// The service is shutting down (503).
    #[error("the service is stopping; retry later")]
    Stopping,
    /// The request took longer than the service allows; nothing of it is
    /// kept (504).
    #[error(
        "the request took longer than this service's limit of {0} s (--request-timeout); \
         nothing was kept"
    )]
    Deadline(u64),
    /// This instance cannot do it (501), e.g. videos without ffmpeg.
    #[error("{0}")]
    NotAvailable(String),
    /// Anything else (500). The message names the failed stage.
    #[error("{0}")]
    Internal(String),
}

impl AppError {
    /// The status this error is answered with.
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Unauthorized => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::MisdirectedHost => StatusCode::MISDIRECTED_REQUEST,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            AppError::BodyTimeout | AppError::UploadIdle(_) => StatusCode::REQUEST_TIMEOUT,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::Unsupported(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::Undecodable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Busy { .. } | AppError::NotReady | AppError::Stopping => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            AppError::Deadline(_) => StatusCode::GATEWAY_TIMEOUT,
            AppError::NotAvailable(_) => StatusCode::NOT_IMPLEMENTED,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<blindfold::Error> for AppError {
    fn from(e: blindfold::Error) -> Self {
        use blindfold::Error as E;
        let msg = e.to_string();
        match e {
            E::Decode(_) => AppError::Undecodable(msg),
            E::TooLarge { .. } => AppError::TooLarge(msg),
            E::Unsupported(_) => AppError::Unsupported(msg),
            E::Config(_) => AppError::BadRequest(msg),
            _ => AppError::Internal(msg),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        // No server path or memory address reaches a client, whatever
        // a lower layer put in the message.
        let body = Json(serde_json::json!({ "error": crate::scrub::public(&self.to_string()) }));
        let mut res = (status, body).into_response();
        let h = res.headers_mut();
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        match self {
            AppError::Busy { retry_after } => {
                h.insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
            }
            AppError::NotReady | AppError::Stopping => {
                h.insert(header::RETRY_AFTER, HeaderValue::from_static("2"));
            }
            AppError::Unauthorized => {
                h.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            _ => {}
        }
        res
    }
}

/// Why the service could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// The settings do not allow starting (e.g. a public address without a token).
    #[error("{0}")]
    Config(String),
    /// A file or socket operation failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// Why it failed.
        source: std::io::Error,
    },
    /// The model or runtime could not be found.
    #[error(transparent)]
    Models(#[from] blindfold_models::Error),
    /// No detector could be made.
    #[error(transparent)]
    Select(#[from] blindfold_infer::select::SelectError),
}

impl From<blindfold_models::OpenError> for ServeError {
    fn from(e: blindfold_models::OpenError) -> Self {
        match e {
            blindfold_models::OpenError::Store(e) => ServeError::Models(e),
            blindfold_models::OpenError::Select(e) => ServeError::Select(e),
            other => ServeError::Config(other.to_string()),
        }
    }
}

impl ServeError {
    pub(crate) fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> ServeError {
        let what = what.into();
        move |source| ServeError::Io { what, source }
    }
}
