//! Signing keys shared by every node: kept in the database encrypted with a key-encryption
//! key ([`Kek`]) or loaded from PEM files, and served from an in-memory [`KeyRing`].
//!
//! Life cycle per family (RSA for RS256/PS256, P-256 for ES256): a key is published as
//! `next` before it ever signs, signs while `active`, stays published while `retiring` for a
//! grace period so existing signatures verify, and is then `retired`.

mod alg;
mod generate;
mod jwk;
mod kek;
mod ring;
mod settings;
mod signing;
mod source;
#[cfg(test)]
mod tests;

pub use alg::{JwsAlg, KeyFamily};
pub use generate::{RSA_BITS_ALLOWED, generate, self_signed_certificate};
pub use kek::Kek;
pub use ring::{FamilyRotation, KeyInfo, KeyRing, KeyRingOptions, RotationReport};
pub use settings::{KeyFileConfig, KeySourceKind, KeysConfig};
pub use signing::{SigningKey, verify_signature};
pub use source::{KeyFile, KeySource};
