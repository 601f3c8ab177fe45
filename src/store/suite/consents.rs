//! Consents: one per (citizen, client), replaced when widened, removed per citizen.

use super::{citizen, random_dni, t0};
use crate::core::citizen::CitizenId;
use crate::store::consents::Consent;
use crate::store::{Store, StoreError};
use chrono::Duration;
use std::sync::Arc;

pub(super) async fn consents(store: &Arc<dyn Store>) {
    let owner = citizen(random_dni());
    store.insert_citizen(&owner).await.expect("insert citizen");
    let first = Consent {
        citizen_id: owner.id,
        client_id: "tramites".into(),
        scope: "openid profile".into(),
        granted_at: t0(),
    };
    assert_eq!(
        store.consent(owner.id, "tramites").await.expect("get"),
        None
    );
    store.put_consent(&first).await.expect("put");
    assert_eq!(
        store.consent(owner.id, "tramites").await.expect("get"),
        Some(first.clone())
    );
    assert_eq!(store.consent(owner.id, "other").await.expect("get"), None);
    let wider = Consent {
        scope: first.union("openid email"),
        granted_at: t0() + Duration::minutes(1),
        ..first.clone()
    };
    store.put_consent(&wider).await.expect("replace");
    let got = store
        .consent(owner.id, "tramites")
        .await
        .expect("get")
        .expect("kept");
    assert_eq!(got, wider);
    assert!(got.covers("openid email profile"));
    let other = Consent {
        client_id: "sede".into(),
        ..first.clone()
    };
    store.put_consent(&other).await.expect("second client");
    let stranger = Consent {
        citizen_id: CitizenId::new(),
        ..first.clone()
    };
    assert!(
        matches!(
            store.put_consent(&stranger).await,
            Err(StoreError::NotFound(_))
        ),
        "unknown citizen"
    );
    assert_eq!(store.delete_consents(owner.id).await.expect("delete"), 2);
    assert_eq!(
        store.consent(owner.id, "tramites").await.expect("get"),
        None
    );
    assert_eq!(store.delete_consents(owner.id).await.expect("delete"), 0);
}
