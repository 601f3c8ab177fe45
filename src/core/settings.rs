//! The core's own settings that have no other home: `[citizens]` (registration and activation
//! rules) and `[levels]` (how levels of assurance are reached and named), each with the
//! validation that names its TOML key. The other core sections live beside their concern:
//! [`crate::core::keys::KeysConfig`], [`crate::core::credentials::CredentialsConfig`],
//! [`crate::core::session::SessionConfig`], [`crate::core::login::LoginPolicy`],
//! [`crate::core::otp::OtpPolicy`] and the gateways in [`crate::core::notify`].

use crate::core::level::{
    AuthMethod, LevelOfAssurance, LevelPolicy, LevelVocabulary, MethodRule, ProofingLevel,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// `[citizens]`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct CitizensConfig {
    /// Region (ISO 3166 alpha-2) used to read phone numbers typed without `+`.
    pub default_region: String,
    /// Days an activation code stays valid.
    pub activation_code_days: u32,
    /// Wrong attempts allowed on an activation code; the next one blocks it.
    pub max_code_failures: u32,
    /// Version of the security policy citizens accept during activation; recorded with each
    /// acceptance, so a new wording gets a new version.
    pub security_policy_version: String,
}

impl Default for CitizensConfig {
    fn default() -> Self {
        Self {
            default_region: "ES".into(),
            activation_code_days: 30,
            max_code_failures: 5,
            security_policy_version: "2026-1".into(),
        }
    }
}

impl CitizensConfig {
    /// Checks the section; the error names the key and why.
    pub fn validate(&self) -> Result<(), String> {
        if self
            .default_region
            .parse::<phonenumber::country::Id>()
            .is_err()
        {
            return Err(format!(
                "citizens.default_region: '{}' is not an ISO 3166 region code",
                self.default_region
            ));
        }
        if self.activation_code_days == 0 {
            return Err("citizens.activation_code_days: must be at least 1".into());
        }
        if self.security_policy_version.trim().is_empty() {
            return Err(
                "citizens.security_policy_version: must not be empty: every \
                        acceptance is recorded with it"
                    .into(),
            );
        }
        Ok(())
    }
}

/// `[levels]`: how levels of assurance are reached and named.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct LevelsConfig {
    /// Highest level each proofing level allows.
    pub proofing: BTreeMap<ProofingLevel, LevelOfAssurance>,
    /// Method-strength table.
    pub methods: Vec<MethodRule>,
    /// OIDC `acr` value per level.
    pub acr: BTreeMap<LevelOfAssurance, AcrName>,
    /// SAML `AuthnContextClassRef` per level.
    pub saml: BTreeMap<LevelOfAssurance, String>,
}

/// The `acr` value asserted for a level and the aliases accepted in requests.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AcrName {
    /// Value asserted in ID tokens.
    pub value: String,
    /// Other values accepted in `acr_values` and the `claims` parameter.
    #[serde(default)]
    pub aliases: Vec<String>,
}

impl Default for LevelsConfig {
    fn default() -> Self {
        let policy = LevelPolicy::default();
        let vocab = LevelVocabulary::default();
        Self {
            proofing: policy.proofing.into_iter().collect(),
            methods: policy.methods,
            acr: vocab
                .oidc
                .into_iter()
                .map(|(l, value, aliases)| (l, AcrName { value, aliases }))
                .collect(),
            saml: vocab.saml.into_iter().collect(),
        }
    }
}

impl LevelsConfig {
    /// The policy the core applies.
    pub fn policy(&self) -> LevelPolicy {
        LevelPolicy {
            proofing: self.proofing.iter().map(|(p, l)| (*p, *l)).collect(),
            methods: self.methods.clone(),
        }
    }

    /// The names of the levels on the wire.
    pub fn vocabulary(&self) -> LevelVocabulary {
        LevelVocabulary {
            oidc: self
                .acr
                .iter()
                .map(|(l, n)| (*l, n.value.clone(), n.aliases.clone()))
                .collect(),
            saml: self.saml.iter().map(|(l, u)| (*l, u.clone())).collect(),
        }
    }

    /// Checks the section: every proofing level and every level is named, the method table
    /// is not empty, and no `acr` value is used twice. The error names the key and why.
    pub fn validate(&self) -> Result<(), String> {
        for p in ProofingLevel::ALL {
            if !self.proofing.contains_key(&p) {
                return Err(format!(
                    "levels.proofing: no level given for proofing level '{p}'"
                ));
            }
        }
        if self.methods.is_empty() {
            return Err("levels.methods: the method table is empty".into());
        }
        if let Some(r) = self.methods.iter().find(|r| r.methods.is_empty()) {
            return Err(format!(
                "levels.methods: a rule for level '{}' lists no methods",
                r.level
            ));
        }
        let mut seen = BTreeMap::new();
        for level in LevelOfAssurance::ALL {
            let Some(name) = self.acr.get(&level) else {
                return Err(format!("levels.acr.{level}: missing"));
            };
            for v in std::iter::once(&name.value).chain(&name.aliases) {
                if v.trim().is_empty() {
                    return Err(format!("levels.acr.{level}: an acr value is empty"));
                }
                if let Some(other) = seen.insert(v.clone(), level) {
                    return Err(format!(
                        "levels.acr.{level}: '{v}' is already used by level '{other}'"
                    ));
                }
            }
            if !self.saml.contains_key(&level) {
                return Err(format!("levels.saml.{level}: missing"));
            }
        }
        Ok(())
    }
}

/// Methods listed in the default table, for documentation and tests.
pub fn known_methods() -> [AuthMethod; 4] {
    [
        AuthMethod::Pwd,
        AuthMethod::Sms,
        AuthMethod::Otp,
        AuthMethod::Hwk,
    ]
}
