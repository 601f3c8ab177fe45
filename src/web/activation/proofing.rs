//! Online proofing pages that end with an activation code sent by SMS: the invitation letter
//! (Cl@ve, identifier + CSV), and the ANSES ways (identifier + DNI trámite number, or
//! multiple-choice identity questions; 3 failed attempts in all, then only in person).

use super::{Page, actor, csrf_token, finish, message_page, respond};
use crate::core::citizen::Citizen;
use crate::core::proofing::{LetterOutcome, ProofingOutcome, Question, QuizStart};
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
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// "An activation code is on its way by SMS": the end of every proofing page.
fn code_sent(tr: Tr, expires_at: DateTime<Utc>) -> Response {
    let date = expires_at.format("%d/%m/%Y").to_string();
    message_page(
        tr,
        Page {
            title: tr.t("act-sent-title"),
            alert: None,
            text: vec![
                tr.t1("act-sent-text", "date", &date),
                tr.t("act-sent-never-share"),
            ],
            link: Some(("/activate".into(), tr.t("act-sent-link"))),
        },
    )
}

/// "Only in person now."
fn in_person_only(tr: Tr) -> Response {
    message_page(
        tr,
        Page {
            title: tr.t("act-anses-title"),
            alert: Some(tr.t("act-anses-exhausted")),
            text: vec![tr.t("act-anses-in-person")],
            link: None,
        },
    )
}

/// Sends the activation code after successful online proofing.
async fn send_after_proofing(
    state: &AppState,
    tr: Tr,
    client: &ClientInfo,
    citizen: &Citizen,
) -> Result<Result<Response, String>, PageError> {
    let sent = state
        .engine
        .send_activation_code_after_proofing(
            citizen,
            state.sms.as_ref(),
            tr.language(),
            &actor(client),
        )
        .await?;
    Ok(match sent {
        Some(expires_at) => Ok(code_sent(tr, expires_at)),
        None => Err(tr.t("act-sms-send-failed")),
    })
}

// ----- Invitation letter -----

#[derive(Template)]
#[template(path = "activation/letter.html")]
struct LetterPage<'a> {
    tr: &'a Tr,
    csrf: &'a str,
    identifier: &'a str,
    error: Option<String>,
}

fn letter_page(
    tr: Tr,
    jar: CookieJar,
    client: &ClientInfo,
    identifier: &str,
    error: Option<String>,
) -> Result<Response, PageError> {
    let (jar, csrf) = csrf_token(jar, client)?;
    let page = LetterPage {
        tr: &tr,
        csrf: &csrf,
        identifier,
        error,
    };
    Ok((jar, respond(tr, &page)).into_response())
}

/// The letter form.
// No `Debug`: it carries a secret, which must never reach a log.
#[derive(Default, Deserialize)]
#[serde(default)]
pub struct LetterForm {
    csrf: String,
    identifier: String,
    csv: String,
}

/// `GET /letter`.
pub async fn letter_form(tr: Tr, client: ClientInfo, jar: CookieJar) -> Response {
    finish(tr, letter_page(tr, jar, &client, "", None))
}

/// `POST /letter`: identifier + CSV; on success an activation code goes by SMS.
pub async fn letter_submit(
    State(state): State<AppState>,
    tr: Tr,
    client: ClientInfo,
    jar: CookieJar,
    Form(form): Form<LetterForm>,
) -> Response {
    let result = async {
        check_csrf(&jar, &client, &form.csrf)?;
        let outcome = state
            .engine
            .redeem_letter(
                &form.identifier,
                &form.csv,
                state.sms.as_ref(),
                tr.language(),
                &actor(&client),
            )
            .await?;
        let error = match outcome {
            LetterOutcome::CodeSent { expires_at } => return Ok(code_sent(tr, expires_at)),
            LetterOutcome::Mismatch => tr.t("act-letter-mismatch"),
            LetterOutcome::Blocked => tr.t("act-letter-blocked"),
            LetterOutcome::Expired => tr.t("act-letter-expired"),
            LetterOutcome::NoLetter => tr.t("act-letter-none"),
            LetterOutcome::SendFailed => tr.t("act-sms-send-failed"),
        };
        letter_page(tr, jar, &client, &form.identifier, Some(error))
    };
    finish(tr, result.await)
}

// ----- ANSES: trámite number -----

#[derive(Template)]
#[template(path = "activation/anses.html")]
struct AnsesPage<'a> {
    tr: &'a Tr,
    csrf: &'a str,
    identifier: &'a str,
    error: Option<String>,
}

fn anses_page(
    tr: Tr,
    jar: CookieJar,
    client: &ClientInfo,
    identifier: &str,
    error: Option<String>,
) -> Result<Response, PageError> {
    let (jar, csrf) = csrf_token(jar, client)?;
    let page = AnsesPage {
        tr: &tr,
        csrf: &csrf,
        identifier,
        error,
    };
    Ok((jar, respond(tr, &page)).into_response())
}

/// The trámite form.
// No `Debug`: it carries a secret, which must never reach a log.
#[derive(Default, Deserialize)]
#[serde(default)]
pub struct AnsesForm {
    csrf: String,
    identifier: String,
    tramite: String,
}

/// `GET /anses`.
pub async fn anses_form(tr: Tr, client: ClientInfo, jar: CookieJar) -> Response {
    finish(tr, anses_page(tr, jar, &client, "", None))
}

/// The page's words for a failed online attempt.
fn proofing_refusal(tr: &Tr, outcome: &ProofingOutcome) -> String {
    match outcome {
        ProofingOutcome::Mismatch { attempts_left } => {
            tr.t1("act-anses-mismatch", "left", &attempts_left.to_string())
        }
        ProofingOutcome::NotAvailable => tr.t("act-anses-not-available"),
        ProofingOutcome::QuizGone => tr.t("act-quiz-gone"),
        ProofingOutcome::Exhausted | ProofingOutcome::Verified(_) => tr.t("act-anses-exhausted"),
    }
}

/// `POST /anses`: identifier + trámite number.
pub async fn anses_submit(
    State(state): State<AppState>,
    tr: Tr,
    client: ClientInfo,
    jar: CookieJar,
    Form(form): Form<AnsesForm>,
) -> Response {
    let result = async {
        check_csrf(&jar, &client, &form.csrf)?;
        let outcome = state
            .engine
            .check_tramite(&form.identifier, &form.tramite, &actor(&client))
            .await?;
        let error = match outcome {
            ProofingOutcome::Verified(citizen) => {
                match send_after_proofing(&state, tr, &client, &citizen).await? {
                    Ok(page) => return Ok(page),
                    Err(error) => error,
                }
            }
            ProofingOutcome::Exhausted => return Ok(in_person_only(tr)),
            other => proofing_refusal(&tr, &other),
        };
        anses_page(tr, jar, &client, &form.identifier, Some(error))
    };
    finish(tr, result.await)
}

// ----- ANSES: identity questions -----

const QUIZ_FLOW: &str = "anses";

/// The questions journey: who, and the quiz being answered (the expected answers stay in
/// the engine).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct QuizJourney {
    identifier: String,
    quiz_id: Option<String>,
    questions: Vec<Question>,
}

/// One question as shown: a radio group.
struct QuestionView {
    name: String,
    legend: String,
    options: Vec<(String, String)>,
}

fn question_view(tr: &Tr, index: usize, q: &Question) -> QuestionView {
    let key = match q.kind.as_str() {
        "employer" => "act-quiz-q-employer",
        "bank" => "act-quiz-q-bank",
        "health_insurer" | "obra_social" => "act-quiz-q-health",
        "city" | "locality" => "act-quiz-q-city",
        _ => "act-quiz-q-other",
    };
    let last = q.options.len().saturating_sub(1);
    QuestionView {
        name: format!("q{index}"),
        legend: tr.t(key),
        options: q
            .options
            .iter()
            .enumerate()
            .map(|(i, o)| {
                // The last option is always "none of these", worded in the page's language.
                let label = if i == last {
                    tr.t("act-quiz-none")
                } else {
                    o.clone()
                };
                (i.to_string(), label)
            })
            .collect(),
    }
}

#[derive(Template)]
#[template(path = "activation/questions.html")]
struct QuestionsPage<'a> {
    tr: &'a Tr,
    csrf: &'a str,
    identifier: &'a str,
    questions: Vec<QuestionView>,
    error: Option<String>,
}

fn questions_page(
    tr: Tr,
    jar: CookieJar,
    client: &ClientInfo,
    journey: Option<&QuizJourney>,
    error: Option<String>,
) -> Result<Response, PageError> {
    let (jar, csrf) = csrf_token(jar, client)?;
    let questions = journey
        .filter(|j| j.quiz_id.is_some())
        .map(|j| {
            j.questions
                .iter()
                .enumerate()
                .map(|(i, q)| question_view(&tr, i, q))
                .collect()
        })
        .unwrap_or_default();
    let page = QuestionsPage {
        tr: &tr,
        csrf: &csrf,
        identifier: journey.map_or("", |j| j.identifier.as_str()),
        questions,
        error,
    };
    Ok((jar, respond(tr, &page)).into_response())
}

/// `GET /anses/questions`: the current quiz, or the identifier form that starts one.
pub async fn questions_form(
    State(state): State<AppState>,
    tr: Tr,
    client: ClientInfo,
    jar: CookieJar,
) -> Response {
    let result = async {
        let journey = flow::load::<QuizJourney>(&state, &jar, client.https, QUIZ_FLOW).await?;
        questions_page(tr, jar, &client, journey.as_ref().map(|f| &f.data), None)
    };
    finish(tr, result.await)
}

/// The form that starts a quiz.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct StartForm {
    csrf: String,
    identifier: String,
}

/// A new quiz for `journey`'s citizen, or the page to show instead.
async fn new_quiz(
    state: &AppState,
    tr: Tr,
    journey: &mut QuizJourney,
) -> Result<Result<(), Response>, PageError> {
    match state.engine.identity_questions(&journey.identifier).await? {
        QuizStart::Quiz(quiz) => {
            journey.quiz_id = Some(quiz.quiz_id);
            journey.questions = quiz.questions;
            Ok(Ok(()))
        }
        QuizStart::Exhausted => Ok(Err(in_person_only(tr))),
        QuizStart::NotAvailable => Ok(Err(message_page(
            tr,
            Page {
                title: tr.t("act-anses-title"),
                alert: Some(tr.t("act-anses-not-available")),
                text: vec![tr.t("act-anses-in-person")],
                link: Some(("/anses".into(), tr.t("act-quiz-use-tramite"))),
            },
        ))),
    }
}

/// `POST /anses/questions/start`: identifier → a quiz.
pub async fn questions_start(
    State(state): State<AppState>,
    tr: Tr,
    client: ClientInfo,
    jar: CookieJar,
    Form(form): Form<StartForm>,
) -> Response {
    let result = async {
        check_csrf(&jar, &client, &form.csrf)?;
        let mut journey = QuizJourney {
            identifier: form.identifier.trim().to_owned(),
            quiz_id: None,
            questions: Vec::new(),
        };
        if let Err(page) = new_quiz(&state, tr, &mut journey).await? {
            return Ok(page);
        }
        let (jar, _) = flow::start(&state, jar, client.https, QUIZ_FLOW, journey).await?;
        Ok((jar, see_other("/anses/questions")).into_response())
    };
    finish(tr, result.await)
}

/// `POST /anses/questions`: the answers (`q0`, `q1`, … = index of the chosen option).
pub async fn questions_submit(
    State(state): State<AppState>,
    tr: Tr,
    client: ClientInfo,
    jar: CookieJar,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let result = async {
        check_csrf(&jar, &client, form.get("csrf").map_or("", String::as_str))?;
        let Some(mut f) = flow::load::<QuizJourney>(&state, &jar, client.https, QUIZ_FLOW).await?
        else {
            return Ok(see_other("/anses/questions"));
        };
        let Some(quiz_id) = f.data.quiz_id.take() else {
            return Ok(see_other("/anses/questions"));
        };
        // An unanswered or malformed question is a wrong answer.
        let answers: Vec<usize> = (0..f.data.questions.len())
            .map(|i| {
                form.get(&format!("q{i}"))
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(usize::MAX)
            })
            .collect();
        let outcome = state
            .engine
            .answer_questions(&quiz_id, &answers, &actor(&client))
            .await?;
        answered(&state, tr, &client, jar, f, outcome).await
    };
    finish(tr, result.await)
}

async fn answered(
    state: &AppState,
    tr: Tr,
    client: &ClientInfo,
    jar: CookieJar,
    mut f: Flow<QuizJourney>,
    outcome: ProofingOutcome,
) -> Result<Response, PageError> {
    match outcome {
        ProofingOutcome::Verified(citizen) => {
            let jar = flow::end(state, jar, client.https, QUIZ_FLOW, &f).await?;
            let page = match send_after_proofing(state, tr, client, &citizen).await? {
                Ok(page) => page,
                Err(error) => message_page(
                    tr,
                    Page {
                        title: tr.t("act-anses-title"),
                        alert: Some(error),
                        text: Vec::new(),
                        link: Some(("/anses/questions".into(), tr.t("act-start-again"))),
                    },
                ),
            };
            Ok((jar, page).into_response())
        }
        ProofingOutcome::Mismatch { .. } => {
            let error = proofing_refusal(&tr, &outcome);
            if let Err(page) = new_quiz(state, tr, &mut f.data).await? {
                let jar = flow::end(state, jar, client.https, QUIZ_FLOW, &f).await?;
                return Ok((jar, page).into_response());
            }
            flow::save(state, QUIZ_FLOW, &f).await?;
            questions_page(tr, jar, client, Some(&f.data), Some(error))
        }
        ProofingOutcome::Exhausted => {
            let jar = flow::end(state, jar, client.https, QUIZ_FLOW, &f).await?;
            Ok((jar, in_person_only(tr)).into_response())
        }
        other => {
            // The quiz expired or is not available: back to the identifier form.
            f.data.questions.clear();
            flow::save(state, QUIZ_FLOW, &f).await?;
            let error = proofing_refusal(&tr, &other);
            questions_page(tr, jar, client, Some(&f.data), Some(error))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::credentials::Lang;

    #[test]
    fn the_last_option_is_none_of_these_in_the_page_language() {
        let q = Question {
            kind: "employer".into(),
            options: vec![
                "ARCOR SAIC".into(),
                "ACME SA".into(),
                crate::core::proofing::NONE_OF_THESE.into(),
            ],
        };
        let tr = Tr::new(Lang::En);
        let v = question_view(&tr, 1, &q);
        assert_eq!(v.name, "q1");
        assert_eq!(v.legend, tr.t("act-quiz-q-employer"));
        assert_eq!(v.options[1], ("1".to_owned(), "ACME SA".to_owned()));
        assert_eq!(v.options[2], ("2".to_owned(), tr.t("act-quiz-none")));
    }
}
