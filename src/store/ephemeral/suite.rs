//! The ephemeral store contract, as one test suite that every backend must pass.
//!
//! [`run`] takes the store and a way to move time: a backend with an injected clock advances
//! it, a real server (Redis) sleeps. TTLs stay around a second so a real run is quick, and
//! every margin is a few hundred milliseconds so network latency cannot flip a result.

use super::{Consumed, EphemeralStore};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// The TTL most checks use.
const TTL: Duration = Duration::from_millis(1000);

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Runs every contract check against `store`. `advance(d)` must make `d` of store time pass.
/// Keys are namespaced with a random token so concurrent runs on one server do not collide.
pub async fn run<A, F>(store: Arc<dyn EphemeralStore>, advance: A)
where
    A: Fn(Duration) -> F,
    F: Future<Output = ()>,
{
    let ns = format!("suite:{}:", crate::core::random::token(9).expect("rng"));
    let k = |name: &str| format!("{ns}{name}");

    store.ping().await.expect("ping");
    put_get_and_expiry(&*store, &k("put"), &advance).await;
    consume_once(&*store, &k("consume"), &advance).await;
    assert_eq!(
        store.consume(&k("never")).await.unwrap(),
        Consumed::Missing,
        "a key never stored is Missing"
    );
    concurrent_consume(&store, &k("race")).await;
    set_if_absent(&*store, &k("sia"), &advance).await;
    incr_window(&*store, &k("incr"), &advance).await;
    concurrent_incr(&store, &k("incr-race")).await;
    delete(&*store, &k("del")).await;
    binary_values(&*store, &k("bin")).await;
    mixed_kinds(&*store, &k("mixed")).await;
}

async fn put_get_and_expiry<A, F>(s: &dyn EphemeralStore, key: &str, advance: &A)
where
    A: Fn(Duration) -> F,
    F: Future<Output = ()>,
{
    assert_eq!(s.get(key).await.unwrap(), None, "fresh key is absent");
    s.put(key, b"one", TTL).await.unwrap();
    assert_eq!(s.get(key).await.unwrap(), Some(b"one".to_vec()));
    s.put(key, b"two", TTL).await.unwrap();
    assert_eq!(
        s.get(key).await.unwrap(),
        Some(b"two".to_vec()),
        "put replaces"
    );
    advance(ms(500)).await;
    assert_eq!(
        s.get(key).await.unwrap(),
        Some(b"two".to_vec()),
        "alive before TTL"
    );
    advance(ms(600)).await;
    assert_eq!(s.get(key).await.unwrap(), None, "gone after TTL");
}

async fn consume_once<A, F>(s: &dyn EphemeralStore, key: &str, advance: &A)
where
    A: Fn(Duration) -> F,
    F: Future<Output = ()>,
{
    s.put(key, b"code", TTL).await.unwrap();
    assert_eq!(
        s.consume(key).await.unwrap(),
        Consumed::Value(b"code".to_vec())
    );
    assert_eq!(s.consume(key).await.unwrap(), Consumed::AlreadyConsumed);
    assert_eq!(s.get(key).await.unwrap(), None, "a tombstone reads as None");
    advance(ms(500)).await;
    assert_eq!(
        s.consume(key).await.unwrap(),
        Consumed::AlreadyConsumed,
        "the tombstone lives until the original TTL"
    );
    advance(ms(600)).await;
    assert_eq!(
        s.consume(key).await.unwrap(),
        Consumed::Missing,
        "the tombstone does not outlive the original TTL"
    );
}

async fn concurrent_consume(store: &Arc<dyn EphemeralStore>, key: &str) {
    store.put(key, b"once", ms(10_000)).await.unwrap();
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let (store, key) = (store.clone(), key.to_owned());
            tokio::spawn(async move { store.consume(&key).await.unwrap() })
        })
        .collect();
    let (mut values, mut already) = (0, 0);
    for t in tasks {
        match t.await.unwrap() {
            Consumed::Value(v) => {
                assert_eq!(v, b"once");
                values += 1;
            }
            Consumed::AlreadyConsumed => already += 1,
            Consumed::Missing => panic!("a consumed key must not read as Missing"),
        }
    }
    assert_eq!((values, already), (1, 49), "exactly one consumer wins");
    store.delete(key).await.unwrap();
}

async fn set_if_absent<A, F>(s: &dyn EphemeralStore, key: &str, advance: &A)
where
    A: Fn(Duration) -> F,
    F: Future<Output = ()>,
{
    assert!(s.set_if_absent(key, b"a", TTL).await.unwrap());
    assert!(!s.set_if_absent(key, b"b", TTL).await.unwrap());
    assert_eq!(s.get(key).await.unwrap(), Some(b"a".to_vec()), "kept first");
    assert_eq!(
        s.consume(key).await.unwrap(),
        Consumed::Value(b"a".to_vec())
    );
    assert!(
        !s.set_if_absent(key, b"c", TTL).await.unwrap(),
        "a tombstone counts as present"
    );
    advance(ms(1100)).await;
    assert!(
        s.set_if_absent(key, b"d", TTL).await.unwrap(),
        "free after expiry"
    );
    assert_eq!(s.get(key).await.unwrap(), Some(b"d".to_vec()));
    s.delete(key).await.unwrap();
}

async fn incr_window<A, F>(s: &dyn EphemeralStore, key: &str, advance: &A)
where
    A: Fn(Duration) -> F,
    F: Future<Output = ()>,
{
    assert_eq!(s.incr(key, TTL).await.unwrap(), 1);
    assert_eq!(s.incr(key, TTL).await.unwrap(), 2);
    advance(ms(600)).await;
    // Had this increment restarted the TTL, the window would still be open below.
    assert_eq!(s.incr(key, TTL).await.unwrap(), 3);
    advance(ms(500)).await;
    assert_eq!(
        s.incr(key, TTL).await.unwrap(),
        1,
        "the window ends at first increment + TTL and a new one starts"
    );
    s.delete(key).await.unwrap();
}

async fn concurrent_incr(store: &Arc<dyn EphemeralStore>, key: &str) {
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let (store, key) = (store.clone(), key.to_owned());
            tokio::spawn(async move { store.incr(&key, ms(10_000)).await.unwrap() })
        })
        .collect();
    let mut seen = Vec::new();
    for t in tasks {
        seen.push(t.await.unwrap());
    }
    seen.sort_unstable();
    assert_eq!(
        seen,
        (1..=100).collect::<Vec<i64>>(),
        "each count given once"
    );
    assert_eq!(store.incr(key, ms(10_000)).await.unwrap(), 101);
    store.delete(key).await.unwrap();
}

async fn delete(s: &dyn EphemeralStore, key: &str) {
    s.put(key, b"v", TTL).await.unwrap();
    s.delete(key).await.unwrap();
    assert_eq!(s.get(key).await.unwrap(), None);
    assert_eq!(s.consume(key).await.unwrap(), Consumed::Missing);
    s.put(key, b"v", TTL).await.unwrap();
    s.consume(key).await.unwrap();
    s.delete(key).await.unwrap();
    assert_eq!(
        s.consume(key).await.unwrap(),
        Consumed::Missing,
        "delete removes the tombstone"
    );
    assert!(s.set_if_absent(key, b"w", TTL).await.unwrap());
    s.delete(key).await.unwrap();
    s.delete(key).await.unwrap();
}

async fn binary_values(s: &dyn EphemeralStore, key: &str) {
    let all: Vec<u8> = (0..=255).collect();
    let cases: [&[u8]; 8] = [
        b"",
        &[0x00],
        &[0xff],
        &[0x00, 0xff, 0x00],
        b"t",
        b"tombstone",
        b"v",
        &all,
    ];
    for value in cases {
        s.put(key, value, TTL).await.unwrap();
        assert_eq!(s.get(key).await.unwrap(), Some(value.to_vec()));
        assert_eq!(
            s.consume(key).await.unwrap(),
            Consumed::Value(value.to_vec())
        );
        assert_eq!(s.consume(key).await.unwrap(), Consumed::AlreadyConsumed);
        assert!(
            s.set_if_absent(&format!("{key}:nx"), value, TTL)
                .await
                .unwrap()
        );
        assert_eq!(
            s.consume(&format!("{key}:nx")).await.unwrap(),
            Consumed::Value(value.to_vec())
        );
        s.delete(key).await.unwrap();
        s.delete(&format!("{key}:nx")).await.unwrap();
    }
}

/// A key used as a counter and as a value is a caller bug: both backends refuse it rather
/// than guess.
async fn mixed_kinds(s: &dyn EphemeralStore, key: &str) {
    s.incr(key, TTL).await.unwrap();
    assert!(s.get(key).await.is_err(), "get of a counter");
    assert!(s.consume(key).await.is_err(), "consume of a counter");
    assert_eq!(s.incr(key, TTL).await.unwrap(), 2, "the counter survived");
    s.put(key, b"x", TTL).await.unwrap();
    assert!(s.incr(key, TTL).await.is_err(), "incr of a value");
    s.consume(key).await.unwrap();
    assert!(s.incr(key, TTL).await.is_err(), "incr of a tombstone");
    s.delete(key).await.unwrap();
}

#[cfg(test)]
mod tests {
    use super::super::memory::MemoryStore;
    use super::super::redis::RedisStore;
    use super::*;
    use crate::clock::ManualClock;

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn memory_store_passes_the_suite() {
        let clock = Arc::new(ManualClock::fixed());
        let store = Arc::new(MemoryStore::new(clock.clone()));
        run(store, |d| {
            clock.advance(chrono::TimeDelta::from_std(d).unwrap());
            std::future::ready(())
        })
        .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn redis_store_passes_the_suite() {
        let Ok(url) = std::env::var("TEST_REDIS_URL") else {
            if std::env::var("TEST_REQUIRE_BACKENDS").as_deref() == Ok("1") {
                panic!("TEST_REDIS_URL is required");
            }
            eprintln!(
                "\n*** SKIPPED redis_store_passes_the_suite: TEST_REDIS_URL is not set ***\n"
            );
            return;
        };
        let store = RedisStore::connect(&url, "pasarela-test:").await.unwrap();
        run(Arc::new(store), tokio::time::sleep).await;
    }

    #[tokio::test]
    async fn redis_store_on_a_closed_port_fails_fast() {
        let started = std::time::Instant::now();
        let outcome = tokio::time::timeout(Duration::from_secs(15), async {
            match RedisStore::connect("redis://127.0.0.1:1/", "x:").await {
                Err(e) => Err(e),
                Ok(store) => store.ping().await,
            }
        })
        .await
        .expect("must not hang");
        assert!(outcome.is_err(), "a dead Redis must be an error");
        assert!(started.elapsed() < Duration::from_secs(10));
    }
}
