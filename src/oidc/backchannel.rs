//! Back-channel logout (OpenID Connect Back-Channel Logout 1.0): whenever an SSO session
//! ends (told by [`super::session_end::OidcNotifier`], whatever ended it), every OIDC client served in it that registered a
//! back-channel URI receives a signed logout token (header `typ: logout+jwt`; `iss`, `aud`,
//! `iat`, `exp`, `jti`, `sub`, `sid` and the exact `events` member; never a `nonce`).
//! Deliveries run concurrently, each bounded by a short timeout, and their outcome is audited
//! (never the token).

use super::client::OidcClient;
use crate::core::CoreError;
use crate::core::engine::{Actor, Engine};
use crate::core::keys::KeyRing;
use crate::core::session::SsoSession;
use chrono::{DateTime, Utc};
use serde_json::json;
use std::time::Duration;

/// The `events` member of every logout token.
pub const EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// How long one delivery may take.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(5);

/// A signed logout token for `client` about `session`; `sub` is the subject the client
/// knows the citizen by ([`super::subject::for_client`]). `sid` is always sent, so a client
/// that registered `backchannel_logout_session_required` always gets it.
pub fn logout_token(
    keys: &KeyRing,
    issuer: &str,
    client: &OidcClient,
    sub: &str,
    session: &SsoSession,
    now: DateTime<Utc>,
) -> Result<String, CoreError> {
    let claims = json!({
        "iss": issuer,
        "aud": client.id(),
        "iat": now.timestamp(),
        "exp": now.timestamp() + 120,
        "jti": crate::core::random::token(16)?,
        "sub": sub,
        "sid": session.id.as_str(),
        "events": { EVENT: {} },
    });
    let alg = client.settings.id_token_signed_response_alg;
    let key = keys
        .active(alg)
        .ok_or_else(|| CoreError::Unavailable(format!("no active {alg} key")))?;
    let mut header = serde_json::Map::new();
    header.insert("typ".into(), "logout+jwt".into());
    key.sign_jwt(alg, header, &claims)
}

/// Sends logout tokens to every OIDC client of the ended `session` that registered a
/// back-channel URI, and waits for the deliveries (each at most a few seconds).
pub async fn notify(engine: &Engine, keys: &KeyRing, issuer: &str, session: &SsoSession) {
    let http = match reqwest::Client::builder()
        .timeout(DELIVERY_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
    {
        Ok(h) => h,
        Err(e) => {
            tracing::error!(error = %e, "back-channel logout: no HTTP client");
            return;
        }
    };
    let now = engine.clock.now();
    let mut deliveries = tokio::task::JoinSet::new();
    for visit in session
        .relying_parties
        .iter()
        .filter(|v| v.protocol == "oidc")
    {
        let client = match super::grants::client_of(engine, &visit.rp_id).await {
            Ok(Some(c)) => c,
            Ok(None) => continue,
            Err(e) => {
                tracing::error!(error = %e, "back-channel logout: client lookup failed");
                continue;
            }
        };
        let Some(uri) = client.rp.logout.backchannel_uri.clone() else {
            continue;
        };
        let sub = match super::subject::for_client(engine, &client, session.citizen_id) {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(error = %e, "back-channel logout: no subject");
                continue;
            }
        };
        let token = match logout_token(keys, issuer, &client, &sub, session, now) {
            Ok(t) => t,
            Err(e) => {
                tracing::error!(error = %e, "back-channel logout: could not sign");
                continue;
            }
        };
        let http = http.clone();
        let id = client.id().to_owned();
        deliveries.spawn(async move {
            let outcome = http
                .post(&uri)
                .form(&[("logout_token", token.as_str())])
                .send()
                .await
                .map(|r| r.status().as_u16())
                .map_err(|e| e.without_url().to_string());
            (id, outcome)
        });
    }
    while let Some(done) = deliveries.join_next().await {
        let Ok((client, outcome)) = done else {
            continue;
        };
        let detail = match &outcome {
            Ok(status) => {
                json!({ "client": client, "session": session.id.as_str(), "status": status })
            }
            Err(e) => json!({ "client": client, "session": session.id.as_str(), "error": e }),
        };
        let event = engine
            .event(&Actor::system(), "oidc.backchannel_logout")
            .citizen(session.citizen_id)
            .detail(detail);
        if let Err(e) = engine.audit(event).await {
            tracing::error!(error = %e, "back-channel logout: could not audit");
        }
    }
}
