//! Activation codes: one per (citizen, purpose), with a wrong-attempt counter that the
//! database increments, so that concurrent attempts on several nodes all count.

use super::{col, corrupt, from_micros, micros, unavailable};
use crate::core::citizen::CitizenId;
use crate::store::{ActivationCodeRecord, FailureCount, StoreError};
use chrono::{DateTime, Utc};
use sqlx::AnyPool;
use sqlx::any::AnyRow;

pub(super) async fn put(pool: &AnyPool, code: &ActivationCodeRecord) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO activation_codes \
         (citizen_id, purpose, code_hash, issued_at, expires_at, failures, blocked_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (citizen_id, purpose) DO UPDATE SET code_hash = excluded.code_hash, \
         issued_at = excluded.issued_at, expires_at = excluded.expires_at, \
         failures = excluded.failures, blocked_at = excluded.blocked_at",
    )
    .bind(code.citizen_id.to_string())
    .bind(code.purpose.clone())
    .bind(code.code_hash.clone())
    .bind(micros(code.issued_at))
    .bind(micros(code.expires_at))
    .bind(i64::from(code.failures))
    .bind(code.blocked_at.map(micros))
    .execute(pool)
    .await
    .map_err(|e| match e.as_database_error() {
        Some(db) if db.is_foreign_key_violation() => {
            StoreError::NotFound(format!("citizen {}", code.citizen_id))
        }
        _ => unavailable(e),
    })?;
    Ok(())
}

pub(super) async fn get(
    pool: &AnyPool,
    citizen: CitizenId,
    purpose: &str,
) -> Result<Option<ActivationCodeRecord>, StoreError> {
    sqlx::query(
        "SELECT citizen_id, purpose, code_hash, issued_at, expires_at, failures, blocked_at \
         FROM activation_codes WHERE citizen_id = $1 AND purpose = $2",
    )
    .bind(citizen.to_string())
    .bind(purpose.to_owned())
    .fetch_optional(pool)
    .await
    .map_err(unavailable)?
    .map(|row| from_row(&row))
    .transpose()
}

/// One statement, so the increment and the block decision are atomic under concurrency: the
/// `SET` expressions see the row as it was, so exactly one update moves `failures` past
/// `max_failures` and sets `blocked_at`, and every later one keeps that first `blocked_at`.
pub(super) async fn record_failure(
    pool: &AnyPool,
    citizen: CitizenId,
    purpose: &str,
    max_failures: u32,
    now: DateTime<Utc>,
) -> Result<FailureCount, StoreError> {
    let max = i64::from(max_failures);
    let row = sqlx::query(
        "UPDATE activation_codes SET failures = failures + 1, \
         blocked_at = COALESCE(blocked_at, CASE WHEN failures + 1 > $1 THEN $2 END) \
         WHERE citizen_id = $3 AND purpose = $4 RETURNING failures, blocked_at",
    )
    .bind(max)
    .bind(micros(now))
    .bind(citizen.to_string())
    .bind(purpose.to_owned())
    .fetch_optional(pool)
    .await
    .map_err(unavailable)?
    .ok_or_else(|| StoreError::NotFound(format!("{purpose} code for citizen {citizen}")))?;
    let failures: i64 = col(&row, "failures")?;
    let blocked_at: Option<i64> = col(&row, "blocked_at")?;
    let blocked = blocked_at.is_some();
    Ok(FailureCount {
        failures: count(failures)?,
        blocked,
        newly_blocked: blocked && failures == max + 1,
    })
}

pub(super) async fn delete(
    pool: &AnyPool,
    citizen: CitizenId,
    purpose: &str,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM activation_codes WHERE citizen_id = $1 AND purpose = $2")
        .bind(citizen.to_string())
        .bind(purpose.to_owned())
        .execute(pool)
        .await
        .map_err(unavailable)?;
    Ok(())
}

fn count(failures: i64) -> Result<u32, StoreError> {
    u32::try_from(failures).map_err(|_| corrupt("failure count", failures))
}

fn from_row(row: &AnyRow) -> Result<ActivationCodeRecord, StoreError> {
    let citizen_id: String = col(row, "citizen_id")?;
    let blocked_at: Option<i64> = col(row, "blocked_at")?;
    Ok(ActivationCodeRecord {
        citizen_id: citizen_id.parse().map_err(|e| corrupt("citizen id", e))?,
        purpose: col(row, "purpose")?,
        code_hash: col(row, "code_hash")?,
        issued_at: from_micros(col(row, "issued_at")?, "issued_at")?,
        expires_at: from_micros(col(row, "expires_at")?, "expires_at")?,
        failures: count(col(row, "failures")?)?,
        blocked_at: blocked_at
            .map(|b| from_micros(b, "blocked_at"))
            .transpose()?,
    })
}
