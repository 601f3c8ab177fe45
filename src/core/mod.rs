//! The protocol-neutral identity engine: citizens and their identifiers, levels of assurance,
//! relying parties, signing keys, activation codes and the audit trail. Nothing here knows
//! about HTTP, OIDC or SAML; the protocol layers translate to and from these types.

pub mod account;
pub mod activation;
pub mod activation_check;
pub(crate) mod aead;
pub mod audit;
pub mod captcha;
pub mod citizen;
pub mod credentials;
pub mod engine;
pub mod error;
pub mod identifier;
pub mod keys;
pub mod level;
pub mod login;
pub mod notify;
pub mod otp;
pub mod proofing;
pub mod random;
pub mod registry;
pub mod relying_party;
pub mod session;
pub mod settings;
#[cfg(test)]
pub(crate) mod testing;
pub mod totp;

pub use error::CoreError;
