//! The activation pages, after the Spanish Cl@ve permanente and the Argentine ANSES guides:
//!
//! * `/activate`: identifier + email + activation code → security policy → SMS code →
//!   password → the account is active.
//! * `/recover`: identifier + activation (recovery) code → SMS code → new password.
//! * `/letter`, `/anses`, `/anses/questions`: online proofing (invitation letter CSV, DNI
//!   trámite number, identity questions) that ends with an activation code sent by SMS.
//!
//! Every journey keeps its state server-side ([`crate::web::flow`]); every form carries the
//! anti-forgery token; the engine counts, blocks and audits.

mod activate;
mod journey;
mod proofing;
mod recover;

use super::client::ClientInfo;
use super::csrf;
use super::error::{PageError, render};
use super::i18n::Tr;
use super::state::AppState;
use crate::core::engine::Actor;
use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use axum_extra::extract::CookieJar;
use journey::{CodeForm, Kind, PasswordForm, ResendForm};

/// The routes of the activation, recovery and online-proofing pages.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/activate", get(activate::form).post(activate::submit))
        .route(
            "/activate/policy",
            get(activate::policy).post(activate::accept),
        )
        .route("/activate/code", get(act_code_form).post(act_code_submit))
        .route("/activate/resend", post(act_resend))
        .route(
            "/activate/password",
            get(act_password_form).post(act_password_submit),
        )
        .route("/activate/done", get(activate::done))
        .route("/recover", get(recover::form).post(recover::submit))
        .route("/recover/code", get(rec_code_form).post(rec_code_submit))
        .route("/recover/resend", post(rec_resend))
        .route(
            "/recover/password",
            get(rec_password_form).post(rec_password_submit),
        )
        .route("/recover/done", get(recover::done))
        .route(
            "/letter",
            get(proofing::letter_form).post(proofing::letter_submit),
        )
        .route(
            "/anses",
            get(proofing::anses_form).post(proofing::anses_submit),
        )
        .route(
            "/anses/questions",
            get(proofing::questions_form).post(proofing::questions_submit),
        )
        .route("/anses/questions/start", post(proofing::questions_start))
}

/// The citizen as the audit trail records them.
fn actor(client: &ClientInfo) -> Actor {
    Actor {
        name: "citizen".into(),
        source: client.addr.map(|a| a.to_string()),
    }
}

/// The anti-forgery token for this page's forms.
fn csrf_token(jar: CookieJar, client: &ClientInfo) -> Result<(CookieJar, String), PageError> {
    csrf::token(jar, client.https).map_err(|e| PageError::Unavailable(format!("csrf token: {e}")))
}

/// Renders a page (never cached).
fn respond<T: Template>(tr: Tr, page: &T) -> Response {
    render(tr, page)
}

/// A handler's result as a response: errors become the error page in the citizen's language.
fn finish(tr: Tr, result: Result<Response, PageError>) -> Response {
    result.unwrap_or_else(|e| e.page(tr).into_response())
}

/// A page that only says something: a title, an optional alert, paragraphs and a link.
struct Page {
    title: String,
    alert: Option<String>,
    text: Vec<String>,
    link: Option<(String, String)>,
}

#[derive(Template)]
#[template(path = "activation/message.html")]
struct MessageTemplate<'a> {
    tr: &'a Tr,
    page: &'a Page,
}

/// Renders a [`Page`].
fn message_page(tr: Tr, page: Page) -> Response {
    respond(
        tr,
        &MessageTemplate {
            tr: &tr,
            page: &page,
        },
    )
}

/// Handlers of the shared steps, one per journey.
macro_rules! shared_steps {
    ($kind:expr, $code_form:ident, $code_submit:ident, $resend:ident, $pw_form:ident, $pw_submit:ident) => {
        async fn $code_form(
            state: State<AppState>,
            tr: Tr,
            client: ClientInfo,
            jar: CookieJar,
        ) -> Response {
            finish(tr, journey::code_form($kind, state, tr, client, jar).await)
        }

        async fn $code_submit(
            state: State<AppState>,
            tr: Tr,
            client: ClientInfo,
            jar: CookieJar,
            form: Form<CodeForm>,
        ) -> Response {
            finish(
                tr,
                journey::code_submit($kind, state, tr, client, jar, form).await,
            )
        }

        async fn $resend(
            state: State<AppState>,
            tr: Tr,
            client: ClientInfo,
            jar: CookieJar,
            form: Form<ResendForm>,
        ) -> Response {
            finish(
                tr,
                journey::resend($kind, state, tr, client, jar, form).await,
            )
        }

        async fn $pw_form(
            state: State<AppState>,
            tr: Tr,
            client: ClientInfo,
            jar: CookieJar,
        ) -> Response {
            finish(
                tr,
                journey::password_form($kind, state, tr, client, jar).await,
            )
        }

        async fn $pw_submit(
            state: State<AppState>,
            tr: Tr,
            client: ClientInfo,
            jar: CookieJar,
            form: Form<PasswordForm>,
        ) -> Response {
            finish(
                tr,
                journey::password_submit($kind, state, tr, client, jar, form).await,
            )
        }
    };
}

shared_steps!(
    Kind::Activation,
    act_code_form,
    act_code_submit,
    act_resend,
    act_password_form,
    act_password_submit
);
shared_steps!(
    Kind::Recovery,
    rec_code_form,
    rec_code_submit,
    rec_resend,
    rec_password_form,
    rec_password_submit
);
