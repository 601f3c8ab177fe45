//! The durable store contract, as one test suite that every [`Store`] backend must pass.
//!
//! Everything it writes has random ids and identifiers, so runs may share a database; the
//! audit checks read the whole log and verify it from the genesis hash, whatever was there
//! before. Run it on a multi-threaded runtime so that the concurrency checks really race.

mod audit;
mod codes;
mod consents;
mod credentials;
mod keys;
mod oidc_tokens;
mod service_tokens;
mod sessions;

use super::{Store, StoreError};
use crate::core::citizen::{Citizen, CitizenId, CitizenStatus, PostalAddress, VerificationFact};
use crate::core::identifier::{Identifier, IdentifierKind};
use crate::core::level::ProofingLevel;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use std::sync::Arc;
use uuid::Uuid;

/// Runs every check against `store`, panicking at the first broken promise.
pub async fn run(store: Arc<dyn Store>) {
    store.ping().await.expect("ping");
    citizens(store.as_ref()).await;
    codes::activation_codes(&store).await;
    credentials::credentials(&store).await;
    keys::relying_parties(store.as_ref()).await;
    keys::keys(store.as_ref()).await;
    audit::audit(&store).await;
    sessions::sessions(&store).await;
    oidc_tokens::oidc_tokens(&store).await;
    service_tokens::service_tokens(&store).await;
    consents::consents(&store).await;
}

/// An instant with microseconds, the precision the store promises to keep.
fn instant(micros: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(micros).expect("instant in range")
}

fn t0() -> DateTime<Utc> {
    instant(1_767_225_600_123_456)
}

/// A random DNI with its right check letter.
fn random_dni() -> Identifier {
    const LETTERS: &[u8; 23] = b"TRWAGMYFPDXBNJZSQVHLCKE";
    let n = (Uuid::new_v4().as_u128() % 100_000_000) as u32;
    let letter = char::from(LETTERS[(n % 23) as usize]);
    Identifier::parse(IdentifierKind::Dni, &format!("{n:08}{letter}")).expect("valid DNI")
}

fn random_passport() -> Identifier {
    let n = Uuid::new_v4().simple().to_string();
    Identifier::parse(IdentifierKind::Passport, &n[..12]).expect("valid passport")
}

fn citizen(identifier: Identifier) -> Citizen {
    Citizen {
        id: CitizenId::new(),
        identifier,
        given_name: "Lucía Ñandú".into(),
        family_names: "García-Pérez Müller 李".into(),
        birth_date: NaiveDate::from_ymd_opt(1980, 2, 29).expect("leap day"),
        email: "lucia@example.es".into(),
        mobile: "+34600111222".into(),
        address: PostalAddress {
            street: "Calle Mayor 1, 3º B".into(),
            locality: "A Coruña".into(),
            region: "Galicia".into(),
            postal_code: "15001".into(),
            country: "ES".into(),
        },
        tramite: None,
        verification_facts: vec![
            VerificationFact {
                kind: "employer".into(),
                value: "Panadería O'Brien \"La Espiga\"".into(),
            },
            VerificationFact {
                kind: "bank".into(),
                value: "Caixa 🏦".into(),
            },
        ],
        proofing: ProofingLevel::InPerson,
        status: CitizenStatus::Registered,
        created_at: t0(),
        updated_at: t0(),
    }
}

async fn citizens(store: &dyn Store) {
    let lucia = citizen(random_dni());
    store.insert_citizen(&lucia).await.expect("insert");
    assert_eq!(
        store.citizen(lucia.id).await.expect("get"),
        Some(lucia.clone())
    );
    assert_eq!(
        store
            .citizen_by_identifier(&lucia.identifier)
            .await
            .expect("get by identifier"),
        Some(lucia.clone())
    );
    assert_eq!(store.citizen(CitizenId::new()).await.expect("get"), None);
    assert_eq!(
        store
            .citizen_by_identifier(&random_passport())
            .await
            .expect("get by identifier"),
        None
    );

    let twin = citizen(lucia.identifier.clone());
    match store.insert_citizen(&twin).await {
        Err(StoreError::Conflict(msg)) => assert_eq!(
            msg,
            format!("{} is already registered", lucia.identifier),
            "the conflict names the identifier"
        ),
        other => panic!("duplicate identifier: expected Conflict, got {other:?}"),
    }
    assert_eq!(store.citizen(twin.id).await.expect("get"), None);

    let updated = Citizen {
        given_name: "Lucía María".into(),
        email: "lucia.maria@example.es".into(),
        tramite: Some("00123456789".into()),
        verification_facts: vec![],
        address: PostalAddress::default(),
        proofing: ProofingLevel::Certificate,
        status: CitizenStatus::Active,
        updated_at: t0() + Duration::microseconds(1),
        ..lucia.clone()
    };
    store.update_citizen(&updated).await.expect("update");
    assert_eq!(store.citizen(lucia.id).await.expect("get"), Some(updated));
    let ghost = citizen(random_dni());
    assert!(
        matches!(
            store.update_citizen(&ghost).await,
            Err(StoreError::NotFound(_))
        ),
        "updating an absent citizen is NotFound"
    );

    let traveller = Citizen {
        tramite: Some("98765432101".into()),
        birth_date: NaiveDate::from_ymd_opt(1931, 12, 31).expect("date"),
        proofing: ProofingLevel::Online,
        status: CitizenStatus::Deregistered,
        created_at: instant(-86_400_000_001),
        updated_at: instant(4_102_444_800_999_999),
        ..citizen(random_passport())
    };
    store.insert_citizen(&traveller).await.expect("insert");
    assert_eq!(
        store
            .citizen_by_identifier(&traveller.identifier)
            .await
            .expect("get by identifier"),
        Some(traveller)
    );
}
