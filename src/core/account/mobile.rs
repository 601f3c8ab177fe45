//! Changing the mobile number: re-authenticated citizen, a code sent to the new number, a
//! notice to the old one.

use super::notices::Notice;
use crate::core::CoreError;
use crate::core::audit::Outcome;
use crate::core::citizen::{Citizen, CitizenId, CitizenStatus, normalise_mobile};
use crate::core::credentials::Lang;
use crate::core::engine::{Actor, Engine};
use crate::core::notify::{SmsGateway, mask_phone};
use crate::core::otp::{OtpOutcome, OtpSender, SendRefusal};
use serde_json::json;

/// The OTP purpose of a mobile-number change.
pub const PURPOSE_MOBILE_CHANGE: &str = "mobile_change";

/// The citizen's answer to a mobile-change challenge.
#[derive(Debug, Clone, Copy)]
pub struct ChallengeAnswer<'a> {
    /// The challenge id returned by [`Engine::start_mobile_change`].
    pub id: &'a str,
    /// The journey the challenge was started for.
    pub journey: &'a str,
    /// The code the citizen typed.
    pub code: &'a str,
}

/// Why a mobile change was refused; each is shown to the citizen as such.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MobileChangeRefusal {
    /// Not a mobile number; the text says why.
    InvalidNumber(String),
    /// The new number is the one already on file.
    SameNumber,
    /// The code could not be sent.
    Send(SendRefusal),
    /// The code was not accepted (wrong, exhausted or expired).
    Code(OtpOutcome),
}

/// Binds the challenge to the new number too, so a code sent to one number cannot confirm a
/// change to another.
fn mobile_journey(journey: &str, number: &str) -> String {
    format!("{journey}|mobile:{number}")
}

impl Engine {
    /// Starts changing the mobile number of an `active` account (the caller has
    /// re-authenticated the citizen): validates the new number and sends a code to it.
    /// Returns the challenge id for [`Engine::confirm_mobile_change`].
    pub async fn start_mobile_change(
        &self,
        citizen_id: CitizenId,
        new_number_raw: &str,
        default_region: &str,
        sender: OtpSender<'_>,
        journey: &str,
    ) -> Result<Result<String, MobileChangeRefusal>, CoreError> {
        let citizen = self.account(citizen_id).await?;
        Self::require_status(&citizen, CitizenStatus::Active)?;
        let number = match normalise_mobile(new_number_raw, default_region) {
            Ok(n) => n,
            Err(why) => return Ok(Err(MobileChangeRefusal::InvalidNumber(why))),
        };
        if number == citizen.mobile {
            return Ok(Err(MobileChangeRefusal::SameNumber));
        }
        let journey = mobile_journey(journey, &number);
        Ok(self
            .issue_sms_challenge(citizen_id, PURPOSE_MOBILE_CHANGE, &journey, &number, sender)
            .await?
            .map_err(MobileChangeRefusal::Send))
    }

    /// Confirms a mobile change with the code sent to `new_number` (as given to
    /// [`Engine::start_mobile_change`]), stores the new number and tells the old one by SMS.
    /// Audited as `citizen.mobile_changed` with both numbers masked.
    pub async fn confirm_mobile_change(
        &self,
        citizen_id: CitizenId,
        answer: ChallengeAnswer<'_>,
        new_number: &str,
        sender: OtpSender<'_>,
        default_region: &str,
        actor: &Actor,
    ) -> Result<Result<Citizen, MobileChangeRefusal>, CoreError> {
        let mut citizen = self.account(citizen_id).await?;
        Self::require_status(&citizen, CitizenStatus::Active)?;
        let number = match normalise_mobile(new_number, default_region) {
            Ok(n) => n,
            Err(why) => return Ok(Err(MobileChangeRefusal::InvalidNumber(why))),
        };
        let journey = mobile_journey(answer.journey, &number);
        match self
            .verify_sms_challenge(answer.id, &journey, answer.code, sender.policy)
            .await?
        {
            OtpOutcome::Verified(id) if id == citizen_id => {}
            // Someone else's challenge: as good as none.
            OtpOutcome::Verified(_) => {
                return Ok(Err(MobileChangeRefusal::Code(OtpOutcome::Expired)));
            }
            other => return Ok(Err(MobileChangeRefusal::Code(other))),
        }
        let old = std::mem::replace(&mut citizen.mobile, number);
        citizen.updated_at = self.clock.now();
        self.store.update_citizen(&citizen).await?;
        let notified = notify_old_number(sender.sms, &old, sender.lang).await;
        self.audit(
            self.event(actor, "citizen.mobile_changed")
                .citizen(citizen_id)
                .outcome(Outcome::Success)
                .detail(json!({
                    "from": mask_phone(&old),
                    "to": mask_phone(&citizen.mobile),
                    "old_number_notified": notified,
                })),
        )
        .await?;
        Ok(Ok(citizen))
    }
}

/// Tells the old number that the mobile changed, so a hijacked account is noticed. A failure
/// is logged and reported, not raised: the change is already stored.
async fn notify_old_number(sms: &dyn SmsGateway, old: &str, lang: Lang) -> bool {
    match sms.send(old, &Notice::MobileChanged.sms(lang)).await {
        Ok(()) => true,
        Err(e) => {
            tracing::warn!(to = %mask_phone(old), error = %e, "mobile-change notice not sent");
            false
        }
    }
}
