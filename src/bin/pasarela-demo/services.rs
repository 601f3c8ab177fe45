//! The e-office's services, the levels of assurance they need, and the citizen's identity as
//! the demo keeps it in its session.

use std::fmt;

/// An eIDAS level of assurance, ordered `Low < Substantial < High`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Low,
    Substantial,
    High,
}

impl Level {
    /// The eIDAS URI (what `acr`, `acr_values` and `AuthnContextClassRef` carry).
    pub fn uri(self) -> &'static str {
        match self {
            Self::Low => "http://eidas.europa.eu/LoA/low",
            Self::Substantial => "http://eidas.europa.eu/LoA/substantial",
            Self::High => "http://eidas.europa.eu/LoA/high",
        }
    }

    /// The level an `acr` value names: the eIDAS URI or the bare name.
    pub fn from_acr(acr: &str) -> Option<Self> {
        let name = acr
            .strip_prefix("http://eidas.europa.eu/LoA/")
            .unwrap_or(acr);
        match name {
            "low" => Some(Self::Low),
            "substantial" => Some(Self::Substantial),
            "high" => Some(Self::High),
            _ => None,
        }
    }

    /// The level's name in Spanish.
    pub fn spanish(self) -> &'static str {
        match self {
            Self::Low => "bajo",
            Self::Substantial => "sustancial",
            Self::High => "alto",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Low => "low",
            Self::Substantial => "substantial",
            Self::High => "high",
        })
    }
}

/// A service of the e-office.
#[derive(Debug)]
pub struct Service {
    /// The name in URLs, in the API and in pasarela's `service` parameter.
    pub name: &'static str,
    /// The title shown.
    pub title: &'static str,
    /// What it does.
    pub description: &'static str,
    /// The level needed; `None`: public, no sign-in.
    pub level: Option<Level>,
    /// Seconds since the authentication after which the service asks for a new one.
    pub max_age: Option<u64>,
}

/// The four services, modelled on the Seguridad Social e-office.
pub const SERVICES: [Service; 4] = [
    Service {
        name: "informacion",
        title: "Información pública",
        description: "Prestaciones, plazos y oficinas. Sin identificarse.",
        level: None,
        max_age: None,
    },
    Service {
        name: "vida-laboral",
        title: "Informe de vida laboral",
        description: "Los periodos en alta en la Seguridad Social.",
        level: Some(Level::Substantial),
        max_age: None,
    },
    Service {
        name: "domicilio",
        title: "Cambio de domicilio",
        description: "Comunicar un domicilio nuevo.",
        level: Some(Level::Substantial),
        max_age: None,
    },
    Service {
        name: "cobro",
        title: "Cambio de lugar de cobro",
        description: "La cuenta donde se cobran las prestaciones. Pide una autenticación \
                      de nivel alto de los últimos 5 minutos.",
        level: Some(Level::High),
        max_age: Some(300),
    },
];

/// The service named `name`.
pub fn service(name: &str) -> Option<&'static Service> {
    SERVICES.iter().find(|s| s.name == name)
}

/// How the citizen signed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    Oidc,
    Saml,
}

/// The signed-in citizen.
#[derive(Debug, Clone)]
pub struct Identity {
    pub via: Via,
    /// Full name.
    pub name: String,
    /// Document number (or the subject when not released).
    pub identifier: String,
    /// The `acr` / `AuthnContextClassRef` as received.
    pub acr: String,
    /// Unix time of the authentication, when told.
    pub auth_time: Option<i64>,
    /// OIDC: the access token the service pages present to the API.
    pub access_token: Option<String>,
    /// OIDC: the ID token, the `id_token_hint` of the logout.
    pub id_token: Option<String>,
}

impl Identity {
    /// The level the `acr` names.
    pub fn level(&self) -> Option<Level> {
        Level::from_acr(&self.acr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_read_uris_and_names_and_are_ordered() {
        assert_eq!(
            Level::from_acr("http://eidas.europa.eu/LoA/substantial"),
            Some(Level::Substantial)
        );
        assert_eq!(Level::from_acr("high"), Some(Level::High));
        assert_eq!(Level::from_acr("nivel2"), None);
        assert!(Level::Low < Level::Substantial && Level::Substantial < Level::High);
        for l in [Level::Low, Level::Substantial, Level::High] {
            assert_eq!(Level::from_acr(l.uri()), Some(l));
        }
    }

    #[test]
    fn the_four_services_are_known_by_name() {
        assert_eq!(service("cobro").unwrap().level, Some(Level::High));
        assert_eq!(service("informacion").unwrap().level, None);
        assert!(service("nada").is_none());
    }
}
