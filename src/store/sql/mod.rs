//! SQL implementation of the durable [`Store`], over SQLite and PostgreSQL.
//!
//! Decision: one code path for both engines, through sqlx's `Any` driver with SQL written at
//! run time (`sqlx::query("… $1 …")`, which SQLite accepts too), not the `query!` macros: the
//! macros check every query against one live database at build time and would bind the crate
//! to one engine. Only the DDL differs, in `migrations/sqlite` and `migrations/postgres`.
//!
//! The `Any` driver carries only i64, f64, bool, text and bytes, so timestamps are stored as
//! i64 microseconds since the epoch (UTC), ids and identifiers as text, and structured values
//! (addresses, facts, relying-party bodies, audit details) as JSON text.

mod audit;
mod citizens;
mod codes;
mod consents;
mod credentials;
mod keys;
mod oidc_tokens;
mod relying_parties;
mod service_tokens;
mod sessions;
#[cfg(test)]
pub(crate) mod tests;

use super::{ActivationCodeRecord, FailureCount, Store, StoreError, StoredKey};
use crate::core::audit::{AuditEntry, AuditEvent};
use crate::core::citizen::{Citizen, CitizenId};
use crate::core::identifier::Identifier;
use crate::core::relying_party::RelyingParty;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Executor, Row};
use std::fmt;
use std::path::Path;
use std::time::Duration;

/// How long to wait for a connection before reporting the database unavailable, so that a
/// dead database fails requests instead of hanging them.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// Set on every SQLite connection: WAL lets readers run beside the one writer, busy_timeout
/// makes writers queue instead of failing, and SQLite leaves foreign keys off unless asked.
const SQLITE_PRAGMAS: &str = "PRAGMA journal_mode=WAL; PRAGMA busy_timeout=5000; \
                              PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL;";

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("src/store/sql/migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("src/store/sql/migrations/postgres");

/// The database engine behind a [`SqlStore`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// A SQLite file (one node, or tests).
    Sqlite,
    /// A PostgreSQL server (several nodes).
    Postgres,
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Sqlite => "SQLite",
            Self::Postgres => "PostgreSQL",
        })
    }
}

/// The durable store over SQLite or PostgreSQL.
#[derive(Debug, Clone)]
pub struct SqlStore {
    pool: AnyPool,
    engine: Engine,
}

impl SqlStore {
    /// Opens a pool of at most `max_connections` to `url`: `sqlite://path/to/file.db` (the
    /// file and its directory are created if missing) or `postgres://…`. In-memory SQLite is
    /// refused, because every pooled connection would see its own empty database. Fails
    /// within a few seconds when the database cannot be reached.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let (engine, url) = prepare_url(url).await?;
        let mut options = AnyPoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(ACQUIRE_TIMEOUT);
        if engine == Engine::Sqlite {
            options = options.after_connect(|conn, _meta| {
                Box::pin(async move {
                    conn.execute(SQLITE_PRAGMAS).await?;
                    Ok(())
                })
            });
        }
        let pool = options.connect(&url).await.map_err(|e| {
            StoreError::Unavailable(format!("cannot connect to the {engine} database: {e}"))
        })?;
        Ok(Self { pool, engine })
    }

    /// Brings the schema up to date. Safe to run on every start and from several nodes at
    /// once (sqlx takes a lock on PostgreSQL).
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let migrator = match self.engine {
            Engine::Sqlite => &SQLITE_MIGRATIONS,
            Engine::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&self.pool).await.map_err(|e| {
            StoreError::Unavailable(format!(
                "migrating the {} database failed: {e}",
                self.engine
            ))
        })
    }

    /// Which engine this store talks to.
    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// The connection pool, for tests and raw operations outside the [`Store`] contract.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }
}

/// Works out the engine and the URL to hand to sqlx. For SQLite, creates the parent directory
/// and asks for the file to be created (`mode=rwc`) unless a mode was given.
async fn prepare_url(url: &str) -> Result<(Engine, String), StoreError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok((Engine::Postgres, url.to_owned()));
    }
    let Some(rest) = url.strip_prefix("sqlite:") else {
        // The URL is not echoed: it may carry a password.
        return Err(StoreError::Unavailable(
            "unsupported database URL: expected sqlite://path/to/file.db or postgres://…".into(),
        ));
    };
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path.is_empty() || path == ":memory:" || query.split('&').any(|kv| kv == "mode=memory") {
        return Err(StoreError::Unavailable(
            "in-memory SQLite (sqlite::memory:) is not supported: each pooled connection would \
             see its own empty database; use sqlite://path/to/file.db"
                .into(),
        ));
    }
    if let Some(dir) = Path::new(path)
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
    {
        tokio::fs::create_dir_all(dir).await.map_err(|e| {
            StoreError::Unavailable(format!(
                "cannot create the directory {} for the SQLite database: {e}",
                dir.display()
            ))
        })?;
    }
    let url = if query.split('&').any(|kv| kv.starts_with("mode=")) {
        url.to_owned()
    } else if query.is_empty() {
        format!("{url}?mode=rwc")
    } else {
        format!("{url}&mode=rwc")
    };
    Ok((Engine::Sqlite, url))
}

/// A database failure, as the contract's fail-closed error.
fn unavailable(e: sqlx::Error) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

/// `Conflict(message())` when a unique constraint refused the write, else `Unavailable`.
/// `message` is given the constraint name (PostgreSQL) or error text (SQLite) to tell which
/// constraint it was.
fn conflict_or_unavailable(e: sqlx::Error, message: impl FnOnce(&str) -> String) -> StoreError {
    match e.as_database_error() {
        Some(db) if db.is_unique_violation() => {
            let which = db.constraint().unwrap_or_else(|| db.message());
            StoreError::Conflict(message(which))
        }
        _ => unavailable(e),
    }
}

/// A stored value that cannot be read back: the data is damaged, so refuse like an outage.
fn corrupt(what: &str, detail: impl fmt::Display) -> StoreError {
    StoreError::Unavailable(format!("stored {what} is unreadable: {detail}"))
}

/// A column of `row`, decoded.
fn col<'r, T>(row: &'r AnyRow, name: &str) -> Result<T, StoreError>
where
    T: sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any>,
{
    row.try_get(name).map_err(|e| corrupt(name, e))
}

/// The storage form of an instant: microseconds since the epoch.
fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

/// Reads back what [`micros`] wrote.
fn from_micros(v: i64, what: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp_micros(v).ok_or_else(|| corrupt(what, format!("{v} is out of range")))
}

/// JSON text for a column.
fn to_json<T: serde::Serialize>(value: &T, what: &str) -> Result<String, StoreError> {
    serde_json::to_string(value)
        .map_err(|e| StoreError::Unavailable(format!("cannot encode {what} as JSON: {e}")))
}

/// Reads back what [`to_json`] wrote.
fn from_json<T: serde::de::DeserializeOwned>(text: &str, what: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| corrupt(what, e))
}

#[async_trait]
impl Store for SqlStore {
    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(|_| ())
            .map_err(unavailable)
    }

    async fn insert_citizen(&self, citizen: &Citizen) -> Result<(), StoreError> {
        citizens::insert(&self.pool, citizen).await
    }

    async fn citizen(&self, id: CitizenId) -> Result<Option<Citizen>, StoreError> {
        citizens::by_id(&self.pool, id).await
    }

    async fn citizen_by_identifier(&self, id: &Identifier) -> Result<Option<Citizen>, StoreError> {
        citizens::by_identifier(&self.pool, id).await
    }

    async fn update_citizen(&self, citizen: &Citizen) -> Result<(), StoreError> {
        citizens::update(&self.pool, citizen).await
    }

    async fn put_activation_code(&self, code: &ActivationCodeRecord) -> Result<(), StoreError> {
        codes::put(&self.pool, code).await
    }

    async fn activation_code(
        &self,
        citizen: CitizenId,
        purpose: &str,
    ) -> Result<Option<ActivationCodeRecord>, StoreError> {
        codes::get(&self.pool, citizen, purpose).await
    }

    async fn record_code_failure(
        &self,
        citizen: CitizenId,
        purpose: &str,
        max_failures: u32,
        now: DateTime<Utc>,
    ) -> Result<FailureCount, StoreError> {
        codes::record_failure(&self.pool, citizen, purpose, max_failures, now).await
    }

    async fn delete_activation_code(
        &self,
        citizen: CitizenId,
        purpose: &str,
    ) -> Result<(), StoreError> {
        codes::delete(&self.pool, citizen, purpose).await
    }

    async fn put_relying_party(&self, rp: &RelyingParty) -> Result<(), StoreError> {
        relying_parties::put(&self.pool, rp).await
    }

    async fn relying_party(&self, id: &str) -> Result<Option<RelyingParty>, StoreError> {
        relying_parties::get(&self.pool, id).await
    }

    async fn relying_parties(&self) -> Result<Vec<RelyingParty>, StoreError> {
        relying_parties::list(&self.pool).await
    }

    async fn delete_relying_party(&self, id: &str) -> Result<bool, StoreError> {
        relying_parties::delete(&self.pool, id).await
    }

    async fn keys(&self) -> Result<Vec<StoredKey>, StoreError> {
        keys::list(&self.pool).await
    }

    async fn insert_key(&self, key: &StoredKey) -> Result<(), StoreError> {
        keys::insert(&self.pool, key).await
    }

    async fn rotate_keys(
        &self,
        alg: &str,
        new_next: &StoredKey,
        retire_before: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        keys::rotate(&self.pool, alg, new_next, retire_before, now).await
    }

    async fn append_audit(&self, event: &AuditEvent) -> Result<AuditEntry, StoreError> {
        audit::append(&self.pool, event).await
    }

    async fn audit_entries(
        &self,
        citizen: Option<CitizenId>,
        after_seq: i64,
        limit: i64,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        audit::entries(&self.pool, citizen, after_seq, limit).await
    }

    async fn insert_service_token(
        &self,
        token: &crate::store::service_tokens::ServiceToken,
    ) -> Result<(), StoreError> {
        service_tokens::insert(&self.pool, token).await
    }

    async fn service_token(
        &self,
        token_hash: &str,
    ) -> Result<Option<crate::store::service_tokens::ServiceToken>, StoreError> {
        service_tokens::by_hash(&self.pool, token_hash).await
    }

    async fn revoke_service_token(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        service_tokens::revoke(&self.pool, token_hash, now).await
    }

    async fn consent(
        &self,
        citizen: CitizenId,
        client_id: &str,
    ) -> Result<Option<crate::store::consents::Consent>, StoreError> {
        consents::get(&self.pool, citizen, client_id).await
    }

    async fn put_consent(
        &self,
        consent: &crate::store::consents::Consent,
    ) -> Result<(), StoreError> {
        consents::put(&self.pool, consent).await
    }

    async fn delete_consents(&self, citizen: CitizenId) -> Result<u64, StoreError> {
        consents::delete_all(&self.pool, citizen).await
    }
}
