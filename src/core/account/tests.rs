//! Account lifecycle tests on the shared SQLite fixture.

use super::*;
use crate::clock::Clock;
use crate::core::credentials::Argon2Params;
use crate::core::level::{AuthMethod, LevelOfAssurance};
use crate::core::login::PasswordOutcome;
use crate::core::notify::{OutboxEmail, OutboxSms, latest_for, read_email_outbox, read_outbox};
use crate::core::otp::{OtpOutcome, OtpPolicy, OtpSender};
use crate::core::session::SessionConfig;
use crate::core::testing::{World, world};
use std::path::PathBuf;
use std::sync::Arc;

const GOOD: &str = "correct horse battery staple";
const OTHER: &str = "lilac umbrella tramway 1987";

struct Kit {
    w: World,
    hasher: PasswordHasher,
    sms: OutboxSms,
    email: OutboxEmail,
    sms_path: PathBuf,
    email_path: PathBuf,
    _dir: tempfile::TempDir,
}

async fn kit() -> Kit {
    let w = world().await;
    let dir = tempfile::tempdir().unwrap();
    let sms_path = dir.path().join("sms.jsonl");
    let email_path = dir.path().join("email.jsonl");
    let clock: Arc<dyn Clock> = w.clock.clone();
    Kit {
        hasher: PasswordHasher::new(
            Argon2Params {
                memory_kib: 64,
                iterations: 1,
                parallelism: 1,
            },
            2,
        )
        .unwrap(),
        sms: OutboxSms::new(sms_path.clone(), clock.clone()),
        email: OutboxEmail::new(email_path.clone(), clock),
        sms_path,
        email_path,
        w,
        _dir: dir,
    }
}

fn actor() -> Actor {
    Actor {
        name: "citizen".into(),
        source: None,
    }
}

impl Kit {
    fn id(&self) -> CitizenId {
        self.w.citizen.id
    }

    fn notice(&self) -> EmailNotice<'_> {
        EmailNotice {
            email: &self.email,
            lang: Lang::Es,
        }
    }

    fn new_password<'a>(&'a self, p: &'a str) -> NewPassword<'a> {
        NewPassword {
            password: p,
            confirmation: p,
            preset: PolicyPreset::Nist,
            hasher: &self.hasher,
        }
    }

    async fn activate(&self) {
        let e = &self.w.engine;
        e.accept_security_policy(self.id(), "2024-1", &actor())
            .await
            .unwrap();
        let r = e
            .activate(
                self.id(),
                GOOD,
                GOOD,
                PolicyPreset::Nist,
                &self.hasher,
                &actor(),
            )
            .await
            .unwrap();
        assert!(matches!(r, ActivationResult::Activated(_)), "{r:?}");
    }

    async fn login(&self, password: &str) -> bool {
        let out = self
            .w
            .engine
            .check_password(
                "12345678Z",
                password,
                None,
                &self.hasher,
                &crate::core::login::LoginPolicy::default(),
                &actor(),
            )
            .await
            .unwrap();
        matches!(out, PasswordOutcome::Accepted { .. })
    }

    async fn open_session(&self) {
        self.w
            .engine
            .create_session(
                self.id(),
                &[AuthMethod::Pwd],
                LevelOfAssurance::Low,
                None,
                None,
                &SessionConfig::default(),
            )
            .await
            .unwrap();
    }

    async fn live_sessions(&self) -> usize {
        self.w
            .engine
            .sessions_of(self.id(), &SessionConfig::default())
            .await
            .unwrap()
            .len()
    }

    async fn kinds(&self) -> Vec<String> {
        let entries = self
            .w
            .engine
            .store
            .audit_entries(Some(self.id()), 0, 1000)
            .await
            .unwrap();
        entries.into_iter().map(|e| e.event.kind).collect()
    }
}

#[tokio::test]
async fn activation_needs_policy_matching_confirmation_and_a_good_password() {
    let k = kit().await;
    let e = &k.w.engine;
    let (id, h, nist) = (k.id(), &k.hasher, PolicyPreset::Nist);
    e.issue_activation_code(id, &Actor::operator("ana"))
        .await
        .unwrap();
    let r = e.activate(id, GOOD, GOOD, nist, h, &actor()).await.unwrap();
    assert_eq!(r, ActivationResult::PolicyNotAccepted);
    e.accept_security_policy(id, "2024-1", &actor())
        .await
        .unwrap();
    let r = e
        .activate(id, GOOD, OTHER, nist, h, &actor())
        .await
        .unwrap();
    assert_eq!(r, ActivationResult::ConfirmationMismatch);
    let r = e
        .activate(id, "password", "password", nist, h, &actor())
        .await
        .unwrap();
    assert!(
        matches!(r, ActivationResult::Violations(ref v) if !v.is_empty()),
        "{r:?}"
    );
    assert!(!k.login("password").await);
    let r = e.activate(id, GOOD, GOOD, nist, h, &actor()).await.unwrap();
    let ActivationResult::Activated(c) = r else {
        panic!("{r:?}")
    };
    assert_eq!(c.status, CitizenStatus::Active);
    assert!(k.login(GOOD).await);
    // The activation code stays as the recovery code.
    let code = e
        .store
        .activation_code(id, PURPOSE_ACTIVATION)
        .await
        .unwrap();
    assert!(code.is_some());
    // Activating twice is refused by state.
    let again = e.activate(id, GOOD, GOOD, nist, h, &actor()).await;
    assert!(matches!(again, Err(CoreError::Refused(_))));
    let kinds = k.kinds().await;
    assert!(kinds.contains(&"policy.accepted".to_owned()));
    assert!(kinds.contains(&"citizen.activated".to_owned()));
}

#[tokio::test]
async fn reset_clears_the_lock_and_ends_sessions() {
    let k = kit().await;
    k.activate().await;
    let e = &k.w.engine;
    for _ in 0..3 {
        e.store
            .record_login_failure(k.id(), 3, k.w.clock.now())
            .await
            .unwrap();
    }
    assert!(e.store.login_failures(k.id()).await.unwrap().locked);
    k.open_session().await;
    k.open_session().await;
    assert_eq!(k.live_sessions().await, 2);
    let mismatch = NewPassword {
        confirmation: GOOD,
        ..k.new_password(OTHER)
    };
    let r = e
        .reset_password(k.id(), mismatch, k.notice(), &actor())
        .await
        .unwrap();
    assert_eq!(r, PasswordChangeResult::ConfirmationMismatch);
    let r = e
        .reset_password(k.id(), k.new_password(OTHER), k.notice(), &actor())
        .await
        .unwrap();
    assert_eq!(r, PasswordChangeResult::Changed);
    assert!(!e.store.login_failures(k.id()).await.unwrap().locked);
    assert_eq!(k.live_sessions().await, 0);
    assert!(k.login(OTHER).await);
    let mail = read_email_outbox(&k.email_path).await.unwrap();
    assert_eq!(mail.len(), 1);
    assert_eq!(mail[0].to, "lucia@example.es");
    assert!(k.kinds().await.contains(&"password.reset".to_owned()));
}

#[tokio::test]
async fn reset_refuses_an_account_not_active() {
    let k = kit().await;
    let r =
        k.w.engine
            .reset_password(k.id(), k.new_password(OTHER), k.notice(), &actor())
            .await;
    assert!(matches!(r, Err(CoreError::Refused(_))));
}

#[tokio::test]
async fn change_password_checks_the_current_one() {
    let k = kit().await;
    k.activate().await;
    let e = &k.w.engine;
    let r = e
        .change_password(
            k.id(),
            "not it",
            k.new_password(OTHER),
            k.notice(),
            &actor(),
        )
        .await
        .unwrap();
    assert_eq!(r, PasswordChangeResult::WrongCurrentPassword);
    assert_eq!(e.store.login_failures(k.id()).await.unwrap().consecutive, 1);
    assert!(read_email_outbox(&k.email_path).await.unwrap().is_empty());
    let r = e
        .change_password(k.id(), GOOD, k.new_password(OTHER), k.notice(), &actor())
        .await
        .unwrap();
    assert_eq!(r, PasswordChangeResult::Changed);
    assert!(k.login(OTHER).await);
    assert!(!k.login(GOOD).await);
    let mail = read_email_outbox(&k.email_path).await.unwrap();
    assert_eq!(mail.len(), 1);
    assert_eq!(mail[0].subject, "Su contraseña ha cambiado");
    assert!(!mail[0].text.contains(OTHER));
}

#[tokio::test]
async fn reauthentication_counts_wrong_passwords() {
    let k = kit().await;
    let e = &k.w.engine;
    assert!(matches!(
        e.confirm_current_password(k.id(), GOOD, &k.hasher, "mobile_change", &actor())
            .await,
        Err(CoreError::Refused(_))
    ));
    k.activate().await;
    assert!(
        !e.confirm_current_password(k.id(), "not it", &k.hasher, "mobile_change", &actor())
            .await
            .unwrap()
    );
    assert_eq!(e.store.login_failures(k.id()).await.unwrap().consecutive, 1);
    assert!(
        e.confirm_current_password(k.id(), GOOD, &k.hasher, "mobile_change", &actor())
            .await
            .unwrap()
    );
    assert!(
        k.kinds()
            .await
            .iter()
            .any(|k| k == "account.reauthenticated")
    );
}

#[tokio::test]
async fn reauthentication_locks_at_the_configured_threshold() {
    let mut k = kit().await;
    k.w.engine.login.lock_after = 2;
    k.activate().await;
    let e = &k.w.engine;
    for _ in 0..2 {
        assert!(
            !e.confirm_current_password(k.id(), "not it", &k.hasher, "mobile_change", &actor())
                .await
                .unwrap()
        );
    }
    assert!(e.store.login_failures(k.id()).await.unwrap().locked);
    assert!(matches!(
        e.confirm_current_password(k.id(), GOOD, &k.hasher, "mobile_change", &actor())
            .await,
        Err(CoreError::Refused(_))
    ));
}

#[tokio::test]
async fn mobile_change_end_to_end() {
    let k = kit().await;
    k.activate().await;
    let e = &k.w.engine;
    let policy = OtpPolicy::default();
    let sender = OtpSender {
        sms: &k.sms,
        lang: Lang::En,
        policy: &policy,
    };
    let same = e
        .start_mobile_change(k.id(), "600 111 222", "ES", sender, "j1")
        .await
        .unwrap();
    assert_eq!(same, Err(MobileChangeRefusal::SameNumber));
    let bad = e
        .start_mobile_change(k.id(), "912345678", "ES", sender, "j1")
        .await
        .unwrap();
    assert!(matches!(bad, Err(MobileChangeRefusal::InvalidNumber(_))));
    let id = e
        .start_mobile_change(k.id(), "611 222 333", "ES", sender, "j1")
        .await
        .unwrap()
        .unwrap();
    let outbox = read_outbox(&k.sms_path).await.unwrap();
    let text = &latest_for(&outbox, "+34611222333").unwrap().text;
    let code: String = text.chars().filter(char::is_ascii_digit).take(6).collect();
    // A code sent to one number does not confirm another.
    let answer = ChallengeAnswer {
        id: &id,
        journey: "j1",
        code: &code,
    };
    let other = e
        .confirm_mobile_change(k.id(), answer, "622333444", sender, "ES", &actor())
        .await
        .unwrap();
    assert_eq!(other, Err(MobileChangeRefusal::Code(OtpOutcome::Expired)));
    let done = e
        .confirm_mobile_change(k.id(), answer, "611222333", sender, "ES", &actor())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(done.mobile, "+34611222333");
    let stored = e.store.citizen(k.id()).await.unwrap().unwrap();
    assert_eq!(stored.mobile, "+34611222333");
    let outbox = read_outbox(&k.sms_path).await.unwrap();
    let notice = latest_for(&outbox, "+34600111222").unwrap();
    assert!(notice.text.contains("mobile number"));
    // Single use.
    let again = e
        .confirm_mobile_change(k.id(), answer, "611222333", sender, "ES", &actor())
        .await
        .unwrap();
    assert!(matches!(again, Err(MobileChangeRefusal::Code(_))));
    let entries = e.store.audit_entries(Some(k.id()), 0, 1000).await.unwrap();
    let changed = entries
        .iter()
        .find(|x| x.event.kind == "citizen.mobile_changed")
        .unwrap();
    let detail = changed.event.detail.to_string();
    assert!(detail.contains("333") && !detail.contains("611222333"));
}

#[tokio::test]
async fn deregistration_is_final() {
    let k = kit().await;
    k.activate().await;
    let e = &k.w.engine;
    e.store
        .set_totp(k.id(), Some(vec![1, 2, 3]), k.w.clock.now())
        .await
        .unwrap();
    k.open_session().await;
    let c = e.deregister(k.id(), k.notice(), &actor()).await.unwrap();
    assert_eq!(c.status, CitizenStatus::Deregistered);
    assert_eq!(k.live_sessions().await, 0);
    assert!(e.store.totp(k.id()).await.unwrap().is_none());
    assert!(
        e.store
            .activation_code(k.id(), PURPOSE_ACTIVATION)
            .await
            .unwrap()
            .is_none()
    );
    assert!(!k.login(GOOD).await);
    assert_eq!(read_email_outbox(&k.email_path).await.unwrap().len(), 1);
    let again = e.deregister(k.id(), k.notice(), &actor()).await;
    assert!(matches!(again, Err(CoreError::Conflict(_))));
    let r = e
        .reset_password(k.id(), k.new_password(OTHER), k.notice(), &actor())
        .await;
    assert!(matches!(r, Err(CoreError::Refused(_))));
    assert!(!k.login(OTHER).await);
    assert!(k.kinds().await.contains(&"citizen.deregistered".to_owned()));
}

#[tokio::test]
async fn unblock_returns_to_where_the_account_stood() {
    let k = kit().await;
    let e = &k.w.engine;
    let op = Actor::operator("ana");
    e.block_citizen("12345678Z", "test", &op).await.unwrap();
    let c = e.unblock_citizen("12345678Z", &op).await.unwrap();
    assert_eq!(c.status, CitizenStatus::Registered);
    k.activate().await;
    e.block_citizen("12345678Z", "test", &op).await.unwrap();
    assert!(!k.login(GOOD).await);
    let c = e.unblock_citizen("12345678Z", &op).await.unwrap();
    assert_eq!(c.status, CitizenStatus::Active);
    assert!(k.login(GOOD).await);
}

#[tokio::test]
async fn reset_and_deregistration_tell_the_notifiers_of_each_session_once() {
    use crate::core::session::end_tests::Recorder;
    use crate::core::session::{EndCause, Ending};
    let mut k = kit().await;
    let recorder = Arc::new(Recorder::default());
    k.w.engine.notifiers.push(recorder.clone());
    k.activate().await;
    k.open_session().await;
    k.open_session().await;
    let r =
        k.w.engine
            .reset_password(k.id(), k.new_password(OTHER), k.notice(), &actor())
            .await
            .unwrap();
    assert_eq!(r, PasswordChangeResult::Changed);
    let told = recorder.told();
    assert_eq!(told.len(), 2);
    assert_ne!(told[0].0, told[1].0);
    let reset = Ending::without_browser(EndCause::PasswordReset);
    assert!(told.iter().all(|(_, e)| e == &reset));

    k.open_session().await;
    k.w.engine
        .deregister(k.id(), k.notice(), &actor())
        .await
        .unwrap();
    let told = recorder.told();
    assert_eq!(told.len(), 3, "only the session still live is told");
    assert_eq!(told[2].1, Ending::without_browser(EndCause::Deregistration));
}
