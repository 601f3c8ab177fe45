//! Credential state over SQL. Counters are bumped by one `UPDATE … RETURNING` each, after an
//! `INSERT … ON CONFLICT DO NOTHING` that makes sure the row exists: the database serialises
//! the updates on the row, so racing attempts on several nodes all count.

use super::{SqlStore, col, corrupt, from_micros, micros, unavailable};
use crate::core::citizen::CitizenId;
use crate::store::credentials::{CredentialStore, LoginFailures, PasswordRecord, TotpRecord};
use crate::store::{FailureCount, StoreError};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::AnyPool;
use sqlx::any::AnyRow;

/// A write refused because the citizen does not exist becomes `NotFound`.
fn missing_citizen(citizen: CitizenId) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |e| match e.as_database_error() {
        Some(db) if db.is_foreign_key_violation() => {
            StoreError::NotFound(format!("citizen {citizen}"))
        }
        _ => unavailable(e),
    }
}

fn count(v: i64) -> Result<u32, StoreError> {
    u32::try_from(v).map_err(|_| corrupt("failure count", v))
}

fn instant(v: Option<i64>, what: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
    v.map(|v| from_micros(v, what)).transpose()
}

fn login_failures_from(row: &AnyRow) -> Result<LoginFailures, StoreError> {
    let locked_at: Option<i64> = col(row, "locked_at")?;
    Ok(LoginFailures {
        consecutive: count(col(row, "consecutive")?)?,
        locked: locked_at.is_some(),
        newly_locked: false,
        last_failure_at: instant(col(row, "last_failure_at")?, "last_failure_at")?,
    })
}

async fn ensure_row(
    pool: &AnyPool,
    sql: &'static str,
    citizen: CitizenId,
    extra: Option<&str>,
) -> Result<(), StoreError> {
    let mut q = sqlx::query(sql).bind(citizen.to_string());
    if let Some(extra) = extra {
        q = q.bind(extra.to_owned());
    }
    q.execute(pool).await.map_err(missing_citizen(citizen))?;
    Ok(())
}

#[async_trait]
impl CredentialStore for SqlStore {
    async fn password(&self, citizen: CitizenId) -> Result<Option<PasswordRecord>, StoreError> {
        sqlx::query("SELECT phc, set_at FROM passwords WHERE citizen_id = $1")
            .bind(citizen.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(unavailable)?
            .map(|row| {
                Ok(PasswordRecord {
                    phc: col(&row, "phc")?,
                    set_at: from_micros(col(&row, "set_at")?, "set_at")?,
                })
            })
            .transpose()
    }

    async fn set_password(
        &self,
        citizen: CitizenId,
        phc: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(unavailable)?;
        sqlx::query(
            "INSERT INTO passwords (citizen_id, phc, set_at) VALUES ($1, $2, $3) \
             ON CONFLICT (citizen_id) DO UPDATE SET phc = excluded.phc, set_at = excluded.set_at",
        )
        .bind(citizen.to_string())
        .bind(phc.to_owned())
        .bind(micros(now))
        .execute(&mut *tx)
        .await
        .map_err(missing_citizen(citizen))?;
        sqlx::query(
            "UPDATE login_failures SET consecutive = 0, last_failure_at = NULL, \
             locked_at = NULL, locked_now = 0 WHERE citizen_id = $1",
        )
        .bind(citizen.to_string())
        .execute(&mut *tx)
        .await
        .map_err(unavailable)?;
        tx.commit().await.map_err(unavailable)
    }

    async fn rehash_password(
        &self,
        citizen: CitizenId,
        old_phc: &str,
        new_phc: &str,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query("UPDATE passwords SET phc = $1 WHERE citizen_id = $2 AND phc = $3")
            .bind(new_phc.to_owned())
            .bind(citizen.to_string())
            .bind(old_phc.to_owned())
            .execute(&self.pool)
            .await
            .map_err(unavailable)?;
        Ok(done.rows_affected() > 0)
    }

    /// `locked_now` is computed from the row as it was before this update, so only the
    /// update that moved it from unlocked to locked sets it.
    async fn record_login_failure(
        &self,
        citizen: CitizenId,
        lock_after: u32,
        now: DateTime<Utc>,
    ) -> Result<LoginFailures, StoreError> {
        ensure_row(
            &self.pool,
            "INSERT INTO login_failures (citizen_id) VALUES ($1) ON CONFLICT DO NOTHING",
            citizen,
            None,
        )
        .await?;
        let row = sqlx::query(
            "UPDATE login_failures SET consecutive = consecutive + 1, last_failure_at = $2, \
             locked_now = CASE WHEN locked_at IS NULL AND consecutive + 1 >= $3 \
             THEN 1 ELSE 0 END, \
             locked_at = COALESCE(locked_at, CASE WHEN consecutive + 1 >= $3 THEN $2 END) \
             WHERE citizen_id = $1 \
             RETURNING consecutive, last_failure_at, locked_at, locked_now",
        )
        .bind(citizen.to_string())
        .bind(micros(now))
        .bind(i64::from(lock_after.max(1)))
        .fetch_optional(&self.pool)
        .await
        .map_err(unavailable)?
        .ok_or_else(|| StoreError::NotFound(format!("citizen {citizen}")))?;
        let locked_now: i64 = col(&row, "locked_now")?;
        Ok(LoginFailures {
            newly_locked: locked_now != 0,
            ..login_failures_from(&row)?
        })
    }

    async fn login_failures(&self, citizen: CitizenId) -> Result<LoginFailures, StoreError> {
        sqlx::query(
            "SELECT consecutive, last_failure_at, locked_at FROM login_failures \
             WHERE citizen_id = $1",
        )
        .bind(citizen.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(unavailable)?
        .map_or(Ok(LoginFailures::default()), |row| {
            login_failures_from(&row)
        })
    }

    async fn reset_login_failures(&self, citizen: CitizenId) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE login_failures SET consecutive = 0, last_failure_at = NULL, locked_now = 0 \
             WHERE citizen_id = $1",
        )
        .bind(citizen.to_string())
        .execute(&self.pool)
        .await
        .map_err(unavailable)?;
        Ok(())
    }

    async fn unlock_login(&self, citizen: CitizenId) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE login_failures SET consecutive = 0, last_failure_at = NULL, \
             locked_at = NULL, locked_now = 0 WHERE citizen_id = $1",
        )
        .bind(citizen.to_string())
        .execute(&self.pool)
        .await
        .map_err(unavailable)?;
        Ok(())
    }

    async fn set_totp(
        &self,
        citizen: CitizenId,
        secret: Option<Vec<u8>>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let Some(secret) = secret else {
            sqlx::query("DELETE FROM totp_secrets WHERE citizen_id = $1")
                .bind(citizen.to_string())
                .execute(&self.pool)
                .await
                .map_err(unavailable)?;
            return Ok(());
        };
        sqlx::query(
            "INSERT INTO totp_secrets (citizen_id, secret, enrolled_at, last_step, confirmed_at) \
             VALUES ($1, $2, $3, NULL, $3) ON CONFLICT (citizen_id) DO UPDATE SET \
             secret = excluded.secret, enrolled_at = excluded.enrolled_at, last_step = NULL, \
             confirmed_at = excluded.confirmed_at",
        )
        .bind(citizen.to_string())
        .bind(secret)
        .bind(micros(now))
        .execute(&self.pool)
        .await
        .map_err(missing_citizen(citizen))?;
        Ok(())
    }

    /// The `WHERE` on the conflict branch leaves a confirmed row alone (no row affected).
    async fn put_pending_totp(
        &self,
        citizen: CitizenId,
        secret: &[u8],
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO totp_secrets (citizen_id, secret, enrolled_at, last_step, confirmed_at) \
             VALUES ($1, $2, $3, NULL, NULL) ON CONFLICT (citizen_id) DO UPDATE SET \
             secret = excluded.secret, enrolled_at = excluded.enrolled_at, last_step = NULL \
             WHERE totp_secrets.confirmed_at IS NULL",
        )
        .bind(citizen.to_string())
        .bind(secret.to_vec())
        .bind(micros(now))
        .execute(&self.pool)
        .await
        .map_err(missing_citizen(citizen))?;
        Ok(done.rows_affected() == 1)
    }

    async fn confirm_totp(
        &self,
        citizen: CitizenId,
        step: i64,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE totp_secrets SET confirmed_at = $2, last_step = $3 \
             WHERE citizen_id = $1 AND confirmed_at IS NULL",
        )
        .bind(citizen.to_string())
        .bind(micros(now))
        .bind(step)
        .execute(&self.pool)
        .await
        .map_err(unavailable)?;
        Ok(done.rows_affected() == 1)
    }

    async fn totp(&self, citizen: CitizenId) -> Result<Option<TotpRecord>, StoreError> {
        sqlx::query(
            "SELECT secret, enrolled_at, confirmed_at, last_step FROM totp_secrets \
             WHERE citizen_id = $1",
        )
        .bind(citizen.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(unavailable)?
        .map(|row| {
            Ok(TotpRecord {
                secret: col(&row, "secret")?,
                enrolled_at: from_micros(col(&row, "enrolled_at")?, "enrolled_at")?,
                confirmed_at: instant(col(&row, "confirmed_at")?, "confirmed_at")?,
                last_step: col(&row, "last_step")?,
            })
        })
        .transpose()
    }

    async fn use_totp_step(&self, citizen: CitizenId, step: i64) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE totp_secrets SET last_step = $2 \
             WHERE citizen_id = $1 AND confirmed_at IS NOT NULL \
             AND (last_step IS NULL OR last_step < $2)",
        )
        .bind(citizen.to_string())
        .bind(step)
        .execute(&self.pool)
        .await
        .map_err(unavailable)?;
        Ok(done.rows_affected() == 1)
    }

    async fn record_policy_acceptance(
        &self,
        citizen: CitizenId,
        version: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO policy_acceptances (citizen_id, version, accepted_at) \
             VALUES ($1, $2, $3) ON CONFLICT (citizen_id) DO UPDATE SET \
             version = excluded.version, accepted_at = excluded.accepted_at",
        )
        .bind(citizen.to_string())
        .bind(version.to_owned())
        .bind(micros(now))
        .execute(&self.pool)
        .await
        .map_err(missing_citizen(citizen))?;
        Ok(())
    }

    async fn policy_acceptance(
        &self,
        citizen: CitizenId,
    ) -> Result<Option<(String, DateTime<Utc>)>, StoreError> {
        sqlx::query("SELECT version, accepted_at FROM policy_acceptances WHERE citizen_id = $1")
            .bind(citizen.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(unavailable)?
            .map(|row| {
                Ok((
                    col(&row, "version")?,
                    from_micros(col(&row, "accepted_at")?, "accepted_at")?,
                ))
            })
            .transpose()
    }

    /// Failures only grow, so exactly one update brings them to `max`: that one blocked it.
    async fn record_proofing_failure(
        &self,
        citizen: CitizenId,
        channel: &str,
        max: u32,
        now: DateTime<Utc>,
    ) -> Result<FailureCount, StoreError> {
        ensure_row(
            &self.pool,
            "INSERT INTO proofing_failures (citizen_id, channel) VALUES ($1, $2) \
             ON CONFLICT DO NOTHING",
            citizen,
            Some(channel),
        )
        .await?;
        let max = i64::from(max.max(1));
        let row = sqlx::query(
            "UPDATE proofing_failures SET failures = failures + 1, \
             blocked_at = COALESCE(blocked_at, CASE WHEN failures + 1 >= $1 THEN $2 END) \
             WHERE citizen_id = $3 AND channel = $4 RETURNING failures, blocked_at",
        )
        .bind(max)
        .bind(micros(now))
        .bind(citizen.to_string())
        .bind(channel.to_owned())
        .fetch_optional(&self.pool)
        .await
        .map_err(unavailable)?
        .ok_or_else(|| StoreError::NotFound(format!("citizen {citizen}")))?;
        let failures: i64 = col(&row, "failures")?;
        let blocked_at: Option<i64> = col(&row, "blocked_at")?;
        Ok(FailureCount {
            failures: count(failures)?,
            blocked: blocked_at.is_some(),
            newly_blocked: blocked_at.is_some() && failures == max,
        })
    }

    async fn proofing_failures(
        &self,
        citizen: CitizenId,
        channel: &str,
    ) -> Result<FailureCount, StoreError> {
        let row = sqlx::query(
            "SELECT failures, blocked_at FROM proofing_failures \
             WHERE citizen_id = $1 AND channel = $2",
        )
        .bind(citizen.to_string())
        .bind(channel.to_owned())
        .fetch_optional(&self.pool)
        .await
        .map_err(unavailable)?;
        let Some(row) = row else {
            return Ok(FailureCount {
                failures: 0,
                blocked: false,
                newly_blocked: false,
            });
        };
        let blocked_at: Option<i64> = col(&row, "blocked_at")?;
        Ok(FailureCount {
            failures: count(col(&row, "failures")?)?,
            blocked: blocked_at.is_some(),
            newly_blocked: false,
        })
    }
}
