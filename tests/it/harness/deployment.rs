//! The deployment: a temporary directory (config file from a delta, SQLite database,
//! key-encryption key, SMS and email outboxes), the command line run against it, the real
//! server started in process from it, and the seeded citizen.

use super::Browser;
use pasarela::clock::SystemClock;
use pasarela::config::Config;
use pasarela::core::citizen::Citizen;
use pasarela::core::level::{AuthMethod, LevelOfAssurance};
use pasarela::core::session::{SessionCookie, SsoSession};
use pasarela::server::{Running, start};
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::Arc;
use std::time::Duration;

/// The password the suites activate Lucía with.
pub const PASSWORD: &str = "Tortuga-Marina-Azul-2031";

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

/// A deployment whose SMS and email go to outbox files in its directory, with cheap Argon2
/// parameters so journeys run fast; `extra` is appended to the config file.
pub fn journey_deployment(extra: &str) -> Deployment {
    let d = Deployment::new("");
    let root = d.dir.path().display().to_string();
    let mut text = std::fs::read_to_string(&d.config_path).unwrap();
    text.push_str(&format!(
        "\n[sms]\nprovider = \"outbox\"\noutbox_path = \"{root}/sms.jsonl\"\n\
         [email]\nprovider = \"outbox\"\noutbox_path = \"{root}/email.jsonl\"\n\
         [credentials.argon2]\nmemory_kib = 1024\niterations = 1\n{extra}"
    ));
    std::fs::write(&d.config_path, text).unwrap();
    d
}

impl Deployment {
    /// Texts sent by SMS to `to` (E.164), oldest first.
    pub fn sms_to(&self, to: &str) -> Vec<String> {
        let path = self.dir.path().join("sms.jsonl");
        std::fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|m| m["to"] == to)
            .map(|m| m["text"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    /// The code (the first run of 6 or more digits) in the latest SMS to `to`.
    pub fn last_sms_code(&self, to: &str) -> String {
        let texts = self.sms_to(to);
        let text = texts.last().unwrap_or_else(|| panic!("no SMS to {to}"));
        first_code(text).unwrap_or_else(|| panic!("no code in {text:?}"))
    }

    /// Email messages (JSON objects) sent to `to`, oldest first.
    pub fn emails_to(&self, to: &str) -> Vec<serde_json::Value> {
        let path = self.dir.path().join("email.jsonl");
        std::fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|m| m["to"] == to)
            .collect()
    }
}

/// The first run of 6 or more ASCII digits in `text`.
pub fn first_code(text: &str) -> Option<String> {
    text.split(|c: char| !c.is_ascii_digit())
        .find(|run| run.len() >= 6)
        .map(str::to_owned)
}

/// A TCP port free on loopback right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The citizen registered with `identifier`, with the security policy accepted and activated
/// with `password` through the engine (the journeys' own pages are tested elsewhere).
pub async fn activate_registered(
    state: &pasarela::web::AppState,
    identifier: &str,
    password: &str,
) -> pasarela::core::citizen::Citizen {
    use pasarela::core::engine::Actor;
    let engine = &state.engine;
    let id = pasarela::core::identifier::Identifier::parse_any(identifier).unwrap();
    let citizen = engine
        .store
        .citizen_by_identifier(&id)
        .await
        .unwrap()
        .unwrap();
    engine
        .accept_security_policy(citizen.id, "2024-1", &Actor::system())
        .await
        .unwrap();
    engine
        .activate(
            citizen.id,
            password,
            password,
            state.config.credentials.password_policy,
            &state.hasher,
            &Actor::system(),
        )
        .await
        .unwrap();
    engine.store.citizen(citizen.id).await.unwrap().unwrap()
}

/// The real server up on a deployment, and a browser on it.
pub struct Live {
    pub d: Deployment,
    pub server: Running,
    pub b: Browser,
}

impl Live {
    /// Starts the server on `d`.
    pub async fn start(d: Deployment) -> Self {
        let server = d.start().await;
        let b = Browser::new(server.addr);
        Self { d, server, b }
    }

    /// Registers Lucía on `d` (with `register` added to [`register_args`]), starts the server
    /// and activates her with `password` through the engine.
    pub async fn with_lucia(d: Deployment, register: &[&str], password: &str) -> (Self, Citizen) {
        let mut args = register_args("12345678Z");
        args.extend(register.iter().map(|s| s.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        d.cli_ok(&args);
        let live = Self::start(d).await;
        let citizen = activate_registered(&live.server.state, "12345678Z", password).await;
        (live, citizen)
    }

    /// Stores `client` as the library registers it; its secret, if it has one.
    pub async fn register(&self, client: pasarela::oidc::client::NewClient) -> Option<String> {
        let (rp, secret) = client.build().unwrap();
        self.server
            .state
            .engine
            .store
            .put_relying_party(&rp)
            .await
            .unwrap();
        secret
    }

    pub fn base(&self) -> String {
        format!("http://{}", self.server.addr)
    }

    /// A live session of `citizen` made through the engine with `methods` at `level`, and its
    /// cookie as `name=value`.
    pub async fn session(
        &self,
        citizen: &Citizen,
        methods: &[AuthMethod],
        level: LevelOfAssurance,
    ) -> (SsoSession, String) {
        let state = &self.server.state;
        let (s, c) = state
            .engine
            .create_session(
                citizen.id,
                methods,
                level,
                None,
                None,
                &state.config.sessions,
            )
            .await
            .unwrap();
        (s, format!("{}={}", SessionCookie::name(false), c.value()))
    }

    pub async fn stop(self) {
        self.server.shutdown(Duration::from_secs(1)).await.unwrap();
    }
}
