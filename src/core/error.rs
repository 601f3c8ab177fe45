//! Core errors: stable codes, no HTTP. The web and protocol layers map them.

use crate::store::{EphemeralError, StoreError};

/// What went wrong in the engine. `code()` is stable and safe to show or log.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// Input that fails validation; the message says what is wrong and is safe to show.
    #[error("{0}")]
    Invalid(String),
    /// The thing asked for does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// It exists already.
    #[error("{0}")]
    Conflict(String),
    /// The state does not allow this (e.g. a blocked activation code).
    #[error("{0}")]
    Refused(String),
    /// A dependency (database, ephemeral store, OpenSSL) failed: refuse, retry later.
    #[error("service unavailable: {0}")]
    Unavailable(String),
}

impl CoreError {
    /// A stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Invalid(_) => "invalid",
            Self::NotFound(_) => "not_found",
            Self::Conflict(_) => "conflict",
            Self::Refused(_) => "refused",
            Self::Unavailable(_) => "unavailable",
        }
    }
}

impl From<StoreError> for CoreError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => Self::NotFound(what),
            StoreError::Conflict(what) => Self::Conflict(what),
            StoreError::Unavailable(why) => Self::Unavailable(why),
        }
    }
}

impl From<EphemeralError> for CoreError {
    fn from(e: EphemeralError) -> Self {
        Self::Unavailable(e.to_string())
    }
}

impl From<openssl::error::ErrorStack> for CoreError {
    fn from(e: openssl::error::ErrorStack) -> Self {
        Self::Unavailable(format!("openssl: {e}"))
    }
}
