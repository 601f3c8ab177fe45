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

/// A browser stand-in: keeps cookies, does not follow redirects, and repeats the page's
/// anti-forgery token in every form it posts.
pub struct Browser {
    pub client: reqwest::Client,
    pub base: String,
    csrf: std::sync::Mutex<Option<String>>,
    jar: std::sync::Arc<reqwest::cookie::Jar>,
}

/// A response as the tests look at it.
#[derive(Debug)]
pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub body: String,
}

impl Browser {
    pub fn new(addr: std::net::SocketAddr) -> Self {
        let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
        Self {
            client: reqwest::Client::builder()
                .cookie_provider(jar.clone())
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: format!("http://{addr}"),
            csrf: std::sync::Mutex::new(None),
            jar,
        }
    }

    /// Adds `name=value` (e.g. a session cookie made through the engine) to the browser.
    pub fn plant(&self, name_value: &str) {
        let url = self.base.parse().unwrap();
        self.jar
            .add_cookie_str(&format!("{name_value}; Path=/"), &url);
    }

    async fn page(&self, res: reqwest::Response) -> Page {
        let status = res.status().as_u16();
        let location = res
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_owned());
        let body = res.text().await.unwrap();
        if let Some(token) = hidden_value(&body, "csrf") {
            *self.csrf.lock().unwrap() = Some(token);
        }
        Page {
            status,
            location,
            body,
        }
    }

    /// GET `path` (relative to the server).
    pub async fn get(&self, path: &str) -> Page {
        let res = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        self.page(res).await
    }

    /// POSTs `fields` as a form to `path`, adding the last page's `csrf` token.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let token = self.csrf.lock().unwrap().clone().unwrap_or_default();
        let mut form: Vec<(&str, &str)> = vec![("csrf", token.as_str())];
        form.extend_from_slice(fields);
        let res = self
            .client
            .post(format!("{}{path}", self.base))
            .form(&form)
            .send()
            .await
            .unwrap();
        self.page(res).await
    }

    /// Follows `page`'s redirect with a GET.
    pub async fn follow(&self, page: &Page) -> Page {
        let to = page.location.as_deref().expect("a redirect");
        self.get(to).await
    }
}

/// The `value` of the first hidden input named `name` in `html`.
pub fn hidden_value(html: &str, name: &str) -> Option<String> {
    let at = html.find(&format!("name=\"{name}\""))?;
    let start = html[..at].rfind('<')?;
    let end = at + html[at..].find('>')?;
    let tag = &html[start..end];
    let v = tag.find("value=\"")? + "value=\"".len();
    let len = tag[v..].find('"')?;
    Some(tag[v..v + len].to_owned())
}

/// A TCP port free on loopback right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// SAML SP metadata for `entity` with `cert_b64` (base64 DER) for signing and encryption,
/// two HTTP-POST ACS endpoints (`/acs` index 0 default, `/acs2` index 1) and an SLO endpoint.
pub fn sp_metadata(entity: &str, cert_b64: &str) -> String {
    format!(
        r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="{entity}">
<md:SPSSODescriptor AuthnRequestsSigned="true" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{cert_b64}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
<md:KeyDescriptor use="encryption"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{cert_b64}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
<md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="{entity}/slo"/>
<md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:persistent</md:NameIDFormat>
<md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="{entity}/acs" index="0" isDefault="true"/>
<md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="{entity}/acs2" index="1"/>
</md:SPSSODescriptor></md:EntityDescriptor>"#
    )
}

/// `text` with the XML/HTML entities (named, and the numeric forms askama writes) turned
/// back into characters.
pub fn html_unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&#34;", "\"")
        .replace("&apos;", "'")
        .replace("&#39;", "'")
        .replace("&#38;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// Logs Lucía (12345678Z, mobile +34600111222) in through the real pages, from the
/// `/login?…` redirect in `page` with `password` and the SMS code of `d`'s outbox; returns
/// the page the `continue` target answers.
pub async fn log_in_through_pages(
    d: &Deployment,
    b: &Browser,
    page: &Page,
    password: &str,
) -> Page {
    assert_eq!(page.status, 303, "{}", page.body);
    let login = page.location.clone().unwrap();
    assert!(login.starts_with("/login?continue="), "{login}");
    assert_eq!(b.get(&login).await.status, 200);
    let p = b
        .post(
            "/login",
            &[("identifier", "12345678Z"), ("password", password)],
        )
        .await;
    assert_eq!(p.location.as_deref(), Some("/login/code"), "{}", p.body);
    let code = d.last_sms_code("+34600111222");
    let p = b.post("/login/code", &[("code", code.as_str())]).await;
    assert_eq!(p.status, 303, "{}", p.body);
    b.follow(&p).await
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
