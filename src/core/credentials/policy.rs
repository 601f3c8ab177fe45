//! Password policies. Two presets, chosen in configuration:
//!
//! - `nist` (NIST SP 800-63B): long passwords and passphrases, any character, no composition
//!   rules; refuses common passwords, the citizen's own data and anything zxcvbn rates as
//!   easy to guess.
//! - `anses` (the ANSES "Clave de la Seguridad Social" guide): 8–15 letters and digits with
//!   at least one letter, one capital and one digit, no doubled characters and no runs such
//!   as `1234` or `abcd`.
//!
//! [`check`] reports every rule a password breaks, so the form can show them all at once.

use super::lang::Lang;
use crate::core::citizen::Citizen;
use crate::core::identifier::{Identifier, IdentifierKind};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::fmt;
use std::str::FromStr;
use std::sync::LazyLock;

/// NIST minimum length.
pub const NIST_MIN_LEN: usize = 8;
/// NIST maximum length: 800-63B asks to accept at least 64; more only costs hashing time.
pub const NIST_MAX_LEN: usize = 128;
/// ANSES minimum length.
pub const ANSES_MIN_LEN: usize = 8;
/// ANSES maximum length.
pub const ANSES_MAX_LEN: usize = 15;
/// ANSES: the shortest ascending or descending run that is refused.
pub const ANSES_MAX_RUN: usize = 4;
/// Names this long or longer are refused anywhere inside a password; shorter ones (such as
/// "Ana" or "Gil") only as the whole password, since they occur inside too many words.
const NAME_MIN_CONTAINED: usize = 4;
/// zxcvbn scores below this (about 10^6 guesses) are too easy to guess online.
const MIN_ZXCVBN_SCORE: u8 = 2;

static COMMON: LazyLock<HashSet<String>> = LazyLock::new(|| {
    include_str!("common-passwords.txt")
        .lines()
        .map(|l| l.trim().to_lowercase())
        .filter(|l| !l.is_empty())
        .collect()
});

/// Which set of rules passwords must follow.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PolicyPreset {
    /// NIST SP 800-63B: length, blocklists and guessability; no composition rules.
    #[default]
    Nist,
    /// The ANSES guide: 8–15 letters and digits with composition rules.
    Anses,
}

impl PolicyPreset {
    /// The name used in configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Nist => "nist",
            Self::Anses => "anses",
        }
    }
}

impl fmt::Display for PolicyPreset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PolicyPreset {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "nist" => Ok(Self::Nist),
            "anses" => Ok(Self::Anses),
            other => Err(format!(
                "unknown password policy '{other}': expected nist or anses"
            )),
        }
    }
}

/// What is known about the citizen choosing the password, so the policy can refuse
/// passwords built from it.
#[derive(Debug, Clone, Copy)]
pub struct PasswordContext<'a> {
    /// The citizen's document.
    pub identifier: &'a Identifier,
    /// Given name(s).
    pub given_name: &'a str,
    /// Family name(s), space separated.
    pub family_names: &'a str,
    /// Email address (may be empty).
    pub email: &'a str,
}

impl<'a> PasswordContext<'a> {
    /// The context for a stored citizen.
    pub fn from_citizen(citizen: &'a Citizen) -> Self {
        Self {
            identifier: &citizen.identifier,
            given_name: &citizen.given_name,
            family_names: &citizen.family_names,
            email: &citizen.email,
        }
    }
}

/// One broken rule. [`PolicyViolation::message`] words it for the citizen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "rule")]
pub enum PolicyViolation {
    /// Fewer characters than `min`.
    TooShort {
        /// The minimum length.
        min: usize,
    },
    /// More characters than `max`.
    TooLong {
        /// The maximum length.
        max: usize,
    },
    /// On the list of most common passwords.
    CommonPassword,
    /// Contains the citizen's document number.
    ContainsIdentifier,
    /// Contains the citizen's given name or a family name.
    ContainsName,
    /// zxcvbn estimates it falls to too few guesses.
    TooEasyToGuess,
    /// Contains something other than ASCII letters and digits.
    SpecialCharacters,
    /// Has no letter.
    NoLetter,
    /// Has no digit.
    NoDigit,
    /// Has no capital letter.
    NoUppercase,
    /// The same character twice in a row.
    RepeatedCharacter,
    /// `length` or more consecutive ascending or descending characters.
    Sequence {
        /// The shortest refused run.
        length: usize,
    },
}

/// Checks `password` against `preset`, returning every rule it breaks.
pub fn check(
    preset: PolicyPreset,
    password: &str,
    ctx: &PasswordContext<'_>,
) -> Result<(), Vec<PolicyViolation>> {
    let violations = match preset {
        PolicyPreset::Nist => check_nist(password, ctx),
        PolicyPreset::Anses => check_anses(password),
    };
    if violations.is_empty() {
        Ok(())
    } else {
        Err(violations)
    }
}

fn check_nist(password: &str, ctx: &PasswordContext<'_>) -> Vec<PolicyViolation> {
    let mut v = Vec::new();
    let len = password.chars().count();
    if len < NIST_MIN_LEN {
        v.push(PolicyViolation::TooShort { min: NIST_MIN_LEN });
    }
    if len > NIST_MAX_LEN {
        v.push(PolicyViolation::TooLong { max: NIST_MAX_LEN });
    }
    let folded = fold(password);
    if COMMON.contains(&password.to_lowercase()) || COMMON.contains(&folded) {
        v.push(PolicyViolation::CommonPassword);
    }
    let id_fragments = identifier_fragments(ctx.identifier);
    if id_fragments.iter().any(|f| folded.contains(f.as_str())) {
        v.push(PolicyViolation::ContainsIdentifier);
    }
    let names = name_parts(ctx);
    let contains_name = names.iter().any(|n| {
        if n.chars().count() >= NAME_MIN_CONTAINED {
            folded.contains(n.as_str())
        } else {
            folded == *n
        }
    });
    if contains_name {
        v.push(PolicyViolation::ContainsName);
    }
    if !password.is_empty() {
        let local = ctx.email.split('@').next().unwrap_or_default();
        let mut inputs: Vec<&str> = id_fragments.iter().map(String::as_str).collect();
        inputs.extend(names.iter().map(String::as_str));
        inputs.extend([local, ctx.email, ctx.given_name, ctx.family_names]);
        inputs.retain(|s| !s.is_empty());
        if u8::from(zxcvbn::zxcvbn(password, &inputs).score()) < MIN_ZXCVBN_SCORE {
            v.push(PolicyViolation::TooEasyToGuess);
        }
    }
    v
}

fn check_anses(password: &str) -> Vec<PolicyViolation> {
    let mut v = Vec::new();
    let len = password.chars().count();
    if len < ANSES_MIN_LEN {
        v.push(PolicyViolation::TooShort { min: ANSES_MIN_LEN });
    }
    if len > ANSES_MAX_LEN {
        v.push(PolicyViolation::TooLong { max: ANSES_MAX_LEN });
    }
    if !password.chars().all(|c| c.is_ascii_alphanumeric()) {
        v.push(PolicyViolation::SpecialCharacters);
    }
    if !password.chars().any(|c| c.is_ascii_alphabetic()) {
        v.push(PolicyViolation::NoLetter);
    }
    if !password.chars().any(|c| c.is_ascii_digit()) {
        v.push(PolicyViolation::NoDigit);
    }
    if !password.chars().any(|c| c.is_ascii_uppercase()) {
        v.push(PolicyViolation::NoUppercase);
    }
    let chars: Vec<char> = password.chars().collect();
    if chars.windows(2).any(|w| w[0] == w[1]) {
        v.push(PolicyViolation::RepeatedCharacter);
    }
    if longest_run(&chars) >= ANSES_MAX_RUN {
        v.push(PolicyViolation::Sequence {
            length: ANSES_MAX_RUN,
        });
    }
    v
}

/// The longest run of characters each one above (or each one below) the previous, within
/// digits or within letters (case-insensitive).
fn longest_run(chars: &[char]) -> usize {
    let key = |c: char| -> Option<(bool, i32)> {
        if c.is_ascii_digit() {
            Some((false, c as i32))
        } else if c.is_ascii_alphabetic() {
            Some((true, c.to_ascii_lowercase() as i32))
        } else {
            None
        }
    };
    let mut best = usize::from(!chars.is_empty());
    let (mut run, mut dir) = (1, 0);
    for w in chars.windows(2) {
        match (key(w[0]), key(w[1])) {
            (Some((a_letter, a)), Some((b_letter, b)))
                if a_letter == b_letter && (b - a).abs() == 1 =>
            {
                let d = b - a;
                if d == dir {
                    run += 1;
                } else {
                    (run, dir) = (2, d);
                }
            }
            _ => (run, dir) = (1, 0),
        }
        best = best.max(run);
    }
    best
}

/// Lowercase with Spanish and Catalan accents removed, so `García` in a name matches
/// `garcia` in a password.
fn fold(s: &str) -> String {
    s.chars()
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'á' | 'à' | 'ä' | 'â' => 'a',
            'é' | 'è' | 'ë' | 'ê' => 'e',
            'í' | 'ì' | 'ï' | 'î' => 'i',
            'ó' | 'ò' | 'ö' | 'ô' => 'o',
            'ú' | 'ù' | 'ü' | 'û' => 'u',
            'ñ' => 'n',
            'ç' => 'c',
            c => c,
        })
        .collect()
}

/// The document number (folded) and its digits; for a CUIL also the DNI number inside it.
fn identifier_fragments(id: &Identifier) -> Vec<String> {
    let number = fold(id.number());
    let digits: String = number.chars().filter(char::is_ascii_digit).collect();
    let mut out = vec![number.clone()];
    if digits.len() >= NAME_MIN_CONTAINED && digits != number {
        out.push(digits);
    }
    if id.kind() == IdentifierKind::Cuil
        && let Some(dni) = number.get(2..10)
    {
        out.push(dni.to_owned());
    }
    out
}

/// Each word of the given and family names, folded.
fn name_parts(ctx: &PasswordContext<'_>) -> Vec<String> {
    [ctx.given_name, ctx.family_names]
        .iter()
        .flat_map(|s| s.split(|c: char| c.is_whitespace() || matches!(c, '-' | '\'' | '.')))
        .filter(|p| !p.is_empty())
        .map(fold)
        .collect()
}

/// The rules of `preset`, worded for the "choose a password" page.
pub fn rules_description(preset: PolicyPreset, lang: Lang) -> Vec<String> {
    super::messages::rules_description(preset, lang)
}

#[cfg(test)]
#[path = "policy_tests.rs"]
mod tests;
