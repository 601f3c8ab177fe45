//! The steps activation and recovery share: the SMS one-time code (with resend) and the new
//! password. The journey state records what the citizen has proven so far, so no step can be
//! reached before the ones it depends on.

use super::{Page, actor, csrf_token, message_page, respond};
use crate::core::audit::Outcome;
use crate::core::citizen::CitizenId;
use crate::core::credentials::rules_description;
use crate::core::otp::{OtpOutcome, SendRefusal};
use crate::web::client::ClientInfo;
use crate::web::error::PageError;
use crate::web::flow::{self, Flow};
use crate::web::i18n::Tr;
use crate::web::pages::{check_csrf, see_other};
use crate::web::state::AppState;
use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// Which journey: both share the SMS and password steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Cl@ve permanente activation.
    Activation,
    /// Forgotten password.
    Recovery,
}

impl Kind {
    /// The journey kind (cookie and store key).
    pub fn flow(self) -> &'static str {
        match self {
            Self::Activation => "activation",
            Self::Recovery => "recovery",
        }
    }

    /// Path of the first page; the other pages hang below it.
    pub fn base(self) -> &'static str {
        match self {
            Self::Activation => "/activate",
            Self::Recovery => "/recover",
        }
    }

    /// Purpose of the SMS challenge.
    fn purpose(self) -> &'static str {
        self.flow()
    }

    /// The page where a journey at `step` continues.
    fn page(self, step: Step) -> String {
        match (self, step) {
            (Self::Activation, Step::CodeChecked) => "/activate/policy".into(),
            (Self::Recovery, Step::CodeChecked) => "/recover".into(),
            (_, Step::SmsPending) => format!("{}/code", self.base()),
            (_, Step::SmsVerified) => format!("{}/password", self.base()),
        }
    }
}

/// What the citizen has proven so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Step {
    /// Identifier (+ email) + activation code are right.
    CodeChecked,
    /// An SMS code is on its way (or could not be sent and may be asked for again).
    SmsPending,
    /// The SMS code was right: the new password may be set.
    SmsVerified,
}

/// A message for the SMS page, kept in the journey across a redirect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Note {
    /// A (new) code was sent.
    Sent,
    /// The gateway failed.
    SendFailed,
    /// Wait this many seconds before another code.
    TooSoon(i64),
    /// No more codes for this journey.
    TooManySends,
}

impl Note {
    fn from_refusal(r: &SendRefusal) -> Self {
        match r {
            SendRefusal::TooSoon(s) => Self::TooSoon(*s),
            SendRefusal::TooManySends => Self::TooManySends,
            SendRefusal::Gateway(_) => Self::SendFailed,
        }
    }

    fn text(self, tr: &Tr) -> String {
        match self {
            Self::Sent => tr.t("act-sms-sent"),
            Self::SendFailed => tr.t("act-sms-send-failed"),
            Self::TooSoon(s) => tr.t1("act-sms-too-soon", "seconds", &s.max(1).to_string()),
            Self::TooManySends => tr.t("act-sms-too-many-sends"),
        }
    }
}

/// The server-side state of an activation or recovery journey.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Journey {
    /// Whose account.
    pub citizen: CitizenId,
    /// The registered mobile, masked, to show where codes go.
    pub mobile: String,
    /// What has been proven.
    pub step: Step,
    /// The SMS challenge, once one was sent.
    pub challenge: Option<String>,
    /// A message to show on the next SMS page.
    pub note: Option<Note>,
}

impl Journey {
    /// A journey whose activation code was just accepted.
    pub fn new(citizen: CitizenId, mobile: &str) -> Self {
        Self {
            citizen,
            mobile: crate::core::notify::mask_phone(mobile),
            step: Step::CodeChecked,
            challenge: None,
            note: None,
        }
    }
}

/// The browser's journey of `kind` if it is exactly at `step`; otherwise the redirect to
/// where it stands (or to the start), so that no step can be skipped.
pub async fn require(
    state: &AppState,
    jar: &CookieJar,
    client: &ClientInfo,
    kind: Kind,
    step: Step,
) -> Result<Result<Flow<Journey>, Response>, PageError> {
    let Some(f) = flow::load::<Journey>(state, jar, client.https, kind.flow()).await? else {
        return Ok(Err(see_other(kind.base())));
    };
    if f.data.step == step {
        Ok(Ok(f))
    } else {
        Ok(Err(see_other(&kind.page(f.data.step))))
    }
}

/// Sends an SMS code to the citizen's registered mobile: a new challenge bound to this
/// journey, or a new code for the current one. Moves the journey to [`Step::SmsPending`] and
/// records the outcome as the note for the SMS page; the caller saves the journey.
pub async fn send_code(
    state: &AppState,
    tr: Tr,
    kind: Kind,
    f: &mut Flow<Journey>,
) -> Result<(), PageError> {
    let sender = state.otp_sender(tr.language());
    let outcome = match f.data.challenge.clone() {
        Some(id) => {
            state
                .engine
                .resend_sms_challenge(&id, &f.id, sender)
                .await?
        }
        None => {
            let citizen = state
                .engine
                .store
                .citizen(f.data.citizen)
                .await
                .map_err(crate::core::CoreError::from)?
                .ok_or(PageError::NotFound)?;
            match state
                .engine
                .issue_sms_challenge(citizen.id, kind.purpose(), &f.id, &citizen.mobile, sender)
                .await?
            {
                Ok(id) => {
                    f.data.challenge = Some(id);
                    Ok(())
                }
                Err(refusal) => Err(refusal),
            }
        }
    };
    f.data.step = Step::SmsPending;
    f.data.note = Some(match &outcome {
        Ok(()) => Note::Sent,
        Err(refusal) => Note::from_refusal(refusal),
    });
    Ok(())
}

#[derive(Template)]
#[template(path = "activation/sms_code.html")]
struct CodePage<'a> {
    tr: &'a Tr,
    csrf: &'a str,
    base: &'static str,
    mobile: &'a str,
    info: Option<String>,
    error: Option<String>,
}

async fn show_code_page(
    state: &AppState,
    tr: Tr,
    jar: CookieJar,
    client: &ClientInfo,
    kind: Kind,
    f: &mut Flow<Journey>,
    error: Option<String>,
) -> Result<Response, PageError> {
    let (mut info, mut error) = (None, error);
    if let Some(note) = f.data.note.take() {
        flow::save(state, kind.flow(), f).await?;
        if note == Note::Sent {
            info = Some(note.text(&tr));
        } else if error.is_none() {
            error = Some(note.text(&tr));
        }
    }
    let (jar, csrf) = csrf_token(jar, client)?;
    let page = CodePage {
        tr: &tr,
        csrf: &csrf,
        base: kind.base(),
        mobile: &f.data.mobile,
        info,
        error,
    };
    Ok((jar, respond(tr, &page)).into_response())
}

/// `GET …/code`: where to type the SMS code.
pub async fn code_form(
    kind: Kind,
    State(state): State<AppState>,
    tr: Tr,
    client: ClientInfo,
    jar: CookieJar,
) -> Result<Response, PageError> {
    let mut f = match require(&state, &jar, &client, kind, Step::SmsPending).await? {
        Ok(f) => f,
        Err(redirect) => return Ok(redirect),
    };
    show_code_page(&state, tr, jar, &client, kind, &mut f, None).await
}

/// The SMS code form.
// No `Debug`: it carries a secret, which must never reach a log.
#[derive(Default, Deserialize)]
#[serde(default)]
pub struct CodeForm {
    csrf: String,
    code: String,
}

/// `POST …/code`: checks the SMS code.
pub async fn code_submit(
    kind: Kind,
    State(state): State<AppState>,
    tr: Tr,
    client: ClientInfo,
    jar: CookieJar,
    Form(form): Form<CodeForm>,
) -> Result<Response, PageError> {
    check_csrf(&jar, &client, &form.csrf)?;
    let mut f = match require(&state, &jar, &client, kind, Step::SmsPending).await? {
        Ok(f) => f,
        Err(redirect) => return Ok(redirect),
    };
    let outcome = match &f.data.challenge {
        Some(id) => {
            state
                .engine
                .verify_sms_challenge(id, &f.id, &form.code, &state.config.otp)
                .await?
        }
        None => OtpOutcome::Expired,
    };
    let error = match outcome {
        OtpOutcome::Verified(who) if who == f.data.citizen => {
            f.data.step = Step::SmsVerified;
            f.data.challenge = None;
            flow::save(&state, kind.flow(), &f).await?;
            return Ok(see_other(&format!("{}/password", kind.base())));
        }
        OtpOutcome::Wrong { remaining } => {
            tr.t1("act-sms-wrong", "remaining", &remaining.to_string())
        }
        OtpOutcome::Exhausted => {
            // Someone holding the activation code but not the phone: worth an audit entry
            // (the engine records sends, not failed checks).
            state
                .engine
                .audit(
                    state
                        .engine
                        .event(&actor(&client), "otp.exhausted")
                        .citizen(f.data.citizen)
                        .outcome(Outcome::Refused)
                        .detail(json!({ "purpose": kind.purpose() })),
                )
                .await?;
            let jar = flow::end(&state, jar, client.https, kind.flow(), &f).await?;
            let page = message_page(
                tr,
                Page {
                    title: tr.t("act-sms-title"),
                    alert: Some(tr.t("act-sms-exhausted")),
                    text: Vec::new(),
                    link: Some((kind.base().to_owned(), tr.t("act-start-again"))),
                },
            );
            return Ok((jar, page).into_response());
        }
        OtpOutcome::Verified(_) | OtpOutcome::Expired => {
            f.data.challenge = None;
            flow::save(&state, kind.flow(), &f).await?;
            tr.t("act-sms-expired")
        }
    };
    show_code_page(&state, tr, jar, &client, kind, &mut f, Some(error)).await
}

/// The resend form (only the anti-forgery token).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ResendForm {
    csrf: String,
}

/// `POST …/resend`: another code, within the limits.
pub async fn resend(
    kind: Kind,
    State(state): State<AppState>,
    tr: Tr,
    client: ClientInfo,
    jar: CookieJar,
    Form(form): Form<ResendForm>,
) -> Result<Response, PageError> {
    check_csrf(&jar, &client, &form.csrf)?;
    let mut f = match require(&state, &jar, &client, kind, Step::SmsPending).await? {
        Ok(f) => f,
        Err(redirect) => return Ok(redirect),
    };
    send_code(&state, tr, kind, &mut f).await?;
    flow::save(&state, kind.flow(), &f).await?;
    Ok(see_other(&format!("{}/code", kind.base())))
}

#[derive(Template)]
#[template(path = "activation/password.html")]
struct PasswordPage<'a> {
    tr: &'a Tr,
    csrf: &'a str,
    base: &'static str,
    rules: Vec<String>,
    errors: Vec<String>,
}

fn password_page(
    state: &AppState,
    tr: Tr,
    jar: CookieJar,
    client: &ClientInfo,
    kind: Kind,
    errors: Vec<String>,
) -> Result<Response, PageError> {
    let (jar, csrf) = csrf_token(jar, client)?;
    let page = PasswordPage {
        tr: &tr,
        csrf: &csrf,
        base: kind.base(),
        rules: rules_description(state.config.credentials.password_policy, tr.language()),
        errors,
    };
    Ok((jar, respond(tr, &page)).into_response())
}

/// `GET …/password`: choose the password, with the rules.
pub async fn password_form(
    kind: Kind,
    State(state): State<AppState>,
    tr: Tr,
    client: ClientInfo,
    jar: CookieJar,
) -> Result<Response, PageError> {
    if let Err(redirect) = require(&state, &jar, &client, kind, Step::SmsVerified).await? {
        return Ok(redirect);
    }
    password_page(&state, tr, jar, &client, kind, Vec::new())
}

/// The new password, typed twice. No `Debug`: passwords never reach a log.
#[derive(Default, Deserialize)]
#[serde(default)]
pub struct PasswordForm {
    csrf: String,
    password: String,
    password_confirm: String,
}

/// `POST …/password`: activates the account or resets the password.
pub async fn password_submit(
    kind: Kind,
    State(state): State<AppState>,
    tr: Tr,
    client: ClientInfo,
    jar: CookieJar,
    Form(form): Form<PasswordForm>,
) -> Result<Response, PageError> {
    use crate::core::account::{ActivationResult, EmailNotice, NewPassword, PasswordChangeResult};
    check_csrf(&jar, &client, &form.csrf)?;
    let f = match require(&state, &jar, &client, kind, Step::SmsVerified).await? {
        Ok(f) => f,
        Err(redirect) => return Ok(redirect),
    };
    let lang = tr.language();
    let preset = state.config.credentials.password_policy;
    let who = actor(&client);
    let refused = match kind {
        Kind::Activation => {
            match state
                .engine
                .activate(
                    f.data.citizen,
                    &form.password,
                    &form.password_confirm,
                    preset,
                    &state.hasher,
                    &who,
                )
                .await?
            {
                ActivationResult::Activated(_) => None,
                ActivationResult::PolicyNotAccepted => {
                    // Cannot happen after the policy step; start again rather than guess.
                    let jar = flow::end(&state, jar, client.https, kind.flow(), &f).await?;
                    return Ok((jar, see_other(kind.base())).into_response());
                }
                ActivationResult::ConfirmationMismatch => Some(vec![tr.t("act-password-mismatch")]),
                ActivationResult::Violations(v) => {
                    Some(v.iter().map(|v| v.message(lang)).collect())
                }
            }
        }
        Kind::Recovery => {
            let new = NewPassword {
                password: &form.password,
                confirmation: &form.password_confirm,
                preset,
                hasher: &state.hasher,
            };
            let notice = EmailNotice {
                email: state.email.as_ref(),
                lang,
            };
            match state
                .engine
                .reset_password(f.data.citizen, new, notice, &who)
                .await?
            {
                PasswordChangeResult::Changed => None,
                PasswordChangeResult::ConfirmationMismatch => {
                    Some(vec![tr.t("act-password-mismatch")])
                }
                PasswordChangeResult::Violations(v) => {
                    Some(v.iter().map(|v| v.message(lang)).collect())
                }
                PasswordChangeResult::WrongCurrentPassword => {
                    return Err(PageError::BadRequest(tr.t("error-bad-request")));
                }
            }
        }
    };
    match refused {
        Some(errors) => password_page(&state, tr, jar, &client, kind, errors),
        None => {
            let jar = flow::end(&state, jar, client.https, kind.flow(), &f).await?;
            Ok((jar, see_other(&format!("{}/done", kind.base()))).into_response())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_journey_continues_where_it_stands() {
        assert_eq!(Kind::Activation.page(Step::CodeChecked), "/activate/policy");
        assert_eq!(Kind::Recovery.page(Step::CodeChecked), "/recover");
        assert_eq!(Kind::Recovery.page(Step::SmsPending), "/recover/code");
        assert_eq!(
            Kind::Activation.page(Step::SmsVerified),
            "/activate/password"
        );
        let j = Journey::new(CitizenId::new(), "+34600111222");
        assert_eq!(j.step, Step::CodeChecked);
        assert!(j.mobile.ends_with("222") && !j.mobile.contains("600"));
    }

    #[test]
    fn every_note_has_words_in_every_language() {
        for lang in crate::core::credentials::Lang::ALL {
            let tr = Tr::new(lang);
            for n in [
                Note::Sent,
                Note::SendFailed,
                Note::TooSoon(0),
                Note::TooManySends,
            ] {
                let text = n.text(&tr);
                assert!(!text.starts_with("act-"), "{lang:?} {n:?}");
            }
            assert!(Note::TooSoon(-3).text(&tr).contains('1'));
        }
    }
}
