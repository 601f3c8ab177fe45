//! Changing the password: current password and the new one typed twice, then a second
//! factor, then the change (the engine checks everything again, stores it and sends the
//! email notice).
//!
//! The passwords have to wait for the code. They are kept in the journey's server-side
//! state only sealed (AES-256-GCM, key derived from the key-encryption key, bound to the
//! journey id), so the ephemeral store (Redis) never holds them in clear, and the journey
//! is deleted as soon as it ends.

use super::factor::{self, Checked, SecondFactor};
use super::{actor, done_page, finish, form_page, owned_by, start_again};
use crate::core::account::{EmailNotice, NewPassword, PasswordChangeResult};
use crate::core::citizen::CitizenId;
use crate::core::credentials::{PasswordContext, check, rules_description};
use crate::web::auth::SignedIn;
use crate::web::client::ClientInfo;
use crate::web::error::PageError;
use crate::web::flow::{self, Flow};
use crate::web::i18n::Tr;
use crate::web::pages::{check_csrf, see_other};
use crate::web::state::AppState;
use askama::Template;
use axum::extract::{Extension, Form, State};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use serde::{Deserialize, Serialize};

const KIND: &str = "account-password";
/// The OTP purpose of the code confirming a password change.
pub const PURPOSE: &str = "password_change";

/// The journey: whose it is, the sealed passwords and the factor awaited.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Journey {
    citizen: CitizenId,
    sealed: Vec<u8>,
    factor: SecondFactor,
}

/// What is sealed.
#[derive(Serialize, Deserialize)]
struct Passwords {
    current: String,
    new: String,
}

fn seal_context(flow_id: &str) -> String {
    format!("password-change|{flow_id}")
}

#[derive(Template)]
#[template(path = "account/password.html")]
struct PasswordPage<'a> {
    tr: &'a Tr,
    csrf: String,
    rules: Vec<String>,
    errors: Vec<String>,
}

#[derive(Template)]
#[template(path = "account/code.html")]
pub(super) struct CodePage<'a> {
    pub tr: &'a Tr,
    pub csrf: String,
    pub title: String,
    pub prompt: String,
    pub action: &'static str,
    pub sms_action: Option<&'static str>,
    pub error: Option<String>,
    pub cancel: &'static str,
}

/// The password form.
#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirm: String,
}

/// A code form.
#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub code: String,
}

/// A form with nothing but the token.
#[derive(Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    pub csrf: String,
}

fn password_page(
    state: &AppState,
    tr: Tr,
    jar: CookieJar,
    client: &ClientInfo,
    errors: Vec<String>,
) -> Result<Response, PageError> {
    let rules = rules_description(state.config.credentials.password_policy, tr.language());
    form_page(tr, jar, client, |csrf| PasswordPage {
        tr: &tr,
        csrf,
        rules,
        errors,
    })
}

/// `GET /account/password`.
pub async fn form(
    State(state): State<AppState>,
    tr: Tr,
    jar: CookieJar,
    Extension(client): Extension<ClientInfo>,
    _signed: SignedIn,
) -> Response {
    finish(tr, password_page(&state, tr, jar, &client, Vec::new()))
}

/// `POST /account/password`: checks the current password (a wrong one counts as a failed
/// login) and the new one, then asks for the second factor.
pub async fn submit(
    State(state): State<AppState>,
    tr: Tr,
    jar: CookieJar,
    Extension(client): Extension<ClientInfo>,
    signed: SignedIn,
    Form(f): Form<PasswordForm>,
) -> Response {
    finish(tr, submit_inner(&state, tr, jar, &client, &signed, f).await)
}

async fn submit_inner(
    state: &AppState,
    tr: Tr,
    jar: CookieJar,
    client: &ClientInfo,
    signed: &SignedIn,
    f: PasswordForm,
) -> Result<Response, PageError> {
    check_csrf(&jar, client, &f.csrf)?;
    let citizen = &signed.citizen;
    if !state
        .engine
        .confirm_current_password(
            citizen.id,
            &f.current_password,
            &state.hasher,
            PURPOSE,
            &actor(client),
        )
        .await?
    {
        let errors = vec![tr.t("account-wrong-current-password")];
        return password_page(state, tr, jar, client, errors);
    }
    if f.password != f.password_confirm {
        let errors = vec![tr.t("account-password-mismatch")];
        return password_page(state, tr, jar, client, errors);
    }
    let preset = state.config.credentials.password_policy;
    if let Err(violations) = check(preset, &f.password, &PasswordContext::from_citizen(citizen)) {
        let errors = violations
            .iter()
            .map(|v| v.message(tr.language()))
            .collect();
        return password_page(state, tr, jar, client, errors);
    }
    let (jar, mut flow) = flow::start(
        state,
        jar,
        client.https,
        KIND,
        Journey {
            citizen: citizen.id,
            sealed: Vec::new(),
            factor: SecondFactor::default(),
        },
    )
    .await?;
    let passwords = Passwords {
        current: f.current_password,
        new: f.password,
    };
    let plain = serde_json::to_vec(&passwords)
        .map_err(|e| PageError::Unavailable(format!("password journey: {e}")))?;
    flow.data.sealed = state.engine.secrets.seal(&seal_context(&flow.id), &plain)?;
    match factor::begin(state, &tr, citizen, PURPOSE, &flow.id).await? {
        Ok(f) => flow.data.factor = f,
        Err(message) => {
            let jar = flow::end(state, jar, client.https, KIND, &flow).await?;
            return password_page(state, tr, jar, client, vec![message]);
        }
    }
    flow::save(state, KIND, &flow).await?;
    Ok((jar, see_other("/account/password/code")).into_response())
}

/// The signed-in citizen's journey, if the browser has one.
async fn journey(
    state: &AppState,
    jar: &CookieJar,
    client: &ClientInfo,
    signed: &SignedIn,
) -> Result<Option<Flow<Journey>>, PageError> {
    Ok(flow::load::<Journey>(state, jar, client.https, KIND)
        .await?
        .filter(|f| owned_by(signed, f.data.citizen)))
}

fn code_page(
    tr: Tr,
    jar: CookieJar,
    client: &ClientInfo,
    signed: &SignedIn,
    factor: &SecondFactor,
    error: Option<String>,
) -> Result<Response, PageError> {
    form_page(tr, jar, client, |csrf| CodePage {
        tr: &tr,
        csrf,
        title: tr.t("account-password-title"),
        prompt: factor::prompt(&tr, factor, &signed.citizen),
        action: "/account/password/code",
        sms_action: factor.totp.then_some("/account/password/sms"),
        error,
        cancel: "/account",
    })
}

/// `GET /account/password/code`.
pub async fn code_form(
    State(state): State<AppState>,
    tr: Tr,
    jar: CookieJar,
    Extension(client): Extension<ClientInfo>,
    signed: SignedIn,
) -> Response {
    let result = async {
        let Some(flow) = journey(&state, &jar, &client, &signed).await? else {
            return Ok(start_again("/account/password"));
        };
        code_page(tr, jar, &client, &signed, &flow.data.factor, None)
    }
    .await;
    finish(tr, result)
}

/// `POST /account/password/sms`: an SMS code instead of the TOTP code.
pub async fn use_sms(
    State(state): State<AppState>,
    tr: Tr,
    jar: CookieJar,
    Extension(client): Extension<ClientInfo>,
    signed: SignedIn,
    Form(f): Form<TokenForm>,
) -> Response {
    let result = async {
        check_csrf(&jar, &client, &f.csrf)?;
        let Some(mut flow) = journey(&state, &jar, &client, &signed).await? else {
            return Ok(start_again("/account/password"));
        };
        match factor::send_sms(&state, &tr, &signed.citizen, PURPOSE, &flow.id).await? {
            Ok(f) => {
                flow.data.factor = f;
                flow::save(&state, KIND, &flow).await?;
                Ok(see_other("/account/password/code"))
            }
            Err(message) => code_page(tr, jar, &client, &signed, &flow.data.factor, Some(message)),
        }
    }
    .await;
    finish(tr, result)
}

/// `POST /account/password/code`: the code, then the change.
pub async fn code_submit(
    State(state): State<AppState>,
    tr: Tr,
    jar: CookieJar,
    Extension(client): Extension<ClientInfo>,
    signed: SignedIn,
    Form(f): Form<CodeForm>,
) -> Response {
    finish(
        tr,
        code_submit_inner(&state, tr, jar, &client, &signed, f).await,
    )
}

async fn code_submit_inner(
    state: &AppState,
    tr: Tr,
    jar: CookieJar,
    client: &ClientInfo,
    signed: &SignedIn,
    f: CodeForm,
) -> Result<Response, PageError> {
    check_csrf(&jar, client, &f.csrf)?;
    let Some(flow) = journey(state, &jar, client, signed).await? else {
        return Ok(start_again("/account/password"));
    };
    let citizen = &signed.citizen;
    let actor = actor(client);
    match factor::check(
        state,
        &tr,
        &flow.data.factor,
        citizen,
        &flow.id,
        &f.code,
        &actor,
    )
    .await?
    {
        Checked::Passed => {}
        Checked::Wrong(message) => {
            return code_page(tr, jar, client, signed, &flow.data.factor, Some(message));
        }
        Checked::Over(message) => {
            let jar = flow::end(state, jar, client.https, KIND, &flow).await?;
            return password_page(state, tr, jar, client, vec![message]);
        }
    }
    let jar = flow::end(state, jar, client.https, KIND, &flow).await?;
    let plain = state
        .engine
        .secrets
        .open(&seal_context(&flow.id), &flow.data.sealed)?;
    let passwords: Passwords = serde_json::from_slice(&plain)
        .map_err(|e| PageError::Unavailable(format!("password journey: {e}")))?;
    let result = state
        .engine
        .change_password(
            citizen.id,
            &passwords.current,
            NewPassword {
                password: &passwords.new,
                confirmation: &passwords.new,
                preset: state.config.credentials.password_policy,
                hasher: &state.hasher,
            },
            EmailNotice {
                email: state.email.as_ref(),
                lang: tr.language(),
            },
            &actor,
        )
        .await?;
    let errors = match result {
        PasswordChangeResult::Changed => {
            return Ok((jar, see_other("/account/password/done")).into_response());
        }
        PasswordChangeResult::WrongCurrentPassword => vec![tr.t("account-wrong-current-password")],
        PasswordChangeResult::ConfirmationMismatch => vec![tr.t("account-password-mismatch")],
        PasswordChangeResult::Violations(v) => v.iter().map(|v| v.message(tr.language())).collect(),
    };
    password_page(state, tr, jar, client, errors)
}

/// `GET /account/password/done`.
pub async fn done(tr: Tr, _signed: SignedIn) -> Response {
    done_page(tr, "account-password-done-title", "account-password-done")
}
