//! The consent page (`GET|POST /oidc/consent?id=…`). A client that does not skip consent
//! (dynamically registered clients never do) is answered only once the citizen has accepted
//! to share the requested scopes with it; the consent is remembered per (citizen, client),
//! so a later request for the same or a smaller scope set goes straight through and a larger
//! one asks again (and records the union). `prompt=consent` always asks.
//!
//! The authorization request waits in the ephemeral store under the pending id, bound to
//! the citizen whose session reached it: only that citizen's live session can answer it.
//! Accept records the consent (`oidc.consent.given`) and answers the client as the
//! authorization endpoint would; Deny answers `access_denied` (`oidc.consent.denied`).

use super::authorize::{self, PENDING, Pending};
use super::error::AuthzError;
use super::grants;
use crate::core::engine::Actor;
use crate::store::consents::{self, Consent};
use crate::web::AppState;
use crate::web::auth::{self, SignedIn};
use crate::web::client::ClientInfo;
use crate::web::csrf;
use crate::web::error::{PageError, render};
use crate::web::i18n::{Tr, negotiate};
use askama::Template;
use axum::extract::{Form, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use serde::Deserialize;
use serde_json::json;

#[derive(Template)]
#[template(path = "oidc/consent.html")]
struct ConsentPage<'a> {
    tr: &'a Tr,
    title: String,
    intro: String,
    legend: String,
    logo_alt: String,
    csrf: &'a str,
    id: &'a str,
    scopes: Vec<String>,
    logo: Option<&'a str>,
    policy: Option<&'a str>,
    tos: Option<&'a str>,
}

#[derive(Deserialize)]
pub struct ConsentQuery {
    id: String,
}

#[derive(Deserialize)]
pub struct ConsentForm {
    id: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    decision: String,
}

fn page_error(parts: &Parts, e: PageError) -> Response {
    e.page(Tr::new(negotiate(parts))).into_response()
}

fn https(parts: &Parts) -> bool {
    parts
        .extensions
        .get::<ClientInfo>()
        .is_some_and(|c| c.https)
}

/// The pending request behind `id` and the signed-in citizen it waits for, or the page
/// to show instead (expired, or another session's request).
async fn load(state: &AppState, parts: &Parts, id: &str) -> Result<(Pending, SignedIn), Response> {
    let tr = Tr::new(negotiate(parts));
    let pending = match Pending::load(state, id).await {
        Ok(p) => p,
        Err(e) => return Err(page_error(parts, PageError::Unavailable(e))),
    };
    let Some(pending) = pending else {
        return Err(page_error(
            parts,
            PageError::BadRequest(tr.t("oidc-error-expired")),
        ));
    };
    let signed = match auth::current(state, parts).await {
        Ok(s) => s,
        Err(e) => return Err(page_error(parts, e)),
    };
    match (signed, pending.consent_for) {
        (Some(s), Some(citizen)) if s.citizen.id == citizen => Ok((pending, s)),
        _ => Err(page_error(
            parts,
            PageError::BadRequest(tr.t("oidc-consent-error-session")),
        )),
    }
}

/// `GET /oidc/consent?id=…`: what the client asks for, with Accept and Deny.
pub async fn show(
    State(state): State<AppState>,
    parts: Parts,
    Query(q): Query<ConsentQuery>,
) -> Response {
    let (pending, _) = match load(&state, &parts, &q.id).await {
        Ok(found) => found,
        Err(res) => return res,
    };
    let client = match grants::client(&state, &pending.request.client_id).await {
        Ok(Some(c)) => c,
        Ok(None) => {
            let tr = Tr::new(negotiate(&parts));
            return page_error(&parts, PageError::BadRequest(tr.t("oidc-error-client")));
        }
        Err(e) => return page_error(&parts, PageError::Unavailable(e.to_string())),
    };
    let jar = CookieJar::from_headers(&parts.headers);
    let (jar, token) = match csrf::token(jar, https(&parts)) {
        Ok(t) => t,
        Err(e) => return page_error(&parts, PageError::Unavailable(format!("csrf: {e}"))),
    };
    let tr = Tr::new(negotiate(&parts));
    let name = client.rp.display_name.as_str();
    let s = &client.settings;
    // Only https addresses are shown (registration checks them; config clients too).
    fn web(u: &Option<String>) -> Option<&str> {
        u.as_deref().filter(|u| u.starts_with("https://"))
    }
    let logo = web(&s.logo_uri);
    let page = ConsentPage {
        tr: &tr,
        title: tr.t1("oidc-consent-title", "client", name),
        intro: tr.t1("oidc-consent-intro", "client", name),
        legend: tr.t1("oidc-consent-legend", "client", name),
        logo_alt: tr.t1("oidc-consent-logo", "client", name),
        csrf: &token,
        id: &q.id,
        scopes: scope_labels(&tr, &pending.request.scope),
        logo,
        policy: web(&s.policy_uri),
        tos: web(&s.tos_uri),
    };
    let mut res = render(tr, &page);
    if let Some(origin) = logo.and_then(|l| url::Url::parse(l).ok()) {
        // The logo is the only thing loaded from elsewhere.
        let csp = crate::web::headers::DEFAULT_CSP.replace(
            "img-src 'self' data:",
            &format!(
                "img-src 'self' data: {}",
                origin.origin().ascii_serialization()
            ),
        );
        if let Ok(v) = HeaderValue::from_str(&csp) {
            res.headers_mut().insert(header::CONTENT_SECURITY_POLICY, v);
        }
    }
    // Accept and Deny both end at the client's redirect URI.
    let origin = crate::web::headers::origin_of(&pending.request.reply.redirect_uri);
    crate::web::headers::allow_form_targets(&mut res, &origin.into_iter().collect::<Vec<_>>());
    (jar, res).into_response()
}

/// Each scope in plain words.
fn scope_labels(tr: &Tr, scope: &str) -> Vec<String> {
    scope
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(|s| tr.t(&format!("oidc-consent-scope-{s}")))
        .collect()
}

/// `POST /oidc/consent`: Accept records the consent and answers the client; Deny answers
/// `access_denied`.
pub async fn submit(
    State(state): State<AppState>,
    parts: Parts,
    Form(form): Form<ConsentForm>,
) -> Response {
    let jar = CookieJar::from_headers(&parts.headers);
    if !csrf::verify(&jar, https(&parts), &form.csrf) {
        return page_error(&parts, PageError::Csrf);
    }
    let (pending, signed) = match load(&state, &parts, &form.id).await {
        Ok(found) => found,
        Err(res) => return res,
    };
    let citizen = signed.citizen.id;
    let client_id = pending.request.client_id.clone();
    let actor = Actor {
        name: "citizen".into(),
        source: parts
            .extensions
            .get::<ClientInfo>()
            .and_then(|c| c.addr)
            .map(|a| a.to_string()),
    };
    let engine = &state.engine;
    if form.decision != "accept" {
        let _ = engine
            .ephemeral
            .delete(&format!("{PENDING}{}", form.id))
            .await;
        let event = engine
            .event(&actor, "oidc.consent.denied")
            .citizen(citizen)
            .detail(json!({ "client": client_id, "scope": pending.request.scope }));
        if let Err(e) = engine.audit(event).await {
            tracing::error!(error = %e, "consent: could not audit a denial");
        }
        return authorize::error_reply(
            &state,
            &pending.request.reply,
            &AuthzError::new("access_denied", "the citizen did not consent"),
        );
    }
    let before = match engine.store.consent(citizen, &client_id).await {
        Ok(c) => c,
        Err(e) => return page_error(&parts, PageError::Unavailable(e.to_string())),
    };
    let scope = match &before {
        Some(c) => c.union(&pending.request.scope),
        None => consents::union("", &pending.request.scope),
    };
    let consent = Consent {
        citizen_id: citizen,
        client_id: client_id.clone(),
        scope,
        granted_at: engine.clock.now(),
    };
    // Audited before it is recorded: a consent never counts without its audit entry.
    let event = engine
        .event(&actor, "oidc.consent.given")
        .citizen(citizen)
        .detail(json!({ "client": client_id, "scope": consent.scope }));
    if let Err(e) = engine.audit(event).await {
        tracing::error!(error = %e, "consent: could not audit");
        return page_error(&parts, PageError::Unavailable(e.to_string()));
    }
    if let Err(e) = engine.store.put_consent(&consent).await {
        return page_error(&parts, PageError::Unavailable(e.to_string()));
    }
    authorize::proceed(&state, &parts, form.id, pending, Some(citizen), false).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::credentials::Lang;

    #[test]
    fn every_supported_scope_has_plain_words() {
        for lang in [Lang::Es, Lang::Ca, Lang::En] {
            let tr = Tr::new(lang);
            let labels = scope_labels(&tr, &super::super::scopes::SCOPES_SUPPORTED.join(" "));
            for (scope, label) in super::super::scopes::SCOPES_SUPPORTED.iter().zip(&labels) {
                assert!(
                    !label.starts_with("oidc-consent-scope-"),
                    "{scope} has no words in {lang:?}"
                );
            }
            assert_eq!(labels.len(), super::super::scopes::SCOPES_SUPPORTED.len());
        }
    }
}
