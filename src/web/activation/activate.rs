//! Cl@ve permanente activation: identifier + email + activation code, then the security
//! policy. The SMS code and password steps are in [`super::journey`].

use super::journey::{Journey, Kind, Step, require, send_code};
use super::{Page, actor, csrf_token, finish, message_page, respond};
use crate::core::activation_check::CodeCheck;
use crate::core::citizen::CitizenStatus;
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

/// What an activation-code check that did not succeed says, shared with recovery.
pub(super) fn code_refusal(tr: &Tr, state: &AppState, check: &CodeCheck) -> String {
    match check {
        // The engine does not say how many attempts are left (that would tell whether the
        // identifier is registered), so the page states the rule instead.
        CodeCheck::Mismatch | CodeCheck::Valid(_) => tr.t1(
            "act-code-mismatch",
            "max",
            &state.engine.citizens.max_code_failures.to_string(),
        ),
        CodeCheck::Blocked => tr.t("act-code-blocked"),
        CodeCheck::Expired => tr.t("act-code-expired"),
        CodeCheck::NoCode => tr.t("act-code-none"),
    }
}

#[derive(Template)]
#[template(path = "activation/activate.html")]
struct ActivatePage<'a> {
    tr: &'a Tr,
    csrf: &'a str,
    identifier: &'a str,
    email: &'a str,
    error: Option<String>,
    attempts_rule: String,
}

fn activate_page(
    state: &AppState,
    tr: Tr,
    jar: CookieJar,
    client: &ClientInfo,
    form: &ActivateForm,
    error: Option<String>,
) -> Result<Response, PageError> {
    let (jar, csrf) = csrf_token(jar, client)?;
    let page = ActivatePage {
        tr: &tr,
        csrf: &csrf,
        identifier: &form.identifier,
        email: &form.email,
        error,
        attempts_rule: tr.t1(
            "act-activate-attempts-rule",
            "max",
            &state.engine.citizens.max_code_failures.to_string(),
        ),
    };
    Ok((jar, respond(tr, &page)).into_response())
}

/// The activation form.
#[derive(Default, Deserialize)]
#[serde(default)]
pub struct ActivateForm {
    csrf: String,
    identifier: String,
    email: String,
    code: String,
}

/// `GET /activate`.
pub async fn form(
    State(state): State<AppState>,
    tr: Tr,
    client: ClientInfo,
    jar: CookieJar,
) -> Response {
    finish(
        tr,
        activate_page(&state, tr, jar, &client, &ActivateForm::default(), None),
    )
}

/// `POST /activate`: checks identifier, email and activation code.
pub async fn submit(
    State(state): State<AppState>,
    tr: Tr,
    client: ClientInfo,
    jar: CookieJar,
    Form(form): Form<ActivateForm>,
) -> Response {
    finish(tr, submit_inner(state, tr, client, jar, form).await)
}

async fn submit_inner(
    state: AppState,
    tr: Tr,
    client: ClientInfo,
    jar: CookieJar,
    form: ActivateForm,
) -> Result<Response, PageError> {
    check_csrf(&jar, &client, &form.csrf)?;
    // A wrong email is counted as a wrong attempt by the engine, on purpose: it answers
    // exactly like a wrong code, so the email is part of the secret being guessed.
    let check = state
        .engine
        .check_activation_code(&form.identifier, &form.email, &form.code, &actor(&client))
        .await?;
    let citizen = match check {
        CodeCheck::Valid(citizen) => citizen,
        other => {
            let error = code_refusal(&tr, &state, &other);
            return activate_page(&state, tr, jar, &client, &form, Some(error));
        }
    };
    match citizen.status {
        CitizenStatus::Registered => {}
        CitizenStatus::Active => {
            let error = tr.t("act-activate-already-active");
            return activate_page(&state, tr, jar, &client, &form, Some(error));
        }
        CitizenStatus::Blocked | CitizenStatus::Deregistered => {
            let error = tr.t("act-code-none");
            return activate_page(&state, tr, jar, &client, &form, Some(error));
        }
    }
    let journey = Journey::new(citizen.id, &citizen.mobile);
    let (jar, _) = flow::start(&state, jar, client.https, Kind::Activation.flow(), journey).await?;
    Ok((jar, see_other("/activate/policy")).into_response())
}

#[derive(Template)]
#[template(path = "activation/policy.html")]
struct PolicyPage<'a> {
    tr: &'a Tr,
    csrf: &'a str,
    version: &'a str,
    mobile: &'a str,
    error: Option<String>,
}

fn policy_page(
    state: &AppState,
    tr: Tr,
    jar: CookieJar,
    client: &ClientInfo,
    mobile: &str,
    error: Option<String>,
) -> Result<Response, PageError> {
    let (jar, csrf) = csrf_token(jar, client)?;
    let page = PolicyPage {
        tr: &tr,
        csrf: &csrf,
        version: &state.config.citizens.security_policy_version,
        mobile,
        error,
    };
    Ok((jar, respond(tr, &page)).into_response())
}

/// `GET /activate/policy`: the security policy, after a valid activation code.
pub async fn policy(
    State(state): State<AppState>,
    tr: Tr,
    client: ClientInfo,
    jar: CookieJar,
) -> Response {
    let result = async {
        let f = match require(&state, &jar, &client, Kind::Activation, Step::CodeChecked).await? {
            Ok(f) => f,
            Err(redirect) => return Ok(redirect),
        };
        policy_page(&state, tr, jar, &client, &f.data.mobile, None)
    };
    finish(tr, result.await)
}

/// The acceptance form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AcceptForm {
    csrf: String,
    accept: String,
}

/// `POST /activate/policy`: records the acceptance and sends the SMS code.
pub async fn accept(
    State(state): State<AppState>,
    tr: Tr,
    client: ClientInfo,
    jar: CookieJar,
    Form(form): Form<AcceptForm>,
) -> Response {
    let result = async {
        check_csrf(&jar, &client, &form.csrf)?;
        let mut f =
            match require(&state, &jar, &client, Kind::Activation, Step::CodeChecked).await? {
                Ok(f) => f,
                Err(redirect) => return Ok(redirect),
            };
        if form.accept != "yes" {
            let error = tr.t("act-policy-must-accept");
            return policy_page(&state, tr, jar, &client, &f.data.mobile, Some(error));
        }
        state
            .engine
            .accept_security_policy(
                f.data.citizen,
                &state.config.citizens.security_policy_version,
                &actor(&client),
            )
            .await?;
        send_code(&state, tr, Kind::Activation, &mut f).await?;
        flow::save(&state, Kind::Activation.flow(), &f).await?;
        Ok(see_other("/activate/code"))
    };
    finish(tr, result.await)
}

/// `GET /activate/done`: the account is active.
pub async fn done(tr: Tr) -> Response {
    message_page(
        tr,
        Page {
            title: tr.t("act-done-title"),
            alert: None,
            text: vec![tr.t("act-done-text"), tr.t("act-done-remember")],
            link: Some(("/login".into(), tr.t("act-go-login"))),
        },
    )
}
