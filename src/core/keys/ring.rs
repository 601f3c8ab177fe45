//! The key ring: the snapshot of signing keys every node works from, and the operations that
//! create and rotate keys in the shared store.

use super::alg::{JwsAlg, KeyFamily};
use super::generate::{check_rsa_bits, generate};
use super::jwk;
use super::kek::Kek;
use super::signing::SigningKey;
use super::source::{KeySource, is_published, load_files, open_stored};
use crate::clock::Clock;
use crate::core::CoreError;
use crate::store::{KeyState, Store, StoreError, StoredKey};
use bytes::Bytes;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use std::fmt;
use std::sync::{Arc, RwLock};

/// How the key ring finds, makes and rotates keys.
#[derive(Debug, Clone)]
pub struct KeyRingOptions {
    /// Size of generated RSA keys: 2048 or 3072.
    pub rsa_bits: u32,
    /// How long a replaced active key stays published (as retiring): at least the longest
    /// token lifetime plus the longest JWKS cache of any relying party.
    pub retire_grace: Duration,
    /// Database source only: make an active and a next key for each family that has no
    /// active key at load.
    pub generate_if_missing: bool,
    /// Common name in generated self-signed certificates.
    pub subject_cn: String,
    /// Where the keys come from.
    pub source: KeySource,
}

impl KeyRingOptions {
    /// Database keys with defaults: RSA 2048, seven days of grace, generation on.
    pub fn database(kek: Kek, subject_cn: impl Into<String>) -> Self {
        Self {
            rsa_bits: 2048,
            retire_grace: Duration::days(7),
            generate_if_missing: true,
            subject_cn: subject_cn.into(),
            source: KeySource::Database(kek),
        }
    }
}

/// What one rotation did for one family.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FamilyRotation {
    /// RSA or EC.
    pub family: KeyFamily,
    /// The former next key, now signing. `None` when there was no next key: then only a new
    /// next key was inserted, and a second rotation (after relying parties have fetched the
    /// JWKS) activates it.
    pub activated: Option<String>,
    /// The former active key, now retiring.
    pub retiring: Option<String>,
    /// The new next key, published but not signing.
    pub new_next: String,
}

/// What [`KeyRing::rotate`] did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RotationReport {
    /// One entry per rotated family.
    pub families: Vec<FamilyRotation>,
}

/// A stored key as shown by `pasarela keys list` (no key material).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyInfo {
    /// Key id.
    pub kid: String,
    /// Stored algorithm family (`RS256` or `ES256`).
    pub alg: String,
    /// Life-cycle state.
    pub state: KeyState,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it last changed state.
    pub state_changed_at: DateTime<Utc>,
    /// SHA-256 of the certificate DER, lowercase hex.
    pub certificate_sha256: String,
}

/// One immutable view of the keys; replaced whole on refresh.
struct Snapshot {
    /// Next, active and retiring keys: active first, then next, then retiring.
    published: Vec<Arc<SigningKey>>,
    rsa_active: Option<Arc<SigningKey>>,
    ec_active: Option<Arc<SigningKey>>,
    jwks: Bytes,
}

impl Snapshot {
    fn build(keys: Vec<SigningKey>) -> Result<Self, CoreError> {
        let rank = |s: KeyState| match s {
            KeyState::Active => 0,
            KeyState::Next => 1,
            KeyState::Retiring => 2,
            KeyState::Retired => 3,
        };
        let mut published: Vec<Arc<SigningKey>> = keys
            .into_iter()
            .filter(|k| k.state() != KeyState::Retired)
            .map(Arc::new)
            .collect();
        published.sort_by(|a, b| {
            (a.family(), rank(a.state()))
                .cmp(&(b.family(), rank(b.state())))
                .then(b.state_changed_at().cmp(&a.state_changed_at()))
                .then(b.kid().cmp(a.kid()))
        });
        let active = |family: KeyFamily| {
            let mut found = published
                .iter()
                .filter(|k| k.family() == family && k.state() == KeyState::Active);
            // Sorted newest first, so every node picks the same key if the store ever holds
            // two active keys of one family.
            let chosen = found.next().cloned();
            if let Some(other) = found.next() {
                tracing::warn!(
                    family = %family,
                    chosen = chosen.as_ref().map(|k| k.kid()),
                    other = other.kid(),
                    "more than one active signing key; using the most recent"
                );
            }
            chosen
        };
        let rsa_active = active(KeyFamily::Rsa);
        let ec_active = active(KeyFamily::Ec);
        let jwks = Bytes::from(jwk::jwks(&published)?);
        Ok(Self {
            published,
            rsa_active,
            ec_active,
            jwks,
        })
    }
}

struct Inner {
    opts: KeyRingOptions,
    snapshot: RwLock<Arc<Snapshot>>,
}

/// The signing keys every node uses: cheap to clone, lock-free of I/O for readers (a refresh
/// builds a whole new snapshot, then swaps it in).
#[derive(Clone)]
pub struct KeyRing {
    inner: Arc<Inner>,
}

impl fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let snapshot = self.snapshot();
        f.debug_struct("KeyRing")
            .field("keys", &snapshot.published)
            .finish_non_exhaustive()
    }
}

impl KeyRing {
    /// Loads the keys. From the database, with `generate_if_missing`, first makes an active
    /// and a next key for each family lacking an active one. From files, no database access.
    pub async fn load(
        store: &dyn Store,
        opts: &KeyRingOptions,
        clock: &dyn Clock,
    ) -> Result<KeyRing, CoreError> {
        check_rsa_bits(opts.rsa_bits)?;
        let snapshot = match &opts.source {
            KeySource::Database(kek) => {
                if opts.generate_if_missing {
                    ensure_keys(store, kek, opts, clock.now()).await?;
                }
                load_database(store, kek, opts, clock.now()).await?
            }
            KeySource::Files(files) => {
                Snapshot::build(load_files(files, &opts.subject_cn, clock.now())?)?
            }
        };
        Ok(KeyRing {
            inner: Arc::new(Inner {
                opts: opts.clone(),
                snapshot: RwLock::new(Arc::new(snapshot)),
            }),
        })
    }

    /// Re-reads the keys from the store and swaps the snapshot, so this node picks up
    /// rotations made elsewhere and stops publishing keys past their grace period. On error
    /// the previous snapshot stays in use. With the files source it does nothing: file keys
    /// change only with the configuration.
    pub async fn refresh(&self, store: &dyn Store, clock: &dyn Clock) -> Result<(), CoreError> {
        let KeySource::Database(kek) = &self.inner.opts.source else {
            return Ok(());
        };
        let snapshot = load_database(store, kek, &self.inner.opts, clock.now()).await?;
        *self
            .inner
            .snapshot
            .write()
            .unwrap_or_else(|e| e.into_inner()) = Arc::new(snapshot);
        Ok(())
    }

    fn snapshot(&self) -> Arc<Snapshot> {
        // A poisoned lock only means a writer panicked mid-assignment of an Arc, which cannot
        // leave it half-written.
        self.inner
            .snapshot
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The key that signs with `alg` now, if its family has an active key.
    pub fn active(&self, alg: JwsAlg) -> Option<Arc<SigningKey>> {
        let snapshot = self.snapshot();
        match alg.family() {
            KeyFamily::Rsa => snapshot.rsa_active.clone(),
            KeyFamily::Ec => snapshot.ec_active.clone(),
        }
    }

    /// Whether both families have a key that signs (the readiness check).
    pub fn is_ready(&self) -> bool {
        let snapshot = self.snapshot();
        snapshot.rsa_active.is_some() && snapshot.ec_active.is_some()
    }

    /// Every published key (active, next, retiring; never retired), each once.
    pub fn published(&self) -> Vec<Arc<SigningKey>> {
        self.snapshot().published.clone()
    }

    /// The published key with this kid (for verifying our own tokens, e.g. `id_token_hint`).
    pub fn by_kid(&self, kid: &str) -> Option<Arc<SigningKey>> {
        self.snapshot()
            .published
            .iter()
            .find(|k| k.kid() == kid)
            .cloned()
    }

    /// The JWKS document (`{"keys": [...]}`), serialised once per snapshot.
    pub fn jwks_json(&self) -> Bytes {
        self.snapshot().jwks.clone()
    }

    /// A ring of freshly generated active RSA and EC keys that lives only in memory, for tests
    /// of the protocol layers. Refresh does nothing and rotation is refused.
    #[doc(hidden)]
    pub fn in_memory(now: DateTime<Utc>) -> Result<KeyRing, CoreError> {
        let kek = Kek::from_base64(&crate::core::random::token(32)?)?;
        let mut keys = Vec::new();
        for family in KeyFamily::ALL {
            keys.push(generate(&kek, family, 2048, KeyState::Active, now, "pasarela-test")?.0);
        }
        let mut opts = KeyRingOptions::database(kek, "pasarela-test");
        opts.source = KeySource::Files(Vec::new());
        Ok(KeyRing {
            inner: Arc::new(Inner {
                opts,
                snapshot: RwLock::new(Arc::new(Snapshot::build(keys)?)),
            }),
        })
    }

    /// Rotates `family` (or both): the next key (already published) becomes active, the
    /// active one retiring, and a new next key is published before it ever signs. Retiring
    /// keys older than the grace period are retired. Other nodes see it on their next
    /// [`KeyRing::refresh`].
    pub async fn rotate(
        store: &dyn Store,
        opts: &KeyRingOptions,
        clock: &dyn Clock,
        family: Option<KeyFamily>,
    ) -> Result<RotationReport, CoreError> {
        let KeySource::Database(kek) = &opts.source else {
            return Err(CoreError::Refused(
                "keys come from PEM files; rotate them by changing the files in config".into(),
            ));
        };
        check_rsa_bits(opts.rsa_bits)?;
        let families = match family {
            Some(f) => vec![f],
            None => KeyFamily::ALL.to_vec(),
        };
        let now = clock.now();
        let stored = store.keys().await?;
        let mut report = RotationReport {
            families: Vec::new(),
        };
        for family in families {
            let newest = |state: KeyState| {
                stored
                    .iter()
                    .filter(|k| k.alg == family.stored_alg() && k.state == state)
                    .max_by_key(|k| (k.state_changed_at, k.kid.clone()))
            };
            let next = newest(KeyState::Next);
            let active = newest(KeyState::Active);
            let (_, new_next) = generate(
                kek,
                family,
                opts.rsa_bits,
                KeyState::Next,
                now,
                &opts.subject_cn,
            )?;
            match next {
                Some(next) => {
                    // Promoting a key this KEK cannot open would leave every node unable
                    // to sign: check before touching the store.
                    open_stored(kek, next)?;
                    store
                        .rotate_keys(family.stored_alg(), &new_next, now - opts.retire_grace, now)
                        .await?;
                }
                None => store.insert_key(&new_next).await?,
            }
            tracing::info!(
                family = %family,
                activated = next.map(|k| k.kid.as_str()),
                new_next = %new_next.kid,
                "signing keys rotated"
            );
            report.families.push(FamilyRotation {
                family,
                activated: next.map(|k| k.kid.clone()),
                retiring: next.and(active).map(|k| k.kid.clone()),
                new_next: new_next.kid,
            });
        }
        Ok(report)
    }

    /// Every stored key, oldest first, without key material.
    pub async fn list(store: &dyn Store) -> Result<Vec<KeyInfo>, CoreError> {
        Ok(store
            .keys()
            .await?
            .into_iter()
            .map(|k| KeyInfo {
                certificate_sha256: hex::encode(openssl::sha::sha256(&k.certificate)),
                kid: k.kid,
                alg: k.alg,
                state: k.state,
                created_at: k.created_at,
                state_changed_at: k.state_changed_at,
            })
            .collect())
    }
}

/// Makes an active and a next key for each family without an active key. When two nodes start
/// at once, the store refuses the second active key with `Conflict`; the loser then just
/// reads what the winner wrote.
async fn ensure_keys(
    store: &dyn Store,
    kek: &Kek,
    opts: &KeyRingOptions,
    now: DateTime<Utc>,
) -> Result<(), CoreError> {
    let stored = store.keys().await?;
    for family in KeyFamily::ALL {
        let has = |state: KeyState| {
            stored
                .iter()
                .any(|k| k.alg == family.stored_alg() && k.state == state)
        };
        if has(KeyState::Active) {
            continue;
        }
        let mut wanted = vec![KeyState::Active];
        if !has(KeyState::Next) {
            wanted.push(KeyState::Next);
        }
        for state in wanted {
            let (_, key) = generate(kek, family, opts.rsa_bits, state, now, &opts.subject_cn)?;
            match store.insert_key(&key).await {
                Ok(()) => {
                    tracing::info!(family = %family, kid = %key.kid, state = state.as_str(), "signing key generated");
                }
                Err(StoreError::Conflict(_)) => break,
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok(())
}

/// Reads every key, decrypts the published ones and builds a snapshot.
async fn load_database(
    store: &dyn Store,
    kek: &Kek,
    opts: &KeyRingOptions,
    now: DateTime<Utc>,
) -> Result<Snapshot, CoreError> {
    let stored: Vec<StoredKey> = store.keys().await?;
    let keys = stored
        .iter()
        .filter(|k| is_published(k, now, opts.retire_grace))
        .map(|k| open_stored(kek, k))
        .collect::<Result<Vec<_>, _>>()?;
    Snapshot::build(keys)
}
