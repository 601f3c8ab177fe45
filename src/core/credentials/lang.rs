//! The languages citizen-facing messages are written in.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A language for messages shown to citizens. Spanish is the default because it is the
/// language every deployment (Spain and Argentina) shares.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// Spanish (castellano).
    #[default]
    Es,
    /// Catalan (català).
    Ca,
    /// English.
    En,
}

impl Lang {
    /// Every supported language, default first.
    pub const ALL: [Lang; 3] = [Self::Es, Self::Ca, Self::En];

    /// The BCP 47 primary tag: `es`, `ca` or `en`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Es => "es",
            Self::Ca => "ca",
            Self::En => "en",
        }
    }

    /// The first supported language in an `Accept-Language` header value, in the order the
    /// browser listed them (weights are ignored: browsers already list by preference).
    /// `None` when no listed language is supported.
    pub fn from_accept_language(header: &str) -> Option<Self> {
        header
            .split(',')
            .filter_map(|item| item.split(';').next())
            .find_map(|tag| tag.parse().ok())
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Lang {
    type Err = String;

    /// Reads `es`, `ca`, `en` or a longer tag such as `es-ES`, `ca_ES` or `en-GB`
    /// (only the primary subtag counts).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let primary = s
            .trim()
            .split(['-', '_'])
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        match primary.as_str() {
            "es" => Ok(Self::Es),
            "ca" => Ok(Self::Ca),
            "en" => Ok(Self::En),
            _ => Err(format!("unsupported language '{s}': expected es, ca or en")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_tags() {
        assert_eq!("es".parse(), Ok(Lang::Es));
        assert_eq!("es-ES".parse(), Ok(Lang::Es));
        assert_eq!("ca_ES".parse(), Ok(Lang::Ca));
        assert_eq!(" EN-gb ".parse(), Ok(Lang::En));
        assert!("fr".parse::<Lang>().is_err());
        assert_eq!(
            Lang::from_accept_language("fr-FR,fr;q=0.9,ca;q=0.8,en;q=0.5"),
            Some(Lang::Ca)
        );
        assert_eq!(Lang::from_accept_language("de"), None);
    }
}
