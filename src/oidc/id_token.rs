//! ID tokens: claims built with the `openidconnect` crate's types (with `sid` as an additional
//! claim), signed through the key ring's OpenSSL keys; and verification of an
//! `id_token_hint` against our own published keys.

use crate::core::CoreError;
use crate::core::keys::{JwsAlg, KeyRing};
use crate::store::oidc_tokens::GrantFacts;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use openidconnect::core::CoreGenderClaim;
use openidconnect::{
    AccessTokenHash, AdditionalClaims, Audience, AuthenticationContextClass,
    AuthenticationMethodReference, AuthorizationCodeHash, ClientId, IdTokenClaims, IssuerUrl,
    Nonce, StandardClaims, SubjectIdentifier,
};
use serde::{Deserialize, Serialize};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Claims beyond the crate's standard set.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionClaims {
    /// The SSO session id (OIDC `sid`), for logout.
    pub sid: String,
}

impl AdditionalClaims for SessionClaims {}

/// What goes into one ID token.
#[derive(Debug, Clone)]
pub struct IdTokenInput<'a> {
    /// The issuer.
    pub issuer: &'a str,
    /// The client (`aud` and `azp`).
    pub client_id: &'a str,
    /// `sub`.
    pub subject: &'a str,
    /// The authentication facts (auth_time, level, amr, sid).
    pub facts: &'a GrantFacts,
    /// The `acr` value for the facts' level.
    pub acr: &'a str,
    /// The request's nonce, if any.
    pub nonce: Option<&'a str>,
    /// The access token issued beside it, for `at_hash` (none from the authorization
    /// endpoint).
    pub access_token: Option<&'a str>,
    /// The code issued beside it at the authorization endpoint, for `c_hash`.
    pub code: Option<&'a str>,
    /// Issued at.
    pub now: DateTime<Utc>,
    /// Lifetime.
    pub ttl: chrono::Duration,
}

/// `at_hash`: base64url of the left half of SHA-256 of the access token (every algorithm we
/// sign with uses SHA-256).
pub fn at_hash(access_token: &str) -> String {
    let digest = openssl::sha::sha256(access_token.as_bytes());
    B64.encode(&digest[..16])
}

fn issuer_url(issuer: &str) -> Result<IssuerUrl, CoreError> {
    IssuerUrl::new(issuer.to_owned()).map_err(|e| CoreError::Invalid(format!("issuer: {e}")))
}

/// The ID token claims as JSON.
pub fn claims(input: &IdTokenInput<'_>) -> Result<serde_json::Value, CoreError> {
    let claims: IdTokenClaims<SessionClaims, CoreGenderClaim> = IdTokenClaims::new(
        issuer_url(input.issuer)?,
        vec![Audience::new(input.client_id.to_owned())],
        input.now + input.ttl,
        input.now,
        StandardClaims::new(SubjectIdentifier::new(input.subject.to_owned())),
        SessionClaims {
            sid: input.facts.session_id.to_string(),
        },
    )
    .set_auth_time(Some(input.facts.auth_time))
    .set_nonce(input.nonce.map(|n| Nonce::new(n.to_owned())))
    .set_auth_context_ref(Some(AuthenticationContextClass::new(input.acr.to_owned())))
    .set_auth_method_refs(Some(
        input
            .facts
            .amr
            .iter()
            .map(|a| AuthenticationMethodReference::new(a.clone()))
            .collect(),
    ))
    .set_authorized_party(Some(ClientId::new(input.client_id.to_owned())))
    .set_access_token_hash(input.access_token.map(|t| AccessTokenHash::new(at_hash(t))))
    .set_code_hash(input.code.map(|c| AuthorizationCodeHash::new(at_hash(c))));
    serde_json::to_value(&claims).map_err(|e| CoreError::Unavailable(format!("id token: {e}")))
}

/// Adds `extra` to an ID token's claims; a claim already there (iss, sub, acr, …) is never
/// replaced.
pub fn add_claims(
    claims: &mut serde_json::Value,
    extra: serde_json::Map<String, serde_json::Value>,
) {
    if let Some(obj) = claims.as_object_mut() {
        for (k, v) in extra {
            obj.entry(k).or_insert(v);
        }
    }
}

/// Signs `claims` with the ring's active key for `alg`.
pub fn sign(keys: &KeyRing, alg: JwsAlg, claims: &serde_json::Value) -> Result<String, CoreError> {
    let key = keys
        .active(alg)
        .ok_or_else(|| CoreError::Unavailable(format!("no active {alg} key")))?;
    key.sign_jwt(alg, serde_json::Map::new(), claims)
}

/// The payload of a JWT signed by one of our published keys, with our issuer; `None` for
/// anything else (bad shape, `alg: none`, unknown `kid`, bad signature, foreign issuer).
/// Expiry is not checked: an `id_token_hint` may have expired.
pub fn verify_own(keys: &KeyRing, issuer: &str, jwt: &str) -> Option<serde_json::Value> {
    let mut parts = jwt.split('.');
    let (h, p, s) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let header: serde_json::Value = serde_json::from_slice(&B64.decode(h).ok()?).ok()?;
    let alg: JwsAlg = header.get("alg")?.as_str()?.parse().ok()?;
    let key = keys.by_kid(header.get("kid")?.as_str()?)?;
    let sig = B64.decode(s).ok()?;
    if !key.verify(alg, format!("{h}.{p}").as_bytes(), &sig) {
        return None;
    }
    let payload: serde_json::Value = serde_json::from_slice(&B64.decode(p).ok()?).ok()?;
    (payload.get("iss")?.as_str()? == issuer).then_some(payload)
}

/// The audiences of a verified token (`aud` as a string or an array).
pub fn audiences(payload: &serde_json::Value) -> Vec<String> {
    match payload.get("aud") {
        Some(serde_json::Value::String(s)) => vec![s.clone()],
        Some(serde_json::Value::Array(a)) => a
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::level::LevelOfAssurance;
    use crate::core::session::SessionId;

    fn facts() -> GrantFacts {
        GrantFacts {
            session_id: SessionId::generate().unwrap(),
            scope: "openid".into(),
            auth_time: DateTime::from_timestamp(1_767_225_600, 0).unwrap(),
            level: LevelOfAssurance::Substantial,
            amr: vec!["pwd".into(), "sms".into(), "mfa".into()],
            claims: Default::default(),
        }
    }

    #[test]
    fn id_tokens_carry_every_claim_and_verify_with_our_keys_only() {
        let now = DateTime::from_timestamp(1_767_225_700, 0).unwrap();
        let ring = KeyRing::in_memory(now).unwrap();
        let facts = facts();
        let input = IdTokenInput {
            issuer: "https://idp.example.es",
            client_id: "sede",
            subject: "citizen-1",
            facts: &facts,
            acr: "substantial",
            nonce: Some("n-0S6"),
            access_token: Some("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"),
            code: None,
            now,
            ttl: chrono::Duration::minutes(5),
        };
        let claims = claims(&input).unwrap();
        assert_eq!(claims["iss"], "https://idp.example.es");
        assert_eq!(claims["sub"], "citizen-1");
        assert_eq!(audiences(&claims), vec!["sede".to_owned()]);
        assert_eq!(claims["azp"], "sede");
        assert_eq!(claims["iat"], 1_767_225_700);
        assert_eq!(claims["exp"], 1_767_226_000);
        assert_eq!(claims["auth_time"], 1_767_225_600);
        assert_eq!(claims["nonce"], "n-0S6");
        assert_eq!(claims["acr"], "substantial");
        assert_eq!(claims["amr"], serde_json::json!(["pwd", "sms", "mfa"]));
        assert_eq!(claims["sid"], facts.session_id.to_string());
        // The example of OIDC Core §A.3 is for RS256 over this access token.
        assert_eq!(claims["at_hash"], "77QmUPtjPfzWtF2AnpK9RQ");
        assert!(claims.get("c_hash").is_none());
        // From the authorization endpoint: c_hash (same construction, OIDC Core §3.3.2.11),
        // no at_hash.
        let front = super::claims(&IdTokenInput {
            access_token: None,
            code: Some("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"),
            ..input.clone()
        })
        .unwrap();
        assert_eq!(front["c_hash"], "77QmUPtjPfzWtF2AnpK9RQ");
        assert!(front.get("at_hash").is_none());
        for alg in JwsAlg::ALL {
            let jwt = sign(&ring, alg, &claims).unwrap();
            let payload = verify_own(&ring, "https://idp.example.es", &jwt).unwrap();
            assert_eq!(payload, claims);
            assert!(verify_own(&ring, "https://other.example", &jwt).is_none());
            let mut parts: Vec<&str> = jwt.split('.').collect();
            let none_header = B64.encode(br#"{"alg":"none"}"#);
            parts[0] = &none_header;
            assert!(verify_own(&ring, "https://idp.example.es", &parts.join(".")).is_none());
        }
        let mut with = claims.clone();
        let mut extra = serde_json::Map::new();
        extra.insert("email".into(), "lucia@example.es".into());
        extra.insert("sub".into(), "someone-else".into());
        add_claims(&mut with, extra);
        assert_eq!(with["email"], "lucia@example.es");
        assert_eq!(with["sub"], "citizen-1");
        let other = KeyRing::in_memory(now).unwrap();
        let forged = sign(&other, JwsAlg::RS256, &claims).unwrap();
        assert!(verify_own(&ring, "https://idp.example.es", &forged).is_none());
    }
}
