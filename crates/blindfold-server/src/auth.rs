//! Bearer tokens. The token is kept as its sha256 and a request's token is
//! hashed and compared in constant time, so neither the content nor the
//! length of the token leaks through timing.

use crate::{AppError, AppState};
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

/// sha256 of a token.
pub fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// Equal in constant time (for equal lengths, which digests have).
pub fn same(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Whether `path` needs the token: the API, `/readyz` and `/metrics` do;
/// `/healthz` and the browser page (static files, no data) do not, since a
/// browser cannot send a bearer token when it opens a page.
pub fn protected(path: &str) -> bool {
    path.starts_with("/v1/") || path == "/v1" || path == "/readyz" || path == "/metrics"
}

/// Middleware: 401 unless the request carries `Authorization: Bearer <token>`.
pub async fn require_token(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if let Some(want) = &state.shared().token
        && protected(req.uri().path())
    {
        let given = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(|t| digest(t.trim()));
        if !given.is_some_and(|g| same(&g, want)) {
            return AppError::Unauthorized.into_response();
        }
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compares_digests() {
        assert!(same(&digest("secret"), &digest("secret")));
        assert!(!same(&digest("secret"), &digest("secreT")));
        assert!(!same(&digest("secret"), &digest("")));
        assert!(protected("/v1/anonymize") && protected("/metrics") && protected("/readyz"));
        assert!(!protected("/healthz") && !protected("/") && !protected("/app.wasm"));
    }
}
