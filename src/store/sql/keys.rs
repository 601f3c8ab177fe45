//! Signing keys and their rotation.

use super::{col, conflict_or_unavailable, corrupt, from_micros, micros, unavailable};
use crate::store::{KeyState, StoreError, StoredKey};
use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AnyPool};

pub(super) async fn list(pool: &AnyPool) -> Result<Vec<StoredKey>, StoreError> {
    sqlx::query(
        "SELECT kid, alg, state, encrypted_private_key, certificate, created_at, \
         state_changed_at FROM signing_keys ORDER BY created_at, kid",
    )
    .fetch_all(pool)
    .await
    .map_err(unavailable)?
    .iter()
    .map(from_row)
    .collect()
}

pub(super) async fn insert(pool: &AnyPool, key: &StoredKey) -> Result<(), StoreError> {
    let mut conn = pool.acquire().await.map_err(unavailable)?;
    insert_as(&mut conn, key, key.state).await
}

/// One transaction, so that every node sees either the old key set or the new one, and a
/// failed insert (a duplicate kid) leaves the keys as they were. Keys that were retiring
/// are retired before the active one starts retiring, so the cutoff never catches it.
pub(super) async fn rotate(
    pool: &AnyPool,
    alg: &str,
    new_next: &StoredKey,
    retire_before: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let now = micros(now);
    let mut tx = pool.begin().await.map_err(unavailable)?;
    sqlx::query(
        "UPDATE signing_keys SET state = $1, state_changed_at = $2 \
         WHERE alg = $3 AND state = $4 AND state_changed_at < $5",
    )
    .bind(KeyState::Retired.as_str().to_owned())
    .bind(now)
    .bind(alg.to_owned())
    .bind(KeyState::Retiring.as_str().to_owned())
    .bind(micros(retire_before))
    .execute(&mut *tx)
    .await
    .map_err(unavailable)?;
    for (from, to) in [
        (KeyState::Active, KeyState::Retiring),
        (KeyState::Next, KeyState::Active),
    ] {
        sqlx::query(
            "UPDATE signing_keys SET state = $1, state_changed_at = $2 \
             WHERE alg = $3 AND state = $4",
        )
        .bind(to.as_str().to_owned())
        .bind(now)
        .bind(alg.to_owned())
        .bind(from.as_str().to_owned())
        .execute(&mut *tx)
        .await
        .map_err(unavailable)?;
    }
    insert_as(&mut tx, new_next, KeyState::Next).await?;
    tx.commit().await.map_err(unavailable)
}

async fn insert_as(
    conn: &mut AnyConnection,
    key: &StoredKey,
    state: KeyState,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO signing_keys (kid, alg, state, encrypted_private_key, certificate, \
         created_at, state_changed_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(key.kid.clone())
    .bind(key.alg.clone())
    .bind(state.as_str().to_owned())
    .bind(key.encrypted_private_key.clone())
    .bind(key.certificate.clone())
    .bind(micros(key.created_at))
    .bind(micros(key.state_changed_at))
    .execute(conn)
    .await
    .map_err(|e| conflict_or_unavailable(e, |_| format!("key {} already exists", key.kid)))?;
    Ok(())
}

fn from_row(row: &AnyRow) -> Result<StoredKey, StoreError> {
    let state: String = col(row, "state")?;
    Ok(StoredKey {
        kid: col(row, "kid")?,
        alg: col(row, "alg")?,
        state: state.parse().map_err(|e| corrupt("key state", e))?,
        encrypted_private_key: col(row, "encrypted_private_key")?,
        certificate: col(row, "certificate")?,
        created_at: from_micros(col(row, "created_at")?, "created_at")?,
        state_changed_at: from_micros(col(row, "state_changed_at")?, "state_changed_at")?,
    })
}
