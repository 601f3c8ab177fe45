//! Citizens: one row each, keyed by id, with the canonical identifier unique.

use super::{
    col, conflict_or_unavailable, corrupt, from_json, from_micros, micros, to_json, unavailable,
};
use crate::core::citizen::{Citizen, CitizenId};
use crate::core::identifier::Identifier;
use crate::store::StoreError;
use chrono::NaiveDate;
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::query::Query;
use sqlx::{Any, AnyPool};

const SELECT: &str = "SELECT id, identifier, given_name, family_names, birth_date, email, \
                      mobile, address, tramite, verification_facts, proofing, status, \
                      created_at, updated_at FROM citizens";

const BIRTH_DATE_FORMAT: &str = "%Y-%m-%d";

pub(super) async fn insert(pool: &AnyPool, c: &Citizen) -> Result<(), StoreError> {
    let query = sqlx::query(
        "INSERT INTO citizens (id, identifier, given_name, family_names, birth_date, email, \
         mobile, address, tramite, verification_facts, proofing, status, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    );
    bind(query, c)?
        .execute(pool)
        .await
        .map_err(|e| conflict(e, c))?;
    Ok(())
}

pub(super) async fn update(pool: &AnyPool, c: &Citizen) -> Result<(), StoreError> {
    let query = sqlx::query(
        "UPDATE citizens SET identifier = $2, given_name = $3, family_names = $4, \
         birth_date = $5, email = $6, mobile = $7, address = $8, tramite = $9, \
         verification_facts = $10, proofing = $11, status = $12, created_at = $13, \
         updated_at = $14 WHERE id = $1",
    );
    let done = bind(query, c)?
        .execute(pool)
        .await
        .map_err(|e| conflict(e, c))?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound(format!("citizen {}", c.id)));
    }
    Ok(())
}

pub(super) async fn by_id(pool: &AnyPool, id: CitizenId) -> Result<Option<Citizen>, StoreError> {
    sqlx::query(&format!("{SELECT} WHERE id = $1"))
        .bind(id.to_string())
        .fetch_optional(pool)
        .await
        .map_err(unavailable)?
        .map(|row| from_row(&row))
        .transpose()
}

pub(super) async fn by_identifier(
    pool: &AnyPool,
    identifier: &Identifier,
) -> Result<Option<Citizen>, StoreError> {
    sqlx::query(&format!("{SELECT} WHERE identifier = $1"))
        .bind(identifier.canonical())
        .fetch_optional(pool)
        .await
        .map_err(unavailable)?
        .map(|row| from_row(&row))
        .transpose()
}

/// Binds every column in the order `$1 = id … $14 = updated_at`, shared by insert and update.
fn bind<'q>(
    query: Query<'q, Any, AnyArguments<'q>>,
    c: &Citizen,
) -> Result<Query<'q, Any, AnyArguments<'q>>, StoreError> {
    Ok(query
        .bind(c.id.to_string())
        .bind(c.identifier.canonical())
        .bind(c.given_name.clone())
        .bind(c.family_names.clone())
        .bind(c.birth_date.format(BIRTH_DATE_FORMAT).to_string())
        .bind(c.email.clone())
        .bind(c.mobile.clone())
        .bind(to_json(&c.address, "address")?)
        .bind(c.tramite.clone())
        .bind(to_json(&c.verification_facts, "verification facts")?)
        .bind(c.proofing.as_str().to_owned())
        .bind(c.status.as_str().to_owned())
        .bind(micros(c.created_at))
        .bind(micros(c.updated_at)))
}

/// Names the clashing identifier, which is what an operator can act on.
fn conflict(e: sqlx::Error, c: &Citizen) -> StoreError {
    conflict_or_unavailable(e, |which| {
        if which.contains("identifier") {
            format!("{} is already registered", c.identifier)
        } else {
            format!("citizen {} already exists", c.id)
        }
    })
}

fn from_row(row: &AnyRow) -> Result<Citizen, StoreError> {
    let id: String = col(row, "id")?;
    let identifier: String = col(row, "identifier")?;
    let birth_date: String = col(row, "birth_date")?;
    let address: String = col(row, "address")?;
    let facts: String = col(row, "verification_facts")?;
    let proofing: String = col(row, "proofing")?;
    let status: String = col(row, "status")?;
    Ok(Citizen {
        id: id.parse().map_err(|e| corrupt("citizen id", e))?,
        identifier: Identifier::from_canonical(&identifier)
            .map_err(|e| corrupt("identifier", e))?,
        given_name: col(row, "given_name")?,
        family_names: col(row, "family_names")?,
        birth_date: NaiveDate::parse_from_str(&birth_date, BIRTH_DATE_FORMAT)
            .map_err(|e| corrupt("birth date", e))?,
        email: col(row, "email")?,
        mobile: col(row, "mobile")?,
        address: from_json(&address, "address")?,
        tramite: col(row, "tramite")?,
        verification_facts: from_json(&facts, "verification facts")?,
        proofing: proofing.parse().map_err(|e| corrupt("proofing", e))?,
        status: status.parse().map_err(|e| corrupt("status", e))?,
        created_at: from_micros(col(row, "created_at")?, "created_at")?,
        updated_at: from_micros(col(row, "updated_at")?, "updated_at")?,
    })
}
