//! In-process ephemeral store, for a single node.
//!
//! TTLs are measured with the injected [`Clock`], so tests move time with a `ManualClock`.
//! Expired entries read as absent and are purged lazily, by [`MemoryStore::purge_expired`]
//! and by the optional sweeper task. Memory is bounded: when the store is full of live
//! entries, writes that would add a key fail instead of evicting live security state.

use super::{Consumed, EphemeralError, EphemeralStore};
use crate::clock::Clock;
use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// Default bound on the number of entries (live or not yet purged).
pub const DEFAULT_MAX_ENTRIES: usize = 1_000_000;

/// One stored key.
#[derive(Debug, Clone)]
enum Entry {
    Value(Vec<u8>, DateTime<Utc>),
    Tombstone(DateTime<Utc>),
    Counter(i64, DateTime<Utc>),
}

impl Entry {
    fn expires_at(&self) -> DateTime<Utc> {
        match self {
            Entry::Value(_, at) | Entry::Tombstone(at) | Entry::Counter(_, at) => *at,
        }
    }

    fn is_live(&self, now: DateTime<Utc>) -> bool {
        now < self.expires_at()
    }
}

/// An in-process [`EphemeralStore`]. State is lost on restart and not shared between nodes.
pub struct MemoryStore {
    clock: Arc<dyn Clock>,
    max_entries: usize,
    entries: Mutex<HashMap<String, Entry>>,
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Values are secrets (codes, OTPs): never print them.
        f.debug_struct("MemoryStore")
            .field("max_entries", &self.max_entries)
            .field("len", &self.lock().len())
            .finish()
    }
}

impl MemoryStore {
    /// An empty store bounded to [`DEFAULT_MAX_ENTRIES`], measuring TTLs with `clock`.
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self::with_capacity_limit(clock, DEFAULT_MAX_ENTRIES)
    }

    /// An empty store that refuses to hold more than `max_entries` entries.
    pub fn with_capacity_limit(clock: Arc<dyn Clock>, max_entries: usize) -> Self {
        Self {
            clock,
            max_entries,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// Drops every expired entry.
    pub fn purge_expired(&self) {
        let now = self.clock.now();
        self.lock().retain(|_, e| e.is_live(now));
    }

    /// Number of entries held, including expired ones not purged yet.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether the store holds no entry at all.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    /// Spawns a tokio task that calls [`purge_expired`](Self::purge_expired) every `every`.
    /// The task holds only a weak reference, so it ends once the store is dropped. Fails
    /// when called outside a tokio runtime.
    pub fn spawn_sweeper(
        self: &Arc<Self>,
        every: Duration,
    ) -> Result<tokio::task::JoinHandle<()>, EphemeralError> {
        let handle = tokio::runtime::Handle::try_current()
            .map_err(|_| EphemeralError("sweeper needs a tokio runtime".into()))?;
        let weak = Arc::downgrade(self);
        // A zero period would make `interval` panic.
        let every = every.max(Duration::from_millis(1));
        Ok(handle.spawn(async move {
            let mut ticks = tokio::time::interval(every);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                match weak.upgrade() {
                    Some(store) => store.purge_expired(),
                    None => break,
                }
            }
        }))
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Entry>> {
        // A panic while holding the lock cannot leave a half-written entry (every mutation is
        // a single insert/remove), so the map is still consistent.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn deadline(now: DateTime<Utc>, ttl: Duration) -> DateTime<Utc> {
        let ttl = TimeDelta::from_std(ttl).unwrap_or(TimeDelta::MAX);
        now.checked_add_signed(ttl)
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    }

    /// Makes room for a new `key`, or refuses. Existing keys can always be overwritten.
    fn ensure_room(
        &self,
        map: &mut HashMap<String, Entry>,
        key: &str,
        now: DateTime<Utc>,
    ) -> Result<(), EphemeralError> {
        if map.contains_key(key) || map.len() < self.max_entries {
            return Ok(());
        }
        map.retain(|_, e| e.is_live(now));
        if map.len() < self.max_entries {
            Ok(())
        } else {
            Err(EphemeralError("capacity exceeded".into()))
        }
    }

    /// The live entry under `key`, dropping it first if it has expired.
    fn live<'a>(
        map: &'a mut HashMap<String, Entry>,
        key: &str,
        now: DateTime<Utc>,
    ) -> Option<&'a mut Entry> {
        if map.get(key).is_some_and(|e| !e.is_live(now)) {
            map.remove(key);
        }
        map.get_mut(key)
    }
}

fn wrong_kind() -> EphemeralError {
    EphemeralError("key holds a different kind of entry".into())
}

#[async_trait]
impl EphemeralStore for MemoryStore {
    async fn put(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), EphemeralError> {
        let now = self.clock.now();
        let mut map = self.lock();
        self.ensure_room(&mut map, key, now)?;
        map.insert(
            key.to_owned(),
            Entry::Value(value.to_vec(), Self::deadline(now, ttl)),
        );
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, EphemeralError> {
        let now = self.clock.now();
        let mut map = self.lock();
        match Self::live(&mut map, key, now) {
            Some(Entry::Value(v, _)) => Ok(Some(v.clone())),
            Some(Entry::Tombstone(_)) | None => Ok(None),
            Some(Entry::Counter(..)) => Err(wrong_kind()),
        }
    }

    async fn consume(&self, key: &str) -> Result<Consumed, EphemeralError> {
        let now = self.clock.now();
        let mut map = self.lock();
        let Some(entry) = Self::live(&mut map, key, now) else {
            return Ok(Consumed::Missing);
        };
        match entry {
            Entry::Value(v, at) => {
                let v = std::mem::take(v);
                // The tombstone keeps the original deadline: consuming must not extend it.
                *entry = Entry::Tombstone(*at);
                Ok(Consumed::Value(v))
            }
            Entry::Tombstone(_) => Ok(Consumed::AlreadyConsumed),
            Entry::Counter(..) => Err(wrong_kind()),
        }
    }

    async fn set_if_absent(
        &self,
        key: &str,
        value: &[u8],
        ttl: Duration,
    ) -> Result<bool, EphemeralError> {
        let now = self.clock.now();
        let mut map = self.lock();
        if Self::live(&mut map, key, now).is_some() {
            return Ok(false);
        }
        self.ensure_room(&mut map, key, now)?;
        map.insert(
            key.to_owned(),
            Entry::Value(value.to_vec(), Self::deadline(now, ttl)),
        );
        Ok(true)
    }

    async fn incr(&self, key: &str, ttl: Duration) -> Result<i64, EphemeralError> {
        let now = self.clock.now();
        let mut map = self.lock();
        match Self::live(&mut map, key, now) {
            Some(Entry::Counter(n, _)) => {
                *n = n
                    .checked_add(1)
                    .ok_or_else(|| EphemeralError("counter overflow".into()))?;
                Ok(*n)
            }
            Some(_) => Err(wrong_kind()),
            None => {
                self.ensure_room(&mut map, key, now)?;
                map.insert(key.to_owned(), Entry::Counter(1, Self::deadline(now, ttl)));
                Ok(1)
            }
        }
    }

    async fn delete(&self, key: &str) -> Result<(), EphemeralError> {
        self.lock().remove(key);
        Ok(())
    }

    async fn ping(&self) -> Result<(), EphemeralError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    fn store(max: usize) -> (Arc<ManualClock>, MemoryStore) {
        let clock = Arc::new(ManualClock::fixed());
        let store = MemoryStore::with_capacity_limit(clock.clone(), max);
        (clock, store)
    }

    #[tokio::test]
    async fn full_store_refuses_new_keys_but_frees_expired_ones() {
        let (clock, s) = store(2);
        let ttl = Duration::from_secs(10);
        s.put("a", b"1", ttl).await.unwrap();
        s.put("b", b"2", Duration::from_secs(60)).await.unwrap();
        let full = EphemeralError("capacity exceeded".into());
        assert_eq!(s.put("c", b"3", ttl).await, Err(full.clone()));
        assert_eq!(s.set_if_absent("c", b"3", ttl).await, Err(full.clone()));
        assert_eq!(s.incr("c", ttl).await, Err(full));
        // Existing keys may still be rewritten and counted.
        s.put("a", b"1b", ttl).await.unwrap();
        assert_eq!(s.get("a").await.unwrap(), Some(b"1b".to_vec()));
        // Live entries were never evicted.
        assert_eq!(s.get("b").await.unwrap(), Some(b"2".to_vec()));
        clock.advance(TimeDelta::seconds(11));
        s.put("c", b"3", ttl).await.unwrap();
        assert_eq!(s.len(), 2);
    }

    #[tokio::test]
    async fn purge_drops_only_expired_entries() {
        let (clock, s) = store(10);
        s.put("short", b"x", Duration::from_secs(1)).await.unwrap();
        s.incr("long", Duration::from_secs(100)).await.unwrap();
        s.put("gone", b"y", Duration::from_secs(1)).await.unwrap();
        s.consume("gone").await.unwrap();
        clock.advance(TimeDelta::seconds(2));
        assert_eq!(s.len(), 3);
        s.purge_expired();
        assert_eq!(s.len(), 1);
        assert_eq!(s.incr("long", Duration::from_secs(100)).await.unwrap(), 2);
    }

    #[tokio::test]
    async fn sweeper_purges_and_stops_when_the_store_is_dropped() {
        let (clock, s) = store(10);
        let s = Arc::new(s);
        s.put("k", b"v", Duration::from_secs(1)).await.unwrap();
        clock.advance(TimeDelta::seconds(2));
        let task = s.spawn_sweeper(Duration::from_millis(5)).unwrap();
        tokio::time::timeout(Duration::from_secs(5), async {
            while !s.is_empty() {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
        .await
        .unwrap();
        drop(s);
        tokio::time::timeout(Duration::from_secs(5), task)
            .await
            .unwrap()
            .unwrap();
    }

    #[test]
    fn sweeper_outside_a_runtime_is_an_error() {
        let (_, s) = store(10);
        assert!(Arc::new(s).spawn_sweeper(Duration::from_secs(1)).is_err());
    }
}
