//! Levels of assurance, how identity was proofed, authentication methods, and the policy that
//! combines them: achieved level = min(proofing level of the account, strength of the methods
//! used in this session).

use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

/// An eIDAS-style level of assurance. The order is meaningful: `Low < Substantial < High`.
/// The default is `Low`, the level that asks nothing beyond a password.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum LevelOfAssurance {
    /// eIDAS "low": e.g. a password alone.
    #[default]
    Low,
    /// eIDAS "substantial": e.g. a password plus an SMS code or TOTP.
    Substantial,
    /// eIDAS "high": in-person (or certificate) proofing and a method rated high.
    High,
}

impl LevelOfAssurance {
    /// Every level, lowest first.
    pub const ALL: [LevelOfAssurance; 3] = [Self::Low, Self::Substantial, Self::High];

    /// The stable name used in configuration, storage and the CLI.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Substantial => "substantial",
            Self::High => "high",
        }
    }

    /// The eIDAS URI (`http://eidas.europa.eu/LoA/...`) for this level.
    pub fn eidas_uri(self) -> &'static str {
        match self {
            Self::Low => "http://eidas.europa.eu/LoA/low",
            Self::Substantial => "http://eidas.europa.eu/LoA/substantial",
            Self::High => "http://eidas.europa.eu/LoA/high",
        }
    }
}

impl fmt::Display for LevelOfAssurance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for LevelOfAssurance {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "low" => Ok(Self::Low),
            "substantial" => Ok(Self::Substantial),
            "high" => Ok(Self::High),
            other => Err(format!(
                "unknown level '{other}': expected low, substantial or high"
            )),
        }
    }
}

/// How a citizen's identity was verified when the credential was issued. Ordered from the
/// weakest to the strongest evidence:
///
/// 1. `online` — online checks only: the DNI "trámite" number or identity questions built
///    from recorded facts (ANSES "nivel 2").
/// 2. `letter` — an invitation letter with a secure verification code (CSV) sent to the
///    registered postal address.
/// 3. `certificate` — online registration signed with a qualified certificate or DNIe.
/// 4. `in_person` — the citizen showed their document at a registry office.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProofingLevel {
    /// Online questions or the DNI trámite number.
    Online,
    /// Invitation letter with a CSV code.
    Letter,
    /// Qualified electronic certificate or DNIe.
    Certificate,
    /// In person at a registry office.
    InPerson,
}

impl ProofingLevel {
    /// Every proofing level, weakest first.
    pub const ALL: [ProofingLevel; 4] = [
        Self::Online,
        Self::Letter,
        Self::Certificate,
        Self::InPerson,
    ];

    /// The stable name used in configuration, storage and the CLI.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Online => "online",
            Self::Letter => "letter",
            Self::Certificate => "certificate",
            Self::InPerson => "in_person",
        }
    }
}

impl fmt::Display for ProofingLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ProofingLevel {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().replace('-', "_").as_str() {
            "online" => Ok(Self::Online),
            "letter" => Ok(Self::Letter),
            "certificate" => Ok(Self::Certificate),
            "in_person" => Ok(Self::InPerson),
            other => Err(format!(
                "unknown proofing level '{other}': expected online, letter, certificate or in_person"
            )),
        }
    }
}

/// An authentication method a citizen can use in a session. The names are RFC 8176 `amr`
/// values where one exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthMethod {
    /// Something the citizen knows (`pwd`).
    Pwd,
    /// A one-time code sent by SMS (`sms`).
    Sms,
    /// A time-based one-time password from an enrolled app (`otp`).
    Otp,
    /// An electronic certificate or DNIe (`hwk`: proof of possession of a hardware key).
    Hwk,
}

impl AuthMethod {
    /// The RFC 8176 `amr` value.
    pub fn amr(self) -> &'static str {
        match self {
            Self::Pwd => "pwd",
            Self::Sms => "sms",
            Self::Otp => "otp",
            Self::Hwk => "hwk",
        }
    }
}

impl FromStr for AuthMethod {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "pwd" | "password" => Ok(Self::Pwd),
            "sms" => Ok(Self::Sms),
            "otp" | "totp" => Ok(Self::Otp),
            "hwk" | "certificate" => Ok(Self::Hwk),
            other => Err(format!(
                "unknown authentication method '{other}': expected pwd, sms, otp or hwk"
            )),
        }
    }
}

/// One row of the method-strength table: using at least these methods in a session reaches
/// `level`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MethodRule {
    /// The methods that must all have been used.
    pub methods: BTreeSet<AuthMethod>,
    /// The level they reach together.
    pub level: LevelOfAssurance,
}

/// How proofing levels and authentication methods turn into a level of assurance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LevelPolicy {
    /// The highest level each proofing level allows.
    pub proofing: Vec<(ProofingLevel, LevelOfAssurance)>,
    /// The method-strength table.
    pub methods: Vec<MethodRule>,
}

impl Default for LevelPolicy {
    /// Defaults in the spirit of eIDAS: a password alone is low; a password with an SMS code or
    /// TOTP is substantial; high needs a certificate (or a method rated high in config). Online
    /// proofing and letters cap the account at substantial; in-person and certificate proofing
    /// allow high.
    fn default() -> Self {
        use AuthMethod::*;
        use LevelOfAssurance::*;
        Self {
            proofing: vec![
                (ProofingLevel::Online, Substantial),
                (ProofingLevel::Letter, Substantial),
                (ProofingLevel::Certificate, High),
                (ProofingLevel::InPerson, High),
            ],
            methods: vec![
                MethodRule {
                    methods: [Pwd].into(),
                    level: Low,
                },
                MethodRule {
                    methods: [Pwd, Sms].into(),
                    level: Substantial,
                },
                MethodRule {
                    methods: [Pwd, Otp].into(),
                    level: Substantial,
                },
                MethodRule {
                    methods: [Hwk].into(),
                    level: High,
                },
            ],
        }
    }
}

impl LevelPolicy {
    /// The highest level an account proofed this way may ever assert (`None`: no level).
    pub fn proofing_cap(&self, proofing: ProofingLevel) -> Option<LevelOfAssurance> {
        self.proofing
            .iter()
            .filter(|(p, _)| *p == proofing)
            .map(|(_, l)| *l)
            .max()
    }

    /// The strength of a set of methods used together: the highest level of any rule whose
    /// methods were all used (`None`: no rule is satisfied).
    pub fn method_strength(&self, used: &BTreeSet<AuthMethod>) -> Option<LevelOfAssurance> {
        self.methods
            .iter()
            .filter(|r| r.methods.is_subset(used))
            .map(|r| r.level)
            .max()
    }

    /// The level achieved: min(proofing cap, method strength). `None` when either gives none.
    pub fn achieved(
        &self,
        proofing: ProofingLevel,
        used: &BTreeSet<AuthMethod>,
    ) -> Option<LevelOfAssurance> {
        Some(
            self.proofing_cap(proofing)?
                .min(self.method_strength(used)?),
        )
    }

    /// The smallest sets of methods that reach at least `target` (for step-up: what to ask for).
    pub fn rules_reaching(&self, target: LevelOfAssurance) -> impl Iterator<Item = &MethodRule> {
        self.methods.iter().filter(move |r| r.level >= target)
    }

    /// What a citizen proofed `proofing`, who has used `used` in this session and could still
    /// use `available`, must do to reach `target`: nothing, add the fewest further methods
    /// (ties go to the rule listed first), or nothing they can do here (and why).
    pub fn step_up(
        &self,
        proofing: ProofingLevel,
        used: &BTreeSet<AuthMethod>,
        available: &BTreeSet<AuthMethod>,
        target: LevelOfAssurance,
    ) -> StepUp {
        if self.achieved(proofing, used).is_some_and(|l| l >= target) {
            return StepUp::Reached;
        }
        if self.proofing_cap(proofing).is_none_or(|cap| cap < target) {
            return StepUp::ProofingTooLow;
        }
        self.rules_reaching(target)
            .filter(|r| {
                r.methods
                    .iter()
                    .all(|m| used.contains(m) || available.contains(m))
            })
            .map(|r| r.methods.difference(used).copied().collect::<BTreeSet<_>>())
            .min_by_key(BTreeSet::len)
            .map_or(StepUp::NoMethod, StepUp::Add)
    }
}

/// The answer of [`LevelPolicy::step_up`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepUp {
    /// The methods used already reach the level.
    Reached,
    /// Using these methods as well reaches it.
    Add(BTreeSet<AuthMethod>),
    /// The account's proofing never allows it: the citizen must have their identity checked
    /// again (in person, or with a certificate) first.
    ProofingTooLow,
    /// No combination of the methods the citizen has reaches it (e.g. a certificate is needed).
    NoMethod,
}

/// The names each level has on the wire: `acr` values for OIDC (the first is the one asserted,
/// the rest are accepted aliases) and the `AuthnContextClassRef` URI for SAML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LevelVocabulary {
    /// (level, acr value asserted, accepted aliases)
    pub oidc: Vec<(LevelOfAssurance, String, Vec<String>)>,
    /// (level, SAML AuthnContextClassRef URI)
    pub saml: Vec<(LevelOfAssurance, String)>,
}

impl Default for LevelVocabulary {
    /// eIDAS URIs for both protocols, with the bare names `low`, `substantial`, `high` accepted
    /// as OIDC aliases.
    fn default() -> Self {
        Self {
            oidc: LevelOfAssurance::ALL
                .iter()
                .map(|l| (*l, l.eidas_uri().to_owned(), vec![l.as_str().to_owned()]))
                .collect(),
            saml: LevelOfAssurance::ALL
                .iter()
                .map(|l| (*l, l.eidas_uri().to_owned()))
                .collect(),
        }
    }
}

impl LevelVocabulary {
    /// The `acr` value asserted for `level`.
    pub fn acr(&self, level: LevelOfAssurance) -> Option<&str> {
        self.oidc
            .iter()
            .find(|(l, _, _)| *l == level)
            .map(|(_, v, _)| v.as_str())
    }

    /// The level an `acr` value (or alias) names.
    pub fn level_for_acr(&self, acr: &str) -> Option<LevelOfAssurance> {
        self.oidc
            .iter()
            .find(|(_, v, aliases)| v == acr || aliases.iter().any(|a| a == acr))
            .map(|(l, _, _)| *l)
    }

    /// Every `acr` value asserted, lowest level first (for `acr_values_supported`).
    pub fn acr_values(&self) -> Vec<&str> {
        let mut v: Vec<_> = self.oidc.iter().collect();
        v.sort_by_key(|(l, _, _)| *l);
        v.into_iter().map(|(_, a, _)| a.as_str()).collect()
    }

    /// The SAML `AuthnContextClassRef` for `level`.
    pub fn saml_uri(&self, level: LevelOfAssurance) -> Option<&str> {
        self.saml
            .iter()
            .find(|(l, _)| *l == level)
            .map(|(_, v)| v.as_str())
    }

    /// The level a SAML `AuthnContextClassRef` names.
    pub fn level_for_saml_uri(&self, uri: &str) -> Option<LevelOfAssurance> {
        self.saml.iter().find(|(_, v)| v == uri).map(|(l, _)| *l)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use AuthMethod::*;
    use LevelOfAssurance::*;

    #[test]
    fn levels_are_ordered() {
        assert!(Low < Substantial && Substantial < High);
        assert!(ProofingLevel::Online < ProofingLevel::InPerson);
        assert_eq!("High".parse::<LevelOfAssurance>(), Ok(High));
        assert!(
            "medium"
                .parse::<LevelOfAssurance>()
                .unwrap_err()
                .contains("medium")
        );
    }

    #[test]
    fn achieved_level_is_the_minimum_of_proofing_and_methods() {
        let p = LevelPolicy::default();
        let pwd: BTreeSet<_> = [Pwd].into();
        let pwd_sms: BTreeSet<_> = [Pwd, Sms].into();
        let sms_only: BTreeSet<_> = [Sms].into();
        assert_eq!(p.achieved(ProofingLevel::InPerson, &pwd), Some(Low));
        assert_eq!(
            p.achieved(ProofingLevel::InPerson, &pwd_sms),
            Some(Substantial)
        );
        assert_eq!(
            p.achieved(ProofingLevel::Online, &[Hwk].into()),
            Some(Substantial)
        );
        assert_eq!(
            p.achieved(ProofingLevel::InPerson, &[Hwk].into()),
            Some(High)
        );
        assert_eq!(p.achieved(ProofingLevel::InPerson, &sms_only), None);
    }

    #[test]
    fn step_up_asks_only_for_what_is_missing() {
        let p = LevelPolicy::default();
        let pwd: BTreeSet<_> = [Pwd].into();
        let phone: BTreeSet<_> = [Sms].into();
        let both: BTreeSet<_> = [Sms, Otp].into();
        let inp = ProofingLevel::InPerson;
        assert_eq!(p.step_up(inp, &pwd, &phone, Low), StepUp::Reached);
        assert_eq!(
            p.step_up(inp, &pwd, &phone, Substantial),
            StepUp::Add([Sms].into())
        );
        // One method is enough: the first rule listed (SMS) wins the tie.
        assert_eq!(
            p.step_up(inp, &pwd, &both, Substantial),
            StepUp::Add([Sms].into())
        );
        assert_eq!(
            p.step_up(inp, &pwd, &[Otp].into(), Substantial),
            StepUp::Add([Otp].into())
        );
        // High needs a certificate, which nobody logging in by password has.
        assert_eq!(p.step_up(inp, &pwd, &both, High), StepUp::NoMethod);
        // Online proofing caps the account at substantial, whatever the methods.
        assert_eq!(
            p.step_up(ProofingLevel::Online, &pwd, &[Hwk].into(), High),
            StepUp::ProofingTooLow
        );
        // A table that rates three factors high asks for the two still missing.
        let mut three = p.clone();
        three.methods.push(MethodRule {
            methods: [Pwd, Sms, Otp].into(),
            level: High,
        });
        assert_eq!(
            three.step_up(inp, &pwd, &both, High),
            StepUp::Add([Sms, Otp].into())
        );
        assert_eq!(
            three.step_up(inp, &[Pwd, Sms].into(), &both, High),
            StepUp::Add([Otp].into())
        );
        assert_eq!(
            three.step_up(inp, &[Pwd, Sms].into(), &phone, High),
            StepUp::NoMethod
        );
    }

    #[test]
    fn vocabulary_maps_both_ways() {
        let v = LevelVocabulary::default();
        assert_eq!(v.acr(High), Some("http://eidas.europa.eu/LoA/high"));
        assert_eq!(v.level_for_acr("substantial"), Some(Substantial));
        assert_eq!(v.level_for_acr("http://eidas.europa.eu/LoA/low"), Some(Low));
        assert_eq!(v.level_for_acr("gold"), None);
        assert_eq!(v.acr_values().len(), 3);
        assert_eq!(
            v.level_for_saml_uri("http://eidas.europa.eu/LoA/substantial"),
            Some(Substantial)
        );
    }
}
