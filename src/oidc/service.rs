//! The `client_credentials` grant (RFC 6749 §4.4) for service clients: an opaque access
//! token (256 random bits, stored hashed) that speaks for the client itself: no citizen, no
//! refresh token, no ID token. The scope is limited to the client's registered
//! `service_scopes`; `openid` is never granted here. Introspection and revocation of these
//! tokens live here too.

use super::client::{ClientAuthMethod, GrantType, OidcClient};
use super::error::TokenError;
use super::grants;
use crate::core::engine::Actor;
use crate::store::service_tokens::ServiceToken;
use crate::web::AppState;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Value, json};

/// Bytes of randomness in a service access token.
const TOKEN_BYTES: usize = 32;

/// The token response of `client_credentials`.
#[derive(Debug, Serialize)]
pub struct ServiceIssued {
    /// The access token.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds the token lives.
    pub expires_in: i64,
    /// The granted scope (omitted when empty).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub scope: String,
}

/// The scope granted for `requested` (all registered service scopes when absent).
pub(crate) fn granted_scope(
    registered: &[String],
    requested: Option<&str>,
) -> Result<String, TokenError> {
    let Some(requested) = requested else {
        return Ok(registered.join(" "));
    };
    let mut granted: Vec<&str> = Vec::new();
    for s in requested.split(' ').filter(|s| !s.is_empty()) {
        if s == "openid" || !registered.iter().any(|r| r == s) {
            return Err(TokenError::bad(
                "invalid_scope",
                "a requested scope is not registered for this client",
            ));
        }
        if !granted.contains(&s) {
            granted.push(s);
        }
    }
    Ok(granted.join(" "))
}

/// `grant_type=client_credentials`.
pub async fn client_credentials(
    state: &AppState,
    client: &OidcClient,
    scope: Option<&str>,
) -> Result<ServiceIssued, TokenError> {
    if !client.allows_grant(GrantType::ClientCredentials)
        || client.settings.token_endpoint_auth_method == ClientAuthMethod::None
    {
        return Err(TokenError::bad(
            "unauthorized_client",
            "the client may not use client_credentials",
        ));
    }
    let scope = granted_scope(&client.settings.service_scopes, scope)?;
    let value = crate::core::random::token(TOKEN_BYTES).map_err(TokenError::server)?;
    let now = state.engine.clock.now();
    let ttl = state.config.oidc.access_token_ttl();
    state
        .engine
        .store
        .insert_service_token(&ServiceToken {
            token_hash: grants::hash(&value),
            client_id: client.id().to_owned(),
            scope: scope.clone(),
            issued_at: now,
            expires_at: now + ttl,
            revoked_at: None,
        })
        .await?;
    let event = state
        .engine
        .event(&Actor::system(), "oidc.service_token.issued")
        .detail(json!({ "client": client.id(), "scope": scope }));
    state.engine.audit(event).await?;
    Ok(ServiceIssued {
        access_token: value,
        token_type: "Bearer",
        expires_in: ttl.num_seconds(),
        scope,
    })
}

/// The introspection answer for a live service token of `client` (`None` otherwise).
pub(crate) async fn introspect(
    state: &AppState,
    client: &OidcClient,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<Value>, TokenError> {
    let Some(t) = state.engine.store.service_token(token_hash).await? else {
        return Ok(None);
    };
    if t.client_id != client.id() || !t.is_live(now) {
        return Ok(None);
    }
    Ok(Some(json!({
        "active": true,
        "scope": t.scope,
        "client_id": t.client_id,
        "exp": t.expires_at.timestamp(),
        "iat": t.issued_at.timestamp(),
        "iss": state.issuer,
        "aud": t.client_id,
        "token_type": "Bearer",
    })))
}

/// Revokes a service token of `client`; `None` when there is no such token, `Some(false)`
/// when it belongs to another client (left alone).
pub(crate) async fn revoke(
    state: &AppState,
    client: &OidcClient,
    token_hash: &str,
) -> Result<Option<bool>, TokenError> {
    let Some(t) = state.engine.store.service_token(token_hash).await? else {
        return Ok(None);
    };
    if t.client_id != client.id() {
        return Ok(Some(false));
    }
    let now = state.engine.clock.now();
    state
        .engine
        .store
        .revoke_service_token(token_hash, now)
        .await?;
    Ok(Some(true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_is_limited_to_the_registered_service_scopes() {
        let reg = vec!["registry.read".to_owned(), "registry.write".to_owned()];
        assert_eq!(
            granted_scope(&reg, None).unwrap(),
            "registry.read registry.write"
        );
        assert_eq!(
            granted_scope(&reg, Some("registry.read  registry.read")).unwrap(),
            "registry.read"
        );
        assert_eq!(granted_scope(&reg, Some("")).unwrap(), "");
        for bad in ["openid", "registry.read openid", "registry.delete"] {
            assert_eq!(
                granted_scope(&reg, Some(bad)).unwrap_err().code,
                "invalid_scope",
                "{bad}"
            );
        }
        assert!(granted_scope(&["openid".into()], Some("openid")).is_err());
    }
}
