//! The `[saml]` table of the configuration.

use super::sp::SpType;
use crate::core::level::{AuthMethod, LevelOfAssurance};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The Cl@ve identity providers an SP may exclude (the suffix of their requested attribute
/// `http://es.minhafp.clave/<name>`).
pub const CLAVE_IDPS: [&str; 5] = ["AFirmaIdP", "GISSIdP", "AEATIdP", "CLVMOVILIdP", "EIDASIdP"];

/// The signature algorithm of an SP's responses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum SigningAlg {
    /// RSA-SHA256.
    #[default]
    #[serde(rename = "rsa-sha256")]
    RsaSha256,
    /// ECDSA-SHA256.
    #[serde(rename = "ecdsa-sha256")]
    EcdsaSha256,
}

/// A service provider registered from the configuration (`[[saml.service_providers]]`):
/// its metadata file plus what `admin sp add` takes. Upserted at every start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfiguredSp {
    /// Path of the SP's metadata (an EntityDescriptor with an SPSSODescriptor).
    pub metadata_file: PathBuf,
    /// Never assert below this level to this SP.
    #[serde(default = "default_min_level")]
    pub min_level: LevelOfAssurance,
    /// Attributes released (eIDAS friendly names; empty: the natural-person minimum set).
    #[serde(default)]
    pub attributes: Vec<String>,
    /// NameID format when the request names none (default: the metadata's first known one).
    #[serde(default)]
    pub name_id_format: Option<String>,
    /// Encrypt assertions to the SP's encryption certificate.
    #[serde(default)]
    pub encrypt: bool,
    /// eIDAS SP type.
    #[serde(default)]
    pub sp_type: SpType,
    /// Signature algorithm of responses and assertions.
    #[serde(default)]
    pub signing_alg: SigningAlg,
    /// Name shown to citizens (empty: the entityID).
    #[serde(default)]
    pub display_name: String,
}

fn default_min_level() -> LevelOfAssurance {
    LevelOfAssurance::Substantial
}

/// The default Cl@ve table: which of pasarela's second-factor methods each Cl@ve identity
/// provider stands for. Excluding an IdP removes its methods from the login.
pub fn default_clave_idp_methods() -> BTreeMap<String, Vec<AuthMethod>> {
    BTreeMap::from([
        // Certificate / DNIe: pasarela has no certificate login yet.
        ("AFirmaIdP".to_owned(), vec![AuthMethod::Hwk]),
        // Cl@ve permanente: password + SMS code.
        ("GISSIdP".to_owned(), vec![AuthMethod::Sms]),
        // Cl@ve PIN (AEAT): no pasarela method.
        ("AEATIdP".to_owned(), vec![]),
        // Cl@ve móvil: the authenticator app (TOTP).
        ("CLVMOVILIdP".to_owned(), vec![AuthMethod::Otp]),
        // Foreign eIDAS nodes: no pasarela method.
        ("EIDASIdP".to_owned(), vec![]),
    ])
}

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
    /// Cl@ve: the pasarela methods each excludable identity provider stands for.
    pub clave_idp_methods: BTreeMap<String, Vec<AuthMethod>>,
    /// Service providers registered from the configuration.
    pub service_providers: Vec<ConfiguredSp>,
}

impl SamlConfig {
    /// Checks what serde cannot: the Cl@ve table names known IdPs only.
    pub fn validate(&self) -> Result<(), String> {
        for name in self.clave_idp_methods.keys() {
            if !CLAVE_IDPS.contains(&name.as_str()) {
                return Err(format!(
                    "saml.clave_idp_methods.{name}: not a Cl@ve identity provider (expected one of {})",
                    CLAVE_IDPS.join(", ")
                ));
            }
        }
        for (n, sp) in self.service_providers.iter().enumerate() {
            if let Some(f) = &sp.name_id_format
                && ![
                    super::sp::NAMEID_PERSISTENT,
                    super::sp::NAMEID_TRANSIENT,
                    super::sp::NAMEID_UNSPECIFIED,
                ]
                .contains(&f.as_str())
            {
                return Err(format!(
                    "saml.service_providers[{n}].name_id_format: '{f}' is not offered"
                ));
            }
        }
        Ok(())
    }

    /// The methods that remain for a login when the Cl@ve identity providers `excluded`
    /// (full attribute names or bare IdP names) are excluded: `None` when nothing is
    /// excluded (no restriction).
    pub fn allowed_methods(&self, excluded: &[&str]) -> Option<Vec<AuthMethod>> {
        if excluded.is_empty() {
            return None;
        }
        let mut removed = Vec::new();
        for e in excluded {
            let name = e.rsplit('/').next().unwrap_or(e);
            if let Some(m) = self.clave_idp_methods.get(name) {
                removed.extend(m.iter().copied());
            }
        }
        Some(
            [AuthMethod::Sms, AuthMethod::Otp, AuthMethod::Hwk]
                .into_iter()
                .filter(|m| !removed.contains(m))
                .collect(),
        )
    }
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
            clave_idp_methods: default_clave_idp_methods(),
            service_providers: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excluding_cl_ave_idps_removes_their_methods() {
        let c = SamlConfig::default();
        assert_eq!(c.allowed_methods(&[]), None);
        let all = vec![AuthMethod::Sms, AuthMethod::Otp, AuthMethod::Hwk];
        assert_eq!(
            c.allowed_methods(&["http://es.minhafp.clave/AEATIdP"]),
            Some(all)
        );
        assert_eq!(
            c.allowed_methods(&["http://es.minhafp.clave/GISSIdP"]),
            Some(vec![AuthMethod::Otp, AuthMethod::Hwk])
        );
        assert_eq!(
            c.allowed_methods(&[
                "http://es.minhafp.clave/GISSIdP",
                "http://es.minhafp.clave/CLVMOVILIdP",
                "http://es.minhafp.clave/AFirmaIdP",
            ]),
            Some(vec![])
        );
    }

    #[test]
    fn the_table_and_configured_sps_are_read_and_checked() {
        let c: SamlConfig = toml::from_str(
            r#"
clave_idp_methods = { GISSIdP = ["sms", "otp"] }
[[service_providers]]
metadata_file = "/etc/pasarela/sp.xml"
min_level = "low"
attributes = ["PersonIdentifier"]
name_id_format = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"
encrypt = true
sp_type = "private"
signing_alg = "ecdsa-sha256"
"#,
        )
        .unwrap();
        assert!(c.validate().is_ok());
        assert_eq!(c.clave_idp_methods.len(), 1);
        let sp = &c.service_providers[0];
        assert_eq!(sp.min_level, LevelOfAssurance::Low);
        assert_eq!(sp.signing_alg, SigningAlg::EcdsaSha256);
        assert_eq!(sp.sp_type, SpType::Private);
        assert!(sp.encrypt);
        let bad: SamlConfig = toml::from_str("clave_idp_methods = { FooIdP = [] }").unwrap();
        assert!(bad.validate().unwrap_err().contains("FooIdP"));
        let bad: SamlConfig = toml::from_str(
            "[[service_providers]]\nmetadata_file = \"x\"\nname_id_format = \"urn:x\"",
        )
        .unwrap();
        assert!(bad.validate().is_err());
        assert!(
            toml::from_str::<SamlConfig>("[[service_providers]]\nmetadata_file = \"x\"\nextra = 1")
                .is_err()
        );
    }
}
