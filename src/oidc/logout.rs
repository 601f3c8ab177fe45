//! RP-initiated logout (`GET|POST /oidc/logout`). The browser's SSO session is ended
//! through the engine, whose notifiers revoke the tokens issued in it and tell its clients
//! over the back channel (and its SAML SPs that the browser cannot visit); its clients are
//! also told through front-channel logout frames on the page that follows, and the browser
//! is walked through the session's SAML SPs' logout endpoints as from the logout page. The
//! citizen is sent back to the client only when an `id_token_hint` signed by our own keys
//! names the client and the `post_logout_redirect_uri` is registered for it exactly; `state`
//! is echoed only when given. Otherwise a logged-out page is shown.

use super::id_token;
use super::request::{Params, with_query};
use crate::core::engine::Actor;
use crate::core::session::{EndCause, Ending, SessionCookie};
use crate::web::AppState;
use crate::web::client::ClientInfo;
use crate::web::error::render;
use crate::web::i18n::{Tr, negotiate};
use askama::Template;
use axum::extract::{Form, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// `GET /oidc/logout`
pub async fn get(
    State(state): State<AppState>,
    parts: Parts,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    logout(state, parts, pairs).await
}

/// `POST /oidc/logout`
pub async fn post(
    State(state): State<AppState>,
    parts: Parts,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    logout(state, parts, pairs).await
}

#[derive(Template)]
#[template(path = "oidc/logged_out.html")]
struct LoggedOut<'a> {
    tr: &'a Tr,
}

/// The logged-out page with the front-channel logout frames; it goes on to `next` (the
/// post-logout redirect URI) once the frames have loaded (a meta refresh, which waits for
/// the page's load event, and a link that works without it).
#[derive(Template)]
#[template(path = "oidc/logged_out_frontchannel.html")]
struct LoggedOutFrames<'a> {
    tr: &'a Tr,
    frames: &'a [String],
    next: Option<&'a str>,
}

async fn logout(state: AppState, parts: Parts, pairs: Vec<(String, String)>) -> Response {
    let params = Params::new(pairs);
    let tr = Tr::new(negotiate(&parts));
    // Where to go back to, decided before anything changes.
    let hint = params
        .get("id_token_hint")
        .and_then(|h| id_token::verify_own(&state.keys, &state.issuer, h));
    let client_id = hint.as_ref().and_then(|payload| {
        let auds = id_token::audiences(payload);
        match params.get("client_id") {
            Some(given) => auds.iter().any(|a| a == given).then(|| given.to_owned()),
            None => auds.into_iter().next(),
        }
    });
    let mut back = None;
    if let (Some(id), Some(uri)) = (&client_id, params.get("post_logout_redirect_uri")) {
        match super::grants::client(&state, id).await {
            Ok(Some(c)) if c.has_post_logout_redirect_uri(uri) => {
                let mut q = Vec::new();
                if let Some(s) = params.get("state") {
                    q.push(("state", s));
                }
                back = with_query(uri, &q);
            }
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "logout: client lookup failed"),
        }
    }
    // End the browser's session.
    let https = parts
        .extensions
        .get::<ClientInfo>()
        .is_some_and(|c| c.https);
    let source = parts
        .extensions
        .get::<ClientInfo>()
        .and_then(|c| c.addr)
        .map(|a| a.to_string());
    let mut frames = Vec::new();
    let mut saml_chain = None;
    match crate::web::auth::current(&state, &parts).await {
        Ok(Some(signed)) => {
            let actor = Actor {
                name: "citizen".into(),
                source,
            };
            let engine = &state.engine;
            let ending = Ending::with_browser_chain(EndCause::Logout);
            match engine
                .end_session(&signed.session.id, &actor, &ending)
                .await
            {
                Ok(Some(ended)) => {
                    frames = super::frontchannel::uris(&state, &ended).await;
                    // The chain ends where this endpoint would have sent the browser.
                    // The other doors' walks (SAML SPs' front-channel endpoints), through
                    // the engine: this door knows no other protocol.
                    saml_chain = engine.browser_logout_walk(&ended, back.clone()).await;
                }
                Ok(None) => {}
                Err(e) => tracing::error!(error = %e, "logout: could not end the session"),
            }
            // The revocation is the notifier's, audited as `oidc.session_tokens_revoked`.
            let event = engine
                .event(&actor, "oidc.logout")
                .citizen(signed.citizen.id)
                .detail(json!({
                    "session": signed.session.id.as_str(),
                    "client": client_id,
                }));
            if let Err(e) = engine.audit(event).await {
                tracing::error!(error = %e, "logout: could not audit");
            }
        }
        Ok(None) => {}
        Err(e) => tracing::error!(error = ?e, "logout: session lookup failed"),
    }
    // With SAML SPs to visit, the browser goes through them before where it was going.
    if saml_chain.is_some() {
        back = saml_chain;
    }
    let mut res = match back {
        Some(location) if frames.is_empty() => {
            (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response()
        }
        None if frames.is_empty() => render(tr, &LoggedOut { tr: &tr }),
        next => {
            let page = LoggedOutFrames {
                tr: &tr,
                frames: &frames,
                next: next.as_deref(),
            };
            let mut res = render(tr, &page);
            if let Ok(v) = HeaderValue::from_str(&super::frontchannel::csp(&frames)) {
                res.headers_mut().insert(header::CONTENT_SECURITY_POLICY, v);
            }
            res.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            res
        }
    };
    if let Ok(v) = HeaderValue::from_str(&SessionCookie::clear_cookie(https)) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}
