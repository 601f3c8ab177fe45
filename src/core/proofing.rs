//! Online identity proofing with a lower proofing level than an office visit.
//!
//! * Invitation letter (Cl@ve): an operator prints a letter with a CSV code sent to the
//!   registered postal address; the citizen types identifier + CSV online and receives an
//!   activation code by SMS. Proofing becomes `letter`.
//! * ANSES style: identifier + the DNI trámite number, or multiple-choice questions built from
//!   the recorded verification facts. Both share one budget of 3 failed attempts on channel
//!   `online`, after which only an office visit remains. Proofing becomes `online`.
//!
//! A proofing level is never lowered: a citizen proofed in person who uses these channels keeps
//! `in_person`.

use super::CoreError;
use super::audit::Outcome;
use super::citizen::{Citizen, CitizenStatus};
use super::credentials::Lang;
use super::engine::{Actor, Engine};
use super::identifier::Identifier;
use super::level::ProofingLevel;
use super::notify::SmsGateway;
use super::random;
use super::registry::IssuedCode;
use chrono::{DateTime, Utc};
use serde_json::json;

pub use questions::{IdentityQuiz, NONE_OF_THESE, Question, QuizStart};

#[path = "proofing_questions.rs"]
mod questions;

/// Purpose tag of an invitation-letter CSV in the activation-code table.
pub const PURPOSE_LETTER: &str = "letter";

/// How long a letter's CSV stays valid.
pub const LETTER_DAYS: i64 = 90;

/// Channel name shared by the trámite check and the questions in the failure counter.
pub const CHANNEL_ONLINE: &str = "online";

/// Failed online attempts (trámite or questions together) before only an office remains.
pub const MAX_ONLINE_ATTEMPTS: u32 = 3;

/// Unambiguous uppercase alphabet (no I, O, 0, 1). 32 symbols, so `byte % 32` is unbiased.
const CSV_ALPHABET: &[u8; 32] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
const CSV_LEN: usize = 16;

/// What redeeming a letter found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LetterOutcome {
    /// The CSV matched; an activation code was sent by SMS and the letter is used up.
    CodeSent {
        /// When the activation code stops working.
        expires_at: DateTime<Utc>,
    },
    /// Unknown identifier or wrong CSV: the same answer, so the form reveals nothing.
    Mismatch,
    /// Too many wrong attempts: ask for a new letter or go to an office.
    Blocked,
    /// The letter has expired: ask for a new one.
    Expired,
    /// No letter for this account (never issued, already used, or account closed).
    NoLetter,
    /// The CSV was right but the SMS could not be sent; the letter is kept: try again.
    SendFailed,
}

/// What an ANSES-style proofing attempt found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProofingOutcome {
    /// Identity proofed; proofing is now at least `online`.
    Verified(Box<Citizen>),
    /// Wrong answer (or unknown identifier); this many attempts remain.
    Mismatch {
        /// Online attempts left before only an office visit remains.
        attempts_left: u32,
    },
    /// No online attempts left: only in person now.
    Exhausted,
    /// This way is not available for the account (no trámite recorded, no usable facts):
    /// use the other way or go in person.
    NotAvailable,
    /// The quiz expired or was already answered: start again (no attempt counted).
    QuizGone,
}

/// four groups of four (`ABCD-EFGH-JKLM-NPQR`), for printing.
fn group_csv(csv: &str) -> String {
    let chars: Vec<char> = csv.chars().collect();
    chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// The CSV as compared: hyphens and spaces dropped, uppercase, so the citizen may type it
/// either way.
fn normalise_csv(typed: &str) -> String {
    typed
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

fn new_csv() -> Result<String, openssl::error::ErrorStack> {
    Ok(random::bytes(CSV_LEN)?
        .into_iter()
        .map(|b| char::from(CSV_ALPHABET[usize::from(b) % CSV_ALPHABET.len()]))
        .collect())
}

/// The SMS carrying an activation code after a letter was redeemed.
pub fn activation_sms_text(code: &str, expires_at: DateTime<Utc>, lang: Lang) -> String {
    let date = expires_at.format("%d/%m/%Y");
    match lang {
        Lang::Es => format!(
            "pasarela: su código de activación es {code}. Válido hasta el {date}. No lo comparta con nadie."
        ),
        Lang::Ca => format!(
            "pasarela: el seu codi d'activació és {code}. Vàlid fins al {date}. No el compartisca amb ningú."
        ),
        Lang::En => format!(
            "pasarela: your activation code is {code}. Valid until {date}. Do not share it with anyone."
        ),
    }
}

impl Engine {
    /// Issues an invitation letter: a fresh CSV (grouped for printing) replacing any previous
    /// letter, stored hashed with purpose `letter`, valid [`LETTER_DAYS`] days.
    pub async fn issue_letter(
        &self,
        reference: &str,
        actor: &Actor,
    ) -> Result<(Citizen, IssuedCode), CoreError> {
        let citizen = self.find_live_citizen(reference).await?;
        let csv = new_csv()?;
        let expires_at = self
            .store_code(
                citizen.id,
                PURPOSE_LETTER,
                &csv,
                LETTER_DAYS,
                "letter.issued",
                actor,
            )
            .await?;
        let code = group_csv(&csv);
        Ok((citizen, IssuedCode { code, expires_at }))
    }

    /// Redeems a letter: identifier + CSV. On success sends a new activation code by SMS,
    /// raises proofing to `letter` (never lowers it) and uses the letter up.
    pub async fn redeem_letter(
        &self,
        identifier: &str,
        csv: &str,
        sms: &dyn SmsGateway,
        lang: Lang,
        actor: &Actor,
    ) -> Result<LetterOutcome, CoreError> {
        let Ok(ident) = Identifier::parse_any(identifier) else {
            return Ok(LetterOutcome::Mismatch);
        };
        let Some(citizen) = self.store.citizen_by_identifier(&ident).await? else {
            return Ok(LetterOutcome::Mismatch);
        };
        if matches!(
            citizen.status,
            CitizenStatus::Deregistered | CitizenStatus::Blocked
        ) {
            return Ok(LetterOutcome::NoLetter);
        }
        let Some(record) = self
            .store
            .activation_code(citizen.id, PURPOSE_LETTER)
            .await?
        else {
            return Ok(LetterOutcome::NoLetter);
        };
        let now = self.clock.now();
        if record.blocked_at.is_some() {
            return Ok(LetterOutcome::Blocked);
        }
        if now >= record.expires_at {
            return Ok(LetterOutcome::Expired);
        }
        let ok = self.codes.verify(
            citizen.id,
            PURPOSE_LETTER,
            &normalise_csv(csv),
            &record.code_hash,
        )?;
        if !ok {
            let max = self.citizens.max_code_failures;
            let count = self
                .store
                .record_code_failure(citizen.id, PURPOSE_LETTER, max, now)
                .await?;
            if count.newly_blocked {
                self.audit(
                    self.event(actor, "letter.blocked")
                        .citizen(citizen.id)
                        .outcome(Outcome::Refused)
                        .detail(json!({ "failures": count.failures })),
                )
                .await?;
            }
            return Ok(if count.blocked {
                LetterOutcome::Blocked
            } else {
                LetterOutcome::Mismatch
            });
        }
        let code = self.issue_activation_code(citizen.id, actor).await?;
        let text = activation_sms_text(&code.code, code.expires_at, lang);
        if let Err(e) = sms.send(&citizen.mobile, &text).await {
            // The letter is kept so the citizen can try again; the code just issued is
            // replaced by the next successful attempt.
            tracing::warn!(error = %e, "activation code after letter not sent");
            self.audit(
                self.event(actor, "letter.sms_failed")
                    .citizen(citizen.id)
                    .outcome(Outcome::Failure)
                    .detail(json!({ "error": e.code() })),
            )
            .await?;
            return Ok(LetterOutcome::SendFailed);
        }
        self.store
            .delete_activation_code(citizen.id, PURPOSE_LETTER)
            .await?;
        self.raise_proofing(citizen, ProofingLevel::Letter, actor)
            .await?;
        self.audit(
            self.event(actor, "letter.redeemed")
                .citizen(record.citizen_id),
        )
        .await?;
        Ok(LetterOutcome::CodeSent {
            expires_at: code.expires_at,
        })
    }

    /// Records `level` unless the citizen's proofing is already at least as high.
    pub(crate) async fn raise_proofing(
        &self,
        citizen: Citizen,
        level: ProofingLevel,
        actor: &Actor,
    ) -> Result<Citizen, CoreError> {
        if citizen.proofing >= level {
            return Ok(citizen);
        }
        self.record_proofing(citizen, level, actor).await
    }

    /// ANSES style: identifier + the 11-digit trámite number of the citizen's DNI.
    pub async fn check_tramite(
        &self,
        identifier: &str,
        tramite: &str,
        actor: &Actor,
    ) -> Result<ProofingOutcome, CoreError> {
        let Some(citizen) = self.online_candidate(identifier).await? else {
            return self.unknown_candidate(identifier).await;
        };
        if self.online_exhausted(&citizen).await? {
            return Ok(ProofingOutcome::Exhausted);
        }
        let Some(expected) = citizen.tramite.clone() else {
            return Ok(ProofingOutcome::NotAvailable);
        };
        let typed: String = tramite.chars().filter(char::is_ascii_digit).collect();
        let ok = typed.len() == expected.len()
            && openssl::memcmp::eq(typed.as_bytes(), expected.as_bytes());
        self.online_result(citizen, ok, "tramite", actor).await
    }

    /// After online proofing (trámite or questions) succeeded: issues a fresh activation code
    /// (replacing any previous one; audited as `activation_code.issued`) and sends it by SMS to
    /// the registered mobile. `Ok(None)` when the SMS could not be sent (audited as
    /// `proofing.sms_failed`): the citizen may try again.
    pub async fn send_activation_code_after_proofing(
        &self,
        citizen: &Citizen,
        sms: &dyn SmsGateway,
        lang: Lang,
        actor: &Actor,
    ) -> Result<Option<DateTime<Utc>>, CoreError> {
        let code = self.issue_activation_code(citizen.id, actor).await?;
        let text = activation_sms_text(&code.code, code.expires_at, lang);
        if let Err(e) = sms.send(&citizen.mobile, &text).await {
            tracing::warn!(error = %e, "activation code after online proofing not sent");
            self.audit(
                self.event(actor, "proofing.sms_failed")
                    .citizen(citizen.id)
                    .outcome(Outcome::Failure)
                    .detail(json!({ "error": e.code() })),
            )
            .await?;
            return Ok(None);
        }
        Ok(Some(code.expires_at))
    }

    /// The answer for an identifier that names nobody: counted like a known citizen's wrong
    /// answers (in the ephemeral store, per identifier as typed, for 30 days), so that the
    /// attempts left and the final refusal do not reveal whether the identifier is registered.
    async fn unknown_candidate(&self, identifier: &str) -> Result<ProofingOutcome, CoreError> {
        let normalized: String = identifier
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let digest = openssl::sha::sha256(normalized.as_bytes());
        let key = format!("proofing:unknown:{}", hex::encode(&digest[..16]));
        let failures = self
            .ephemeral
            .incr(&key, std::time::Duration::from_secs(30 * 24 * 3600))
            .await?;
        let failures = u32::try_from(failures).unwrap_or(u32::MAX);
        Ok(if failures >= MAX_ONLINE_ATTEMPTS {
            ProofingOutcome::Exhausted
        } else {
            ProofingOutcome::Mismatch {
                attempts_left: MAX_ONLINE_ATTEMPTS - failures,
            }
        })
    }

    /// The citizen behind `identifier` if online proofing may be tried for them.
    async fn online_candidate(&self, identifier: &str) -> Result<Option<Citizen>, CoreError> {
        let Ok(ident) = Identifier::parse_any(identifier) else {
            return Ok(None);
        };
        Ok(self
            .store
            .citizen_by_identifier(&ident)
            .await?
            .filter(|c| c.status != CitizenStatus::Deregistered))
    }

    async fn online_exhausted(&self, citizen: &Citizen) -> Result<bool, CoreError> {
        Ok(self
            .store
            .proofing_failures(citizen.id, CHANNEL_ONLINE)
            .await?
            .blocked)
    }

    /// Turns a right or wrong online answer into the outcome, counting a failure atomically.
    async fn online_result(
        &self,
        citizen: Citizen,
        ok: bool,
        way: &str,
        actor: &Actor,
    ) -> Result<ProofingOutcome, CoreError> {
        if ok {
            let id = citizen.id;
            let citizen = self
                .raise_proofing(citizen, ProofingLevel::Online, actor)
                .await?;
            self.audit(
                self.event(actor, "proofing.online_verified")
                    .citizen(id)
                    .detail(json!({ "way": way })),
            )
            .await?;
            return Ok(ProofingOutcome::Verified(Box::new(citizen)));
        }
        let now = self.clock.now();
        let count = self
            .store
            .record_proofing_failure(citizen.id, CHANNEL_ONLINE, MAX_ONLINE_ATTEMPTS, now)
            .await?;
        if count.newly_blocked {
            self.audit(
                self.event(actor, "proofing.online_exhausted")
                    .citizen(citizen.id)
                    .outcome(Outcome::Refused)
                    .detail(json!({ "failures": count.failures, "way": way })),
            )
            .await?;
        }
        Ok(if count.blocked {
            ProofingOutcome::Exhausted
        } else {
            ProofingOutcome::Mismatch {
                attempts_left: MAX_ONLINE_ATTEMPTS.saturating_sub(count.failures),
            }
        })
    }
}

#[cfg(test)]
#[path = "proofing_tests.rs"]
mod tests;
