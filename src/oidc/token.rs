//! The token endpoint (`POST /oidc/token`): client authentication, then one grant.

use super::client::{ClientAuthMethod, GrantType, OidcClient};
use super::error::{TokenError, no_store};
use super::grants;
use crate::web::AppState;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use std::collections::HashMap;

/// Credentials from an `Authorization: Basic` header: both parts are form-url-decoded
/// (RFC 6749 §2.3.1).
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
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
async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Result<OidcClient, TokenError> {
    let basic = basic_credentials(headers);
    let tried_basic = headers.contains_key(header::AUTHORIZATION);
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
) -> Result<grants::Issued, TokenError> {
    let client = authenticate(state, headers, form).await?;
    let get = |k: &str| form.get(k).map(String::as_str).filter(|v| !v.is_empty());
    match get("grant_type") {
        Some("authorization_code") => {
            let code = get("code").ok_or_else(|| TokenError::invalid_request("code missing"))?;
            if client.is_public() && get("code_verifier").is_none() {
                return Err(TokenError::invalid_request(
                    "public clients must send code_verifier",
                ));
            }
            grants::exchange_code(
                state,
                &client,
                code,
                get("redirect_uri"),
                get("code_verifier"),
            )
            .await
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
            grants::refresh(state, &client, token, get("scope")).await
        }
        Some(_) => Err(TokenError::bad(
            "unsupported_grant_type",
            "grant type not supported",
        )),
        None => Err(TokenError::invalid_request("grant_type missing")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
