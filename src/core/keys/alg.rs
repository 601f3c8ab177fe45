//! JOSE signature algorithms and the key families that serve them.

use crate::core::CoreError;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A JWS signature algorithm this provider can produce. The default, RS256, is the one
/// every OIDC client must accept.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum JwsAlg {
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    #[default]
    RS256,
    /// RSASSA-PSS with SHA-256, MGF1-SHA-256 and a 32-byte salt.
    PS256,
    /// ECDSA on P-256 with SHA-256, signature in the raw 64-byte `r || s` form.
    ES256,
}

impl JwsAlg {
    /// Every supported algorithm, in the order discovery documents list them.
    pub const ALL: [JwsAlg; 3] = [JwsAlg::RS256, JwsAlg::PS256, JwsAlg::ES256];

    /// The JOSE name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RS256 => "RS256",
            Self::PS256 => "PS256",
            Self::ES256 => "ES256",
        }
    }

    /// The family of key that produces this algorithm.
    pub fn family(self) -> KeyFamily {
        match self {
            Self::RS256 | Self::PS256 => KeyFamily::Rsa,
            Self::ES256 => KeyFamily::Ec,
        }
    }
}

impl fmt::Display for JwsAlg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for JwsAlg {
    type Err = CoreError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "RS256" => Ok(Self::RS256),
            "PS256" => Ok(Self::PS256),
            "ES256" => Ok(Self::ES256),
            other => Err(CoreError::Invalid(format!(
                "unsupported signature algorithm '{other}'"
            ))),
        }
    }
}

/// A kind of key. One RSA key serves both RS256 and PS256, so keys are managed (generated,
/// rotated, made active) per family rather than per algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyFamily {
    /// RSA keys (stored with alg `RS256`).
    Rsa,
    /// P-256 elliptic-curve keys (stored with alg `ES256`).
    Ec,
}

impl KeyFamily {
    /// Both families.
    pub const ALL: [KeyFamily; 2] = [KeyFamily::Rsa, KeyFamily::Ec];

    /// The `alg` column value in [`crate::store::StoredKey`].
    pub fn stored_alg(self) -> &'static str {
        match self {
            Self::Rsa => "RS256",
            Self::Ec => "ES256",
        }
    }

    /// The family of a stored key's `alg` column.
    pub fn from_stored_alg(alg: &str) -> Result<Self, CoreError> {
        match alg {
            "RS256" => Ok(Self::Rsa),
            "ES256" => Ok(Self::Ec),
            other => Err(CoreError::Invalid(format!(
                "unknown stored key algorithm '{other}'"
            ))),
        }
    }

    /// A short lowercase name (`rsa`, `ec`), as used on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rsa => "rsa",
            Self::Ec => "ec",
        }
    }
}

impl fmt::Display for KeyFamily {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for KeyFamily {
    type Err = CoreError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "rsa" | "rs256" | "ps256" => Ok(Self::Rsa),
            "ec" | "es256" | "p-256" => Ok(Self::Ec),
            other => Err(CoreError::Invalid(format!("unknown key family '{other}'"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for alg in JwsAlg::ALL {
            assert_eq!(alg.as_str().parse::<JwsAlg>().unwrap(), alg);
            assert_eq!(
                serde_json::to_value(alg).unwrap(),
                serde_json::json!(alg.as_str())
            );
        }
        assert!("HS256".parse::<JwsAlg>().is_err());
        for f in KeyFamily::ALL {
            assert_eq!(KeyFamily::from_stored_alg(f.stored_alg()).unwrap(), f);
            assert_eq!(f.as_str().parse::<KeyFamily>().unwrap(), f);
        }
        assert_eq!(JwsAlg::PS256.family(), KeyFamily::Rsa);
    }
}
