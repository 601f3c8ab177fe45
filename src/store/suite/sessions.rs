//! SSO sessions: lookups, cookie rotation, relying-party upsert, ending and listing.

use super::{citizen, random_dni, t0};
use crate::core::citizen::CitizenId;
use crate::core::level::{AuthMethod, LevelOfAssurance};
use crate::core::session::{
    MethodUse, RelyingPartyVisit, SessionCookie, SessionId, SsoSession, cookie_hash,
};
use crate::store::{Store, StoreError};
use chrono::{DateTime, Duration, Utc};
use std::sync::Arc;
use tokio::task::JoinSet;

fn session(citizen_id: CitizenId, created_at: DateTime<Utc>) -> SsoSession {
    SsoSession {
        id: SessionId::generate().expect("id"),
        citizen_id,
        created_at,
        auth_time: created_at,
        methods: vec![MethodUse {
            method: AuthMethod::Pwd,
            at: created_at,
        }],
        level: LevelOfAssurance::Low,
        relying_parties: vec![],
        last_seen_at: created_at,
        expires_at: created_at + Duration::hours(12),
        ended_at: None,
        user_agent: Some("Mozilla/5.0 (Ñandú) \"quoted\"".into()),
        source: Some("2001:db8::1".into()),
    }
}

fn new_hash() -> String {
    SessionCookie::generate().expect("cookie").hash()
}

fn visit(rp_id: &str, protocol: &str, at: DateTime<Utc>) -> RelyingPartyVisit {
    RelyingPartyVisit {
        rp_id: rp_id.into(),
        protocol: protocol.into(),
        first_at: at,
        last_at: at,
    }
}

pub(super) async fn sessions(store: &Arc<dyn Store>) {
    let owner = citizen(random_dni());
    store.insert_citizen(&owner).await.expect("insert citizen");
    let first = session(owner.id, t0());
    let hash = new_hash();
    store.insert_session(&first, &hash).await.expect("insert");
    let by_hash = store.session_by_cookie_hash(&hash).await.expect("get");
    assert_eq!(by_hash, Some(first.clone()));
    assert_eq!(
        store.session(&first.id).await.expect("get"),
        Some(first.clone())
    );
    assert_eq!(
        store
            .session_by_cookie_hash(&new_hash())
            .await
            .expect("get"),
        None
    );
    let unknown = SessionId::generate().expect("id");
    assert_eq!(store.session(&unknown).await.expect("get"), None);
    assert_eq!(cookie_hash("abc").len(), 64, "hex SHA-256");

    // Duplicate cookie hash and unknown citizen are refused.
    let twin = session(owner.id, t0());
    assert!(matches!(
        store.insert_session(&twin, &hash).await,
        Err(StoreError::Conflict(_))
    ));
    let orphan = session(CitizenId::new(), t0());
    assert!(
        matches!(
            store.insert_session(&orphan, &new_hash()).await,
            Err(StoreError::NotFound(_))
        ),
        "a session for an unknown citizen is refused"
    );
    assert_eq!(store.session(&orphan.id).await.expect("get"), None);

    // Re-authentication rotates the cookie and keeps the id.
    let later = t0() + Duration::minutes(5);
    let methods = vec![
        first.methods[0].clone(),
        MethodUse {
            method: AuthMethod::Sms,
            at: later,
        },
    ];
    let rotated = new_hash();
    store
        .update_session_auth(
            &first.id,
            &rotated,
            later,
            &methods,
            LevelOfAssurance::Substantial,
        )
        .await
        .expect("update auth");
    assert_eq!(
        store.session_by_cookie_hash(&hash).await.expect("get"),
        None
    );
    let reauthed = SsoSession {
        auth_time: later,
        last_seen_at: later,
        methods,
        level: LevelOfAssurance::Substantial,
        ..first.clone()
    };
    assert_eq!(
        store.session_by_cookie_hash(&rotated).await.expect("get"),
        Some(reauthed.clone())
    );
    assert!(matches!(
        store
            .update_session_auth(&unknown, &new_hash(), later, &[], LevelOfAssurance::Low)
            .await,
        Err(StoreError::NotFound(_))
    ));

    let seen = later + Duration::minutes(1);
    store.touch_session(&first.id, seen).await.expect("touch");
    relying_parties(store, &first.id, seen).await;
    let current = store
        .session(&first.id)
        .await
        .expect("get")
        .expect("present");
    assert_eq!(current.last_seen_at, seen);
    assert_eq!(current.relying_parties.len(), 10 + 2);

    ending(store, owner.id, &first.id, &rotated).await;
}

/// Upsert by (rp_id, protocol), including under concurrency.
async fn relying_parties(store: &Arc<dyn Store>, id: &SessionId, at: DateTime<Utc>) {
    store
        .add_session_relying_party(id, &visit("tax", "oidc", at))
        .await
        .expect("add");
    let again = at + Duration::seconds(30);
    store
        .add_session_relying_party(id, &visit("tax", "oidc", again))
        .await
        .expect("add again");
    store
        .add_session_relying_party(id, &visit("tax", "saml", again))
        .await
        .expect("same rp, other protocol");
    let visits = store
        .session(id)
        .await
        .expect("get")
        .expect("present")
        .relying_parties;
    assert_eq!(
        visits,
        vec![
            RelyingPartyVisit {
                last_at: again,
                ..visit("tax", "oidc", at)
            },
            visit("tax", "saml", again),
        ]
    );
    let mut tasks = JoinSet::new();
    for n in 0..10 {
        let (store, id) = (Arc::clone(store), id.clone());
        tasks.spawn(async move {
            store
                .add_session_relying_party(&id, &visit(&format!("rp{n}"), "oidc", at))
                .await
        });
    }
    for r in tasks.join_all().await {
        r.expect("concurrent add");
    }
    assert!(matches!(
        store
            .add_session_relying_party(&SessionId::generate().expect("id"), &visit("x", "oidc", at))
            .await,
        Err(StoreError::NotFound(_))
    ));
}

async fn ending(store: &Arc<dyn Store>, owner: CitizenId, first: &SessionId, cookie: &str) {
    let base = t0() + Duration::hours(1);
    let mut others = Vec::new();
    for n in 1..=3 {
        let s = session(owner, base + Duration::minutes(n));
        store.insert_session(&s, &new_hash()).await.expect("insert");
        others.push(s);
    }
    let listed: Vec<SessionId> = store
        .citizen_sessions(owner)
        .await
        .expect("list")
        .into_iter()
        .map(|s| s.id)
        .collect();
    let expected: Vec<SessionId> = others
        .iter()
        .rev()
        .map(|s| s.id.clone())
        .chain([first.clone()])
        .collect();
    assert_eq!(listed, expected, "newest first");
    assert!(
        store
            .citizen_sessions(CitizenId::new())
            .await
            .expect("list")
            .is_empty()
    );

    let end = base + Duration::hours(1);
    assert!(store.end_session(first, end).await.expect("end"));
    assert!(!store.end_session(first, end).await.expect("end twice"));
    let unknown = SessionId::generate().expect("id");
    assert!(!store.end_session(&unknown, end).await.expect("end unknown"));
    let ended = store
        .session_by_cookie_hash(cookie)
        .await
        .expect("get")
        .expect("kept");
    assert_eq!(ended.ended_at, Some(end));
    assert!(matches!(
        store.touch_session(first, end).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store
            .update_session_auth(first, &new_hash(), end, &[], LevelOfAssurance::Low)
            .await,
        Err(StoreError::NotFound(_))
    ));

    let later = end + Duration::minutes(1);
    assert_eq!(
        store
            .end_citizen_sessions(owner, later)
            .await
            .expect("end all"),
        3
    );
    assert_eq!(
        store
            .end_citizen_sessions(owner, later)
            .await
            .expect("again"),
        0
    );
    let all = store.citizen_sessions(owner).await.expect("list");
    assert_eq!(all.len(), 4, "ended sessions are still listed");
    for s in &all {
        let want = if &s.id == first { end } else { later };
        assert_eq!(s.ended_at, Some(want));
    }

    // Purging: a live session (seen recently) stays; sessions over before the cut go.
    let live = session(owner, later + Duration::seconds(2));
    store
        .insert_session(&live, &new_hash())
        .await
        .expect("insert");
    assert_eq!(
        store.purge_sessions(t0()).await.expect("purge"),
        0,
        "nothing was over before t0"
    );
    assert_eq!(
        store
            .purge_sessions(later + Duration::seconds(1))
            .await
            .expect("purge"),
        4
    );
    let left: Vec<SessionId> = store
        .citizen_sessions(owner)
        .await
        .expect("list")
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(left, vec![live.id.clone()]);
}
