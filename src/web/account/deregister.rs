//! Deregistration (baja): the consequences explained and confirmed with a checkbox, then a
//! second factor, then the engine deregisters (final: every session ends, the account can
//! never log in again) and this browser's session cookie is cleared.

use super::factor::{self, Checked, SecondFactor};
use super::password::{CodeForm, CodePage, TokenForm};
use super::{actor, done_page, finish, form_page, owned_by, start_again};
use crate::core::account::EmailNotice;
use crate::core::citizen::CitizenId;
use crate::core::session::SessionCookie;
use crate::web::auth::SignedIn;
use crate::web::client::ClientInfo;
use crate::web::error::PageError;
use crate::web::flow::{self, Flow};
use crate::web::i18n::Tr;
use crate::web::pages::{check_csrf, see_other};
use crate::web::state::AppState;
use askama::Template;
use axum::extract::{Extension, Form, State};
use axum::http::header;
use axum::response::{AppendHeaders, IntoResponse, Response};
use axum_extra::extract::CookieJar;
use serde::{Deserialize, Serialize};

const KIND: &str = "account-deregister";
/// The OTP purpose of the code confirming a deregistration.
pub const PURPOSE: &str = "deregister";

/// The journey: whose it is and the factor awaited.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Journey {
    citizen: CitizenId,
    factor: SecondFactor,
}

#[derive(Template)]
#[template(path = "account/deregister.html")]
struct DeregisterPage<'a> {
    tr: &'a Tr,
    csrf: String,
    error: Option<String>,
}

/// The confirmation form.
#[derive(Deserialize)]
pub struct DeregisterForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    confirm: String,
}

fn deregister_page(
    tr: Tr,
    jar: CookieJar,
    client: &ClientInfo,
    error: Option<String>,
) -> Result<Response, PageError> {
    form_page(tr, jar, client, |csrf| DeregisterPage {
        tr: &tr,
        csrf,
        error,
    })
}

/// `GET /account/deregister`.
pub async fn form(
    tr: Tr,
    jar: CookieJar,
    Extension(client): Extension<ClientInfo>,
    _signed: SignedIn,
) -> Response {
    finish(tr, deregister_page(tr, jar, &client, None))
}

/// `POST /account/deregister`: the confirmed intent; asks for the second factor.
pub async fn submit(
    State(state): State<AppState>,
    tr: Tr,
    jar: CookieJar,
    Extension(client): Extension<ClientInfo>,
    signed: SignedIn,
    Form(f): Form<DeregisterForm>,
) -> Response {
    let result = async {
        check_csrf(&jar, &client, &f.csrf)?;
        if f.confirm != "yes" {
            let error = Some(tr.t("account-deregister-confirm-missing"));
            return deregister_page(tr, jar, &client, error);
        }
        let (jar, mut flow) = flow::start(
            &state,
            jar,
            client.https,
            KIND,
            Journey {
                citizen: signed.citizen.id,
                factor: SecondFactor::default(),
            },
        )
        .await?;
        match factor::begin(&state, &tr, &signed.citizen, PURPOSE, &flow.id).await? {
            Ok(f) => {
                flow.data.factor = f;
                flow::save(&state, KIND, &flow).await?;
                Ok((jar, see_other("/account/deregister/code")).into_response())
            }
            Err(message) => {
                let jar = flow::end(&state, jar, client.https, KIND, &flow).await?;
                deregister_page(tr, jar, &client, Some(message))
            }
        }
    }
    .await;
    finish(tr, result)
}

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
        title: tr.t("account-deregister-title"),
        prompt: factor::prompt(&tr, factor, &signed.citizen),
        action: "/account/deregister/code",
        sms_action: factor.totp.then_some("/account/deregister/sms"),
        error,
        cancel: "/account",
    })
}

/// `GET /account/deregister/code`.
pub async fn code_form(
    State(state): State<AppState>,
    tr: Tr,
    jar: CookieJar,
    Extension(client): Extension<ClientInfo>,
    signed: SignedIn,
) -> Response {
    let result = async {
        let Some(flow) = journey(&state, &jar, &client, &signed).await? else {
            return Ok(start_again("/account/deregister"));
        };
        code_page(tr, jar, &client, &signed, &flow.data.factor, None)
    }
    .await;
    finish(tr, result)
}

/// `POST /account/deregister/sms`: an SMS code instead of the TOTP code.
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
            return Ok(start_again("/account/deregister"));
        };
        match factor::send_sms(&state, &tr, &signed.citizen, PURPOSE, &flow.id).await? {
            Ok(f) => {
                flow.data.factor = f;
                flow::save(&state, KIND, &flow).await?;
                Ok(see_other("/account/deregister/code"))
            }
            Err(message) => code_page(tr, jar, &client, &signed, &flow.data.factor, Some(message)),
        }
    }
    .await;
    finish(tr, result)
}

/// `POST /account/deregister/code`: the code, then the deregistration.
pub async fn code_submit(
    State(state): State<AppState>,
    tr: Tr,
    jar: CookieJar,
    Extension(client): Extension<ClientInfo>,
    signed: SignedIn,
    Form(f): Form<CodeForm>,
) -> Response {
    let result = async {
        check_csrf(&jar, &client, &f.csrf)?;
        let Some(flow) = journey(&state, &jar, &client, &signed).await? else {
            return Ok(start_again("/account/deregister"));
        };
        let actor = actor(&client);
        let checked = factor::check(
            &state,
            &tr,
            &flow.data.factor,
            &signed.citizen,
            &flow.id,
            &f.code,
            &actor,
        )
        .await?;
        match checked {
            Checked::Passed => {}
            Checked::Wrong(message) => {
                return code_page(tr, jar, &client, &signed, &flow.data.factor, Some(message));
            }
            Checked::Over(message) => {
                let jar = flow::end(&state, jar, client.https, KIND, &flow).await?;
                return deregister_page(tr, jar, &client, Some(message));
            }
        }
        let jar = flow::end(&state, jar, client.https, KIND, &flow).await?;
        state
            .engine
            .deregister(
                signed.citizen.id,
                EmailNotice {
                    email: state.email.as_ref(),
                    lang: tr.language(),
                },
                &actor,
            )
            .await?;
        let clear = SessionCookie::clear_cookie(client.https);
        Ok((
            jar,
            AppendHeaders([(header::SET_COOKIE, clear)]),
            see_other("/account/deregistered"),
        )
            .into_response())
    }
    .await;
    finish(tr, result)
}

/// `GET /account/deregistered`: no session needed (there is no account any more).
pub async fn deregistered(tr: Tr) -> Response {
    done_page(tr, "account-deregistered-title", "account-deregistered")
}
