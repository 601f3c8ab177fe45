//! Start-up and shutdown: open the stores, load the keys, build the engine, serve HTTP(S), and
//! stop gracefully on SIGTERM/SIGINT.

use crate::clock::Clock;
use crate::config::Config;
use crate::core::activation::CodeHasher;
use crate::core::credentials::{SecretBox, TOTP_KEY_LABEL};
use crate::core::engine::Engine;
use crate::core::keys::KeySourceKind;
use crate::core::keys::{Kek, KeyFile, KeyRing, KeyRingOptions, KeySource};
use crate::store::ephemeral::memory::MemoryStore;
use crate::store::ephemeral::redis::RedisStore;
use crate::store::settings::EphemeralBackend;
use crate::store::sql::SqlStore;
use crate::store::{EphemeralStore, Store};
use crate::web::{self, AppState};
use anyhow::Context;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// Label under which the activation-code hashing key is derived from the key-encryption key.
const CODE_KEY_LABEL: &[u8] = b"pasarela activation-code hmac v1";

/// Everything a node needs, opened and checked: used by the server and by the operator CLI.
pub struct Services {
    /// The identity engine.
    pub engine: Engine,
    /// The signing keys.
    pub keys: KeyRing,
    /// Options the key ring was loaded with (for rotation from the CLI).
    pub key_options: KeyRingOptions,
    memory: Option<Arc<MemoryStore>>,
}

/// Loads the key-encryption key named in config (creating it in development mode).
pub fn load_kek(config: &Config) -> anyhow::Result<Kek> {
    if let Some(b64) = &config.keys.kek {
        return Kek::from_base64(b64).context("keys.kek");
    }
    let path = config
        .keys
        .kek_file
        .as_ref()
        .context("keys.kek_file: not set")?;
    if config.dev.enabled {
        Kek::load_or_create(path).with_context(|| format!("keys.kek_file {}", path.display()))
    } else {
        Kek::load(path).with_context(|| format!("keys.kek_file {}", path.display()))
    }
}

/// The key-ring options the configuration describes.
pub fn key_ring_options(config: &Config) -> anyhow::Result<KeyRingOptions> {
    let source = match config.keys.source {
        KeySourceKind::Database => KeySource::Database(load_kek(config)?),
        KeySourceKind::Files => KeySource::Files(
            config
                .keys
                .files
                .iter()
                .map(|f| KeyFile {
                    kid: f.kid.clone(),
                    state: f.state,
                    private_key_pem: f.private_key.clone(),
                    certificate_pem: f.certificate.clone(),
                })
                .collect(),
        ),
    };
    Ok(KeyRingOptions {
        rsa_bits: config.keys.rsa_bits,
        retire_grace: chrono::Duration::days(i64::from(config.keys.retire_grace_days)),
        generate_if_missing: config.keys.generate_if_missing,
        subject_cn: config
            .public_url
            .host_str()
            .unwrap_or("pasarela")
            .to_owned(),
        source,
    })
}

/// Connects to the database (applying migrations) and the ephemeral store, loads the keys and
/// builds the engine.
pub async fn open(config: &Config, clock: Arc<dyn Clock>) -> anyhow::Result<Services> {
    let sql = SqlStore::connect(&config.database.url, config.database.max_connections)
        .await
        .context("database.url: cannot open the database")?;
    sql.migrate()
        .await
        .context("applying database migrations")?;
    let store: Arc<dyn Store> = Arc::new(sql);
    let (ephemeral, memory): (Arc<dyn EphemeralStore>, _) = match config.ephemeral.backend {
        EphemeralBackend::Memory => {
            let m = Arc::new(MemoryStore::with_capacity_limit(
                clock.clone(),
                config.ephemeral.max_entries,
            ));
            (m.clone(), Some(m))
        }
        EphemeralBackend::Redis => {
            let url = config.ephemeral.redis_url.as_deref().unwrap_or_default();
            let r = RedisStore::connect(url, &config.ephemeral.key_prefix)
                .await
                .context("ephemeral.redis_url: cannot reach Redis")?;
            (Arc::new(r), None)
        }
    };
    let kek = load_kek(config)?;
    let codes = CodeHasher::new(kek.derive(CODE_KEY_LABEL)?);
    let secrets = SecretBox::new(kek.derive(TOTP_KEY_LABEL)?);
    let key_options = key_ring_options(config)?;
    let keys = KeyRing::load(store.as_ref(), &key_options, clock.as_ref())
        .await
        .context("loading signing keys")?;
    let engine = Engine {
        store,
        ephemeral,
        clock,
        policy: config.levels.policy(),
        vocabulary: config.levels.vocabulary(),
        citizens: config.citizens.clone(),
        login: config.login,
        codes,
        secrets,
        notifiers: session_end_notifiers(config, &keys),
    };
    Ok(Services {
        engine,
        keys,
        key_options,
        memory,
    })
}

/// Who hears of every ended SSO session, one per protocol: the OIDC notifier (revokes the
/// session's tokens, back-channel logout tokens) and the SAML one (SOAP LogoutRequests, or
/// an audit record for an SP reachable only through the browser). Registered here, where
/// the engine is built, so the operator CLI ends sessions the same way as the server.
fn session_end_notifiers(config: &Config, keys: &KeyRing) -> crate::core::session::Notifiers {
    vec![
        Arc::new(crate::oidc::session_end::OidcNotifier::new(
            keys.clone(),
            config.issuer(),
        )),
        Arc::new(crate::saml::session_end::SamlNotifier::new(
            keys.clone(),
            config.issuer(),
        )),
    ]
}

/// A running server.
pub struct Running {
    /// The address actually bound (useful with port 0).
    pub addr: SocketAddr,
    /// The application state (for tests that seed data).
    pub state: AppState,
    handle: axum_server::Handle<SocketAddr>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    background: Vec<tokio::task::JoinHandle<()>>,
}

impl Running {
    /// Stops accepting connections, lets in-flight requests finish for up to `grace`, and
    /// waits for the server to end.
    pub async fn shutdown(self, grace: Duration) -> anyhow::Result<()> {
        self.handle.graceful_shutdown(Some(grace));
        for b in &self.background {
            b.abort();
        }
        self.task.await.context("server task")?.context("server")?;
        Ok(())
    }
}

/// Opens everything and starts serving in the background.
pub async fn start(config: Config, clock: Arc<dyn Clock>) -> anyhow::Result<Running> {
    let services = open(&config, clock).await?;
    crate::saml::sp::register_configured(&services.engine, &config.saml)
        .await
        .context("saml.service_providers")?;
    crate::oidc::config::upsert_clients(&config.oidc, &services.engine).await?;
    let mut background = Vec::new();
    if let Some(m) = &services.memory {
        background.push(m.spawn_sweeper(Duration::from_secs(30))?);
    }
    {
        let keys = services.keys.clone();
        let engine = services.engine.clone();
        let every = Duration::from_secs(config.keys.refresh_secs);
        background.push(tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.tick().await;
            loop {
                tick.tick().await;
                if let Err(e) = keys.refresh(engine.store.as_ref(), engine.clock.as_ref()).await {
                    tracing::error!(error = %e, "could not refresh signing keys; keeping the ones loaded");
                }
            }
        }));
    }
    {
        // Ended and expired SSO sessions are deleted after `sessions.keep_ended_days`.
        let engine = services.engine.clone();
        let keep = chrono::Duration::days(i64::from(config.sessions.keep_ended_days));
        background.push(tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(3600));
            loop {
                tick.tick().await;
                let before = engine.clock.now() - keep;
                match engine.store.purge_sessions(before).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(purged = n, "old SSO sessions deleted"),
                    Err(e) => tracing::warn!(error = %e, "could not delete old SSO sessions"),
                }
            }
        }));
    }
    let state = AppState::new(config.settings(), services.engine, services.keys)
        .context("cannot build the SMS or email gateway or the password hasher")?;
    let app = web::app(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
    let handle = axum_server::Handle::new();
    let bind = config.server.bind;
    let task = match &config.server.tls {
        Some(tls) => {
            // rustls needs one process-wide crypto provider; a second install is harmless.
            let _ = rustls::crypto::ring::default_provider().install_default();
            let rustls =
                axum_server::tls_rustls::RustlsConfig::from_pem_file(&tls.cert_file, &tls.key_file)
                    .await
                    .context("server.tls: cannot load the certificate or key")?;
            let server = axum_server::bind_rustls(bind, rustls).handle(handle.clone());
            tokio::spawn(async move { server.serve(app).await })
        }
        None => {
            let server = axum_server::bind(bind).handle(handle.clone());
            tokio::spawn(async move { server.serve(app).await })
        }
    };
    let addr = match handle.listening().await {
        Some(addr) => addr,
        None => {
            let err = match task.await {
                Ok(Err(e)) => e.to_string(),
                _ => "the listener stopped".to_owned(),
            };
            anyhow::bail!("server.bind: cannot listen on {bind}: {err}");
        }
    };
    Ok(Running {
        addr,
        state,
        handle,
        task,
        background,
    })
}

/// Runs the server until SIGTERM or SIGINT, then shuts down gracefully.
pub async fn serve(config: Config, clock: Arc<dyn Clock>) -> anyhow::Result<()> {
    for warning in config.dev_warnings() {
        tracing::warn!(
            "!!! DEVELOPMENT SETTING ON: {warning} — never use this configuration in production !!!"
        );
    }
    let grace = Duration::from_secs(config.server.shutdown_grace_secs);
    let scheme = if config.server.tls.is_some() {
        "https"
    } else {
        "http"
    };
    let running = start(config.clone(), clock).await?;
    tracing::info!(issuer = %config.issuer(), "pasarela listening on {scheme}://{}", running.addr);
    shutdown_signal().await;
    tracing::info!("shutting down: finishing in-flight requests");
    running.shutdown(grace).await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
