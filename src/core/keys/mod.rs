//! Signing keys: the key-encryption key ([`Kek`]) that protects them at rest, the JOSE
//! algorithms, and one loaded [`SigningKey`].

mod alg;
mod generate;
mod jwk;
mod kek;
mod signing;

pub use alg::{JwsAlg, KeyFamily};
pub use generate::{RSA_BITS_ALLOWED, generate, self_signed_certificate};
pub use kek::Kek;
pub use signing::{SigningKey, verify_signature};
