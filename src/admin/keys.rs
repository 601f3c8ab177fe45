//! `pasarela keys rotate|list`.

use super::output::emit;
use crate::clock::Clock;
use crate::config::Config;
use crate::core::audit::AuditEvent;
use crate::core::keys::{KeyFamily, KeyRing};
use crate::store::Store;
use crate::store::sql::SqlStore;
use clap::{Subcommand, ValueEnum};
use std::sync::Arc;

/// Which keys to rotate.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FamilyArg {
    /// RSA keys (RS256, PS256).
    Rsa,
    /// P-256 keys (ES256).
    Ec,
    /// Both.
    All,
}

/// Key commands.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Rotate: the published next key starts signing, a new next key is published, and the
    /// old key stays published (retiring) for keys.retire_grace_days.
    Rotate {
        /// Which family.
        #[arg(long, value_enum, default_value = "all")]
        family: FamilyArg,
        /// Operator name recorded in the audit trail.
        #[arg(long, env = "PASARELA_OPERATOR", default_value = "cli")]
        operator: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// List keys with their state (a fresh database first gets its initial keys, as the
    /// server would make them at start).
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Runs a key command against the database (no running server needed; running nodes pick
/// the change up within keys.refresh_secs).
pub async fn run(cmd: KeysCommand, config: &Config, clock: Arc<dyn Clock>) -> anyhow::Result<()> {
    let store = SqlStore::connect(&config.database.url, 2).await?;
    store.migrate().await?;
    let options = crate::server::key_ring_options(config)?;
    match cmd {
        KeysCommand::Rotate {
            family,
            operator,
            json,
        } => {
            let family = match family {
                FamilyArg::Rsa => Some(KeyFamily::Rsa),
                FamilyArg::Ec => Some(KeyFamily::Ec),
                FamilyArg::All => None,
            };
            // Loading first makes sure a fresh database has keys to rotate from.
            KeyRing::load(&store, &options, clock.as_ref()).await?;
            let report = KeyRing::rotate(&store, &options, clock.as_ref(), family).await?;
            let event =
                AuditEvent::new(clock.now(), format!("operator:{operator}"), "keys.rotated")
                    .detail(serde_json::to_value(&report)?);
            store.append_audit(&event).await?;
            emit(json, &report, || {
                report
                    .families
                    .iter()
                    .map(|f| {
                        format!(
                            "{}: now signing {}; published as next {}; retiring {}",
                            f.family.as_str(),
                            f.activated.as_deref().unwrap_or("(unchanged: there was no next key yet; rotate again once relying parties have fetched it)"),
                            f.new_next,
                            f.retiring.as_deref().unwrap_or("none")
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            })
        }
        KeysCommand::List { json } => {
            // As the server would at start: a fresh database gets its first keys.
            KeyRing::load(&store, &options, clock.as_ref()).await?;
            let keys = KeyRing::list(&store).await?;
            emit(json, &keys, || {
                keys.iter()
                    .map(|k| {
                        format!(
                            "{:<28} {:<6} {:<9} created {}  changed {}",
                            k.kid,
                            k.alg,
                            k.state.as_str(),
                            k.created_at.format("%Y-%m-%d %H:%M"),
                            k.state_changed_at.format("%Y-%m-%d %H:%M")
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            })
        }
    }
}
