//! What a citizen knows or holds: the password policy, password hashing and TOTP.

pub mod lang;
mod messages;
pub mod policy;

pub use lang::Lang;
pub use policy::{PasswordContext, PolicyPreset, PolicyViolation, check, rules_description};
