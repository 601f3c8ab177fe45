//! The authorization endpoint's answers to the client: a code, ID token and access token per
//! the response type, or the spec's error, carried back by query, fragment or form post.

use super::client::OidcClient;
use super::error::AuthzError;
use super::grants;
use super::request::{self, AuthzRequest, ReplyTo, ResponseMode};
use super::{id_token, scopes};
use crate::core::CoreError;
use crate::store::oidc_tokens::GrantFacts;
use crate::web::AppState;
use crate::web::auth::SignedIn;
use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

/// The successful answer: a code, an ID token, or both, per the response type.
pub(super) async fn answer(
    state: &AppState,
    client: &OidcClient,
    req: &AuthzRequest,
    signed: &SignedIn,
) -> Response {
    let failed = |what: &str, e: CoreError| {
        tracing::error!(error = %e, "authorization: could not issue {what}");
        error_reply(
            state,
            &req.reply,
            &AuthzError::new("server_error", format!("the {what} could not be issued")),
        )
    };
    let code = if req.response_type.has_code() {
        match grants::issue_code(state, client, req, &signed.session).await {
            Ok(c) => Some(c),
            Err(e) => return failed("code", e),
        }
    } else {
        None
    };
    let access = if req.response_type.has_token() {
        match grants::issue_front_access_token(state, client, req, &signed.session, code.as_deref())
            .await
        {
            Ok(t) => Some(t),
            Err(e) => return failed("access token", e),
        }
    } else {
        None
    };
    let id_token = if req.response_type.has_id_token() {
        let at = access.as_ref().map(|(t, _)| t.as_str());
        match front_id_token(state, client, req, signed, code.as_deref(), at).await {
            Ok(t) => Some(t),
            Err(e) => return failed("ID token", e),
        }
    } else {
        None
    };
    let expires_in = access.as_ref().map(|(_, secs)| secs.to_string());
    let mut params = Vec::new();
    if let Some(c) = &code {
        params.push(("code", c.as_str()));
    }
    if let (Some((token, _)), Some(secs)) = (&access, &expires_in) {
        params.push(("access_token", token.as_str()));
        params.push(("token_type", "Bearer"));
        params.push(("expires_in", secs.as_str()));
        params.push(("scope", req.scope.as_str()));
    }
    if let Some(t) = &id_token {
        params.push(("id_token", t.as_str()));
    }
    if let Some(s) = &req.reply.state {
        params.push(("state", s));
    }
    params.push(("iss", &state.issuer));
    respond(&req.reply, &params)
}

/// The ID token of the authorization endpoint (OIDC Core §3.2.2.10, §3.3.2.11): `c_hash`
/// beside a code, `at_hash` beside an access token, the nonce, and the session's facts.
/// Without a code or an access token there is nothing to fetch userinfo with, so the scope's
/// claims go into it; claims named in the `claims` parameter's `id_token` member always do.
async fn front_id_token(
    state: &AppState,
    client: &OidcClient,
    req: &AuthzRequest,
    signed: &SignedIn,
    code: Option<&str>,
    access_token: Option<&str>,
) -> Result<String, CoreError> {
    let session = &signed.session;
    let facts = GrantFacts {
        session_id: session.id.clone(),
        scope: req.scope.clone(),
        auth_time: session.auth_time,
        level: session.level,
        amr: session.amr().iter().map(|a| (*a).to_owned()).collect(),
        claims: req.claims.clone(),
    };
    let acr = state
        .engine
        .vocabulary
        .acr(facts.level)
        .unwrap_or(facts.level.as_str())
        .to_owned();
    let sub = super::subject::for_client(&state.engine, client, session.citizen_id)?;
    let mut claims = id_token::claims(&id_token::IdTokenInput {
        issuer: &state.issuer,
        client_id: client.id(),
        subject: &sub,
        facts: &facts,
        acr: &acr,
        nonce: req.nonce.as_deref(),
        access_token,
        code,
        now: state.engine.clock.now(),
        ttl: state.config.oidc.id_token_ttl(),
    })?;
    let mut extra = if code.is_none() && access_token.is_none() {
        scopes::userinfo_claims(&signed.citizen, &sub, &req.scope)
    } else {
        serde_json::Map::new()
    };
    extra.remove("sub");
    for (k, v) in scopes::named_claims(&signed.citizen, &req.claims.id_token) {
        extra.entry(k).or_insert(v);
    }
    id_token::add_claims(&mut claims, extra);
    let jwt = id_token::sign(
        &state.keys,
        client.settings.id_token_signed_response_alg,
        &claims,
    )?;
    if code.is_none() && access_token.is_none() {
        // issue_code (or the access token's issue) records the client in the session
        // otherwise (for logout).
        state
            .engine
            .record_relying_party(&session.id, client.id(), "oidc")
            .await?;
    }
    let event = state
        .engine
        .event(
            &crate::core::engine::Actor::system(),
            "oidc.id_token.issued",
        )
        .citizen(session.citizen_id)
        .detail(serde_json::json!({
            "client": client.id(),
            "session": session.id.as_str(),
            "response_type": req.response_type.as_str(),
        }));
    state.engine.audit(event).await?;
    Ok(jwt)
}

/// A redirected error, with `state` (when given) and `iss`.
pub fn error_reply(state: &AppState, reply: &ReplyTo, e: &AuthzError) -> Response {
    let mut params = vec![("error", e.code), ("error_description", &e.description)];
    if let Some(s) = &reply.state {
        params.push(("state", s));
    }
    params.push(("iss", &state.issuer));
    respond(reply, &params)
}

fn respond(reply: &ReplyTo, params: &[(&str, &str)]) -> Response {
    match reply.mode {
        ResponseMode::Query => match request::with_query(&reply.redirect_uri, params) {
            Some(location) => {
                (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response()
            }
            None => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        },
        ResponseMode::FormPost => form_post(&reply.redirect_uri, params),
        ResponseMode::Fragment => match url::Url::parse(&reply.redirect_uri) {
            Ok(mut url) => {
                let fragment = url::form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(params)
                    .finish();
                url.set_fragment(Some(&fragment));
                (StatusCode::SEE_OTHER, [(header::LOCATION, url.to_string())]).into_response()
            }
            Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        },
    }
}

#[derive(Template)]
#[template(path = "oidc/form_post.html")]
struct FormPost<'a> {
    action: &'a str,
    fields: &'a [(&'a str, &'a str)],
    script: &'a str,
}

/// The auto-submit script of the form_post page; allowed by its hash in the page's CSP.
const SUBMIT_SCRIPT: &str = "document.forms[0].submit();";

fn form_post(action: &str, fields: &[(&str, &str)]) -> Response {
    let page = FormPost {
        action,
        fields,
        script: SUBMIT_SCRIPT,
    };
    let Ok(body) = page.render() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let hash = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        openssl::sha::sha256(SUBMIT_SCRIPT.as_bytes()),
    );
    let origin = url::Url::parse(action)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_default();
    let csp = format!(
        "default-src 'none'; script-src 'sha256-{hash}'; form-action {origin}; \
         base-uri 'none'; frame-ancestors 'none'"
    );
    let mut res = ([(header::CACHE_CONTROL, "no-store")], Html(body)).into_response();
    if let Ok(v) = HeaderValue::from_str(&csp) {
        res.headers_mut().insert(header::CONTENT_SECURITY_POLICY, v);
    }
    res
}
