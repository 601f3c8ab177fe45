//! Durable credential state: password hashes, the login-failure counter and lock, TOTP
//! secrets, acceptance of the security policy and online identity-proofing attempts.
//!
//! Every counter here is incremented by the database in one statement, so attempts racing on
//! several nodes all count: fifty parallel wrong guesses count fifty.

use super::{FailureCount, StoreError};
use crate::core::citizen::CitizenId;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// A stored password hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordRecord {
    /// The Argon2id hash as a PHC string.
    pub phc: String,
    /// When the password was set.
    pub set_at: DateTime<Utc>,
}

/// Where a citizen's login-failure counter stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LoginFailures {
    /// Wrong passwords since the last successful login (or unlock, or new password).
    pub consecutive: u32,
    /// Password login is locked until an operator unlocks it or a new password is set.
    pub locked: bool,
    /// This very failure locked the account (exactly one racing failure sees `true`); always
    /// `false` when only reading the counter.
    pub newly_locked: bool,
    /// When the last counted failure happened.
    pub last_failure_at: Option<DateTime<Utc>>,
}

/// A stored TOTP enrolment, pending until the citizen confirms it with a code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TotpRecord {
    /// The shared secret, encrypted by the caller; the store never sees it in clear.
    pub secret: Vec<u8>,
    /// When the enrolment started.
    pub enrolled_at: DateTime<Utc>,
    /// When the citizen confirmed it with a code; `None` while pending. Only a confirmed
    /// secret is a second factor.
    pub confirmed_at: Option<DateTime<Utc>>,
    /// The last time step a code was accepted for, so no code is accepted twice.
    pub last_step: Option<i64>,
}

/// Durable credential state, keyed by citizen. A write that would create a row for a citizen
/// that does not exist returns `NotFound`; reads return the empty answer, and resets, unlocks
/// and `use_totp_step` have nothing to change.
#[async_trait]
pub trait CredentialStore: Send + Sync + 'static {
    /// The citizen's password hash, if one was set.
    async fn password(&self, citizen: CitizenId) -> Result<Option<PasswordRecord>, StoreError>;
    /// Sets or replaces the password hash. In the same transaction it clears the
    /// login-failure counter and the lock: a new password (set after proving identity again)
    /// is how a locked citizen gets back in.
    async fn set_password(
        &self,
        citizen: CitizenId,
        phc: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Replaces the hash `old_phc` by `new_phc` (the same password hashed with current
    /// parameters), only if `old_phc` is still the stored one; the failure counter and lock
    /// are left alone. `true` if it replaced it.
    async fn rehash_password(
        &self,
        citizen: CitizenId,
        old_phc: &str,
        new_phc: &str,
    ) -> Result<bool, StoreError>;

    /// Counts one wrong password atomically and stamps it `now`. The failure that brings
    /// `consecutive` to `lock_after` (at least 1) locks the account and is the only one to
    /// see `newly_locked`; counting goes on after the lock, so N racing failures count N.
    async fn record_login_failure(
        &self,
        citizen: CitizenId,
        lock_after: u32,
        now: DateTime<Utc>,
    ) -> Result<LoginFailures, StoreError>;
    /// The counter as it stands (zero and unlocked when nothing was ever recorded).
    async fn login_failures(&self, citizen: CitizenId) -> Result<LoginFailures, StoreError>;
    /// Clears the counter after a successful login. Does not clear a lock.
    async fn reset_login_failures(&self, citizen: CitizenId) -> Result<(), StoreError>;
    /// Clears the counter and the lock (an operator's decision).
    async fn unlock_login(&self, citizen: CitizenId) -> Result<(), StoreError>;

    /// Enrols as confirmed at `now` (`Some`, replacing any previous secret, pending or not,
    /// and forgetting its last step) or removes (`None`) the citizen's TOTP secret.
    async fn set_totp(
        &self,
        citizen: CitizenId,
        secret: Option<Vec<u8>>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Stores a pending (unconfirmed) secret started at `now`, replacing any pending one, but
    /// never a confirmed one: `false` (and nothing written) if the citizen already has a
    /// confirmed secret.
    async fn put_pending_totp(
        &self,
        citizen: CitizenId,
        secret: &[u8],
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// Confirms the pending secret at `now`, recording `step` (the step of the code that
    /// confirmed it) as used. Atomic: `true` iff this call moved it from pending to
    /// confirmed; `false` when there is no pending secret.
    async fn confirm_totp(
        &self,
        citizen: CitizenId,
        step: i64,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// The citizen's TOTP enrolment (pending or confirmed), if any.
    async fn totp(&self, citizen: CitizenId) -> Result<Option<TotpRecord>, StoreError>;
    /// Marks time step `step` of the confirmed secret as used, atomically: `true` iff it is
    /// later than every step used before, so of racing calls with the same step exactly one
    /// wins. `false` also when the citizen has no confirmed TOTP secret.
    async fn use_totp_step(&self, citizen: CitizenId, step: i64) -> Result<bool, StoreError>;

    /// Records that the citizen accepted version `version` of the security policy at `now`,
    /// replacing any earlier acceptance.
    async fn record_policy_acceptance(
        &self,
        citizen: CitizenId,
        version: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// The latest accepted policy version and when it was accepted.
    async fn policy_acceptance(
        &self,
        citizen: CitizenId,
    ) -> Result<Option<(String, DateTime<Utc>)>, StoreError>;

    /// Counts one failed online identity-proofing attempt on `channel`, atomically. The
    /// attempt that makes `failures` reach `max` (at least 1) blocks the channel and is the
    /// only one to see `newly_blocked`: with `max = 3` the third failure blocks, and from
    /// then on the citizen must go in person. Counting goes on after the block, so N racing
    /// attempts count N. Nothing ever resets it.
    async fn record_proofing_failure(
        &self,
        citizen: CitizenId,
        channel: &str,
        max: u32,
        now: DateTime<Utc>,
    ) -> Result<FailureCount, StoreError>;
    /// The failed attempts on `channel` so far (`newly_blocked` is always `false`).
    async fn proofing_failures(
        &self,
        citizen: CitizenId,
        channel: &str,
    ) -> Result<FailureCount, StoreError>;
}
