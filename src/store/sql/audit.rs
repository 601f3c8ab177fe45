//! The hash-chained audit log. The single-row `audit_head` table holds the last position and
//! hash; every append updates it first, inside the append's transaction, so the database
//! orders appends from every node (SQLite's write lock, a PostgreSQL row lock) and the chain
//! has neither gaps nor forks.

use super::{col, corrupt, from_json, from_micros, micros, unavailable};
use crate::core::audit::{AuditEntry, AuditEvent, chain_hash};
use crate::core::citizen::CitizenId;
use crate::store::StoreError;
use chrono::SubsecRound;
use sqlx::AnyPool;
use sqlx::any::AnyRow;

const SELECT: &str = "SELECT seq, at, actor, kind, citizen_id, source, outcome, detail, \
                      prev_hash, hash FROM audit_log";

pub(super) async fn append(pool: &AnyPool, event: &AuditEvent) -> Result<AuditEntry, StoreError> {
    // Stored (and hashed) with microsecond precision; the entry returned must equal the one
    // read back later.
    let event = AuditEvent {
        at: event.at.trunc_subsecs(6),
        ..event.clone()
    };
    let mut tx = pool.begin().await.map_err(unavailable)?;
    let head = sqlx::query("UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash")
        .fetch_optional(&mut *tx)
        .await
        .map_err(unavailable)?
        .ok_or_else(|| corrupt("audit head", "the row is missing"))?;
    let seq: i64 = col(&head, "seq")?;
    let prev_hash: String = col(&head, "hash")?;
    let hash = chain_hash(&prev_hash, seq, &event);
    sqlx::query(
        "INSERT INTO audit_log (seq, at, actor, kind, citizen_id, source, outcome, detail, \
         prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(seq)
    .bind(micros(event.at))
    .bind(event.actor.clone())
    .bind(event.kind.clone())
    .bind(event.citizen.map(|c| c.to_string()))
    .bind(event.source.clone())
    .bind(event.outcome.as_str().to_owned())
    .bind(event.detail.to_string())
    .bind(prev_hash.clone())
    .bind(hash.clone())
    .execute(&mut *tx)
    .await
    .map_err(unavailable)?;
    sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1")
        .bind(hash.clone())
        .execute(&mut *tx)
        .await
        .map_err(unavailable)?;
    tx.commit().await.map_err(unavailable)?;
    Ok(AuditEntry {
        seq,
        event,
        prev_hash,
        hash,
    })
}

pub(super) async fn entries(
    pool: &AnyPool,
    citizen: Option<CitizenId>,
    after_seq: i64,
    limit: i64,
) -> Result<Vec<AuditEntry>, StoreError> {
    // PostgreSQL refuses a negative LIMIT where SQLite reads it as "no limit"; neither is
    // what a caller asking for fewer than nothing means.
    let limit = limit.max(0);
    let sql = match citizen {
        Some(_) => format!("{SELECT} WHERE citizen_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"),
        None => format!("{SELECT} WHERE seq > $1 ORDER BY seq LIMIT $2"),
    };
    let query = match citizen {
        Some(c) => sqlx::query(&sql).bind(c.to_string()),
        None => sqlx::query(&sql),
    };
    query
        .bind(after_seq)
        .bind(limit)
        .fetch_all(pool)
        .await
        .map_err(unavailable)?
        .iter()
        .map(from_row)
        .collect()
}

fn from_row(row: &AnyRow) -> Result<AuditEntry, StoreError> {
    let citizen: Option<String> = col(row, "citizen_id")?;
    let outcome: String = col(row, "outcome")?;
    let detail: String = col(row, "detail")?;
    Ok(AuditEntry {
        seq: col(row, "seq")?,
        event: AuditEvent {
            at: from_micros(col(row, "at")?, "at")?,
            actor: col(row, "actor")?,
            kind: col(row, "kind")?,
            citizen: citizen
                .map(|c| c.parse().map_err(|e| corrupt("citizen id", e)))
                .transpose()?,
            source: col(row, "source")?,
            outcome: outcome.parse().map_err(|e| corrupt("outcome", e))?,
            detail: from_json(&detail, "audit detail")?,
        },
        prev_hash: col(row, "prev_hash")?,
        hash: col(row, "hash")?,
    })
}
