//! The `[oidc]` table of the configuration: lifetimes of what the OpenID Provider issues and
//! whether clients may register themselves (dynamic registration, RFC 7591).

use super::client::{ClientAuthMethod, GrantType, NewClient, SubjectType, secret_hash};
use crate::core::engine::{Actor, Engine};
use crate::core::keys::JwsAlg;
use crate::core::level::LevelOfAssurance;
use crate::core::relying_party::{NamedService, ProtocolSettings, RelyingParty};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Lifetimes of codes, tokens and pending authorization requests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OidcConfig {
    /// Seconds an authorization code can be exchanged (at most 60).
    pub code_secs: u64,
    /// Seconds an access token is valid.
    pub access_token_secs: u64,
    /// Seconds an ID token is valid.
    pub id_token_secs: u64,
    /// Days a refresh-token family lives, counted from the authorization.
    pub refresh_token_days: u64,
    /// Seconds an authorization request waits for the citizen to log in.
    pub pending_request_secs: u64,
    /// Dynamic client registration at `POST /oidc/register`: `off` (the default), `token`
    /// (an initial access token is required) or `open`.
    pub registration: RegistrationMode,
    /// SHA-256 (lowercase hex) of the initial access token, for `registration = "token"`.
    pub registration_token_sha256: Option<String>,
    /// Minimum level of the clients that register themselves.
    pub registration_min_level: LevelOfAssurance,
    /// Clients declared in the configuration (`[[oidc.clients]]`), upserted at start.
    pub clients: Vec<ConfigClient>,
}

/// A client declared in the configuration. Its secret is never in the file: either its
/// SHA-256 (`client_secret_sha256`) or the name of an environment variable holding it
/// (`client_secret_env`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigClient {
    /// The `client_id`.
    pub id: String,
    /// Name shown to citizens (the id when empty).
    #[serde(default)]
    pub name: String,
    /// Redirect URIs.
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    /// Post-logout redirect URIs.
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    /// Back-channel logout URI.
    #[serde(default)]
    pub backchannel_logout_uri: Option<String>,
    /// Require `sid` in back-channel logout tokens.
    #[serde(default)]
    pub backchannel_logout_session_required: bool,
    /// Front-channel logout URI.
    #[serde(default)]
    pub frontchannel_logout_uri: Option<String>,
    /// Require `sid` in front-channel logout.
    #[serde(default)]
    pub frontchannel_logout_session_required: bool,
    /// Token endpoint authentication (default `client_secret_basic`).
    #[serde(default)]
    pub token_endpoint_auth_method: ClientAuthMethod,
    /// SHA-256 (lowercase hex) of the client secret.
    #[serde(default)]
    pub client_secret_sha256: Option<String>,
    /// Environment variable holding the client secret.
    #[serde(default)]
    pub client_secret_env: Option<String>,
    /// Grant types (default `authorization_code` and `refresh_token`).
    #[serde(default)]
    pub grant_types: Vec<GrantType>,
    /// Response types (default `code`).
    #[serde(default)]
    pub response_types: Vec<String>,
    /// ID token signing algorithm (default RS256).
    #[serde(default)]
    pub id_token_signed_response_alg: JwsAlg,
    /// Signed userinfo algorithm.
    #[serde(default)]
    pub userinfo_signed_response_alg: Option<JwsAlg>,
    /// Minimum level (default low).
    #[serde(default)]
    pub min_level: LevelOfAssurance,
    /// Services of this client with their own minimum (`[[oidc.clients.services]]`), named by
    /// the `service` authorization parameter; never below `min_level`.
    #[serde(default)]
    pub services: Vec<NamedService>,
    /// Skip the consent page.
    #[serde(default)]
    pub skip_consent: bool,
    /// Scopes a `client_credentials` service client may ask for.
    #[serde(default)]
    pub service_scopes: Vec<String>,
    /// Where the client publishes its JWK Set.
    #[serde(default)]
    pub jwks_uri: Option<String>,
    /// Algorithm of `private_key_jwt` assertions.
    #[serde(default)]
    pub token_endpoint_auth_signing_alg: Option<JwsAlg>,
    /// Request-object algorithm (or `none`).
    #[serde(default)]
    pub request_object_signing_alg: Option<String>,
    /// Pre-registered request URIs.
    #[serde(default)]
    pub request_uris: Vec<String>,
    /// Subject type (default public).
    #[serde(default)]
    pub subject_type: SubjectType,
    /// Sector identifier URI for pairwise subjects.
    #[serde(default)]
    pub sector_identifier_uri: Option<String>,
    /// Logo shown to citizens.
    #[serde(default)]
    pub logo_uri: Option<String>,
    /// Privacy policy link.
    #[serde(default)]
    pub policy_uri: Option<String>,
    /// Terms of service link.
    #[serde(default)]
    pub tos_uri: Option<String>,
    /// Contacts.
    #[serde(default)]
    pub contacts: Vec<String>,
}

fn is_sha256_hex(h: &str) -> bool {
    h.len() == 64 && h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

impl ConfigClient {
    /// The relying party this entry declares; `env` reads `client_secret_env`. The message
    /// names the client and what is wrong.
    pub fn to_relying_party(
        &self,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<RelyingParty, String> {
        let fail = |why: String| format!("oidc.clients '{}': {why}", self.id);
        let request_object_signing_alg = match self.request_object_signing_alg.as_deref() {
            None => None,
            Some("none") => Some("none".to_owned()),
            Some(a) => Some(
                a.parse::<JwsAlg>()
                    .map_err(|e| fail(e.to_string()))?
                    .as_str()
                    .to_owned(),
            ),
        };
        let confidential = matches!(
            self.token_endpoint_auth_method,
            ClientAuthMethod::ClientSecretBasic | ClientAuthMethod::ClientSecretPost
        );
        let secret_hash = match (&self.client_secret_sha256, &self.client_secret_env) {
            (Some(_), Some(_)) => {
                return Err(fail(
                    "give client_secret_sha256 or client_secret_env, not both".into(),
                ));
            }
            (Some(h), None) if is_sha256_hex(h) => Some(h.clone()),
            (Some(_), None) => {
                return Err(fail(
                    "client_secret_sha256 must be 64 lowercase hex digits".into(),
                ));
            }
            (None, Some(var)) => match env(var) {
                Some(secret) if secret.len() >= 16 => Some(secret_hash(&secret)),
                Some(_) => {
                    return Err(fail(format!(
                        "the secret in {var} is shorter than 16 characters"
                    )));
                }
                None => return Err(fail(format!("the environment variable {var} is not set"))),
            },
            (None, None) => None,
        };
        match (confidential, &secret_hash) {
            (true, None) => {
                return Err(fail(format!(
                    "{} needs client_secret_sha256 or client_secret_env",
                    self.token_endpoint_auth_method.as_str()
                )));
            }
            (false, Some(_)) => {
                return Err(fail(format!(
                    "{} takes no client secret",
                    self.token_endpoint_auth_method.as_str()
                )));
            }
            _ => {}
        }
        let grant_types = if self.grant_types.is_empty() {
            vec![GrantType::AuthorizationCode, GrantType::RefreshToken]
        } else {
            self.grant_types.clone()
        };
        let new = NewClient {
            id: self.id.clone(),
            display_name: self.name.clone(),
            redirect_uris: self.redirect_uris.clone(),
            post_logout_redirect_uris: self.post_logout_redirect_uris.clone(),
            backchannel_logout_uri: self.backchannel_logout_uri.clone(),
            grant_types,
            auth_method: self.token_endpoint_auth_method,
            id_token_alg: self.id_token_signed_response_alg,
            min_level: self.min_level,
            skip_consent: self.skip_consent,
            response_types: self.response_types.clone(),
            subject_type: self.subject_type,
            sector_identifier_uri: self.sector_identifier_uri.clone(),
            jwks: None,
            jwks_uri: self.jwks_uri.clone(),
            token_endpoint_auth_signing_alg: self.token_endpoint_auth_signing_alg,
            request_object_signing_alg,
            request_uris: self.request_uris.clone(),
            userinfo_signed_response_alg: self.userinfo_signed_response_alg,
            frontchannel_logout_uri: self.frontchannel_logout_uri.clone(),
            frontchannel_logout_session_required: self.frontchannel_logout_session_required,
            backchannel_logout_session_required: self.backchannel_logout_session_required,
            logo_uri: self.logo_uri.clone(),
            policy_uri: self.policy_uri.clone(),
            tos_uri: self.tos_uri.clone(),
            contacts: self.contacts.clone(),
            registered_by: Some("config".into()),
            service_scopes: self.service_scopes.clone(),
        };
        let (mut rp, _generated) = new.build().map_err(|e| fail(e.to_string()))?;
        rp.services = self.services.clone();
        // The secret is the configured one, not the generated one.
        if let ProtocolSettings::Oidc(serde_json::Value::Object(settings)) = &mut rp.settings {
            settings.insert(
                "client_secret_sha256".into(),
                serde_json::json!(secret_hash),
            );
        }
        Ok(rp)
    }
}

/// Upserts the configured clients, auditing those that changed. Any bad entry stops the start
/// before anything is written.
pub async fn upsert_clients(config: &OidcConfig, engine: &Engine) -> anyhow::Result<()> {
    let mut ids = std::collections::BTreeSet::new();
    let mut built = Vec::new();
    for client in &config.clients {
        if !ids.insert(client.id.as_str()) {
            anyhow::bail!("oidc.clients: client id '{}' is declared twice", client.id);
        }
        built.push(
            client
                .to_relying_party(|var| std::env::var(var).ok())
                .map_err(|e| anyhow::anyhow!("configuration error: {e}"))?,
        );
    }
    for rp in built {
        let stored = engine.store.relying_party(&rp.id).await?;
        if let Some(existing) = &stored {
            if existing == &rp {
                continue;
            }
            let by = super::client::OidcClient::from_relying_party(existing.clone())
                .ok()
                .flatten()
                .and_then(|c| c.settings.registered_by);
            if by.as_deref() != Some("config") {
                anyhow::bail!(
                    "oidc.clients: '{}' is already registered (by {}); remove it first or \
                     choose another id",
                    rp.id,
                    by.as_deref().unwrap_or("an operator")
                );
            }
        }
        engine.store.put_relying_party(&rp).await?;
        let event = engine
            .event(&Actor::system(), "oidc.client.registered")
            .detail(serde_json::json!({ "client": rp.id, "registered_by": "config" }));
        engine.audit(event).await?;
        tracing::info!(client = %rp.id, "OIDC client from the configuration stored");
    }
    Ok(())
}

/// Who may register a client at the registration endpoint.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegistrationMode {
    /// No registration endpoint.
    #[default]
    Off,
    /// Only with `Authorization: Bearer <initial access token>`.
    Token,
    /// Anyone (conformance testing, closed networks).
    Open,
}

impl Default for OidcConfig {
    fn default() -> Self {
        Self {
            code_secs: 60,
            access_token_secs: 600,
            id_token_secs: 300,
            refresh_token_days: 30,
            pending_request_secs: 900,
            registration: RegistrationMode::Off,
            registration_token_sha256: None,
            registration_min_level: LevelOfAssurance::Low,
            clients: Vec::new(),
        }
    }
}

impl OidcConfig {
    /// Checks what the types cannot: `token` registration needs the token's hash.
    pub fn validate(&self) -> Result<(), String> {
        if self.registration == RegistrationMode::Token {
            let ok = self.registration_token_sha256.as_deref().is_some_and(|h| {
                h.len() == 64 && h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
            });
            if !ok {
                return Err(
                    "oidc.registration_token_sha256: registration = \"token\" needs the \
                     SHA-256 (64 lowercase hex digits) of the initial access token"
                        .into(),
                );
            }
        }
        Ok(())
    }

    /// The code lifetime, capped at 60 seconds whatever the file says.
    pub fn code_ttl(&self) -> Duration {
        Duration::from_secs(self.code_secs.clamp(1, 60))
    }

    /// The access-token lifetime.
    pub fn access_token_ttl(&self) -> chrono::Duration {
        chrono::Duration::seconds(self.access_token_secs.clamp(1, 86_400) as i64)
    }

    /// The ID-token lifetime.
    pub fn id_token_ttl(&self) -> chrono::Duration {
        chrono::Duration::seconds(self.id_token_secs.clamp(1, 86_400) as i64)
    }

    /// The refresh-token family lifetime.
    pub fn refresh_ttl(&self) -> chrono::Duration {
        chrono::Duration::days(self.refresh_token_days.clamp(1, 365) as i64)
    }

    /// How long a pending authorization request is kept.
    pub fn pending_ttl(&self) -> Duration {
        Duration::from_secs(self.pending_request_secs.clamp(60, 3600))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_registration_needs_the_token_hash() {
        let mut c = OidcConfig::default();
        assert_eq!(c.registration, RegistrationMode::Off);
        assert!(c.validate().is_ok());
        c.registration = RegistrationMode::Token;
        assert!(c.validate().is_err());
        c.registration_token_sha256 = Some("ABC".into());
        assert!(c.validate().is_err());
        c.registration_token_sha256 = Some("ab".repeat(32));
        assert!(c.validate().is_ok());
        let parsed: OidcConfig =
            toml::from_str("registration = \"open\"\nregistration_min_level = \"substantial\"")
                .unwrap();
        assert_eq!(parsed.registration, RegistrationMode::Open);
        assert_eq!(parsed.registration_min_level, LevelOfAssurance::Substantial);
    }

    fn entry(extra: &str) -> ConfigClient {
        toml::from_str(&format!(
            "id = \"sede\"\nredirect_uris = [\"https://rp.example/cb\"]\n{extra}"
        ))
        .unwrap()
    }

    #[test]
    fn a_config_client_keeps_the_configured_secret() {
        let hash = secret_hash("a-long-enough-secret");
        let c = entry(&format!(
            "client_secret_sha256 = \"{hash}\"\nmin_level = \"high\"\nskip_consent = true"
        ));
        let rp = c.to_relying_party(|_| None).unwrap();
        assert_eq!(rp.min_level, LevelOfAssurance::High);
        let client = super::super::client::OidcClient::from_relying_party(rp)
            .unwrap()
            .unwrap();
        assert!(client.secret_matches("a-long-enough-secret"));
        assert!(client.settings.skip_consent);
        assert_eq!(client.settings.registered_by.as_deref(), Some("config"));
        assert_eq!(
            client.settings.grant_types,
            [GrantType::AuthorizationCode, GrantType::RefreshToken]
        );

        let c =
            entry("token_endpoint_auth_method = \"client_secret_post\"\nclient_secret_env = \"S\"");
        let rp = c
            .to_relying_party(|v| (v == "S").then(|| "from-the-environment".to_owned()))
            .unwrap();
        let client = super::super::client::OidcClient::from_relying_party(rp)
            .unwrap()
            .unwrap();
        assert!(client.secret_matches("from-the-environment"));

        let public = entry("token_endpoint_auth_method = \"none\"");
        let rp = public.to_relying_party(|_| None).unwrap();
        let client = super::super::client::OidcClient::from_relying_party(rp)
            .unwrap()
            .unwrap();
        assert!(client.settings.client_secret_sha256.is_none());
    }

    #[test]
    fn bad_config_clients_are_refused_with_their_id() {
        let hash = secret_hash("x");
        for (extra, why) in [
            ("", "needs client_secret_sha256"),
            ("client_secret_sha256 = \"ABC\"", "64 lowercase hex"),
            ("client_secret_env = \"MISSING\"", "MISSING is not set"),
            ("client_secret_env = \"SHORT\"", "shorter than 16"),
            (
                &format!("client_secret_sha256 = \"{hash}\"\nclient_secret_env = \"S\""),
                "not both",
            ),
            (
                &format!(
                    "token_endpoint_auth_method = \"none\"\nclient_secret_sha256 = \"{hash}\""
                ),
                "takes no client secret",
            ),
            (
                &format!(
                    "client_secret_sha256 = \"{hash}\"\nredirect_uris = [\"http://rp.example/cb\"]"
                ),
                "https",
            ),
            (
                &format!(
                    "client_secret_sha256 = \"{hash}\"\nrequest_object_signing_alg = \"HS256\""
                ),
                "HS256",
            ),
        ] {
            let text = if extra.contains("redirect_uris") {
                format!("id = \"sede\"\n{extra}")
            } else {
                format!("id = \"sede\"\nredirect_uris = [\"https://rp.example/cb\"]\n{extra}")
            };
            let c: ConfigClient = toml::from_str(&text).unwrap();
            let err = c
                .to_relying_party(|v| (v == "SHORT").then(|| "short".to_owned()))
                .unwrap_err();
            assert!(
                err.contains("'sede'") && err.contains(why),
                "{extra}: {err}"
            );
        }
        assert!(toml::from_str::<ConfigClient>("id = \"x\"\nclient_secret = \"plain\"").is_err());
    }
}
