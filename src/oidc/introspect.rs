//! Token introspection (RFC 7662): `POST /oidc/introspect`, for authenticated clients
//! (any method but `none`).
//!
//! Privacy rule: a client learns about its own tokens only. A token issued to another
//! client answers `{"active": false}`, exactly as an unknown, expired, revoked or already
//! rotated token does, so that introspection cannot be used to probe other clients' tokens
//! or to correlate citizens across clients (the `sub` is the one the token's client sees:
//! public or pairwise). `token_type_hint` is a hint only: every kind is looked up.

use super::client::{ClientAuthMethod, OidcClient};
use super::error::{TokenError, no_store};
use super::{grants, subject, token};
use crate::store::oidc_tokens::{TokenKind, TokenRecord};
use crate::web::AppState;
use axum::extract::{Form, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use std::collections::HashMap;

/// `POST /oidc/introspect`
pub async fn introspect(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<HashMap<String, String>>, axum::extract::rejection::FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return TokenError::invalid_request("the body must be a form (x-www-form-urlencoded)")
            .into_response();
    };
    match handle(&state, &headers, &form).await {
        Ok(body) => {
            let mut res = axum::Json(body).into_response();
            no_store(&mut res);
            res
        }
        Err(e) => e.into_response(),
    }
}

async fn handle(
    state: &AppState,
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Result<Value, TokenError> {
    let client = token::authenticate(state, headers, form).await?;
    if client.settings.token_endpoint_auth_method == ClientAuthMethod::None {
        return Err(TokenError::invalid_client(false));
    }
    let value = form
        .get("token")
        .filter(|t| !t.is_empty())
        .ok_or_else(|| TokenError::invalid_request("token missing"))?;
    let now = state.engine.clock.now();
    let hash = grants::hash(value);
    if let Some(record) = state.engine.store.token(&hash).await?
        && record.client_id == client.id()
        && active(&record, now)
    {
        return citizen_token(state, &client, &record).await;
    }
    if let Some(body) = super::service::introspect(state, &client, &hash, now).await? {
        return Ok(body);
    }
    Ok(json!({ "active": false }))
}

/// Live, and for a refresh token not yet rotated.
fn active(record: &TokenRecord, now: DateTime<Utc>) -> bool {
    record.is_live(now) && !(record.kind == TokenKind::Refresh && record.used_at.is_some())
}

async fn citizen_token(
    state: &AppState,
    client: &OidcClient,
    record: &TokenRecord,
) -> Result<Value, TokenError> {
    let sub = subject::for_client(&state.engine, client, record.citizen_id)?;
    let facts = &record.facts;
    let acr = state
        .engine
        .vocabulary
        .acr(facts.level)
        .unwrap_or(facts.level.as_str());
    Ok(json!({
        "active": true,
        "scope": facts.scope,
        "client_id": record.client_id,
        "sub": sub,
        "exp": record.expires_at.timestamp(),
        "iat": record.issued_at.timestamp(),
        "iss": state.issuer,
        "aud": record.client_id,
        "token_type": match record.kind {
            TokenKind::Access => "Bearer",
            TokenKind::Refresh => "refresh_token",
        },
        "acr": acr,
        "auth_time": facts.auth_time.timestamp(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::citizen::CitizenId;
    use crate::core::level::LevelOfAssurance;
    use crate::core::session::SessionId;
    use crate::store::oidc_tokens::GrantFacts;

    fn record(kind: TokenKind, now: DateTime<Utc>) -> TokenRecord {
        TokenRecord {
            token_hash: "h".into(),
            kind,
            grant_id: "g".into(),
            client_id: "c".into(),
            citizen_id: CitizenId::new(),
            facts: GrantFacts {
                session_id: SessionId::generate().unwrap(),
                scope: "openid".into(),
                auth_time: now,
                level: LevelOfAssurance::Substantial,
                amr: vec![],
                claims: Default::default(),
            },
            issued_at: now,
            expires_at: now + chrono::Duration::seconds(60),
            used_at: None,
            revoked_at: None,
        }
    }

    #[test]
    fn expired_revoked_and_rotated_tokens_are_inactive() {
        let now = Utc::now();
        let live = record(TokenKind::Refresh, now);
        assert!(active(&live, now));
        assert!(!active(&live, now + chrono::Duration::seconds(61)));
        let mut used = live.clone();
        used.used_at = Some(now);
        assert!(!active(&used, now));
        let mut access = record(TokenKind::Access, now);
        access.used_at = Some(now);
        assert!(active(&access, now));
        access.revoked_at = Some(now);
        assert!(!active(&access, now));
    }
}
