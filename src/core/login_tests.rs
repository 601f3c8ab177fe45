//! The password step against a real SQLite store, an in-memory ephemeral store and a manual
//! clock.

use super::*;
use crate::clock::{Clock, ManualClock};
use crate::core::credentials::Argon2Params;
use crate::store::ephemeral::memory::MemoryStore;

use std::sync::Arc;

const PASSWORD: &str = "Tortuga-Azul-Marea-1987";
const DNI: &str = "12345678Z";

struct Fixture {
    engine: Engine,
    clock: Arc<ManualClock>,
    hasher: PasswordHasher,
    citizen: Citizen,
    _world: crate::core::testing::World,
}

fn cheap(memory_kib: u32) -> PasswordHasher {
    let params = Argon2Params {
        memory_kib,
        iterations: 1,
        parallelism: 1,
    };
    PasswordHasher::new(params, 2).unwrap()
}

async fn fixture() -> Fixture {
    fixture_on(crate::core::testing::world().await).await
}

async fn fixture_on(w: crate::core::testing::World) -> Fixture {
    let (engine, clock) = (w.engine.clone(), w.clock.clone());
    let mut citizen = w.citizen.clone();
    citizen.status = CitizenStatus::Active;
    engine.store.update_citizen(&citizen).await.unwrap();
    let hasher = cheap(64);
    let phc = hasher.hash(PASSWORD).await.unwrap();
    engine
        .store
        .set_password(citizen.id, &phc, clock.now())
        .await
        .unwrap();
    Fixture {
        engine,
        clock,
        hasher,
        citizen,
        _world: w,
    }
}

impl Fixture {
    async fn login(&self, id: &str, password: &str, policy: &LoginPolicy) -> PasswordOutcome {
        self.login_from(id, password, None, policy).await
    }

    async fn login_from(
        &self,
        id: &str,
        password: &str,
        source: Option<IpAddr>,
        policy: &LoginPolicy,
    ) -> PasswordOutcome {
        let actor = Actor {
            name: "citizen".into(),
            source: source.map(|s| s.to_string()),
        };
        self.engine
            .check_password(id, password, source, &self.hasher, policy, &actor)
            .await
            .unwrap()
    }

    async fn stored_phc(&self) -> String {
        self.engine
            .store
            .password(self.citizen.id)
            .await
            .unwrap()
            .unwrap()
            .phc
    }
}

fn refusal(outcome: PasswordOutcome) -> Refusal {
    match outcome {
        PasswordOutcome::Refused(r) => r,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

fn accepted(outcome: PasswordOutcome) -> (Citizen, bool) {
    match outcome {
        PasswordOutcome::Accepted { citizen, rehashed } => (*citizen, rehashed),
        other => panic!("expected acceptance, got {other:?}"),
    }
}

/// No delays and no lock unless a test asks for them.
fn lenient() -> LoginPolicy {
    LoginPolicy {
        lock_after: 1000,
        delay_after: 1000,
        ..LoginPolicy::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn right_password_is_accepted_and_wrong_one_refused() {
    let f = fixture().await;
    let (who, rehashed) = accepted(f.login(DNI, PASSWORD, &lenient()).await);
    assert_eq!((who.id, rehashed), (f.citizen.id, false));
    let r = refusal(f.login(DNI, "wrong", &lenient()).await);
    assert_eq!(
        r.reason(),
        RefusalReason::WrongPassword {
            consecutive: 1,
            newly_locked: false
        }
    );
    assert_eq!(r.citizen(), Some(f.citizen.id));
    // A success resets the counter.
    accepted(f.login(DNI, PASSWORD, &lenient()).await);
    let counter = f.engine.store.login_failures(f.citizen.id).await.unwrap();
    assert_eq!(counter.consecutive, 0);

    let entries = f
        .engine
        .store
        .audit_entries(Some(f.citizen.id), 0, 100)
        .await
        .unwrap();
    let outcomes: Vec<_> = entries
        .iter()
        .filter(|e| e.event.kind == "login.password")
        .map(|e| e.event.outcome)
        .collect();
    assert_eq!(
        outcomes,
        vec![Outcome::Success, Outcome::Failure, Outcome::Success]
    );
    assert!(
        entries
            .iter()
            .all(|e| !e.event.detail.to_string().contains(PASSWORD))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_wrong_and_locked_look_the_same() {
    look_the_same(fixture().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_on_postgresql_and_redis() {
    crate::core::testing::on_production_engines(|w| async move {
        look_the_same(fixture_on(w).await).await;
    })
    .await;
}

async fn look_the_same(f: Fixture) {
    let policy = LoginPolicy {
        lock_after: 2,
        ..lenient()
    };
    let unknown = refusal(f.login("87654321X", PASSWORD, &policy).await);
    let malformed = refusal(f.login("not an id", PASSWORD, &policy).await);
    let wrong = refusal(f.login(DNI, "wrong", &policy).await);
    let locking = refusal(f.login(DNI, "wrong", &policy).await);
    assert!(locking.newly_locked());
    let locked = refusal(f.login(DNI, PASSWORD, &policy).await);
    assert_eq!(unknown.reason(), RefusalReason::UnknownIdentifier);
    assert_eq!(malformed.reason(), RefusalReason::UnknownIdentifier);
    assert_eq!(locked.reason(), RefusalReason::Locked);
    for r in [&malformed, &wrong, &locking, &locked] {
        assert_eq!(r.public(), unknown.public());
        assert_eq!(r.to_string(), unknown.to_string());
    }
    assert_eq!(unknown.to_string(), REFUSAL_MESSAGE);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delays_refuse_even_the_right_password_until_they_pass() {
    let f = fixture().await;
    let policy = LoginPolicy::default();
    for _ in 0..3 {
        refusal(f.login(DNI, "wrong", &policy).await);
    }
    let early = refusal(f.login(DNI, PASSWORD, &policy).await);
    assert!(matches!(early.reason(), RefusalReason::Delayed { .. }));
    let counter = f.engine.store.login_failures(f.citizen.id).await.unwrap();
    assert_eq!(counter.consecutive, 3, "a delayed attempt is not counted");
    f.clock.advance(Duration::seconds(2));
    accepted(f.login(DNI, PASSWORD, &policy).await);

    // Delays double and stop at the cap.
    let mut failures = LoginFailures {
        consecutive: 5,
        last_failure_at: Some(f.clock.now()),
        ..LoginFailures::default()
    };
    assert_eq!(
        policy.next_attempt_at(&failures),
        Some(f.clock.now() + Duration::seconds(4))
    );
    failures.consecutive = 99;
    assert_eq!(
        policy.next_attempt_at(&failures),
        Some(f.clock.now() + Duration::seconds(300))
    );
    failures.consecutive = 2;
    assert_eq!(policy.next_attempt_at(&failures), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lock_holds_against_the_right_password() {
    let f = fixture().await;
    let policy = LoginPolicy {
        lock_after: 5,
        ..lenient()
    };
    let mut newly = Vec::new();
    for _ in 0..5 {
        newly.push(refusal(f.login(DNI, "wrong", &policy).await).newly_locked());
    }
    assert_eq!(newly, vec![false, false, false, false, true]);
    let r = refusal(f.login(DNI, PASSWORD, &policy).await);
    assert_eq!(r.reason(), RefusalReason::Locked);
    f.engine.store.unlock_login(f.citizen.id).await.unwrap();
    accepted(f.login(DNI, PASSWORD, &policy).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_old_hash_is_upgraded_at_login() {
    let f = fixture().await;
    let old = cheap(128).hash(PASSWORD).await.unwrap();
    f.engine
        .store
        .set_password(f.citizen.id, &old, f.clock.now())
        .await
        .unwrap();
    let (_, rehashed) = accepted(f.login(DNI, PASSWORD, &lenient()).await);
    assert!(rehashed);
    let new = f.stored_phc().await;
    assert_ne!(new, old);
    assert!(new.contains("m=64,t=1,p=1"), "{new}");
    let (_, rehashed) = accepted(f.login(DNI, PASSWORD, &lenient()).await);
    assert!(!rehashed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_address_is_throttled() {
    let f = fixture().await;
    let policy = LoginPolicy {
        per_address_per_minute: 2,
        ..lenient()
    };
    let a: IpAddr = "192.0.2.1".parse().unwrap();
    let b: IpAddr = "2001:db8::1".parse().unwrap();
    accepted(f.login_from(DNI, PASSWORD, Some(a), &policy).await);
    refusal(f.login_from(DNI, "wrong", Some(a), &policy).await);
    let r = refusal(f.login_from(DNI, PASSWORD, Some(a), &policy).await);
    assert_eq!(r.reason(), RefusalReason::AddressThrottled);
    accepted(f.login_from(DNI, PASSWORD, Some(b), &policy).await);
    f.clock.advance(Duration::seconds(61));
    accepted(f.login_from(DNI, PASSWORD, Some(a), &policy).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocked_citizen_is_refused() {
    let f = fixture().await;
    let blocked = Citizen {
        status: CitizenStatus::Blocked,
        ..f.citizen.clone()
    };
    f.engine.store.update_citizen(&blocked).await.unwrap();
    let r = refusal(f.login(DNI, PASSWORD, &lenient()).await);
    assert_eq!(
        r.reason(),
        RefusalReason::NotActive {
            status: CitizenStatus::Blocked
        }
    );
    assert_eq!(r.to_string(), REFUSAL_MESSAGE);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_password_checks_the_policy() {
    let f = fixture().await;
    let actor = Actor::system();
    let weak = f
        .engine
        .set_password(
            &f.citizen,
            "12345678",
            PolicyPreset::Nist,
            &f.hasher,
            &actor,
        )
        .await
        .unwrap();
    assert!(weak.is_err_and(|v| !v.is_empty()));
    let fresh = "Cigüeña-Sobre-Campanario-2031";
    f.engine
        .set_password(&f.citizen, fresh, PolicyPreset::Nist, &f.hasher, &actor)
        .await
        .unwrap()
        .unwrap();
    refusal(f.login(DNI, PASSWORD, &lenient()).await);
    accepted(f.login(DNI, fresh, &lenient()).await);
    let kinds: Vec<_> = f
        .engine
        .store
        .audit_entries(Some(f.citizen.id), 0, 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.event.kind == "password.set")
        .map(|e| e.event.outcome)
        .collect();
    assert_eq!(kinds, vec![Outcome::Refused, Outcome::Success]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ephemeral_failure_fails_closed() {
    let mut f = fixture().await;
    f.engine.ephemeral = Arc::new(MemoryStore::with_capacity_limit(f.clock.clone(), 0));
    let addr: IpAddr = "192.0.2.7".parse().unwrap();
    let out = f
        .engine
        .check_password(
            DNI,
            PASSWORD,
            Some(addr),
            &f.hasher,
            &lenient(),
            &Actor::system(),
        )
        .await;
    assert!(matches!(out, Err(CoreError::Unavailable(_))), "{out:?}");
}

#[test]
fn login_policy_reads_from_toml() {
    let p: LoginPolicy = toml::from_str("lock_after = 10\nmax_delay_secs = 60\n").unwrap();
    assert_eq!((p.lock_after, p.max_delay_secs), (10, 60));
    assert_eq!(p.delay_after, 3);
    assert_eq!(p.per_address_per_minute, 30);
    assert!(toml::from_str::<LoginPolicy>("lock_afer = 10").is_err());
    assert_eq!(
        toml::from_str::<LoginPolicy>("").unwrap(),
        LoginPolicy::default()
    );
}

#[test]
fn second_factor_and_captcha_read_from_toml() {
    let p: LoginPolicy =
        toml::from_str("second_factor = \"when_needed\"\ncaptcha_after = 0\n").unwrap();
    assert_eq!(p.second_factor, SecondFactor::WhenNeeded);
    assert_eq!(p.captcha_after, 0);
    let d = LoginPolicy::default();
    assert_eq!(
        (d.second_factor, d.captcha_after),
        (SecondFactor::Always, 3)
    );
    assert!(toml::from_str::<LoginPolicy>("second_factor = \"sometimes\"").is_err());
}

#[test]
fn the_lock_notice_says_how_to_unlock_in_every_language() {
    use crate::core::credentials::Lang;
    for (lang, office) in [
        (Lang::Es, "oficina"),
        (Lang::Ca, "oficina"),
        (Lang::En, "office"),
    ] {
        let (subject, body) = lock_notice(lang);
        assert!(!subject.is_empty());
        assert!(body.contains(office), "{lang:?}");
        assert!(!body.contains("http"), "no links in notices");
        let sms = lock_notice_sms(lang);
        assert!(
            sms.starts_with("pasarela:") && sms.contains(office),
            "{sms}"
        );
        assert!(sms.chars().count() <= 320, "at most two SMS segments");
    }
}
