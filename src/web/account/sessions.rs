//! The citizen's live sessions: where they are signed in, ending one or all the others.

use super::{actor, finish, form_page};
use crate::core::session::{EndCause, Ending, SessionCookie, SessionId, SsoSession};
use crate::web::auth::SignedIn;
use crate::web::client::ClientInfo;
use crate::web::error::PageError;
use crate::web::i18n::Tr;
use crate::web::pages::{check_csrf, see_other};
use crate::web::state::AppState;
use askama::Template;
use axum::extract::{Extension, Form, State};
use axum::http::header;
use axum::response::{AppendHeaders, IntoResponse, Response};
use axum_extra::extract::CookieJar;
use serde::Deserialize;

/// One row of the list.
struct Row {
    id: String,
    created: String,
    last_seen: String,
    user_agent: String,
    current: bool,
}

#[derive(Template)]
#[template(path = "account/sessions.html")]
struct SessionsPage<'a> {
    tr: &'a Tr,
    csrf: String,
    rows: Vec<Row>,
    others: bool,
}

/// The end-one form.
#[derive(Deserialize)]
pub struct EndForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    session: String,
}

/// The end-all form.
#[derive(Deserialize)]
pub struct EndAllForm {
    #[serde(default)]
    csrf: String,
}

const TIME_FORMAT: &str = "%Y-%m-%d %H:%M UTC";

fn row(tr: &Tr, s: &SsoSession, current: &SessionId) -> Row {
    Row {
        id: s.id.as_str().to_owned(),
        created: s.created_at.format(TIME_FORMAT).to_string(),
        last_seen: s.last_seen_at.format(TIME_FORMAT).to_string(),
        user_agent: s
            .user_agent
            .clone()
            .filter(|ua| !ua.trim().is_empty())
            .unwrap_or_else(|| tr.t("account-sessions-unknown-agent")),
        current: &s.id == current,
    }
}

/// `GET /account/sessions`.
pub async fn list(
    State(state): State<AppState>,
    tr: Tr,
    jar: CookieJar,
    Extension(client): Extension<ClientInfo>,
    signed: SignedIn,
) -> Response {
    let result = async {
        let sessions = state
            .engine
            .sessions_of(signed.citizen.id, &state.config.sessions)
            .await?;
        let rows: Vec<Row> = sessions
            .iter()
            .map(|s| row(&tr, s, &signed.session.id))
            .collect();
        let others = rows.iter().any(|r| !r.current);
        form_page(tr, jar, &client, |csrf| SessionsPage {
            tr: &tr,
            csrf,
            rows,
            others,
        })
    }
    .await;
    finish(tr, result)
}

/// `POST /account/sessions/end`: ends one of the citizen's sessions (someone else's id does
/// nothing). Ending the current one signs this browser out.
pub async fn end_one(
    State(state): State<AppState>,
    tr: Tr,
    jar: CookieJar,
    Extension(client): Extension<ClientInfo>,
    signed: SignedIn,
    Form(f): Form<EndForm>,
) -> Response {
    let result = async {
        check_csrf(&jar, &client, &f.csrf)?;
        // A malformed id is nobody's session: nothing to end.
        let Ok(id) = f.session.trim().parse::<SessionId>() else {
            return Ok(see_other("/account/sessions"));
        };
        // The browser is not walked through the SAML SPs from here (even when this is its
        // own session): the notifiers reach whom they can without it.
        let ending = Ending::without_browser(EndCause::AccountPage);
        state
            .engine
            .end_own_session(signed.citizen.id, &id, &actor(&client), &ending)
            .await?;
        if id == signed.session.id {
            let clear = SessionCookie::clear_cookie(client.https);
            return Ok((
                AppendHeaders([(header::SET_COOKIE, clear)]),
                see_other("/account/sessions"),
            )
                .into_response());
        }
        Ok(see_other("/account/sessions"))
    }
    .await;
    finish(tr, result)
}

/// `POST /account/sessions/end-all`: ends every session of the citizen but this one.
pub async fn end_all(
    State(state): State<AppState>,
    tr: Tr,
    jar: CookieJar,
    Extension(client): Extension<ClientInfo>,
    signed: SignedIn,
    Form(f): Form<EndAllForm>,
) -> Response {
    let result: Result<Response, PageError> = async {
        check_csrf(&jar, &client, &f.csrf)?;
        let actor = actor(&client);
        let sessions = state
            .engine
            .sessions_of(signed.citizen.id, &state.config.sessions)
            .await?;
        let ending = Ending::without_browser(EndCause::AccountPage);
        for s in sessions.iter().filter(|s| s.id != signed.session.id) {
            state
                .engine
                .end_own_session(signed.citizen.id, &s.id, &actor, &ending)
                .await?;
        }
        Ok(see_other("/account/sessions"))
    }
    .await;
    finish(tr, result)
}
