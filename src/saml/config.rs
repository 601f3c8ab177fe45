//! The `[saml]` table of the configuration.

use serde::{Deserialize, Serialize};

/// SAML 2.0 identity provider settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SamlConfig {
    /// Seconds an AuthnRequest's IssueInstant may lie in the past (and the replay cache keeps
    /// its ID).
    pub request_max_age_secs: u32,
    /// Seconds of clock difference tolerated with service providers.
    pub clock_skew_secs: u32,
    /// Seconds an assertion may be presented (SubjectConfirmationData and Conditions).
    pub assertion_lifetime_secs: u32,
    /// Largest SAML message accepted, in bytes, after base64 decoding and after inflating.
    pub max_message_bytes: usize,
    /// Hours the published metadata is valid (`validUntil`).
    pub metadata_valid_hours: u32,
    /// The eIDAS PersonIdentifier: `{identifier}` is replaced by the citizen's identifier.
    pub person_identifier_pattern: String,
}

impl Default for SamlConfig {
    fn default() -> Self {
        Self {
            request_max_age_secs: 300,
            clock_skew_secs: 60,
            assertion_lifetime_secs: 300,
            max_message_bytes: 65_536,
            metadata_valid_hours: 168,
            person_identifier_pattern: "ES/ES/{identifier}".into(),
        }
    }
}
