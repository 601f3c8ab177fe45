//! The OpenID Connect relying party: discovery, the code flow with PKCE, state and nonce, ID
//! token validation with the `openidconnect` crate, introspection for the API, and
//! RP-initiated logout.

use crate::html;
use crate::services::{Identity, Level, Service, Via, service};
use crate::{AppState, with_cookie};
use anyhow::{Context as _, anyhow, bail};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthenticationContextClass, AuthorizationCode, ClientId, ClientSecret, CsrfToken, HttpRequest,
    HttpResponse, Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl,
    Scope, TokenResponse,
};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long discovery and the JWKS are cached.
const DISCOVERY_TTL: Duration = Duration::from_secs(300);
/// How long an authorization request waits for its answer.
const PENDING_TTL: Duration = Duration::from_secs(900);
/// Authorization requests a session keeps at once (several tabs).
const MAX_PENDING: usize = 5;

/// What the OP publishes.
pub struct Discovery {
    pub meta: CoreProviderMetadata,
    pub introspection: String,
    pub userinfo: Option<String>,
    pub end_session: Option<String>,
}

/// The relying party's cached view of the OP.
#[derive(Default)]
pub struct Oidc {
    cached: Mutex<Option<(Instant, Arc<Discovery>)>>,
}

/// An authorization request waiting for its answer.
#[derive(Debug)]
pub struct Pending {
    state: String,
    nonce: String,
    verifier: String,
    service: Option<&'static str>,
    level: Level,
    at: Instant,
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct HttpError(String);

/// The `openidconnect` crate's HTTP calls, over the demo's reqwest client.
async fn send(http: reqwest::Client, req: HttpRequest) -> Result<HttpResponse, HttpError> {
    let req = reqwest::Request::try_from(req).map_err(|e| HttpError(e.to_string()))?;
    let res = http
        .execute(req)
        .await
        .map_err(|e| HttpError(e.to_string()))?;
    let mut out = openidconnect::http::Response::builder().status(res.status());
    for (k, v) in res.headers() {
        out = out.header(k, v);
    }
    let body = res.bytes().await.map_err(|e| HttpError(e.to_string()))?;
    out.body(body.to_vec())
        .map_err(|e| HttpError(e.to_string()))
}

impl Oidc {
    /// Discovery and JWKS, fetched at first use and every [`DISCOVERY_TTL`].
    pub async fn discovery(&self, state: &AppState) -> anyhow::Result<Arc<Discovery>> {
        if let Some((at, d)) = self.cached.lock().unwrap().as_ref()
            && at.elapsed() < DISCOVERY_TTL
        {
            return Ok(d.clone());
        }
        let issuer = state.args.issuer();
        let url = format!("{issuer}/.well-known/openid-configuration");
        let raw: Value = state
            .http
            .get(&url)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await
            .with_context(|| format!("discovery at {url}"))?;
        if raw["issuer"] != issuer {
            bail!("discovery names the issuer {} not {issuer}", raw["issuer"]);
        }
        let meta: CoreProviderMetadata = serde_json::from_value(raw.clone())?;
        let jwks = state
            .http
            .get(meta.jwks_uri().url().as_str())
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let text = |k: &str| raw[k].as_str().map(str::to_owned);
        let d = Arc::new(Discovery {
            meta: meta.set_jwks(jwks),
            introspection: text("introspection_endpoint")
                .ok_or_else(|| anyhow!("no introspection_endpoint"))?,
            userinfo: text("userinfo_endpoint"),
            end_session: text("end_session_endpoint"),
        });
        *self.cached.lock().unwrap() = Some((Instant::now(), d.clone()));
        Ok(d)
    }

    /// Introspects `token` (RFC 7662) with the demo's client credentials.
    pub async fn introspect(&self, state: &AppState, token: &str) -> anyhow::Result<Value> {
        let d = self.discovery(state).await?;
        Ok(state
            .http
            .post(&d.introspection)
            .basic_auth(&state.args.client_id, Some(&state.args.client_secret))
            .form(&[("token", token), ("token_type_hint", "access_token")])
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?)
    }
}

fn redirect_uri(state: &AppState) -> String {
    format!("{}/oidc/callback", state.args.public())
}

/// Sends the browser to pasarela's authorization endpoint asking for `level` (as
/// `acr_values` and, above low, an essential `acr` claim), `service` and `max_age`.
pub async fn start(
    state: &AppState,
    sid: &str,
    service: Option<&'static Service>,
    level: Level,
    max_age: Option<u64>,
) -> Response {
    match authorization_url(state, sid, service, level, max_age).await {
        Ok(url) => Redirect::to(&url).into_response(),
        Err(e) => {
            tracing::warn!("cannot start the OIDC sign-in: {e:#}");
            html::error(
                StatusCode::BAD_GATEWAY,
                "pasarela no responde; inténtalo de nuevo en un momento.",
            )
        }
    }
}

async fn authorization_url(
    state: &AppState,
    sid: &str,
    service: Option<&'static Service>,
    level: Level,
    max_age: Option<u64>,
) -> anyhow::Result<String> {
    let d = state.oidc.discovery(state).await?;
    let client = CoreClient::from_provider_metadata(
        d.meta.clone(),
        ClientId::new(state.args.client_id.clone()),
        Some(ClientSecret::new(state.args.client_secret.clone())),
    )
    .set_redirect_uri(RedirectUrl::new(redirect_uri(state))?);
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut req = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("profile".into()))
        .add_auth_context_value(AuthenticationContextClass::new(level.uri().into()))
        .set_pkce_challenge(challenge);
    if level > Level::Low {
        let claims = json!({"id_token": {"acr": {"essential": true, "values": [level.uri()]}}});
        req = req.add_extra_param("claims", claims.to_string());
    }
    if let Some(s) = service {
        req = req.add_extra_param("service", s.name);
    }
    if let Some(secs) = max_age {
        req = req.set_max_age(Duration::from_secs(secs));
    }
    let (url, csrf, nonce) = req.url();
    state.with_session(sid, |s| {
        s.oidc_pending.retain(|p| p.at.elapsed() < PENDING_TTL);
        if s.oidc_pending.len() >= MAX_PENDING {
            s.oidc_pending.remove(0);
        }
        s.oidc_pending.push(Pending {
            state: csrf.secret().clone(),
            nonce: nonce.secret().clone(),
            verifier: verifier.secret().clone(),
            service: service.map(|s| s.name),
            level,
            at: Instant::now(),
        });
    });
    Ok(url.to_string())
}

/// `GET /oidc/callback`
pub async fn callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let (sid, cookie) = state.session(&headers);
    let pending = q.get("state").and_then(|st| {
        state.with_session(&sid, |s| {
            let i = s
                .oidc_pending
                .iter()
                .position(|p| &p.state == st && p.at.elapsed() < PENDING_TTL)?;
            Some(s.oidc_pending.remove(i))
        })
    });
    let Some(pending) = pending else {
        return with_cookie(
            html::error(
                StatusCode::BAD_REQUEST,
                "Esta respuesta no corresponde a ninguna entrada pendiente en este navegador.",
            ),
            cookie,
        );
    };
    let s = pending.service.and_then(service);
    let have = state.identity(&sid).map(|i| i.acr);
    if let Some(error) = q.get("error") {
        // unmet_authentication_requirements, access_denied, login_required…
        return with_cookie(
            html::refusal(
                s,
                Some(pending.level),
                have.as_deref(),
                error,
                q.get("error_description").map(String::as_str),
            ),
            cookie,
        );
    }
    let res = match finish(&state, &pending, &q).await {
        Ok(identity) => {
            let got = identity.level();
            let acr = identity.acr.clone();
            let auth_time = identity.auth_time;
            state.with_session(&sid, |s| s.identity = Some(identity));
            match s {
                Some(s) if got < s.level => html::refusal(
                    Some(s),
                    s.level,
                    Some(&acr),
                    "level_not_reached",
                    Some("pasarela answered a lower level than the service needs"),
                ),
                Some(s)
                    if s.max_age.is_some_and(|m| {
                        auth_time.is_none_or(|t| chrono::Utc::now().timestamp() - t > m as i64)
                    }) =>
                {
                    html::refusal(
                        Some(s),
                        s.level,
                        Some(&acr),
                        "authentication_too_old",
                        Some("pasarela did not authenticate again within max_age"),
                    )
                }
                Some(s) => Redirect::to(&format!("/servicios/{}", s.name)).into_response(),
                None => Redirect::to("/").into_response(),
            }
        }
        Err(e) => {
            tracing::warn!("OIDC sign-in failed: {e:#}");
            html::error(
                StatusCode::BAD_GATEWAY,
                &format!("No se ha podido completar la entrada: {e}"),
            )
        }
    };
    with_cookie(res, cookie)
}

/// Exchanges the code, validates the ID token and reads the citizen's name from userinfo.
async fn finish(
    state: &AppState,
    pending: &Pending,
    q: &HashMap<String, String>,
) -> anyhow::Result<Identity> {
    let d = state.oidc.discovery(state).await?;
    // RFC 9207: the answer names the issuer it comes from.
    if let Some(iss) = q.get("iss")
        && iss != state.args.issuer()
    {
        bail!("the answer comes from {iss}, not {}", state.args.issuer());
    }
    let code = q.get("code").ok_or_else(|| anyhow!("no code"))?;
    let client = CoreClient::from_provider_metadata(
        d.meta.clone(),
        ClientId::new(state.args.client_id.clone()),
        Some(ClientSecret::new(state.args.client_secret.clone())),
    )
    .set_redirect_uri(RedirectUrl::new(redirect_uri(state))?);
    let http = state.http.clone();
    let http_client = move |r: HttpRequest| send(http.clone(), r);
    let token = client
        .exchange_code(AuthorizationCode::new(code.clone()))?
        .set_pkce_verifier(PkceCodeVerifier::new(pending.verifier.clone()))
        .request_async(&http_client)
        .await
        .map_err(|e| anyhow!("token request: {e}"))?;
    let id_token = token
        .id_token()
        .ok_or_else(|| anyhow!("no ID token"))?
        .clone();
    let claims = id_token
        .claims(
            &client.id_token_verifier(),
            &Nonce::new(pending.nonce.clone()),
        )
        .map_err(|e| anyhow!("ID token: {e}"))?;
    let acr = claims
        .auth_context_ref()
        .map(|a| a.as_str().to_owned())
        .ok_or_else(|| anyhow!("the ID token has no acr"))?;
    let auth_time = claims.auth_time().map(|t| t.timestamp());
    let sub = claims.subject().as_str().to_owned();
    let access = token.access_token().secret().clone();
    let info: Value = match &d.userinfo {
        Some(u) => state
            .http
            .get(u)
            .bearer_auth(&access)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await
            .unwrap_or(Value::Null),
        None => Value::Null,
    };
    let name = info["name"].as_str().map(str::to_owned).unwrap_or_else(|| {
        format!(
            "{} {}",
            info["given_name"].as_str().unwrap_or_default(),
            info["family_name"].as_str().unwrap_or_default()
        )
        .trim()
        .to_owned()
    });
    Ok(Identity {
        via: Via::Oidc,
        name,
        identifier: info["identifier"]["value"]
            .as_str()
            .map(str::to_owned)
            .unwrap_or(sub),
        acr,
        auth_time,
        access_token: Some(access),
        id_token: Some(id_token.to_string()),
    })
}

/// `POST /salir`: forgets the session and, for an OIDC sign-in, ends pasarela's session
/// (RP-initiated logout with the ID token as hint).
pub async fn sign_out(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(sid) = state.session_id(&headers) else {
        return Redirect::to("/salida").into_response();
    };
    let identity = state.with_session(&sid, |s| s.identity.take());
    let Some(Identity {
        via: Via::Oidc,
        id_token: Some(hint),
        ..
    }) = identity
    else {
        return Redirect::to("/salida").into_response();
    };
    let end = match state.oidc.discovery(&state).await {
        Ok(d) => d.end_session.clone(),
        Err(_) => None,
    };
    let Some(end) = end else {
        return Redirect::to("/salida").into_response();
    };
    let Ok(mut url) = url::Url::parse(&end) else {
        return Redirect::to("/salida").into_response();
    };
    url.query_pairs_mut()
        .append_pair("id_token_hint", &hint)
        .append_pair("client_id", &state.args.client_id)
        .append_pair(
            "post_logout_redirect_uri",
            &format!("{}/salida", state.args.public()),
        );
    Redirect::to(url.as_str()).into_response()
}
