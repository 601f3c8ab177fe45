//! Pushed authorization requests (RFC 9126): `POST /oidc/par`. An authenticated client pushes
//! its authorization parameters; they are validated as at the authorization endpoint (a
//! `request` object inside is expanded the same way) and kept in the ephemeral store for
//! [`LIFETIME_SECS`] under a random `request_uri`, which the authorization endpoint accepts
//! once, for the same client.

use super::authorize::checked_request;
use super::client::OidcClient;
use super::error::{AuthzError, TokenError, no_store};
use super::request::{AuthzRequest, Params, Rejection};
use crate::store::Consumed;
use crate::web::AppState;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::time::Duration;

/// The prefix of the `request_uri` values this endpoint hands out (RFC 9126 §2.2).
pub const URN_PREFIX: &str = "urn:ietf:params:oauth:request_uri:";

/// How long a pushed request may be used.
pub const LIFETIME_SECS: u64 = 60;

/// Prefix of pushed requests in the ephemeral store.
const KEY: &str = "oidc:par:";

/// Client-authentication parameters: not authorization parameters.
const AUTH_PARAMS: [&str; 3] = ["client_secret", "client_assertion", "client_assertion_type"];

/// A pushed, validated request.
#[derive(Debug, Serialize, Deserialize)]
struct Pushed {
    client_id: String,
    request: AuthzRequest,
}

/// `POST /oidc/par`
pub async fn push(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<Vec<(String, String)>>, axum::extract::rejection::FormRejection>,
) -> Response {
    let Ok(Form(pairs)) = form else {
        return TokenError::invalid_request("the body must be a form (x-www-form-urlencoded)")
            .into_response();
    };
    match handle(&state, &headers, pairs).await {
        Ok(request_uri) => {
            let body = serde_json::json!({
                "request_uri": request_uri,
                "expires_in": LIFETIME_SECS,
            });
            let mut res = (StatusCode::CREATED, axum::Json(body)).into_response();
            no_store(&mut res);
            res
        }
        Err(e) => e.into_response(),
    }
}

/// A refusal in the token endpoint's shape (RFC 9126 §2.3): the authorization endpoint's
/// code, or `invalid_request` where that endpoint would show a page (redirect URI).
fn refusal(r: Rejection) -> TokenError {
    match r {
        Rejection::Displayed(_) => {
            TokenError::invalid_request("redirect_uri is missing or not registered")
        }
        Rejection::Redirected(_, e) => from_authz(e),
    }
}

fn from_authz(e: AuthzError) -> TokenError {
    TokenError::bad(e.code, e.description)
}

async fn handle(
    state: &AppState,
    headers: &HeaderMap,
    pairs: Vec<(String, String)>,
) -> Result<String, TokenError> {
    let form: HashMap<String, String> = pairs.iter().cloned().collect();
    let client = super::token::authenticate(state, headers, &form).await?;
    if form
        .get("client_id")
        .is_some_and(|id| !id.is_empty() && id != client.id())
    {
        return Err(TokenError::invalid_request(
            "client_id is not the authenticated client",
        ));
    }
    let mut pairs: Vec<(String, String)> = pairs
        .into_iter()
        .filter(|(k, _)| !AUTH_PARAMS.contains(&k.as_str()))
        .collect();
    if !pairs.iter().any(|(k, _)| k == "client_id") {
        pairs.push(("client_id".into(), client.id().to_owned()));
    }
    let params = Params::new(pairs);
    if params.get("request_uri").is_some() {
        return Err(TokenError::invalid_request(
            "request_uri cannot be pushed (RFC 9126 section 2.1)",
        ));
    }
    let now = state.engine.clock.now().timestamp();
    let params = match super::request_object::expand(&client, &state.issuer, now, &params).await {
        Ok(Some(expanded)) => expanded,
        Ok(None) => params,
        Err(e) => return Err(from_authz(e)),
    };
    let request = checked_request(state, &client, &params).map_err(refusal)?;
    let id = crate::core::random::token(32).map_err(TokenError::server)?;
    let pushed = Pushed {
        client_id: client.id().to_owned(),
        request,
    };
    let bytes = serde_json::to_vec(&pushed).map_err(TokenError::server)?;
    state
        .engine
        .ephemeral
        .put(
            &format!("{KEY}{id}"),
            &bytes,
            Duration::from_secs(LIFETIME_SECS),
        )
        .await?;
    audit(state, &client).await;
    Ok(format!("{URN_PREFIX}{id}"))
}

async fn audit(state: &AppState, client: &OidcClient) {
    let event = state
        .engine
        .event(&crate::core::engine::Actor::system(), "oidc.par.pushed")
        .detail(serde_json::json!({ "client": client.id() }));
    if let Err(e) = state.engine.audit(event).await {
        tracing::error!(error = %e, "could not audit a pushed authorization request");
    }
}

/// Why a pushed request cannot be used.
#[derive(Debug)]
pub enum Unusable {
    /// Unknown, expired, already used, or pushed by another client: `invalid_request_uri`.
    Invalid(AuthzError),
    /// The ephemeral store failed.
    Unavailable(crate::store::EphemeralError),
}

/// Takes the pushed request named by `request_uri` for `client_id`, once.
pub async fn take(
    state: &AppState,
    client_id: &str,
    request_uri: &str,
) -> Result<AuthzRequest, Unusable> {
    let invalid = |why: &str| Unusable::Invalid(AuthzError::new("invalid_request_uri", why));
    let Some(id) = request_uri.strip_prefix(URN_PREFIX) else {
        return Err(invalid("not a pushed request_uri"));
    };
    let key = format!("{KEY}{id}");
    // Read first: another client naming it must not spend it.
    let pushed = match state.engine.ephemeral.get(&key).await {
        Ok(Some(bytes)) => serde_json::from_slice::<Pushed>(&bytes).ok(),
        Ok(None) => None,
        Err(e) => return Err(Unusable::Unavailable(e)),
    };
    let Some(pushed) = pushed else {
        return Err(invalid("the request_uri is unknown, expired or used"));
    };
    if pushed.client_id != client_id {
        return Err(invalid("the request_uri was pushed by another client"));
    }
    match state.engine.ephemeral.consume(&key).await {
        Ok(Consumed::Value(_)) => Ok(pushed.request),
        Ok(_) => Err(invalid("the request_uri is unknown, expired or used")),
        Err(e) => Err(Unusable::Unavailable(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oidc::request::{ReplyTo, ResponseMode};

    #[test]
    fn refusals_take_the_token_endpoint_shape() {
        // What the authorization endpoint would display (the redirect URI) is invalid_request.
        let e = refusal(Rejection::Displayed("oidc-error-redirect-uri"));
        assert_eq!(
            (e.status, e.code),
            (StatusCode::BAD_REQUEST, "invalid_request")
        );
        // What it would redirect keeps its code.
        let reply = ReplyTo {
            redirect_uri: "https://rp.example/cb".into(),
            redirect_uri_sent: true,
            mode: ResponseMode::Query,
            state: Some("s".into()),
        };
        let e = refusal(Rejection::Redirected(
            reply,
            AuthzError::new("invalid_scope", "the openid scope is required"),
        ));
        assert_eq!(
            (e.status, e.code),
            (StatusCode::BAD_REQUEST, "invalid_scope")
        );
        assert!(!e.basic_challenge);
    }
}
