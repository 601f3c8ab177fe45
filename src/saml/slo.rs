//! Single logout initiated by a service provider: a signed LogoutRequest (either binding)
//! naming the citizen (NameID) and the SSO session (SessionIndex) ends that session, and a
//! signed LogoutResponse goes back to the SP's SingleLogoutService.
//!
//! Not yet: propagating the logout to the session's other SAML SPs (front-channel
//! LogoutRequests) and to its OIDC clients, and IdP-initiated logout from the account page.

use super::Endpoints;
use super::binding;
use super::error::SamlError;
use super::response;
use super::sp::{NAMEID_PERSISTENT, NAMEID_UNSPECIFIED, SpSettings};
use super::sso::{Received, fresh, verified_message};
use super::xml::{self, BINDING_POST, BINDING_REDIRECT, NS_SAML, NS_SAMLP};
use crate::core::audit::Outcome;
use crate::core::engine::Actor;
use crate::core::keys::JwsAlg;
use crate::core::relying_party::RelyingParty;
use crate::core::session::{SessionCookie, SessionId, SsoSession};
use crate::web::AppState;
use crate::web::auth;
use crate::web::error::PageError;
use crate::web::i18n::Tr;
use axum::extract::{Form, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;

/// The form of the HTTP-POST binding.
#[derive(Debug, Deserialize)]
pub struct PostForm {
    #[serde(rename = "SAMLRequest")]
    saml_request: String,
    #[serde(rename = "RelayState")]
    relay_state: Option<String>,
}

/// A verified LogoutRequest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogoutRequest {
    /// ID.
    pub id: String,
    /// Issuer.
    pub issuer: String,
    /// IssueInstant.
    pub issue_instant: DateTime<Utc>,
    /// Destination.
    pub destination: Option<String>,
    /// NameID value and format.
    pub name_id: (String, Option<String>),
    /// SessionIndex values.
    pub session_indexes: Vec<String>,
}

/// Reads a LogoutRequest from signed XML.
pub fn parse(verified: &str) -> Result<LogoutRequest, SamlError> {
    let doc = xml::parse(verified)?;
    let root = doc.root_element();
    if !xml::is(root, NS_SAMLP, "LogoutRequest") || root.attribute("Version") != Some("2.0") {
        return Err(SamlError::malformed("not a SAML 2.0 LogoutRequest"));
    }
    let name_id =
        xml::child(root, NS_SAML, "NameID").ok_or_else(|| SamlError::malformed("no NameID"))?;
    Ok(LogoutRequest {
        id: root.attribute("ID").unwrap_or_default().to_owned(),
        issuer: xml::child(root, NS_SAML, "Issuer")
            .map(xml::text_of)
            .unwrap_or_default(),
        issue_instant: root
            .attribute("IssueInstant")
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .ok_or_else(|| SamlError::malformed("IssueInstant"))?
            .with_timezone(&Utc),
        destination: root.attribute("Destination").map(str::to_owned),
        name_id: (
            xml::text_of(name_id),
            name_id.attribute("Format").map(str::to_owned),
        ),
        session_indexes: xml::children(root, NS_SAMLP, "SessionIndex")
            .map(xml::text_of)
            .collect(),
    })
}

/// `GET /saml/slo`: HTTP-Redirect binding.
pub async fn slo_redirect(State(state): State<AppState>, tr: Tr, parts: Parts) -> Response {
    let raw = parts.uri.query().unwrap_or_default();
    let received =
        binding::redirect_decode(raw, "SAMLRequest", state.config.saml.max_message_bytes).map(
            |m| Received {
                xml: m.xml,
                relay_state: m.relay_state,
                redirect_signature: m.signature,
                post: false,
            },
        );
    finish(&state, tr, &parts, received).await
}

/// `POST /saml/slo`: HTTP-POST binding.
pub async fn slo_post(
    State(state): State<AppState>,
    tr: Tr,
    parts: Parts,
    Form(form): Form<PostForm>,
) -> Response {
    let received = binding::post_decode(&form.saml_request, state.config.saml.max_message_bytes)
        .map(|xml| Received {
            xml,
            relay_state: form.relay_state,
            redirect_signature: None,
            post: true,
        });
    finish(&state, tr, &parts, received).await
}

async fn finish(
    state: &AppState,
    tr: Tr,
    parts: &Parts,
    received: Result<Received, SamlError>,
) -> Response {
    let result = match received {
        Ok(r) => logout(state, parts, r).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(r) => r,
        Err(e) if e.is_internal() => PageError::Unavailable(e.to_string())
            .page(tr)
            .into_response(),
        Err(e) => {
            tracing::info!(reason = %e, "SAML logout refused");
            PageError::BadRequest(tr.t("error-saml-request"))
                .page(tr)
                .into_response()
        }
    }
}

/// Whether `name_id` names the citizen of `session` for `rp`.
fn names_the_citizen(
    state: &AppState,
    rp: &RelyingParty,
    session: &SsoSession,
    name_id: &(String, Option<String>),
    identifier: Option<&str>,
) -> bool {
    match name_id.1.as_deref() {
        Some(NAMEID_PERSISTENT) => state
            .engine
            .codes
            .hash(session.citizen_id, "saml-pairwise", &rp.id)
            .is_ok_and(|h| h == name_id.0),
        Some(NAMEID_UNSPECIFIED) => identifier.is_some_and(|i| {
            state
                .config
                .saml
                .person_identifier_pattern
                .replace("{identifier}", i)
                == name_id.0
        }),
        // A transient NameID is not kept: the SessionIndex (128 random bits, sent only to
        // SPs of that session) in a request signed by such an SP is what identifies it.
        _ => true,
    }
}

async fn logout(state: &AppState, parts: &Parts, r: Received) -> Result<Response, SamlError> {
    let came_by_post = r.post;
    let (verified, id, rp, settings, relay) = verified_message(state, r).await?;
    let req = parse(&verified)?;
    if req.issuer != rp.id || req.id != id {
        return Err(SamlError::refused(
            "Issuer or ID differ from the signed request",
        ));
    }
    let endpoints = Endpoints::new(&state.issuer);
    if req.destination.as_deref() != Some(endpoints.slo.as_str()) {
        return Err(SamlError::refused("Destination is not this endpoint"));
    }
    let preferred = if came_by_post {
        BINDING_POST
    } else {
        BINDING_REDIRECT
    };
    let (binding_uri, location) = rp
        .logout
        .saml_slo
        .iter()
        .find(|(b, _)| b == preferred)
        .or_else(|| rp.logout.saml_slo.first())
        .cloned()
        .ok_or_else(|| SamlError::refused("the SP has no SingleLogoutService"))?;
    fresh(state, &rp.id, &id, req.issue_instant).await?;

    let current = auth::current(state, parts)
        .await
        .map_err(|e| SamlError::internal(format!("{e:?}")))?;
    let mut candidates: Vec<SessionId> = req
        .session_indexes
        .iter()
        .filter_map(|s| s.parse().ok())
        .collect();
    if let (true, Some(c)) = (candidates.is_empty(), &current) {
        candidates.push(c.session.id.clone());
    }
    let mut ended = Vec::new();
    for sid in candidates {
        let Some(session) = state.engine.store.session(&sid).await? else {
            continue;
        };
        let served = session.relying_parties.iter().any(|v| v.rp_id == rp.id);
        let citizen = state.engine.store.citizen(session.citizen_id).await?;
        let identifier = citizen.as_ref().map(|c| c.identifier.number().to_owned());
        if session.ended_at.is_none()
            && served
            && names_the_citizen(state, &rp, &session, &req.name_id, identifier.as_deref())
            && state.engine.logout(&sid, &Actor::system()).await?.is_some()
        {
            ended.push(sid);
        }
    }
    let detail = serde_json::json!({ "sp": rp.id, "sessions_ended": ended.len() });
    let mut event = state
        .engine
        .event(&Actor::system(), "saml.slo")
        .outcome(Outcome::Success)
        .detail(detail);
    if let Some(c) = &current {
        event = event.citizen(c.citizen.id);
    }
    state.engine.audit(event).await?;

    let mut res = answer(
        state,
        &settings,
        &req,
        &binding_uri,
        &location,
        relay.as_deref(),
    )?;
    if current.is_some_and(|c| ended.contains(&c.session.id)) {
        let https = parts
            .extensions
            .get::<crate::web::client::ClientInfo>()
            .is_some_and(|c| c.https);
        let cookie = HeaderValue::from_str(&SessionCookie::clear_cookie(https))
            .map_err(SamlError::internal)?;
        res.headers_mut().append(header::SET_COOKIE, cookie);
    }
    Ok(res)
}

fn answer(
    state: &AppState,
    settings: &SpSettings,
    req: &LogoutRequest,
    binding_uri: &str,
    location: &str,
    relay: Option<&str>,
) -> Result<Response, SamlError> {
    let alg = if settings.sign_with_ec {
        JwsAlg::ES256
    } else {
        JwsAlg::RS256
    };
    let key = state
        .keys
        .active(alg)
        .ok_or_else(|| SamlError::internal("no active signing key"))?;
    let idp = Endpoints::new(&state.issuer).entity_id;
    let now = state.engine.clock.now();
    if binding_uri == BINDING_POST {
        let xml_text = response::logout_response(&idp, location, &req.id, now, Some(&key))?;
        let (html, csp) = binding::post_form(location, "SAMLResponse", &xml_text, relay)?;
        let mut res = ([(header::CACHE_CONTROL, "no-store")], Html(html)).into_response();
        let csp = HeaderValue::from_str(&csp).map_err(SamlError::internal)?;
        res.headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, csp);
        Ok(res)
    } else {
        let xml_text = response::logout_response(&idp, location, &req.id, now, None)?;
        let query = binding::redirect_encode("SAMLResponse", &xml_text, relay, &key)?;
        let sep = if location.contains('?') { '&' } else { '?' };
        Ok((
            StatusCode::SEE_OTHER,
            [
                (header::LOCATION, format!("{location}{sep}{query}")),
                (header::CACHE_CONTROL, "no-store".to_owned()),
            ],
        )
            .into_response())
    }
}
