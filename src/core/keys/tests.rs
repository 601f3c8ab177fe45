//! Key-ring tests against an in-memory fake of the key part of [`Store`].

use super::*;
use crate::clock::{Clock, ManualClock};
use crate::core::CoreError;
use crate::core::audit::{AuditEntry, AuditEvent};
use crate::core::citizen::{Citizen, CitizenId};
use crate::core::identifier::Identifier;
use crate::core::relying_party::RelyingParty;
use crate::store::{ActivationCodeRecord, FailureCount, KeyState, Store, StoreError, StoredKey};
use async_trait::async_trait;
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use openssl::bn::BigNum;
use openssl::ecdsa::EcdsaSig;
use openssl::hash::MessageDigest;
use openssl::sign::Verifier;
use std::collections::HashSet;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Keys in a vector. Like the SQL store is expected to, it refuses a second active key of one
/// alg with `Conflict`. `stale_reads` makes the next `keys()` calls see an empty table, to
/// play a node that read before another node's insert.
#[derive(Default)]
struct FakeStore {
    keys: Mutex<Vec<StoredKey>>,
    stale_reads: AtomicUsize,
}

/// What the fake answers for everything but keys: the key ring must never call those.
fn outside_the_fake() -> StoreError {
    StoreError::Unavailable("the key-ring fake stores keys only".into())
}

impl FakeStore {
    fn all(&self) -> Vec<StoredKey> {
        self.keys.lock().unwrap().clone()
    }
}

#[async_trait]
impl Store for FakeStore {
    async fn keys(&self) -> Result<Vec<StoredKey>, StoreError> {
        let stale = self
            .stale_reads
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        Ok(if stale { Vec::new() } else { self.all() })
    }
    async fn insert_key(&self, key: &StoredKey) -> Result<(), StoreError> {
        let mut keys = self.keys.lock().unwrap();
        let clash = keys.iter().any(|k| {
            k.kid == key.kid
                || (k.alg == key.alg && k.state == key.state && key.state == KeyState::Active)
        });
        if clash {
            return Err(StoreError::Conflict(format!("key {}", key.kid)));
        }
        keys.push(key.clone());
        Ok(())
    }
    async fn rotate_keys(
        &self,
        alg: &str,
        new_next: &StoredKey,
        retire_before: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut keys = self.keys.lock().unwrap();
        for k in keys.iter_mut().filter(|k| k.alg == alg) {
            let to = match k.state {
                KeyState::Retiring if k.state_changed_at < retire_before => KeyState::Retired,
                KeyState::Active => KeyState::Retiring,
                KeyState::Next => KeyState::Active,
                _ => continue,
            };
            k.state = to;
            k.state_changed_at = now;
        }
        keys.push(new_next.clone());
        Ok(())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        Err(outside_the_fake())
    }
    async fn insert_citizen(&self, _: &Citizen) -> Result<(), StoreError> {
        Err(outside_the_fake())
    }
    async fn citizen(&self, _: CitizenId) -> Result<Option<Citizen>, StoreError> {
        Err(outside_the_fake())
    }
    async fn citizen_by_identifier(&self, _: &Identifier) -> Result<Option<Citizen>, StoreError> {
        Err(outside_the_fake())
    }
    async fn update_citizen(&self, _: &Citizen) -> Result<(), StoreError> {
        Err(outside_the_fake())
    }
    async fn put_activation_code(&self, _: &ActivationCodeRecord) -> Result<(), StoreError> {
        Err(outside_the_fake())
    }
    async fn activation_code(
        &self,
        _: CitizenId,
        _: &str,
    ) -> Result<Option<ActivationCodeRecord>, StoreError> {
        Err(outside_the_fake())
    }
    async fn record_code_failure(
        &self,
        _: CitizenId,
        _: &str,
        _: u32,
        _: DateTime<Utc>,
    ) -> Result<FailureCount, StoreError> {
        Err(outside_the_fake())
    }
    async fn delete_activation_code(&self, _: CitizenId, _: &str) -> Result<(), StoreError> {
        Err(outside_the_fake())
    }
    async fn put_relying_party(&self, _: &RelyingParty) -> Result<(), StoreError> {
        Err(outside_the_fake())
    }
    async fn relying_party(&self, _: &str) -> Result<Option<RelyingParty>, StoreError> {
        Err(outside_the_fake())
    }
    async fn relying_parties(&self) -> Result<Vec<RelyingParty>, StoreError> {
        Err(outside_the_fake())
    }
    async fn delete_relying_party(&self, _: &str) -> Result<bool, StoreError> {
        Err(outside_the_fake())
    }
    async fn append_audit(&self, _: &AuditEvent) -> Result<AuditEntry, StoreError> {
        Err(outside_the_fake())
    }
    async fn audit_entries(
        &self,
        _: Option<CitizenId>,
        _: i64,
        _: i64,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        Err(outside_the_fake())
    }
    async fn insert_service_token(
        &self,
        _: &crate::store::service_tokens::ServiceToken,
    ) -> Result<(), StoreError> {
        Err(outside_the_fake())
    }
    async fn service_token(
        &self,
        _: &str,
    ) -> Result<Option<crate::store::service_tokens::ServiceToken>, StoreError> {
        Err(outside_the_fake())
    }
    async fn revoke_service_token(&self, _: &str, _: DateTime<Utc>) -> Result<bool, StoreError> {
        Err(outside_the_fake())
    }
    async fn consent(
        &self,
        _: CitizenId,
        _: &str,
    ) -> Result<Option<crate::store::consents::Consent>, StoreError> {
        Err(outside_the_fake())
    }
    async fn put_consent(&self, _: &crate::store::consents::Consent) -> Result<(), StoreError> {
        Err(outside_the_fake())
    }
    async fn delete_consents(&self, _: CitizenId) -> Result<u64, StoreError> {
        Err(outside_the_fake())
    }
}

/// Credentials are no concern of the key ring.
#[async_trait]
impl crate::store::credentials::CredentialStore for FakeStore {
    async fn password(
        &self,
        _: CitizenId,
    ) -> Result<Option<crate::store::credentials::PasswordRecord>, StoreError> {
        Err(outside_the_fake())
    }
    async fn set_password(
        &self,
        _: CitizenId,
        _: &str,
        _: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        Err(outside_the_fake())
    }
    async fn rehash_password(&self, _: CitizenId, _: &str, _: &str) -> Result<bool, StoreError> {
        Err(outside_the_fake())
    }
    async fn record_login_failure(
        &self,
        _: CitizenId,
        _: u32,
        _: DateTime<Utc>,
    ) -> Result<crate::store::credentials::LoginFailures, StoreError> {
        Err(outside_the_fake())
    }
    async fn login_failures(
        &self,
        _: CitizenId,
    ) -> Result<crate::store::credentials::LoginFailures, StoreError> {
        Err(outside_the_fake())
    }
    async fn reset_login_failures(&self, _: CitizenId) -> Result<(), StoreError> {
        Err(outside_the_fake())
    }
    async fn unlock_login(&self, _: CitizenId) -> Result<(), StoreError> {
        Err(outside_the_fake())
    }
    async fn set_totp(
        &self,
        _: CitizenId,
        _: Option<Vec<u8>>,
        _: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        Err(outside_the_fake())
    }
    async fn put_pending_totp(
        &self,
        _: CitizenId,
        _: &[u8],
        _: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        Err(outside_the_fake())
    }
    async fn confirm_totp(
        &self,
        _: CitizenId,
        _: i64,
        _: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        Err(outside_the_fake())
    }
    async fn totp(
        &self,
        _: CitizenId,
    ) -> Result<Option<crate::store::credentials::TotpRecord>, StoreError> {
        Err(outside_the_fake())
    }
    async fn use_totp_step(&self, _: CitizenId, _: i64) -> Result<bool, StoreError> {
        Err(outside_the_fake())
    }
    async fn record_policy_acceptance(
        &self,
        _: CitizenId,
        _: &str,
        _: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        Err(outside_the_fake())
    }
    async fn policy_acceptance(
        &self,
        _: CitizenId,
    ) -> Result<Option<(String, DateTime<Utc>)>, StoreError> {
        Err(outside_the_fake())
    }
    async fn record_proofing_failure(
        &self,
        _: CitizenId,
        _: &str,
        _: u32,
        _: DateTime<Utc>,
    ) -> Result<FailureCount, StoreError> {
        Err(outside_the_fake())
    }
    async fn proofing_failures(&self, _: CitizenId, _: &str) -> Result<FailureCount, StoreError> {
        Err(outside_the_fake())
    }
}

fn kek(byte: u8) -> Kek {
    Kek::from_base64(&base64::engine::general_purpose::STANDARD.encode([byte; 32])).unwrap()
}

fn opts() -> KeyRingOptions {
    KeyRingOptions::database(kek(1), "pasarela test")
}

fn key(family: KeyFamily) -> SigningKey {
    let now = ManualClock::fixed().now();
    generate(&kek(1), family, 2048, KeyState::Active, now, "t")
        .unwrap()
        .0
}

fn b64d(s: &str) -> Vec<u8> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .unwrap()
}

fn jwks_kids(ring: &KeyRing) -> Vec<String> {
    let jwks: serde_json::Value = serde_json::from_slice(&ring.jwks_json()).unwrap();
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect()
}

fn kid_of(ring: &KeyRing, alg: JwsAlg) -> String {
    ring.active(alg).unwrap().kid().to_owned()
}

fn stored_state(store: &FakeStore, kid: &str) -> KeyState {
    store.all().iter().find(|k| k.kid == kid).unwrap().state
}

#[test]
fn sign_verify_round_trip_for_every_alg() {
    let rsa = key(KeyFamily::Rsa);
    let ec = key(KeyFamily::Ec);
    for (k, alg) in [
        (&rsa, JwsAlg::RS256),
        (&rsa, JwsAlg::PS256),
        (&ec, JwsAlg::ES256),
    ] {
        let sig = k.sign(alg, b"payload").unwrap();
        assert!(k.verify(alg, b"payload", &sig), "{alg}");
        assert!(!k.verify(alg, b"payloaD", &sig), "{alg}");
    }
    // PS256 is randomised, RS256 deterministic: the two must not be confused.
    let rs = rsa.sign(JwsAlg::RS256, b"x").unwrap();
    assert_eq!(rs, rsa.sign(JwsAlg::RS256, b"x").unwrap());
    assert!(!rsa.verify(JwsAlg::PS256, b"x", &rs));
    assert!(matches!(
        rsa.sign(JwsAlg::ES256, b"x"),
        Err(CoreError::Invalid(_))
    ));
    assert!(matches!(
        ec.sign(JwsAlg::RS256, b"x"),
        Err(CoreError::Invalid(_))
    ));
    assert!(!ec.verify(JwsAlg::ES256, b"x", &[0u8; 63]));
}

#[test]
fn es256_signature_is_raw_64_bytes_that_verify_as_der() {
    let ec = key(KeyFamily::Ec);
    for _ in 0..20 {
        let sig = ec.sign(JwsAlg::ES256, b"data").unwrap();
        assert_eq!(sig.len(), 64);
        let r = BigNum::from_slice(&sig[..32]).unwrap();
        let s = BigNum::from_slice(&sig[32..]).unwrap();
        let der = EcdsaSig::from_private_components(r, s)
            .unwrap()
            .to_der()
            .unwrap();
        let public = ec.certificate().public_key().unwrap();
        let mut v = Verifier::new(MessageDigest::sha256(), &public).unwrap();
        v.update(b"data").unwrap();
        assert!(v.verify(&der).unwrap());
    }
}

#[test]
fn jwt_verifies_with_the_public_key_and_names_its_kid() {
    for (family, alg) in [
        (KeyFamily::Rsa, JwsAlg::RS256),
        (KeyFamily::Rsa, JwsAlg::PS256),
        (KeyFamily::Ec, JwsAlg::ES256),
    ] {
        let k = key(family);
        let mut extra = serde_json::Map::new();
        extra.insert("typ".into(), "logout+jwt".into());
        extra.insert("kid".into(), "forged".into());
        let claims = serde_json::json!({"iss": "https://idp", "sub": "abc"});
        let jwt = k.sign_jwt(alg, extra, &claims).unwrap();
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        let header: serde_json::Value = serde_json::from_slice(&b64d(parts[0])).unwrap();
        assert_eq!(header["kid"], k.kid());
        assert_eq!(header["alg"], alg.as_str());
        assert_eq!(header["typ"], "logout+jwt");
        let payload: serde_json::Value = serde_json::from_slice(&b64d(parts[1])).unwrap();
        assert_eq!(payload, claims);
        let public = k.certificate().public_key().unwrap();
        let signing_input = format!("{}.{}", parts[0], parts[1]);
        assert!(verify_signature(
            &public,
            alg,
            signing_input.as_bytes(),
            &b64d(parts[2])
        ));
    }
}

#[test]
fn jwks_members_follow_the_rfc() {
    let rsa = key(KeyFamily::Rsa).public_jwk();
    assert_eq!(rsa["kty"], "RSA");
    assert_eq!(rsa["use"], "sig");
    assert!(rsa.get("alg").is_none());
    assert_eq!(rsa["e"], "AQAB");
    assert_eq!(b64d(rsa["n"].as_str().unwrap()).len(), 256);
    let ec = key(KeyFamily::Ec).public_jwk();
    assert_eq!(
        (ec["kty"].as_str(), ec["crv"].as_str()),
        (Some("EC"), Some("P-256"))
    );
    assert_eq!(ec["alg"], "ES256");
    assert_eq!(b64d(ec["x"].as_str().unwrap()).len(), 32);
    assert_eq!(b64d(ec["y"].as_str().unwrap()).len(), 32);
    assert!(ec.get("d").is_none() && rsa.get("d").is_none());
}

#[test]
fn generated_certificate_is_self_signed_for_ten_years() {
    let k = key(KeyFamily::Ec);
    let cert = k.certificate();
    let cn = cert
        .subject_name()
        .entries()
        .next()
        .unwrap()
        .data()
        .to_string()
        .unwrap();
    assert_eq!(cn, "t");
    assert!(cert.verify(&cert.public_key().unwrap()).unwrap());
    assert!(
        k.certificate_pem()
            .unwrap()
            .starts_with("-----BEGIN CERTIFICATE-----")
    );
    let days = cert.not_before().diff(cert.not_after()).unwrap().days;
    assert!((3650..=3653).contains(&days), "{days}");
    assert!(!format!("{k:?}").contains("PRIVATE"));
}

#[test]
fn rsa_sizes_other_than_2048_and_3072_are_refused() {
    assert!(super::generate::check_rsa_bits(1024).is_err());
    assert!(super::generate::check_rsa_bits(4096).is_err());
    let now = ManualClock::fixed().now();
    let (k, stored) = generate(&kek(1), KeyFamily::Rsa, 3072, KeyState::Next, now, "t").unwrap();
    assert_eq!(k.pkey().bits(), 3072);
    assert_eq!(
        (stored.alg.as_str(), stored.state),
        ("RS256", KeyState::Next)
    );
}

#[tokio::test]
async fn load_generates_an_active_and_a_next_key_per_family() {
    let store = FakeStore::default();
    let clock = ManualClock::fixed();
    let ring = KeyRing::load(&store, &opts(), &clock).await.unwrap();
    let stored = store.all();
    assert_eq!(stored.len(), 4);
    for family in KeyFamily::ALL {
        for state in [KeyState::Active, KeyState::Next] {
            let n = stored
                .iter()
                .filter(|k| k.alg == family.stored_alg() && k.state == state)
                .count();
            assert_eq!(n, 1, "{family} {state:?}");
        }
    }
    assert_eq!(kid_of(&ring, JwsAlg::RS256), kid_of(&ring, JwsAlg::PS256));
    assert_eq!(ring.active(JwsAlg::ES256).unwrap().family(), KeyFamily::Ec);
    assert_eq!(ring.published().len(), 4);
    let kids = jwks_kids(&ring);
    assert_eq!(kids.len(), 4);
    assert_eq!(kids.iter().collect::<HashSet<_>>().len(), 4);
    assert!(ring.by_kid(&kids[0]).is_some());

    // A second node finds the keys and makes none.
    let again = KeyRing::load(&store, &opts(), &clock).await.unwrap();
    assert_eq!(store.all().len(), 4);
    assert_eq!(kid_of(&again, JwsAlg::ES256), kid_of(&ring, JwsAlg::ES256));
}

#[tokio::test]
async fn a_node_losing_the_startup_race_uses_the_winners_keys() {
    let store = FakeStore::default();
    let clock = ManualClock::fixed();
    let first = KeyRing::load(&store, &opts(), &clock).await.unwrap();
    store.stale_reads.store(1, Ordering::SeqCst);
    let second = KeyRing::load(&store, &opts(), &clock).await.unwrap();
    assert_eq!(store.all().len(), 4);
    for alg in JwsAlg::ALL {
        assert_eq!(kid_of(&first, alg), kid_of(&second, alg));
    }
}

#[tokio::test]
async fn wrong_kek_fails_to_load_naming_the_kid() {
    let store = FakeStore::default();
    let clock = ManualClock::fixed();
    KeyRing::load(&store, &opts(), &clock).await.unwrap();
    let mut wrong = opts();
    wrong.source = KeySource::Database(kek(2));
    let err = KeyRing::load(&store, &wrong, &clock)
        .await
        .unwrap_err()
        .to_string();
    assert!(store.all().iter().any(|k| err.contains(&k.kid)), "{err}");
}

#[tokio::test]
async fn rotation_activates_the_key_published_as_next() {
    let store = FakeStore::default();
    let clock = ManualClock::fixed();
    let opts = opts();
    let ring = KeyRing::load(&store, &opts, &clock).await.unwrap();
    let old_active = kid_of(&ring, JwsAlg::RS256);
    let old_next = ring
        .published()
        .iter()
        .find(|k| k.family() == KeyFamily::Rsa && k.state() == KeyState::Next)
        .unwrap()
        .kid()
        .to_owned();
    let jwks_before = jwks_kids(&ring);
    let ec_before = kid_of(&ring, JwsAlg::ES256);

    clock.advance(Duration::days(30));
    let report = KeyRing::rotate(&store, &opts, &clock, Some(KeyFamily::Rsa))
        .await
        .unwrap();
    let done = &report.families[0];
    assert_eq!(report.families.len(), 1);
    assert_eq!(done.activated.as_deref(), Some(old_next.as_str()));
    assert_eq!(done.retiring.as_deref(), Some(old_active.as_str()));

    // Until refreshed, this node keeps signing with the old key.
    assert_eq!(kid_of(&ring, JwsAlg::RS256), old_active);
    ring.refresh(&store, &clock).await.unwrap();

    let new_active = kid_of(&ring, JwsAlg::PS256);
    assert_eq!(new_active, old_next);
    assert!(
        jwks_before.contains(&new_active),
        "active key was published before it signed"
    );
    let new_next = ring.by_kid(&done.new_next).unwrap();
    assert_eq!(new_next.state(), KeyState::Next);
    assert_ne!(kid_of(&ring, JwsAlg::RS256), done.new_next);
    assert!(jwks_kids(&ring).contains(&done.new_next));
    assert_eq!(
        ring.by_kid(&old_active).unwrap().state(),
        KeyState::Retiring
    );
    assert_eq!(kid_of(&ring, JwsAlg::ES256), ec_before, "EC untouched");
    let kids = jwks_kids(&ring);
    assert_eq!(kids.len(), 5);
    assert_eq!(kids.iter().collect::<HashSet<_>>().len(), 5);
}

#[tokio::test]
async fn retiring_keys_drop_out_after_the_grace_period() {
    let store = FakeStore::default();
    let clock = ManualClock::fixed();
    let opts = opts();
    let ring = KeyRing::load(&store, &opts, &clock).await.unwrap();
    let first = kid_of(&ring, JwsAlg::ES256);
    KeyRing::rotate(&store, &opts, &clock, None).await.unwrap();

    clock.advance(opts.retire_grace - Duration::seconds(1));
    ring.refresh(&store, &clock).await.unwrap();
    assert!(ring.by_kid(&first).is_some(), "still within grace");

    clock.advance(Duration::seconds(2));
    ring.refresh(&store, &clock).await.unwrap();
    assert!(ring.by_kid(&first).is_none());
    assert!(!jwks_kids(&ring).contains(&first));
    assert_eq!(ring.published().len(), 4);

    // The next rotation records it as retired in the store.
    assert_eq!(stored_state(&store, &first), KeyState::Retiring);
    KeyRing::rotate(&store, &opts, &clock, None).await.unwrap();
    assert_eq!(stored_state(&store, &first), KeyState::Retired);
    ring.refresh(&store, &clock).await.unwrap();
    assert_eq!(ring.published().len(), 6);
    assert_eq!(jwks_kids(&ring).iter().collect::<HashSet<_>>().len(), 6);
}

#[tokio::test]
async fn rotation_without_a_next_key_only_publishes_one() {
    let store = FakeStore::default();
    let clock = ManualClock::fixed();
    let (_, active) = generate(
        &kek(1),
        KeyFamily::Ec,
        2048,
        KeyState::Active,
        clock.now(),
        "t",
    )
    .unwrap();
    store.insert_key(&active).await.unwrap();
    let report = KeyRing::rotate(&store, &opts(), &clock, Some(KeyFamily::Ec))
        .await
        .unwrap();
    assert_eq!(report.families[0].activated, None);
    assert_eq!(stored_state(&store, &active.kid), KeyState::Active);
    assert_eq!(
        stored_state(&store, &report.families[0].new_next),
        KeyState::Next
    );
}

#[tokio::test]
async fn list_shows_states_and_certificate_fingerprints() {
    let store = FakeStore::default();
    let clock = ManualClock::fixed();
    let ring = KeyRing::load(&store, &opts(), &clock).await.unwrap();
    let list = KeyRing::list(&store).await.unwrap();
    assert_eq!(list.len(), 4);
    let active = ring.active(JwsAlg::ES256).unwrap();
    let info = list.iter().find(|i| i.kid == active.kid()).unwrap();
    assert_eq!((info.alg.as_str(), info.state), ("ES256", KeyState::Active));
    let expected = active
        .certificate()
        .digest(MessageDigest::sha256())
        .unwrap();
    assert_eq!(info.certificate_sha256, hex::encode(expected));
}

#[tokio::test]
async fn files_source_loads_pems_and_refuses_rotation() {
    let dir = tempfile::tempdir().unwrap();
    let rsa = key(KeyFamily::Rsa);
    let ec = key(KeyFamily::Ec);
    let rsa_pem = dir.path().join("rsa.pem");
    let ec_pem = dir.path().join("ec.pem");
    let ec_cert = dir.path().join("ec.crt");
    std::fs::write(&rsa_pem, rsa.pkey().private_key_to_pem_pkcs8().unwrap()).unwrap();
    std::fs::write(&ec_pem, ec.pkey().private_key_to_pem_pkcs8().unwrap()).unwrap();
    std::fs::write(&ec_cert, ec.certificate_pem().unwrap()).unwrap();
    let files = vec![
        KeyFile {
            kid: "rsa-1".into(),
            state: KeyState::Active,
            private_key_pem: rsa_pem.clone(),
            certificate_pem: None,
        },
        KeyFile {
            kid: "ec-1".into(),
            state: KeyState::Active,
            private_key_pem: ec_pem,
            certificate_pem: Some(ec_cert.clone()),
        },
    ];
    let mut opts = opts();
    opts.source = KeySource::Files(files.clone());
    let store = FakeStore::default();
    let clock = ManualClock::fixed();
    let ring = KeyRing::load(&store, &opts, &clock).await.unwrap();
    assert!(store.all().is_empty(), "no database writes");
    assert_eq!(kid_of(&ring, JwsAlg::PS256), "rsa-1");
    let ec_loaded = ring.active(JwsAlg::ES256).unwrap();
    assert_eq!(ec_loaded.certificate_der(), ec.certificate_der());
    assert_eq!(jwks_kids(&ring).len(), 2);
    ring.refresh(&store, &clock).await.unwrap();
    assert_eq!(jwks_kids(&ring).len(), 2);

    let err = KeyRing::rotate(&store, &opts, &clock, None)
        .await
        .unwrap_err();
    assert!(matches!(err, CoreError::Refused(_)));
    assert!(err.to_string().contains("PEM files"));

    // A certificate of another key, or two active keys of one family, are refused.
    let mut mismatched = files.clone();
    mismatched[0].certificate_pem = Some(ec_cert);
    opts.source = KeySource::Files(mismatched);
    assert!(KeyRing::load(&store, &opts, &clock).await.is_err());
    let mut doubled = files;
    doubled[1] = KeyFile {
        kid: "rsa-2".into(),
        state: KeyState::Active,
        private_key_pem: rsa_pem,
        certificate_pem: None,
    };
    opts.source = KeySource::Files(doubled);
    assert!(KeyRing::load(&store, &opts, &clock).await.is_err());
}

#[test]
fn in_memory_ring_signs_with_both_families() {
    let ring = KeyRing::in_memory(ManualClock::fixed().now()).unwrap();
    for alg in JwsAlg::ALL {
        let k = ring.active(alg).unwrap();
        let sig = k.sign(alg, b"m").unwrap();
        assert!(k.verify(alg, b"m", &sig));
    }
    assert_eq!(jwks_kids(&ring).len(), 2);
}

/// Sessions are not part of the key ring's world.
#[async_trait]
impl crate::store::SessionStore for FakeStore {
    async fn insert_session(
        &self,
        _: &crate::core::session::SsoSession,
        _: &str,
    ) -> Result<(), StoreError> {
        Err(outside_the_fake())
    }
    async fn session_by_cookie_hash(
        &self,
        _: &str,
    ) -> Result<Option<crate::core::session::SsoSession>, StoreError> {
        Err(outside_the_fake())
    }
    async fn session(
        &self,
        _: &crate::core::session::SessionId,
    ) -> Result<Option<crate::core::session::SsoSession>, StoreError> {
        Err(outside_the_fake())
    }
    async fn update_session_auth(
        &self,
        _: &crate::core::session::SessionId,
        _: &str,
        _: DateTime<Utc>,
        _: &[crate::core::session::MethodUse],
        _: crate::core::level::LevelOfAssurance,
    ) -> Result<(), StoreError> {
        Err(outside_the_fake())
    }
    async fn touch_session(
        &self,
        _: &crate::core::session::SessionId,
        _: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        Err(outside_the_fake())
    }
    async fn add_session_relying_party(
        &self,
        _: &crate::core::session::SessionId,
        _: &crate::core::session::RelyingPartyVisit,
    ) -> Result<(), StoreError> {
        Err(outside_the_fake())
    }
    async fn end_session(
        &self,
        _: &crate::core::session::SessionId,
        _: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        Err(outside_the_fake())
    }
    async fn end_citizen_sessions(
        &self,
        _: CitizenId,
        _: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        Err(outside_the_fake())
    }
    async fn purge_sessions(&self, _: DateTime<Utc>) -> Result<u64, StoreError> {
        Err(outside_the_fake())
    }
    async fn citizen_sessions(
        &self,
        _: CitizenId,
    ) -> Result<Vec<crate::core::session::SsoSession>, StoreError> {
        Err(outside_the_fake())
    }
}

/// OAuth tokens are not part of the key ring's world either.
#[async_trait]
impl crate::store::OidcTokenStore for FakeStore {
    async fn insert_token(
        &self,
        _: &crate::store::oidc_tokens::TokenRecord,
    ) -> Result<(), StoreError> {
        Err(outside_the_fake())
    }
    async fn token(
        &self,
        _: &str,
    ) -> Result<Option<crate::store::oidc_tokens::TokenRecord>, StoreError> {
        Err(outside_the_fake())
    }
    async fn use_refresh_token(&self, _: &str, _: DateTime<Utc>) -> Result<bool, StoreError> {
        Err(outside_the_fake())
    }
    async fn revoke_grant(&self, _: &str, _: DateTime<Utc>) -> Result<u64, StoreError> {
        Err(outside_the_fake())
    }
    async fn revoke_session_tokens(
        &self,
        _: &crate::core::session::SessionId,
        _: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        Err(outside_the_fake())
    }
}
