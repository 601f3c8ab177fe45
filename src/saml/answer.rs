//! The SSO endpoint's answers to the service provider: the signed Response (success or the
//! status the request earned), its released attributes, and the auto-submitting POST page.

use super::Endpoints;
use super::binding;
use super::error::{SamlError, StatusCode as SamlStatus};
use super::request::{self, AuthnRequest};
use super::response::{self, Attribute, Statement};
use super::sp::{NAMEID_PERSISTENT, NAMEID_TRANSIENT, NAMEID_UNSPECIFIED, SpSettings};
use super::sso::Pending;
use crate::core::audit::Outcome;
use crate::core::engine::Actor;
use crate::core::keys::{JwsAlg, SigningKey};
use crate::core::relying_party::RelyingParty;
use crate::web::AppState;
use crate::web::auth::SignedIn;
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use std::sync::Arc;

pub(super) fn signer(
    state: &AppState,
    settings: &SpSettings,
) -> Result<Arc<SigningKey>, SamlError> {
    let alg = if settings.sign_with_ec {
        JwsAlg::ES256
    } else {
        JwsAlg::RS256
    };
    state
        .keys
        .active(alg)
        .ok_or_else(|| SamlError::internal("no active signing key"))
}

pub(super) async fn audit(
    state: &AppState,
    kind: &str,
    rp: &RelyingParty,
    citizen: Option<crate::core::citizen::CitizenId>,
    outcome: Outcome,
    detail: serde_json::Value,
) -> Result<(), SamlError> {
    let mut event = state
        .engine
        .event(&Actor::system(), kind)
        .outcome(outcome)
        .detail(serde_json::json!({ "sp": rp.id, "result": detail }));
    if let Some(c) = citizen {
        event = event.citizen(c);
    }
    state.engine.audit(event).await?;
    Ok(())
}

pub(super) async fn error_answer(
    state: &AppState,
    rp: &RelyingParty,
    settings: &SpSettings,
    pending: &Pending,
    status: SamlStatus,
    message: &str,
) -> Result<Response, SamlError> {
    let key = signer(state, settings)?;
    let idp = Endpoints::new(&state.issuer).entity_id;
    let xml = response::response(
        &idp,
        &pending.acs,
        &pending.request.id,
        Err((status, message)),
        state.engine.clock.now(),
        &key,
    )?;
    audit(
        state,
        "saml.sso.response",
        rp,
        None,
        Outcome::Refused,
        serde_json::json!(status.uri()),
    )
    .await?;
    post_page(&pending.acs, &xml, pending.relay_state.as_deref())
}

pub(super) fn post_page(acs: &str, xml: &str, relay: Option<&str>) -> Result<Response, SamlError> {
    let (html, csp) = binding::post_form(acs, "SAMLResponse", xml, relay)?;
    let mut res = ([(header::CACHE_CONTROL, "no-store")], Html(html)).into_response();
    let csp = HeaderValue::from_str(&csp).map_err(SamlError::internal)?;
    res.headers_mut()
        .insert(header::CONTENT_SECURITY_POLICY, csp);
    Ok(res)
}

/// The attributes released: what the SP may receive, narrowed to what it asked for when it
/// asked (eIDAS RequestedAttributes).
pub(super) fn attributes(
    state: &AppState,
    rp: &RelyingParty,
    req: &AuthnRequest,
    citizen: &crate::core::citizen::Citizen,
) -> Result<Vec<Attribute>, SamlStatus> {
    let requested: Vec<&str> = req
        .attributes
        .iter()
        .filter_map(|a| {
            a.name
                .strip_prefix(super::xml::NS_EIDAS_NATURAL)?
                .strip_prefix('/')
        })
        .collect();
    for a in req.attributes.iter().filter(|a| a.required) {
        let friendly = a
            .name
            .strip_prefix(super::xml::NS_EIDAS_NATURAL)
            .and_then(|n| n.strip_prefix('/'));
        let allowed = friendly.is_some_and(|f| rp.attribute_release.iter().any(|r| r == f))
            || a.name == request::CLAVE_RELAY_STATE
            || request::CLAVE_EXCLUDABLE_IDPS.contains(&a.name.as_str());
        if !allowed {
            return Err(SamlStatus::RequestDenied);
        }
    }
    let identifier = citizen.identifier.number();
    let mut out = Vec::new();
    for name in &rp.attribute_release {
        if !requested.is_empty() && !requested.contains(&name.as_str()) {
            continue;
        }
        let value = match name.as_str() {
            "PersonIdentifier" => state
                .config
                .saml
                .person_identifier_pattern
                .replace("{identifier}", identifier),
            "CurrentFamilyName" => citizen.family_names.clone(),
            "CurrentGivenName" => citizen.given_name.clone(),
            "DateOfBirth" => citizen.birth_date.format("%Y-%m-%d").to_string(),
            _ => continue,
        };
        out.push(Attribute::eidas(name, value));
    }
    // The eIDAS types (`eidas-natural:…Type`) are for SPs that speak eIDAS, which say so
    // with the eIDAS extensions; a plain SAML SP validates the assertion against the SAML
    // schemas alone (pysaml2 and python3-saml do), where those types do not resolve, so it
    // gets `xs:string`.
    if req.sp_type.is_none() && req.attributes.is_empty() {
        for a in &mut out {
            a.xsi_type = "xs:string".into();
        }
    }
    if let Some(v) = req.clave_relay_state() {
        out.push(Attribute {
            name: request::CLAVE_RELAY_STATE.into(),
            friendly: "RelayState".into(),
            value: v.to_owned(),
            xsi_type: "xs:string".into(),
        });
    }
    Ok(out)
}

pub(super) async fn success(
    state: &AppState,
    rp: &RelyingParty,
    settings: &SpSettings,
    pending: &Pending,
    si: &SignedIn,
) -> Result<Response, SamlError> {
    let req = &pending.request;
    let format = match req.name_id_format.as_deref() {
        None => settings.name_id_format.as_str(),
        Some(f) if [NAMEID_PERSISTENT, NAMEID_TRANSIENT, NAMEID_UNSPECIFIED].contains(&f) => f,
        Some(_) => {
            return error_answer(
                state,
                rp,
                settings,
                pending,
                SamlStatus::InvalidNameIdPolicy,
                "NameID format not offered",
            )
            .await;
        }
    };
    let name_id = match format {
        NAMEID_TRANSIENT => super::xml::new_id()?,
        NAMEID_UNSPECIFIED => state
            .config
            .saml
            .person_identifier_pattern
            .replace("{identifier}", si.citizen.identifier.number()),
        // Pairwise: a keyed hash of (citizen, SP), so SPs cannot correlate citizens.
        _ => state
            .engine
            .codes
            .hash(si.citizen.id, "saml-pairwise", &rp.id)
            .map_err(SamlError::internal)?,
    };
    let attrs = match attributes(state, rp, req, &si.citizen) {
        Ok(a) => a,
        Err(status) => {
            return error_answer(
                state,
                rp,
                settings,
                pending,
                status,
                "a required attribute is not released",
            )
            .await;
        }
    };
    let Some(level_uri) = state.engine.vocabulary.saml_uri(si.session.level) else {
        return Err(SamlError::internal("no SAML URI for the session level"));
    };
    let idp = Endpoints::new(&state.issuer).entity_id;
    let key = signer(state, settings)?;
    let now = state.engine.clock.now();
    let statement = Statement {
        idp: &idp,
        sp: &rp.id,
        in_response_to: &req.id,
        acs: &pending.acs,
        name_id_format: format,
        name_id: &name_id,
        session_index: si.session.id.as_str(),
        auth_instant: si.session.auth_time,
        level_uri,
        attributes: &attrs,
        now,
        lifetime_secs: state.config.saml.assertion_lifetime_secs,
        skew_secs: state.config.saml.clock_skew_secs,
    };
    let mut assertion = response::assertion(&statement, &key)?;
    if settings.encrypt_assertions {
        let cert = settings
            .encryption_der()
            .into_iter()
            .next()
            .ok_or_else(|| SamlError::internal("no encryption certificate registered"))?;
        assertion = super::encrypt::encrypted_assertion(&assertion, &cert)?;
    }
    let xml = response::response(&idp, &pending.acs, &req.id, Ok(&assertion), now, &key)?;
    state
        .engine
        .record_relying_party(&si.session.id, &rp.id, "saml")
        .await?;
    audit(
        state,
        "saml.sso.response",
        rp,
        Some(si.citizen.id),
        Outcome::Success,
        serde_json::json!({ "level": si.session.level.as_str(), "attributes": attrs.len() }),
    )
    .await?;
    post_page(&pending.acs, &xml, pending.relay_state.as_deref())
}
