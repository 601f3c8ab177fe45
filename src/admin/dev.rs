//! `pasarela dev …`: conveniences for a development deployment only (refused unless
//! `dev.enabled`). `dev seed` creates a demo citizen who can log in at once, so a newcomer goes
//! from nothing to a logged-in citizen with the browser alone.

use super::output::emit;
use crate::config::Config;
use crate::core::CoreError;
use crate::core::account::ActivationResult;
use crate::core::citizen::{CitizenStatus, NewCitizen, PostalAddress};
use crate::core::engine::{Actor, Engine};
use crate::core::level::ProofingLevel;
use clap::{Args, Subcommand};
use serde_json::json;

/// The demo citizen's document number.
pub const DEMO_ID: &str = "12345678Z";
/// The demo citizen's password: valid under both the `nist` and the `anses` rules.
pub const DEMO_PASSWORD: &str = "Prueba2026Clave";
/// The demo citizen's mobile number (its SMS land in the development outbox).
pub const DEMO_MOBILE: &str = "+34600111222";

/// Development commands.
#[derive(Debug, Subcommand)]
pub enum DevCommand {
    /// Create (or reset) the demo citizen, active with a known password, and print how to log in.
    Seed(SeedArgs),
}

/// `dev seed` options.
#[derive(Debug, Args)]
pub struct SeedArgs {
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

fn demo_citizen() -> NewCitizen {
    NewCitizen {
        id_type: "dni".into(),
        id_number: DEMO_ID.into(),
        given_name: "Lucía".into(),
        family_names: "García Pérez".into(),
        birth_date: "1980-02-29".into(),
        email: "lucia@example.es".into(),
        mobile: DEMO_MOBILE.into(),
        address: PostalAddress::default(),
        tramite: None,
        verification_facts: Vec::new(),
        proofing: Some(ProofingLevel::InPerson),
    }
}

/// Refuses unless the deployment is a development one.
pub fn require_dev(config: &Config) -> anyhow::Result<()> {
    if !config.dev.enabled {
        anyhow::bail!("`dev` commands only run on a development deployment (dev.enabled = true)");
    }
    Ok(())
}

/// Runs a development command.
pub async fn run(cmd: DevCommand, config: &Config, engine: &Engine) -> anyhow::Result<()> {
    require_dev(config)?;
    match cmd {
        DevCommand::Seed(args) => {
            let actor = Actor::operator("dev-seed");
            let hasher = config.credentials.hasher()?;
            let preset = config.credentials.password_policy;
            let citizen = match engine.find_citizen(DEMO_ID).await {
                Ok(c) => c,
                Err(CoreError::NotFound(_)) => {
                    engine
                        .register_citizen(&demo_citizen(), &actor)
                        .await?
                        .citizen
                }
                Err(e) => return Err(e.into()),
            };
            match citizen.status {
                CitizenStatus::Registered => {
                    let version = &config.citizens.security_policy_version;
                    engine
                        .accept_security_policy(citizen.id, version, &actor)
                        .await?;
                    let done = engine
                        .activate(
                            citizen.id,
                            DEMO_PASSWORD,
                            DEMO_PASSWORD,
                            preset,
                            &hasher,
                            &actor,
                        )
                        .await?;
                    if !matches!(done, ActivationResult::Activated(_)) {
                        anyhow::bail!("the demo citizen could not be activated: {done:?}");
                    }
                }
                CitizenStatus::Active => {
                    if let Err(v) = engine
                        .set_password(&citizen, DEMO_PASSWORD, preset, &hasher, &actor)
                        .await?
                    {
                        anyhow::bail!("the demo password breaks the password rules: {v:?}");
                    }
                }
                other => anyhow::bail!(
                    "the demo citizen {DEMO_ID} is {}; start from a fresh development database",
                    other.as_str()
                ),
            }
            let base = config.issuer();
            emit(
                args.json,
                &json!({ "identifier": DEMO_ID, "password": DEMO_PASSWORD, "mobile": DEMO_MOBILE, "login": format!("{base}/login"), "sms": format!("{base}/dev/sms") }),
                || {
                    format!(
                        "demo citizen ready: Lucía García Pérez\n\n\
                         \x20 log in at  {base}/login\n\
                         \x20 identifier {DEMO_ID}\n\
                         \x20 password   {DEMO_PASSWORD}\n\
                         \x20 SMS code   {base}/dev/sms (sent to {DEMO_MOBILE})"
                    )
                },
            )
        }
    }
}
