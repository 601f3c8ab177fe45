//! One-time codes sent by SMS: 6 digits, valid for a limited time, single use, bound to the
//! journey (login attempt, activation, recovery) that asked for them, with a limited number of
//! wrong tries and of resends. Challenges live in the ephemeral store, so every node (with
//! Redis) sees the same state, and its TTL ends them.

use super::CoreError;
use super::citizen::CitizenId;
use super::credentials::Lang;
use super::engine::Engine;
use super::notify::{SendError, SmsGateway};
use super::random;
use crate::store::Consumed;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// Limits of SMS challenges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OtpPolicy {
    /// Minutes a code stays valid (default 10).
    pub ttl_minutes: u32,
    /// Wrong codes that end the challenge (default 5).
    pub max_attempts: u32,
    /// Codes sent per challenge, the first included (default 3).
    pub max_sends: u32,
    /// Seconds between two sends of one challenge (default 30).
    pub resend_after_secs: u32,
}

impl Default for OtpPolicy {
    fn default() -> Self {
        Self {
            ttl_minutes: 10,
            max_attempts: 5,
            max_sends: 3,
            resend_after_secs: 30,
        }
    }
}

impl OtpPolicy {
    /// Checks the `[otp]` section; the error names the key and why.
    pub fn validate(&self) -> Result<(), String> {
        if self.ttl_minutes == 0 || self.max_attempts == 0 || self.max_sends == 0 {
            return Err("otp: ttl_minutes, max_attempts and max_sends must be at least 1".into());
        }
        Ok(())
    }
}

/// The stored state of a challenge. Only a keyed hash of the code is kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Challenge {
    citizen: CitizenId,
    purpose: String,
    journey: String,
    to: String,
    code_hash: String,
    expires_at: DateTime<Utc>,
    sends: u32,
    last_sent_at: DateTime<Utc>,
}

/// What checking a code found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OtpOutcome {
    /// The right code, now used up.
    Verified(CitizenId),
    /// A wrong code; this many tries remain.
    Wrong {
        /// Tries left before the challenge ends.
        remaining: u32,
    },
    /// Too many wrong codes: the challenge is over; start again.
    Exhausted,
    /// No such challenge for this journey: expired, used, or never issued here.
    Expired,
}

/// Why a code could not be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendRefusal {
    /// Wait this many seconds before asking for another code.
    TooSoon(i64),
    /// This challenge has had all its codes.
    TooManySends,
    /// The gateway refused or failed: try again later.
    Gateway(String),
}

/// How codes reach the citizen: the gateway, the language of the text and the limits.
#[derive(Clone, Copy)]
pub struct OtpSender<'a> {
    /// The SMS gateway.
    pub sms: &'a dyn SmsGateway,
    /// Language of the SMS text.
    pub lang: Lang,
    /// Limits.
    pub policy: &'a OtpPolicy,
}

fn key(id: &str) -> String {
    format!("otp:{id}")
}

fn attempts_key(id: &str) -> String {
    format!("otp:{id}:attempts")
}

/// The SMS text in the citizen's language.
pub fn sms_text(code: &str, minutes: u32, lang: Lang) -> String {
    match lang {
        Lang::Es => format!(
            "pasarela: su código es {code}. Caduca en {minutes} minutos. No lo comparta con nadie."
        ),
        Lang::Ca => format!(
            "pasarela: el seu codi és {code}. Caduca d'ací a {minutes} minuts. No el compartisca amb ningú."
        ),
        Lang::En => format!(
            "pasarela: your code is {code}. It expires in {minutes} minutes. Do not share it with anyone."
        ),
    }
}

impl Engine {
    fn ttl(policy: &OtpPolicy) -> std::time::Duration {
        std::time::Duration::from_secs(u64::from(policy.ttl_minutes) * 60)
    }

    async fn send_code(
        &self,
        c: &Challenge,
        id: &str,
        sender: OtpSender<'_>,
    ) -> Result<Result<Challenge, SendRefusal>, CoreError> {
        let OtpSender { sms, lang, policy } = sender;
        let code = random::digits(6)?;
        let mut next = c.clone();
        next.code_hash = self.codes.hash(c.citizen, &format!("otp:{id}"), &code)?;
        if let Err(e) = sms
            .send(&c.to, &sms_text(&code, policy.ttl_minutes, lang))
            .await
        {
            tracing::warn!(error = %e, "SMS code not sent");
            self.audit(
                self.event(&super::engine::Actor::system(), "otp.send_failed")
                    .citizen(c.citizen)
                    .outcome(super::audit::Outcome::Failure)
                    .detail(serde_json::json!({ "purpose": c.purpose, "error": e.code() })),
            )
            .await?;
            return Ok(Err(match e {
                SendError::QuotaExceeded { retry_after_secs } => {
                    SendRefusal::TooSoon(retry_after_secs as i64)
                }
                other => SendRefusal::Gateway(other.code().to_owned()),
            }));
        }
        let value = serde_json::to_vec(&next).map_err(|e| CoreError::Unavailable(e.to_string()))?;
        let remaining = (c.expires_at - self.clock.now())
            .to_std()
            .unwrap_or_default();
        self.ephemeral
            .put(
                &key(id),
                &value,
                remaining.max(std::time::Duration::from_secs(1)),
            )
            .await?;
        Ok(Ok(next))
    }

    /// Starts a challenge for `journey` and sends the first code to `to` (E.164). Returns the
    /// challenge id, which the journey keeps (never shown to anyone else).
    pub async fn issue_sms_challenge(
        &self,
        citizen: CitizenId,
        purpose: &str,
        journey: &str,
        to: &str,
        sender: OtpSender<'_>,
    ) -> Result<Result<String, SendRefusal>, CoreError> {
        let policy = sender.policy;
        let now = self.clock.now();
        let id = random::token(16)?;
        let c = Challenge {
            citizen,
            purpose: purpose.to_owned(),
            journey: journey.to_owned(),
            to: to.to_owned(),
            code_hash: String::new(),
            expires_at: now + Duration::minutes(i64::from(policy.ttl_minutes)),
            sends: 1,
            last_sent_at: now,
        };
        Ok(self.send_code(&c, &id, sender).await?.map(|_| id))
    }

    /// Sends a new code for the same challenge (the previous code stops working), within the
    /// resend limits.
    pub async fn resend_sms_challenge(
        &self,
        id: &str,
        journey: &str,
        sender: OtpSender<'_>,
    ) -> Result<Result<(), SendRefusal>, CoreError> {
        let policy = sender.policy;
        let Some(c) = self.load_challenge(id, journey).await? else {
            return Ok(Err(SendRefusal::TooManySends));
        };
        let now = self.clock.now();
        let wait = (c.last_sent_at + Duration::seconds(i64::from(policy.resend_after_secs)) - now)
            .num_seconds();
        if wait > 0 {
            return Ok(Err(SendRefusal::TooSoon(wait)));
        }
        if c.sends >= policy.max_sends {
            return Ok(Err(SendRefusal::TooManySends));
        }
        let next = Challenge {
            sends: c.sends + 1,
            last_sent_at: now,
            ..c
        };
        Ok(self.send_code(&next, id, sender).await?.map(|_| ()))
    }

    async fn load_challenge(
        &self,
        id: &str,
        journey: &str,
    ) -> Result<Option<Challenge>, CoreError> {
        let Some(raw) = self.ephemeral.get(&key(id)).await? else {
            return Ok(None);
        };
        let c: Challenge = serde_json::from_slice(&raw)
            .map_err(|e| CoreError::Unavailable(format!("challenge: {e}")))?;
        // A code belongs to the journey that asked for it: another login attempt cannot use it.
        Ok((c.journey == journey && c.expires_at > self.clock.now()).then_some(c))
    }

    /// Checks `code` against the challenge. The right code works once; wrong codes are
    /// counted atomically and end the challenge at `max_attempts`.
    pub async fn verify_sms_challenge(
        &self,
        id: &str,
        journey: &str,
        code: &str,
        policy: &OtpPolicy,
    ) -> Result<OtpOutcome, CoreError> {
        let Some(c) = self.load_challenge(id, journey).await? else {
            return Ok(OtpOutcome::Expired);
        };
        let code = code.trim();
        let matches = code.len() == 6
            && self
                .codes
                .verify(c.citizen, &format!("otp:{id}"), code, &c.code_hash)?;
        if matches {
            return Ok(match self.ephemeral.consume(&key(id)).await? {
                Consumed::Value(_) => OtpOutcome::Verified(c.citizen),
                Consumed::AlreadyConsumed | Consumed::Missing => OtpOutcome::Expired,
            });
        }
        let attempts = self
            .ephemeral
            .incr(&attempts_key(id), Self::ttl(policy))
            .await?;
        let attempts = u32::try_from(attempts).unwrap_or(u32::MAX);
        if attempts >= policy.max_attempts {
            self.ephemeral.delete(&key(id)).await?;
            return Ok(OtpOutcome::Exhausted);
        }
        Ok(OtpOutcome::Wrong {
            remaining: policy.max_attempts - attempts,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::notify::OutboxSms;
    use crate::core::testing::world;
    use std::sync::Arc;

    struct Sms {
        outbox: OutboxSms,
        path: std::path::PathBuf,
        _dir: tempfile::TempDir,
    }

    fn sms(clock: Arc<crate::clock::ManualClock>) -> Sms {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sms.jsonl");
        Sms {
            outbox: OutboxSms::new(path.clone(), clock),
            path,
            _dir: dir,
        }
    }

    impl Sms {
        fn sender<'a>(&'a self, lang: Lang, policy: &'a OtpPolicy) -> OtpSender<'a> {
            OtpSender {
                sms: &self.outbox,
                lang,
                policy,
            }
        }
    }

    async fn last_code(s: &Sms) -> String {
        let all = crate::core::notify::read_outbox(&s.path).await.unwrap();
        let text = &all.last().unwrap().text;
        text.split_whitespace()
            .find(|w| w.len() == 7 && w.ends_with('.'))
            .unwrap()
            .trim_end_matches('.')
            .to_owned()
    }

    #[tokio::test]
    async fn a_code_works_once_only_in_its_journey_and_only_before_expiry() {
        single_use_bound_and_expiring(world().await).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_same_on_postgresql_and_redis() {
        crate::core::testing::on_production_engines(single_use_bound_and_expiring).await;
    }

    async fn single_use_bound_and_expiring(w: crate::core::testing::World) {
        let s = sms(w.clock.clone());
        let p = OtpPolicy::default();
        let e = &w.engine;
        let to = &w.citizen.mobile;
        let id = e
            .issue_sms_challenge(
                w.citizen.id,
                "login",
                "journey-1",
                to,
                s.sender(Lang::Es, &p),
            )
            .await
            .unwrap()
            .unwrap();
        let code = last_code(&s).await;
        assert_eq!(
            e.verify_sms_challenge(&id, "journey-2", &code, &p)
                .await
                .unwrap(),
            OtpOutcome::Expired,
            "another login attempt"
        );
        assert_eq!(
            e.verify_sms_challenge(&id, "journey-1", &code, &p)
                .await
                .unwrap(),
            OtpOutcome::Verified(w.citizen.id)
        );
        assert_eq!(
            e.verify_sms_challenge(&id, "journey-1", &code, &p)
                .await
                .unwrap(),
            OtpOutcome::Expired,
            "single use"
        );

        let id = e
            .issue_sms_challenge(
                w.citizen.id,
                "login",
                "journey-3",
                to,
                s.sender(Lang::En, &p),
            )
            .await
            .unwrap()
            .unwrap();
        let code = last_code(&s).await;
        w.clock
            .advance(Duration::minutes(10) + Duration::seconds(1));
        assert_eq!(
            e.verify_sms_challenge(&id, "journey-3", &code, &p)
                .await
                .unwrap(),
            OtpOutcome::Expired,
            "after 10 minutes"
        );
    }

    #[tokio::test]
    async fn five_wrong_codes_end_the_challenge_and_resends_are_limited() {
        let w = world().await;
        let s = sms(w.clock.clone());
        let p = OtpPolicy::default();
        let e = &w.engine;
        let id = e
            .issue_sms_challenge(
                w.citizen.id,
                "login",
                "j",
                &w.citizen.mobile,
                s.sender(Lang::Ca, &p),
            )
            .await
            .unwrap()
            .unwrap();
        let code = last_code(&s).await;
        let wrong = if code == "000000" { "111111" } else { "000000" };
        for remaining in (1..5).rev() {
            assert_eq!(
                e.verify_sms_challenge(&id, "j", wrong, &p).await.unwrap(),
                OtpOutcome::Wrong { remaining }
            );
        }
        assert_eq!(
            e.verify_sms_challenge(&id, "j", wrong, &p).await.unwrap(),
            OtpOutcome::Exhausted
        );
        assert_eq!(
            e.verify_sms_challenge(&id, "j", &code, &p).await.unwrap(),
            OtpOutcome::Expired,
            "the right code no longer works"
        );

        let id = e
            .issue_sms_challenge(
                w.citizen.id,
                "login",
                "k",
                &w.citizen.mobile,
                s.sender(Lang::Es, &p),
            )
            .await
            .unwrap()
            .unwrap();
        let first = last_code(&s).await;
        assert!(matches!(
            e.resend_sms_challenge(&id, "k", s.sender(Lang::Es, &p))
                .await
                .unwrap(),
            Err(SendRefusal::TooSoon(_))
        ));
        for _ in 0..2 {
            w.clock.advance(Duration::seconds(31));
            e.resend_sms_challenge(&id, "k", s.sender(Lang::Es, &p))
                .await
                .unwrap()
                .unwrap();
        }
        w.clock.advance(Duration::seconds(31));
        assert_eq!(
            e.resend_sms_challenge(&id, "k", s.sender(Lang::Es, &p))
                .await
                .unwrap(),
            Err(SendRefusal::TooManySends)
        );
        let latest = last_code(&s).await;
        if latest != first {
            assert_eq!(
                e.verify_sms_challenge(&id, "k", &first, &p).await.unwrap(),
                OtpOutcome::Wrong { remaining: 4 },
                "a resend replaces the code"
            );
        }
        assert_eq!(
            e.verify_sms_challenge(&id, "k", &latest, &p).await.unwrap(),
            OtpOutcome::Verified(w.citizen.id)
        );
    }
}
