//! The signed-in citizen: the live SSO session behind the browser's session cookie, and its
//! account. Pages that need one take [`SignedIn`]; without a live session (or with an account
//! that is no longer active) the browser is sent to log in and come back.

use super::client::ClientInfo;
use super::error::PageError;
use super::i18n::Tr;
use super::pages::{login_then, see_other};
use super::state::AppState;
use crate::core::citizen::{Citizen, CitizenStatus};
use crate::core::session::{SessionCookie, SsoSession};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;

/// A request from a citizen with a live SSO session on an active account.
#[derive(Debug, Clone)]
pub struct SignedIn {
    /// The session.
    pub session: SsoSession,
    /// The account.
    pub citizen: Citizen,
}

/// The live session behind the request's session cookie and its active account, if any; the
/// session's level never above what the account's proofing allows now.
pub async fn current(state: &AppState, parts: &Parts) -> Result<Option<SignedIn>, PageError> {
    let https = parts
        .extensions
        .get::<ClientInfo>()
        .is_some_and(|c| c.https);
    let jar = CookieJar::from_headers(&parts.headers);
    let Some(cookie) = jar.get(SessionCookie::name(https)) else {
        return Ok(None);
    };
    let Some(session) = state
        .engine
        .session_from_cookie(cookie.value(), &state.config.sessions)
        .await?
    else {
        return Ok(None);
    };
    let citizen = state
        .engine
        .store
        .citizen(session.citizen_id)
        .await
        .map_err(crate::core::CoreError::from)?;
    Ok(citizen
        .filter(|c| c.status == CitizenStatus::Active)
        .map(|citizen| SignedIn {
            session: capped(state, session, &citizen),
            citizen,
        }))
}

/// `session` with its level capped by what the account's proofing allows *now*: an operator
/// who lowers a citizen's proofing level (`admin citizen set-level`) lowers every live
/// session's assertions at once, without waiting for the next login.
pub(crate) fn capped(state: &AppState, mut session: SsoSession, citizen: &Citizen) -> SsoSession {
    if let Some(cap) = state.engine.policy.proofing_cap(citizen.proofing) {
        session.level = session.level.min(cap);
    }
    session
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        match current(state, parts).await {
            Ok(Some(signed_in)) => Ok(signed_in),
            Ok(None) => {
                let here = parts
                    .uri
                    .path_and_query()
                    .map_or("/account", |p| p.as_str());
                Err(see_other(&login_then(here)))
            }
            Err(e) => Err(e
                .page(Tr::new(super::i18n::negotiate(parts)))
                .into_response()),
        }
    }
}
