//! Durable storage of SSO sessions ([`crate::core::session`]). Liveness (idle and absolute
//! limits) is the engine's decision: the store keeps and returns records as they are, and only
//! refuses to change sessions that have been ended.

use super::StoreError;
use crate::core::citizen::CitizenId;
use crate::core::level::LevelOfAssurance;
use crate::core::session::{MethodUse, RelyingPartyVisit, SessionId, SsoSession};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// Storage of SSO sessions. Instants are kept to the microsecond.
#[async_trait]
pub trait SessionStore: Send + Sync + 'static {
    /// Inserts a new session reached by the cookie whose SHA-256 (hex) is `cookie_hash`.
    /// `NotFound` if the citizen does not exist; `Conflict` on a duplicate id or cookie hash.
    async fn insert_session(
        &self,
        session: &SsoSession,
        cookie_hash: &str,
    ) -> Result<(), StoreError>;

    /// The session whose current cookie hashes to `cookie_hash`, ended or not. A cookie
    /// replaced by [`SessionStore::update_session_auth`] no longer finds it.
    async fn session_by_cookie_hash(
        &self,
        cookie_hash: &str,
    ) -> Result<Option<SsoSession>, StoreError>;

    /// The session with this id, ended or not.
    async fn session(&self, id: &SessionId) -> Result<Option<SsoSession>, StoreError>;

    /// Records a re-authentication: replaces the cookie hash (the old cookie stops working),
    /// the auth time, the full list of methods and the level, and counts it as activity
    /// (`last_seen_at = auth_time`). The id, creation time, absolute end and relying parties
    /// stay. `NotFound` if there is no such session or it has ended; `Conflict` if the new
    /// cookie hash is already in use.
    async fn update_session_auth(
        &self,
        id: &SessionId,
        new_cookie_hash: &str,
        auth_time: DateTime<Utc>,
        methods: &[MethodUse],
        level: LevelOfAssurance,
    ) -> Result<(), StoreError>;

    /// Sets the last activity. `NotFound` if there is no such session or it has ended.
    async fn touch_session(
        &self,
        id: &SessionId,
        last_seen_at: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// Records that a relying party was served: a visit with a new (rp_id, protocol) is
    /// appended; an existing one keeps its `first_at` and takes the visit's `last_at`.
    /// Atomic against concurrent calls on the same session. `NotFound` if there is no such
    /// session or it has ended.
    async fn add_session_relying_party(
        &self,
        id: &SessionId,
        visit: &RelyingPartyVisit,
    ) -> Result<(), StoreError>;

    /// Ends the session at `now`. `true` if this call ended it; `false` if it was already
    /// ended or does not exist.
    async fn end_session(&self, id: &SessionId, now: DateTime<Utc>) -> Result<bool, StoreError>;

    /// Ends every session of the citizen not yet ended; returns how many this call ended.
    async fn end_citizen_sessions(
        &self,
        citizen: CitizenId,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError>;

    /// Every session of the citizen, ended or not, newest first (by creation, then id).
    async fn citizen_sessions(&self, citizen: CitizenId) -> Result<Vec<SsoSession>, StoreError>;

    /// Deletes the sessions that were over (ended, past their absolute end, or last seen)
    /// before `before`; returns how many. Live sessions are never touched, since a live
    /// session was seen after any `before` older than the idle limit.
    async fn purge_sessions(&self, before: DateTime<Utc>) -> Result<u64, StoreError>;
}
