//! Client authentication at the token endpoint (and every other back-channel endpoint that
//! authenticates clients): `client_secret_basic`, `client_secret_post`, `private_key_jwt`
//! (OIDC Core §9, RFC 7523) and `none` (public clients, by `client_id` only).
//!
//! A client authenticates only by the one method it registered. A `private_key_jwt`
//! assertion must be signed by a key the client registered (`jwks` or `jwks_uri`, re-fetched
//! on an unknown `kid`), with the registered `token_endpoint_auth_signing_alg` (or any of
//! RS256/PS256/ES256 when none is registered); `iss` = `sub` = the client id; `aud` the token
//! endpoint URL, the PAR endpoint URL (RFC 9126 §2) or the issuer (a string, or an array
//! containing one); `exp` required, in
//! the future and at most [`MAX_LIFETIME`] ahead; `iat`/`nbf` not in the future; `jti`
//! required and accepted once until the assertion expires.

use super::client::{ClientAuthMethod, OidcClient};
use super::client_keys::{self, CLIENT_ALGS};
use super::error::TokenError;
use super::grants;
use crate::core::keys::JwsAlg;
use crate::web::AppState;
use axum::http::{HeaderMap, header};
use base64::Engine as _;
use jsonwebtoken::Algorithm;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::Duration;

/// The only `client_assertion_type` (RFC 7523 §2.2).
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// Clock skew tolerated on `exp`, `iat` and `nbf`.
pub const SKEW_SECS: i64 = 60;
/// How far in the future an assertion's `exp` may be.
pub const MAX_LIFETIME: i64 = 600;
/// Prefix of the ephemeral keys that remember used `jti`s.
const JTI: &str = "oidc:jti:";

/// Credentials from an `Authorization: Basic` header: both parts are form-url-decoded
/// (RFC 6749 §2.3.1).
pub(crate) fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    let dec = |s: &str| {
        url::form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
    };
    Some((dec(id)?, dec(secret)?))
}

/// Authenticates the client by the one method it is registered for.
pub(crate) async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Result<OidcClient, TokenError> {
    let basic = basic_credentials(headers);
    let tried_basic = headers.contains_key(header::AUTHORIZATION);
    let assertion =
        form.contains_key("client_assertion_type") || form.contains_key("client_assertion");
    if assertion {
        if tried_basic || form.contains_key("client_secret") {
            return Err(TokenError::invalid_request(
                "use one client authentication method",
            ));
        }
        return assertion_client(state, form).await;
    }
    let (id, secret, method) = match (&basic, form.get("client_secret")) {
        (Some(_), Some(_)) => {
            return Err(TokenError::invalid_request(
                "use one client authentication method",
            ));
        }
        (Some((id, secret)), None) => (
            id.clone(),
            Some(secret.clone()),
            ClientAuthMethod::ClientSecretBasic,
        ),
        (None, Some(secret)) => (
            form.get("client_id").cloned().unwrap_or_default(),
            Some(secret.clone()),
            ClientAuthMethod::ClientSecretPost,
        ),
        (None, None) if tried_basic => return Err(TokenError::invalid_client(true)),
        (None, None) => (
            form.get("client_id").cloned().unwrap_or_default(),
            None,
            ClientAuthMethod::None,
        ),
    };
    if let (Some(_), Some(body_id)) = (&basic, form.get("client_id"))
        && Some(body_id) != basic.as_ref().map(|(id, _)| id)
    {
        return Err(TokenError::invalid_client(true));
    }
    let fail = || TokenError::invalid_client(tried_basic);
    let client = grants::client(state, &id).await?.ok_or_else(fail)?;
    if client.settings.token_endpoint_auth_method != method {
        return Err(fail());
    }
    match (method, secret) {
        (ClientAuthMethod::None, _) => Ok(client),
        (_, Some(s)) if client.secret_matches(&s) => Ok(client),
        _ => Err(fail()),
    }
}

/// The claims of a JWT without verifying it: only to learn which client it claims to be.
fn unverified_claims(jwt: &str) -> Option<Value> {
    let mut parts = jwt.split('.');
    let (_, payload) = (parts.next()?, parts.next()?);
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// A `private_key_jwt` assertion, verified.
async fn assertion_client(
    state: &AppState,
    form: &HashMap<String, String>,
) -> Result<OidcClient, TokenError> {
    let get = |k: &str| form.get(k).map(String::as_str).filter(|v| !v.is_empty());
    let fail = || TokenError::invalid_client(false);
    if get("client_assertion_type") != Some(JWT_BEARER) {
        return Err(fail());
    }
    let jwt = get("client_assertion")
        .ok_or_else(|| TokenError::invalid_request("client_assertion missing"))?;
    let id = match (get("client_id"), unverified_claims(jwt)) {
        (Some(id), _) => id.to_owned(),
        (None, Some(claims)) => claims
            .get("sub")
            .and_then(Value::as_str)
            .ok_or_else(fail)?
            .to_owned(),
        (None, None) => return Err(fail()),
    };
    let client = grants::client(state, &id).await?.ok_or_else(fail)?;
    if client.settings.token_endpoint_auth_method != ClientAuthMethod::PrivateKeyJwt {
        return Err(fail());
    }
    let allowed: Vec<Algorithm> = match client.settings.token_endpoint_auth_signing_alg {
        Some(JwsAlg::RS256) => vec![Algorithm::RS256],
        Some(JwsAlg::PS256) => vec![Algorithm::PS256],
        Some(JwsAlg::ES256) => vec![Algorithm::ES256],
        None => CLIENT_ALGS.to_vec(),
    };
    let claims = match client_keys::verify(&client, jwt, &allowed).await {
        Ok(c) => c,
        Err(client_keys::KeyError::Unavailable(detail)) => {
            // The client's keys cannot be fetched: refuse, and say why in the log only.
            tracing::warn!(client = %client.id(), %detail, "client jwks_uri unavailable");
            return Err(fail());
        }
        Err(e) => {
            audit_refusal(state, &client, &e.to_string()).await;
            return Err(fail());
        }
    };
    // RFC 9126 §2: the issuer, the token endpoint and the PAR endpoint all name us.
    let audiences = [
        format!("{}/oidc/token", state.issuer),
        format!("{}/oidc/par", state.issuer),
        state.issuer.clone(),
    ];
    let now = state.engine.clock.now().timestamp();
    let (jti, exp) = match check_claims(&claims, client.id(), &audiences, now) {
        Ok(v) => v,
        Err(why) => {
            audit_refusal(state, &client, why).await;
            return Err(fail());
        }
    };
    let key = format!("{JTI}{}:{}", client.id(), sha256_hex(&jti));
    let ttl = Duration::from_secs((exp - now + SKEW_SECS).max(1) as u64);
    if !state
        .engine
        .ephemeral
        .set_if_absent(&key, b"1", ttl)
        .await?
    {
        audit_refusal(state, &client, "assertion jti replayed").await;
        return Err(fail());
    }
    Ok(client)
}

fn sha256_hex(s: &str) -> String {
    hex::encode(openssl::sha::sha256(s.as_bytes()))
}

async fn audit_refusal(state: &AppState, client: &OidcClient, why: &str) {
    let event = state
        .engine
        .event(
            &crate::core::engine::Actor::system(),
            "oidc.client_assertion.refused",
        )
        .detail(json!({ "client": client.id(), "reason": why }));
    if let Err(e) = state.engine.audit(event).await {
        tracing::error!(error = %e, "could not audit a refused client assertion");
    }
}

/// Checks an assertion's claims at time `now` (seconds since the epoch); the `jti` and
/// `exp` on success, a reason (for the audit, never sent) otherwise.
pub(crate) fn check_claims(
    claims: &Value,
    client_id: &str,
    audiences: &[String],
    now: i64,
) -> Result<(String, i64), &'static str> {
    let s = |k: &str| claims.get(k).and_then(Value::as_str);
    if s("iss") != Some(client_id) {
        return Err("iss is not the client id");
    }
    if s("sub") != Some(client_id) {
        return Err("sub is not the client id");
    }
    let aud_ok = match claims.get("aud") {
        Some(Value::String(a)) => audiences.contains(a),
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(Value::as_str)
            .any(|a| audiences.iter().any(|x| x == a)),
        _ => false,
    };
    if !aud_ok {
        return Err("aud is neither the token or PAR endpoint nor the issuer");
    }
    let exp = claims
        .get("exp")
        .and_then(Value::as_i64)
        .ok_or("exp missing")?;
    if exp + SKEW_SECS <= now {
        return Err("assertion expired");
    }
    if exp > now + MAX_LIFETIME + SKEW_SECS {
        return Err("exp too far in the future");
    }
    for k in ["iat", "nbf"] {
        match claims.get(k) {
            None => {}
            Some(v) => match v.as_i64() {
                Some(t) if t <= now + SKEW_SECS && t <= exp => {}
                _ => return Err("iat or nbf in the future or malformed"),
            },
        }
    }
    let jti = s("jti").filter(|j| !j.is_empty()).ok_or("jti missing")?;
    Ok((jti.to_owned(), exp))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auds() -> Vec<String> {
        vec!["https://idp/oidc/token".into(), "https://idp".into()]
    }

    fn good(now: i64) -> Value {
        json!({ "iss": "svc", "sub": "svc", "aud": "https://idp/oidc/token",
                "exp": now + 60, "iat": now, "jti": "j1" })
    }

    #[test]
    fn basic_credentials_are_form_decoded() {
        let mut h = HeaderMap::new();
        let raw = base64::engine::general_purpose::STANDARD.encode("my%3Aclient:s%2Bcret");
        h.insert(
            header::AUTHORIZATION,
            format!("Basic {raw}").parse().unwrap(),
        );
        assert_eq!(
            basic_credentials(&h),
            Some(("my:client".into(), "s+cret".into()))
        );
        h.insert(header::AUTHORIZATION, "Bearer x".parse().unwrap());
        assert_eq!(basic_credentials(&h), None);
    }

    #[test]
    fn a_good_assertion_passes() {
        let now = 1_700_000_000;
        assert_eq!(
            check_claims(&good(now), "svc", &auds(), now),
            Ok(("j1".into(), now + 60))
        );
        let mut c = good(now);
        c["aud"] = json!(["https://other", "https://idp"]);
        assert!(check_claims(&c, "svc", &auds(), now).is_ok());
        // Within the skew.
        c["exp"] = json!(now - 30);
        c["iat"] = json!(now - 90);
        assert!(check_claims(&c, "svc", &auds(), now).is_ok());
    }

    #[test]
    fn bad_claims_are_refused() {
        let now = 1_700_000_000;
        let cases: Vec<(&str, Value)> = vec![
            ("iss", json!("other")),
            ("sub", json!("other")),
            ("aud", json!("https://idp/oidc/userinfo")),
            ("aud", json!(["https://elsewhere"])),
            ("aud", json!(null)),
            ("exp", json!(now - 61)),
            ("exp", json!(now + MAX_LIFETIME + 61)),
            ("exp", json!("soon")),
            ("iat", json!(now + 120)),
            ("nbf", json!(now + 120)),
            ("jti", json!("")),
            ("jti", json!(7)),
        ];
        for (k, v) in cases {
            let mut c = good(now);
            c[k] = v.clone();
            assert!(
                check_claims(&c, "svc", &auds(), now).is_err(),
                "{k} = {v} accepted"
            );
        }
        for k in ["exp", "jti", "iss", "sub", "aud"] {
            let mut c = good(now);
            c.as_object_mut().unwrap().remove(k);
            assert!(check_claims(&c, "svc", &auds(), now).is_err(), "no {k}");
        }
    }

    #[test]
    fn unverified_claims_read_the_payload_only() {
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(br#"{"sub":"a"}"#);
        assert_eq!(
            unverified_claims(&format!("e30.{payload}.sig")),
            Some(json!({"sub": "a"}))
        );
        assert_eq!(unverified_claims("garbage"), None);
    }
}
