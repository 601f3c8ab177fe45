//! Credential state: passwords, the racing login-failure counter and lock, TOTP replay,
//! policy acceptance and identity-proofing attempts.

use super::{citizen, random_dni, t0};
use crate::core::citizen::CitizenId;
use crate::store::credentials::{LoginFailures, PasswordRecord, TotpRecord};
use crate::store::{FailureCount, Store, StoreError};
use chrono::{DateTime, Duration, Utc};
use std::sync::Arc;
use tokio::task::JoinSet;

/// `n` concurrent wrong passwords; their results, sorted by count.
async fn concurrent_login_failures(
    store: &Arc<dyn Store>,
    id: CitizenId,
    lock_after: u32,
    now: DateTime<Utc>,
    n: usize,
) -> Vec<LoginFailures> {
    let mut tasks = JoinSet::new();
    for _ in 0..n {
        let store = Arc::clone(store);
        tasks.spawn(async move { store.record_login_failure(id, lock_after, now).await });
    }
    let mut all: Vec<_> = tasks
        .join_all()
        .await
        .into_iter()
        .map(|r| r.expect("record login failure"))
        .collect();
    all.sort_by_key(|f| f.consecutive);
    all
}

async fn new_citizen(store: &Arc<dyn Store>) -> CitizenId {
    let c = citizen(random_dni());
    store.insert_citizen(&c).await.expect("insert");
    c.id
}

pub(super) async fn credentials(store: &Arc<dyn Store>) {
    passwords_and_lock(store).await;
    totp(store).await;
    totp_enrolment(store).await;
    policy_and_proofing(store).await;
}

async fn passwords_and_lock(store: &Arc<dyn Store>) {
    let id = new_citizen(store).await;
    assert_eq!(store.password(id).await.expect("password"), None);
    store
        .set_password(id, "$argon2id$one", t0())
        .await
        .expect("set");
    let later = t0() + Duration::days(1);
    store
        .set_password(id, "$argon2id$two", later)
        .await
        .expect("replace");
    assert_eq!(
        store.password(id).await.expect("password"),
        Some(PasswordRecord {
            phc: "$argon2id$two".into(),
            set_at: later
        })
    );
    assert!(matches!(
        store.set_password(CitizenId::new(), "x", t0()).await,
        Err(StoreError::NotFound(_))
    ));
    // A rehash replaces only the hash it read, keeps set_at and leaves failures alone.
    store
        .record_login_failure(id, 5, later)
        .await
        .expect("fail");
    assert!(
        !store
            .rehash_password(id, "$argon2id$one", "$argon2id$x")
            .await
            .expect("stale")
    );
    assert!(
        store
            .rehash_password(id, "$argon2id$two", "$argon2id$two-b")
            .await
            .expect("rehash")
    );
    assert_eq!(
        store.password(id).await.expect("password"),
        Some(PasswordRecord {
            phc: "$argon2id$two-b".into(),
            set_at: later
        })
    );
    assert_eq!(
        store
            .login_failures(id)
            .await
            .expect("failures")
            .consecutive,
        1
    );
    store
        .set_password(id, "$argon2id$two", later)
        .await
        .expect("put back");
    assert!(matches!(
        store.record_login_failure(CitizenId::new(), 5, t0()).await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(
        store.login_failures(id).await.expect("failures"),
        LoginFailures::default()
    );

    // 50 racing wrong guesses count 50; 50 more reach the lock, which exactly one sees.
    let now = t0() + Duration::minutes(1);
    let first = concurrent_login_failures(store, id, 100, now, 50).await;
    let seen: Vec<u32> = first.iter().map(|f| f.consecutive).collect();
    assert_eq!(
        seen,
        (1..=50).collect::<Vec<_>>(),
        "every failure counted once"
    );
    assert!(first.iter().all(|f| !f.locked && !f.newly_locked));
    let second = concurrent_login_failures(store, id, 100, now, 50).await;
    let seen: Vec<u32> = second.iter().map(|f| f.consecutive).collect();
    assert_eq!(seen, (51..=100).collect::<Vec<_>>());
    assert_eq!(second.iter().filter(|f| f.newly_locked).count(), 1);
    assert!(second.last().is_some_and(|f| f.locked && f.newly_locked));
    let state = store.login_failures(id).await.expect("failures");
    assert_eq!(
        state,
        LoginFailures {
            consecutive: 100,
            locked: true,
            newly_locked: false,
            last_failure_at: Some(now),
        }
    );
    let after = store
        .record_login_failure(id, 100, now)
        .await
        .expect("failure");
    assert!(after.locked && !after.newly_locked && after.consecutive == 101);

    // A successful login resets the counter but not the lock; an operator unlocks.
    store.reset_login_failures(id).await.expect("reset");
    let state = store.login_failures(id).await.expect("failures");
    assert_eq!((state.consecutive, state.locked), (0, true));
    let again = store
        .record_login_failure(id, 1, now)
        .await
        .expect("failure");
    assert!(
        again.locked && !again.newly_locked,
        "a lock is not taken twice"
    );
    store.unlock_login(id).await.expect("unlock");
    assert_eq!(
        store.login_failures(id).await.expect("failures"),
        LoginFailures::default()
    );
    let relock = store
        .record_login_failure(id, 1, now)
        .await
        .expect("failure");
    assert!(
        relock.locked && relock.newly_locked,
        "locks again after an unlock"
    );

    // A new password clears counter and lock.
    store
        .set_password(id, "$argon2id$three", now)
        .await
        .expect("set");
    assert_eq!(
        store.login_failures(id).await.expect("failures"),
        LoginFailures::default()
    );
    // Nothing to reset is not an error.
    store
        .reset_login_failures(CitizenId::new())
        .await
        .expect("reset");
    store.unlock_login(CitizenId::new()).await.expect("unlock");
}

async fn totp(store: &Arc<dyn Store>) {
    let id = new_citizen(store).await;
    assert_eq!(store.totp(id).await.expect("totp"), None);
    assert!(!store.use_totp_step(id, 1).await.expect("no secret"));
    let secret = vec![0u8, 1, 2, 255, 254];
    store
        .set_totp(id, Some(secret.clone()), t0())
        .await
        .expect("set");
    assert_eq!(
        store.totp(id).await.expect("totp"),
        Some(TotpRecord {
            secret: secret.clone(),
            enrolled_at: t0(),
            confirmed_at: Some(t0()),
            last_step: None
        })
    );
    assert!(store.use_totp_step(id, 100).await.expect("use"));
    assert!(!store.use_totp_step(id, 100).await.expect("same step"));
    assert!(!store.use_totp_step(id, 99).await.expect("earlier step"));
    assert_eq!(
        store.totp(id).await.expect("totp").map(|t| t.last_step),
        Some(Some(100))
    );

    let mut tasks = JoinSet::new();
    for _ in 0..20 {
        let store = Arc::clone(store);
        tasks.spawn(async move { store.use_totp_step(id, 101).await });
    }
    let won = tasks
        .join_all()
        .await
        .into_iter()
        .map(|r| r.expect("use"))
        .filter(|&w| w)
        .count();
    assert_eq!(won, 1, "of racing uses of one step exactly one wins");

    // Re-enrolling forgets the old step; removing forgets everything.
    store
        .set_totp(id, Some(vec![9]), t0())
        .await
        .expect("re-enrol");
    assert!(store.use_totp_step(id, 50).await.expect("use"));
    store.set_totp(id, None, t0()).await.expect("remove");
    assert_eq!(store.totp(id).await.expect("totp"), None);
    assert!(matches!(
        store.set_totp(CitizenId::new(), Some(vec![1]), t0()).await,
        Err(StoreError::NotFound(_))
    ));
}

/// Pending enrolment: stored, not usable, replaced by a new start, confirmed once; a
/// confirmed secret is never overwritten by a new start.
async fn totp_enrolment(store: &Arc<dyn Store>) {
    let id = new_citizen(store).await;
    let t1 = t0() + Duration::seconds(10);
    assert!(
        !store
            .confirm_totp(id, 5, t1)
            .await
            .expect("nothing pending")
    );
    assert!(
        store
            .put_pending_totp(id, &[1, 2, 3], t0())
            .await
            .expect("pending")
    );
    assert_eq!(
        store.totp(id).await.expect("totp"),
        Some(TotpRecord {
            secret: vec![1, 2, 3],
            enrolled_at: t0(),
            confirmed_at: None,
            last_step: None
        })
    );
    assert!(
        !store.use_totp_step(id, 1).await.expect("pending"),
        "a pending secret is not a second factor"
    );
    assert!(
        store
            .put_pending_totp(id, &[4, 5], t1)
            .await
            .expect("restart")
    );
    assert!(store.confirm_totp(id, 7, t1).await.expect("confirm"));
    assert!(!store.confirm_totp(id, 8, t1).await.expect("twice"));
    assert_eq!(
        store.totp(id).await.expect("totp"),
        Some(TotpRecord {
            secret: vec![4, 5],
            enrolled_at: t1,
            confirmed_at: Some(t1),
            last_step: Some(7)
        })
    );
    assert!(
        !store
            .use_totp_step(id, 7)
            .await
            .expect("confirming step used")
    );
    assert!(store.use_totp_step(id, 8).await.expect("next step"));
    assert!(
        !store
            .put_pending_totp(id, &[9], t1)
            .await
            .expect("confirmed stays")
    );
    assert_eq!(
        store.totp(id).await.expect("totp").map(|t| t.secret),
        Some(vec![4, 5])
    );
    assert!(matches!(
        store.put_pending_totp(CitizenId::new(), &[1], t0()).await,
        Err(StoreError::NotFound(_))
    ));
}

async fn policy_and_proofing(store: &Arc<dyn Store>) {
    let id = new_citizen(store).await;
    assert_eq!(store.policy_acceptance(id).await.expect("policy"), None);
    store
        .record_policy_acceptance(id, "2024-01", t0())
        .await
        .expect("accept");
    let later = t0() + Duration::days(30);
    store
        .record_policy_acceptance(id, "2025-03", later)
        .await
        .expect("accept");
    assert_eq!(
        store.policy_acceptance(id).await.expect("policy"),
        Some(("2025-03".into(), later))
    );
    assert!(matches!(
        store
            .record_policy_acceptance(CitizenId::new(), "v", t0())
            .await,
        Err(StoreError::NotFound(_))
    ));

    let none = FailureCount {
        failures: 0,
        blocked: false,
        newly_blocked: false,
    };
    assert_eq!(
        store.proofing_failures(id, "online").await.expect("get"),
        none
    );
    let mut seen = Vec::new();
    for _ in 0..4 {
        seen.push(
            store
                .record_proofing_failure(id, "online", 3, t0())
                .await
                .expect("record"),
        );
    }
    let as_tuples: Vec<_> = seen
        .iter()
        .map(|f| (f.failures, f.blocked, f.newly_blocked))
        .collect();
    assert_eq!(
        as_tuples,
        vec![
            (1, false, false),
            (2, false, false),
            (3, true, true),
            (4, true, false)
        ],
        "with max 3 the third failure blocks"
    );
    assert_eq!(
        store.proofing_failures(id, "online").await.expect("get"),
        FailureCount {
            failures: 4,
            blocked: true,
            newly_blocked: false
        }
    );
    assert_eq!(
        store.proofing_failures(id, "video").await.expect("get"),
        none
    );
    assert!(matches!(
        store
            .record_proofing_failure(CitizenId::new(), "online", 3, t0())
            .await,
        Err(StoreError::NotFound(_))
    ));
}
