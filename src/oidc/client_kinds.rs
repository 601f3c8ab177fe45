//! The closed vocabularies of an OIDC client's registration: how it authenticates at the
//! token endpoint, which grants it may use and which kind of subject it receives.

use crate::core::CoreError;
use serde::{Deserialize, Serialize};

/// How a client authenticates at the token endpoint.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientAuthMethod {
    /// HTTP Basic with the client id and secret.
    #[default]
    ClientSecretBasic,
    /// `client_id` and `client_secret` in the form body.
    ClientSecretPost,
    /// A JWT signed with one of the client's registered keys (RFC 7523, OIDC Core §9).
    PrivateKeyJwt,
    /// A public client (no secret): PKCE is required.
    None,
}

impl ClientAuthMethod {
    /// Every method, as listed in discovery.
    pub const ALL: [ClientAuthMethod; 4] = [
        ClientAuthMethod::ClientSecretBasic,
        ClientAuthMethod::ClientSecretPost,
        ClientAuthMethod::PrivateKeyJwt,
        ClientAuthMethod::None,
    ];

    /// The registered name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ClientSecretBasic => "client_secret_basic",
            Self::ClientSecretPost => "client_secret_post",
            Self::PrivateKeyJwt => "private_key_jwt",
            Self::None => "none",
        }
    }
}

impl std::str::FromStr for ClientAuthMethod {
    type Err = CoreError;
    fn from_str(s: &str) -> Result<Self, CoreError> {
        Self::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| CoreError::Invalid(format!("unsupported client auth method '{s}'")))
    }
}

/// A grant type a client may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GrantType {
    /// The authorization code grant.
    AuthorizationCode,
    /// Refresh tokens (with rotation).
    RefreshToken,
    /// Tokens for the client itself (a service, no citizen).
    ClientCredentials,
    /// ID tokens or access tokens straight from the authorization endpoint (`response_type`
    /// `id_token`, `id_token token`, `code id_token`, `code token`, `code id_token token`);
    /// only for clients registered for it. Alone, an implicit-only client (no code).
    Implicit,
}

impl GrantType {
    /// Every grant, as listed in discovery.
    pub const ALL: [GrantType; 4] = [
        GrantType::AuthorizationCode,
        GrantType::RefreshToken,
        GrantType::ClientCredentials,
        GrantType::Implicit,
    ];

    /// The registered name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AuthorizationCode => "authorization_code",
            Self::RefreshToken => "refresh_token",
            Self::ClientCredentials => "client_credentials",
            Self::Implicit => "implicit",
        }
    }
}

impl std::str::FromStr for GrantType {
    type Err = CoreError;
    fn from_str(s: &str) -> Result<Self, CoreError> {
        Self::ALL
            .into_iter()
            .find(|g| g.as_str() == s)
            .ok_or_else(|| CoreError::Invalid(format!("unsupported grant type '{s}'")))
    }
}

/// How `sub` is made for a client.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubjectType {
    /// The citizen's internal id, the same for every client.
    #[default]
    Public,
    /// Per sector identifier: a keyed hash of the citizen and the sector's host, so clients
    /// of different sectors cannot correlate citizens.
    Pairwise,
}

impl SubjectType {
    /// The registered name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Pairwise => "pairwise",
        }
    }
}
