//! The audit chain: order, links, racing appends, filters and paging.

use super::t0;
use crate::core::audit::{AuditEntry, AuditEvent, GENESIS_HASH, Outcome, verify_chain};
use crate::core::citizen::CitizenId;
use crate::store::Store;
use chrono::Duration;
use serde_json::json;
use std::collections::BTreeSet;
use std::sync::Arc;
use tokio::task::JoinSet;

/// The whole log, page by page, checked from the genesis hash.
async fn whole_log(store: &dyn Store) -> Vec<AuditEntry> {
    let mut log: Vec<AuditEntry> = Vec::new();
    loop {
        let after = log.last().map_or(0, |e| e.seq);
        let page = store
            .audit_entries(None, after, 100)
            .await
            .expect("entries");
        if page.is_empty() {
            break;
        }
        log.extend(page);
    }
    verify_chain(&log, GENESIS_HASH.into(), 0).expect("the chain holds");
    log
}

pub(super) async fn audit(store: &Arc<dyn Store>) {
    let before = whole_log(store.as_ref()).await;
    let last_seq = before.last().map_or(0, |e| e.seq);
    let last_hash = before
        .last()
        .map_or(GENESIS_HASH.to_owned(), |e| e.hash.clone());

    let alice = CitizenId::new();
    let bob = CitizenId::new();
    let events = [
        AuditEvent::new(t0(), "operator:ana", "citizen.registered").citizen(alice),
        AuditEvent::new(t0(), "citizen", "login")
            .citizen(bob)
            .source(Some("203.0.113.7".into()))
            .outcome(Outcome::Failure)
            .detail(json!({"reason": "contraseña errónea", "attempt": 2, "ratio": 0.25})),
        AuditEvent::new(t0() + Duration::nanoseconds(1_500), "system", "code.issued")
            .citizen(alice)
            .detail(json!({"nested": {"b": [1, 2, {"c": null}], "a": true}})),
        AuditEvent::new(t0(), "client:sede", "token.refused").outcome(Outcome::Refused),
        AuditEvent::new(t0(), "citizen", "login").citizen(alice),
    ];
    let mut written = Vec::new();
    for e in &events {
        written.push(store.append_audit(e).await.expect("append"));
    }
    assert_eq!(
        written.iter().map(|e| e.seq).collect::<Vec<_>>(),
        (last_seq + 1..=last_seq + 5).collect::<Vec<_>>(),
        "consecutive positions"
    );
    if before.is_empty() {
        assert_eq!(written[0].seq, 1, "the log starts at 1");
    }
    assert_eq!(written[0].prev_hash, last_hash);
    verify_chain(&written, last_hash.clone(), last_seq).expect("written entries chain");
    let read = store
        .audit_entries(None, last_seq, 100)
        .await
        .expect("entries");
    assert_eq!(read, written, "entries read back as written");

    // 40 racing appends still make one valid chain.
    let mut tasks = JoinSet::new();
    for i in 0..40 {
        let store = Arc::clone(store);
        tasks.spawn(async move {
            let e = AuditEvent::new(t0(), "system", "race").detail(json!({ "i": i }));
            store.append_audit(&e).await
        });
    }
    let raced: BTreeSet<i64> = tasks
        .join_all()
        .await
        .into_iter()
        .map(|r| r.expect("append").seq)
        .collect();
    assert_eq!(
        raced,
        (last_seq + 6..=last_seq + 45).collect::<BTreeSet<_>>(),
        "40 distinct consecutive positions"
    );
    let log = whole_log(store.as_ref()).await;
    assert_eq!(log.last().map(|e| e.seq), Some(last_seq + 45));

    let alices = store
        .audit_entries(Some(alice), 0, 100)
        .await
        .expect("entries");
    let seqs: Vec<i64> = alices.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, [last_seq + 1, last_seq + 3, last_seq + 5]);
    assert!(alices.iter().all(|e| e.event.citizen == Some(alice)));
    let later = store
        .audit_entries(Some(alice), last_seq + 1, 1)
        .await
        .expect("entries");
    assert_eq!(
        later.iter().map(|e| e.seq).collect::<Vec<_>>(),
        [last_seq + 3]
    );

    let page = store
        .audit_entries(None, last_seq, 3)
        .await
        .expect("entries");
    assert_eq!(page, written[..3]);
    let page = store
        .audit_entries(None, last_seq + 3, 3)
        .await
        .expect("entries");
    assert_eq!(
        page.iter().map(|e| e.seq).collect::<Vec<_>>(),
        [last_seq + 4, last_seq + 5, last_seq + 6]
    );
    assert!(
        store
            .audit_entries(None, last_seq + 45, 10)
            .await
            .expect("entries")
            .is_empty()
    );
}
