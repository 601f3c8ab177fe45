//! The token endpoint (`POST /oidc/token`): client authentication, then one grant.

use super::client::{GrantType, OidcClient};
use super::error::{TokenError, no_store};
use super::grants;
use crate::web::AppState;
use axum::extract::{Form, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;

/// Authenticates the client by the one method it is registered for (see
/// [`super::client_auth`]); other back-channel endpoints (PAR) call it too.
pub(crate) async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Result<OidcClient, TokenError> {
    super::client_auth::authenticate(state, headers, form).await
}

/// `POST /oidc/token`
pub async fn token(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<HashMap<String, String>>, axum::extract::rejection::FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return TokenError::invalid_request("the body must be a form (x-www-form-urlencoded)")
            .into_response();
    };
    match handle(&state, &headers, &form).await {
        Ok(issued) => {
            let mut res = axum::Json(issued).into_response();
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
) -> Result<serde_json::Value, TokenError> {
    let client = authenticate(state, headers, form).await?;
    let json = |v: Result<grants::Issued, TokenError>| {
        v.and_then(|i| serde_json::to_value(i).map_err(TokenError::server))
    };
    let get = |k: &str| form.get(k).map(String::as_str).filter(|v| !v.is_empty());
    match get("grant_type") {
        Some("authorization_code") => {
            if !client.allows_grant(GrantType::AuthorizationCode) {
                return Err(TokenError::bad(
                    "unauthorized_client",
                    "the client may not use the authorization_code grant",
                ));
            }
            let code = get("code").ok_or_else(|| TokenError::invalid_request("code missing"))?;
            if client.is_public() && get("code_verifier").is_none() {
                return Err(TokenError::invalid_request(
                    "public clients must send code_verifier",
                ));
            }
            json(
                grants::exchange_code(
                    state,
                    &client,
                    code,
                    get("redirect_uri"),
                    get("code_verifier"),
                )
                .await,
            )
        }
        Some("refresh_token") => {
            if !client.allows_grant(GrantType::RefreshToken) {
                return Err(TokenError::bad(
                    "unauthorized_client",
                    "the client may not use refresh tokens",
                ));
            }
            let token = get("refresh_token")
                .ok_or_else(|| TokenError::invalid_request("refresh_token missing"))?;
            json(grants::refresh(state, &client, token, get("scope")).await)
        }
        Some("client_credentials") => {
            let issued = super::service::client_credentials(
                state,
                &client,
                form.get("scope").map(String::as_str),
            )
            .await?;
            serde_json::to_value(issued).map_err(TokenError::server)
        }
        Some(_) => Err(TokenError::bad(
            "unsupported_grant_type",
            "grant type not supported",
        )),
        None => Err(TokenError::invalid_request("grant_type missing")),
    }
}
