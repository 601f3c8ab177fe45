//! Front-channel logout (OpenID Connect Front-Channel Logout 1.0): the page that ends a
//! session embeds an `<iframe>` for every client of the session that registered a
//! `frontchannel_logout_uri`, with `iss` and `sid` added to it (always: a client that did not
//! ask for them may ignore them), and a Content-Security-Policy whose `frame-src` allows
//! exactly those origins.

use super::request::with_query;
use crate::core::session::SsoSession;
use crate::web::AppState;
use crate::web::headers::DEFAULT_CSP;

/// The front-channel logout URIs (with `iss` and `sid`) of the OIDC clients `session` visited.
pub async fn uris(state: &AppState, session: &SsoSession) -> Vec<String> {
    let mut out = Vec::new();
    for visit in session
        .relying_parties
        .iter()
        .filter(|v| v.protocol == "oidc")
    {
        let client = match super::grants::client(state, &visit.rp_id).await {
            Ok(Some(c)) => c,
            Ok(None) => continue,
            Err(e) => {
                tracing::error!(error = %e, "front-channel logout: client lookup failed");
                continue;
            }
        };
        let Some(base) = client.rp.logout.frontchannel_uri.as_deref() else {
            continue;
        };
        let params = [("iss", state.issuer.as_str()), ("sid", session.id.as_str())];
        if let Some(uri) = with_query(base, &params)
            && !out.contains(&uri)
        {
            out.push(uri);
        }
    }
    out
}

/// The page's policy: the default one, with `frame-src` listing exactly the frames' origins.
pub fn csp(uris: &[String]) -> String {
    let mut origins: Vec<String> = uris
        .iter()
        .filter_map(|u| url::Url::parse(u).ok())
        .map(|u| u.origin().ascii_serialization())
        .filter(|o| o != "null")
        .collect();
    origins.sort();
    origins.dedup();
    if origins.is_empty() {
        return DEFAULT_CSP.to_owned();
    }
    format!("{DEFAULT_CSP}; frame-src {}", origins.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_frames_exactly_the_logout_origins() {
        let csp = csp(&[
            "https://b.example/fc?iss=x&sid=y".into(),
            "https://a.example:8443/logout?sid=z".into(),
            "https://b.example/other".into(),
        ]);
        assert!(csp.starts_with(DEFAULT_CSP));
        assert!(
            csp.ends_with("; frame-src https://a.example:8443 https://b.example"),
            "{csp}"
        );
        assert_eq!(super::csp(&[]), DEFAULT_CSP);
    }
}
