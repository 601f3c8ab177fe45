//! Token revocation (RFC 7009): `POST /oidc/revoke`, for authenticated clients (public
//! clients identify themselves with `client_id` alone).
//!
//! - A refresh token revokes its whole family (every access and refresh token issued from
//!   the same authorization code).
//! - A citizen access token also revokes its family: RFC 7009 §2.1 lets the server revoke
//!   the related tokens, and a client that gives up an access token gives up the grant
//!   (the store keeps revocation per family, so no sibling stays usable by surprise).
//! - A `client_credentials` token revokes just itself (it has no family).
//! - An unknown, expired or already revoked token answers 200 (RFC 7009 §2.2).
//! - A token issued to another client is left alone and the answer is the same 200: RFC 7009
//!   §2.1 says such a request is refused, but an error would tell the caller that the value
//!   is a live token of someone else; to the caller it is just not one of its tokens, which
//!   §2.2 answers with 200. The attempt is audited.
//! - `token_type_hint` is a hint only (§2.1: the search extends to every type), so an
//!   unknown hint is ignored and `unsupported_token_type` is never needed: every kind of
//!   token pasarela issues can be revoked.

use super::error::{TokenError, no_store};
use super::{grants, token};
use crate::core::engine::Actor;
use crate::web::AppState;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::collections::HashMap;

/// `POST /oidc/revoke`
pub async fn revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<HashMap<String, String>>, axum::extract::rejection::FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return TokenError::invalid_request("the body must be a form (x-www-form-urlencoded)")
            .into_response();
    };
    match handle(&state, &headers, &form).await {
        Ok(()) => {
            let mut res = StatusCode::OK.into_response();
            no_store(&mut res);
            res
        }
        Err(e) => e.into_response(),
    }
}

/// What revoking a value did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Unknown,
    OtherClient,
    Revoked,
}

async fn handle(
    state: &AppState,
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Result<(), TokenError> {
    let client = token::authenticate(state, headers, form).await?;
    let value = form
        .get("token")
        .filter(|t| !t.is_empty())
        .ok_or_else(|| TokenError::invalid_request("token missing"))?;
    let hash = grants::hash(value);
    let now = state.engine.clock.now();
    let (outcome, kind, revoked) = match state.engine.store.token(&hash).await? {
        Some(t) if t.client_id != client.id() => (Outcome::OtherClient, t.kind.as_str(), 0),
        Some(t) => {
            let n = state.engine.store.revoke_grant(&t.grant_id, now).await?;
            (Outcome::Revoked, t.kind.as_str(), n)
        }
        None => match super::service::revoke(state, &client, &hash).await? {
            Some(true) => (Outcome::Revoked, "service", 1),
            Some(false) => (Outcome::OtherClient, "service", 0),
            None => (Outcome::Unknown, "unknown", 0),
        },
    };
    if outcome != Outcome::Unknown {
        let kind_name = if outcome == Outcome::Revoked {
            "oidc.token.revoked"
        } else {
            "oidc.token.revoke_refused"
        };
        let event = state
            .engine
            .event(&Actor::system(), kind_name)
            .detail(json!({ "client": client.id(), "kind": kind, "tokens": revoked }));
        state.engine.audit(event).await?;
    }
    Ok(())
}
