//! Forgotten password (Cl@ve "olvido de contraseña"): identifier + activation (recovery)
//! code, then the shared SMS code and new-password steps of [`super::journey`].

use super::activate::code_refusal;
use super::journey::{Journey, Kind, send_code};
use super::{Page, actor, csrf_token, finish, message_page, respond};
use crate::core::activation_check::CodeCheck;
use crate::core::citizen::CitizenStatus;
use crate::core::identifier::Identifier;
use crate::web::client::ClientInfo;
use crate::web::error::PageError;
use crate::web::flow;
use crate::web::i18n::Tr;
use crate::web::pages::{check_csrf, see_other};
use crate::web::state::AppState;
use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "activation/recover.html")]
struct RecoverPage<'a> {
    tr: &'a Tr,
    csrf: &'a str,
    identifier: &'a str,
    error: Option<String>,
    attempts_rule: String,
}

fn recover_page(
    state: &AppState,
    tr: Tr,
    jar: CookieJar,
    client: &ClientInfo,
    identifier: &str,
    error: Option<String>,
) -> Result<Response, PageError> {
    let (jar, csrf) = csrf_token(jar, client)?;
    let page = RecoverPage {
        tr: &tr,
        csrf: &csrf,
        identifier,
        error,
        attempts_rule: tr.t1(
            "act-activate-attempts-rule",
            "max",
            &state.engine.citizens.max_code_failures.to_string(),
        ),
    };
    Ok((jar, respond(tr, &page)).into_response())
}

/// The recovery form.
#[derive(Default, Deserialize)]
#[serde(default)]
pub struct RecoverForm {
    csrf: String,
    identifier: String,
    code: String,
}

/// `GET /recover`.
pub async fn form(
    State(state): State<AppState>,
    tr: Tr,
    client: ClientInfo,
    jar: CookieJar,
) -> Response {
    finish(tr, recover_page(&state, tr, jar, &client, "", None))
}

/// `POST /recover`: checks the recovery code and sends an SMS code.
pub async fn submit(
    State(state): State<AppState>,
    tr: Tr,
    client: ClientInfo,
    jar: CookieJar,
    Form(form): Form<RecoverForm>,
) -> Response {
    finish(tr, submit_inner(state, tr, client, jar, form).await)
}

async fn submit_inner(
    state: AppState,
    tr: Tr,
    client: ClientInfo,
    jar: CookieJar,
    form: RecoverForm,
) -> Result<Response, PageError> {
    check_csrf(&jar, &client, &form.csrf)?;
    // The Cl@ve recovery form asks for no email, while the engine's check cross-checks one:
    // give it the registered address. An unknown identifier gets an empty one and the same
    // answer as a wrong code.
    let email = match Identifier::parse_any(&form.identifier) {
        Ok(ident) => state
            .engine
            .store
            .citizen_by_identifier(&ident)
            .await
            .map_err(crate::core::CoreError::from)?
            .map(|c| c.email)
            .unwrap_or_default(),
        Err(_) => String::new(),
    };
    let check = state
        .engine
        .check_activation_code(&form.identifier, &email, &form.code, &actor(&client))
        .await?;
    let citizen = match check {
        CodeCheck::Valid(citizen) => citizen,
        other => {
            let error = code_refusal(&tr, &state, &other);
            return recover_page(&state, tr, jar, &client, &form.identifier, Some(error));
        }
    };
    if citizen.status != CitizenStatus::Active {
        let error = if citizen.status == CitizenStatus::Registered {
            tr.t("act-recover-not-active")
        } else {
            tr.t("act-code-none")
        };
        return recover_page(&state, tr, jar, &client, &form.identifier, Some(error));
    }
    let journey = Journey::new(citizen.id, &citizen.mobile);
    let (jar, mut f) =
        flow::start(&state, jar, client.https, Kind::Recovery.flow(), journey).await?;
    send_code(&state, tr, Kind::Recovery, &mut f).await?;
    flow::save(&state, Kind::Recovery.flow(), &f).await?;
    Ok((jar, see_other("/recover/code")).into_response())
}

/// `GET /recover/done`: the new password is set.
pub async fn done(tr: Tr) -> Response {
    message_page(
        tr,
        Page {
            title: tr.t("act-recover-done-title"),
            alert: None,
            text: vec![tr.t("act-recover-done-text"), tr.t("act-done-remember")],
            link: Some(("/login".into(), tr.t("act-go-login"))),
        },
    )
}
