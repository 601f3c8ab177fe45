//! Test doubles: a minimal in-memory ephemeral store (the real ones are built elsewhere), a
//! store that always fails, and an SMS gateway that records what it was asked to send.

use super::SendError;
use super::sms::SmsGateway;
use crate::store::{Consumed, EphemeralError, EphemeralStore};
use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

/// Values and counters without expiry; the TTL given at creation is kept for assertions.
#[derive(Default)]
pub struct FakeEphemeral {
    entries: Mutex<HashMap<String, (Vec<u8>, Duration)>>,
}

impl FakeEphemeral {
    /// The TTL `key` was created with.
    pub fn ttl_of(&self, key: &str) -> Option<Duration> {
        self.entries.lock().unwrap().get(key).map(|(_, ttl)| *ttl)
    }

    /// Simulates the window expiring.
    pub fn remove(&self, key: &str) {
        self.entries.lock().unwrap().remove(key);
    }
}

#[async_trait]
impl EphemeralStore for FakeEphemeral {
    async fn put(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), EphemeralError> {
        self.entries
            .lock()
            .unwrap()
            .insert(key.to_string(), (value.to_vec(), ttl));
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, EphemeralError> {
        Ok(self
            .entries
            .lock()
            .unwrap()
            .get(key)
            .map(|(v, _)| v.clone()))
    }

    async fn consume(&self, key: &str) -> Result<Consumed, EphemeralError> {
        Ok(match self.entries.lock().unwrap().remove(key) {
            Some((v, _)) => Consumed::Value(v),
            None => Consumed::Missing,
        })
    }

    async fn set_if_absent(
        &self,
        key: &str,
        value: &[u8],
        ttl: Duration,
    ) -> Result<bool, EphemeralError> {
        let mut entries = self.entries.lock().unwrap();
        if entries.contains_key(key) {
            return Ok(false);
        }
        entries.insert(key.to_string(), (value.to_vec(), ttl));
        Ok(true)
    }

    async fn incr(&self, key: &str, ttl: Duration) -> Result<i64, EphemeralError> {
        let mut entries = self.entries.lock().unwrap();
        let entry = entries
            .entry(key.to_string())
            .or_insert_with(|| (b"0".to_vec(), ttl));
        let n: i64 = String::from_utf8_lossy(&entry.0).parse().unwrap_or(0) + 1;
        entry.0 = n.to_string().into_bytes();
        Ok(n)
    }

    async fn delete(&self, key: &str) -> Result<(), EphemeralError> {
        self.entries.lock().unwrap().remove(key);
        Ok(())
    }

    async fn ping(&self) -> Result<(), EphemeralError> {
        Ok(())
    }
}

/// Every call fails, like an unreachable Redis.
pub struct FailingEphemeral;

fn down() -> EphemeralError {
    EphemeralError("down".into())
}

#[async_trait]
impl EphemeralStore for FailingEphemeral {
    async fn put(&self, _: &str, _: &[u8], _: Duration) -> Result<(), EphemeralError> {
        Err(down())
    }
    async fn get(&self, _: &str) -> Result<Option<Vec<u8>>, EphemeralError> {
        Err(down())
    }
    async fn consume(&self, _: &str) -> Result<Consumed, EphemeralError> {
        Err(down())
    }
    async fn set_if_absent(&self, _: &str, _: &[u8], _: Duration) -> Result<bool, EphemeralError> {
        Err(down())
    }
    async fn incr(&self, _: &str, _: Duration) -> Result<i64, EphemeralError> {
        Err(down())
    }
    async fn delete(&self, _: &str) -> Result<(), EphemeralError> {
        Err(down())
    }
    async fn ping(&self) -> Result<(), EphemeralError> {
        Err(down())
    }
}

/// Records every message it is asked to send.
#[derive(Default)]
pub struct RecordingSms {
    sent: Mutex<Vec<(String, String)>>,
}

impl RecordingSms {
    /// How many messages were sent.
    pub fn count(&self) -> usize {
        self.sent.lock().unwrap().len()
    }
}

#[async_trait]
impl SmsGateway for RecordingSms {
    async fn send(&self, to_e164: &str, text: &str) -> Result<(), SendError> {
        self.sent
            .lock()
            .unwrap()
            .push((to_e164.to_string(), text.to_string()));
        Ok(())
    }

    fn name(&self) -> &'static str {
        "recording"
    }
}
