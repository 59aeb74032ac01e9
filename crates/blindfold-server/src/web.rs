//! The browser page (`web/dist/`, embedded at build time when it exists)
//! and the headers every response carries: a strict Content-Security-Policy
//! that still lets the page run WebAssembly, cross-origin isolation
//! (COOP/COEP, which the page's threads need) and `nosniff`.

use crate::AppError;
use axum::Router;
use axum::http::{HeaderName, HeaderValue, Method, Uri, header};
use axum::response::{IntoResponse, Response};
use tower_http::set_header::SetResponseHeaderLayer;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/web_files.rs"));
}

/// The Content-Security-Policy sent with every response.
pub const CSP: &str = "default-src 'self'; connect-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
style-src 'self'; img-src 'self' blob: data:; media-src 'self' blob:; worker-src 'self' blob:; \
object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const NOT_BUILT: &str = "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<title>blindfold</title></head><body><h1>blindfold</h1>\
<p>The browser page was not built into this binary. Build it (see the README, \
\"Browser page\"), then rebuild blindfold.</p>\
<p>The HTTP API works: <code>POST /v1/anonymize</code> with an image as the body.</p>\
</body></html>\n";

/// Whether the page was embedded.
pub fn embedded() -> bool {
    !embedded::FILES.is_empty()
}

/// The MIME type for a file name.
pub fn mime(path: &str) -> &'static str {
    let ext = path.rsplit_once('.').map_or("", |(_, e)| e);
    match ext.to_ascii_lowercase().as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "wasm" => "application/wasm",
        "json" | "map" => "application/json",
        "webmanifest" => "application/manifest+json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "txt" => "text/plain; charset=utf-8",
        "woff2" => "font/woff2",
        _ => "application/octet-stream",
    }
}

/// Fallback route: a file of the page, else a JSON 404.
pub async fn page(method: Method, uri: Uri) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return AppError::NotFound(format!("no route {}", uri.path())).into_response();
    }
    let path = uri.path().trim_start_matches('/');
    let path = if path.is_empty() || path.ends_with('/') {
        format!("{path}index.html")
    } else {
        path.to_string()
    };
    if let Some((name, bytes)) = embedded::FILES.iter().find(|(p, _)| *p == path) {
        let cache = match name.ends_with(".html") {
            true => "no-cache",
            false => "public, max-age=3600",
        };
        return (
            [
                (header::CONTENT_TYPE, mime(name)),
                (header::CACHE_CONTROL, cache),
            ],
            *bytes,
        )
            .into_response();
    }
    if path == "index.html" && !embedded() {
        return (
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            NOT_BUILT,
        )
            .into_response();
    }
    AppError::NotFound(format!("no route {}", uri.path())).into_response()
}

/// Add the security headers to every response (kept where a handler set one).
pub fn headers<S: Clone + Send + Sync + 'static>(r: Router<S>) -> Router<S> {
    let set = |name: &'static str, value: &'static str| {
        SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        )
    };
    r.layer(set("content-security-policy", CSP))
        .layer(set("cross-origin-opener-policy", "same-origin"))
        .layer(set("cross-origin-embedder-policy", "require-corp"))
        .layer(set("cross-origin-resource-policy", "same-origin"))
        .layer(set("x-content-type-options", "nosniff"))
        .layer(set("referrer-policy", "no-referrer"))
}
