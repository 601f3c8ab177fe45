//! `pasarela admin client …`: registering OIDC clients. A confidential client's secret is
//! printed once at `add` and only its hash is stored.

use super::output::emit;
use crate::core::engine::{Actor, Engine};
use crate::core::keys::JwsAlg;
use crate::core::level::LevelOfAssurance;
use crate::oidc::client::{ClientAuthMethod, GrantType, NewClient, OidcClient, SubjectType};
use clap::{Args, Subcommand};
use serde_json::{Value, json};

/// Client commands.
#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Register an OIDC client (or replace one with the same id) and print its secret once.
    Add(Box<AddArgs>),
    /// List OIDC clients.
    List(JsonFlag),
    /// Show one client.
    Show(Target),
    /// Remove a client.
    Remove(Target),
}

/// Only `--json`.
#[derive(Debug, Args)]
pub struct JsonFlag {
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Which client.
#[derive(Debug, Args)]
pub struct Target {
    /// The client_id.
    pub client_id: String,
    /// Operator name recorded in the audit trail.
    #[arg(long, env = "PASARELA_OPERATOR", default_value = "cli")]
    pub operator: String,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `add` arguments.
#[derive(Debug, Args)]
pub struct AddArgs {
    /// The client_id.
    pub client_id: String,
    /// Name shown to citizens.
    #[arg(long, default_value = "")]
    pub name: String,
    /// Redirect URI (repeat for several); matched exactly, query included. Required unless
    /// the only grant is client_credentials.
    #[arg(long = "redirect-uri")]
    pub redirect_uris: Vec<String>,
    /// Post-logout redirect URI (repeat for several).
    #[arg(long = "post-logout-redirect-uri")]
    pub post_logout_redirect_uris: Vec<String>,
    /// Back-channel logout URI.
    #[arg(long)]
    pub backchannel_logout_uri: Option<String>,
    /// client_secret_basic, client_secret_post, private_key_jwt (needs --jwks-file or
    /// --jwks-uri) or none (a public client, PKCE required).
    #[arg(long, default_value = "client_secret_basic")]
    pub auth_method: String,
    /// Grant types: authorization_code, refresh_token, client_credentials, implicit (repeat;
    /// default authorization_code and refresh_token).
    #[arg(long = "grant-type")]
    pub grant_types: Vec<String>,
    /// Response types: code, "id_token", "code id_token", "id_token token", "code token",
    /// "code id_token token" (repeat; default code; all but code need the implicit grant, and
    /// those with code the authorization_code grant).
    #[arg(long = "response-type")]
    pub response_types: Vec<String>,
    /// Subject type: public or pairwise.
    #[arg(long, default_value = "public")]
    pub subject_type: String,
    /// Sector identifier URI for pairwise subjects (a JSON array listing the redirect URIs).
    #[arg(long)]
    pub sector_identifier_uri: Option<String>,
    /// File with the client's public keys as a JWK Set.
    #[arg(long)]
    pub jwks_file: Option<std::path::PathBuf>,
    /// Where the client publishes its JWK Set.
    #[arg(long)]
    pub jwks_uri: Option<String>,
    /// Algorithm of private_key_jwt assertions: RS256, PS256 or ES256.
    #[arg(long)]
    pub token_auth_alg: Option<String>,
    /// Algorithm of request objects: RS256, PS256, ES256 or none (unsigned accepted).
    #[arg(long)]
    pub request_object_alg: Option<String>,
    /// Pre-registered request_uri (repeat for several).
    #[arg(long = "request-uri")]
    pub request_uris: Vec<String>,
    /// Sign userinfo responses with RS256, PS256 or ES256.
    #[arg(long)]
    pub userinfo_alg: Option<String>,
    /// Front-channel logout URI.
    #[arg(long)]
    pub frontchannel_logout_uri: Option<String>,
    /// Logo shown to citizens.
    #[arg(long)]
    pub logo_uri: Option<String>,
    /// Privacy policy link shown to citizens.
    #[arg(long)]
    pub policy_uri: Option<String>,
    /// Terms of service link shown to citizens.
    #[arg(long)]
    pub tos_uri: Option<String>,
    /// ID token signing algorithm: RS256, PS256 or ES256.
    #[arg(long, default_value = "RS256")]
    pub id_token_alg: String,
    /// Minimum level: low, substantial or high.
    #[arg(long, default_value = "low")]
    pub min_level: String,
    /// Skip the consent page (public-sector services).
    #[arg(long)]
    pub skip_consent: bool,
    /// Operator name recorded in the audit trail.
    #[arg(long, env = "PASARELA_OPERATOR", default_value = "cli")]
    pub operator: String,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// A client as shown: never its secret or secret hash.
fn describe(c: &OidcClient) -> Value {
    let s = &c.settings;
    json!({
        "client_id": c.id(),
        "name": c.rp.display_name,
        "enabled": c.rp.enabled,
        "redirect_uris": s.redirect_uris,
        "post_logout_redirect_uris": c.rp.logout.post_logout_redirect_uris,
        "backchannel_logout_uri": c.rp.logout.backchannel_uri,
        "grant_types": s.grant_types,
        "response_types": s.response_types,
        "token_endpoint_auth_method": s.token_endpoint_auth_method,
        "id_token_signed_response_alg": s.id_token_signed_response_alg,
        "subject_type": s.subject_type,
        "sector_identifier_uri": s.sector_identifier_uri,
        "jwks": s.jwks,
        "jwks_uri": s.jwks_uri,
        "token_endpoint_auth_signing_alg": s.token_endpoint_auth_signing_alg,
        "request_object_signing_alg": s.request_object_signing_alg,
        "request_uris": s.request_uris,
        "userinfo_signed_response_alg": s.userinfo_signed_response_alg,
        "frontchannel_logout_uri": c.rp.logout.frontchannel_uri,
        "logo_uri": s.logo_uri,
        "policy_uri": s.policy_uri,
        "tos_uri": s.tos_uri,
        "registered_by": s.registered_by,
        "min_level": c.rp.min_level,
        "skip_consent": s.skip_consent,
    })
}

fn text(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

async fn load(engine: &Engine, id: &str) -> anyhow::Result<OidcClient> {
    let rp = engine
        .store
        .relying_party(id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no client '{id}'"))?;
    OidcClient::from_relying_party(rp)?
        .ok_or_else(|| anyhow::anyhow!("'{id}' is not an OIDC client"))
}

/// Runs one client command.
pub async fn run(command: ClientCommand, engine: &Engine) -> anyhow::Result<()> {
    match command {
        ClientCommand::Add(a) => {
            let grant_types = if a.grant_types.is_empty() {
                vec![GrantType::AuthorizationCode, GrantType::RefreshToken]
            } else {
                a.grant_types
                    .iter()
                    .map(|g| g.parse())
                    .collect::<Result<_, _>>()?
            };
            let alg = |v: &Option<String>| -> anyhow::Result<Option<JwsAlg>> {
                Ok(v.as_deref().map(str::parse::<JwsAlg>).transpose()?)
            };
            let subject_type = match a.subject_type.as_str() {
                "public" => SubjectType::Public,
                "pairwise" => SubjectType::Pairwise,
                other => anyhow::bail!("unsupported subject type '{other}': public or pairwise"),
            };
            let jwks = match &a.jwks_file {
                Some(path) => {
                    let text = std::fs::read_to_string(path)
                        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
                    Some(
                        serde_json::from_str::<Value>(&text)
                            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?,
                    )
                }
                None => None,
            };
            let request_object_signing_alg = match a.request_object_alg.as_deref() {
                None => None,
                Some("none") => Some("none".to_owned()),
                Some(other) => Some(other.parse::<JwsAlg>()?.as_str().to_owned()),
            };
            let new = NewClient {
                response_types: a.response_types.clone(),
                subject_type,
                sector_identifier_uri: a.sector_identifier_uri.clone(),
                jwks,
                jwks_uri: a.jwks_uri.clone(),
                token_endpoint_auth_signing_alg: alg(&a.token_auth_alg)?,
                request_object_signing_alg,
                request_uris: a.request_uris.clone(),
                userinfo_signed_response_alg: alg(&a.userinfo_alg)?,
                frontchannel_logout_uri: a.frontchannel_logout_uri.clone(),
                logo_uri: a.logo_uri.clone(),
                policy_uri: a.policy_uri.clone(),
                tos_uri: a.tos_uri.clone(),
                id: a.client_id.clone(),
                display_name: a.name.clone(),
                redirect_uris: a.redirect_uris.clone(),
                post_logout_redirect_uris: a.post_logout_redirect_uris.clone(),
                backchannel_logout_uri: a.backchannel_logout_uri.clone(),
                grant_types,
                auth_method: a.auth_method.parse::<ClientAuthMethod>()?,
                id_token_alg: a.id_token_alg.parse::<JwsAlg>()?,
                min_level: a
                    .min_level
                    .parse::<LevelOfAssurance>()
                    .map_err(|e| anyhow::anyhow!("{e}"))?,
                skip_consent: a.skip_consent,
                registered_by: Some("admin".into()),
                ..Default::default()
            };
            crate::oidc::registration::check_sector(&new)
                .await
                .map_err(|e| anyhow::anyhow!("{}", e.description))?;
            let (rp, secret) = new.build()?;
            engine.store.put_relying_party(&rp).await?;
            let event = engine
                .event(&Actor::operator(&a.operator), "oidc.client.registered")
                .detail(json!({ "client": rp.id }));
            engine.audit(event).await?;
            let client = load(engine, &a.client_id).await?;
            let mut out = describe(&client);
            out["client_secret"] = json!(secret);
            emit(a.json, &out, || {
                let mut t = text(&describe(&client));
                if let Some(s) = &secret {
                    t.push_str(&format!("\nclient_secret (shown only now): {s}"));
                }
                t
            })
        }
        ClientCommand::List(f) => {
            let mut clients = Vec::new();
            for rp in engine.store.relying_parties().await? {
                if let Some(c) = OidcClient::from_relying_party(rp)? {
                    clients.push(describe(&c));
                }
            }
            let value = Value::Array(clients);
            emit(f.json, &value, || {
                value
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .map(|c| format!("{}\t{}", c["client_id"], c["name"]))
                            .collect::<Vec<_>>()
                            .join("\n")
                    })
                    .unwrap_or_default()
            })
        }
        ClientCommand::Show(t) => {
            let c = describe(&load(engine, &t.client_id).await?);
            emit(t.json, &c, || text(&c))
        }
        ClientCommand::Remove(t) => {
            load(engine, &t.client_id).await?;
            engine.store.delete_relying_party(&t.client_id).await?;
            let event = engine
                .event(&Actor::operator(&t.operator), "oidc.client.removed")
                .detail(json!({ "client": t.client_id }));
            engine.audit(event).await?;
            let out = json!({ "removed": t.client_id });
            emit(t.json, &out, || format!("removed client {}", t.client_id))
        }
    }
}
