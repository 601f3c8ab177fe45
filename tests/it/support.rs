//! Fixtures: a temporary deployment (config file, SQLite database, key-encryption key) and
//! helpers to run the binary or start the server in process.

use pasarela::clock::SystemClock;
use pasarela::config::Config;
use pasarela::server::{Running, start};
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::Arc;

/// A throwaway deployment in a temporary directory.
pub struct Deployment {
    pub dir: tempfile::TempDir,
    pub config_path: PathBuf,
}

impl Deployment {
    /// A development-style deployment on SQLite; `extra` is appended to the config file.
    pub fn new(extra: &str) -> Self {
        Self::custom("", extra)
    }

    /// Like [`Deployment::new`], with `server_extra` added to the `[server]` table.
    pub fn custom(server_extra: &str, extra: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().display().to_string();
        let text = format!(
            "public_url = \"http://localhost:8080\"\n\
             [server]\nbind = \"127.0.0.1:0\"\n{server_extra}\n\
             [database]\nurl = \"sqlite://{root}/pasarela.db\"\n\
             [keys]\nkek_file = \"{root}/kek.b64\"\n\
             [dev]\nenabled = true\n{extra}"
        );
        let config_path = dir.path().join("pasarela.toml");
        std::fs::write(&config_path, text).unwrap();
        Self { dir, config_path }
    }

    /// Runs `pasarela --config <this> args…`.
    pub fn cli(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_pasarela"))
            .arg("--config")
            .arg(&self.config_path)
            .args(args)
            .env_remove("PASARELA_CONFIG")
            .output()
            .unwrap()
    }

    /// Like [`Deployment::cli`], asserting success and returning stdout.
    pub fn cli_ok(&self, args: &[&str]) -> String {
        let out = self.cli(args);
        assert!(
            out.status.success(),
            "pasarela {args:?} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Like [`Deployment::cli_ok`] with `--json`, parsed.
    pub fn cli_json(&self, args: &[&str]) -> serde_json::Value {
        let mut a = args.to_vec();
        a.push("--json");
        serde_json::from_str(&self.cli_ok(&a)).unwrap()
    }

    /// The configuration, loaded as the server would.
    pub fn config(&self) -> Config {
        Config::load(&self.config_path).unwrap()
    }

    /// Starts the real server in process on a free port.
    pub async fn start(&self) -> Running {
        start(self.config(), Arc::new(SystemClock)).await.unwrap()
    }
}

/// Arguments registering a valid citizen with `id`.
pub fn register_args(id: &str) -> Vec<String> {
    [
        "admin",
        "citizen",
        "register",
        id,
        "--given-name",
        "Lucía",
        "--family-names",
        "García Pérez",
        "--birth-date",
        "1980-02-29",
        "--email",
        "lucia@example.es",
        "--mobile",
        "600111222",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// A fresh PostgreSQL database on the test server, or `None` (with a notice) when no server
/// was given and none is required.
pub async fn fresh_postgres_database() -> Option<String> {
    let Ok(base) = std::env::var("TEST_POSTGRES_URL") else {
        assert!(
            std::env::var("TEST_REQUIRE_BACKENDS").as_deref() != Ok("1"),
            "TEST_POSTGRES_URL is required"
        );
        eprintln!("NOTICE: TEST_POSTGRES_URL not set; skipping the PostgreSQL run");
        return None;
    };
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(&base).await.unwrap();
    let name = format!(
        "pasarela_it_{}",
        pasarela::core::random::digits(12).unwrap()
    );
    sqlx::Executor::execute(&mut conn, format!("CREATE DATABASE {name}").as_str())
        .await
        .unwrap();
    let mut url = url::Url::parse(&base).unwrap();
    url.set_path(&name);
    Some(url.to_string())
}

/// The Redis URL of the test server, or `None` when not given and not required.
pub fn redis_url() -> Option<String> {
    match std::env::var("TEST_REDIS_URL") {
        Ok(u) => Some(u),
        Err(_) => {
            assert!(
                std::env::var("TEST_REQUIRE_BACKENDS").as_deref() != Ok("1"),
                "TEST_REDIS_URL is required"
            );
            eprintln!("NOTICE: TEST_REDIS_URL not set; skipping the Redis run");
            None
        }
    }
}
