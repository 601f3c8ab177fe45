//! Access tokens issued to service clients by the `client_credentials` grant: no citizen,
//! no refresh token. Only the SHA-256 (hex) of each token value is kept.

use chrono::{DateTime, Utc};

/// A service access token as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceToken {
    /// SHA-256 (hex) of the token value.
    pub token_hash: String,
    /// The service client it was issued to.
    pub client_id: String,
    /// Granted scope, space separated (may be empty).
    pub scope: String,
    /// When it was issued.
    pub issued_at: DateTime<Utc>,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
    /// When it was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ServiceToken {
    /// Not revoked and not expired at `now`.
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && now < self.expires_at
    }
}
