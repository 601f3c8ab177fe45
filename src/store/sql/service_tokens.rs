//! Access tokens of the `client_credentials` grant, keyed by the hash of their value.

use super::{col, conflict_or_unavailable, from_micros, micros, unavailable};
use crate::store::StoreError;
use crate::store::service_tokens::ServiceToken;
use chrono::{DateTime, Utc};
use sqlx::AnyPool;
use sqlx::any::AnyRow;

pub(super) async fn insert(pool: &AnyPool, t: &ServiceToken) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO oidc_service_tokens (token_hash, client_id, scope, issued_at, expires_at, \
         revoked_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(t.token_hash.clone())
    .bind(t.client_id.clone())
    .bind(t.scope.clone())
    .bind(micros(t.issued_at))
    .bind(micros(t.expires_at))
    .bind(t.revoked_at.map(micros))
    .execute(pool)
    .await
    .map_err(|e| conflict_or_unavailable(e, |_| "service token already exists".into()))?;
    Ok(())
}

pub(super) async fn by_hash(
    pool: &AnyPool,
    token_hash: &str,
) -> Result<Option<ServiceToken>, StoreError> {
    sqlx::query(
        "SELECT token_hash, client_id, scope, issued_at, expires_at, revoked_at \
         FROM oidc_service_tokens WHERE token_hash = $1",
    )
    .bind(token_hash.to_owned())
    .fetch_optional(pool)
    .await
    .map_err(unavailable)?
    .map(|row| from_row(&row))
    .transpose()
}

pub(super) async fn revoke(
    pool: &AnyPool,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE oidc_service_tokens SET revoked_at = $2 WHERE token_hash = $1 \
         AND revoked_at IS NULL",
    )
    .bind(token_hash.to_owned())
    .bind(micros(now))
    .execute(pool)
    .await
    .map_err(unavailable)?;
    Ok(done.rows_affected() == 1)
}

fn from_row(row: &AnyRow) -> Result<ServiceToken, StoreError> {
    let revoked_at: Option<i64> = col(row, "revoked_at")?;
    Ok(ServiceToken {
        token_hash: col(row, "token_hash")?,
        client_id: col(row, "client_id")?,
        scope: col(row, "scope")?,
        issued_at: from_micros(col(row, "issued_at")?, "issued_at")?,
        expires_at: from_micros(col(row, "expires_at")?, "expires_at")?,
        revoked_at: revoked_at
            .map(|t| from_micros(t, "revoked_at"))
            .transpose()?,
    })
}
