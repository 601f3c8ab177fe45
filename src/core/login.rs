//! The password step of login, and setting a password.
//!
//! Whatever goes wrong (unknown identifier, wrong password, locked, blocked or not yet active
//! account, too soon after the last failure, too many attempts from one address) the caller
//! gets the same [`Refusal`], whose public face says nothing more, and every attempt costs one
//! Argon2 verification, so neither the answer nor its timing tells an attacker which
//! identifiers exist or which accounts are locked. The private reason goes to the audit trail.

use super::CoreError;
use super::audit::Outcome;
use super::citizen::{Citizen, CitizenId, CitizenStatus};
use super::credentials::{PasswordContext, PasswordHasher, PolicyPreset, PolicyViolation, check};
use super::engine::{Actor, Engine};
use super::identifier::Identifier;
use crate::store::credentials::LoginFailures;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::fmt;
use std::net::IpAddr;

/// What the citizen is told when the password step fails, whatever the reason.
pub const REFUSAL_MESSAGE: &str = "The identifier or the password is not correct.";

/// How long the per-address counter window lasts.
const ADDRESS_WINDOW: std::time::Duration = std::time::Duration::from_secs(60);

/// The `[login]` section of the configuration file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LoginPolicy {
    /// Consecutive wrong passwords that lock password login until an operator unlocks it or
    /// the citizen sets a new password.
    pub lock_after: u32,
    /// Consecutive wrong passwords before increasing delays start.
    pub delay_after: u32,
    /// The longest delay between attempts on one account, in seconds.
    pub max_delay_secs: u64,
    /// Attempts allowed from one address per minute, whatever the account.
    pub per_address_per_minute: u32,
}

impl Default for LoginPolicy {
    fn default() -> Self {
        Self {
            lock_after: 100,
            delay_after: 3,
            max_delay_secs: 300,
            per_address_per_minute: 30,
        }
    }
}

impl LoginPolicy {
    /// The earliest instant another attempt is considered, given the failures so far.
    /// Doubles from one second per failure past `delay_after`, capped at `max_delay_secs`.
    pub fn next_attempt_at(&self, failures: &LoginFailures) -> Option<DateTime<Utc>> {
        let last = failures.last_failure_at?;
        let over = failures.consecutive.checked_sub(self.delay_after)?;
        let secs = 1u64
            .checked_shl(over)
            .unwrap_or(u64::MAX)
            .min(self.max_delay_secs);
        let secs = i64::try_from(secs).unwrap_or(i64::MAX);
        Some(last + Duration::try_seconds(secs).unwrap_or(Duration::MAX))
    }
}

/// Why an attempt was refused: for the audit trail and logs only, never for the citizen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "reason")]
pub enum RefusalReason {
    /// Too many attempts from this address in the last minute.
    AddressThrottled,
    /// The identifier is malformed or belongs to nobody.
    UnknownIdentifier,
    /// The account is not active (registered, blocked or deregistered).
    NotActive {
        /// Where the account stands.
        status: CitizenStatus,
    },
    /// The account has no password yet.
    NoPassword,
    /// Password login is locked after too many wrong passwords.
    Locked,
    /// Too soon after the last wrong password; not checked and not counted.
    Delayed {
        /// The earliest instant another attempt is considered.
        until: DateTime<Utc>,
    },
    /// The password is wrong.
    WrongPassword {
        /// Consecutive wrong passwords, this one included.
        consecutive: u32,
        /// This attempt locked the account: tell the citizen by SMS or email.
        newly_locked: bool,
    },
}

/// The public face of a refusal: every refusal shows the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublicRefusal;

impl fmt::Display for PublicRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REFUSAL_MESSAGE)
    }
}

/// A refused attempt. Its `Display` is the one generic message; the reason is private.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    reason: RefusalReason,
    citizen: Option<CitizenId>,
}

impl Refusal {
    /// What the citizen may be shown.
    pub fn public(&self) -> PublicRefusal {
        PublicRefusal
    }

    /// Why it was refused, for logs and the audit trail.
    pub fn reason(&self) -> RefusalReason {
        self.reason
    }

    /// The account concerned, when the identifier named one.
    pub fn citizen(&self) -> Option<CitizenId> {
        self.citizen
    }

    /// This attempt locked the account: the caller notifies the citizen by SMS or email.
    pub fn newly_locked(&self) -> bool {
        matches!(
            self.reason,
            RefusalReason::WrongPassword {
                newly_locked: true,
                ..
            }
        )
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.public().fmt(f)
    }
}

/// The result of the password step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordOutcome {
    /// The password is right and the account may log in.
    Accepted {
        /// Who logged in (boxed: a citizen is large beside a refusal).
        citizen: Box<Citizen>,
        /// The stored hash was upgraded to the current parameters.
        rehashed: bool,
    },
    /// Refused; show [`Refusal`]'s generic message, nothing more.
    Refused(Refusal),
}

/// The decision of [`Engine::check_password`] before it is audited.
enum Verdict {
    Accepted(Box<Citizen>, bool),
    Refused(Option<CitizenId>, RefusalReason),
}

impl Engine {
    /// Checks `password` for the account named by `identifier_text`, coming from `source`.
    /// Every refusal looks the same to the caller and costs one Argon2 verification; wrong
    /// passwords are counted durably, lock the account at `policy.lock_after`, and space
    /// further attempts by increasing delays. A store failure is `Unavailable`, never
    /// an acceptance. Every attempt is audited as `login.password`.
    pub async fn check_password(
        &self,
        identifier_text: &str,
        password: &str,
        source: Option<IpAddr>,
        hasher: &PasswordHasher,
        policy: &LoginPolicy,
        actor: &Actor,
    ) -> Result<PasswordOutcome, CoreError> {
        let verdict = self
            .password_verdict(identifier_text, password, source, hasher, policy)
            .await?;
        let event = self.event(actor, "login.password");
        match verdict {
            Verdict::Accepted(citizen, rehashed) => {
                self.audit(
                    event
                        .citizen(citizen.id)
                        .outcome(Outcome::Success)
                        .detail(json!({ "rehashed": rehashed })),
                )
                .await?;
                Ok(PasswordOutcome::Accepted { citizen, rehashed })
            }
            Verdict::Refused(citizen, reason) => {
                let outcome = match reason {
                    RefusalReason::WrongPassword { .. } => Outcome::Failure,
                    _ => Outcome::Refused,
                };
                let event = match citizen {
                    Some(id) => event.citizen(id),
                    None => event,
                };
                self.audit(event.outcome(outcome).detail(json!(reason)))
                    .await?;
                Ok(PasswordOutcome::Refused(Refusal { reason, citizen }))
            }
        }
    }

    /// The decision, without the audit.
    async fn password_verdict(
        &self,
        identifier_text: &str,
        password: &str,
        source: Option<IpAddr>,
        hasher: &PasswordHasher,
        policy: &LoginPolicy,
    ) -> Result<Verdict, CoreError> {
        let now = self.clock.now();
        // Refusals before the real verification still pay for one, so they cost the same.
        let refuse = async |citizen: Option<CitizenId>, reason| -> Result<_, CoreError> {
            hasher.dummy_verify(password).await?;
            Ok(Verdict::Refused(citizen, reason))
        };
        if let Some(addr) = source {
            let n = self
                .ephemeral
                .incr(&format!("login:ip:{addr}"), ADDRESS_WINDOW)
                .await?;
            if n > i64::from(policy.per_address_per_minute) {
                return refuse(None, RefusalReason::AddressThrottled).await;
            }
        }
        let Ok(identifier) = Identifier::parse_any(identifier_text) else {
            return refuse(None, RefusalReason::UnknownIdentifier).await;
        };
        let Some(citizen) = self.store.citizen_by_identifier(&identifier).await? else {
            return refuse(None, RefusalReason::UnknownIdentifier).await;
        };
        if citizen.status != CitizenStatus::Active {
            let status = citizen.status;
            return refuse(Some(citizen.id), RefusalReason::NotActive { status }).await;
        }
        let Some(stored) = self.store.password(citizen.id).await? else {
            return refuse(Some(citizen.id), RefusalReason::NoPassword).await;
        };
        let failures = self.store.login_failures(citizen.id).await?;
        if failures.locked {
            return refuse(Some(citizen.id), RefusalReason::Locked).await;
        }
        if let Some(until) = policy.next_attempt_at(&failures).filter(|&t| now < t) {
            return refuse(Some(citizen.id), RefusalReason::Delayed { until }).await;
        }
        let verification = hasher.verify(password, &stored.phc).await?;
        if !verification.matches {
            let counted = self
                .store
                .record_login_failure(citizen.id, policy.lock_after, now)
                .await?;
            let reason = RefusalReason::WrongPassword {
                consecutive: counted.consecutive,
                newly_locked: counted.newly_locked,
            };
            return Ok(Verdict::Refused(Some(citizen.id), reason));
        }
        // Racing wrong guesses may have locked the account while this one was verifying.
        if self.store.login_failures(citizen.id).await?.locked {
            return Ok(Verdict::Refused(Some(citizen.id), RefusalReason::Locked));
        }
        self.store.reset_login_failures(citizen.id).await?;
        if verification.needs_rehash {
            let phc = hasher.hash(password).await?;
            self.store.set_password(citizen.id, &phc, now).await?;
        }
        Ok(Verdict::Accepted(
            Box::new(citizen),
            verification.needs_rehash,
        ))
    }

    /// Sets `citizen`'s password if it passes `preset`'s rules; otherwise returns every rule
    /// it breaks and stores nothing. Setting a password also clears the failure counter and
    /// lock. Audited as `password.set` (never with the password).
    pub async fn set_password(
        &self,
        citizen: &Citizen,
        password: &str,
        preset: PolicyPreset,
        hasher: &PasswordHasher,
        actor: &Actor,
    ) -> Result<Result<(), Vec<PolicyViolation>>, CoreError> {
        let event = self.event(actor, "password.set").citizen(citizen.id);
        if let Err(violations) = check(preset, password, &PasswordContext::from_citizen(citizen)) {
            self.audit(
                event
                    .outcome(Outcome::Refused)
                    .detail(json!({ "policy": preset.as_str(), "violations": violations })),
            )
            .await?;
            return Ok(Err(violations));
        }
        let phc = hasher.hash(password).await?;
        self.store
            .set_password(citizen.id, &phc, self.clock.now())
            .await?;
        self.audit(
            event
                .outcome(Outcome::Success)
                .detail(json!({ "policy": preset.as_str() })),
        )
        .await?;
        Ok(Ok(()))
    }
}

#[cfg(test)]
#[path = "login_tests.rs"]
mod tests;
