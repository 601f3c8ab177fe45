//! SSO sessions, keyed by their stable id and reached by the hash of their current cookie.

use super::{
    SqlStore, col, conflict_or_unavailable, corrupt, from_json, from_micros, micros, to_json,
    unavailable,
};
use crate::core::citizen::CitizenId;
use crate::core::level::LevelOfAssurance;
use crate::core::session::{MethodUse, RelyingPartyVisit, SessionId, SsoSession};
use crate::store::StoreError;
use crate::store::sessions::SessionStore;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;

const COLUMNS: &str = "id, citizen_id, created_at, auth_time, methods, level, relying_parties, \
                       last_seen_at, expires_at, ended_at, user_agent, source";

fn not_found(id: &SessionId) -> StoreError {
    StoreError::NotFound(format!("live session {id}"))
}

/// `NotFound` unless exactly the one session row was changed.
fn one_row(affected: u64, id: &SessionId) -> Result<(), StoreError> {
    if affected == 0 {
        Err(not_found(id))
    } else {
        Ok(())
    }
}

fn write_error(e: sqlx::Error, citizen: Option<CitizenId>) -> StoreError {
    match (e.as_database_error(), citizen) {
        (Some(db), Some(c)) if db.is_foreign_key_violation() => {
            StoreError::NotFound(format!("citizen {c}"))
        }
        _ => conflict_or_unavailable(e, |which| format!("session already exists ({which})")),
    }
}

#[async_trait]
impl SessionStore for SqlStore {
    async fn insert_session(
        &self,
        session: &SsoSession,
        cookie_hash: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO sso_sessions (id, citizen_id, cookie_hash, created_at, auth_time, \
             methods, level, relying_parties, last_seen_at, expires_at, ended_at, user_agent, \
             source) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(session.id.to_string())
        .bind(session.citizen_id.to_string())
        .bind(cookie_hash.to_owned())
        .bind(micros(session.created_at))
        .bind(micros(session.auth_time))
        .bind(to_json(&session.methods, "methods")?)
        .bind(session.level.as_str().to_owned())
        .bind(to_json(&session.relying_parties, "relying parties")?)
        .bind(micros(session.last_seen_at))
        .bind(micros(session.expires_at))
        .bind(session.ended_at.map(micros))
        .bind(session.user_agent.clone())
        .bind(session.source.clone())
        .execute(self.pool())
        .await
        .map_err(|e| write_error(e, Some(session.citizen_id)))?;
        Ok(())
    }

    async fn session_by_cookie_hash(
        &self,
        cookie_hash: &str,
    ) -> Result<Option<SsoSession>, StoreError> {
        sqlx::query(&format!(
            "SELECT {COLUMNS} FROM sso_sessions WHERE cookie_hash = $1"
        ))
        .bind(cookie_hash.to_owned())
        .fetch_optional(self.pool())
        .await
        .map_err(unavailable)?
        .map(|row| from_row(&row))
        .transpose()
    }

    async fn session(&self, id: &SessionId) -> Result<Option<SsoSession>, StoreError> {
        sqlx::query(&format!("SELECT {COLUMNS} FROM sso_sessions WHERE id = $1"))
            .bind(id.to_string())
            .fetch_optional(self.pool())
            .await
            .map_err(unavailable)?
            .map(|row| from_row(&row))
            .transpose()
    }

    async fn update_session_auth(
        &self,
        id: &SessionId,
        new_cookie_hash: &str,
        auth_time: DateTime<Utc>,
        methods: &[MethodUse],
        level: LevelOfAssurance,
    ) -> Result<(), StoreError> {
        let done = sqlx::query(
            "UPDATE sso_sessions SET cookie_hash = $1, auth_time = $2, last_seen_at = $2, \
             methods = $3, level = $4 WHERE id = $5 AND ended_at IS NULL",
        )
        .bind(new_cookie_hash.to_owned())
        .bind(micros(auth_time))
        .bind(to_json(&methods, "methods")?)
        .bind(level.as_str().to_owned())
        .bind(id.to_string())
        .execute(self.pool())
        .await
        .map_err(|e| write_error(e, None))?;
        one_row(done.rows_affected(), id)
    }

    async fn touch_session(
        &self,
        id: &SessionId,
        last_seen_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let done = sqlx::query(
            "UPDATE sso_sessions SET last_seen_at = $1 WHERE id = $2 AND ended_at IS NULL",
        )
        .bind(micros(last_seen_at))
        .bind(id.to_string())
        .execute(self.pool())
        .await
        .map_err(unavailable)?;
        one_row(done.rows_affected(), id)
    }

    async fn add_session_relying_party(
        &self,
        id: &SessionId,
        visit: &RelyingPartyVisit,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await.map_err(unavailable)?;
        // A no-op write first: it takes the row lock (PostgreSQL) or the write lock (SQLite)
        // before the read, so concurrent upserts queue instead of losing each other's visit
        // or failing to upgrade a read lock.
        let locked = sqlx::query(
            "UPDATE sso_sessions SET relying_parties = relying_parties \
             WHERE id = $1 AND ended_at IS NULL",
        )
        .bind(id.to_string())
        .execute(&mut *tx)
        .await
        .map_err(unavailable)?;
        one_row(locked.rows_affected(), id)?;
        let row = sqlx::query("SELECT relying_parties FROM sso_sessions WHERE id = $1")
            .bind(id.to_string())
            .fetch_one(&mut *tx)
            .await
            .map_err(unavailable)?;
        let text: String = col(&row, "relying_parties")?;
        let mut visits: Vec<RelyingPartyVisit> = from_json(&text, "relying parties")?;
        match visits
            .iter_mut()
            .find(|v| v.rp_id == visit.rp_id && v.protocol == visit.protocol)
        {
            Some(known) => known.last_at = visit.last_at,
            None => visits.push(visit.clone()),
        }
        sqlx::query("UPDATE sso_sessions SET relying_parties = $1 WHERE id = $2")
            .bind(to_json(&visits, "relying parties")?)
            .bind(id.to_string())
            .execute(&mut *tx)
            .await
            .map_err(unavailable)?;
        tx.commit().await.map_err(unavailable)
    }

    async fn end_session(&self, id: &SessionId, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let done =
            sqlx::query("UPDATE sso_sessions SET ended_at = $1 WHERE id = $2 AND ended_at IS NULL")
                .bind(micros(now))
                .bind(id.to_string())
                .execute(self.pool())
                .await
                .map_err(unavailable)?;
        Ok(done.rows_affected() > 0)
    }

    async fn end_citizen_sessions(
        &self,
        citizen: CitizenId,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "UPDATE sso_sessions SET ended_at = $1 WHERE citizen_id = $2 AND ended_at IS NULL",
        )
        .bind(micros(now))
        .bind(citizen.to_string())
        .execute(self.pool())
        .await
        .map_err(unavailable)?;
        Ok(done.rows_affected())
    }

    async fn purge_sessions(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "DELETE FROM sso_sessions WHERE ended_at < $1 OR expires_at < $1 OR last_seen_at < $1",
        )
        .bind(micros(before))
        .execute(self.pool())
        .await
        .map_err(unavailable)?;
        Ok(done.rows_affected())
    }

    async fn citizen_sessions(&self, citizen: CitizenId) -> Result<Vec<SsoSession>, StoreError> {
        sqlx::query(&format!(
            "SELECT {COLUMNS} FROM sso_sessions WHERE citizen_id = $1 \
             ORDER BY created_at DESC, id DESC"
        ))
        .bind(citizen.to_string())
        .fetch_all(self.pool())
        .await
        .map_err(unavailable)?
        .iter()
        .map(from_row)
        .collect()
    }
}

fn from_row(row: &AnyRow) -> Result<SsoSession, StoreError> {
    let id: String = col(row, "id")?;
    let citizen_id: String = col(row, "citizen_id")?;
    let level: String = col(row, "level")?;
    let methods: String = col(row, "methods")?;
    let relying_parties: String = col(row, "relying_parties")?;
    let ended_at: Option<i64> = col(row, "ended_at")?;
    Ok(SsoSession {
        id: id.parse().map_err(|e| corrupt("session id", e))?,
        citizen_id: citizen_id.parse().map_err(|e| corrupt("citizen id", e))?,
        created_at: from_micros(col(row, "created_at")?, "created_at")?,
        auth_time: from_micros(col(row, "auth_time")?, "auth_time")?,
        methods: from_json(&methods, "methods")?,
        level: level.parse().map_err(|e| corrupt("level", e))?,
        relying_parties: from_json(&relying_parties, "relying parties")?,
        last_seen_at: from_micros(col(row, "last_seen_at")?, "last_seen_at")?,
        expires_at: from_micros(col(row, "expires_at")?, "expires_at")?,
        ended_at: ended_at.map(|t| from_micros(t, "ended_at")).transpose()?,
        user_agent: col(row, "user_agent")?,
        source: col(row, "source")?,
    })
}
