//! The store suite and the tamper and outage checks, on SQLite (always) and PostgreSQL (when
//! `TEST_POSTGRES_URL` names a server; each run gets a fresh database, dropped afterwards).

use super::{Engine, SqlStore};
use crate::core::audit::{AuditEvent, ChainError, GENESIS_HASH, verify_chain};
use crate::core::citizen::CitizenId;
use crate::store::{Store, StoreError, suite};
use chrono::DateTime;
use sqlx::{Executor, Row};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

async fn sqlite_store(dir: &tempfile::TempDir) -> SqlStore {
    // A directory that does not exist yet: connect must create it.
    let url = format!("sqlite://{}/data/pasarela.db", dir.path().display());
    let store = SqlStore::connect(&url, 8).await.expect("connect");
    assert_eq!(store.engine(), Engine::Sqlite);
    let mut conn = store.pool().acquire().await.expect("acquire");
    for (pragma, expected) in [
        ("journal_mode", "wal"),
        ("busy_timeout", "5000"),
        ("foreign_keys", "1"),
        ("synchronous", "1"),
    ] {
        let row = sqlx::query(&format!("PRAGMA {pragma}"))
            .fetch_one(&mut *conn)
            .await
            .expect("pragma");
        let value = row
            .try_get::<String, _>(0)
            .or_else(|_| row.try_get::<i64, _>(0).map(|v| v.to_string()))
            .expect("pragma value");
        assert_eq!(value, expected, "PRAGMA {pragma}");
    }
    drop(conn);
    store.migrate().await.expect("migrate");
    store.migrate().await.expect("migrating twice is a no-op");
    store
}

/// The Postgres URL to test against, or `None` (with a loud notice) to skip.
pub(crate) fn postgres_url() -> Option<String> {
    match std::env::var("TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert_ne!(
                std::env::var("TEST_REQUIRE_BACKENDS").as_deref(),
                Ok("1"),
                "TEST_REQUIRE_BACKENDS=1 but TEST_POSTGRES_URL is not set"
            );
            eprintln!(
                "\n!!! SKIPPED: PostgreSQL store tests (set TEST_POSTGRES_URL to run them) !!!\n"
            );
            None
        }
    }
}

/// Runs `test` against a migrated store on a fresh database, then drops the database even if
/// the test panicked.
pub(crate) async fn with_fresh_postgres<F, Fut>(test: F)
where
    F: FnOnce(SqlStore) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let Some(base) = postgres_url() else {
        return;
    };
    let admin = SqlStore::connect(&base, 1)
        .await
        .expect("connect to postgres");
    let name = format!("pasarela_test_{}", uuid::Uuid::new_v4().simple());
    admin
        .pool()
        .execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .expect("create test database");
    let mut url = url::Url::parse(&base).expect("postgres URL");
    url.set_path(&name);
    let store = SqlStore::connect(url.as_str(), 8).await.expect("connect");
    assert_eq!(store.engine(), Engine::Postgres);
    let outcome = async {
        store.migrate().await.expect("migrate");
        store.migrate().await.expect("migrating twice is a no-op");
        tokio::spawn(test(store.clone())).await
    }
    .await;
    store.pool().close().await;
    admin
        .pool()
        .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
        .await
        .expect("drop test database");
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

/// Editing a stored audit row with raw SQL is caught by the chain.
async fn tampering_is_detected(store: SqlStore) {
    let at = DateTime::from_timestamp(1_767_225_600, 0).expect("instant");
    for kind in ["citizen.registered", "code.issued", "level.changed"] {
        let event = AuditEvent::new(at, "operator:ana", kind).citizen(CitizenId::new());
        store.append_audit(&event).await.expect("append");
    }
    let entries = store.audit_entries(None, 0, 10).await.expect("entries");
    assert!(verify_chain(&entries, GENESIS_HASH.into(), 0).is_ok());

    sqlx::query("UPDATE audit_log SET actor = 'mallory' WHERE seq = 2")
        .execute(store.pool())
        .await
        .expect("tamper");
    let entries = store.audit_entries(None, 0, 10).await.expect("entries");
    assert_eq!(entries[1].event.actor, "mallory");
    assert_eq!(
        verify_chain(&entries, GENESIS_HASH.into(), 0),
        Err(ChainError::Altered(2))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_passes_the_store_suite() {
    let dir = tempfile::tempdir().expect("temp dir");
    suite::run(Arc::new(sqlite_store(&dir).await)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_passes_the_store_suite() {
    with_fresh_postgres(|store| suite::run(Arc::new(store))).await;
}

#[tokio::test]
async fn sqlite_audit_tampering_is_detected() {
    let dir = tempfile::tempdir().expect("temp dir");
    tampering_is_detected(sqlite_store(&dir).await).await;
}

#[tokio::test]
async fn postgres_audit_tampering_is_detected() {
    with_fresh_postgres(tampering_is_detected).await;
}

#[tokio::test]
async fn unreachable_postgres_fails_fast() {
    let started = Instant::now();
    let result = tokio::time::timeout(
        Duration::from_secs(15),
        SqlStore::connect("postgres://pasarela:secret@127.0.0.1:1/x", 2),
    )
    .await
    .expect("connect gives up by itself");
    match result {
        Err(StoreError::Unavailable(msg)) => assert!(!msg.contains("secret"), "{msg}"),
        other => panic!("expected Unavailable, got {other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(8));
}

#[tokio::test]
async fn in_memory_sqlite_is_refused() {
    for url in ["sqlite::memory:", "sqlite://file.db?mode=memory"] {
        match SqlStore::connect(url, 1).await {
            Err(StoreError::Unavailable(msg)) => assert!(msg.contains("not supported"), "{msg}"),
            other => panic!("{url}: expected Unavailable, got {other:?}"),
        }
    }
    assert!(matches!(
        SqlStore::connect("mysql://u:p@localhost/db", 1).await,
        Err(StoreError::Unavailable(_))
    ));
}
