//! The SSO endpoint: receive an AuthnRequest over either binding, check it against the
//! service provider's registration, then answer from the live SSO session, send the citizen
//! to log in (keeping the request server-side), or answer the SAML error status.

use super::answer::{error_answer, success};
use super::binding;
use super::error::{SamlError, StatusCode as SamlStatus};
use super::request::{self, AuthnRequest};
use super::sp::SpSettings;
use super::{Endpoints, metadata as idp_metadata};
use crate::core::keys::JwsAlg;
use crate::core::level::AuthMethod;
use crate::core::relying_party::RelyingParty;
use crate::web::AppState;
use crate::web::auth;
use crate::web::error::PageError;
use crate::web::i18n::Tr;
use crate::web::pages::{login_then, see_other};
use axum::extract::{Form, Query, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// Longest RelayState accepted (SAML bindings §3.4.3: 80 bytes).
const MAX_RELAY_STATE: usize = 80;
/// How long a request waits for the citizen to log in.
const PENDING_TTL: std::time::Duration = std::time::Duration::from_secs(30 * 60);

/// A verified request waiting for an answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Pending {
    /// The request.
    pub request: AuthnRequest,
    /// The ACS URL matched against the metadata.
    pub acs: String,
    /// RelayState, echoed unchanged.
    pub relay_state: Option<String>,
    /// When it was received (ForceAuthn needs an authentication after this).
    pub received_at: DateTime<Utc>,
}

/// `GET /saml/metadata`.
pub async fn metadata(State(state): State<AppState>) -> Response {
    let endpoints = Endpoints::new(&state.issuer);
    let Some(key) = state.keys.active(JwsAlg::RS256) else {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    };
    match idp_metadata::build(
        &endpoints,
        &state.keys.published(),
        &key,
        state.engine.clock.now(),
        state.config.saml.metadata_valid_hours,
    ) {
        Ok(xml) => (
            [(header::CONTENT_TYPE, "application/samlmetadata+xml")],
            xml,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "SAML metadata");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

/// The form of the HTTP-POST binding.
#[derive(Debug, Deserialize)]
pub struct PostForm {
    /// The base64 request.
    #[serde(rename = "SAMLRequest")]
    saml_request: String,
    /// RelayState.
    #[serde(rename = "RelayState")]
    relay_state: Option<String>,
}

/// `GET /saml/sso`: HTTP-Redirect binding.
pub async fn sso_redirect(State(state): State<AppState>, tr: Tr, parts: Parts) -> Response {
    let raw = parts.uri.query().unwrap_or_default();
    let max = state.config.saml.max_message_bytes;
    let received = binding::redirect_decode(raw, "SAMLRequest", max).map(|m| Received {
        xml: m.xml,
        relay_state: m.relay_state,
        redirect_signature: m.signature,
        post: false,
    });
    handle(state, tr, parts, received).await
}

/// `POST /saml/sso`: HTTP-POST binding.
pub async fn sso_post(
    State(state): State<AppState>,
    tr: Tr,
    parts: Parts,
    Form(form): Form<PostForm>,
) -> Response {
    let max = state.config.saml.max_message_bytes;
    let received = binding::post_decode(&form.saml_request, max).map(|xml| Received {
        xml,
        relay_state: form.relay_state,
        redirect_signature: None,
        post: true,
    });
    handle(state, tr, parts, received).await
}

/// `?id=` of the resume URL.
#[derive(Debug, Deserialize)]
pub struct ResumeQuery {
    id: String,
    /// `1` when the login page could not reach the level asked for.
    #[serde(default)]
    unmet: Option<String>,
}

/// `GET /saml/sso/resume?id=…`: back from the login page.
pub async fn resume(
    State(state): State<AppState>,
    tr: Tr,
    parts: Parts,
    Query(q): Query<ResumeQuery>,
) -> Response {
    let key = pending_key(&q.id);
    let pending = match state.engine.ephemeral.get(&key).await {
        Ok(Some(bytes)) => serde_json::from_slice::<Pending>(&bytes).ok(),
        Ok(None) => None,
        Err(e) => return refuse(tr, SamlError::from(e)),
    };
    let Some(pending) = pending else {
        return PageError::BadRequest(tr.t("error-saml-request"))
            .page(tr)
            .into_response();
    };
    if let Err(e) = state.engine.ephemeral.delete(&key).await {
        return refuse(tr, SamlError::from(e));
    }
    let resumed = if q.unmet.as_deref() == Some("1") {
        Resumed::Unmet
    } else {
        Resumed::FromLogin
    };
    match decide(&state, &parts, pending, Some(resumed)).await {
        Ok(r) => r,
        Err(e) => refuse(tr, e),
    }
}

async fn handle(
    state: AppState,
    tr: Tr,
    parts: Parts,
    received: Result<Received, SamlError>,
) -> Response {
    let pending = match received {
        Ok(r) => verify(&state, r).await,
        Err(e) => Err(e),
    };
    let result = match pending {
        Ok(p) => decide(&state, &parts, p, None).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(r) => r,
        Err(e) => refuse(tr, e),
    }
}

fn refuse(tr: Tr, e: SamlError) -> Response {
    if e.is_internal() {
        PageError::Unavailable(e.to_string())
            .page(tr)
            .into_response()
    } else {
        tracing::info!(reason = %e, "SAML request refused");
        PageError::BadRequest(tr.t("error-saml-request"))
            .page(tr)
            .into_response()
    }
}

fn pending_key(id: &str) -> String {
    format!("saml:pending:{id}")
}

/// A SAML message as received over either binding, before any check.
pub(crate) struct Received {
    pub(crate) xml: String,
    pub(crate) relay_state: Option<String>,
    pub(crate) redirect_signature: Option<(String, Vec<u8>, String)>,
    pub(crate) post: bool,
}

/// What [`verified_message`] returns: the signed XML (only what the signature covers), the
/// root's ID, the SP, its settings, and the RelayState.
pub(crate) type Verified = (String, String, RelyingParty, SpSettings, Option<String>);

/// The checks every message from an SP passes: RelayState length, a registered and enabled
/// SP, and a valid signature by one of its certificates.
pub(crate) async fn verified_message(state: &AppState, r: Received) -> Result<Verified, SamlError> {
    if r.relay_state
        .as_ref()
        .is_some_and(|s| s.len() > MAX_RELAY_STATE)
    {
        return Err(SamlError::refused("RelayState longer than 80 bytes"));
    }
    let (id, issuer) = request::peek(&r.xml)?;
    let rp = state
        .engine
        .store
        .relying_party(&issuer)
        .await?
        .filter(|rp| rp.enabled)
        .ok_or_else(|| SamlError::refused("unknown service provider"))?;
    let settings = SpSettings::of(&rp)?.ok_or_else(|| SamlError::refused("not a SAML SP"))?;
    let certs = settings.signing_der();
    // Signing is required for every SP (WantAuthnRequestsSigned="true").
    let verified = if r.post {
        super::xml::verified_root(&r.xml, &id, &certs)?
    } else {
        let (alg, sig, signed) = r
            .redirect_signature
            .ok_or_else(|| SamlError::signature("unsigned request"))?;
        binding::verify_redirect(&alg, &sig, &signed, &certs)?;
        r.xml
    };
    Ok((verified, id, rp, settings, r.relay_state))
}

/// Refuses an IssueInstant outside the window and an ID seen before from this SP.
pub(crate) async fn fresh(
    state: &AppState,
    issuer: &str,
    id: &str,
    issue_instant: DateTime<Utc>,
) -> Result<(), SamlError> {
    let cfg = &state.config.saml;
    let now = state.engine.clock.now();
    let skew = Duration::seconds(i64::from(cfg.clock_skew_secs));
    let max_age = Duration::seconds(i64::from(cfg.request_max_age_secs));
    if issue_instant > now + skew || issue_instant < now - max_age - skew {
        return Err(SamlError::refused(
            "IssueInstant outside the accepted window",
        ));
    }
    let ttl = (max_age + skew + skew)
        .to_std()
        .map_err(SamlError::internal)?;
    let first = state
        .engine
        .ephemeral
        .set_if_absent(&format!("saml:seen:{issuer}:{id}"), b"1", ttl)
        .await?;
    if !first {
        return Err(SamlError::refused("message ID seen before"));
    }
    Ok(())
}

/// Every check before the request may be answered to the SP.
async fn verify(state: &AppState, r: Received) -> Result<Pending, SamlError> {
    let (verified, id, rp, settings, relay_state) = verified_message(state, r).await?;
    let req = request::parse(&verified, &state.engine.vocabulary)?;
    if req.issuer != rp.id || req.id != id {
        return Err(SamlError::refused(
            "Issuer or ID differ from the signed request",
        ));
    }
    let endpoints = Endpoints::new(&state.issuer);
    if req.destination.as_deref() != Some(endpoints.sso.as_str()) {
        return Err(SamlError::refused("Destination is not this endpoint"));
    }
    if req
        .protocol_binding
        .as_deref()
        .is_some_and(|b| b != super::xml::BINDING_POST)
    {
        return Err(SamlError::refused("only HTTP-POST responses are offered"));
    }
    if req.sp_type.is_some_and(|t| t != settings.sp_type) {
        return Err(SamlError::refused("SPType differs from the registration"));
    }
    let acs = settings
        .acs_for(req.acs_url.as_deref(), req.acs_index)
        .ok_or_else(|| SamlError::refused("AssertionConsumerService not in the metadata"))?
        .location
        .clone();
    // Last, so that a refused request does not burn its ID.
    fresh(state, &rp.id, &id, req.issue_instant).await?;
    Ok(Pending {
        request: req,
        acs,
        relay_state,
        received_at: state.engine.clock.now(),
    })
}

/// Answers a verified request: from the session, by sending the citizen to log in, or with
/// a SAML error status.
/// How a request comes back from the login page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Resumed {
    /// After a login.
    FromLogin,
    /// The login page found the level out of the citizen's reach (`unmet=1`).
    Unmet,
}

async fn decide(
    state: &AppState,
    parts: &Parts,
    pending: Pending,
    resumed: Option<Resumed>,
) -> Result<Response, SamlError> {
    let rp = state
        .engine
        .store
        .relying_party(&pending.request.issuer)
        .await?
        .filter(|rp| rp.enabled)
        .ok_or_else(|| SamlError::refused("unknown service provider"))?;
    let settings = SpSettings::of(&rp)?.ok_or_else(|| SamlError::refused("not a SAML SP"))?;
    // The SP's error answer (a signed Response with this status), for every refusal below.
    let refuse_with = |status: SamlStatus, why: &'static str| {
        error_answer(state, &rp, &settings, &pending, status, why)
    };
    let ctx = pending.request.context.as_ref();
    if ctx.is_some_and(|c| c.levels.is_empty()) {
        return refuse_with(SamlStatus::NoAuthnContext, "no known level requested").await;
    }
    // Cl@ve: the identity providers the SP excluded take their methods out of the login.
    let allowed = state
        .config
        .saml
        .allowed_methods(&pending.request.excluded_idps());
    if allowed.as_ref().is_some_and(|a| {
        !a.iter()
            .any(|m| [AuthMethod::Sms, AuthMethod::Otp].contains(m))
    }) {
        return refuse_with(SamlStatus::NoAuthnContext, "every login method is excluded").await;
    }
    let signed_in = auth::current(state, parts)
        .await
        .map_err(|e| SamlError::internal(format!("{e:?}")))?;
    let ceiling = match &allowed {
        Some(a) => request::reachable_with(&state.engine.policy, a),
        None => request::reachable_by_login(&state.engine.policy),
    };
    // A live session that may not be stepped up: ForceAuthn, or it used an excluded method.
    let mut fresh_login = false;
    if let Some(si) = &signed_in {
        let fresh_enough =
            !pending.request.force_authn || si.session.auth_time >= pending.received_at;
        // A session that used an excluded method does not count: the citizen logs in again.
        let methods_ok = allowed.as_ref().is_none_or(|a| {
            si.session
                .methods_set()
                .iter()
                .all(|m| *m == AuthMethod::Pwd || a.contains(m))
        });
        if fresh_enough && methods_ok && request::level_ok(si.session.level, rp.min_level, ctx) {
            return success(state, &rp, &settings, &pending, si).await;
        }
        // A citizen whose proofing caps them below the level is still sent to the login
        // page, which tells them how to reach it (an office visit) before the SP hears.
        fresh_login = !(fresh_enough && methods_ok);
    }
    if resumed == Some(Resumed::Unmet) {
        return refuse_with(
            SamlStatus::NoAuthnContext,
            "the requested level cannot be reached by this citizen",
        )
        .await;
    }
    if pending.request.is_passive {
        return refuse_with(SamlStatus::NoPassive, "a login is needed").await;
    }
    let Some(target) = request::target_level(rp.min_level, ctx, ceiling) else {
        return refuse_with(
            SamlStatus::NoAuthnContext,
            "the requested level cannot be met",
        )
        .await;
    };
    if resumed.is_some() && signed_in.is_some() {
        // Back from the login page and still not enough: do not loop.
        return refuse_with(
            SamlStatus::NoAuthnContext,
            "the requested level was not reached",
        )
        .await;
    }
    let id = crate::core::random::token(24).map_err(SamlError::internal)?;
    let bytes = serde_json::to_vec(&pending).map_err(SamlError::internal)?;
    state
        .engine
        .ephemeral
        .put(&pending_key(&id), &bytes, PENDING_TTL)
        .await?;
    let mut location = format!(
        "{}&acr={}",
        login_then(&format!("/saml/sso/resume?id={id}")),
        target.as_str()
    );
    if fresh_login {
        location.push_str("&fresh=1");
    }
    if let Some(a) = &allowed {
        let names: Vec<&str> = a.iter().map(|m| m.amr()).collect();
        location.push_str(&format!("&methods={}", names.join(",")));
    }
    Ok(see_other(&location))
}
