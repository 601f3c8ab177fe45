//! One relying-party model for OIDC clients and SAML service providers alike. The core only
//! needs what is common (id, name, minimum level, services, attribute release, logout); the
//! protocol layers keep their own settings in [`ProtocolSettings`], stored as JSON so that
//! each protocol can grow without touching the others.

use super::level::LevelOfAssurance;
use serde::{Deserialize, Serialize};

/// A service offered by a relying party that needs its own minimum level ("Cambio de lugar de
/// cobro" needs high while the rest of the e-office accepts substantial).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NamedService {
    /// Short stable name the relying party sends (e.g. as a scope or requested attribute).
    pub name: String,
    /// Human-readable name.
    #[serde(default)]
    pub display_name: String,
    /// Minimum level to enter this service.
    pub min_level: LevelOfAssurance,
}

/// Protocol-specific settings. The OIDC and SAML layers own these shapes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "protocol", rename_all = "snake_case")]
pub enum ProtocolSettings {
    /// An OpenID Connect client.
    Oidc(serde_json::Value),
    /// A SAML 2.0 service provider.
    Saml(serde_json::Value),
}

impl ProtocolSettings {
    /// `oidc` or `saml`.
    pub fn protocol(&self) -> &'static str {
        match self {
            Self::Oidc(_) => "oidc",
            Self::Saml(_) => "saml",
        }
    }
}

/// Where and how a relying party wants to hear that a session ended.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogoutEndpoints {
    /// OIDC back-channel logout URI.
    #[serde(default)]
    pub backchannel_uri: Option<String>,
    /// OIDC front-channel logout URI.
    #[serde(default)]
    pub frontchannel_uri: Option<String>,
    /// OIDC post-logout redirect URIs (exact match).
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    /// SAML SingleLogoutService locations as (binding URI, location).
    #[serde(default)]
    pub saml_slo: Vec<(String, String)>,
}

/// A relying service: an OIDC client or a SAML SP.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RelyingParty {
    /// OIDC `client_id` or SAML entityID.
    pub id: String,
    /// Name shown to citizens.
    pub display_name: String,
    /// Never assert below this level to this relying party.
    pub min_level: LevelOfAssurance,
    /// Services with their own minimum.
    pub services: Vec<NamedService>,
    /// Attributes / claims this relying party may receive (e.g. `given_name`, `email`).
    pub attribute_release: Vec<String>,
    /// Logout endpoints.
    pub logout: LogoutEndpoints,
    /// Protocol-specific settings.
    pub settings: ProtocolSettings,
    /// Whether this relying party is enabled.
    pub enabled: bool,
}

impl RelyingParty {
    /// The level needed to enter `service` (or the relying party itself when `None` or
    /// unknown): never below the relying party's own minimum.
    pub fn required_level(&self, service: Option<&str>) -> LevelOfAssurance {
        service
            .and_then(|name| self.services.iter().find(|s| s.name == name))
            .map(|s| s.min_level.max(self.min_level))
            .unwrap_or(self.min_level)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use LevelOfAssurance::*;

    #[test]
    fn service_minimum_never_lowers_the_relying_party_minimum() {
        let rp = RelyingParty {
            id: "eoffice".into(),
            display_name: "Sede".into(),
            min_level: Substantial,
            services: vec![
                NamedService {
                    name: "cobro".into(),
                    display_name: String::new(),
                    min_level: High,
                },
                NamedService {
                    name: "info".into(),
                    display_name: String::new(),
                    min_level: Low,
                },
            ],
            attribute_release: vec![],
            logout: LogoutEndpoints::default(),
            settings: ProtocolSettings::Oidc(serde_json::json!({})),
            enabled: true,
        };
        assert_eq!(rp.required_level(Some("cobro")), High);
        assert_eq!(rp.required_level(Some("info")), Substantial);
        assert_eq!(rp.required_level(None), Substantial);
        assert_eq!(rp.required_level(Some("unknown")), Substantial);
    }
}
