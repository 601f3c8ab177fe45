//! Password hashing with Argon2id. Every hash runs on Tokio's blocking pool, never on the
//! async workers, and a semaphore bounds how many run at once: each one holds `memory_kib`
//! of RAM, so a burst of logins must queue rather than exhaust memory. That memory is kept
//! in a pool (one buffer per permit, allocated on first use and reused): allocating 19 MiB
//! per hash on the blocking pool's threads left it in glibc's per-thread arenas, and a
//! benchmark saw the process grow to ~900 MiB under logins with a bound of 4.

use crate::core::CoreError;
use crate::core::random;
use argon2::{Algorithm, Argon2, Block, Params, PasswordHash, Version};
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use subtle::ConstantTimeEq as _;
use tokio::sync::Semaphore;
use zeroize::Zeroizing;

const SALT_LEN: usize = 16;
/// The password the dummy hash is made of; it never needs to be secret, only to exist.
const DUMMY_PASSWORD: &[u8] = b"pasarela dummy password for unknown identifiers";

/// Argon2id cost parameters. The defaults are OWASP's recommendation: 19 MiB, 2 passes,
/// 1 lane.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Argon2Params {
    /// Memory per hash in KiB.
    pub memory_kib: u32,
    /// Number of passes over the memory.
    pub iterations: u32,
    /// Lanes (degree of parallelism).
    pub parallelism: u32,
}

impl Default for Argon2Params {
    fn default() -> Self {
        Self {
            memory_kib: 19_456,
            iterations: 2,
            parallelism: 1,
        }
    }
}

impl Argon2Params {
    fn to_argon2(self) -> Result<Params, CoreError> {
        Params::new(self.memory_kib, self.iterations, self.parallelism, None)
            .map_err(|e| CoreError::Invalid(format!("invalid Argon2 parameters: {e}")))
    }
}

/// The outcome of checking a password against a stored hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verification {
    /// The password is the one the hash was made from.
    pub matches: bool,
    /// The hash was made with other parameters or another algorithm: after a successful
    /// login, hash the password again and store the new hash.
    pub needs_rehash: bool,
}

/// Hashes and verifies passwords off the async runtime with bounded concurrency.
#[derive(Debug)]
pub struct PasswordHasher {
    params: Params,
    semaphore: Arc<Semaphore>,
    max_concurrent: usize,
    in_flight: Arc<AtomicUsize>,
    peak: Arc<AtomicUsize>,
    dummy_phc: String,
    /// Argon2 working memory: at most `max_concurrent` buffers, reused from hash to hash.
    memory: Arc<Mutex<Vec<Vec<Block>>>>,
}

impl PasswordHasher {
    /// A hasher with `params` running at most `max_concurrent` hashes at once (at least 1).
    /// Computes one hash (for [`PasswordHasher::dummy_verify`]), so build it once at startup.
    pub fn new(params: Argon2Params, max_concurrent: usize) -> Result<Self, CoreError> {
        let params = params.to_argon2()?;
        let dummy_phc = hash_blocking(&params, DUMMY_PASSWORD, &mut Vec::new())?;
        let max_concurrent = max_concurrent.max(1);
        Ok(Self {
            params,
            semaphore: Arc::new(Semaphore::new(max_concurrent)),
            max_concurrent,
            in_flight: Arc::new(AtomicUsize::new(0)),
            peak: Arc::new(AtomicUsize::new(0)),
            dummy_phc,
            memory: Arc::new(Mutex::new(Vec::new())),
        })
    }

    /// Hashes `password` with a fresh random salt, as a PHC string
    /// (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`).
    pub async fn hash(&self, password: &str) -> Result<String, CoreError> {
        let password = Zeroizing::new(password.as_bytes().to_vec());
        let params = self.params.clone();
        self.run(move |memory| hash_blocking(&params, &password, memory))
            .await?
    }

    /// Checks `password` against the stored PHC string `phc`.
    pub async fn verify(&self, password: &str, phc: &str) -> Result<Verification, CoreError> {
        let password = Zeroizing::new(password.as_bytes().to_vec());
        let phc = phc.to_owned();
        let params = self.params.clone();
        self.run(move |memory| verify_blocking(&params, &password, &phc, memory))
            .await?
    }

    /// Costs the same as [`PasswordHasher::verify`] and always fails, so that a login with
    /// an unknown identifier takes as long as one with a wrong password.
    pub async fn dummy_verify(&self, password: &str) -> Result<Verification, CoreError> {
        let v = self.verify(password, &self.dummy_phc).await?;
        Ok(Verification {
            matches: false,
            needs_rehash: v.needs_rehash,
        })
    }

    /// The most hashes ever seen running at the same time.
    pub fn in_flight_peak(&self) -> usize {
        self.peak.load(Ordering::SeqCst)
    }

    /// The bound on concurrent hashes.
    pub fn max_concurrent(&self) -> usize {
        self.max_concurrent
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Vec<Block>) -> T + Send + 'static,
    ) -> Result<T, CoreError> {
        let permit = Arc::clone(&self.semaphore)
            .acquire_owned()
            .await
            .map_err(|_| CoreError::Unavailable("password hasher is shut down".into()))?;
        let in_flight = Arc::clone(&self.in_flight);
        let peak = Arc::clone(&self.peak);
        let pool = Arc::clone(&self.memory);
        // The permit moves into the blocking task: if the caller's future is dropped, the
        // hash still runs to the end, and its memory must stay counted until it does.
        tokio::task::spawn_blocking(move || {
            let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(now, Ordering::SeqCst);
            // A permit is held, so the pool never holds more buffers than the bound.
            let mut memory = pool
                .lock()
                .map(|mut p| p.pop())
                .ok()
                .flatten()
                .unwrap_or_default();
            let out = work(&mut memory);
            if let Ok(mut p) = pool.lock() {
                p.push(memory);
            }
            in_flight.fetch_sub(1, Ordering::SeqCst);
            drop(permit);
            out
        })
        .await
        .map_err(|e| CoreError::Unavailable(format!("password hashing task failed: {e}")))
    }
}

/// The raw Argon2 output of `password` and `salt`, computed in `memory` (grown as needed,
/// never shrunk; its previous contents do not matter: every block is written before it is read).
fn argon2_into(
    algorithm: Algorithm,
    version: Version,
    params: &Params,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
    memory: &mut Vec<Block>,
) -> Result<(), argon2::Error> {
    let n = params.block_count();
    if memory.len() < n {
        memory.resize(n, Block::default());
    }
    Argon2::new(algorithm, version, params.clone()).hash_password_into_with_memory(
        password,
        salt,
        out,
        &mut memory[..n],
    )
}

fn hash_blocking(
    params: &Params,
    password: &[u8],
    memory: &mut Vec<Block>,
) -> Result<String, CoreError> {
    let salt = random::bytes(SALT_LEN)?;
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    argon2_into(
        Algorithm::Argon2id,
        Version::V0x13,
        params,
        password,
        &salt,
        &mut out,
        memory,
    )
    .map_err(|e| CoreError::Unavailable(format!("password hashing failed: {e}")))?;
    // The PHC string format (unpadded standard base64), as the argon2 crate writes it.
    let b64 = base64::engine::general_purpose::STANDARD_NO_PAD;
    Ok(format!(
        "$argon2id$v=19$m={},t={},p={}${}${}",
        params.m_cost(),
        params.t_cost(),
        params.p_cost(),
        b64.encode(&salt),
        b64.encode(out)
    ))
}

fn verify_blocking(
    current: &Params,
    password: &[u8],
    phc: &str,
    memory: &mut Vec<Block>,
) -> Result<Verification, CoreError> {
    // The hash comes from our own store, never from the citizen: a damaged one is our
    // failure (refuse, retry later), not bad input.
    let malformed = |e: &dyn std::fmt::Display| {
        CoreError::Unavailable(format!("stored password hash is malformed: {e}"))
    };
    let hash = PasswordHash::new(phc).map_err(|e| malformed(&e))?;
    let stored = Params::try_from(&hash).map_err(|e| malformed(&e))?;
    let needs_rehash = hash.algorithm != Algorithm::Argon2id.ident()
        || hash.version != Some(Version::V0x13.into())
        || stored.m_cost() != current.m_cost()
        || stored.t_cost() != current.t_cost()
        || stored.p_cost() != current.p_cost()
        || hash.hash.as_ref().map(|h| h.len()) != Some(Params::DEFAULT_OUTPUT_LEN);
    // The algorithm, version and parameters come from the stored hash, so old hashes still
    // verify.
    let algorithm = Algorithm::try_from(&*hash.algorithm).map_err(|e| malformed(&e))?;
    let version = Version::try_from(hash.version.unwrap_or(Version::V0x13.into()))
        .map_err(|e| malformed(&e))?;
    let (Some(salt), Some(expected)) = (hash.salt.as_ref(), hash.hash.as_ref()) else {
        return Err(malformed(&"no salt or no hash"));
    };
    let expected = expected.as_bytes();
    let mut out = vec![0u8; expected.len()];
    argon2_into(
        algorithm, version, &stored, password, salt, &mut out, memory,
    )
    .map_err(|e| CoreError::Unavailable(format!("stored password hash cannot be checked: {e}")))?;
    Ok(Verification {
        matches: bool::from(out.as_slice().ct_eq(expected)),
        needs_rehash,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::PasswordHasher as _;

    const FAST: Argon2Params = Argon2Params {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
    };

    #[tokio::test]
    async fn round_trip_and_wrong_password() {
        let h = PasswordHasher::new(FAST, 4).unwrap();
        let phc = h.hash("caballo bateria grapa correcta").await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=64,t=1,p=1$"), "{phc}");
        let ok = h
            .verify("caballo bateria grapa correcta", &phc)
            .await
            .unwrap();
        assert_eq!(
            ok,
            Verification {
                matches: true,
                needs_rehash: false
            }
        );
        let bad = h.verify("caballo bateria grapa", &phc).await.unwrap();
        assert!(!bad.matches);
        assert_ne!(phc, h.hash("caballo bateria grapa correcta").await.unwrap());
        assert!(h.verify("x", "not a phc string").await.is_err());
    }

    #[tokio::test]
    async fn other_params_need_rehash() {
        let old = PasswordHasher::new(FAST, 1).unwrap();
        let phc = old.hash("Clave7Segura2").await.unwrap();
        let new = PasswordHasher::new(
            Argon2Params {
                memory_kib: 128,
                ..FAST
            },
            1,
        )
        .unwrap();
        let v = new.verify("Clave7Segura2", &phc).await.unwrap();
        assert!(v.matches && v.needs_rehash);
        let argon2i = Argon2::new(
            Algorithm::Argon2i,
            Version::V0x13,
            FAST.to_argon2().unwrap(),
        )
        .hash_password_with_salt(b"Clave7Segura2", b"saltsaltsalt")
        .unwrap()
        .to_string();
        let v = old.verify("Clave7Segura2", &argon2i).await.unwrap();
        assert!(v.matches && v.needs_rehash);
    }

    #[tokio::test]
    async fn defaults_are_owasp_and_work() {
        let h = PasswordHasher::new(Argon2Params::default(), 2).unwrap();
        let phc = h.hash("el gato negro").await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(h.verify("el gato negro", &phc).await.unwrap().matches);
        assert!(!h.dummy_verify("el gato negro").await.unwrap().matches);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrency_is_bounded() {
        let h = Arc::new(PasswordHasher::new(FAST, 2).unwrap());
        let phc = h.hash("Clave7Segura2").await.unwrap();
        let tasks: Vec<_> = (0..16)
            .map(|i| {
                let (h, phc) = (Arc::clone(&h), phc.clone());
                tokio::spawn(async move {
                    let pw = if i % 2 == 0 { "Clave7Segura2" } else { "otra" };
                    h.verify(pw, &phc).await.unwrap().matches == (i % 2 == 0)
                })
            })
            .collect();
        for t in tasks {
            assert!(t.await.unwrap());
        }
        assert!(h.in_flight_peak() >= 1 && h.in_flight_peak() <= 2);
        assert_eq!(h.max_concurrent(), 2);
    }

    /// Hashes made by the argon2 crate's own API verify, and ours verify with its API, with
    /// the pool's buffer reused (and dirty) between them.
    #[tokio::test]
    async fn pooled_memory_agrees_with_the_argon2_crate() {
        use argon2::password_hash::PasswordVerifier as _;
        let h = PasswordHasher::new(FAST, 1).unwrap();
        let theirs = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            FAST.to_argon2().unwrap(),
        )
        .hash_password_with_salt(b"Clave7Segura2", b"saltsaltsalt1234")
        .unwrap()
        .to_string();
        for _ in 0..3 {
            let v = h.verify("Clave7Segura2", &theirs).await.unwrap();
            assert!(v.matches && !v.needs_rehash);
            assert!(!h.verify("Clave7Segura3", &theirs).await.unwrap().matches);
        }
        let ours = h.hash("Clave7Segura2").await.unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"Clave7Segura2", &parsed)
                .is_ok()
        );
        assert!(
            Argon2::default()
                .verify_password(b"Clave7Segura3", &parsed)
                .is_err()
        );
        assert_eq!(
            h.memory.lock().unwrap().len(),
            1,
            "one buffer for a bound of 1"
        );
    }

    #[tokio::test]
    async fn dummy_verify_never_matches() {
        let h = PasswordHasher::new(FAST, 1).unwrap();
        let v = h
            .dummy_verify(std::str::from_utf8(DUMMY_PASSWORD).unwrap())
            .await;
        assert!(!v.unwrap().matches);
        assert!(!h.dummy_verify("anything").await.unwrap().matches);
    }

    #[test]
    fn params_deny_unknown_fields_and_default() {
        let p: Argon2Params = toml::from_str("memory_kib = 65536").unwrap();
        assert_eq!(p.iterations, 2);
        assert!(toml::from_str::<Argon2Params>("memory = 1").is_err());
        assert!(
            PasswordHasher::new(
                Argon2Params {
                    memory_kib: 1,
                    ..FAST
                },
                1
            )
            .is_err()
        );
    }
}
