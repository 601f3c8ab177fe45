//! Relying parties and signing keys.

use super::t0;
use crate::core::level::LevelOfAssurance;
use crate::core::relying_party::{LogoutEndpoints, NamedService, ProtocolSettings, RelyingParty};
use crate::store::{KeyState, Store, StoreError, StoredKey};
use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use uuid::Uuid;

fn relying_party(id: String, settings: ProtocolSettings) -> RelyingParty {
    RelyingParty {
        id,
        display_name: "Sede electrónica — Seguridad Social".into(),
        min_level: LevelOfAssurance::Substantial,
        services: vec![NamedService {
            name: "cobro".into(),
            display_name: "Cambio de lugar de cobro".into(),
            min_level: LevelOfAssurance::High,
        }],
        attribute_release: vec!["given_name".into(), "email".into()],
        logout: LogoutEndpoints {
            backchannel_uri: Some("https://rp.example/bc".into()),
            frontchannel_uri: None,
            post_logout_redirect_uris: vec!["https://rp.example/bye".into()],
            saml_slo: vec![(
                "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect".into(),
                "https://sp.example/slo".into(),
            )],
        },
        settings,
        enabled: true,
    }
}

pub(super) async fn relying_parties(store: &dyn Store) {
    let prefix = format!("suite-{}", Uuid::new_v4().simple());
    let saml = relying_party(
        format!("{prefix}-b"),
        ProtocolSettings::Saml(json!({
            "acs": [{"binding": "post", "location": "https://sp.example/acs", "index": 0}],
            "sign_assertions": true,
        })),
    );
    let oidc = relying_party(
        format!("{prefix}-a"),
        ProtocolSettings::Oidc(json!({
            "redirect_uris": ["https://rp.example/cb"],
            "nested": {"ratio": 1.5, "none": null, "ñandú": "ü", "big": 9007199254740993_i64},
        })),
    );
    store.put_relying_party(&saml).await.expect("put");
    store.put_relying_party(&oidc).await.expect("put");
    assert_eq!(
        store.relying_party(&oidc.id).await.expect("get"),
        Some(oidc.clone())
    );
    assert_eq!(
        store
            .relying_party(&format!("{prefix}-z"))
            .await
            .expect("get"),
        None
    );

    let all = store.relying_parties().await.expect("list");
    let ids: Vec<&str> = all.iter().map(|rp| rp.id.as_str()).collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    assert_eq!(ids, sorted, "listed by id");
    let ours: Vec<_> = all.iter().filter(|rp| rp.id.starts_with(&prefix)).collect();
    assert_eq!(ours, [&oidc, &saml]);

    let disabled = RelyingParty {
        enabled: false,
        display_name: "Renamed".into(),
        settings: ProtocolSettings::Oidc(json!({"redirect_uris": []})),
        ..saml.clone()
    };
    store.put_relying_party(&disabled).await.expect("replace");
    assert_eq!(
        store.relying_party(&saml.id).await.expect("get"),
        Some(disabled)
    );
    assert!(store.delete_relying_party(&saml.id).await.expect("delete"));
    assert!(
        !store
            .delete_relying_party(&saml.id)
            .await
            .expect("delete again")
    );
    assert_eq!(store.relying_party(&saml.id).await.expect("get"), None);
}

fn key(alg: &str, state: KeyState, created: DateTime<Utc>, changed: DateTime<Utc>) -> StoredKey {
    StoredKey {
        kid: format!("kid-{}", Uuid::new_v4().simple()),
        alg: alg.into(),
        state,
        encrypted_private_key: (0..=255).collect(),
        certificate: vec![0x30, 0x82, 0x00, 0xff, 0x00],
        created_at: created,
        state_changed_at: changed,
    }
}

/// This run's keys (its own `alg`), by kid → state and state change time.
async fn key_states(store: &dyn Store, alg: &str) -> Vec<(String, KeyState, DateTime<Utc>)> {
    store
        .keys()
        .await
        .expect("keys")
        .into_iter()
        .filter(|k| k.alg == alg)
        .map(|k| (k.kid, k.state, k.state_changed_at))
        .collect()
}

pub(super) async fn keys(store: &dyn Store) {
    // A private algorithm name keeps rotations from touching other runs' keys.
    let alg = format!("RS256-suite-{}", Uuid::new_v4().simple());
    let h = Duration::hours(1);
    let old_retiring = key(&alg, KeyState::Retiring, t0(), t0());
    let young_retiring = key(&alg, KeyState::Retiring, t0() + h, t0() + h * 2);
    let active = key(&alg, KeyState::Active, t0() + h * 2, t0() + h * 2);
    let next = key(&alg, KeyState::Next, t0() + h * 3, t0() + h * 3);
    for k in [&next, &old_retiring, &active, &young_retiring] {
        store.insert_key(k).await.expect("insert key");
    }
    let all = store.keys().await.expect("keys");
    assert!(
        all.windows(2).all(|w| w[0].created_at <= w[1].created_at),
        "oldest first"
    );
    let ours: Vec<_> = all.into_iter().filter(|k| k.alg == alg).collect();
    assert_eq!(
        ours,
        [
            old_retiring.clone(),
            young_retiring.clone(),
            active.clone(),
            next.clone()
        ]
    );

    let dup = StoredKey {
        kid: active.kid.clone(),
        ..key(&alg, KeyState::Next, t0(), t0())
    };
    match store.insert_key(&dup).await {
        Err(StoreError::Conflict(msg)) => assert!(msg.contains(&active.kid), "{msg}"),
        other => panic!("duplicate kid: expected Conflict, got {other:?}"),
    }

    // A rotation that fails on its insert changes nothing.
    let before = key_states(store, &alg).await;
    let now = t0() + h * 10;
    assert!(matches!(
        store.rotate_keys(&alg, &dup, t0() + h, now).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        key_states(store, &alg).await,
        before,
        "a failed rotation is rolled back"
    );

    let newer = key(&alg, KeyState::Next, now, now);
    store
        .rotate_keys(&alg, &newer, t0() + h, now)
        .await
        .expect("rotate");
    assert_eq!(
        key_states(store, &alg).await,
        [
            (old_retiring.kid.clone(), KeyState::Retired, now),
            (young_retiring.kid.clone(), KeyState::Retiring, t0() + h * 2),
            (active.kid.clone(), KeyState::Retiring, now),
            (next.kid.clone(), KeyState::Active, now),
            (newer.kid.clone(), KeyState::Next, now),
        ]
    );

    let later = now + h * 10;
    let newest = key(&alg, KeyState::Next, later, later);
    store
        .rotate_keys(&alg, &newest, now + h, later)
        .await
        .expect("rotate again");
    assert_eq!(
        key_states(store, &alg).await,
        [
            (old_retiring.kid, KeyState::Retired, now),
            (young_retiring.kid, KeyState::Retired, later),
            (active.kid, KeyState::Retired, later),
            (next.kid, KeyState::Retiring, later),
            (newer.kid, KeyState::Active, later),
            (newest.kid, KeyState::Next, later),
        ]
    );
}
