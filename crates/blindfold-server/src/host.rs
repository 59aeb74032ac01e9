//! The `Host` check. A web page on another site can make a browser send
//! requests to a service on loopback or the local network by pointing its
//! own name at that address (DNS rebinding); the browser then sends that
//! name as `Host`. Requests naming a host this service does not answer to
//! get 421 before anything else runs.
//!
//! Allowed: no `Host` at all (not a browser), loopback (`localhost`,
//! `*.localhost`, `127.0.0.0/8`, `::1`), the listen address (every IP
//! literal when listening on all addresses: a rebinding needs a name), and
//! the names the operator lists (`--allowed-host`). Ports are not compared.

use crate::{AppError, AppState};
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::net::IpAddr;

/// The host names and addresses a service answers to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Hosts {
    /// Extra names, lower case, without a trailing dot.
    names: Vec<String>,
    /// The listen address, when it is one address.
    listen: Option<IpAddr>,
    /// Every IP literal (listening on all addresses).
    any_ip: bool,
}

impl Hosts {
    /// Loopback, `listen` and `names` (host names or IP addresses, no port).
    pub fn new(listen: IpAddr, names: &[String]) -> Hosts {
        Hosts {
            names: names.iter().map(|n| normal(n)).collect(),
            listen: (!listen.is_unspecified()).then_some(listen),
            any_ip: listen.is_unspecified(),
        }
    }

    /// Whether a request naming `host` (a `Host` header's value) is served.
    pub fn allows(&self, host: &str) -> bool {
        let name = normal(strip_port(host.trim()));
        if name == "localhost" || name.ends_with(".localhost") {
            return true;
        }
        if let Ok(ip) = name.parse::<IpAddr>()
            && (ip.is_loopback() || self.any_ip || Some(ip) == self.listen)
        {
            return true;
        }
        !name.is_empty() && self.names.contains(&name)
    }
}

fn normal(name: &str) -> String {
    name.trim().trim_end_matches('.').to_ascii_lowercase()
}

/// `name:port` -> `name`; `[v6]:port` and `[v6]` -> `v6`.
fn strip_port(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split_once(']').map_or("", |(name, _)| name);
    }
    match host.rsplit_once(':') {
        Some((name, port)) if !name.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => {
            name
        }
        _ => host,
    }
}

/// Middleware: 421 when the request's `Host` (or its absolute URI's
/// authority) names a host this service does not answer to. `/healthz`
/// (which says nothing) is exempt, for load balancers that probe by address.
pub async fn check(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let hosts = &state.shared().limits.hosts;
    let named = req
        .headers()
        .get_all(header::HOST)
        .iter()
        .map(|v| v.to_str().unwrap_or("\u{0}").to_string())
        .chain(req.uri().authority().map(|a| a.host().to_string()))
        .collect::<Vec<_>>();
    if req.uri().path() != "/healthz" && !named.iter().all(|h| hosts.allows(h)) {
        return AppError::MisdirectedHost.into_response();
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_the_listen_address_and_listed_names_only() {
        let local = Hosts::new("127.0.0.1".parse().unwrap(), &[]);
        for ok in [
            "localhost",
            "LOCALHOST:8080",
            "localhost.",
            "app.localhost:1",
            "127.0.0.1:8080",
            "127.0.0.2",
            "[::1]:8080",
            "[::1]",
        ] {
            assert!(local.allows(ok), "{ok}");
        }
        for bad in [
            "evil.example",
            "evil.example:8080",
            "localhost.evil.example",
            "10.0.0.5",
            "",
            "[::1",
            "127.0.0.1.evil.example",
        ] {
            assert!(!local.allows(bad), "{bad}");
        }
        let lan = Hosts::new(
            "10.0.0.5".parse().unwrap(),
            &["Blindfold.Example.org.".to_string()],
        );
        assert!(lan.allows("10.0.0.5:8080"));
        assert!(!lan.allows("10.0.0.6:8080"));
        assert!(lan.allows("blindfold.example.org"));
        assert!(lan.allows("blindfold.example.org:443"));
        assert!(!lan.allows("example.org"));
        let all = Hosts::new("0.0.0.0".parse().unwrap(), &[]);
        assert!(all.allows("192.168.1.20:8080") && all.allows("[fe80::1]:80"));
        assert!(!all.allows("attacker.example"));
    }
}
