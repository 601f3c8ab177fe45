//! OAuth tokens of the OpenID Provider, keyed by the hash of their value.

use super::{
    SqlStore, col, conflict_or_unavailable, corrupt, from_json, from_micros, micros, to_json,
    unavailable,
};
use crate::core::session::SessionId;
use crate::store::StoreError;
use crate::store::oidc_tokens::{OidcTokenStore, TokenKind, TokenRecord};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;

const COLUMNS: &str = "token_hash, kind, grant_id, client_id, citizen_id, body, issued_at, \
                       expires_at, used_at, revoked_at";

#[async_trait]
impl OidcTokenStore for SqlStore {
    async fn insert_token(&self, t: &TokenRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO oidc_tokens (token_hash, kind, grant_id, client_id, citizen_id, \
             session_id, body, issued_at, expires_at, used_at, revoked_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(t.token_hash.clone())
        .bind(t.kind.as_str().to_owned())
        .bind(t.grant_id.clone())
        .bind(t.client_id.clone())
        .bind(t.citizen_id.to_string())
        .bind(t.facts.session_id.to_string())
        .bind(to_json(&t.facts, "token facts")?)
        .bind(micros(t.issued_at))
        .bind(micros(t.expires_at))
        .bind(t.used_at.map(micros))
        .bind(t.revoked_at.map(micros))
        .execute(self.pool())
        .await
        .map_err(|e| match e.as_database_error() {
            Some(db) if db.is_foreign_key_violation() => {
                StoreError::NotFound(format!("citizen {}", t.citizen_id))
            }
            _ => conflict_or_unavailable(e, |_| "token already exists".into()),
        })?;
        Ok(())
    }

    async fn token(&self, token_hash: &str) -> Result<Option<TokenRecord>, StoreError> {
        sqlx::query(&format!(
            "SELECT {COLUMNS} FROM oidc_tokens WHERE token_hash = $1"
        ))
        .bind(token_hash.to_owned())
        .fetch_optional(self.pool())
        .await
        .map_err(unavailable)?
        .map(|row| from_row(&row))
        .transpose()
    }

    async fn use_refresh_token(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE oidc_tokens SET used_at = $2 WHERE token_hash = $1 AND kind = 'refresh' \
             AND used_at IS NULL AND revoked_at IS NULL",
        )
        .bind(token_hash.to_owned())
        .bind(micros(now))
        .execute(self.pool())
        .await
        .map_err(unavailable)?;
        Ok(done.rows_affected() == 1)
    }

    async fn revoke_grant(&self, grant_id: &str, now: DateTime<Utc>) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "UPDATE oidc_tokens SET revoked_at = $2 WHERE grant_id = $1 AND revoked_at IS NULL",
        )
        .bind(grant_id.to_owned())
        .bind(micros(now))
        .execute(self.pool())
        .await
        .map_err(unavailable)?;
        Ok(done.rows_affected())
    }

    async fn revoke_session_tokens(
        &self,
        session: &SessionId,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "UPDATE oidc_tokens SET revoked_at = $2 WHERE session_id = $1 \
             AND revoked_at IS NULL",
        )
        .bind(session.to_string())
        .bind(micros(now))
        .execute(self.pool())
        .await
        .map_err(unavailable)?;
        Ok(done.rows_affected())
    }
}

fn from_row(row: &AnyRow) -> Result<TokenRecord, StoreError> {
    let kind: String = col(row, "kind")?;
    let citizen_id: String = col(row, "citizen_id")?;
    let body: String = col(row, "body")?;
    let used_at: Option<i64> = col(row, "used_at")?;
    let revoked_at: Option<i64> = col(row, "revoked_at")?;
    Ok(TokenRecord {
        token_hash: col(row, "token_hash")?,
        kind: match kind.as_str() {
            "access" => TokenKind::Access,
            "refresh" => TokenKind::Refresh,
            other => return Err(corrupt("token kind", other)),
        },
        grant_id: col(row, "grant_id")?,
        client_id: col(row, "client_id")?,
        citizen_id: citizen_id.parse().map_err(|e| corrupt("citizen id", e))?,
        facts: from_json(&body, "token facts")?,
        issued_at: from_micros(col(row, "issued_at")?, "issued_at")?,
        expires_at: from_micros(col(row, "expires_at")?, "expires_at")?,
        used_at: used_at.map(|t| from_micros(t, "used_at")).transpose()?,
        revoked_at: revoked_at
            .map(|t| from_micros(t, "revoked_at"))
            .transpose()?,
    })
}
