//! Activation codes (Cl@ve "código de activación") and invitation-letter CSV codes: generated
//! once, shown once, stored only as a keyed hash (HMAC-SHA-256), so a copy of the database
//! alone does not reveal them even though an 8-digit space is small.

use super::citizen::CitizenId;
use super::random;
use openssl::hash::MessageDigest;
use openssl::pkey::PKey;
use openssl::sign::Signer;

/// Purpose tag of an activation code issued at an office (or online after proofing).
pub const PURPOSE_ACTIVATION: &str = "activation";

/// Number of digits in an activation code.
pub const ACTIVATION_CODE_DIGITS: usize = 8;

/// Keyed hashing of one-time codes. The key is derived from the deployment's key-encryption
/// key, so every node computes the same hashes.
#[derive(Clone)]
pub struct CodeHasher {
    key: [u8; 32],
}

impl std::fmt::Debug for CodeHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CodeHasher(..)")
    }
}

impl CodeHasher {
    /// A hasher keyed with `key`.
    pub fn new(key: [u8; 32]) -> Self {
        Self { key }
    }

    /// The hash stored for `code`, bound to the citizen and purpose so a hash cannot be moved
    /// to another account.
    pub fn hash(
        &self,
        citizen: CitizenId,
        purpose: &str,
        code: &str,
    ) -> Result<String, openssl::error::ErrorStack> {
        let pkey = PKey::hmac(&self.key)?;
        let mut signer = Signer::new(MessageDigest::sha256(), &pkey)?;
        for part in [citizen.to_string().as_str(), purpose, code] {
            signer.update(&(part.len() as u64).to_be_bytes())?;
            signer.update(part.as_bytes())?;
        }
        Ok(hex::encode(signer.sign_to_vec()?))
    }

    /// Whether `code` matches `stored`, compared in constant time.
    pub fn verify(
        &self,
        citizen: CitizenId,
        purpose: &str,
        code: &str,
        stored: &str,
    ) -> Result<bool, openssl::error::ErrorStack> {
        let candidate = self.hash(citizen, purpose, code)?;
        Ok(candidate.len() == stored.len()
            && openssl::memcmp::eq(candidate.as_bytes(), stored.as_bytes()))
    }
}

/// A fresh activation code: [`ACTIVATION_CODE_DIGITS`] random digits.
pub fn new_activation_code() -> Result<String, openssl::error::ErrorStack> {
    random::digits(ACTIVATION_CODE_DIGITS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_keyed_and_bound_to_citizen_and_purpose() {
        let h = CodeHasher::new([7; 32]);
        let a = CitizenId::new();
        let stored = h.hash(a, PURPOSE_ACTIVATION, "12345678").unwrap();
        assert!(
            h.verify(a, PURPOSE_ACTIVATION, "12345678", &stored)
                .unwrap()
        );
        assert!(
            !h.verify(a, PURPOSE_ACTIVATION, "12345679", &stored)
                .unwrap()
        );
        assert!(
            !h.verify(CitizenId::new(), PURPOSE_ACTIVATION, "12345678", &stored)
                .unwrap()
        );
        assert!(!h.verify(a, "letter", "12345678", &stored).unwrap());
        assert!(
            !CodeHasher::new([8; 32])
                .verify(a, PURPOSE_ACTIVATION, "12345678", &stored)
                .unwrap()
        );
        assert_eq!(new_activation_code().unwrap().len(), 8);
    }
}
