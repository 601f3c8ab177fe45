//! `pasarela admin sp …`: SAML service providers, registered from their metadata.

use super::output::emit;
use crate::core::engine::{Actor, Engine};
use crate::core::level::LevelOfAssurance;
use crate::core::relying_party::RelyingParty;
use crate::saml::sp::{Registration, SpSettings, SpType, from_metadata};
use clap::{Args, Subcommand};
use serde_json::json;
use std::path::PathBuf;

/// Service-provider commands.
#[derive(Debug, Subcommand)]
pub enum SpCommand {
    /// Register (or replace) a service provider from its SAML metadata file.
    Add(AddArgs),
    /// List the SAML service providers.
    List(JsonFlag),
    /// Show one service provider.
    Show(Target),
    /// Remove a service provider.
    Remove(Target),
}

/// `--json` alone.
#[derive(Debug, Args)]
pub struct JsonFlag {
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// One service provider by entityID.
#[derive(Debug, Args)]
pub struct Target {
    /// The SP's entityID.
    pub entity_id: String,
    /// Operator name recorded in the audit trail.
    #[arg(long, env = "PASARELA_OPERATOR", default_value = "cli")]
    pub operator: String,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `sp add` arguments.
#[derive(Debug, Args)]
pub struct AddArgs {
    /// The SP's metadata (an EntityDescriptor with an SPSSODescriptor).
    #[arg(long)]
    pub metadata: PathBuf,
    /// Never assert below this level to this SP.
    #[arg(long, default_value = "substantial")]
    pub min_level: LevelOfAssurance,
    /// Encrypt assertions to the SP's encryption certificate.
    #[arg(long)]
    pub encrypt: bool,
    /// eIDAS SP type: public or private.
    #[arg(long, default_value = "public")]
    pub sp_type: SpType,
    /// Attributes released (eIDAS friendly names; repeatable). Default: PersonIdentifier,
    /// CurrentFamilyName, CurrentGivenName, DateOfBirth.
    #[arg(long = "attribute")]
    pub attributes: Vec<String>,
    /// Name shown to citizens (default: the entityID).
    #[arg(long, default_value = "")]
    pub display_name: String,
    /// Sign responses with the EC key (ECDSA-SHA256) instead of RSA-SHA256.
    #[arg(long)]
    pub sign_with_ec: bool,
    /// NameID format used when a request names none (persistent, transient or unspecified
    /// URI; default: the metadata's first known one).
    #[arg(long)]
    pub name_id_format: Option<String>,
    /// Operator name recorded in the audit trail.
    #[arg(long, env = "PASARELA_OPERATOR", default_value = "cli")]
    pub operator: String,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

fn view(rp: &RelyingParty) -> anyhow::Result<serde_json::Value> {
    let s = SpSettings::of(rp)?.ok_or_else(|| anyhow::anyhow!("{} is not a SAML SP", rp.id))?;
    Ok(json!({
        "entity_id": rp.id,
        "display_name": rp.display_name,
        "min_level": rp.min_level,
        "enabled": rp.enabled,
        "attributes": rp.attribute_release,
        "acs": s.acs,
        "slo": rp.logout.saml_slo,
        "name_id_format": s.name_id_format,
        "encrypt_assertions": s.encrypt_assertions,
        "sp_type": s.sp_type,
        "sign_with_ec": s.sign_with_ec,
        "signing_certificates": s.signing_certificates.len(),
    }))
}

fn text(v: &serde_json::Value) -> String {
    format!(
        "{}  min_level={} sp_type={} encrypt={} acs={}",
        v["entity_id"].as_str().unwrap_or_default(),
        v["min_level"].as_str().unwrap_or_default(),
        v["sp_type"].as_str().unwrap_or_default(),
        v["encrypt_assertions"],
        v["acs"].as_array().map_or(0, Vec::len),
    )
}

/// Runs a service-provider command.
pub async fn run(cmd: SpCommand, engine: &Engine) -> anyhow::Result<()> {
    match cmd {
        SpCommand::Add(a) => {
            let metadata = std::fs::read_to_string(&a.metadata)
                .map_err(|e| anyhow::anyhow!("{}: {e}", a.metadata.display()))?;
            let rp = from_metadata(&Registration {
                metadata,
                min_level: a.min_level,
                encrypt: a.encrypt,
                sp_type: a.sp_type,
                attributes: a.attributes,
                display_name: a.display_name,
                sign_with_ec: a.sign_with_ec,
                name_id_format: a.name_id_format,
            })?;
            engine.store.put_relying_party(&rp).await?;
            engine
                .audit(
                    engine
                        .event(&Actor::operator(&a.operator), "saml.sp.added")
                        .detail(json!({ "sp": rp.id })),
                )
                .await?;
            let v = view(&rp)?;
            emit(a.json, &v, || format!("registered {}", text(&v)))
        }
        SpCommand::List(f) => {
            let mut all = Vec::new();
            for rp in engine.store.relying_parties().await? {
                if SpSettings::of(&rp)?.is_some() {
                    all.push(view(&rp)?);
                }
            }
            emit(f.json, &all, || {
                all.iter().map(text).collect::<Vec<_>>().join("\n")
            })
        }
        SpCommand::Show(t) => {
            let rp = engine
                .store
                .relying_party(&t.entity_id)
                .await?
                .ok_or_else(|| anyhow::anyhow!("no service provider {}", t.entity_id))?;
            let v = view(&rp)?;
            emit(t.json, &v, || {
                serde_json::to_string_pretty(&v).unwrap_or_default()
            })
        }
        SpCommand::Remove(t) => {
            let is_sp = match engine.store.relying_party(&t.entity_id).await? {
                Some(rp) => SpSettings::of(&rp)?.is_some(),
                None => false,
            };
            if !is_sp || !engine.store.delete_relying_party(&t.entity_id).await? {
                anyhow::bail!("no service provider {}", t.entity_id);
            }
            engine
                .audit(
                    engine
                        .event(&Actor::operator(&t.operator), "saml.sp.removed")
                        .detail(json!({ "sp": t.entity_id })),
                )
                .await?;
            emit(t.json, &json!({ "removed": t.entity_id }), || {
                format!("removed {}", t.entity_id)
            })
        }
    }
}
