//! Command-line interface.

use crate::clock::{Clock, SystemClock};
use crate::config::{CONFIG_FILE_ENV, Config};
use crate::web::settings::LogFormat;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::sync::Arc;

/// pasarela: a federated identity provider (OpenID Connect and SAML 2.0 / eIDAS).
#[derive(Debug, Parser)]
#[command(name = "pasarela", version, about)]
pub struct Cli {
    /// Configuration file (TOML). Environment variables PASARELA_<SECTION>__<KEY> override it.
    #[arg(long, short, global = true, env = CONFIG_FILE_ENV, default_value = "config/pasarela.toml")]
    pub config: PathBuf,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Top-level commands.
#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once per process; boxing buys nothing
pub enum Command {
    /// Run the server (migrations are applied at start).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Check the configuration and exit.
    CheckConfig,
    /// Signing keys.
    Keys {
        #[command(subcommand)]
        command: super::keys::KeysCommand,
    },
    /// Development conveniences (`dev seed`); refused unless `dev.enabled`.
    Dev {
        #[command(subcommand)]
        command: super::dev::DevCommand,
    },
    /// Registry-office and operator commands.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
}

/// `pasarela admin …`
#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once per process; boxing buys nothing
pub enum AdminCommand {
    /// Citizens: register, show, set-level, block, unblock, reissue-code.
    Citizen {
        #[command(subcommand)]
        command: super::citizen::CitizenCommand,
    },
    /// OIDC clients: add, list, show, remove.
    Client {
        #[command(subcommand)]
        command: super::client::ClientCommand,
    },
    /// Invitation letters: `letter issue ID` prints a letter with a CSV code.
    Letter {
        #[command(subcommand)]
        command: super::letter::LetterCommand,
    },
    /// List the audit trail, or `audit verify` to check its hash chain.
    Audit(super::audit::AuditArgs),
    /// SAML service providers: add (from metadata), list, show, remove.
    Sp {
        #[command(subcommand)]
        command: super::sp::SpCommand,
    },
}

fn init_logging(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&config.log.level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // A second initialisation (tests) is not an error worth failing for.
    let _ = match config.log.format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

/// Runs one command.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = Config::load(&cli.config)?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    match cli.command {
        Command::Serve => {
            init_logging(&config);
            crate::server::serve(config, clock).await
        }
        Command::Migrate => {
            let store = crate::store::sql::SqlStore::connect(&config.database.url, 1).await?;
            store.migrate().await?;
            println!("migrations applied to {}", redact_url(&config.database.url));
            Ok(())
        }
        Command::CheckConfig => {
            println!("configuration {} is valid", cli.config.display());
            for w in config.dev_warnings() {
                println!("warning: {w}");
            }
            Ok(())
        }
        Command::Keys { command } => super::keys::run(command, &config, clock).await,
        Command::Dev { command } => {
            super::dev::require_dev(&config)?;
            let services = crate::server::open(&config, clock).await?;
            super::dev::run(command, &config, &services.engine).await
        }
        Command::Admin { command } => {
            let services = crate::server::open(&config, clock).await?;
            match command {
                AdminCommand::Citizen { command } => {
                    super::citizen::run(command, &services.engine).await
                }
                AdminCommand::Client { command } => {
                    super::client::run(command, &services.engine).await
                }
                AdminCommand::Letter { command } => {
                    super::letter::run(command, &services.engine).await
                }
                AdminCommand::Audit(args) => super::audit::run(args, &services.engine).await,
                AdminCommand::Sp { command } => super::sp::run(command, &services.engine).await,
            }
        }
    }
}

/// A database URL without its password, for messages.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_owned(),
    }
}
