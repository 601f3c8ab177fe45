//! ANSES-style multiple-choice questions built from the citizen's verification facts. The
//! expected answers stay server-side in the ephemeral store under a random quiz id; the page
//! only ever sees the questions.

use super::ProofingOutcome;
use crate::core::CoreError;
use crate::core::citizen::{CitizenId, VerificationFact};
use crate::core::engine::{Actor, Engine};
use crate::core::random;
use crate::store::Consumed;
use serde::{Deserialize, Serialize};

/// Text of the last option of every question.
pub const NONE_OF_THESE: &str = "Ninguna de las anteriores";

/// How long a quiz can be answered.
const QUIZ_TTL: std::time::Duration = std::time::Duration::from_secs(10 * 60);
/// At most this many questions per quiz.
const MAX_QUESTIONS: usize = 3;
/// Options besides "none of these".
const OPTIONS: usize = 4;

/// Plausible wrong answers per fact kind. A kind without a list yields no question, since a
/// question whose only option is the true value gives nothing away but proves nothing either.
fn decoys(kind: &str) -> &'static [&'static str] {
    match kind {
        "employer" => &[
            "SANTA JULIA S A",
            "ARCOR SAIC",
            "TELECOM ARGENTINA S A",
            "LOMA NEGRA CIASA",
            "MOLINOS RIO DE LA PLATA S A",
            "LEDESMA SAAI",
            "COTO CICSA",
            "INDUSTRIAS JUAN F SECCO S A",
        ],
        "bank" => &[
            "BANCO DE LA NACION ARGENTINA",
            "BANCO PROVINCIA",
            "BANCO GALICIA",
            "BANCO MACRO",
            "BANCO SANTANDER",
            "BBVA",
            "CAIXABANK",
            "BANCO SABADELL",
        ],
        "health_insurer" | "obra_social" => &[
            "OSDE",
            "PAMI",
            "IOMA",
            "OSECAC",
            "SWISS MEDICAL",
            "GALENO",
            "MEDIFE",
        ],
        "city" | "locality" => &[
            "CORDOBA", "ROSARIO", "MENDOZA", "LA PLATA", "SALTA", "VALENCIA", "SEVILLA", "ZARAGOZA",
        ],
        _ => &[],
    }
}

/// One multiple-choice question. The last option is always [`NONE_OF_THESE`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Question {
    /// The fact kind asked about (`employer`, `bank`, …), for the page to word the question.
    pub kind: String,
    /// The options, in the order shown.
    pub options: Vec<String>,
}

/// A quiz to show: its id (to send back with the answers) and its questions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IdentityQuiz {
    /// Random id; the expected answers are stored under it, never in the page.
    pub quiz_id: String,
    /// The questions.
    pub questions: Vec<Question>,
}

/// What starting a quiz found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QuizStart {
    /// Show these questions.
    Quiz(IdentityQuiz),
    /// No online attempts left: only in person now.
    Exhausted,
    /// No usable facts (or unknown identifier): use the trámite number or go in person.
    NotAvailable,
}

/// What is kept server-side for a quiz.
#[derive(Serialize, Deserialize)]
struct Expected {
    citizen: CitizenId,
    answers: Vec<usize>,
}

fn quiz_key(id: &str) -> String {
    format!("proofing:quiz:{id}")
}

/// A uniform index below `n` (rejection sampling, no modulo bias).
fn below(n: usize) -> Result<usize, CoreError> {
    let n32 = u32::try_from(n).map_err(|_| CoreError::Invalid("range too large".into()))?;
    if n32 == 0 {
        return Ok(0);
    }
    let zone = u32::MAX - (u32::MAX % n32);
    loop {
        let b = random::bytes(4)?;
        let v = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
        if v < zone {
            return Ok((v % n32) as usize);
        }
    }
}

fn shuffle<T>(items: &mut [T]) -> Result<(), CoreError> {
    for i in (1..items.len()).rev() {
        items.swap(i, below(i + 1)?);
    }
    Ok(())
}

/// Builds one question about `kind`, or `None` without enough decoys. `truths` are every true
/// value of that kind, none of which may appear as a decoy.
fn build_question(
    kind: &str,
    truth: &str,
    truths: &[&str],
    absent: bool,
) -> Result<Option<(Question, usize)>, CoreError> {
    let mut pool: Vec<&str> = decoys(kind)
        .iter()
        .copied()
        .filter(|d| !truths.iter().any(|t| t.trim().eq_ignore_ascii_case(d)))
        .collect();
    let wanted = if absent { OPTIONS } else { OPTIONS - 1 };
    if pool.len() < wanted {
        return Ok(None);
    }
    shuffle(&mut pool)?;
    let mut options: Vec<String> = pool[..wanted].iter().map(|s| (*s).to_owned()).collect();
    if !absent {
        options.push(truth.to_owned());
    }
    shuffle(&mut options)?;
    let expected = if absent {
        options.len()
    } else {
        options
            .iter()
            .position(|o| o == truth)
            .unwrap_or(options.len())
    };
    options.push(NONE_OF_THESE.to_owned());
    Ok(Some((
        Question {
            kind: kind.to_owned(),
            options,
        },
        expected,
    )))
}

impl Engine {
    /// Starts a quiz for `citizen_ref`: up to 3 questions, one per fact kind; about one in four
    /// leaves the true value out so that "none of these" is the right answer. The expected
    /// answers are kept for 10 minutes under a random quiz id.
    pub async fn identity_questions(&self, citizen_ref: &str) -> Result<QuizStart, CoreError> {
        let Some(citizen) = self.online_candidate(citizen_ref).await? else {
            return Ok(QuizStart::NotAvailable);
        };
        if self.online_exhausted(&citizen).await? {
            return Ok(QuizStart::Exhausted);
        }
        let mut kinds: Vec<&str> = Vec::new();
        for f in &citizen.verification_facts {
            if !kinds.contains(&f.kind.as_str()) {
                kinds.push(&f.kind);
            }
        }
        let (mut questions, mut answers) = (Vec::new(), Vec::new());
        for kind in kinds {
            if questions.len() == MAX_QUESTIONS {
                break;
            }
            let facts: Vec<&VerificationFact> = citizen
                .verification_facts
                .iter()
                .filter(|f| f.kind == kind)
                .collect();
            let truths: Vec<&str> = facts.iter().map(|f| f.value.as_str()).collect();
            let truth = facts[below(facts.len())?].value.as_str();
            let absent = below(4)? == 0;
            if let Some((q, a)) = build_question(kind, truth, &truths, absent)? {
                questions.push(q);
                answers.push(a);
            }
        }
        if questions.is_empty() {
            return Ok(QuizStart::NotAvailable);
        }
        let quiz_id = random::token(24)?;
        let expected = serde_json::to_vec(&Expected {
            citizen: citizen.id,
            answers,
        })
        .map_err(|e| CoreError::Unavailable(format!("quiz: {e}")))?;
        self.ephemeral
            .put(&quiz_key(&quiz_id), &expected, QUIZ_TTL)
            .await?;
        Ok(QuizStart::Quiz(IdentityQuiz { quiz_id, questions }))
    }

    /// Answers a quiz (single use). Any wrong answer counts one failed online attempt.
    pub async fn answer_questions(
        &self,
        quiz_id: &str,
        answers: &[usize],
        actor: &Actor,
    ) -> Result<ProofingOutcome, CoreError> {
        let raw = match self.ephemeral.consume(&quiz_key(quiz_id)).await? {
            Consumed::Value(v) => v,
            Consumed::AlreadyConsumed | Consumed::Missing => return Ok(ProofingOutcome::QuizGone),
        };
        let expected: Expected = serde_json::from_slice(&raw)
            .map_err(|e| CoreError::Unavailable(format!("quiz: {e}")))?;
        let Some(citizen) = self.store.citizen(expected.citizen).await? else {
            return Ok(ProofingOutcome::NotAvailable);
        };
        if self.online_exhausted(&citizen).await? {
            return Ok(ProofingOutcome::Exhausted);
        }
        let ok = answers == expected.answers.as_slice();
        self.online_result(citizen, ok, "questions", actor).await
    }
}
