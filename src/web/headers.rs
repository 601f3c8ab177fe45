//! Security headers on every response. A handler that needs a different Content-Security-Policy
//! (an auto-submitting form to a relying party) sets its own and it is kept.

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

use super::client::ClientInfo;

/// The default policy: own resources only, no framing, no plugins, forms post to pasarela.
pub const DEFAULT_CSP: &str = "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Adds `origins` to the `form-action` of `res`'s Content-Security-Policy (its own, or the
/// default). Chromium applies `form-action` to every redirect that follows a form's
/// submission, so a page whose form ends at a relying party (the login pages, consent,
/// logout) must name that party's origin, or the browser silently stays on the page.
pub fn allow_form_targets(res: &mut Response, origins: &[String]) {
    if origins.is_empty() {
        return;
    }
    let current = res
        .headers()
        .get(header::CONTENT_SECURITY_POLICY)
        .and_then(|v| v.to_str().ok())
        .unwrap_or(DEFAULT_CSP)
        .to_owned();
    let csp = with_form_targets(&current, origins);
    if let Ok(v) = HeaderValue::from_str(&csp) {
        res.headers_mut().insert(header::CONTENT_SECURITY_POLICY, v);
    }
}

/// `csp` with `origins` appended to its `form-action` directive.
fn with_form_targets(csp: &str, origins: &[String]) -> String {
    csp.split(';')
        .map(str::trim)
        .map(|d| {
            if d == "form-action" || d.starts_with("form-action ") {
                format!("{d} {}", origins.join(" "))
            } else {
                d.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The origin (`scheme://host[:port]`) of an absolute http(s) URL, for a CSP source list.
pub fn origin_of(url: &str) -> Option<String> {
    let url = url::Url::parse(url).ok()?;
    matches!(url.scheme(), "https" | "http")
        .then(|| url.origin().ascii_serialization())
        .filter(|o| o != "null")
}

/// Middleware adding the security headers that are not already set.
pub async fn security_headers(req: Request, next: Next) -> Response {
    let https = req
        .extensions()
        .get::<ClientInfo>()
        .is_some_and(|c| c.https);
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    let mut set = |name: HeaderName, value: &'static str| {
        if !h.contains_key(&name) {
            h.insert(name, HeaderValue::from_static(value));
        }
    };
    set(header::CONTENT_SECURITY_POLICY, DEFAULT_CSP);
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(header::X_FRAME_OPTIONS, "DENY");
    set(header::REFERRER_POLICY, "no-referrer");
    set(
        HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    );
    if https {
        set(
            header::STRICT_TRANSPORT_SECURITY,
            "max-age=63072000; includeSubDomains",
        );
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_targets_join_form_action_and_nothing_else() {
        let csp = with_form_targets(DEFAULT_CSP, &["https://sede.example.es".into()]);
        assert!(
            csp.contains("; form-action 'self' https://sede.example.es; "),
            "{csp}"
        );
        assert!(csp.starts_with("default-src 'self'; img-src 'self' data:;"));
        assert_eq!(
            origin_of("https://sede.example.es:8443/cb?x=1#f").as_deref(),
            Some("https://sede.example.es:8443")
        );
        assert_eq!(origin_of("javascript:alert(1)"), None);
        assert_eq!(origin_of("/relative"), None);
    }
}
