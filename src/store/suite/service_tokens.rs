//! `client_credentials` access tokens: lookup by hash, duplicates refused, revocation once.

use super::t0;
use crate::core::session::cookie_hash;
use crate::store::Store;
use crate::store::service_tokens::ServiceToken;
use chrono::Duration;
use std::sync::Arc;

pub(super) async fn service_tokens(store: &Arc<dyn Store>) {
    let token = ServiceToken {
        token_hash: cookie_hash(&uuid::Uuid::new_v4().to_string()),
        client_id: "batch".into(),
        scope: "registry.read".into(),
        issued_at: t0(),
        expires_at: t0() + Duration::minutes(5),
        revoked_at: None,
    };
    store.insert_service_token(&token).await.expect("insert");
    assert!(
        store.insert_service_token(&token).await.is_err(),
        "duplicate hash"
    );
    assert_eq!(
        store.service_token(&token.token_hash).await.expect("get"),
        Some(token.clone())
    );
    assert_eq!(store.service_token("0000").await.expect("get"), None);
    assert!(token.is_live(t0()) && !token.is_live(t0() + Duration::minutes(5)));
    let later = t0() + Duration::minutes(1);
    assert!(
        store
            .revoke_service_token(&token.token_hash, later)
            .await
            .expect("revoke")
    );
    assert!(
        !store
            .revoke_service_token(&token.token_hash, later)
            .await
            .expect("revoke"),
        "revoked once"
    );
    assert!(
        !store
            .revoke_service_token("0000", later)
            .await
            .expect("revoke")
    );
    let revoked = store
        .service_token(&token.token_hash)
        .await
        .expect("get")
        .expect("still there");
    assert_eq!(revoked.revoked_at, Some(later));
    assert!(!revoked.is_live(t0()));
}
