//! Consents given on the OIDC consent page, one row per (citizen, client).

use super::{col, corrupt, from_micros, micros, unavailable};
use crate::core::citizen::CitizenId;
use crate::store::StoreError;
use crate::store::consents::Consent;
use sqlx::AnyPool;
use sqlx::any::AnyRow;

pub(super) async fn get(
    pool: &AnyPool,
    citizen: CitizenId,
    client_id: &str,
) -> Result<Option<Consent>, StoreError> {
    sqlx::query(
        "SELECT citizen_id, client_id, scope, granted_at FROM oidc_consents \
         WHERE citizen_id = $1 AND client_id = $2",
    )
    .bind(citizen.to_string())
    .bind(client_id.to_owned())
    .fetch_optional(pool)
    .await
    .map_err(unavailable)?
    .map(|row| from_row(&row))
    .transpose()
}

pub(super) async fn put(pool: &AnyPool, c: &Consent) -> Result<(), StoreError> {
    let done = sqlx::query(
        "INSERT INTO oidc_consents (citizen_id, client_id, scope, granted_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (citizen_id, client_id) \
         DO UPDATE SET scope = excluded.scope, granted_at = excluded.granted_at",
    )
    .bind(c.citizen_id.to_string())
    .bind(c.client_id.clone())
    .bind(c.scope.clone())
    .bind(micros(c.granted_at))
    .execute(pool)
    .await;
    match done {
        Ok(_) => Ok(()),
        Err(sqlx::Error::Database(e)) if e.is_foreign_key_violation() => {
            Err(StoreError::NotFound(format!("citizen {}", c.citizen_id)))
        }
        Err(e) => Err(unavailable(e)),
    }
}

pub(super) async fn delete_all(pool: &AnyPool, citizen: CitizenId) -> Result<u64, StoreError> {
    let done = sqlx::query("DELETE FROM oidc_consents WHERE citizen_id = $1")
        .bind(citizen.to_string())
        .execute(pool)
        .await
        .map_err(unavailable)?;
    Ok(done.rows_affected())
}

fn from_row(row: &AnyRow) -> Result<Consent, StoreError> {
    let citizen_id: String = col(row, "citizen_id")?;
    Ok(Consent {
        citizen_id: citizen_id.parse().map_err(|e| corrupt("citizen id", e))?,
        client_id: col(row, "client_id")?,
        scope: col(row, "scope")?,
        granted_at: from_micros(col(row, "granted_at")?, "granted_at")?,
    })
}
