//! OAuth tokens: lookup by hash, single use of refresh tokens under concurrency, and
//! revocation by grant and by session.

use super::{citizen, random_dni, t0};
use crate::core::level::LevelOfAssurance;
use crate::core::session::{SessionId, cookie_hash};
use crate::store::Store;
use crate::store::oidc_tokens::{GrantFacts, TokenKind, TokenRecord};
use chrono::Duration;
use std::sync::Arc;
use tokio::task::JoinSet;

fn record(
    kind: TokenKind,
    grant: &str,
    session: &SessionId,
    citizen: crate::core::citizen::CitizenId,
) -> TokenRecord {
    TokenRecord {
        token_hash: cookie_hash(&uuid::Uuid::new_v4().to_string()),
        kind,
        grant_id: grant.into(),
        client_id: "sede".into(),
        citizen_id: citizen,
        facts: GrantFacts {
            session_id: session.clone(),
            scope: "openid profile".into(),
            auth_time: t0(),
            level: LevelOfAssurance::Substantial,
            amr: vec!["pwd".into(), "sms".into(), "mfa".into()],
            claims: Default::default(),
        },
        issued_at: t0(),
        expires_at: t0() + Duration::minutes(10),
        used_at: None,
        revoked_at: None,
    }
}

pub(super) async fn oidc_tokens(store: &Arc<dyn Store>) {
    let owner = citizen(random_dni());
    store.insert_citizen(&owner).await.expect("insert citizen");
    let sid = SessionId::generate().expect("sid");
    let grant = uuid::Uuid::new_v4().to_string();
    let access = record(TokenKind::Access, &grant, &sid, owner.id);
    let refresh = record(TokenKind::Refresh, &grant, &sid, owner.id);
    store.insert_token(&access).await.expect("insert access");
    store.insert_token(&refresh).await.expect("insert refresh");
    assert!(store.insert_token(&access).await.is_err(), "duplicate hash");
    let mut stranger = record(TokenKind::Access, &grant, &sid, owner.id);
    stranger.citizen_id = crate::core::citizen::CitizenId::new();
    assert!(
        store.insert_token(&stranger).await.is_err(),
        "unknown citizen"
    );
    assert_eq!(
        store.token(&access.token_hash).await.expect("get"),
        Some(access.clone())
    );
    assert_eq!(store.token("0000").await.expect("get"), None);
    assert!(access.is_live(t0()) && !access.is_live(t0() + Duration::minutes(10)));

    // An access token is never "used" as a refresh token.
    assert!(
        !store
            .use_refresh_token(&access.token_hash, t0())
            .await
            .expect("use")
    );
    // Of many concurrent uses of one refresh token, exactly one wins.
    let mut set = JoinSet::new();
    for _ in 0..16 {
        let (store, hash) = (store.clone(), refresh.token_hash.clone());
        set.spawn(async move { store.use_refresh_token(&hash, t0()).await.expect("use") });
    }
    let mut winners = 0;
    while let Some(won) = set.join_next().await {
        winners += usize::from(won.expect("task"));
    }
    assert_eq!(winners, 1);
    let used = store.token(&refresh.token_hash).await.expect("get");
    assert_eq!(used.and_then(|t| t.used_at), Some(t0()));

    // Revoking the grant revokes both, once.
    let later = t0() + Duration::seconds(5);
    assert_eq!(store.revoke_grant(&grant, later).await.expect("revoke"), 2);
    assert_eq!(store.revoke_grant(&grant, later).await.expect("revoke"), 0);
    let revoked = store.token(&access.token_hash).await.expect("get");
    assert_eq!(revoked.as_ref().and_then(|t| t.revoked_at), Some(later));
    assert!(!revoked.is_some_and(|t| t.is_live(t0())));

    // Revoking a session's tokens leaves other sessions' tokens alone.
    let other_sid = SessionId::generate().expect("sid");
    let mine = record(TokenKind::Access, "g2", &sid, owner.id);
    let theirs = record(TokenKind::Access, "g3", &other_sid, owner.id);
    store.insert_token(&mine).await.expect("insert");
    store.insert_token(&theirs).await.expect("insert");
    assert_eq!(
        store
            .revoke_session_tokens(&sid, later)
            .await
            .expect("revoke"),
        1
    );
    let theirs = store.token(&theirs.token_hash).await.expect("get");
    assert!(theirs.is_some_and(|t| t.revoked_at.is_none()));
}
