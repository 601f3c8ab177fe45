//! Storage. Durable data (citizens, codes, relying parties, keys, audit) lives behind
//! [`Store`], implemented once over SQL for SQLite and PostgreSQL ([`sql`]). Short-lived state
//! (login journeys, OTP challenges, authorization codes, replay caches, rate windows) lives
//! behind [`EphemeralStore`], in process ([`ephemeral::memory`]) or in Redis
//! ([`ephemeral::redis`]). Each trait's contract is written on its methods and proved by one
//! suite that every backend passes ([`suite`], [`ephemeral::suite`]).
//!
//! Every method fails closed: a backend error is returned as `Unavailable`, never treated as
//! "not found" or "allowed".

pub mod consents;
pub mod credentials;
pub mod ephemeral;
pub mod oidc_tokens;
pub mod service_tokens;
pub mod sessions;
pub mod settings;
pub mod sql;
#[doc(hidden)]
pub mod suite;

pub use credentials::CredentialStore;
pub use ephemeral::{Consumed, EphemeralError, EphemeralStore};
pub use oidc_tokens::OidcTokenStore;
pub use sessions::SessionStore;
pub use settings::{DatabaseConfig, EphemeralBackend, EphemeralConfig};

use crate::core::audit::{AuditEntry, AuditEvent};
use crate::core::citizen::{Citizen, CitizenId};
use crate::core::identifier::Identifier;
use crate::core::relying_party::RelyingParty;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Errors of the durable store.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The record does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// A unique constraint refused the write (e.g. an identifier already registered).
    #[error("{0}")]
    Conflict(String),
    /// The database could not be reached or failed; callers must refuse, not proceed.
    #[error("database unavailable: {0}")]
    Unavailable(String),
}

/// A stored activation code (or an invitation-letter CSV): only its keyed hash is kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivationCodeRecord {
    /// Whose code it is.
    pub citizen_id: CitizenId,
    /// What the code is for: `activation` (office / online) or `letter` (invitation CSV).
    pub purpose: String,
    /// Keyed hash of the code (see [`crate::core::activation`]).
    pub code_hash: String,
    /// When it was issued.
    pub issued_at: DateTime<Utc>,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
    /// Wrong attempts so far.
    pub failures: u32,
    /// When it was blocked for too many wrong attempts.
    pub blocked_at: Option<DateTime<Utc>>,
}

/// The result of counting one wrong attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailureCount {
    /// Wrong attempts including this one.
    pub failures: u32,
    /// The code is blocked (now or before).
    pub blocked: bool,
    /// This very attempt blocked it (exactly one attempt sees `true`).
    pub newly_blocked: bool,
}

/// Life cycle of a signing key: published before it signs, published for a grace period after.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyState {
    /// Published in JWKS and metadata, not yet signing.
    Next,
    /// Signing (one per algorithm).
    Active,
    /// No longer signing, still published so existing signatures verify.
    Retiring,
    /// Neither signing nor published.
    Retired,
}

impl KeyState {
    /// Storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Next => "next",
            Self::Active => "active",
            Self::Retiring => "retiring",
            Self::Retired => "retired",
        }
    }
}

impl std::str::FromStr for KeyState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "next" => Ok(Self::Next),
            "active" => Ok(Self::Active),
            "retiring" => Ok(Self::Retiring),
            "retired" => Ok(Self::Retired),
            other => Err(format!("unknown key state '{other}'")),
        }
    }
}

/// A signing key as stored: the private key is encrypted with the key-encryption key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredKey {
    /// Key id, unique across all keys ever made.
    pub kid: String,
    /// JOSE algorithm family: `RS256` (RSA keys, also used for PS256) or `ES256`.
    pub alg: String,
    /// Life-cycle state.
    pub state: KeyState,
    /// Encrypted PKCS#8 DER private key.
    pub encrypted_private_key: Vec<u8>,
    /// Self-signed X.509 certificate (DER) for the public key, made once with the key so that
    /// every node publishes the same certificate in SAML metadata.
    pub certificate: Vec<u8>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it last changed state.
    pub state_changed_at: DateTime<Utc>,
}

/// Durable storage. Implementations: [`sql::SqlStore`] over SQLite and PostgreSQL.
#[async_trait]
pub trait Store: SessionStore + CredentialStore + OidcTokenStore + Send + Sync + 'static {
    /// Succeeds when the database answers.
    async fn ping(&self) -> Result<(), StoreError>;

    /// Inserts a new citizen. `Conflict` if the identifier is already registered.
    async fn insert_citizen(&self, citizen: &Citizen) -> Result<(), StoreError>;
    /// The citizen with this id, if any.
    async fn citizen(&self, id: CitizenId) -> Result<Option<Citizen>, StoreError>;
    /// The citizen with this identifier, if any.
    async fn citizen_by_identifier(&self, id: &Identifier) -> Result<Option<Citizen>, StoreError>;
    /// Replaces every field of an existing citizen. `NotFound` if absent.
    async fn update_citizen(&self, citizen: &Citizen) -> Result<(), StoreError>;

    /// Stores a code for (citizen, purpose), replacing any previous one (a reissue starts
    /// with zero failures).
    async fn put_activation_code(&self, code: &ActivationCodeRecord) -> Result<(), StoreError>;
    /// The current code for (citizen, purpose).
    async fn activation_code(
        &self,
        citizen: CitizenId,
        purpose: &str,
    ) -> Result<Option<ActivationCodeRecord>, StoreError>;
    /// Counts one wrong attempt atomically; the attempt that makes `failures` exceed
    /// `max_failures` blocks the code at `now`. Counting goes on after the block, so N
    /// concurrent wrong attempts always count N. `NotFound` if there is no code.
    async fn record_code_failure(
        &self,
        citizen: CitizenId,
        purpose: &str,
        max_failures: u32,
        now: DateTime<Utc>,
    ) -> Result<FailureCount, StoreError>;
    /// Removes the code (used up or withdrawn).
    async fn delete_activation_code(
        &self,
        citizen: CitizenId,
        purpose: &str,
    ) -> Result<(), StoreError>;

    /// Inserts or replaces a relying party.
    async fn put_relying_party(&self, rp: &RelyingParty) -> Result<(), StoreError>;
    /// The relying party with this id.
    async fn relying_party(&self, id: &str) -> Result<Option<RelyingParty>, StoreError>;
    /// Every relying party, ordered by id.
    async fn relying_parties(&self) -> Result<Vec<RelyingParty>, StoreError>;
    /// Removes a relying party; `false` if it did not exist.
    async fn delete_relying_party(&self, id: &str) -> Result<bool, StoreError>;

    /// Every stored key, oldest first.
    async fn keys(&self) -> Result<Vec<StoredKey>, StoreError>;
    /// Inserts a key. `Conflict` on a duplicate kid.
    async fn insert_key(&self, key: &StoredKey) -> Result<(), StoreError>;
    /// One atomic rotation for `alg`: active → retiring, next → active, and `new_next`
    /// inserted as next; keys retiring since before `retire_before` become retired.
    async fn rotate_keys(
        &self,
        alg: &str,
        new_next: &StoredKey,
        retire_before: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// Appends an event to the hash-chained audit log and returns the entry as written.
    /// Appends are serialised by the database, so the chain holds across nodes.
    async fn append_audit(&self, event: &AuditEvent) -> Result<AuditEntry, StoreError>;
    /// Audit entries in order, optionally for one citizen, starting after `after_seq`, at most
    /// `limit`.
    async fn audit_entries(
        &self,
        citizen: Option<CitizenId>,
        after_seq: i64,
        limit: i64,
    ) -> Result<Vec<AuditEntry>, StoreError>;

    /// Inserts a `client_credentials` access token. `Conflict` on a duplicate hash.
    async fn insert_service_token(
        &self,
        token: &service_tokens::ServiceToken,
    ) -> Result<(), StoreError>;
    /// The service token whose value hashes to `token_hash`, whatever its state.
    async fn service_token(
        &self,
        token_hash: &str,
    ) -> Result<Option<service_tokens::ServiceToken>, StoreError>;
    /// Revokes a service token at `now`; `false` if it does not exist or was revoked before.
    async fn revoke_service_token(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// The citizen's consent to `client_id`, if one was given.
    async fn consent(
        &self,
        citizen: CitizenId,
        client_id: &str,
    ) -> Result<Option<consents::Consent>, StoreError>;
    /// Records a consent, replacing the previous one for (citizen, client). `NotFound` if
    /// the citizen does not exist.
    async fn put_consent(&self, consent: &consents::Consent) -> Result<(), StoreError>;
    /// Removes every consent of the citizen; how many there were.
    async fn delete_consents(&self, citizen: CitizenId) -> Result<u64, StoreError>;
}
