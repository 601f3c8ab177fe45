//! Single logout initiated by a service provider: a signed LogoutRequest (either binding)
//! naming the citizen (NameID) and the SSO session (SessionIndex) ends that session, and a
//! signed LogoutResponse goes back to the SP's SingleLogoutService.
//!
//! Before answering, the logout is propagated to the session's other SAML SPs: the browser
//! carries a signed LogoutRequest to each in turn and comes back with its LogoutResponse.
//!
//! Every session a logout ends goes through the engine's `end_session`, whose notifiers
//! reach the session's other relying parties (OIDC back-channel, SAML SOAP); the initiating
//! SP is never told back, and the SPs the browser visits are left to the browser.
//!
//! IdP-initiated logout (the citizen's `/logout`, also the account page's button) uses the
//! same propagation through [`start_idp_logout`]: the chain of LogoutRequests to the
//! session's SAML SPs ends on the logged-out page instead of an initiator's answer. Other
//! doors ending the browser's session (the OIDC end-session endpoint) start the same chain
//! by a link, [`prepare_idp_logout`], and say where it ends.

use super::Endpoints;
use super::binding;
use super::error::SamlError;
use super::response;
use super::sp::{NAMEID_PERSISTENT, NAMEID_UNSPECIFIED, SpSettings, front_channel_slo};
use super::sso::{Received, fresh, verified_message};
use super::xml::{self, BINDING_POST, BINDING_REDIRECT, NS_SAML, NS_SAMLP};
use crate::core::audit::Outcome;
use crate::core::citizen::CitizenId;
use crate::core::engine::{Actor, Engine};
use crate::core::keys::{JwsAlg, SigningKey};
use crate::core::relying_party::RelyingParty;
use crate::core::session::{EndCause, Ending, SessionCookie, SessionId, SsoSession};
use crate::web::AppState;
use crate::web::auth;
use crate::web::error::PageError;
use crate::web::i18n::Tr;
use axum::extract::{Form, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The form of the HTTP-POST binding.
#[derive(Debug, Deserialize)]
pub struct PostForm {
    #[serde(rename = "SAMLRequest")]
    saml_request: Option<String>,
    #[serde(rename = "SAMLResponse")]
    saml_response: Option<String>,
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
    let is_response = raw.split('&').any(|p| p.starts_with("SAMLResponse="));
    let param = if is_response {
        "SAMLResponse"
    } else {
        "SAMLRequest"
    };
    let received =
        binding::redirect_decode(raw, param, state.config.saml.max_message_bytes).map(|m| {
            Received {
                xml: m.xml,
                relay_state: m.relay_state,
                redirect_signature: m.signature,
                post: false,
            }
        });
    finish(&state, tr, &parts, received, is_response).await
}

/// `POST /saml/slo`: HTTP-POST binding.
pub async fn slo_post(
    State(state): State<AppState>,
    tr: Tr,
    parts: Parts,
    Form(form): Form<PostForm>,
) -> Response {
    let is_response = form.saml_response.is_some();
    let value = form.saml_response.or(form.saml_request).unwrap_or_default();
    let received =
        binding::post_decode(&value, state.config.saml.max_message_bytes).map(|xml| Received {
            xml,
            relay_state: form.relay_state,
            redirect_signature: None,
            post: true,
        });
    finish(&state, tr, &parts, received, is_response).await
}

async fn finish(
    state: &AppState,
    tr: Tr,
    parts: &Parts,
    received: Result<Received, SamlError>,
    is_response: bool,
) -> Response {
    let result = match received {
        Ok(r) if is_response => resume_propagation(state, r).await,
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
    let (binding_uri, location) = front_channel_slo(&rp, preferred)
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
    let mut ended_sessions = Vec::new();
    for sid in candidates {
        let Some(session) = state.engine.store.session(&sid).await? else {
            continue;
        };
        let served = session.relying_parties.iter().any(|v| v.rp_id == rp.id);
        let citizen = state.engine.store.citizen(session.citizen_id).await?;
        let identifier = citizen.as_ref().map(|c| c.identifier.number().to_owned());
        // Only the first session ended gets the browser's walk through the other SPs (below);
        // the notifiers reach every other SP of the later ones without it.
        let ending = Ending {
            cause: EndCause::SingleLogout,
            initiator: Some(rp.id.clone()),
            browser_chain: ended.is_empty(),
        };
        if session.ended_at.is_none()
            && served
            && names_the_citizen(state, &rp, &session, &req.name_id, identifier.as_deref())
            && state
                .engine
                .end_session(&sid, &Actor::system(), &ending)
                .await?
                .is_some()
        {
            ended.push(sid);
            ended_sessions.push(session);
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

    let answer = FinalAnswer {
        sign_with_ec: settings.sign_with_ec,
        binding: binding_uri,
        location,
        in_response_to: req.id.clone(),
        relay,
    };
    let mut res = match ended_sessions.first() {
        Some(first) => {
            let remaining = saml_sps_of(first, Some(&rp.id));
            next_hop(
                state,
                Propagation {
                    session_id: first.id.clone(),
                    citizen_id: first.citizen_id,
                    remaining,
                    waiting: None,
                    answer: Some(answer),
                    then: None,
                },
            )
            .await?
        }
        None => final_answer(state, &answer)?,
    };
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

/// Sends `param` (`SAMLRequest` or `SAMLResponse`) to `location` over `binding_uri`: over
/// HTTP-POST with an enveloped signature, over HTTP-Redirect with the query signed. `build`
/// makes the XML, with the key when it must carry an enveloped signature.
fn deliver(
    state: &AppState,
    sign_with_ec: bool,
    binding_uri: &str,
    location: &str,
    param: &str,
    relay: Option<&str>,
    build: impl Fn(Option<&SigningKey>) -> Result<String, SamlError>,
) -> Result<Response, SamlError> {
    let alg = if sign_with_ec {
        JwsAlg::ES256
    } else {
        JwsAlg::RS256
    };
    let key = state
        .keys
        .active(alg)
        .ok_or_else(|| SamlError::internal("no active signing key"))?;
    if binding_uri == BINDING_POST {
        let xml_text = build(Some(&key))?;
        let (html, csp) = binding::post_form(location, param, &xml_text, relay)?;
        let mut res = ([(header::CACHE_CONTROL, "no-store")], Html(html)).into_response();
        let csp = HeaderValue::from_str(&csp).map_err(SamlError::internal)?;
        res.headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, csp);
        Ok(res)
    } else {
        let xml_text = build(None)?;
        let query = binding::redirect_encode(param, &xml_text, relay, &key)?;
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

/// The LogoutResponse owed to the SP that started the logout.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct FinalAnswer {
    sign_with_ec: bool,
    binding: String,
    location: String,
    in_response_to: String,
    relay: Option<String>,
}

/// A logout being propagated to the other SAML SPs of the session, one browser round trip
/// each, before the initiator gets its answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Propagation {
    session_id: SessionId,
    citizen_id: CitizenId,
    remaining: Vec<String>,
    waiting: Option<(String, String)>,
    /// The initiating SP's answer; `None` for an IdP-initiated logout, which ends at `then`.
    answer: Option<FinalAnswer>,
    /// Where an IdP-initiated logout ends (a registered post-logout URI the door that ended
    /// the session checked); the logged-out page when `None`.
    #[serde(default)]
    then: Option<String>,
}

impl Propagation {
    /// An IdP-initiated logout of the (already ended) `session` through `remaining`, ending
    /// at `then` (the logged-out page when `None`).
    fn idp_initiated(session: &SsoSession, remaining: Vec<String>, then: Option<String>) -> Self {
        Self {
            session_id: session.id.clone(),
            citizen_id: session.citizen_id,
            remaining,
            waiting: None,
            answer: None,
            then,
        }
    }
}

/// The SAML SPs `session` served, each once, but `except`.
pub(super) fn saml_sps_of(session: &SsoSession, except: Option<&str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for v in &session.relying_parties {
        if v.protocol == "saml" && Some(v.rp_id.as_str()) != except && !out.contains(&v.rp_id) {
            out.push(v.rp_id.clone());
        }
    }
    out
}

/// Where an IdP-initiated logout chain ends.
pub const LOGGED_OUT_PAGE: &str = "/logout/done";

/// Starts the propagation of an IdP-initiated logout of the (already ended) `session` to
/// its SAML SPs: the response carrying the first LogoutRequest, or `None` when the session
/// served no SAML SP with a SingleLogoutService.
pub async fn start_idp_logout(
    state: &AppState,
    session: &SsoSession,
) -> Result<Option<Response>, SamlError> {
    let remaining = saml_sps_of(session, None);
    if remaining.is_empty() {
        return Ok(None);
    }
    next_hop(state, Propagation::idp_initiated(session, remaining, None))
        .await
        .map(Some)
}

/// Where [`prepare_idp_logout`]'s link leads: starts a prepared chain once.
pub const START_PATH: &str = "/saml/slo/start";

/// Prepares the propagation of an IdP-initiated logout of the (already ended) `session` to
/// those of its SAML SPs with a front-channel SingleLogoutService, ending at `then` (or the
/// logged-out page). Returns the link that starts it, or `None` when there is no SP to visit.
pub async fn prepare_idp_logout(
    engine: &Engine,
    session: &SsoSession,
    then: Option<String>,
) -> Result<Option<String>, SamlError> {
    let mut remaining = Vec::new();
    for sp in saml_sps_of(session, None) {
        let rp = engine.store.relying_party(&sp).await?;
        if rp.is_some_and(|rp| front_channel_slo(&rp, BINDING_REDIRECT).is_some()) {
            remaining.push(sp);
        }
    }
    if remaining.is_empty() {
        return Ok(None);
    }
    let p = Propagation::idp_initiated(session, remaining, then);
    let key = crate::core::random::token(24).map_err(SamlError::internal)?;
    let bytes = serde_json::to_vec(&p).map_err(SamlError::internal)?;
    engine
        .ephemeral
        .put(&format!("saml:slo:start:{key}"), &bytes, PROPAGATION_TTL)
        .await?;
    Ok(Some(format!("{START_PATH}?chain={key}")))
}

/// The query of [`START_PATH`].
#[derive(Debug, Deserialize)]
pub struct StartQuery {
    #[serde(default)]
    chain: String,
}

/// `GET /saml/slo/start?chain=…`: the first hop of a prepared chain. A chain starts once;
/// an unknown or spent one goes to the logged-out page (the session is over either way).
pub async fn start_prepared(
    State(state): State<AppState>,
    tr: Tr,
    axum::extract::Query(q): axum::extract::Query<StartQuery>,
) -> Response {
    let result = async {
        let key = format!("saml:slo:start:{}", q.chain);
        let crate::store::Consumed::Value(bytes) = state.engine.ephemeral.consume(&key).await?
        else {
            return Ok(crate::web::pages::see_other(LOGGED_OUT_PAGE));
        };
        let p: Propagation = serde_json::from_slice(&bytes).map_err(SamlError::internal)?;
        next_hop(&state, p).await
    }
    .await;
    result.unwrap_or_else(|e: SamlError| {
        PageError::Unavailable(e.to_string())
            .page(tr)
            .into_response()
    })
}

const PROPAGATION_TTL: std::time::Duration = std::time::Duration::from_secs(10 * 60);

fn final_answer(state: &AppState, a: &FinalAnswer) -> Result<Response, SamlError> {
    let idp = Endpoints::new(&state.issuer).entity_id;
    let now = state.engine.clock.now();
    deliver(
        state,
        a.sign_with_ec,
        &a.binding,
        &a.location,
        "SAMLResponse",
        a.relay.as_deref(),
        |key| response::logout_response(&idp, &a.location, &a.in_response_to, now, key),
    )
}

/// Sends the next LogoutRequest of a propagation, or the initiator's answer when none is left.
async fn next_hop(state: &AppState, mut p: Propagation) -> Result<Response, SamlError> {
    while let Some(sp_id) = p.remaining.pop() {
        let Some(rp) = state.engine.store.relying_party(&sp_id).await? else {
            continue;
        };
        let Some(settings) = SpSettings::of(&rp)? else {
            continue;
        };
        let Some((binding_uri, location)) = front_channel_slo(&rp, BINDING_REDIRECT).cloned()
        else {
            continue;
        };
        let id = xml::new_id()?;
        // The persistent pairwise NameID; an SP that got a transient one finds the session by
        // its SessionIndex.
        let name_id = state
            .engine
            .codes
            .hash(p.citizen_id, "saml-pairwise", &rp.id)
            .map_err(SamlError::internal)?;
        p.waiting = Some((rp.id.clone(), id.clone()));
        let key = crate::core::random::token(24).map_err(SamlError::internal)?;
        let bytes = serde_json::to_vec(&p).map_err(SamlError::internal)?;
        state
            .engine
            .ephemeral
            .put(&format!("saml:slo:{key}"), &bytes, PROPAGATION_TTL)
            .await?;
        let idp = Endpoints::new(&state.issuer).entity_id;
        let now = state.engine.clock.now();
        let session_index = p.session_id.as_str().to_owned();
        return deliver(
            state,
            settings.sign_with_ec,
            &binding_uri,
            &location,
            "SAMLRequest",
            Some(&key),
            |k| response::logout_request(&idp, &location, &id, &name_id, &session_index, now, k),
        );
    }
    match (&p.answer, &p.then) {
        (Some(a), _) => final_answer(state, a),
        (None, Some(then)) => Ok(crate::web::pages::see_other(then)),
        (None, None) => Ok(crate::web::pages::see_other(LOGGED_OUT_PAGE)),
    }
}

/// A LogoutResponse from an SP we sent a LogoutRequest to: check it and go on.
async fn resume_propagation(state: &AppState, r: Received) -> Result<Response, SamlError> {
    let (verified, _id, rp, _settings, relay) = verified_message(state, r).await?;
    let doc = xml::parse(&verified)?;
    let root = doc.root_element();
    if !xml::is(root, NS_SAMLP, "LogoutResponse") {
        return Err(SamlError::malformed("not a LogoutResponse"));
    }
    let endpoints = Endpoints::new(&state.issuer);
    if root.attribute("Destination") != Some(endpoints.slo.as_str()) {
        return Err(SamlError::refused("Destination is not this endpoint"));
    }
    let key = format!(
        "saml:slo:{}",
        relay.ok_or_else(|| SamlError::refused("no RelayState"))?
    );
    let Some(bytes) = state.engine.ephemeral.get(&key).await? else {
        return Err(SamlError::refused("no logout in progress"));
    };
    let p: Propagation = serde_json::from_slice(&bytes).map_err(SamlError::internal)?;
    let expected = p
        .waiting
        .as_ref()
        .map(|(sp, id)| (sp.as_str(), id.as_str()));
    if expected
        != Some((
            rp.id.as_str(),
            root.attribute("InResponseTo").unwrap_or_default(),
        ))
    {
        return Err(SamlError::refused("not the answer to our LogoutRequest"));
    }
    state.engine.ephemeral.delete(&key).await?;
    next_hop(state, p).await
}
