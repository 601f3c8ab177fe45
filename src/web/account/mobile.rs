//! Changing the mobile number: the current password and the new number, then the code sent
//! to the new number (proving the citizen holds it), then the change; the engine tells the
//! old number.

use super::password::{CodeForm, CodePage};
use super::{actor, done_page, finish, form_page, owned_by, start_again};
use crate::core::account::{ChallengeAnswer, MobileChangeRefusal, PURPOSE_MOBILE_CHANGE};
use crate::core::citizen::{CitizenId, normalise_mobile};
use crate::core::notify::mask_phone;
use crate::core::otp::OtpOutcome;
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

const KIND: &str = "account-mobile";

/// The journey: whose it is, the new number as typed and the challenge sent to it.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Journey {
    citizen: CitizenId,
    number: String,
    challenge: String,
}

#[derive(Template)]
#[template(path = "account/mobile.html")]
struct MobilePage<'a> {
    tr: &'a Tr,
    csrf: String,
    current: String,
    mobile: String,
    error: Option<String>,
}

/// The mobile form.
#[derive(Deserialize)]
pub struct MobileForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    mobile: String,
}

fn mobile_page(
    tr: Tr,
    jar: CookieJar,
    client: &ClientInfo,
    signed: &SignedIn,
    typed: &str,
    error: Option<String>,
) -> Result<Response, PageError> {
    form_page(tr, jar, client, |csrf| MobilePage {
        tr: &tr,
        csrf,
        current: mask_phone(&signed.citizen.mobile),
        mobile: typed.to_owned(),
        error,
    })
}

/// `GET /account/mobile`.
pub async fn form(
    tr: Tr,
    jar: CookieJar,
    Extension(client): Extension<ClientInfo>,
    signed: SignedIn,
) -> Response {
    finish(tr, mobile_page(tr, jar, &client, &signed, "", None))
}

fn refusal_message(tr: &Tr, refusal: &MobileChangeRefusal) -> String {
    match refusal {
        MobileChangeRefusal::InvalidNumber(_) => tr.t("account-mobile-invalid"),
        MobileChangeRefusal::SameNumber => tr.t("account-mobile-same"),
        MobileChangeRefusal::Send(r) => super::factor::send_refusal(tr, r),
        MobileChangeRefusal::Code(OtpOutcome::Wrong { remaining }) => tr.t1(
            "account-code-wrong-remaining",
            "remaining",
            &remaining.to_string(),
        ),
        MobileChangeRefusal::Code(OtpOutcome::Exhausted) => tr.t("account-code-exhausted"),
        MobileChangeRefusal::Code(_) => tr.t("account-code-expired"),
    }
}

/// `POST /account/mobile`: re-authenticates with the password and sends a code to the new
/// number.
pub async fn submit(
    State(state): State<AppState>,
    tr: Tr,
    jar: CookieJar,
    Extension(client): Extension<ClientInfo>,
    signed: SignedIn,
    Form(f): Form<MobileForm>,
) -> Response {
    let result = async {
        check_csrf(&jar, &client, &f.csrf)?;
        let citizen = &signed.citizen;
        if !state
            .engine
            .confirm_current_password(
                citizen.id,
                &f.current_password,
                &state.hasher,
                PURPOSE_MOBILE_CHANGE,
                &actor(&client),
            )
            .await?
        {
            let error = Some(tr.t("account-wrong-current-password"));
            return mobile_page(tr, jar, &client, &signed, &f.mobile, error);
        }
        // The journey id is what the code is bound to, so it exists before the code is sent.
        let (jar, mut flow) = flow::start(
            &state,
            jar,
            client.https,
            KIND,
            Journey {
                citizen: citizen.id,
                number: f.mobile.trim().to_owned(),
                challenge: String::new(),
            },
        )
        .await?;
        let started = state
            .engine
            .start_mobile_change(
                citizen.id,
                &f.mobile,
                &state.config.citizens.default_region,
                state.otp_sender(tr.language()),
                &flow.id,
            )
            .await?;
        match started {
            Ok(challenge) => {
                flow.data.challenge = challenge;
                flow::save(&state, KIND, &flow).await?;
                Ok((jar, see_other("/account/mobile/code")).into_response())
            }
            Err(refusal) => {
                let jar = flow::end(&state, jar, client.https, KIND, &flow).await?;
                let error = Some(refusal_message(&tr, &refusal));
                mobile_page(tr, jar, &client, &signed, &f.mobile, error)
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
    state: &AppState,
    tr: Tr,
    jar: CookieJar,
    client: &ClientInfo,
    number: &str,
    error: Option<String>,
) -> Result<Response, PageError> {
    let shown = normalise_mobile(number, &state.config.citizens.default_region)
        .map(|n| mask_phone(&n))
        .unwrap_or_default();
    form_page(tr, jar, client, |csrf| CodePage {
        tr: &tr,
        csrf,
        title: tr.t("account-mobile-title"),
        prompt: tr.t1("account-code-prompt-sms", "number", &shown),
        action: "/account/mobile/code",
        sms_action: None,
        error,
        cancel: "/account",
    })
}

/// `GET /account/mobile/code`.
pub async fn code_form(
    State(state): State<AppState>,
    tr: Tr,
    jar: CookieJar,
    Extension(client): Extension<ClientInfo>,
    signed: SignedIn,
) -> Response {
    let result = async {
        let Some(flow) = journey(&state, &jar, &client, &signed).await? else {
            return Ok(start_again("/account/mobile"));
        };
        code_page(&state, tr, jar, &client, &flow.data.number, None)
    }
    .await;
    finish(tr, result)
}

/// `POST /account/mobile/code`: the code sent to the new number, then the change.
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
            return Ok(start_again("/account/mobile"));
        };
        let confirmed = state
            .engine
            .confirm_mobile_change(
                signed.citizen.id,
                ChallengeAnswer {
                    id: &flow.data.challenge,
                    journey: &flow.id,
                    code: &f.code,
                },
                &flow.data.number,
                state.otp_sender(tr.language()),
                &state.config.citizens.default_region,
                &actor(&client),
            )
            .await?;
        match confirmed {
            Ok(_) => {
                let jar = flow::end(&state, jar, client.https, KIND, &flow).await?;
                Ok((jar, see_other("/account/mobile/done")).into_response())
            }
            Err(refusal @ MobileChangeRefusal::Code(OtpOutcome::Wrong { .. })) => {
                let error = Some(refusal_message(&tr, &refusal));
                code_page(&state, tr, jar, &client, &flow.data.number, error)
            }
            Err(refusal) => {
                let jar = flow::end(&state, jar, client.https, KIND, &flow).await?;
                let error = Some(refusal_message(&tr, &refusal));
                mobile_page(tr, jar, &client, &signed, "", error)
            }
        }
    }
    .await;
    finish(tr, result)
}

/// `GET /account/mobile/done`.
pub async fn done(tr: Tr, _signed: SignedIn) -> Response {
    done_page(tr, "account-mobile-done-title", "account-mobile-done")
}
