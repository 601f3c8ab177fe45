//! TOTP as a citizen's second factor: enrolment (pending until the citizen types a code from
//! the new secret), removal, and verification with replay protection.
//!
//! The shared secret is encrypted at rest with [`Engine::secrets`] (bound to the citizen).
//! A code is accepted for its time step ±1, and a step is accepted at most once: the step is
//! claimed in the store atomically, so the same code racing on two nodes passes once.
//! Wrong codes are counted in the ephemeral store; after [`MAX_FAILURES`] within
//! [`FAILURE_WINDOW`] every code is refused for another window, so six digits cannot be
//! guessed. Neither secrets nor codes reach the audit trail or the logs.

use super::CoreError;
use super::audit::Outcome;
use super::citizen::{CitizenId, CitizenStatus};
use super::credentials::TotpSecret;
use super::engine::{Actor, Engine};
use crate::store::credentials::TotpRecord;
use serde_json::json;
use std::time::Duration;

/// Wrong TOTP codes allowed within [`FAILURE_WINDOW`] before every code is refused.
pub const MAX_FAILURES: i64 = 5;

/// How long wrong TOTP codes are remembered.
pub const FAILURE_WINDOW: Duration = Duration::from_secs(15 * 60);

/// What the enrolment page shows. Holds the secret in clear: show it, never log it.
#[derive(Clone)]
pub struct TotpEnrolment {
    /// The secret in base32, for typing into an app by hand.
    pub secret_base32: String,
    /// The `otpauth://` URI the QR code encodes.
    pub uri: String,
    /// The QR code as a base64 PNG (for `<img src="data:image/png;base64,...">`).
    pub qr_png_base64: String,
}

impl std::fmt::Debug for TotpEnrolment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpEnrolment(<redacted>)")
    }
}

/// The encryption context of a citizen's TOTP secret.
fn context(citizen: CitizenId) -> String {
    format!("totp|{citizen}")
}

fn failures_key(citizen: CitizenId) -> String {
    format!("totp:failures:{citizen}")
}

/// Set (a value, readable with `get`, unlike the counter) once the failures reach the limit.
fn locked_key(citizen: CitizenId) -> String {
    format!("totp:locked:{citizen}")
}

impl Engine {
    fn open_totp(&self, citizen: CitizenId, record: &TotpRecord) -> Result<TotpSecret, CoreError> {
        let plain = self.secrets.open(&context(citizen), &record.secret)?;
        let text = String::from_utf8(plain)
            .map_err(|_| CoreError::Unavailable("stored TOTP secret is damaged".into()))?;
        TotpSecret::from_base32(&text)
            .map_err(|_| CoreError::Unavailable("stored TOTP secret is damaged".into()))
    }

    /// Starts (or resumes) TOTP enrolment for an `active` account: stores a pending secret
    /// and returns what the enrolment page shows. A pending secret from an earlier start is
    /// shown again (a reload must not invalidate the QR code already scanned). `Conflict` if
    /// the citizen already has a confirmed TOTP. `issuer` is the name apps show.
    pub async fn start_totp_enrolment(
        &self,
        citizen_id: CitizenId,
        issuer: &str,
    ) -> Result<TotpEnrolment, CoreError> {
        let citizen = self.account(citizen_id).await?;
        Self::require_status(&citizen, CitizenStatus::Active)?;
        let secret = match self.store.totp(citizen_id).await? {
            Some(r) if r.confirmed_at.is_some() => {
                return Err(CoreError::Conflict("TOTP is already enrolled".into()));
            }
            Some(r) => self.open_totp(citizen_id, &r)?,
            None => {
                let secret = TotpSecret::generate()?;
                let sealed = self
                    .secrets
                    .seal(&context(citizen_id), secret.to_base32().as_bytes())?;
                if !self
                    .store
                    .put_pending_totp(citizen_id, &sealed, self.clock.now())
                    .await?
                {
                    return Err(CoreError::Conflict("TOTP is already enrolled".into()));
                }
                secret
            }
        };
        let label = citizen.identifier.to_string();
        Ok(TotpEnrolment {
            secret_base32: secret.to_base32(),
            uri: secret.provisioning_uri(issuer, &label)?,
            qr_png_base64: secret.qr_png_base64(issuer, &label)?,
        })
    }

    /// Confirms the pending enrolment with a code from the new secret: `true` when the code
    /// is right and TOTP is now the citizen's second factor (audited as `totp.enrolled`).
    /// A wrong code counts towards the failure limit and is audited as a failure.
    pub async fn confirm_totp_enrolment(
        &self,
        citizen_id: CitizenId,
        code: &str,
        actor: &Actor,
    ) -> Result<bool, CoreError> {
        let citizen = self.account(citizen_id).await?;
        Self::require_status(&citizen, CitizenStatus::Active)?;
        let Some(record) = self.store.totp(citizen_id).await? else {
            return Err(CoreError::Refused("no TOTP enrolment was started".into()));
        };
        if record.confirmed_at.is_some() {
            return Err(CoreError::Conflict("TOTP is already enrolled".into()));
        }
        let verdict = self.check_totp_code(citizen_id, &record, code).await?;
        let confirmed = match verdict {
            Ok(step) => {
                self.store
                    .confirm_totp(citizen_id, step, self.clock.now())
                    .await?
            }
            Err(_) => false,
        };
        let mut event = self.event(actor, "totp.enrolled").citizen(citizen_id);
        event = if confirmed {
            event.outcome(Outcome::Success)
        } else {
            let reason = verdict.err().unwrap_or("already_confirmed");
            event
                .outcome(Outcome::Failure)
                .detail(json!({ "reason": reason }))
        };
        self.audit(event).await?;
        Ok(confirmed)
    }

    /// Removes the citizen's TOTP (pending or confirmed); the caller has re-authenticated
    /// the citizen. `false` if there was none. Audited as `totp.removed`.
    pub async fn remove_totp(
        &self,
        citizen_id: CitizenId,
        actor: &Actor,
    ) -> Result<bool, CoreError> {
        let Some(record) = self.store.totp(citizen_id).await? else {
            return Ok(false);
        };
        self.store
            .set_totp(citizen_id, None, self.clock.now())
            .await?;
        self.audit(
            self.event(actor, "totp.removed")
                .citizen(citizen_id)
                .outcome(Outcome::Success)
                .detail(json!({ "was_confirmed": record.confirmed_at.is_some() })),
        )
        .await?;
        Ok(true)
    }

    /// Whether the citizen has a confirmed TOTP (a pending enrolment does not count).
    pub async fn has_totp(&self, citizen_id: CitizenId) -> Result<bool, CoreError> {
        Ok(self
            .store
            .totp(citizen_id)
            .await?
            .is_some_and(|r| r.confirmed_at.is_some()))
    }

    /// Checks a code against the citizen's confirmed TOTP: `true` at most once per time step
    /// (±1 step of clock skew). `false` when there is no confirmed TOTP, when the code is
    /// wrong or already used, or when too many wrong codes were typed recently. Failures are
    /// audited as `totp.verify`; successes are left to the caller's own event (e.g. login).
    pub async fn verify_totp(
        &self,
        citizen_id: CitizenId,
        code: &str,
        actor: &Actor,
    ) -> Result<bool, CoreError> {
        let record = self
            .store
            .totp(citizen_id)
            .await?
            .filter(|r| r.confirmed_at.is_some());
        let verdict = match &record {
            None => Err("not_enrolled"),
            Some(r) => match self.check_totp_code(citizen_id, r, code).await? {
                Ok(step) if self.store.use_totp_step(citizen_id, step).await? => Ok(()),
                Ok(_) => Err("replayed"),
                Err(why) => Err(why),
            },
        };
        let Err(reason) = verdict else {
            return Ok(true);
        };
        self.audit(
            self.event(actor, "totp.verify")
                .citizen(citizen_id)
                .outcome(Outcome::Failure)
                .detail(json!({ "reason": reason })),
        )
        .await?;
        Ok(false)
    }

    /// The time step the code is valid for, after the failure limit and the last used step;
    /// a wrong code is counted. `Err` carries the reason for the audit trail.
    async fn check_totp_code(
        &self,
        citizen_id: CitizenId,
        record: &TotpRecord,
        code: &str,
    ) -> Result<Result<i64, &'static str>, CoreError> {
        if self.ephemeral.get(&locked_key(citizen_id)).await?.is_some() {
            return Ok(Err("too_many_failures"));
        }
        let secret = self.open_totp(citizen_id, record)?;
        let last = record.last_step.and_then(|s| u64::try_from(s).ok());
        let now = self.clock.now();
        match secret.verify_after(code, now, last) {
            Some(step) => Ok(i64::try_from(step).map_err(|_| "bad_step")),
            None if secret.verify(code, now).is_some() => Ok(Err("replayed")),
            None => {
                let failures = self
                    .ephemeral
                    .incr(&failures_key(citizen_id), FAILURE_WINDOW)
                    .await?;
                if failures >= MAX_FAILURES {
                    self.ephemeral
                        .put(&locked_key(citizen_id), b"1", FAILURE_WINDOW)
                        .await?;
                }
                Ok(Err("wrong_code"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Clock;
    use crate::core::testing::{World, world};
    use chrono::Duration as ChronoDuration;

    async fn active() -> World {
        let w = world().await;
        let mut c = w.citizen.clone();
        c.status = CitizenStatus::Active;
        w.engine.store.update_citizen(&c).await.unwrap();
        w
    }

    fn actor() -> Actor {
        Actor {
            name: "citizen".into(),
            source: None,
        }
    }

    async fn kinds(w: &World) -> Vec<(String, String)> {
        w.engine
            .store
            .audit_entries(Some(w.citizen.id), 0, 100)
            .await
            .unwrap()
            .into_iter()
            .map(|e| (e.event.kind.clone(), e.event.outcome.as_str().to_owned()))
            .collect()
    }

    #[tokio::test]
    async fn enrol_verify_replay_and_remove() {
        let w = active().await;
        let (e, id) = (&w.engine, w.citizen.id);
        assert!(!e.has_totp(id).await.unwrap());
        let shown = e.start_totp_enrolment(id, "Pasarela").await.unwrap();
        assert!(shown.uri.starts_with("otpauth://totp/"));
        assert!(!format!("{shown:?}").contains(&shown.secret_base32));
        // Stored encrypted, not in clear.
        let stored = e.store.totp(id).await.unwrap().unwrap();
        assert!(
            !stored
                .secret
                .windows(8)
                .any(|w| w == &shown.secret_base32.as_bytes()[..8])
        );
        // A reload shows the same pending secret.
        let again = e.start_totp_enrolment(id, "Pasarela").await.unwrap();
        assert_eq!(again.secret_base32, shown.secret_base32);
        assert!(!e.has_totp(id).await.unwrap());

        let secret = TotpSecret::from_base32(&shown.secret_base32).unwrap();
        let code = secret.code_at(w.clock.now()).unwrap();
        assert!(
            !e.verify_totp(id, &code, &actor()).await.unwrap(),
            "pending"
        );
        assert!(
            !e.confirm_totp_enrolment(id, "000000x", &actor())
                .await
                .unwrap()
        );
        assert!(e.confirm_totp_enrolment(id, &code, &actor()).await.unwrap());
        assert!(e.has_totp(id).await.unwrap());
        assert!(matches!(
            e.start_totp_enrolment(id, "Pasarela").await,
            Err(CoreError::Conflict(_))
        ));
        // The confirming code's step is used up.
        assert!(!e.verify_totp(id, &code, &actor()).await.unwrap());
        w.clock.advance(ChronoDuration::seconds(30));
        let next = secret.code_at(w.clock.now()).unwrap();
        assert!(e.verify_totp(id, &next, &actor()).await.unwrap());
        assert!(!e.verify_totp(id, &next, &actor()).await.unwrap(), "replay");

        assert!(e.remove_totp(id, &actor()).await.unwrap());
        assert!(!e.has_totp(id).await.unwrap());
        assert!(!e.remove_totp(id, &actor()).await.unwrap());
        let k = kinds(&w).await;
        for want in [
            ("totp.enrolled", "failure"),
            ("totp.enrolled", "success"),
            ("totp.verify", "failure"),
            ("totp.removed", "success"),
        ] {
            assert!(
                k.iter().any(|(a, b)| a == want.0 && b == want.1),
                "{want:?} in {k:?}"
            );
        }
    }

    #[tokio::test]
    async fn wrong_codes_are_limited() {
        let w = active().await;
        let (e, id) = (&w.engine, w.citizen.id);
        let shown = e.start_totp_enrolment(id, "Pasarela").await.unwrap();
        let secret = TotpSecret::from_base32(&shown.secret_base32).unwrap();
        let code = secret.code_at(w.clock.now()).unwrap();
        assert!(e.confirm_totp_enrolment(id, &code, &actor()).await.unwrap());
        w.clock.advance(ChronoDuration::seconds(60));
        let right = secret.code_at(w.clock.now()).unwrap();
        let wrong = if right == "000000" {
            "111111"
        } else {
            "000000"
        };
        for _ in 0..MAX_FAILURES {
            assert!(!e.verify_totp(id, wrong, &actor()).await.unwrap());
        }
        assert!(
            !e.verify_totp(id, &right, &actor()).await.unwrap(),
            "locked out for the window"
        );
        let audit = e.store.audit_entries(Some(id), 0, 100).await.unwrap();
        assert!(!audit.iter().any(|a| {
            let d = a.event.detail.to_string();
            d.contains(&right) || d.contains(&shown.secret_base32)
        }));
    }

    #[tokio::test]
    async fn only_active_accounts_enrol() {
        let w = world().await;
        assert!(matches!(
            w.engine.start_totp_enrolment(w.citizen.id, "P").await,
            Err(CoreError::Refused(_))
        ));
    }
}
