//! Short-lived state with time-to-live: login journeys, OTP challenges, authorization codes,
//! replay caches and rate windows. TTLs are enforced by the store, not by callers.
//!
//! Contract (proved for every backend by [`suite`]):
//! - `put` stores a value for `ttl`; `get` returns it until then, and `None` after.
//! - `consume` returns the value once and leaves a tombstone until the original TTL ends, so a
//!   second `consume` answers [`Consumed::AlreadyConsumed`] (a reused authorization code is
//!   detected and its tokens revoked) while a key never stored answers [`Consumed::Missing`].
//!   Of N concurrent `consume` calls exactly one gets the value.
//! - `set_if_absent` stores only when no live value (or tombstone) exists and says whether it
//!   did (replay caches: `jti`, SAML request ids).
//! - `incr` atomically adds one and returns the new count; the TTL starts at the first
//!   increment of a window and is not extended by later ones.
//! - Any backend failure is an error: callers fail closed.

pub mod memory;
pub mod redis;
#[doc(hidden)]
pub mod suite;

use async_trait::async_trait;
use std::time::Duration;

/// The ephemeral store failed (unreachable Redis, …). Callers must refuse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("ephemeral store unavailable: {0}")]
pub struct EphemeralError(pub String);

/// What `consume` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Consumed {
    /// The value, now consumed.
    Value(Vec<u8>),
    /// It existed and was consumed before (the tombstone is still there).
    AlreadyConsumed,
    /// Nothing was ever stored under this key, or it has expired.
    Missing,
}

/// Short-lived key-value state with TTLs. See the module docs for the contract.
#[async_trait]
pub trait EphemeralStore: Send + Sync + 'static {
    /// Stores `value` under `key` for `ttl`, replacing any previous value.
    async fn put(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), EphemeralError>;
    /// The live value under `key`, if any (a tombstone reads as `None`).
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, EphemeralError>;
    /// Takes the value once, leaving a tombstone until the original TTL ends.
    async fn consume(&self, key: &str) -> Result<Consumed, EphemeralError>;
    /// Stores `value` only if nothing lives under `key`; `true` if it stored.
    async fn set_if_absent(
        &self,
        key: &str,
        value: &[u8],
        ttl: Duration,
    ) -> Result<bool, EphemeralError>;
    /// Adds one to the counter under `key` and returns the new value; a new counter lives
    /// for `ttl`.
    async fn incr(&self, key: &str, ttl: Duration) -> Result<i64, EphemeralError>;
    /// Removes `key` (value or tombstone).
    async fn delete(&self, key: &str) -> Result<(), EphemeralError>;
    /// Succeeds when the backend answers.
    async fn ping(&self) -> Result<(), EphemeralError>;
}
