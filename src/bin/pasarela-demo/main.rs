//! `pasarela-demo`: a demo e-office (modelled on the Seguridad Social's) that relies on
//! pasarela. It speaks only public protocols — OpenID Connect (code flow, PKCE, nonce,
//! `acr_values` and an essential `acr` claim), token introspection, RFC 9470 step-up
//! challenges from its own API, and SAML 2.0 (HTTP-Redirect AuthnRequest, HTTP-POST
//! Response) — and uses nothing of pasarela's library.
//!
//! Pages: `/` (the services and the citizen's level), `/servicios/{name}`, `/entrar/oidc`,
//! `/entrar/saml`, `/oidc/callback`, `/saml/metadata`, `/saml/acs`, `/salir`; the API:
//! `GET /api/servicios/{name}` with `Authorization: Bearer …`.

mod api;
mod html;
mod oidc;
mod saml;
mod services;

use anyhow::Context as _;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Redirect, Response};
use axum::routing::{get, post};
use clap::Parser;
use services::{Identity, Level, Via, service};
use std::collections::HashMap;
use std::ops::Deref;
use std::sync::{Arc, Mutex};

/// The development client secret of `sede-demo` (config/dev.toml holds its SHA-256). Not a
/// secret: development only.
const DEV_CLIENT_SECRET: &str = "sede-demo-secreto-solo-desarrollo";

/// Command line (every option also from the environment).
#[derive(Debug, Clone, Parser)]
#[command(name = "pasarela-demo", about = "Demo e-office relying on pasarela")]
pub struct Args {
    /// Address to listen on.
    #[arg(long, env = "DEMO_BIND", default_value = "127.0.0.1:8081")]
    pub bind: String,
    /// The demo's own public URL (redirect URIs, SAML entityID and ACS derive from it).
    #[arg(long, env = "DEMO_PUBLIC_URL", default_value = "http://localhost:8081")]
    pub public_url: String,
    /// pasarela's issuer URL (OpenID discovery is read below it).
    #[arg(long, env = "DEMO_ISSUER", default_value = "http://localhost:8080")]
    pub issuer: String,
    /// OIDC client id.
    #[arg(long, env = "DEMO_CLIENT_ID", default_value = "sede-demo")]
    pub client_id: String,
    /// OIDC client secret (the default is the development one of config/dev.toml).
    #[arg(long, env = "DEMO_CLIENT_SECRET", default_value = DEV_CLIENT_SECRET, hide_default_value = true)]
    pub client_secret: String,
    /// pasarela's SAML metadata URL (default: `<issuer>/saml/metadata`).
    #[arg(long, env = "DEMO_SAML_IDP_METADATA")]
    pub saml_idp_metadata: Option<String>,
    /// PEM private key of the SAML SP (default: the demo-only key in config/demo/).
    #[arg(long, env = "DEMO_SAML_KEY")]
    pub saml_key: Option<std::path::PathBuf>,
    /// PEM certificate of the SAML SP (default: the demo-only certificate in config/demo/).
    #[arg(long, env = "DEMO_SAML_CERT")]
    pub saml_cert: Option<std::path::PathBuf>,
    /// Print the SAML SP metadata for `--public-url` and exit (what pasarela registers).
    #[arg(long)]
    pub print_saml_metadata: bool,
}

impl Args {
    /// The public URL without a trailing slash.
    pub fn public(&self) -> &str {
        self.public_url.trim_end_matches('/')
    }

    /// The issuer without a trailing slash.
    pub fn issuer(&self) -> &str {
        self.issuer.trim_end_matches('/')
    }
}

/// A browser's session.
#[derive(Debug, Default)]
pub struct Session {
    pub identity: Option<Identity>,
    pub oidc_pending: Vec<oidc::Pending>,
}

/// Shared state.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub args: Args,
    pub http: reqwest::Client,
    pub sessions: Mutex<HashMap<String, Session>>,
    pub oidc: oidc::Oidc,
    pub saml: saml::Saml,
    /// Where the service pages reach the API (the listening address).
    pub api_base: String,
}

impl Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

/// Name of the session cookie.
const COOKIE: &str = "sede_demo_sid";
/// Sessions kept at most (the oldest-looking are dropped beyond).
const MAX_SESSIONS: usize = 10_000;

/// 32 random bytes, hex.
pub fn random_id() -> String {
    let mut b = [0u8; 32];
    openssl::rand::rand_bytes(&mut b).expect("randomness");
    hex::encode(b)
}

impl AppState {
    /// The session id the browser presents, if it is one of ours.
    pub fn session_id(&self, headers: &HeaderMap) -> Option<String> {
        let sessions = self.sessions.lock().unwrap();
        headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|c| c.trim().split_once('='))
            .find(|(k, v)| *k == COOKIE && sessions.contains_key(*v))
            .map(|(_, v)| v.to_owned())
    }

    /// The browser's session, created when it has none; the `Set-Cookie` to send when new.
    pub fn session(&self, headers: &HeaderMap) -> (String, Option<HeaderValue>) {
        if let Some(id) = self.session_id(headers) {
            return (id, None);
        }
        let id = random_id();
        let mut sessions = self.sessions.lock().unwrap();
        if sessions.len() >= MAX_SESSIONS
            && let Some(k) = sessions.keys().next().cloned()
        {
            sessions.remove(&k);
        }
        sessions.insert(id.clone(), Session::default());
        let cookie = format!("{COOKIE}={id}; Path=/; HttpOnly; SameSite=Lax");
        (id, Some(HeaderValue::from_str(&cookie).unwrap()))
    }

    /// Runs `f` on session `sid` (created empty if it vanished).
    pub fn with_session<T>(&self, sid: &str, f: impl FnOnce(&mut Session) -> T) -> T {
        let mut sessions = self.sessions.lock().unwrap();
        f(sessions.entry(sid.to_owned()).or_default())
    }

    /// The identity of session `sid`.
    pub fn identity(&self, sid: &str) -> Option<Identity> {
        self.sessions
            .lock()
            .unwrap()
            .get(sid)
            .and_then(|s| s.identity.clone())
    }
}

/// `res` with `cookie` set, when there is one.
pub fn with_cookie(mut res: Response, cookie: Option<HeaderValue>) -> Response {
    if let Some(c) = cookie {
        res.headers_mut().append(header::SET_COOKIE, c);
    }
    res
}

async fn home(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let identity = state
        .session_id(&headers)
        .and_then(|sid| state.identity(&sid));
    html::home(identity.as_ref())
}

#[derive(serde::Deserialize)]
struct EnterQuery {
    servicio: Option<String>,
}

/// The level and service an entry asks for: the service's level, or low.
fn entry(q: &EnterQuery) -> (Option<&'static services::Service>, Level) {
    let s = q.servicio.as_deref().and_then(service);
    (s, s.and_then(|s| s.level).unwrap_or(Level::Low))
}

async fn enter_oidc(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<EnterQuery>,
) -> Response {
    let (sid, cookie) = state.session(&headers);
    let (s, level) = entry(&q);
    with_cookie(oidc::start(&state, &sid, s, level, None).await, cookie)
}

async fn enter_saml(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<EnterQuery>,
) -> Response {
    let (sid, cookie) = state.session(&headers);
    let (s, level) = entry(&q);
    with_cookie(saml::start(&state, &sid, s, level).await, cookie)
}

/// What the API answered a service page.
enum ApiAnswer {
    Data(serde_json::Value),
    /// A challenge: its parameters.
    Challenge(Vec<(String, String)>),
}

/// Calls the demo's own API over HTTP, as any client of it would.
async fn call_api(state: &AppState, name: &str, token: Option<&str>) -> anyhow::Result<ApiAnswer> {
    let mut req = state
        .http
        .get(format!("{}/api/servicios/{name}", state.api_base));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await?;
    if res.status() == StatusCode::UNAUTHORIZED {
        let www = res
            .headers()
            .get(header::WWW_AUTHENTICATE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        return Ok(ApiAnswer::Challenge(
            api::parse_challenge(www).unwrap_or_default(),
        ));
    }
    let res = res.error_for_status()?;
    Ok(ApiAnswer::Data(res.json().await?))
}

/// `GET /servicios/{name}`: the service's data, or sign-in / step-up when the level is short.
async fn service_page(
    State(state): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some(s) = service(&name) else {
        return html::error(StatusCode::NOT_FOUND, "Ese servicio no existe.");
    };
    let (sid, cookie) = state.session(&headers);
    let identity = state.identity(&sid);
    let res = match (s.level, &identity) {
        (None, _) => match call_api(&state, s.name, None).await {
            Ok(ApiAnswer::Data(d)) => html::service(s, identity.as_ref(), &d),
            _ => html::error(StatusCode::BAD_GATEWAY, "El servicio no responde."),
        },
        (Some(needed), None) => oidc::start(&state, &sid, Some(s), needed, None).await,
        (Some(needed), Some(i)) if i.via == Via::Saml => {
            // A SAML sign-in has no access token: the level of the assertion decides.
            if i.level().is_some_and(|l| l >= needed) {
                html::service(s, Some(i), &api::data(s, Some(&i.identifier), Some(&i.acr)))
            } else {
                saml::start(&state, &sid, Some(s), needed).await
            }
        }
        (Some(needed), Some(i)) => {
            match call_api(&state, s.name, i.access_token.as_deref()).await {
                Ok(ApiAnswer::Data(d)) => html::service(s, Some(i), &d),
                Ok(ApiAnswer::Challenge(params)) => {
                    let get =
                        |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
                    // RFC 9470: ask pasarela for what the challenge names; an inactive
                    // token (RFC 6750 `invalid_token`) is a new sign-in at the service's level.
                    let level = get("acr_values")
                        .and_then(|v| v.split(' ').filter_map(Level::from_acr).min())
                        .unwrap_or(needed);
                    let max_age = get("max_age").and_then(|v| v.parse().ok());
                    oidc::start(&state, &sid, Some(s), level, max_age).await
                }
                Err(e) => {
                    tracing::warn!("API call failed: {e:#}");
                    html::error(StatusCode::BAD_GATEWAY, "El servicio no responde.")
                }
            }
        }
    };
    with_cookie(res, cookie)
}

/// `GET /salida`: where pasarela's logout sends the browser back.
async fn signed_out() -> Response {
    html::page(
        StatusCode::OK,
        "Has salido",
        "<h1 id=\"salida\">Has salido</h1><p><a href=\"/\">Volver al inicio</a></p>",
    )
}

/// The demo's router.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/servicios/{name}", get(service_page))
        .route("/entrar/oidc", get(enter_oidc))
        .route("/entrar/saml", get(enter_saml))
        .route("/oidc/callback", get(oidc::callback))
        .route("/saml/metadata", get(saml::metadata_handler))
        .route("/saml/acs", post(saml::acs))
        .route("/salir", post(oidc::sign_out))
        .route("/salida", get(signed_out))
        .route("/api/servicios/{name}", get(api::get))
        .route("/favicon.ico", get(|| async { StatusCode::NOT_FOUND }))
        .fallback(|| async { Redirect::to("/") })
        .with_state(state)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let args = Args::parse();
    let saml = saml::Saml::load(&args)?;
    if args.print_saml_metadata {
        print!("{}", saml.metadata(&args));
        return Ok(());
    }
    let listener = tokio::net::TcpListener::bind(&args.bind)
        .await
        .with_context(|| format!("cannot listen on {}", args.bind))?;
    let addr = listener.local_addr()?;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(10))
        .build()?;
    let state = AppState(Arc::new(Inner {
        api_base: format!("http://{addr}"),
        args: args.clone(),
        http,
        sessions: Mutex::new(HashMap::new()),
        oidc: oidc::Oidc::default(),
        saml,
    }));
    tracing::info!(
        "demo e-office on {} (listening on {addr}), relying on {}",
        args.public(),
        args.issuer()
    );
    axum::serve(listener, router(state))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
