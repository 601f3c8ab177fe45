//! `pasarela admin audit [--citizen ID] [verify]`.

use super::output::emit;
use crate::core::engine::{AuditVerdict, Engine};
use clap::{Args, Subcommand};
use serde_json::json;

/// Audit arguments.
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// `verify`: check the hash chain instead of listing.
    #[command(subcommand)]
    pub command: Option<AuditCommand>,
    /// Only events about this citizen (identifier or internal id).
    #[arg(long)]
    pub citizen: Option<String>,
    /// Start after this sequence number.
    #[arg(long, default_value_t = 0)]
    pub after: i64,
    /// At most this many entries.
    #[arg(long, default_value_t = 100)]
    pub limit: i64,
    /// Print JSON.
    #[arg(long, global = true)]
    pub json: bool,
}

/// Audit subcommands.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check that no entry was edited, removed or inserted; exits non-zero if one was.
    Verify,
}

/// Runs an audit command.
pub async fn run(args: AuditArgs, engine: &Engine) -> anyhow::Result<()> {
    if let Some(AuditCommand::Verify) = args.command {
        return match engine.verify_audit().await? {
            AuditVerdict::Intact { entries } => emit(
                args.json,
                &json!({ "intact": true, "entries": entries }),
                || format!("audit chain intact: {entries} entries verified"),
            ),
            AuditVerdict::Broken(e) => {
                emit(
                    args.json,
                    &json!({ "intact": false, "error": e.to_string() }),
                    || format!("AUDIT CHAIN BROKEN: {e}"),
                )?;
                anyhow::bail!("the audit trail has been tampered with: {e}")
            }
        };
    }
    let citizen = match &args.citizen {
        Some(c) => Some(engine.find_citizen(c).await?.id),
        None => None,
    };
    let entries = engine
        .store
        .audit_entries(citizen, args.after, args.limit.clamp(1, 10_000))
        .await?;
    emit(args.json, &entries, || {
        entries
            .iter()
            .map(|e| {
                format!(
                    "{:>6}  {}  {:<28} {:<8} {:<20} {}{}",
                    e.seq,
                    e.event.at.format("%Y-%m-%d %H:%M:%S"),
                    e.event.kind,
                    e.event.outcome.as_str(),
                    e.event.actor,
                    e.event.citizen.map(|c| c.to_string()).unwrap_or_default(),
                    if e.event.detail.is_null() {
                        String::new()
                    } else {
                        format!(" {}", e.event.detail)
                    }
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    })
}
