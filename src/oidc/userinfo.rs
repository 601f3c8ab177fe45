//! The userinfo endpoint: GET or POST with `Authorization: Bearer`, or POST with
//! `access_token` in the form body.

use super::scopes;
use crate::store::oidc_tokens::TokenKind;
use crate::web::AppState;
use axum::extract::{FromRequest, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;

fn bearer_error(status: StatusCode, code: &str) -> Response {
    let mut res = (status, axum::Json(serde_json::json!({ "error": code }))).into_response();
    let challenge = format!("Bearer realm=\"pasarela\", error=\"{code}\"");
    if let Ok(v) = HeaderValue::from_str(&challenge) {
        res.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// `GET|POST /oidc/userinfo`
pub async fn userinfo(State(state): State<AppState>, req: Request) -> Response {
    let header_token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim().to_owned());
    let token = match header_token {
        Some(t) => t,
        None if req.method() == Method::POST => {
            match axum::Form::<HashMap<String, String>>::from_request(req, &state).await {
                Ok(axum::Form(mut f)) => match f.remove("access_token") {
                    Some(t) => t,
                    None => return bearer_error(StatusCode::UNAUTHORIZED, "invalid_token"),
                },
                Err(_) => return bearer_error(StatusCode::BAD_REQUEST, "invalid_request"),
            }
        }
        None => return bearer_error(StatusCode::UNAUTHORIZED, "invalid_token"),
    };
    let now = state.engine.clock.now();
    let record = match state.engine.store.token(&super::grants::hash(&token)).await {
        Ok(r) => r,
        Err(e) => return super::error::server_error_json(&e.to_string()),
    };
    let Some(record) = record.filter(|r| r.kind == TokenKind::Access && r.is_live(now)) else {
        return bearer_error(StatusCode::UNAUTHORIZED, "invalid_token");
    };
    let citizen = match state.engine.store.citizen(record.citizen_id).await {
        Ok(Some(c)) => c,
        Ok(None) => return bearer_error(StatusCode::UNAUTHORIZED, "invalid_token"),
        Err(e) => return super::error::server_error_json(&e.to_string()),
    };
    let client = match super::grants::client(&state, &record.client_id).await {
        Ok(Some(c)) => c,
        Ok(None) => return bearer_error(StatusCode::UNAUTHORIZED, "invalid_token"),
        Err(e) => return super::error::server_error_json(&e.to_string()),
    };
    let sub = match super::subject::for_client(&state.engine, &client, citizen.id) {
        Ok(s) => s,
        Err(e) => return super::error::server_error_json(&e.to_string()),
    };
    let mut claims = scopes::userinfo_claims(&citizen, &sub, &record.facts.scope);
    // Claims the `claims` parameter asked for at userinfo (OIDC Core §5.5).
    for (k, v) in scopes::named_claims(&citizen, &record.facts.claims.userinfo) {
        claims.entry(k).or_insert(v);
    }
    let mut res = match client.settings.userinfo_signed_response_alg {
        // Signed userinfo (OIDC Core §5.3.2): iss and aud added, never a nonce.
        Some(alg) => {
            claims.insert("iss".into(), state.issuer.clone().into());
            claims.insert("aud".into(), client.id().into());
            let jwt = match super::id_token::sign(&state.keys, alg, &claims.into()) {
                Ok(j) => j,
                Err(e) => return super::error::server_error_json(&e.to_string()),
            };
            ([(header::CONTENT_TYPE, "application/jwt")], jwt).into_response()
        }
        None => axum::Json(claims).into_response(),
    };
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}
