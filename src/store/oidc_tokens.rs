//! Durable storage of OAuth tokens issued by the OpenID Provider: access tokens and refresh
//! tokens, each kept only as the SHA-256 of its value. Every token belongs to a *grant* (the
//! family of tokens issued from one authorization code), so that a replayed code or a reused
//! refresh token revokes the whole family at once.

use super::StoreError;
use crate::core::citizen::CitizenId;
use crate::core::level::LevelOfAssurance;
use crate::core::session::SessionId;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Access or refresh token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    /// A bearer access token for userinfo.
    Access,
    /// A refresh token (single use: each refresh rotates it).
    Refresh,
}

impl TokenKind {
    /// Storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Access => "access",
            Self::Refresh => "refresh",
        }
    }
}

/// What the tokens of one grant assert: the facts of the original authentication, which a
/// refresh keeps unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantFacts {
    /// The SSO session the grant came from (`sid`).
    pub session_id: SessionId,
    /// Granted scope, space separated.
    pub scope: String,
    /// When the citizen authenticated.
    pub auth_time: DateTime<Utc>,
    /// The level achieved then.
    pub level: LevelOfAssurance,
    /// RFC 8176 method references.
    pub amr: Vec<String>,
    /// Claims asked for by name with the `claims` request parameter (OIDC Core §5.5).
    #[serde(default)]
    pub claims: RequestedClaims,
}

/// The claim names a `claims` request parameter asked for, per destination.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestedClaims {
    /// Claims to put in the ID token.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub id_token: Vec<String>,
    /// Claims to return from userinfo.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub userinfo: Vec<String>,
}

/// A token as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    /// SHA-256 (hex) of the token value.
    pub token_hash: String,
    /// Access or refresh.
    pub kind: TokenKind,
    /// The family: every token issued from one authorization code.
    pub grant_id: String,
    /// The client it was issued to.
    pub client_id: String,
    /// The citizen it speaks for.
    pub citizen_id: CitizenId,
    /// The facts it asserts.
    pub facts: GrantFacts,
    /// When it was issued.
    pub issued_at: DateTime<Utc>,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
    /// For refresh tokens: when it was exchanged (rotated).
    pub used_at: Option<DateTime<Utc>>,
    /// When it was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl TokenRecord {
    /// Not revoked and not expired at `now` (a used refresh token is still "live" here; the
    /// caller decides what reuse means).
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && now < self.expires_at
    }
}

/// Storage of OAuth tokens. Instants are kept to the microsecond.
#[async_trait]
pub trait OidcTokenStore: Send + Sync + 'static {
    /// Inserts a token. `Conflict` on a duplicate hash; `NotFound` if the citizen is unknown.
    async fn insert_token(&self, token: &TokenRecord) -> Result<(), StoreError>;

    /// The token whose value hashes to `token_hash`, whatever its state.
    async fn token(&self, token_hash: &str) -> Result<Option<TokenRecord>, StoreError>;

    /// Marks a refresh token used at `now`, atomically: `true` for exactly one caller, and
    /// `false` if it was already used or revoked (or does not exist).
    async fn use_refresh_token(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// Revokes every not yet revoked token of the grant; returns how many.
    async fn revoke_grant(&self, grant_id: &str, now: DateTime<Utc>) -> Result<u64, StoreError>;

    /// Revokes every not yet revoked token issued in an SSO session; returns how many.
    async fn revoke_session_tokens(
        &self,
        session: &SessionId,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError>;
}
