use super::*;
use crate::core::activation_check::CodeCheck;
use crate::core::citizen::{NewCitizen, VerificationFact};
use crate::core::notify::outbox::{OutboxSms, read_outbox};
use crate::core::notify::{SendError, SmsGateway};
use crate::core::testing::{World, world, world_on};
use async_trait::async_trait;

struct DownSms;

#[async_trait]
impl SmsGateway for DownSms {
    async fn send(&self, _: &str, _: &str) -> Result<(), SendError> {
        Err(SendError::Unavailable("down".into()))
    }
    fn name(&self) -> &'static str {
        "down"
    }
}

fn wrong_csv(csv: &str) -> String {
    let first = if csv.starts_with('A') { 'B' } else { 'A' };
    format!("{first}{}", &csv[1..])
}

async fn register(w: &World, id: &str, proofing: ProofingLevel, facts: bool) -> Citizen {
    let new = NewCitizen {
        id_type: "dni".into(),
        id_number: id.into(),
        given_name: "Pablo".into(),
        family_names: "Ruiz".into(),
        birth_date: "1975-05-05".into(),
        email: "pablo@example.es".into(),
        mobile: "600333444".into(),
        tramite: facts.then(|| "00123456789".into()),
        verification_facts: if facts {
            vec![
                VerificationFact {
                    kind: "employer".into(),
                    value: "ACME SRL".into(),
                },
                VerificationFact {
                    kind: "bank".into(),
                    value: "BANCO CIUDAD".into(),
                },
            ]
        } else {
            vec![]
        },
        proofing: Some(proofing),
        ..Default::default()
    };
    w.engine
        .register_citizen(&new, &Actor::system())
        .await
        .unwrap()
        .citizen
}

async fn letter_contract(w: World) {
    let e = &w.engine;
    let actor = Actor::system();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sms.jsonl");
    let sms = OutboxSms::new(path.clone(), w.clock.clone());
    let pablo = register(&w, "87654321X", ProofingLevel::Online, false).await;

    let (_, letter) = e.issue_letter("87654321X", &actor).await.unwrap();
    assert_eq!(letter.code.len(), 19);
    assert_eq!(letter.code.matches('-').count(), 3);
    let typed = letter.code.replace('-', "").to_lowercase();

    // An SMS failure keeps the letter.
    assert_eq!(
        e.redeem_letter("87654321X", &typed, &DownSms, Lang::Es, &actor)
            .await
            .unwrap(),
        LetterOutcome::SendFailed
    );
    let out = e
        .redeem_letter("87654321X", &typed, &sms, Lang::Es, &actor)
        .await
        .unwrap();
    assert!(matches!(out, LetterOutcome::CodeSent { .. }), "{out:?}");
    let messages = read_outbox(&path).await.unwrap();
    let msg = messages.last().unwrap();
    assert_eq!(msg.to, pablo.mobile);
    assert!(
        msg.text
            .starts_with("pasarela: su código de activación es ")
    );
    let code: String = msg
        .text
        .chars()
        .filter(char::is_ascii_digit)
        .take(8)
        .collect();
    assert!(matches!(
        e.check_activation_code("87654321X", "pablo@example.es", &code, &actor)
            .await
            .unwrap(),
        CodeCheck::Valid(_)
    ));
    assert_eq!(
        e.find_citizen("87654321X").await.unwrap().proofing,
        ProofingLevel::Letter
    );
    // Single use.
    assert_eq!(
        e.redeem_letter("87654321X", &typed, &sms, Lang::Es, &actor)
            .await
            .unwrap(),
        LetterOutcome::NoLetter
    );

    // Lucía was proofed in person: a letter never lowers that.
    let (_, letter) = e.issue_letter("12345678Z", &actor).await.unwrap();
    assert!(matches!(
        e.redeem_letter("12345678Z", &letter.code, &sms, Lang::En, &actor)
            .await
            .unwrap(),
        LetterOutcome::CodeSent { .. }
    ));
    assert_eq!(
        e.find_citizen("12345678Z").await.unwrap().proofing,
        ProofingLevel::InPerson
    );
    let last = read_outbox(&path).await.unwrap();
    assert!(
        last.last()
            .unwrap()
            .text
            .starts_with("pasarela: your activation code is ")
    );

    // Unknown identifier and wrong CSV look alike; the 6th wrong CSV blocks.
    let (_, letter) = e.issue_letter("12345678Z", &actor).await.unwrap();
    assert_eq!(
        e.redeem_letter("11111111H", &letter.code, &sms, Lang::Es, &actor)
            .await
            .unwrap(),
        LetterOutcome::Mismatch
    );
    for _ in 0..5 {
        assert_eq!(
            e.redeem_letter(
                "12345678Z",
                &wrong_csv(&letter.code),
                &sms,
                Lang::Es,
                &actor
            )
            .await
            .unwrap(),
            LetterOutcome::Mismatch
        );
    }
    for csv in [wrong_csv(&letter.code), letter.code.clone()] {
        assert_eq!(
            e.redeem_letter("12345678Z", &csv, &sms, Lang::Es, &actor)
                .await
                .unwrap(),
            LetterOutcome::Blocked
        );
    }

    // Expiry after 90 days.
    let (_, letter) = e.issue_letter("12345678Z", &actor).await.unwrap();
    w.clock.advance(chrono::Duration::days(LETTER_DAYS));
    assert_eq!(
        e.redeem_letter("12345678Z", &letter.code, &sms, Lang::Es, &actor)
            .await
            .unwrap(),
        LetterOutcome::Expired
    );
}

#[tokio::test]
async fn letters_on_sqlite() {
    letter_contract(world().await).await;
}

#[tokio::test]
async fn letters_on_postgresql() {
    crate::store::sql::tests::with_fresh_postgres(|store| async move {
        letter_contract(world_on(store, None).await).await;
    })
    .await;
}

#[tokio::test]
async fn tramite_verifies_and_exhausts() {
    let w = world().await;
    let (e, actor) = (&w.engine, Actor::system());
    register(&w, "87654321X", ProofingLevel::Online, true).await;
    // Lucía has no trámite.
    assert_eq!(
        e.check_tramite("12345678Z", "00123456789", &actor)
            .await
            .unwrap(),
        ProofingOutcome::NotAvailable
    );
    let out = e
        .check_tramite("87654321X", "001 2345 6789", &actor)
        .await
        .unwrap();
    let ProofingOutcome::Verified(c) = out else {
        panic!("{out:?}")
    };
    assert_eq!(c.proofing, ProofingLevel::Online);

    for left in [2, 1] {
        assert_eq!(
            e.check_tramite("87654321X", "00123456780", &actor)
                .await
                .unwrap(),
            ProofingOutcome::Mismatch {
                attempts_left: left
            }
        );
    }
    for t in ["00123456780", "00123456789"] {
        assert_eq!(
            e.check_tramite("87654321X", t, &actor).await.unwrap(),
            ProofingOutcome::Exhausted
        );
    }
    assert_eq!(
        e.identity_questions("87654321X").await.unwrap(),
        QuizStart::Exhausted
    );

    // An identifier that names nobody counts down and ends the same way, so the answers do
    // not tell whether it is registered (however it is typed).
    for (typed, left) in [("11111111H", 2), ("11.111.111-h", 1)] {
        assert_eq!(
            e.check_tramite(typed, "00123456780", &actor).await.unwrap(),
            ProofingOutcome::Mismatch {
                attempts_left: left
            }
        );
    }
    assert_eq!(
        e.check_tramite("11111111H", "00123456780", &actor)
            .await
            .unwrap(),
        ProofingOutcome::Exhausted
    );
}

async fn quiz(e: &Engine, who: &str) -> (IdentityQuiz, Vec<usize>) {
    let QuizStart::Quiz(q) = e.identity_questions(who).await.unwrap() else {
        panic!("no quiz")
    };
    let right = q
        .questions
        .iter()
        .map(|q| {
            let truth = ["ACME SRL", "BANCO CIUDAD"];
            q.options
                .iter()
                .position(|o| truth.contains(&o.as_str()))
                .unwrap_or(q.options.len() - 1)
        })
        .collect();
    (q, right)
}

#[tokio::test]
async fn questions_verify_count_and_are_single_use() {
    let w = world().await;
    let (e, actor) = (&w.engine, Actor::system());
    register(&w, "87654321X", ProofingLevel::Online, true).await;
    assert_eq!(
        e.identity_questions("12345678Z").await.unwrap(),
        QuizStart::NotAvailable
    );

    let (q, right) = quiz(e, "87654321X").await;
    assert_eq!(q.questions.len(), 2);
    for question in &q.questions {
        assert_eq!(question.options.len(), 5);
        assert_eq!(question.options.last().unwrap(), NONE_OF_THESE);
    }
    assert!(matches!(
        e.answer_questions(&q.quiz_id, &right, &actor)
            .await
            .unwrap(),
        ProofingOutcome::Verified(_)
    ));
    assert_eq!(
        e.answer_questions(&q.quiz_id, &right, &actor)
            .await
            .unwrap(),
        ProofingOutcome::QuizGone
    );

    // A wrong answer counts one attempt.
    let (q, mut wrong) = quiz(e, "87654321X").await;
    wrong[0] = (wrong[0] + 1) % 5;
    assert_eq!(
        e.answer_questions(&q.quiz_id, &wrong, &actor)
            .await
            .unwrap(),
        ProofingOutcome::Mismatch { attempts_left: 2 }
    );

    // Over many quizzes "none of these" is sometimes the right answer, and it is accepted.
    let mut none_seen = false;
    for _ in 0..40 {
        let (q, right) = quiz(e, "87654321X").await;
        if right.contains(&4) {
            none_seen = true;
            assert!(matches!(
                e.answer_questions(&q.quiz_id, &right, &actor)
                    .await
                    .unwrap(),
                ProofingOutcome::Verified(_)
            ));
            break;
        }
    }
    assert!(none_seen);
    assert_eq!(
        e.find_citizen("87654321X").await.unwrap().proofing,
        ProofingLevel::Online
    );
}

#[test]
fn csv_is_grouped_and_normalised() {
    let csv = new_csv().unwrap();
    assert_eq!(csv.len(), 16);
    assert!(csv.bytes().all(|b| CSV_ALPHABET.contains(&b)));
    let grouped = group_csv(&csv);
    assert_eq!(normalise_csv(&grouped.to_lowercase()), csv);
}

#[tokio::test]
async fn after_online_proofing_a_new_activation_code_goes_by_sms() {
    let w = world().await;
    let actor = Actor::system();
    let c = register(&w, "11111111H", ProofingLevel::Online, true).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sms.jsonl");
    let sms = OutboxSms::new(path.clone(), w.clock.clone());
    let expires = w
        .engine
        .send_activation_code_after_proofing(&c, &sms, Lang::Es, &actor)
        .await
        .unwrap()
        .expect("sent");
    let text = read_outbox(&path)
        .await
        .unwrap()
        .last()
        .unwrap()
        .text
        .clone();
    let code: String = text
        .split(|ch: char| !ch.is_ascii_digit())
        .find(|run| run.len() == 8)
        .unwrap()
        .to_owned();
    assert!(expires > w.engine.clock.now());
    assert!(matches!(
        w.engine
            .check_activation_code("11111111H", "pablo@example.es", &code, &actor)
            .await
            .unwrap(),
        CodeCheck::Valid(_)
    ));
    // A gateway failure is reported (and audited), not an error.
    assert_eq!(
        w.engine
            .send_activation_code_after_proofing(&c, &DownSms, Lang::Es, &actor)
            .await
            .unwrap(),
        None
    );
    let audit = w
        .engine
        .store
        .audit_entries(Some(c.id), 0, 1000)
        .await
        .unwrap();
    assert!(audit.iter().any(|a| a.event.kind == "proofing.sms_failed"));
}
