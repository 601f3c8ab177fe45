//! The account pages of a signed-in citizen: an overview, changing the password and the
//! mobile number, the TOTP second factor, the list of sessions and deregistration (baja).
//!
//! Every page takes [`SignedIn`] (except the page shown after deregistering, when there is
//! no account left to sign in to), every form carries the anti-forgery token, and sensitive
//! operations ask for a second factor bound to the operation's journey ([`factor`]).

mod deregister;
mod factor;
mod mobile;
mod overview;
mod password;
mod sessions;
mod totp;

use super::auth::SignedIn;
use super::client::ClientInfo;
use super::csrf;
use super::error::{PageError, render};
use super::i18n::Tr;
use super::state::AppState;
use crate::core::engine::Actor;
use askama::Template;
use axum::Router;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum_extra::extract::CookieJar;

/// The routes of the account pages.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/account", get(overview::show))
        .route(
            "/account/password",
            get(password::form).post(password::submit),
        )
        .route(
            "/account/password/code",
            get(password::code_form).post(password::code_submit),
        )
        .route(
            "/account/password/sms",
            axum::routing::post(password::use_sms),
        )
        .route("/account/password/done", get(password::done))
        .route("/account/mobile", get(mobile::form).post(mobile::submit))
        .route(
            "/account/mobile/code",
            get(mobile::code_form).post(mobile::code_submit),
        )
        .route("/account/mobile/done", get(mobile::done))
        .route("/account/totp", get(totp::show).post(totp::confirm))
        .route("/account/totp/remove", axum::routing::post(totp::remove))
        .route("/account/totp/removed", get(totp::removed))
        .route("/account/sessions", get(sessions::list))
        .route(
            "/account/sessions/end",
            axum::routing::post(sessions::end_one),
        )
        .route(
            "/account/sessions/end-all",
            axum::routing::post(sessions::end_all),
        )
        .route(
            "/account/deregister",
            get(deregister::form).post(deregister::submit),
        )
        .route(
            "/account/deregister/code",
            get(deregister::code_form).post(deregister::code_submit),
        )
        .route(
            "/account/deregister/sms",
            axum::routing::post(deregister::use_sms),
        )
        .route("/account/deregistered", get(deregister::deregistered))
}

/// The audit actor for what the citizen does on these pages.
fn actor(client: &ClientInfo) -> Actor {
    Actor {
        name: "citizen".into(),
        source: client.addr.map(|a| a.to_string()),
    }
}

/// A page or the error page in the citizen's language.
fn finish(tr: Tr, result: Result<Response, PageError>) -> Response {
    result.unwrap_or_else(|e| e.page(tr).into_response())
}

/// Renders a page with a form: the anti-forgery token comes from (and may be added to)
/// the jar, and `make` builds the template around it.
fn form_page<T: Template>(
    tr: Tr,
    jar: CookieJar,
    client: &ClientInfo,
    make: impl FnOnce(String) -> T,
) -> Result<Response, PageError> {
    let (jar, token) = csrf::token(jar, client.https)
        .map_err(|e| PageError::Unavailable(format!("csrf token: {e}")))?;
    Ok((jar, render(tr, &make(token))).into_response())
}

/// The page a journey of another citizen (or none) sends the browser back to.
fn start_again(path: &str) -> Response {
    super::pages::see_other(path)
}

/// The journey belongs to the signed-in citizen (a browser shared by two people keeps one
/// journey cookie per kind, so check whose it is).
fn owned_by(signed: &SignedIn, citizen: crate::core::citizen::CitizenId) -> bool {
    signed.citizen.id == citizen
}

/// A generic "it is done" page.
#[derive(Template)]
#[template(path = "account/done.html")]
struct Done<'a> {
    tr: &'a Tr,
    title: String,
    message: String,
}

fn done_page(tr: Tr, title_key: &str, message_key: &str) -> Response {
    render(
        tr,
        &Done {
            tr: &tr,
            title: tr.t(title_key),
            message: tr.t(message_key),
        },
    )
}
