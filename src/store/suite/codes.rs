//! Activation codes: replacement, deletion and the racing failure counter.

use super::{citizen, random_dni, t0};
use crate::core::citizen::CitizenId;
use crate::store::{ActivationCodeRecord, FailureCount, Store, StoreError};

use chrono::{DateTime, Duration, Utc};
use std::sync::Arc;
use tokio::task::JoinSet;
use uuid::Uuid;

fn code(citizen_id: CitizenId, purpose: &str) -> ActivationCodeRecord {
    ActivationCodeRecord {
        citizen_id,
        purpose: purpose.into(),
        code_hash: format!("hash-{}", Uuid::new_v4()),
        issued_at: t0(),
        expires_at: t0() + Duration::days(30),
        failures: 0,
        blocked_at: None,
    }
}

/// `n` concurrent wrong attempts; their results, sorted by count.
async fn concurrent_failures(
    store: &Arc<dyn Store>,
    id: CitizenId,
    purpose: &str,
    max: u32,
    now: DateTime<Utc>,
    n: usize,
) -> Vec<FailureCount> {
    let mut tasks = JoinSet::new();
    for _ in 0..n {
        let store = Arc::clone(store);
        let purpose = purpose.to_owned();
        tasks.spawn(async move { store.record_code_failure(id, &purpose, max, now).await });
    }
    let mut counts: Vec<_> = tasks
        .join_all()
        .await
        .into_iter()
        .map(|r| r.expect("record failure"))
        .collect();
    counts.sort_by_key(|c| c.failures);
    counts
}

pub(super) async fn activation_codes(store: &Arc<dyn Store>) {
    let owner = citizen(random_dni());
    store.insert_citizen(&owner).await.expect("insert");
    let first = code(owner.id, "activation");
    store.put_activation_code(&first).await.expect("put");
    assert_eq!(
        store
            .activation_code(owner.id, "activation")
            .await
            .expect("get"),
        Some(first.clone())
    );
    assert_eq!(
        store
            .activation_code(owner.id, "letter")
            .await
            .expect("get"),
        None
    );
    assert!(matches!(
        store.record_code_failure(owner.id, "letter", 5, t0()).await,
        Err(StoreError::NotFound(_))
    ));

    // 50 racing wrong attempts with max 10: each counted once, exactly one blocks.
    let now = t0() + Duration::minutes(5);
    let counts = concurrent_failures(store, owner.id, "activation", 10, now, 50).await;
    let seen: Vec<u32> = counts.iter().map(|c| c.failures).collect();
    assert_eq!(
        seen,
        (1..=50).collect::<Vec<_>>(),
        "every attempt counted once"
    );
    let newly: Vec<_> = counts.iter().filter(|c| c.newly_blocked).collect();
    assert_eq!(newly.len(), 1, "exactly one attempt blocks the code");
    assert_eq!(newly[0].failures, 11);
    for c in &counts {
        assert_eq!(c.blocked, c.failures > 10, "blocked after the 11th: {c:?}");
    }
    let stored = store
        .activation_code(owner.id, "activation")
        .await
        .expect("get")
        .expect("code");
    assert_eq!(stored.failures, 50);
    assert_eq!(stored.blocked_at, Some(now));

    // A reissue replaces the code and starts over.
    let reissued = code(owner.id, "activation");
    store.put_activation_code(&reissued).await.expect("put");
    assert_eq!(
        store
            .activation_code(owner.id, "activation")
            .await
            .expect("get"),
        Some(reissued)
    );

    // With max 5, five racing failures stay unblocked; the sixth blocks.
    let counts = concurrent_failures(store, owner.id, "activation", 5, now, 5).await;
    assert!(counts.iter().all(|c| !c.blocked && !c.newly_blocked));
    let sixth = store
        .record_code_failure(owner.id, "activation", 5, now)
        .await
        .expect("record failure");
    assert_eq!(
        (sixth.failures, sixth.blocked, sixth.newly_blocked),
        (6, true, true)
    );
    let seventh = store
        .record_code_failure(owner.id, "activation", 5, now + Duration::seconds(1))
        .await
        .expect("record failure");
    assert_eq!(
        (seventh.failures, seventh.blocked, seventh.newly_blocked),
        (7, true, false)
    );
    let stored = store
        .activation_code(owner.id, "activation")
        .await
        .expect("get")
        .expect("code");
    assert_eq!(stored.blocked_at, Some(now), "the first block time is kept");

    let letter = ActivationCodeRecord {
        failures: 2,
        blocked_at: Some(t0()),
        ..code(owner.id, "letter")
    };
    store.put_activation_code(&letter).await.expect("put");
    assert_eq!(
        store
            .activation_code(owner.id, "letter")
            .await
            .expect("get"),
        Some(letter)
    );
    store
        .delete_activation_code(owner.id, "activation")
        .await
        .expect("delete");
    assert_eq!(
        store
            .activation_code(owner.id, "activation")
            .await
            .expect("get"),
        None
    );
    assert!(
        store
            .activation_code(owner.id, "letter")
            .await
            .expect("get")
            .is_some(),
        "deleting one purpose leaves the other"
    );
    store
        .delete_activation_code(owner.id, "activation")
        .await
        .expect("deleting an absent code is fine");
}
