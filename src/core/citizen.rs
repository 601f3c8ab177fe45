//! Citizens: who they are, how their identity was proofed, and where their account stands.

use super::identifier::{Identifier, IdentifierKind};
use super::level::ProofingLevel;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

/// A citizen's internal, never-reused id (also the basis of OIDC `sub` and SAML NameIDs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CitizenId(pub Uuid);

impl CitizenId {
    /// A fresh random id.
    pub fn new() -> Self {
        Self(Uuid::new_v4())
    }
}

impl Default for CitizenId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for CitizenId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for CitizenId {
    type Err = uuid::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self(s.parse()?))
    }
}

/// Where an account stands. `registered → active → blocked / deregistered`; a blocked account
/// can be unblocked back to where it was; a deregistered one never logs in again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CitizenStatus {
    /// Registered by an office or online; has an activation code, no password yet.
    Registered,
    /// Has set a password and may log in.
    Active,
    /// Blocked by an operator; may not log in until unblocked.
    Blocked,
    /// Gave up the credential (baja); final.
    Deregistered,
}

impl CitizenStatus {
    /// The stable name used in storage and the CLI.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Registered => "registered",
            Self::Active => "active",
            Self::Blocked => "blocked",
            Self::Deregistered => "deregistered",
        }
    }
}

impl FromStr for CitizenStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "registered" => Ok(Self::Registered),
            "active" => Ok(Self::Active),
            "blocked" => Ok(Self::Blocked),
            "deregistered" => Ok(Self::Deregistered),
            other => Err(format!("unknown citizen status '{other}'")),
        }
    }
}

/// A postal address (OIDC `address` claim shape).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostalAddress {
    /// Street, number, floor, door.
    #[serde(default)]
    pub street: String,
    /// City or town.
    #[serde(default)]
    pub locality: String,
    /// Province or region.
    #[serde(default)]
    pub region: String,
    /// Postal code.
    #[serde(default)]
    pub postal_code: String,
    /// ISO 3166-1 alpha-2 country code.
    #[serde(default)]
    pub country: String,
}

/// A fact recorded at registration that online identity questions can be built from, such
/// as a past employer (ANSES style).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerificationFact {
    /// What kind of fact: `employer`, `bank`, …
    pub kind: String,
    /// The true answer.
    pub value: String,
}

/// A citizen as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Citizen {
    /// Internal id.
    pub id: CitizenId,
    /// Validated identifier (DNI, NIE, CUIL or passport).
    pub identifier: Identifier,
    /// Given name(s).
    pub given_name: String,
    /// Family name(s).
    pub family_names: String,
    /// Date of birth.
    pub birth_date: NaiveDate,
    /// Email address (lowercased).
    pub email: String,
    /// Mobile number in E.164 form (`+34600111222`).
    pub mobile: String,
    /// Postal address.
    pub address: PostalAddress,
    /// The 11-digit "trámite" number of the citizen's DNI (ANSES), if recorded.
    pub tramite: Option<String>,
    /// Facts for online identity questions.
    pub verification_facts: Vec<VerificationFact>,
    /// How identity was proofed.
    pub proofing: ProofingLevel,
    /// Account state.
    pub status: CitizenStatus,
    /// When the record was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// What a registry office (or an online channel) supplies to register a citizen. Validate it
/// with [`NewCitizen::validate`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewCitizen {
    /// `dni`, `nie`, `cuil` or `passport`.
    pub id_type: String,
    /// The document number as typed.
    pub id_number: String,
    /// Given name(s).
    pub given_name: String,
    /// Family name(s).
    pub family_names: String,
    /// `YYYY-MM-DD`.
    pub birth_date: String,
    /// Email address.
    pub email: String,
    /// Mobile number; E.164, or national form for the default region.
    pub mobile: String,
    /// Postal address.
    #[serde(default)]
    pub address: PostalAddress,
    /// DNI trámite number (11 digits), optional.
    #[serde(default)]
    pub tramite: Option<String>,
    /// Facts for online identity questions.
    #[serde(default)]
    pub verification_facts: Vec<VerificationFact>,
    /// How identity was proofed.
    pub proofing: Option<ProofingLevel>,
}

/// Every problem found in a [`NewCitizen`], each naming the field and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .0.iter().map(|(f, m)| format!("{f}: {m}")).collect::<Vec<_>>().join("; "))]
pub struct CitizenValidationError(pub Vec<(&'static str, String)>);

impl NewCitizen {
    /// Checks every field and returns the normalised citizen (status `registered`), or every
    /// problem at once. `default_region` (ISO 3166 code such as `ES`) is used to read mobile
    /// numbers typed without a `+` prefix.
    pub fn validate(
        &self,
        default_region: &str,
        now: DateTime<Utc>,
    ) -> Result<Citizen, CitizenValidationError> {
        let mut errors = Vec::new();
        let identifier = match self.id_type.parse::<IdentifierKind>() {
            Ok(kind) => Identifier::parse(kind, &self.id_number)
                .map_err(|e| errors.push(("identifier", e.0)))
                .ok(),
            Err(e) => {
                errors.push(("id_type", e.0));
                None
            }
        };
        let given_name = self.given_name.trim().to_owned();
        if given_name.is_empty() {
            errors.push(("given_name", "the given name is required".into()));
        }
        let family_names = self.family_names.trim().to_owned();
        if family_names.is_empty() {
            errors.push(("family_names", "the family name is required".into()));
        }
        let birth_date = match NaiveDate::parse_from_str(self.birth_date.trim(), "%Y-%m-%d") {
            Ok(d) if d > now.date_naive() => {
                errors.push(("birth_date", format!("{d} is in the future")));
                None
            }
            Ok(d) => Some(d),
            Err(_) => {
                errors.push((
                    "birth_date",
                    format!("'{}' is not a date of the form YYYY-MM-DD", self.birth_date),
                ));
                None
            }
        };
        let email = self.email.trim().to_ascii_lowercase();
        if !valid_email(&email) {
            errors.push(("email", format!("'{}' is not an email address", self.email)));
        }
        let mobile = normalise_mobile(&self.mobile, default_region)
            .map_err(|e| errors.push(("mobile", e)))
            .ok();
        let tramite = match self
            .tramite
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            Some(t) if t.len() == 11 && t.chars().all(|c| c.is_ascii_digit()) => Some(t.to_owned()),
            Some(t) => {
                errors.push((
                    "tramite",
                    format!("the DNI trámite number has 11 digits; '{t}' does not"),
                ));
                None
            }
            None => None,
        };
        for f in &self.verification_facts {
            if f.kind.trim().is_empty() || f.value.trim().is_empty() {
                errors.push((
                    "verification_facts",
                    "each fact needs a kind and a value".into(),
                ));
            }
        }
        if !self.address.country.is_empty()
            && (self.address.country.len() != 2
                || !self
                    .address
                    .country
                    .chars()
                    .all(|c| c.is_ascii_alphabetic()))
        {
            errors.push((
                "address.country",
                format!(
                    "'{}' is not a two-letter country code",
                    self.address.country
                ),
            ));
        }
        match (identifier, birth_date, mobile, errors.is_empty()) {
            (Some(identifier), Some(birth_date), Some(mobile), true) => Ok(Citizen {
                id: CitizenId::new(),
                identifier,
                given_name,
                family_names,
                birth_date,
                email,
                mobile,
                address: PostalAddress {
                    country: self.address.country.to_ascii_uppercase(),
                    ..self.address.clone()
                },
                tramite,
                verification_facts: self.verification_facts.clone(),
                proofing: self.proofing.unwrap_or(ProofingLevel::InPerson),
                status: CitizenStatus::Registered,
                created_at: now,
                updated_at: now,
            }),
            _ => Err(CitizenValidationError(errors)),
        }
    }
}

fn valid_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
        && !domain.contains('@')
}

/// Parses a mobile number and returns it in E.164 form, or why it is not a mobile number.
pub fn normalise_mobile(raw: &str, default_region: &str) -> Result<String, String> {
    let region = default_region.parse::<phonenumber::country::Id>().ok();
    let n = phonenumber::parse(region, raw.trim())
        .map_err(|_| format!("'{raw}' is not a phone number"))?;
    if !phonenumber::is_valid(&n) {
        return Err(format!("'{raw}' is not a valid phone number"));
    }
    match n.number_type(&phonenumber::metadata::DATABASE) {
        phonenumber::Type::Mobile | phonenumber::Type::FixedLineOrMobile => {
            Ok(n.format().mode(phonenumber::Mode::E164).to_string())
        }
        _ => Err(format!(
            "'{raw}' is not a mobile number: SMS codes need a mobile"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> NewCitizen {
        NewCitizen {
            id_type: "dni".into(),
            id_number: "12345678z".into(),
            given_name: "Lucía".into(),
            family_names: "García Pérez".into(),
            birth_date: "1980-02-29".into(),
            email: "Lucia@Example.ES".into(),
            mobile: "600 111 222".into(),
            ..Default::default()
        }
    }

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_767_225_600, 0).unwrap()
    }

    #[test]
    fn valid_citizen_is_normalised() {
        let c = sample().validate("ES", now()).unwrap();
        assert_eq!(c.identifier.canonical(), "dni:12345678Z");
        assert_eq!(c.email, "lucia@example.es");
        assert_eq!(c.mobile, "+34600111222");
        assert_eq!(c.status, CitizenStatus::Registered);
        assert_eq!(c.proofing, ProofingLevel::InPerson);
    }

    #[test]
    fn every_problem_is_reported_with_its_field() {
        let bad = NewCitizen {
            id_number: "12345678A".into(),
            birth_date: "29/02/1980".into(),
            email: "nope".into(),
            mobile: "912345678".into(),
            tramite: Some("123".into()),
            ..sample()
        };
        let err = bad.validate("ES", now()).unwrap_err();
        let fields: Vec<_> = err.0.iter().map(|(f, _)| *f).collect();
        assert_eq!(
            fields,
            ["identifier", "birth_date", "email", "mobile", "tramite"]
        );
        assert!(
            err.to_string()
                .contains("the check letter for 12345678 is Z")
        );
        assert!(err.to_string().contains("not a mobile number"));
    }

    #[test]
    fn argentine_mobile_in_e164() {
        assert_eq!(
            normalise_mobile("+54 9 11 2345-6789", "AR").unwrap(),
            "+5491123456789"
        );
    }
}
