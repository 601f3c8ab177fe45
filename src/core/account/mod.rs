//! The citizen's account lifecycle as engine operations: finishing activation, forgotten and
//! changed passwords, changing the mobile number, and deregistration (baja).
//!
//! The journeys (pages) verify what the citizen proves — activation code, SMS code, current
//! session — and call these operations, which check that the account's state allows the
//! transition, perform it, notify the citizen and audit it. Secrets (passwords, codes) never
//! reach the audit trail; numbers and addresses are recorded masked.

mod mobile;
mod notices;
#[cfg(test)]
mod tests;

use super::CoreError;
use super::activation::PURPOSE_ACTIVATION;
use super::audit::Outcome;
use super::citizen::{Citizen, CitizenId, CitizenStatus};
use super::credentials::{Lang, PasswordHasher, PolicyPreset, PolicyViolation};
use super::engine::{Actor, Engine};
use super::notify::{EmailGateway, mask_email};
use super::session::{EndCause, Ending};
pub use mobile::{ChallengeAnswer, MobileChangeRefusal, PURPOSE_MOBILE_CHANGE};
use notices::Notice;
use serde_json::json;

/// What finishing the activation came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActivationResult {
    /// The password is set and the account is `active`.
    Activated(Box<Citizen>),
    /// The citizen has not accepted the security policy yet.
    PolicyNotAccepted,
    /// The two passwords typed differ.
    ConfirmationMismatch,
    /// The password breaks these rules; nothing was stored.
    Violations(Vec<PolicyViolation>),
}

/// What setting a new password (reset or change) came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordChangeResult {
    /// The new password is stored.
    Changed,
    /// The two new passwords typed differ.
    ConfirmationMismatch,
    /// The current password is wrong (counted as a failed login).
    WrongCurrentPassword,
    /// The new password breaks these rules; nothing was stored.
    Violations(Vec<PolicyViolation>),
}

/// A new password as typed twice, and the rules and hasher to apply.
#[derive(Clone, Copy)]
pub struct NewPassword<'a> {
    /// The new password.
    pub password: &'a str,
    /// The same, typed again.
    pub confirmation: &'a str,
    /// Which rules it must follow.
    pub preset: PolicyPreset,
    /// Hashes it for storage.
    pub hasher: &'a PasswordHasher,
}

/// How an email notice reaches the citizen.
#[derive(Clone, Copy)]
pub struct EmailNotice<'a> {
    /// The email gateway.
    pub email: &'a dyn EmailGateway,
    /// The language of the notice.
    pub lang: Lang,
}

impl Engine {
    /// The citizen, or `NotFound`.
    pub(crate) async fn account(&self, id: CitizenId) -> Result<Citizen, CoreError> {
        self.store
            .citizen(id)
            .await?
            .ok_or_else(|| CoreError::NotFound(format!("citizen {id}")))
    }

    /// Refuses unless the citizen is in `wanted` state.
    pub(crate) fn require_status(
        citizen: &Citizen,
        wanted: CitizenStatus,
    ) -> Result<(), CoreError> {
        if citizen.status == wanted {
            return Ok(());
        }
        Err(CoreError::Refused(format!(
            "the account is {}, not {}",
            citizen.status.as_str(),
            wanted.as_str()
        )))
    }

    /// Sends an email notice. A failed notice does not undo what already happened, so it is
    /// logged (masked) and reported as `false` for the audit detail, never as an error.
    async fn send_notice(&self, citizen: &Citizen, notice: Notice, via: EmailNotice<'_>) -> bool {
        let (subject, body) = notice.email(via.lang);
        match via.email.send(&citizen.email, &subject, &body).await {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!(to = %mask_email(&citizen.email), error = %e, "account notice not sent");
                false
            }
        }
    }

    /// Records that the citizen accepted version `version` of the security policy (a step of
    /// activation). Audited as `policy.accepted`.
    pub async fn accept_security_policy(
        &self,
        citizen: CitizenId,
        version: &str,
        actor: &Actor,
    ) -> Result<(), CoreError> {
        let version = version.trim();
        if version.is_empty() {
            return Err(CoreError::Invalid("the policy version is empty".into()));
        }
        let account = self.account(citizen).await?;
        if account.status == CitizenStatus::Deregistered {
            return Err(CoreError::Refused("the account is deregistered".into()));
        }
        self.store
            .record_policy_acceptance(citizen, version, self.clock.now())
            .await?;
        self.audit(
            self.event(actor, "policy.accepted")
                .citizen(citizen)
                .detail(json!({ "version": version })),
        )
        .await?;
        Ok(())
    }

    /// Finishes activation: the caller has verified the activation code and the SMS code.
    /// Requires a `registered` account and an accepted security policy; sets the password
    /// and makes the account `active` (audited as `citizen.activated`). The activation code
    /// is kept: it is the citizen's recovery code from now on.
    pub async fn activate(
        &self,
        citizen_id: CitizenId,
        password: &str,
        confirmation: &str,
        preset: PolicyPreset,
        hasher: &PasswordHasher,
        actor: &Actor,
    ) -> Result<ActivationResult, CoreError> {
        let mut citizen = self.account(citizen_id).await?;
        Self::require_status(&citizen, CitizenStatus::Registered)?;
        if self.store.policy_acceptance(citizen_id).await?.is_none() {
            return Ok(ActivationResult::PolicyNotAccepted);
        }
        if password != confirmation {
            return Ok(ActivationResult::ConfirmationMismatch);
        }
        if let Err(violations) = self
            .set_password(&citizen, password, preset, hasher, actor)
            .await?
        {
            return Ok(ActivationResult::Violations(violations));
        }
        citizen.status = CitizenStatus::Active;
        citizen.updated_at = self.clock.now();
        self.store.update_citizen(&citizen).await?;
        self.audit(
            self.event(actor, "citizen.activated")
                .citizen(citizen_id)
                .outcome(Outcome::Success),
        )
        .await?;
        Ok(ActivationResult::Activated(Box::new(citizen)))
    }

    /// Forgotten password: the caller has verified the activation (recovery) code and the SMS
    /// code. Sets the new password on an `active` account, which also clears any login lock,
    /// ends every SSO session and notifies by email. Audited as `password.reset`.
    pub async fn reset_password(
        &self,
        citizen_id: CitizenId,
        new: NewPassword<'_>,
        notice: EmailNotice<'_>,
        actor: &Actor,
    ) -> Result<PasswordChangeResult, CoreError> {
        let citizen = self.account(citizen_id).await?;
        Self::require_status(&citizen, CitizenStatus::Active)?;
        if let Some(refused) = self.store_new_password(&citizen, &new, actor).await? {
            return Ok(refused);
        }
        // Whoever knew the old password may hold a session: end them all.
        let ending = Ending::without_browser(EndCause::PasswordReset);
        let ended = self.end_every_session(citizen_id, actor, &ending).await?;
        let notified = self
            .send_notice(&citizen, Notice::PasswordReset, notice)
            .await;
        self.audit(
            self.event(actor, "password.reset")
                .citizen(citizen_id)
                .outcome(Outcome::Success)
                .detail(json!({ "sessions_ended": ended.len(), "notified": notified })),
        )
        .await?;
        Ok(PasswordChangeResult::Changed)
    }

    /// Checks the confirmation and the password policy, then stores the new password.
    /// `Some` is the refusal to show; `None` means it is stored.
    async fn store_new_password(
        &self,
        citizen: &Citizen,
        new: &NewPassword<'_>,
        actor: &Actor,
    ) -> Result<Option<PasswordChangeResult>, CoreError> {
        if new.password != new.confirmation {
            return Ok(Some(PasswordChangeResult::ConfirmationMismatch));
        }
        Ok(self
            .set_password(citizen, new.password, new.preset, new.hasher, actor)
            .await?
            .err()
            .map(PasswordChangeResult::Violations))
    }

    /// Checks the current password of a signed-in citizen. A wrong one counts as a failed
    /// login (otherwise a re-authentication form would be an unthrottled password oracle)
    /// and is `Err` with the consecutive failures. `Refused` when the account has no
    /// password or password login is locked.
    async fn verify_current_password(
        &self,
        citizen_id: CitizenId,
        current: &str,
        hasher: &PasswordHasher,
    ) -> Result<Result<(), u32>, CoreError> {
        let Some(stored) = self.store.password(citizen_id).await? else {
            return Err(CoreError::Refused("the account has no password".into()));
        };
        if self.store.login_failures(citizen_id).await?.locked {
            return Err(CoreError::Refused("password login is locked".into()));
        }
        if hasher.verify(current, &stored.phc).await?.matches {
            return Ok(Ok(()));
        }
        let counted = self
            .store
            .record_login_failure(citizen_id, self.login.lock_after, self.clock.now())
            .await?;
        Ok(Err(counted.consecutive))
    }

    /// Re-authenticates a signed-in citizen with the current password before a sensitive
    /// operation (`operation` names it in the audit trail: `mobile_change`, `totp_remove`,
    /// …). `false` for a wrong password, which counts as a failed login and is audited as
    /// `account.reauthenticated` with outcome failure. `Refused` if the account is not
    /// active, has no password or is locked.
    pub async fn confirm_current_password(
        &self,
        citizen_id: CitizenId,
        current: &str,
        hasher: &PasswordHasher,
        operation: &str,
        actor: &Actor,
    ) -> Result<bool, CoreError> {
        let citizen = self.account(citizen_id).await?;
        Self::require_status(&citizen, CitizenStatus::Active)?;
        let verdict = self
            .verify_current_password(citizen_id, current, hasher)
            .await?;
        let event = self
            .event(actor, "account.reauthenticated")
            .citizen(citizen_id);
        let event = match verdict {
            Ok(()) => event
                .outcome(Outcome::Success)
                .detail(json!({ "operation": operation })),
            Err(consecutive) => event.outcome(Outcome::Failure).detail(json!({
                "operation": operation,
                "reason": "wrong_current_password",
                "consecutive": consecutive,
            })),
        };
        self.audit(event).await?;
        Ok(verdict.is_ok())
    }

    /// Changes the password of an `active` account after checking the current one (the caller
    /// has checked the second factor). A wrong current password counts as a failed login.
    /// Notifies by email; audited as `password.changed`.
    pub async fn change_password(
        &self,
        citizen_id: CitizenId,
        current: &str,
        new: NewPassword<'_>,
        notice: EmailNotice<'_>,
        actor: &Actor,
    ) -> Result<PasswordChangeResult, CoreError> {
        let citizen = self.account(citizen_id).await?;
        Self::require_status(&citizen, CitizenStatus::Active)?;
        if let Err(consecutive) = self
            .verify_current_password(citizen_id, current, new.hasher)
            .await?
        {
            self.audit(
                self.event(actor, "password.changed")
                    .citizen(citizen_id)
                    .outcome(Outcome::Failure)
                    .detail(
                        json!({ "reason": "wrong_current_password", "consecutive": consecutive }),
                    ),
            )
            .await?;
            return Ok(PasswordChangeResult::WrongCurrentPassword);
        }
        if let Some(refused) = self.store_new_password(&citizen, &new, actor).await? {
            return Ok(refused);
        }
        let notified = self
            .send_notice(&citizen, Notice::PasswordChanged, notice)
            .await;
        self.audit(
            self.event(actor, "password.changed")
                .citizen(citizen_id)
                .outcome(Outcome::Success)
                .detail(json!({ "notified": notified })),
        )
        .await?;
        Ok(PasswordChangeResult::Changed)
    }

    /// Deregisters (baja) the citizen: final. The status alone makes login impossible; every
    /// session ends, the TOTP secret and the activation code are withdrawn, and the citizen
    /// is told by email. Audited as `citizen.deregistered`.
    pub async fn deregister(
        &self,
        citizen_id: CitizenId,
        notice: EmailNotice<'_>,
        actor: &Actor,
    ) -> Result<Citizen, CoreError> {
        let mut citizen = self.account(citizen_id).await?;
        if citizen.status == CitizenStatus::Deregistered {
            return Err(CoreError::Conflict(
                "the account is already deregistered".into(),
            ));
        }
        let previous = citizen.status;
        // Status first: from here on no login succeeds, whatever happens below.
        citizen.status = CitizenStatus::Deregistered;
        citizen.updated_at = self.clock.now();
        self.store.update_citizen(&citizen).await?;
        let ending = Ending::without_browser(EndCause::Deregistration);
        let ended = self.end_every_session(citizen_id, actor, &ending).await?;
        self.store
            .set_totp(citizen_id, None, self.clock.now())
            .await?;
        self.store
            .delete_activation_code(citizen_id, PURPOSE_ACTIVATION)
            .await?;
        // Consents given to OIDC clients go with the account.
        self.store.delete_consents(citizen_id).await?;
        let notified = self
            .send_notice(&citizen, Notice::Deregistered, notice)
            .await;
        self.audit(
            self.event(actor, "citizen.deregistered")
                .citizen(citizen_id)
                .outcome(Outcome::Success)
                .detail(json!({
                    "previous_status": previous,
                    "sessions_ended": ended.len(),
                    "notified": notified,
                })),
        )
        .await?;
        Ok(citizen)
    }
}
