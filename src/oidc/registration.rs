//! Dynamic client registration (RFC 7591, OpenID Connect Dynamic Client Registration 1.0) at
//! `POST /oidc/register`, and its management protocol (RFC 7592) at
//! `GET|PUT|DELETE /oidc/register/{client_id}`.
//!
//! Off unless `[oidc] registration` is `token` (an initial access token, whose SHA-256 the
//! configuration holds) or `open`. A registered client is an ordinary [`NewClient`] built with
//! `registered_by = "dynamic"`, never skipping consent, at the configured minimum level. The
//! registration access token that manages it is random and kept only as its SHA-256.

use super::client::{
    ClientAuthMethod, GrantType, NewClient, OidcClient, SubjectType, check_registered_uri,
    secret_hash,
};
use super::config::RegistrationMode;
use super::error::{TokenError, no_store};
use crate::core::engine::Actor;
use crate::core::keys::JwsAlg;
use crate::core::level::LevelOfAssurance;
use crate::core::relying_party::{ProtocolSettings, RelyingParty};
use crate::web::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use subtle::ConstantTimeEq;

/// Bytes of randomness in a generated `client_id`.
const CLIENT_ID_BYTES: usize = 18;
/// Bytes of randomness in a registration access token.
const ACCESS_TOKEN_BYTES: usize = 32;

/// The client metadata pasarela reads from a registration request; anything else is ignored
/// (RFC 7591 §2).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Metadata {
    redirect_uris: Option<Vec<String>>,
    response_types: Option<Vec<String>>,
    grant_types: Option<Vec<String>>,
    token_endpoint_auth_method: Option<String>,
    token_endpoint_auth_signing_alg: Option<String>,
    jwks: Option<Value>,
    jwks_uri: Option<String>,
    id_token_signed_response_alg: Option<String>,
    userinfo_signed_response_alg: Option<String>,
    request_object_signing_alg: Option<String>,
    request_uris: Option<Vec<String>>,
    subject_type: Option<String>,
    sector_identifier_uri: Option<String>,
    post_logout_redirect_uris: Option<Vec<String>>,
    backchannel_logout_uri: Option<String>,
    backchannel_logout_session_required: Option<bool>,
    frontchannel_logout_uri: Option<String>,
    frontchannel_logout_session_required: Option<bool>,
    client_name: Option<String>,
    logo_uri: Option<String>,
    policy_uri: Option<String>,
    tos_uri: Option<String>,
    contacts: Option<Vec<String>>,
    id_token_encrypted_response_alg: Option<Value>,
    userinfo_encrypted_response_alg: Option<Value>,
    request_object_encryption_alg: Option<Value>,
}

/// A refused registration: the RFC 7591 §3.2.2 code and a description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegError {
    /// `invalid_redirect_uri` or `invalid_client_metadata`.
    pub code: &'static str,
    /// Public description.
    pub description: String,
}

impl RegError {
    fn redirect(description: impl Into<String>) -> Self {
        Self {
            code: "invalid_redirect_uri",
            description: description.into(),
        }
    }

    fn metadata(description: impl Into<String>) -> Self {
        Self {
            code: "invalid_client_metadata",
            description: description.into(),
        }
    }
}

impl IntoResponse for RegError {
    fn into_response(self) -> Response {
        TokenError::bad(self.code, self.description).into_response()
    }
}

/// Parses a registration body (a JSON object).
pub fn parse(body: &[u8]) -> Result<Metadata, RegError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|_| RegError::metadata("the body must be a JSON object"))?;
    if !value.is_object() {
        return Err(RegError::metadata("the body must be a JSON object"));
    }
    serde_json::from_value(value).map_err(|e| RegError::metadata(format!("bad metadata: {e}")))
}

fn alg(value: Option<String>, what: &str) -> Result<Option<JwsAlg>, RegError> {
    value
        .map(|a| {
            a.parse::<JwsAlg>()
                .map_err(|_| RegError::metadata(format!("unsupported {what} '{a}'")))
        })
        .transpose()
}

/// The registration as a [`NewClient`] with `id`. Redirect URIs are checked first so that
/// their errors carry `invalid_redirect_uri`; the rest is left to [`NewClient::build`].
pub fn to_new_client(
    meta: Metadata,
    id: String,
    min_level: LevelOfAssurance,
) -> Result<NewClient, RegError> {
    for (name, present) in [
        (
            "id_token_encrypted_response_alg",
            meta.id_token_encrypted_response_alg.is_some(),
        ),
        (
            "userinfo_encrypted_response_alg",
            meta.userinfo_encrypted_response_alg.is_some(),
        ),
        (
            "request_object_encryption_alg",
            meta.request_object_encryption_alg.is_some(),
        ),
    ] {
        if present {
            return Err(RegError::metadata(format!(
                "{name}: encryption is not supported"
            )));
        }
    }
    let response_types = meta.response_types.unwrap_or_else(|| vec!["code".into()]);
    let grant_types: Vec<GrantType> = match meta.grant_types {
        Some(g) => g
            .iter()
            .map(|g| g.parse())
            .collect::<Result<_, _>>()
            .map_err(|e: crate::core::CoreError| RegError::metadata(e.to_string()))?,
        // RFC 7591 §2: authorization_code by default; the implicit grant when a response type
        // needs it.
        None => {
            let mut g = vec![GrantType::AuthorizationCode];
            if response_types.iter().any(|t| t != "code") {
                g.push(GrantType::Implicit);
            }
            g
        }
    };
    let redirect_uris = meta.redirect_uris.unwrap_or_default();
    let service_only = grant_types == [GrantType::ClientCredentials];
    if redirect_uris.is_empty() && !service_only {
        return Err(RegError::redirect("redirect_uris is required"));
    }
    for uri in &redirect_uris {
        check_registered_uri(uri, "redirect URI").map_err(|e| RegError::redirect(e.to_string()))?;
    }
    let auth_method = match meta.token_endpoint_auth_method {
        Some(m) => m
            .parse::<ClientAuthMethod>()
            .map_err(|e| RegError::metadata(e.to_string()))?,
        None => ClientAuthMethod::ClientSecretBasic,
    };
    let subject_type = match meta.subject_type.as_deref() {
        None | Some("public") => SubjectType::Public,
        Some("pairwise") => SubjectType::Pairwise,
        Some(other) => {
            return Err(RegError::metadata(format!(
                "unsupported subject_type '{other}'"
            )));
        }
    };
    let request_object_signing_alg = match meta.request_object_signing_alg {
        Some(a) if a == "none" => Some(a),
        Some(a) => Some(
            alg(Some(a), "request_object_signing_alg")?
                .map(|a| a.as_str().to_owned())
                .unwrap_or_default(),
        ),
        None => None,
    };
    Ok(NewClient {
        id,
        display_name: meta.client_name.unwrap_or_default(),
        redirect_uris,
        post_logout_redirect_uris: meta.post_logout_redirect_uris.unwrap_or_default(),
        backchannel_logout_uri: meta.backchannel_logout_uri,
        grant_types,
        auth_method,
        id_token_alg: alg(
            meta.id_token_signed_response_alg,
            "id_token_signed_response_alg",
        )?
        .unwrap_or(JwsAlg::RS256),
        min_level,
        skip_consent: false,
        response_types,
        subject_type,
        sector_identifier_uri: meta.sector_identifier_uri,
        jwks: meta.jwks,
        jwks_uri: meta.jwks_uri,
        token_endpoint_auth_signing_alg: alg(
            meta.token_endpoint_auth_signing_alg,
            "token_endpoint_auth_signing_alg",
        )?,
        request_object_signing_alg,
        request_uris: meta.request_uris.unwrap_or_default(),
        userinfo_signed_response_alg: alg(
            meta.userinfo_signed_response_alg,
            "userinfo_signed_response_alg",
        )?,
        frontchannel_logout_uri: meta.frontchannel_logout_uri,
        frontchannel_logout_session_required: meta
            .frontchannel_logout_session_required
            .unwrap_or(false),
        backchannel_logout_session_required: meta
            .backchannel_logout_session_required
            .unwrap_or(false),
        logo_uri: meta.logo_uri,
        policy_uri: meta.policy_uri,
        tos_uri: meta.tos_uri,
        contacts: meta.contacts.unwrap_or_default(),
        registered_by: Some("dynamic".into()),
        // Service scopes are an operator's grant, never self-registered.
        service_scopes: Vec::new(),
    })
}

/// Whether a `sector_identifier_uri` document (a JSON array of URIs) lists every redirect URI
/// (OIDC Dynamic Registration §5).
pub fn sector_lists_redirects(document: &[u8], redirect_uris: &[String]) -> Result<(), RegError> {
    let listed: Vec<String> = serde_json::from_slice(document).map_err(|_| {
        RegError::metadata("sector_identifier_uri must hold a JSON array of redirect URIs")
    })?;
    match redirect_uris.iter().find(|u| !listed.contains(u)) {
        Some(missing) => Err(RegError::metadata(format!(
            "sector_identifier_uri does not list the redirect URI '{missing}'"
        ))),
        None => Ok(()),
    }
}

/// Fetches a `sector_identifier_uri` (when registered) and checks it lists every redirect URI.
pub async fn check_sector(new: &NewClient) -> Result<(), RegError> {
    let Some(uri) = &new.sector_identifier_uri else {
        return Ok(());
    };
    super::client::check_fetchable_uri(uri).map_err(|e| RegError::metadata(e.to_string()))?;
    let body = super::client_keys::fetch(uri).await.map_err(|e| {
        tracing::info!(error = %e, "sector_identifier_uri could not be fetched");
        RegError::metadata("sector_identifier_uri could not be fetched")
    })?;
    sector_lists_redirects(&body, &new.redirect_uris)
}

/// The registered metadata of a client, as RFC 7591 §3.2.1 returns it (no secret).
pub fn describe(client: &OidcClient, issuer: &str) -> Value {
    let s = &client.settings;
    let mut m = Map::new();
    let mut put = |k: &str, v: Value| {
        let empty = v.is_null() || v.as_array().is_some_and(Vec::is_empty);
        if !empty {
            m.insert(k.to_owned(), v);
        }
    };
    put("client_id", json!(client.id()));
    put("client_name", json!(client.rp.display_name));
    put("redirect_uris", json!(s.redirect_uris));
    put("response_types", json!(s.response_types));
    put("grant_types", json!(s.grant_types));
    put(
        "token_endpoint_auth_method",
        json!(s.token_endpoint_auth_method),
    );
    put(
        "id_token_signed_response_alg",
        json!(s.id_token_signed_response_alg),
    );
    put("subject_type", json!(s.subject_type));
    put("sector_identifier_uri", json!(s.sector_identifier_uri));
    put("jwks", json!(s.jwks));
    put("jwks_uri", json!(s.jwks_uri));
    put(
        "token_endpoint_auth_signing_alg",
        json!(s.token_endpoint_auth_signing_alg),
    );
    put(
        "request_object_signing_alg",
        json!(s.request_object_signing_alg),
    );
    put("request_uris", json!(s.request_uris));
    put(
        "userinfo_signed_response_alg",
        json!(s.userinfo_signed_response_alg),
    );
    put(
        "post_logout_redirect_uris",
        json!(client.rp.logout.post_logout_redirect_uris),
    );
    put(
        "backchannel_logout_uri",
        json!(client.rp.logout.backchannel_uri),
    );
    if client.rp.logout.backchannel_uri.is_some() {
        put(
            "backchannel_logout_session_required",
            json!(s.backchannel_logout_session_required),
        );
    }
    put(
        "frontchannel_logout_uri",
        json!(client.rp.logout.frontchannel_uri),
    );
    if client.rp.logout.frontchannel_uri.is_some() {
        put(
            "frontchannel_logout_session_required",
            json!(s.frontchannel_logout_session_required),
        );
    }
    put("logo_uri", json!(s.logo_uri));
    put("policy_uri", json!(s.policy_uri));
    put("tos_uri", json!(s.tos_uri));
    put("contacts", json!(s.contacts));
    m.insert(
        "registration_client_uri".into(),
        json!(format!("{issuer}/oidc/register/{}", client.id())),
    );
    Value::Object(m)
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
        .filter(|t| !t.is_empty())
}

fn hash_matches(token: &str, stored: &str) -> bool {
    bool::from(secret_hash(token).as_bytes().ct_eq(stored.as_bytes()))
}

/// 401 `invalid_token` (RFC 6750 §3.1): no, or a wrong, bearer token.
fn invalid_token() -> Response {
    let body = json!({
        "error": "invalid_token",
        "error_description": "a valid bearer token is required",
    });
    let mut res = (StatusCode::UNAUTHORIZED, axum::Json(body)).into_response();
    no_store(&mut res);
    res.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer error=\"invalid_token\""),
    );
    res
}

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        axum::Json(json!({ "error": "not_found" })),
    )
        .into_response()
}

fn json_answer(status: StatusCode, body: Value) -> Response {
    let mut res = (status, axum::Json(body)).into_response();
    no_store(&mut res);
    res
}

fn registration_actor() -> Actor {
    Actor {
        name: "oidc-registration".into(),
        source: None,
    }
}

/// Stores the SHA-256 of the registration access token in the client's settings.
fn set_access_token_hash(rp: &mut RelyingParty, hash: Option<String>) {
    if let ProtocolSettings::Oidc(Value::Object(settings)) = &mut rp.settings {
        settings.insert("registration_access_token_sha256".into(), json!(hash));
    }
}

/// Builds a client from the metadata, checking the sector document.
async fn build_client(
    state: &AppState,
    body: &[u8],
    id: String,
) -> Result<(RelyingParty, Option<String>), Response> {
    let meta = parse(body).map_err(IntoResponse::into_response)?;
    let new = to_new_client(meta, id, state.config.oidc.registration_min_level)
        .map_err(IntoResponse::into_response)?;
    check_sector(&new)
        .await
        .map_err(IntoResponse::into_response)?;
    new.build()
        .map_err(|e| RegError::metadata(e.to_string()).into_response())
}

/// `POST /oidc/register`
pub async fn register(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let config = &state.config.oidc;
    match config.registration {
        RegistrationMode::Off => return not_found(),
        RegistrationMode::Open => {}
        RegistrationMode::Token => {
            let allowed = match (bearer(&headers), &config.registration_token_sha256) {
                (Some(token), Some(stored)) => hash_matches(token, stored),
                _ => false,
            };
            if !allowed {
                return invalid_token();
            }
        }
    }
    let id = match crate::core::random::token(CLIENT_ID_BYTES) {
        Ok(id) => id,
        Err(e) => return TokenError::server(e).into_response(),
    };
    let (mut rp, secret) = match build_client(&state, &body, id).await {
        Ok(built) => built,
        Err(res) => return res,
    };
    let access_token = match crate::core::random::token(ACCESS_TOKEN_BYTES) {
        Ok(t) => t,
        Err(e) => return TokenError::server(e).into_response(),
    };
    set_access_token_hash(&mut rp, Some(secret_hash(&access_token)));
    if let Err(e) = state.engine.store.put_relying_party(&rp).await {
        return TokenError::server(e).into_response();
    }
    let event = state
        .engine
        .event(&registration_actor(), "oidc.client.registered")
        .detail(json!({ "client": rp.id, "registered_by": "dynamic" }));
    if let Err(e) = state.engine.audit(event).await {
        return TokenError::server(e).into_response();
    }
    let client = match OidcClient::from_relying_party(rp) {
        Ok(Some(c)) => c,
        Ok(None) => return TokenError::server("registered client is not OIDC").into_response(),
        Err(e) => return TokenError::server(e).into_response(),
    };
    let mut out = describe(&client, &state.issuer);
    out["client_id_issued_at"] = json!(state.engine.clock.now().timestamp());
    if let Some(secret) = secret {
        out["client_secret"] = json!(secret);
        out["client_secret_expires_at"] = json!(0);
    }
    out["registration_access_token"] = json!(access_token);
    json_answer(StatusCode::CREATED, out)
}

/// The dynamic client `id`, when the request's bearer token is its registration access token.
async fn managed_client(
    state: &AppState,
    headers: &HeaderMap,
    id: &str,
) -> Result<OidcClient, Response> {
    if state.config.oidc.registration == RegistrationMode::Off {
        return Err(not_found());
    }
    let token = bearer(headers).ok_or_else(invalid_token)?;
    let rp = state
        .engine
        .store
        .relying_party(id)
        .await
        .map_err(|e| TokenError::server(e).into_response())?;
    // RFC 7592 §2: an unknown client and a wrong token look the same.
    let client = rp
        .and_then(|rp| OidcClient::from_relying_party(rp).ok().flatten())
        .ok_or_else(invalid_token)?;
    match &client.settings.registration_access_token_sha256 {
        Some(stored) if hash_matches(token, stored) => Ok(client),
        _ => Err(invalid_token()),
    }
}

/// `GET /oidc/register/{client_id}` (RFC 7592 §2.1).
pub async fn read(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    match managed_client(&state, &headers, &id).await {
        Ok(client) => json_answer(StatusCode::OK, describe(&client, &state.issuer)),
        Err(res) => res,
    }
}

/// `PUT /oidc/register/{client_id}` (RFC 7592 §2.2): the metadata is replaced; a confidential
/// client gets a new secret; the registration access token stays.
pub async fn update(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let client = match managed_client(&state, &headers, &id).await {
        Ok(c) => c,
        Err(res) => return res,
    };
    match parse(&body) {
        Ok(_) => {}
        Err(e) => return e.into_response(),
    }
    let given: Value = serde_json::from_slice(&body).unwrap_or_default();
    if given.get("client_id").and_then(Value::as_str) != Some(client.id()) {
        return RegError::metadata("client_id must be the registered one").into_response();
    }
    if given.get("client_secret").is_some_and(|s| {
        s.as_str()
            .is_none_or(|s| !client.is_public() && !client.secret_matches(s))
    }) {
        return RegError::metadata("client_secret does not match").into_response();
    }
    let (mut rp, secret) = match build_client(&state, &body, id).await {
        Ok(built) => built,
        Err(res) => return res,
    };
    rp.min_level = client.rp.min_level;
    set_access_token_hash(
        &mut rp,
        client.settings.registration_access_token_sha256.clone(),
    );
    if let Err(e) = state.engine.store.put_relying_party(&rp).await {
        return TokenError::server(e).into_response();
    }
    let event = state
        .engine
        .event(&registration_actor(), "oidc.client.updated")
        .detail(json!({ "client": rp.id, "registered_by": "dynamic" }));
    if let Err(e) = state.engine.audit(event).await {
        return TokenError::server(e).into_response();
    }
    let updated = match OidcClient::from_relying_party(rp) {
        Ok(Some(c)) => c,
        Ok(None) => return TokenError::server("updated client is not OIDC").into_response(),
        Err(e) => return TokenError::server(e).into_response(),
    };
    let mut out = describe(&updated, &state.issuer);
    if let Some(secret) = secret {
        out["client_secret"] = json!(secret);
        out["client_secret_expires_at"] = json!(0);
    }
    json_answer(StatusCode::OK, out)
}

/// `DELETE /oidc/register/{client_id}` (RFC 7592 §2.3): 204.
pub async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let client = match managed_client(&state, &headers, &id).await {
        Ok(c) => c,
        Err(res) => return res,
    };
    if let Err(e) = state.engine.store.delete_relying_party(client.id()).await {
        return TokenError::server(e).into_response();
    }
    let event = state
        .engine
        .event(&registration_actor(), "oidc.client.removed")
        .detail(json!({ "client": client.id(), "registered_by": "dynamic" }));
    if let Err(e) = state.engine.audit(event).await {
        return TokenError::server(e).into_response();
    }
    let mut res = StatusCode::NO_CONTENT.into_response();
    no_store(&mut res);
    res
}

#[cfg(test)]
#[path = "registration_tests.rs"]
mod tests;
