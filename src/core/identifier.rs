//! Citizen identifiers: Spanish DNI and NIE, Argentine CUIL/CUIT, and passports. Each is
//! validated (check letters and digits) and normalised, so that `12345678-z`, `12345678 Z` and
//! `12345678Z` are the same citizen.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

const DNI_LETTERS: &[u8; 23] = b"TRWAGMYFPDXBNJZSQVHLCKE";
const CUIL_WEIGHTS: [u32; 10] = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2];

/// The kind of identity document a number belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IdentifierKind {
    /// Spanish national identity document: 8 digits and a check letter (mod 23).
    Dni,
    /// Spanish foreigner identity number: X, Y or Z, 7 digits and a check letter.
    Nie,
    /// Argentine CUIL/CUIT: 11 digits, the last a mod-11 check digit.
    Cuil,
    /// A passport number, free form (letters and digits).
    Passport,
}

impl IdentifierKind {
    /// The stable lowercase tag used in storage and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Dni => "dni",
            Self::Nie => "nie",
            Self::Cuil => "cuil",
            Self::Passport => "passport",
        }
    }
}

impl FromStr for IdentifierKind {
    type Err = IdentifierError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "dni" => Ok(Self::Dni),
            "nie" => Ok(Self::Nie),
            "cuil" | "cuit" => Ok(Self::Cuil),
            "passport" | "pasaporte" | "passaport" => Ok(Self::Passport),
            other => Err(IdentifierError(format!(
                "unknown identifier type '{other}': expected dni, nie, cuil or passport"
            ))),
        }
    }
}

impl fmt::Display for IdentifierKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why an identifier was refused, in words a citizen or an operator can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct IdentifierError(pub String);

/// A validated, normalised identifier: its kind and its number in canonical form (uppercase,
/// no separators).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Identifier {
    kind: IdentifierKind,
    number: String,
}

impl Identifier {
    /// Validates `raw` as an identifier of `kind`. Spaces, dots and hyphens are ignored and
    /// letters are case-insensitive.
    pub fn parse(kind: IdentifierKind, raw: &str) -> Result<Self, IdentifierError> {
        let cleaned: String = raw
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '.' | '/'))
            .flat_map(char::to_uppercase)
            .collect();
        if cleaned.is_empty() {
            return Err(IdentifierError(format!(
                "the {} number is empty",
                kind_name(kind)
            )));
        }
        let number = match kind {
            IdentifierKind::Dni => validate_dni(&cleaned)?,
            IdentifierKind::Nie => validate_nie(&cleaned)?,
            IdentifierKind::Cuil => validate_cuil(&cleaned)?,
            IdentifierKind::Passport => validate_passport(&cleaned)?,
        };
        Ok(Self { kind, number })
    }

    /// Guesses the kind from the shape of the number (for a login form with one field):
    /// 11 digits → CUIL, 8 digits + letter → DNI, X/Y/Z + 7 digits + letter → NIE. A
    /// `kind:number` form names the kind explicitly.
    pub fn parse_any(raw: &str) -> Result<Self, IdentifierError> {
        if let Some((kind, number)) = raw.split_once(':') {
            return Self::parse(kind.parse()?, number);
        }
        let cleaned: String = raw
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '.' | '/'))
            .flat_map(char::to_uppercase)
            .collect();
        let kind = match cleaned.as_bytes() {
            [b'X' | b'Y' | b'Z', ..] => IdentifierKind::Nie,
            b if b.len() == 11 && b.iter().all(u8::is_ascii_digit) => IdentifierKind::Cuil,
            b if b.first().is_some_and(u8::is_ascii_digit) => IdentifierKind::Dni,
            _ => {
                return Err(IdentifierError(
                    "enter a DNI, NIE or CUIL number (for a passport, write passport:NUMBER)"
                        .into(),
                ));
            }
        };
        Self::parse(kind, &cleaned)
    }

    /// The document kind.
    pub fn kind(&self) -> IdentifierKind {
        self.kind
    }

    /// The canonical number (uppercase, no separators).
    pub fn number(&self) -> &str {
        &self.number
    }

    /// The storage form `kind:number`, e.g. `dni:12345678Z`; [`Identifier::from_canonical`]
    /// reads it back.
    pub fn canonical(&self) -> String {
        format!("{}:{}", self.kind.as_str(), self.number)
    }

    /// Reads the storage form written by [`Identifier::canonical`], validating it again.
    pub fn from_canonical(s: &str) -> Result<Self, IdentifierError> {
        let (kind, number) = s
            .split_once(':')
            .ok_or_else(|| IdentifierError(format!("'{s}' is not of the form kind:number")))?;
        Self::parse(kind.parse()?, number)
    }
}

impl fmt::Display for Identifier {
    /// The form people read: `DNI 12345678Z`, `CUIL 20-12345678-6`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            IdentifierKind::Cuil => write!(
                f,
                "CUIL {}-{}-{}",
                &self.number[..2],
                &self.number[2..10],
                &self.number[10..]
            ),
            k => write!(f, "{} {}", k.as_str().to_ascii_uppercase(), self.number),
        }
    }
}

fn kind_name(kind: IdentifierKind) -> &'static str {
    match kind {
        IdentifierKind::Dni => "DNI",
        IdentifierKind::Nie => "NIE",
        IdentifierKind::Cuil => "CUIL",
        IdentifierKind::Passport => "passport",
    }
}

fn dni_letter(n: u32) -> char {
    char::from(DNI_LETTERS[(n % 23) as usize])
}

fn validate_dni(s: &str) -> Result<String, IdentifierError> {
    let digits: String = s.chars().take_while(char::is_ascii_digit).collect();
    let rest = &s[digits.len()..];
    if digits.len() != 8 {
        return Err(IdentifierError(format!(
            "a DNI has 8 digits and a check letter; '{s}' has {} digits",
            digits.len()
        )));
    }
    let n: u32 = digits
        .parse()
        .map_err(|_| IdentifierError(format!("'{digits}' is not a number")))?;
    let expected = dni_letter(n);
    match rest.chars().collect::<Vec<_>>().as_slice() {
        [] => Err(IdentifierError(format!(
            "the DNI is missing its check letter: for {digits} it is {expected}"
        ))),
        [c] if c.is_ascii_alphabetic() => {
            if *c == expected {
                Ok(format!("{digits}{expected}"))
            } else {
                Err(IdentifierError(format!(
                    "the check letter for {digits} is {expected}, not {c}"
                )))
            }
        }
        _ => Err(IdentifierError(format!(
            "a DNI has 8 digits and one check letter; '{rest}' after the digits is not valid"
        ))),
    }
}

fn validate_nie(s: &str) -> Result<String, IdentifierError> {
    let mut chars = s.chars();
    let prefix = chars.next().unwrap_or(' ');
    let lead = match prefix {
        'X' => 0,
        'Y' => 1,
        'Z' => 2,
        _ => {
            return Err(IdentifierError(format!(
                "a NIE starts with X, Y or Z; '{s}' starts with '{prefix}'"
            )));
        }
    };
    let rest: String = chars.collect();
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    if digits.len() != 7 {
        return Err(IdentifierError(format!(
            "a NIE has a letter, 7 digits and a check letter; '{s}' has {} digits",
            digits.len()
        )));
    }
    let n: u32 = format!("{lead}{digits}")
        .parse()
        .map_err(|_| IdentifierError(format!("'{digits}' is not a number")))?;
    let expected = dni_letter(n);
    let check = &rest[digits.len()..];
    match check.chars().collect::<Vec<_>>().as_slice() {
        [] => Err(IdentifierError(format!(
            "the NIE is missing its check letter: for {prefix}{digits} it is {expected}"
        ))),
        [c] if *c == expected => Ok(format!("{prefix}{digits}{expected}")),
        [c] => Err(IdentifierError(format!(
            "the check letter for {prefix}{digits} is {expected}, not {c}"
        ))),
        _ => Err(IdentifierError(format!(
            "a NIE ends with one check letter; '{check}' is not valid"
        ))),
    }
}

fn validate_cuil(s: &str) -> Result<String, IdentifierError> {
    if s.len() != 11 || !s.chars().all(|c| c.is_ascii_digit()) {
        return Err(IdentifierError(format!(
            "a CUIL has 11 digits (as 20-12345678-6 or 20123456786); '{s}' does not"
        )));
    }
    let d: Vec<u32> = s.chars().filter_map(|c| c.to_digit(10)).collect();
    let sum: u32 = d.iter().zip(CUIL_WEIGHTS).map(|(a, w)| a * w).sum();
    let expected = match 11 - sum % 11 {
        11 => 0,
        10 => {
            return Err(IdentifierError(format!(
                "{} cannot be a CUIL: no check digit fits that prefix and number",
                &s[..10]
            )));
        }
        x => x,
    };
    if d[10] != expected {
        return Err(IdentifierError(format!(
            "the check digit for {}-{} is {expected}, not {}",
            &s[..2],
            &s[2..10],
            d[10]
        )));
    }
    Ok(s.to_owned())
}

fn validate_passport(s: &str) -> Result<String, IdentifierError> {
    if !(3..=20).contains(&s.len()) || !s.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(IdentifierError(format!(
            "a passport number has 3 to 20 letters and digits; '{s}' does not"
        )));
    }
    Ok(s.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use IdentifierKind::*;

    #[test]
    fn dni_check_letter() {
        let id = Identifier::parse(Dni, "12345678z").unwrap();
        assert_eq!(id.number(), "12345678Z");
        assert_eq!(id.canonical(), "dni:12345678Z");
        assert_eq!(Identifier::parse(Dni, "12345678-Z").unwrap(), id);
        let err = Identifier::parse(Dni, "12345678A").unwrap_err().to_string();
        assert_eq!(err, "the check letter for 12345678 is Z, not A");
        assert!(
            Identifier::parse(Dni, "12345678")
                .unwrap_err()
                .to_string()
                .contains("it is Z")
        );
        assert!(
            Identifier::parse(Dni, "1234567Z")
                .unwrap_err()
                .to_string()
                .contains("7 digits")
        );
        assert!(Identifier::parse(Dni, "").is_err());
    }

    #[test]
    fn nie_check_letter() {
        // X1234567: 01234567 mod 23 = 19 → L
        assert_eq!(
            Identifier::parse(Nie, "x1234567l").unwrap().number(),
            "X1234567L"
        );
        assert!(
            Identifier::parse(Nie, "X1234567A")
                .unwrap_err()
                .to_string()
                .contains("is L")
        );
        assert!(
            Identifier::parse(Nie, "A1234567L")
                .unwrap_err()
                .to_string()
                .contains("X, Y or Z")
        );
        // Y1234567: 11234567 mod 23 = 10 → X
        assert_eq!(
            Identifier::parse(Nie, "Y1234567X").unwrap().number(),
            "Y1234567X"
        );
    }

    #[test]
    fn cuil_check_digit_with_and_without_hyphens() {
        let a = Identifier::parse(Cuil, "20-12345678-6").unwrap();
        let b = Identifier::parse(Cuil, "20123456786").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.to_string(), "CUIL 20-12345678-6");
        let err = Identifier::parse(Cuil, "20-12345678-5")
            .unwrap_err()
            .to_string();
        assert_eq!(err, "the check digit for 20-12345678 is 6, not 5");
        assert!(Identifier::parse(Cuil, "2012345678").is_err());
    }

    #[test]
    fn passport_and_canonical_round_trip() {
        let p = Identifier::parse(Passport, "pa 123456").unwrap();
        assert_eq!(p.number(), "PA123456");
        assert_eq!(Identifier::from_canonical(&p.canonical()).unwrap(), p);
        assert!(Identifier::parse(Passport, "ab").is_err());
    }

    #[test]
    fn kind_is_guessed_from_shape() {
        assert_eq!(Identifier::parse_any("20-12345678-6").unwrap().kind(), Cuil);
        assert_eq!(Identifier::parse_any("12345678Z").unwrap().kind(), Dni);
        assert_eq!(Identifier::parse_any("X1234567L").unwrap().kind(), Nie);
        assert_eq!(
            Identifier::parse_any("passport:AB12345").unwrap().kind(),
            Passport
        );
        assert!(Identifier::parse_any("hello").is_err());
    }
}
