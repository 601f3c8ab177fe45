//! Server-side state of a multi-step journey (login, activation, recovery...). The state lives
//! in the ephemeral store, so any node (with Redis) can serve the next step; the browser holds
//! only a random id in a cookie named after the journey (`__Host-pasarela-KIND` over HTTPS).
//! A journey's id is also what one-time codes are bound to, so a code sent for one journey
//! cannot be used in another.

use super::error::PageError;
use super::state::AppState;
use crate::core::random;
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::time::Duration;

/// How long an unfinished journey is kept.
pub const FLOW_TTL: Duration = Duration::from_secs(20 * 60);

/// A loaded journey: its id and its state.
#[derive(Debug, Clone)]
pub struct Flow<T> {
    /// The random id (the cookie value); bind one-time codes to it.
    pub id: String,
    /// What the journey has established so far.
    pub data: T,
}

fn cookie_name(kind: &str, https: bool) -> String {
    if https {
        format!("__Host-pasarela-{kind}")
    } else {
        format!("pasarela-{kind}")
    }
}

fn store_key(kind: &str, id: &str) -> String {
    format!("flow:{kind}:{id}")
}

fn unavailable(e: impl std::fmt::Display) -> PageError {
    PageError::Unavailable(format!("journey state: {e}"))
}

/// Starts a journey of `kind` with `data`, replacing any journey of that kind the browser
/// had. Returns the jar with the new cookie and the journey.
pub async fn start<T: Serialize>(
    state: &AppState,
    jar: CookieJar,
    https: bool,
    kind: &str,
    data: T,
) -> Result<(CookieJar, Flow<T>), PageError> {
    if let Some(old) = jar.get(&cookie_name(kind, https)) {
        let key = store_key(kind, old.value());
        state
            .engine
            .ephemeral
            .delete(&key)
            .await
            .map_err(unavailable)?;
    }
    let id = random::token(24).map_err(unavailable)?;
    let flow = Flow { id, data };
    save(state, kind, &flow).await?;
    let cookie = Cookie::build((cookie_name(kind, https), flow.id.clone()))
        .path("/")
        .http_only(true)
        .secure(https)
        .same_site(SameSite::Lax)
        .build();
    Ok((jar.add(cookie), flow))
}

/// The browser's journey of `kind`, or `None` when it has none or it expired.
pub async fn load<T: DeserializeOwned>(
    state: &AppState,
    jar: &CookieJar,
    https: bool,
    kind: &str,
) -> Result<Option<Flow<T>>, PageError> {
    let Some(cookie) = jar.get(&cookie_name(kind, https)) else {
        return Ok(None);
    };
    let id = cookie.value();
    let stored = state
        .engine
        .ephemeral
        .get(&store_key(kind, id))
        .await
        .map_err(unavailable)?;
    Ok(stored.and_then(|bytes| {
        serde_json::from_slice(&bytes).ok().map(|data| Flow {
            id: id.to_owned(),
            data,
        })
    }))
}

/// Stores the journey's new state (and gives it a fresh lifetime).
pub async fn save<T: Serialize>(
    state: &AppState,
    kind: &str,
    flow: &Flow<T>,
) -> Result<(), PageError> {
    let bytes = serde_json::to_vec(&flow.data).map_err(unavailable)?;
    state
        .engine
        .ephemeral
        .put(&store_key(kind, &flow.id), &bytes, FLOW_TTL)
        .await
        .map_err(unavailable)
}

/// Ends the journey: its state is deleted and its cookie removed.
pub async fn end<T>(
    state: &AppState,
    jar: CookieJar,
    https: bool,
    kind: &str,
    flow: &Flow<T>,
) -> Result<CookieJar, PageError> {
    state
        .engine
        .ephemeral
        .delete(&store_key(kind, &flow.id))
        .await
        .map_err(unavailable)?;
    let removal = Cookie::build(cookie_name(kind, https)).path("/").build();
    Ok(jar.remove(removal))
}
