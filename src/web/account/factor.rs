//! The second factor a sensitive operation asks for: a TOTP code when the citizen has one
//! (with a way to get an SMS code instead), otherwise an SMS code to the registered mobile,
//! bound to the operation's journey id so it cannot confirm anything else.

use super::super::error::PageError;
use super::super::i18n::Tr;
use super::super::state::AppState;
use crate::core::citizen::Citizen;
use crate::core::engine::Actor;
use crate::core::notify::mask_phone;
use crate::core::otp::{OtpOutcome, SendRefusal};
use serde::{Deserialize, Serialize};

/// Which factor the journey waits for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecondFactor {
    /// A TOTP code from the enrolled app.
    pub totp: bool,
    /// The SMS challenge id, when an SMS code was sent.
    pub challenge: Option<String>,
}

/// What checking the typed code came to.
pub enum Checked {
    /// The right code.
    Passed,
    /// Wrong; the message says so (and how many tries remain).
    Wrong(String),
    /// The challenge is over (too many wrong codes, expired): start the operation again.
    Over(String),
}

/// The message for a code that could not be sent.
pub fn send_refusal(tr: &Tr, refusal: &SendRefusal) -> String {
    match refusal {
        SendRefusal::TooSoon(secs) => tr.t1("account-sms-too-soon", "seconds", &secs.to_string()),
        SendRefusal::TooManySends => tr.t("account-sms-too-many"),
        SendRefusal::Gateway(_) => tr.t("account-sms-failed"),
    }
}

/// Sends an SMS code to the citizen's mobile for `purpose`, bound to `journey`.
pub async fn send_sms(
    state: &AppState,
    tr: &Tr,
    citizen: &Citizen,
    purpose: &str,
    journey: &str,
) -> Result<Result<SecondFactor, String>, PageError> {
    let sent = state
        .engine
        .issue_sms_challenge(
            citizen.id,
            purpose,
            journey,
            &citizen.mobile,
            state.otp_sender(tr.language()),
        )
        .await?;
    Ok(match sent {
        Ok(id) => Ok(SecondFactor {
            totp: false,
            challenge: Some(id),
        }),
        Err(refusal) => Err(send_refusal(tr, &refusal)),
    })
}

/// Chooses the factor for a new journey: TOTP when enrolled (nothing is sent), otherwise
/// an SMS code.
pub async fn begin(
    state: &AppState,
    tr: &Tr,
    citizen: &Citizen,
    purpose: &str,
    journey: &str,
) -> Result<Result<SecondFactor, String>, PageError> {
    if state.engine.has_totp(citizen.id).await? {
        return Ok(Ok(SecondFactor {
            totp: true,
            challenge: None,
        }));
    }
    send_sms(state, tr, citizen, purpose, journey).await
}

/// What the code page tells the citizen about where the code is.
pub fn prompt(tr: &Tr, factor: &SecondFactor, citizen: &Citizen) -> String {
    if factor.totp {
        tr.t("account-code-prompt-totp")
    } else {
        tr.t1(
            "account-code-prompt-sms",
            "number",
            &mask_phone(&citizen.mobile),
        )
    }
}

/// Checks the typed code against the journey's factor.
pub async fn check(
    state: &AppState,
    tr: &Tr,
    factor: &SecondFactor,
    citizen: &Citizen,
    journey: &str,
    code: &str,
    actor: &Actor,
) -> Result<Checked, PageError> {
    if factor.totp {
        return Ok(
            if state.engine.verify_totp(citizen.id, code, actor).await? {
                Checked::Passed
            } else {
                Checked::Wrong(tr.t("account-code-wrong"))
            },
        );
    }
    let Some(challenge) = &factor.challenge else {
        return Ok(Checked::Over(tr.t("account-code-expired")));
    };
    let outcome = state
        .engine
        .verify_sms_challenge(challenge, journey, code, &state.config.otp)
        .await?;
    Ok(match outcome {
        OtpOutcome::Verified(id) if id == citizen.id => Checked::Passed,
        OtpOutcome::Verified(_) | OtpOutcome::Expired => {
            Checked::Over(tr.t("account-code-expired"))
        }
        OtpOutcome::Exhausted => Checked::Over(tr.t("account-code-exhausted")),
        OtpOutcome::Wrong { remaining } => Checked::Wrong(tr.t1(
            "account-code-wrong-remaining",
            "remaining",
            &remaining.to_string(),
        )),
    })
}
