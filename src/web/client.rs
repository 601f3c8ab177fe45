//! Who is on the other end of a request: the client address and whether the original request
//! was HTTPS, believing `X-Forwarded-*` headers only from configured trusted proxies.

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::Response;
use ipnet::IpNet;
use std::net::{IpAddr, SocketAddr};

/// The client as far as pasarela can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientInfo {
    /// The client's address (the first untrusted hop).
    pub addr: Option<IpAddr>,
    /// Whether the client used HTTPS (directly, or to a trusted proxy).
    pub https: bool,
}

/// Settings the middleware needs.
#[derive(Debug, Clone)]
pub struct ClientPolicy {
    /// Proxies whose forwarding headers are believed.
    pub trusted: Vec<IpNet>,
    /// Whether this listener itself terminates TLS.
    pub tls: bool,
}

impl ClientPolicy {
    fn is_trusted(&self, ip: IpAddr) -> bool {
        self.trusted.iter().any(|n| n.contains(&ip))
    }

    /// Works out the client from the peer address and the forwarding headers.
    pub fn resolve(&self, peer: Option<IpAddr>, headers: &axum::http::HeaderMap) -> ClientInfo {
        let Some(peer) = peer else {
            return ClientInfo {
                addr: None,
                https: self.tls,
            };
        };
        if !self.is_trusted(peer) {
            return ClientInfo {
                addr: Some(peer),
                https: self.tls,
            };
        }
        // X-Forwarded-For lists hops left to right; walk from the right, skipping our own
        // trusted proxies, and stop at the first address we do not trust.
        let hops: Vec<IpAddr> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|h| h.trim().parse().ok())
            .collect();
        let addr = hops
            .iter()
            .rev()
            .copied()
            .find(|ip| !self.is_trusted(*ip))
            .or(hops.first().copied())
            .unwrap_or(peer);
        let https = match headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
        {
            Some(p) => p
                .split(',')
                .next()
                .is_some_and(|p| p.trim().eq_ignore_ascii_case("https")),
            None => self.tls,
        };
        ClientInfo {
            addr: Some(addr),
            https,
        }
    }
}

/// Middleware: stores a [`ClientInfo`] in the request extensions.
pub async fn resolve_client(
    State(policy): State<std::sync::Arc<ClientPolicy>>,
    mut req: Request,
    next: Next,
) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let info = policy.resolve(peer, req.headers());
    req.extensions_mut().insert(info);
    next.run(req).await
}

impl<S: Send + Sync> FromRequestParts<S> for ClientInfo {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<ClientInfo>()
            .copied()
            .unwrap_or(ClientInfo {
                addr: None,
                https: false,
            }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderMap;

    fn policy() -> ClientPolicy {
        ClientPolicy {
            trusted: vec!["10.0.0.0/8".parse().unwrap()],
            tls: false,
        }
    }

    #[test]
    fn forwarded_headers_are_believed_only_from_trusted_proxies() {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", "203.0.113.9, 10.0.0.7".parse().unwrap());
        h.insert("x-forwarded-proto", "https".parse().unwrap());
        let via_proxy = policy().resolve(Some("10.0.0.1".parse().unwrap()), &h);
        assert_eq!(via_proxy.addr, Some("203.0.113.9".parse().unwrap()));
        assert!(via_proxy.https);
        let direct = policy().resolve(Some("198.51.100.1".parse().unwrap()), &h);
        assert_eq!(direct.addr, Some("198.51.100.1".parse().unwrap()));
        assert!(!direct.https);
    }

    #[test]
    fn spoofed_leftmost_hop_is_not_believed() {
        let mut h = HeaderMap::new();
        // The client forged the first entry; the proxy appended the real client address.
        h.insert("x-forwarded-for", "1.1.1.1, 198.51.100.4".parse().unwrap());
        let info = policy().resolve(Some("10.0.0.1".parse().unwrap()), &h);
        assert_eq!(info.addr, Some("198.51.100.4".parse().unwrap()));
    }
}
