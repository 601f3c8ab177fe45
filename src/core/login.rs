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
use super::credentials::Lang;
use super::credentials::{PasswordContext, PasswordHasher, PolicyPreset, PolicyViolation, check};
use super::engine::{Actor, Engine};
use super::identifier::Identifier;
use super::level::AuthMethod;
use super::notify::{EmailGateway, SmsGateway, mask_email, mask_phone};
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
    /// When the login pages ask for a second factor after the password.
    pub second_factor: SecondFactor,
    /// Failed password attempts (from one browser's login attempt or one address) after
    /// which the login form shows a captcha that must be answered before the password is
    /// checked; 0 turns the captcha off.
    pub captcha_after: u32,
}

/// When a second factor (SMS code or TOTP) is asked for after the password.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SecondFactor {
    /// At every login (Cl@ve style).
    #[default]
    Always,
    /// Only when the level asked for cannot be reached with the password alone, as the
    /// level policy rates it (ANSES style: level 2 logs in with the password).
    WhenNeeded,
}

impl Default for LoginPolicy {
    fn default() -> Self {
        Self {
            lock_after: 100,
            delay_after: 3,
            max_delay_secs: 300,
            per_address_per_minute: 30,
            second_factor: SecondFactor::Always,
            captcha_after: 3,
        }
    }
}

impl LoginPolicy {
    /// Checks the `[login]` section; the error names the key and why.
    pub fn validate(&self) -> Result<(), String> {
        if self.lock_after == 0 || self.per_address_per_minute == 0 {
            return Err("login: lock_after and per_address_per_minute must be at least 1".into());
        }
        Ok(())
    }

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
            // Only the hash changes: a lock taken meanwhile by racing wrong guesses stays.
            let phc = hasher.hash(password).await?;
            self.store
                .rehash_password(citizen.id, &stored.phc, &phc)
                .await?;
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

/// The notice sent when wrong passwords lock password login: email subject and body, in
/// `lang`. Like the other security notices it carries no link (so it cannot be imitated
/// for phishing) and no secret; it says how to unlock.
pub fn lock_notice(lang: Lang) -> (&'static str, &'static str) {
    match lang {
        Lang::Es => (
            "Acceso con contraseña bloqueado",
            "Se ha bloqueado el acceso con contraseña a su cuenta de pasarela tras demasiados intentos con una contraseña incorrecta.\n\nPara desbloquearlo, establezca una contraseña nueva con la opción «He olvidado mi contraseña» de la página de acceso, usando su código de activación, o acuda a una oficina de registro con su documento de identidad.\n\nSi no ha sido usted, alguien puede estar intentando entrar en su cuenta: cambie la contraseña cuanto antes.\n",
        ),
        Lang::Ca => (
            "Accés amb contrasenya bloquejat",
            "S'ha bloquejat l'accés amb contrasenya al seu compte de pasarela després de massa intents amb una contrasenya incorrecta.\n\nPer a desbloquejar-lo, establisca una contrasenya nova amb l'opció «He oblidat la contrasenya» de la pàgina d'accés, amb el seu codi d'activació, o acudisca a una oficina de registre amb el seu document d'identitat.\n\nSi no ha estat vosté, algú pot estar intentant entrar al seu compte: canvie la contrasenya com més prompte millor.\n",
        ),
        Lang::En => (
            "Password login locked",
            "Password login to your pasarela account was locked after too many attempts with a wrong password.\n\nTo unlock it, set a new password with \"I forgot my password\" on the login page, using your activation code, or go to a registry office with your identity document.\n\nIf this was not you, someone may be trying to get into your account: change your password as soon as possible.\n",
        ),
    }
}

/// The lock notice as one SMS.
pub fn lock_notice_sms(lang: Lang) -> String {
    match lang {
        Lang::Es => "pasarela: se ha bloqueado el acceso con contraseña a su cuenta por demasiados intentos fallidos. Para desbloquearlo, use «He olvidado mi contraseña» o acuda a una oficina de registro.".to_owned(),
        Lang::Ca => "pasarela: s'ha bloquejat l'accés amb contrasenya al seu compte per massa intents fallits. Per a desbloquejar-lo, use «He oblidat la contrasenya» o acudisca a una oficina de registre.".to_owned(),
        Lang::En => "pasarela: password login to your account was locked after too many failed attempts. To unlock it, use \"I forgot my password\" or go to a registry office.".to_owned(),
    }
}

impl Engine {
    /// Tells the citizen by SMS and email that password login is now locked (after a
    /// [`Refusal::newly_locked`]). A failed send is logged (masked) and recorded in the audit
    /// detail, never an error: the lock itself stands. Audited as `login.lock_notice`.
    pub async fn notify_login_locked(
        &self,
        citizen: CitizenId,
        sms: &dyn SmsGateway,
        email: &dyn EmailGateway,
        lang: Lang,
    ) -> Result<(), CoreError> {
        let Some(account) = self.store.citizen(citizen).await? else {
            return Ok(());
        };
        let by_sms = match sms.send(&account.mobile, &lock_notice_sms(lang)).await {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!(to = %mask_phone(&account.mobile), error = %e, "lock notice SMS not sent");
                false
            }
        };
        let (subject, body) = lock_notice(lang);
        let by_email = match email.send(&account.email, subject, body).await {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!(to = %mask_email(&account.email), error = %e, "lock notice email not sent");
                false
            }
        };
        self.audit(
            self.event(&Actor::system(), "login.lock_notice")
                .citizen(citizen)
                .outcome(if by_sms || by_email {
                    Outcome::Success
                } else {
                    Outcome::Failure
                })
                .detail(json!({ "sms": by_sms, "email": by_email })),
        )
        .await?;
        Ok(())
    }

    /// Records the second step of a login (`method` is `sms` or `otp`): `outcome` and a short
    /// machine-readable `result` (`verified`, `wrong`, `exhausted`, `expired`). Audited as
    /// `login.second_factor`; never with the code.
    pub async fn audit_second_factor(
        &self,
        citizen: CitizenId,
        method: AuthMethod,
        outcome: Outcome,
        result: &str,
        actor: &Actor,
    ) -> Result<(), CoreError> {
        self.audit(
            self.event(actor, "login.second_factor")
                .citizen(citizen)
                .outcome(outcome)
                .detail(json!({ "method": method.amr(), "result": result })),
        )
        .await
        .map(|_| ())
    }
}

#[cfg(test)]
#[path = "login_tests.rs"]
mod tests;
