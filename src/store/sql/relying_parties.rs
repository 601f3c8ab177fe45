//! Relying parties: the id and protocol as columns (to list and look up), everything else as
//! one JSON body, so that protocol settings can grow without migrations.

use super::{col, from_json, to_json, unavailable};
use crate::core::relying_party::RelyingParty;
use crate::store::StoreError;
use sqlx::AnyPool;
use sqlx::any::AnyRow;

pub(super) async fn put(pool: &AnyPool, rp: &RelyingParty) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO relying_parties (id, protocol, body) VALUES ($1, $2, $3) \
         ON CONFLICT (id) DO UPDATE SET protocol = excluded.protocol, body = excluded.body",
    )
    .bind(rp.id.clone())
    .bind(rp.settings.protocol().to_owned())
    .bind(to_json(rp, "relying party")?)
    .execute(pool)
    .await
    .map_err(unavailable)?;
    Ok(())
}

pub(super) async fn get(pool: &AnyPool, id: &str) -> Result<Option<RelyingParty>, StoreError> {
    sqlx::query("SELECT body FROM relying_parties WHERE id = $1")
        .bind(id.to_owned())
        .fetch_optional(pool)
        .await
        .map_err(unavailable)?
        .map(|row| from_row(&row))
        .transpose()
}

pub(super) async fn list(pool: &AnyPool) -> Result<Vec<RelyingParty>, StoreError> {
    sqlx::query("SELECT body FROM relying_parties ORDER BY id")
        .fetch_all(pool)
        .await
        .map_err(unavailable)?
        .iter()
        .map(from_row)
        .collect()
}

pub(super) async fn delete(pool: &AnyPool, id: &str) -> Result<bool, StoreError> {
    let done = sqlx::query("DELETE FROM relying_parties WHERE id = $1")
        .bind(id.to_owned())
        .execute(pool)
        .await
        .map_err(unavailable)?;
    Ok(done.rows_affected() > 0)
}

fn from_row(row: &AnyRow) -> Result<RelyingParty, StoreError> {
    let body: String = col(row, "body")?;
    from_json(&body, "relying party")
}
