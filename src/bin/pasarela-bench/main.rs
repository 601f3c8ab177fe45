//! `pasarela-bench`: the load driver of `deploy/bench.sh`. `run` prepares a deployment through
//! the real CLI (OIDC clients, a SAML SP, citizens activated through the real pages), starts
//! pasarela pinned to a core, drives each scenario with many connections, and measures
//! throughput, latency, pasarela's CPU time and resident memory; `table` prints the reports of
//! several runs (one per storage backend) as one markdown table.

mod stats;

use anyhow::{Context as _, Result, bail};
use clap::{Parser, Subcommand};
use pasarela::config::Config;
use pasarela::core::keys::{JwsAlg, KeyRing, SigningKey};
use stats::{LOGIN, Report, Row, percentile};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// The redirect URI of the benchmark's OIDC clients (never contacted).
const CB: &str = "https://rp.bench.example/cb";
/// The SAML SP's entity id.
const SP: &str = "https://sp.bench.example";
/// PKCE verifier used by every authorization (S256).
const VERIFIER: &str = "bench-verifier-0123456789-abcdefghijklmnopqrstuvwxyz";
/// The benchmark citizens' password.
const PASSWORD: &str = "pradera-naranja-47-vuelo";

#[derive(Debug, Parser)]
#[command(
    name = "pasarela-bench",
    about = "pasarela's benchmark driver (see deploy/bench.sh)"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Prepare, start pasarela, measure every scenario, stop it, write the report (JSON).
    Run(RunArgs),
    /// Print reports written by `run` as one table.
    Table {
        /// Report files.
        reports: Vec<PathBuf>,
    },
}

#[derive(Debug, clap::Args)]
struct RunArgs {
    /// The pasarela binary (a release build).
    #[arg(long)]
    pasarela: PathBuf,
    /// Its configuration file (server.bind, sms.outbox_path and the Argon2 cost are read).
    #[arg(long)]
    config: PathBuf,
    /// Name of the storage backends, for the table.
    #[arg(long)]
    backend: String,
    /// Where to write the report.
    #[arg(long)]
    out: PathBuf,
    /// CPU the server is pinned to (taskset); none when omitted.
    #[arg(long)]
    server_cpu: Option<usize>,
    /// Seconds of load per scenario.
    #[arg(long, default_value_t = 10.0)]
    secs: f64,
    /// Connections for the request scenarios.
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// Citizens logging in at once (each on its own connection) in the login scenario.
    #[arg(long, default_value_t = 8)]
    citizens: usize,
    /// Bare Argon2id hashes to time.
    #[arg(long, default_value_t = 20)]
    hashes: u32,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    match Cli::parse().command {
        Cmd::Run(args) => run(args).await,
        Cmd::Table { reports } => {
            let mut all = Vec::new();
            for p in reports {
                let text = std::fs::read_to_string(&p).with_context(|| p.display().to_string())?;
                all.push(serde_json::from_str::<Report>(&text)?);
            }
            print!("{}", stats::table(&all));
            Ok(())
        }
    }
}

// ----------------------------------------------------------------------------------------------
// The pasarela process: CPU time and memory from /proc.

struct Server {
    child: Child,
    pid: u32,
    ticks_per_sec: f64,
}

impl Server {
    fn cpu_secs(&self) -> f64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid)).unwrap_or_default();
        cpu_of_stat(&stat, self.ticks_per_sec)
    }

    fn status_kib(&self, field: &str) -> u64 {
        proc_status_kib(self.pid, field)
    }
}

fn proc_status_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| {
            v.trim_start_matches(':')
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        })
        .unwrap_or(0)
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok()?.trim().parse().ok())
        .unwrap_or(100.0)
}

/// Samples pasarela's resident set every 20 ms until stopped; returns the largest, KiB.
struct RssSampler {
    stop: Arc<AtomicBool>,
    handle: tokio::task::JoinHandle<u64>,
}

impl RssSampler {
    fn start(pid: u32) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let s = Arc::clone(&stop);
        let handle = tokio::spawn(async move {
            let mut max = 0;
            while !s.load(Ordering::Relaxed) {
                max = max.max(proc_status_kib(pid, "VmRSS"));
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            max.max(proc_status_kib(pid, "VmRSS"))
        });
        Self { stop, handle }
    }

    async fn finish(self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        self.handle.await.unwrap_or(0)
    }
}

// ----------------------------------------------------------------------------------------------
// A minimal browser: cookies by hand (so that one connection pool serves every citizen), the
// page's anti-forgery token, no redirects followed.

#[derive(Default, Clone)]
struct Jar {
    cookies: HashMap<String, String>,
    csrf: Option<String>,
}

struct Answer {
    status: u16,
    location: Option<String>,
    body: String,
}

impl Jar {
    fn header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn answer(&mut self, res: reqwest::Response) -> Result<Answer> {
        for v in res.headers().get_all("set-cookie") {
            let v = v.to_str()?;
            let pair = v.split(';').next().unwrap_or("");
            if let Some((k, val)) = pair.split_once('=') {
                if val.is_empty() || v.contains("Max-Age=0") {
                    self.cookies.remove(k.trim());
                } else {
                    self.cookies.insert(k.trim().to_owned(), val.to_owned());
                }
            }
        }
        let status = res.status().as_u16();
        let location = res
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = res.text().await?;
        if let Some(token) = hidden_value(&body, "csrf") {
            self.csrf = Some(token);
        }
        Ok(Answer {
            status,
            location,
            body,
        })
    }

    async fn get(&mut self, http: &reqwest::Client, base: &str, path: &str) -> Result<Answer> {
        let url = if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{base}{path}")
        };
        let res = http.get(url).header("cookie", self.header()).send().await?;
        self.answer(res).await
    }

    async fn post(
        &mut self,
        http: &reqwest::Client,
        base: &str,
        path: &str,
        fields: &[(&str, &str)],
    ) -> Result<Answer> {
        let token = self.csrf.clone().unwrap_or_default();
        let mut form = vec![("csrf", token.as_str())];
        form.extend_from_slice(fields);
        let res = http
            .post(format!("{base}{path}"))
            .header("cookie", self.header())
            .form(&form)
            .send()
            .await?;
        self.answer(res).await
    }
}

/// The `value` of the first hidden input named `name` in `html`.
fn hidden_value(html: &str, name: &str) -> Option<String> {
    let at = html.find(&format!("name=\"{name}\""))?;
    let start = html[..at].rfind('<')?;
    let end = at + html[at..].find('>')?;
    let tag = &html[start..end];
    let v = tag.find("value=\"")? + "value=\"".len();
    let len = tag[v..].find('"')?;
    Some(tag[v..v + len].to_owned())
}

fn expect(a: &Answer, status: u16, location_prefix: &str, what: &str) -> Result<String> {
    let loc = a.location.clone().unwrap_or_default();
    if a.status != status || !loc.starts_with(location_prefix) {
        bail!(
            "{what}: expected {status} to {location_prefix}…, got {} to {loc:?}: {}",
            a.status,
            a.body.chars().take(300).collect::<String>()
        );
    }
    Ok(loc)
}

/// The SMS outbox, read incrementally: the latest code and the number of messages per number.
struct Outbox {
    path: PathBuf,
    offset: u64,
    latest: HashMap<String, (usize, String)>,
}

impl Outbox {
    fn refresh(&mut self) -> Result<()> {
        use std::io::{Read, Seek, SeekFrom};
        let Ok(mut f) = std::fs::File::open(&self.path) else {
            return Ok(());
        };
        f.seek(SeekFrom::Start(self.offset))?;
        let mut text = String::new();
        f.read_to_string(&mut text)?;
        // Only whole lines; a line being written is read next time.
        let whole = text.rfind('\n').map_or(0, |i| i + 1);
        for line in text[..whole].lines() {
            let Ok(m) = serde_json::from_str::<serde_json::Value>(line) else {
                continue;
            };
            let (Some(to), Some(t)) = (m["to"].as_str(), m["text"].as_str()) else {
                continue;
            };
            if let Some(code) = first_code(t) {
                let e = self.latest.entry(to.to_owned()).or_default();
                *e = (e.0 + 1, code);
            }
        }
        self.offset += whole as u64;
        Ok(())
    }

    fn count(&mut self, to: &str) -> Result<usize> {
        self.refresh()?;
        Ok(self.latest.get(to).map_or(0, |e| e.0))
    }
}

/// Waits for an SMS to `to` newer than the `seen`-th and returns its code.
async fn code_after(outbox: &Mutex<Outbox>, to: &str, seen: usize) -> Result<String> {
    for _ in 0..500 {
        {
            let mut o = outbox.lock().await;
            o.refresh()?;
            if let Some((n, code)) = o.latest.get(to)
                && *n > seen
            {
                return Ok(code.clone());
            }
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    bail!("no SMS to {to}")
}

/// The first run of 6 or more ASCII digits in `text`.
fn first_code(text: &str) -> Option<String> {
    text.split(|c: char| !c.is_ascii_digit())
        .find(|run| run.len() >= 6)
        .map(str::to_owned)
}

// ----------------------------------------------------------------------------------------------
// Preparation through the real CLI.

struct Cli2<'a> {
    bin: &'a Path,
    config: &'a Path,
}

impl Cli2<'_> {
    fn json(&self, args: &[&str]) -> Result<serde_json::Value> {
        let out = Command::new(self.bin)
            .arg("--config")
            .arg(self.config)
            .args(args)
            .arg("--json")
            .env_remove("PASARELA_CONFIG")
            .output()?;
        if !out.status.success() {
            bail!(
                "pasarela {args:?} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(serde_json::from_slice(&out.stdout)?)
    }
}

/// A valid DNI for `n` (8 digits and the check letter).
fn dni(n: u32) -> String {
    const LETTERS: &[u8] = b"TRWAGMYFPDXBNJZSQVHLCKE";
    format!("{n:08}{}", LETTERS[(n % 23) as usize] as char)
}

struct Citizen {
    id: String,
    mobile: String,
}

fn sp_metadata(entity: &str, cert_b64: &str) -> String {
    format!(
        r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="{entity}">
<md:SPSSODescriptor AuthnRequestsSigned="true" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{cert_b64}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
<md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:persistent</md:NameIDFormat>
<md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="{entity}/acs" index="0" isDefault="true"/>
</md:SPSSODescriptor></md:EntityDescriptor>"#
    )
}

// ----------------------------------------------------------------------------------------------
// The run.

struct Ctx {
    http: reqwest::Client,
    base: String,
    issuer: String,
    outbox: Mutex<Outbox>,
    secrets: HashMap<&'static str, String>,
    /// Cookies of a citizen's SSO session, for minting codes and SAML answers.
    session: Jar,
    sp_key: Arc<SigningKey>,
    challenge: String,
    service_token: String,
}

async fn run(args: RunArgs) -> Result<()> {
    let config = Config::load(&args.config)?;
    let base = format!("http://{}", config.server.bind);
    let cli = Cli2 {
        bin: &args.pasarela,
        config: &args.config,
    };
    let dir = args.out.parent().unwrap_or(Path::new(".")).to_path_buf();
    eprintln!("==> [{}] preparing through the CLI", args.backend);
    let mut secrets = HashMap::new();
    for (id, alg) in [("rs", "RS256"), ("es", "ES256")] {
        let added = cli.json(&[
            "admin",
            "client",
            "add",
            id,
            "--skip-consent",
            "--redirect-uri",
            CB,
            "--id-token-alg",
            alg,
            "--min-level",
            "low",
        ])?;
        secrets.insert(
            id,
            added["client_secret"]
                .as_str()
                .context("secret")?
                .to_owned(),
        );
    }
    let added = cli.json(&[
        "admin",
        "client",
        "add",
        "batch",
        "--grant-type",
        "client_credentials",
    ])?;
    secrets.insert(
        "batch",
        added["client_secret"]
            .as_str()
            .context("secret")?
            .to_owned(),
    );
    let ring = KeyRing::in_memory(chrono::Utc::now())?;
    let sp_key = ring.active(JwsAlg::RS256).context("no RS256 key")?;
    let cert = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(sp_key.certificate_der())
    };
    let md = dir.join(format!("sp-{}.xml", std::process::id()));
    std::fs::write(&md, sp_metadata(SP, &cert))?;
    cli.json(&[
        "admin",
        "sp",
        "add",
        "--metadata",
        md.to_str().context("path")?,
        "--min-level",
        "low",
    ])?;
    let mut citizens = Vec::new();
    let mut codes = Vec::new();
    for i in 0..args.citizens.max(1) {
        let n = 40_000_000 + i as u32;
        let id = dni(n);
        let mobile = format!("+346{:08}", 10_000_000 + i);
        let email = format!("bench{i}@example.es");
        let registered = cli.json(&[
            "admin",
            "citizen",
            "register",
            &id,
            "--given-name",
            "Lucía",
            "--family-names",
            "García Pérez",
            "--birth-date",
            "1980-02-29",
            "--email",
            &email,
            "--mobile",
            &mobile,
        ])?;
        codes.push((
            registered["activation_code"]
                .as_str()
                .context("activation code")?
                .to_owned(),
            email,
        ));
        citizens.push(Citizen { id, mobile });
    }

    eprintln!("==> [{}] starting pasarela", args.backend);
    let log = std::fs::File::create(dir.join(format!("server-{}.log", std::process::id())))?;
    let mut cmd = match args.server_cpu {
        Some(cpu) => {
            let mut c = Command::new("taskset");
            c.arg("-c").arg(cpu.to_string()).arg(&args.pasarela);
            c
        }
        None => Command::new(&args.pasarela),
    };
    let child = cmd
        .arg("--config")
        .arg(&args.config)
        .arg("serve")
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()?;
    let server = Server {
        pid: child.id(),
        child,
        ticks_per_sec: clock_ticks(),
    };
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(usize::MAX)
        .build()?;
    let mut ready = false;
    for _ in 0..600 {
        if let Ok(r) = http.get(format!("{base}/readyz")).send().await
            && r.status() == 200
        {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    if !ready {
        bail!("pasarela did not get ready at {base}");
    }
    // Let start-up work (key loading, the dummy hash) settle before reading the idle figure.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_idle_kib = server.status_kib("VmRSS");

    // Activation of every citizen through the real pages.
    let outbox = Mutex::new(Outbox {
        path: config.sms.outbox_path.clone(),
        offset: 0,
        latest: HashMap::new(),
    });
    for (c, (code, email)) in citizens.iter().zip(&codes) {
        activate(&http, &base, &outbox, c, code, email)
            .await
            .with_context(|| format!("activating {}", c.id))?;
    }
    let challenge = {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(openssl::sha::sha256(VERIFIER.as_bytes()))
    };
    let mut ctx = Ctx {
        http,
        base,
        issuer: config.issuer(),
        outbox,
        secrets,
        session: Jar::default(),
        sp_key,
        challenge,
        service_token: String::new(),
    };
    // One SSO session (the first citizen) for minting codes and answering SAML requests.
    let (jar, _) = login(&ctx, &citizens[0], "rs").await?;
    ctx.session = jar;
    ctx.service_token = client_credentials(&ctx).await?;
    let ctx = Arc::new(ctx);

    let mut rows = Vec::new();
    let d = Duration::from_secs_f64(args.secs);
    let c = args.connections;
    for sc in [
        Scenario::Discovery,
        Scenario::Jwks,
        Scenario::ClientCredentials,
        Scenario::Exchange("rs"),
        Scenario::Exchange("es"),
        Scenario::Introspection,
        Scenario::Saml,
    ] {
        eprintln!("==> [{}] {}", args.backend, sc.name());
        let row = measure(&ctx, &server, sc, c, d).await?;
        eprintln!(
            "    {:.0} req/s, {:.0} per CPU-s, p50 {} µs, p99 {} µs, {} errors",
            row.per_sec(),
            row.per_cpu_sec(),
            row.p50_us,
            row.p99_us,
            row.errors
        );
        rows.push(row);
    }
    eprintln!("==> [{}] {LOGIN}", args.backend);
    let citizens: Vec<Arc<Citizen>> = citizens.into_iter().map(Arc::new).collect();
    let row = measure_logins(&ctx, &server, &citizens, d.max(Duration::from_secs(5))).await?;
    eprintln!(
        "    {:.1} logins/s, {:.1} per CPU-s, p50 {} µs, {} errors",
        row.per_sec(),
        row.per_cpu_sec(),
        row.p50_us,
        row.errors
    );
    rows.push(row);

    let ready: serde_json::Value = ctx
        .http
        .get(format!("{}/readyz", ctx.base))
        .send()
        .await?
        .json()
        .await?;
    let a = config.credentials.argon2;
    eprintln!("==> [{}] bare Argon2id", args.backend);
    let argon2_per_sec = bare_argon2(
        a.memory_kib,
        a.iterations,
        a.parallelism,
        args.hashes,
        server.ticks_per_sec,
    )?;
    let report = Report {
        backend: args.backend.clone(),
        rss_idle_kib,
        rss_hwm_kib: server.status_kib("VmHWM"),
        rows,
        argon2_per_sec,
        argon2_params: format!("m={},t={},p={}", a.memory_kib, a.iterations, a.parallelism),
        hash_peak: ready["password_hashes"]["peak"].as_u64().unwrap_or(0),
        hash_bound: ready["password_hashes"]["bound"].as_u64().unwrap_or(0),
    };
    drop(server);
    std::fs::write(&args.out, serde_json::to_string_pretty(&report)?)?;
    print!("{}", stats::table(std::slice::from_ref(&report)));
    Ok(())
}

/// Hashes per CPU-second of Argon2id with these parameters on this thread (CPU time rather
/// than wall time, so that other work on a shared machine does not lower the figure).
fn bare_argon2(m: u32, t: u32, p: u32, n: u32, ticks_per_sec: f64) -> Result<f64> {
    use argon2::password_hash::PasswordHasher as _;
    let params = argon2::Params::new(m, t, p, None).map_err(|e| anyhow::anyhow!("{e}"))?;
    let a = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let salt = b"bench-salt-16byt";
    // One untimed hash to fault the memory in.
    a.hash_password_with_salt(PASSWORD.as_bytes(), salt)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let cpu0 = thread_cpu_secs(ticks_per_sec);
    let start = Instant::now();
    for _ in 0..n {
        a.hash_password_with_salt(PASSWORD.as_bytes(), salt)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    let cpu = thread_cpu_secs(ticks_per_sec) - cpu0;
    eprintln!(
        "    {n} hashes in {:.2} s wall, {cpu:.2} CPU-s",
        start.elapsed().as_secs_f64()
    );
    Ok(f64::from(n) / cpu.max(1e-3))
}

/// CPU seconds (user + system) this thread has used.
fn thread_cpu_secs(ticks_per_sec: f64) -> f64 {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap_or_default();
    cpu_of_stat(&stat, ticks_per_sec)
}

/// utime + stime of a `/proc/…/stat` line, in seconds.
fn cpu_of_stat(stat: &str, ticks_per_sec: f64) -> f64 {
    // Fields after the command name (which may hold spaces) start at ") "; utime and stime
    // are fields 14 and 15 of the whole line, 12 and 13 of the rest.
    let rest = stat.rsplit_once(") ").map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / ticks_per_sec
}

async fn activate(
    http: &reqwest::Client,
    base: &str,
    outbox: &Mutex<Outbox>,
    c: &Citizen,
    code: &str,
    email: &str,
) -> Result<()> {
    let mut j = Jar::default();
    j.get(http, base, "/activate").await?;
    let a = j
        .post(
            http,
            base,
            "/activate",
            &[("identifier", &c.id), ("email", email), ("code", code)],
        )
        .await?;
    expect(&a, 303, "/activate/policy", "activation code")?;
    j.get(http, base, "/activate/policy").await?;
    let seen = outbox.lock().await.count(&c.mobile)?;
    let a = j
        .post(http, base, "/activate/policy", &[("accept", "yes")])
        .await?;
    expect(&a, 303, "/activate/code", "security policy")?;
    j.get(http, base, "/activate/code").await?;
    let sms = code_after(outbox, &c.mobile, seen).await?;
    let a = j
        .post(http, base, "/activate/code", &[("code", &sms)])
        .await?;
    expect(&a, 303, "/activate/password", "SMS code")?;
    j.get(http, base, "/activate/password").await?;
    let a = j
        .post(
            http,
            base,
            "/activate/password",
            &[("password", PASSWORD), ("password_confirm", PASSWORD)],
        )
        .await?;
    expect(&a, 303, "/activate/done", "password")?;
    Ok(())
}

fn authorize_path(client: &str, challenge: &str) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    q.append_pair("client_id", client);
    q.append_pair("response_type", "code");
    q.append_pair("scope", "openid profile");
    q.append_pair("redirect_uri", CB);
    q.append_pair("state", "bench");
    q.append_pair("nonce", "bench");
    q.append_pair("code_challenge", challenge);
    q.append_pair("code_challenge_method", "S256");
    format!("/oidc/authorize?{}", q.finish())
}

fn code_of(location: &str) -> Result<String> {
    let u = url::Url::parse(location)?;
    u.query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .with_context(|| format!("no code in {location}"))
}

/// A whole citizen login through the pages for `client`: authorize, password, SMS code,
/// back to the client with a code, exchanged for tokens. Returns the browser's cookies and
/// how many HTTP requests it took.
async fn login(ctx: &Ctx, c: &Citizen, client: &str) -> Result<(Jar, u32)> {
    let (http, base) = (&ctx.http, ctx.base.as_str());
    let mut j = Jar::default();
    let a = j
        .get(http, base, &authorize_path(client, &ctx.challenge))
        .await?;
    let to = expect(&a, 303, "/login?", "authorize")?;
    j.get(http, base, &to).await?;
    let seen = ctx.outbox.lock().await.count(&c.mobile)?;
    let a = j
        .post(
            http,
            base,
            "/login",
            &[("identifier", &c.id), ("password", PASSWORD)],
        )
        .await?;
    expect(&a, 303, "/login/code", "password")?;
    let code = code_after(&ctx.outbox, &c.mobile, seen).await?;
    let a = j
        .post(http, base, "/login/code", &[("code", &code)])
        .await?;
    let resume = expect(&a, 303, "/oidc/authorize/resume", "SMS code")?;
    let a = j.get(http, base, &resume).await?;
    let back = expect(&a, 303, CB, "resume")?;
    exchange(ctx, client, &code_of(&back)?).await?;
    Ok((j, 6))
}

async fn exchange(ctx: &Ctx, client: &str, code: &str) -> Result<()> {
    let res = ctx
        .http
        .post(format!("{}/oidc/token", ctx.base))
        .basic_auth(client, Some(&ctx.secrets[client]))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", CB),
            ("code_verifier", VERIFIER),
        ])
        .send()
        .await?;
    let status = res.status();
    let body: serde_json::Value = res.json().await?;
    if status != 200 || body["id_token"].as_str().is_none() {
        bail!("code exchange: {status} {body}");
    }
    Ok(())
}

async fn client_credentials(ctx: &Ctx) -> Result<String> {
    let res = ctx
        .http
        .post(format!("{}/oidc/token", ctx.base))
        .basic_auth("batch", Some(&ctx.secrets["batch"]))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await?;
    let status = res.status();
    let body: serde_json::Value = res.json().await?;
    match body["access_token"].as_str() {
        Some(t) if status == 200 => Ok(t.to_owned()),
        _ => bail!("client_credentials: {status} {body}"),
    }
}

/// A signed HTTP-Redirect AuthnRequest query from the benchmark SP.
fn saml_query(ctx: &Ctx) -> Result<String> {
    use pasarela::saml::{binding, xml};
    let id = format!("_{}", pasarela::core::random::digits(24)?);
    let text = format!(
        "<samlp:AuthnRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" \
         ID=\"{id}\" Version=\"2.0\" IssueInstant=\"{now}\" Destination=\"{issuer}/saml/sso\" AssertionConsumerServiceURL=\"{SP}/acs\" \
         ProtocolBinding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST\">\
         <saml:Issuer>{SP}</saml:Issuer>\
         <samlp:NameIDPolicy Format=\"urn:oasis:names:tc:SAML:2.0:nameid-format:persistent\" AllowCreate=\"true\"/>\
         <samlp:RequestedAuthnContext Comparison=\"minimum\"><saml:AuthnContextClassRef>http://eidas.europa.eu/LoA/substantial</saml:AuthnContextClassRef></samlp:RequestedAuthnContext>\
         </samlp:AuthnRequest>",
        now = xml::instant(chrono::Utc::now()),
        issuer = ctx.issuer,
    );
    Ok(binding::redirect_encode(
        "SAMLRequest",
        &text,
        None,
        &ctx.sp_key,
    )?)
}

// ----------------------------------------------------------------------------------------------
// Scenarios and the timed loop.

#[derive(Debug, Clone, Copy)]
enum Scenario {
    Discovery,
    Jwks,
    ClientCredentials,
    /// Code exchange for the client with this id (`rs`: RS256 ID token, `es`: ES256).
    Exchange(&'static str),
    Introspection,
    Saml,
}

impl Scenario {
    fn name(self) -> String {
        match self {
            Self::Discovery => "discovery".into(),
            Self::Jwks => "JWKS".into(),
            Self::ClientCredentials => "client_credentials (opaque token)".into(),
            Self::Exchange("rs") => "code exchange, RS256 ID token".into(),
            Self::Exchange(_) => "code exchange, ES256 ID token".into(),
            Self::Introspection => "introspection".into(),
            Self::Saml => "SAML SSO Response (signed twice)".into(),
        }
    }

    /// Whether each request needs an item made beforehand, untimed (a code, a request).
    fn prepared(self) -> bool {
        matches!(self, Self::Exchange(_) | Self::Saml)
    }

    async fn one(self, ctx: &Ctx, item: &str) -> Result<()> {
        let http = &ctx.http;
        let base = &ctx.base;
        let res = match self {
            Self::Discovery => {
                http.get(format!("{base}/.well-known/openid-configuration"))
                    .send()
                    .await?
            }
            Self::Jwks => http.get(format!("{base}/oidc/jwks")).send().await?,
            Self::ClientCredentials => {
                client_credentials(ctx).await?;
                return Ok(());
            }
            Self::Exchange(client) => return exchange(ctx, client, item).await,
            Self::Introspection => {
                let res = http
                    .post(format!("{base}/oidc/introspect"))
                    .basic_auth("batch", Some(&ctx.secrets["batch"]))
                    .form(&[("token", ctx.service_token.as_str())])
                    .send()
                    .await?;
                let body: serde_json::Value = res.json().await?;
                if body["active"] != true {
                    bail!("introspection: {body}");
                }
                return Ok(());
            }
            Self::Saml => {
                let res = http
                    .get(format!("{base}/saml/sso?{item}"))
                    .header("cookie", ctx.session.header())
                    .send()
                    .await?;
                let status = res.status();
                let body = res.text().await?;
                if status != 200 || !body.contains("SAMLResponse") {
                    bail!("SAML SSO: {status}");
                }
                return Ok(());
            }
        };
        let status = res.status();
        let _ = res.bytes().await?;
        if status != 200 {
            bail!("{}: {status}", self.name());
        }
        Ok(())
    }

    /// `n` items for the timed phase, made untimed.
    async fn prepare(self, ctx: &Arc<Ctx>, n: usize, connections: usize) -> Result<Vec<String>> {
        match self {
            Self::Saml => (0..n).map(|_| saml_query(ctx)).collect(),
            Self::Exchange(client) => {
                let next = Arc::new(AtomicUsize::new(0));
                let mut set = tokio::task::JoinSet::new();
                for _ in 0..connections {
                    let (ctx, next) = (Arc::clone(ctx), Arc::clone(&next));
                    set.spawn(async move {
                        let mut codes = Vec::new();
                        let path = authorize_path(client, &ctx.challenge);
                        while next.fetch_add(1, Ordering::Relaxed) < n {
                            let res = ctx
                                .http
                                .get(format!("{}{path}", ctx.base))
                                .header("cookie", ctx.session.header())
                                .send()
                                .await?;
                            let loc = res
                                .headers()
                                .get("location")
                                .and_then(|v| v.to_str().ok())
                                .unwrap_or_default()
                                .to_owned();
                            codes.push(code_of(&loc)?);
                        }
                        anyhow::Ok(codes)
                    });
                }
                let mut all = Vec::with_capacity(n);
                while let Some(r) = set.join_next().await {
                    all.extend(r??);
                }
                Ok(all)
            }
            _ => Ok(Vec::new()),
        }
    }
}

/// One timed phase's raw figures.
#[derive(Default)]
struct Phase {
    ok: u64,
    errors: u64,
    wall: f64,
    cpu: f64,
    latencies: Vec<u32>,
    rss_peak: u64,
    first_error: Option<String>,
}

impl Phase {
    fn merge(&mut self, o: Phase) {
        self.ok += o.ok;
        self.errors += o.errors;
        self.wall += o.wall;
        self.cpu += o.cpu;
        self.latencies.extend(o.latencies);
        self.rss_peak = self.rss_peak.max(o.rss_peak);
        if self.first_error.is_none() {
            self.first_error = o.first_error;
        }
    }

    fn row(mut self, scenario: String) -> Row {
        if let Some(e) = &self.first_error {
            eprintln!("    first error: {e}");
        }
        self.latencies.sort_unstable();
        Row {
            scenario,
            ok: self.ok,
            errors: self.errors,
            wall_secs: self.wall,
            cpu_secs: self.cpu,
            p50_us: percentile(&self.latencies, 0.50),
            p99_us: percentile(&self.latencies, 0.99),
            rss_peak_kib: self.rss_peak,
        }
    }
}

/// Runs `sc` on `connections` connections for `limit` or over `items`, whichever ends first.
async fn phase(
    ctx: &Arc<Ctx>,
    server: &Server,
    sc: Scenario,
    connections: usize,
    limit: Duration,
    items: Arc<Vec<String>>,
) -> Result<Phase> {
    let sampler = RssSampler::start(server.pid);
    let cpu0 = server.cpu_secs();
    let start = Instant::now();
    let next = Arc::new(AtomicUsize::new(0));
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..connections {
        let (ctx, items, next) = (Arc::clone(ctx), Arc::clone(&items), Arc::clone(&next));
        set.spawn(async move {
            let mut p = Phase::default();
            loop {
                let item = if sc.prepared() {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    match items.get(i) {
                        Some(it) => it.as_str(),
                        None => break,
                    }
                } else {
                    ""
                };
                if start.elapsed() >= limit {
                    break;
                }
                let t = Instant::now();
                match sc.one(&ctx, item).await {
                    Ok(()) => {
                        p.ok += 1;
                        p.latencies
                            .push(t.elapsed().as_micros().min(u32::MAX as u128) as u32);
                    }
                    Err(e) => {
                        p.errors += 1;
                        p.first_error.get_or_insert_with(|| format!("{e:#}"));
                    }
                }
            }
            p
        });
    }
    let mut all = Phase::default();
    while let Some(p) = set.join_next().await {
        all.merge(p?);
    }
    all.wall = start.elapsed().as_secs_f64();
    all.cpu = server.cpu_secs() - cpu0;
    all.rss_peak = sampler.finish().await;
    Ok(all)
}

async fn measure(
    ctx: &Arc<Ctx>,
    server: &Server,
    sc: Scenario,
    connections: usize,
    d: Duration,
) -> Result<Row> {
    // A short warm-up, not counted.
    let warm = if sc.prepared() {
        sc.prepare(ctx, 200, connections).await?
    } else {
        Vec::new()
    };
    phase(
        ctx,
        server,
        sc,
        connections,
        Duration::from_millis(500),
        Arc::new(warm),
    )
    .await?;
    if !sc.prepared() {
        return Ok(phase(ctx, server, sc, connections, d, Arc::new(Vec::new()))
            .await?
            .row(sc.name()));
    }
    // Items are made in batches between timed phases; codes live 60 s, so a batch is at most
    // 20 s of work at the rate seen so far.
    let mut total = Phase::default();
    let mut n = 500;
    while total.wall < d.as_secs_f64() {
        let items = sc.prepare(ctx, n, connections).await?;
        let p = phase(
            ctx,
            server,
            sc,
            connections,
            Duration::from_secs(40),
            Arc::new(items),
        )
        .await?;
        let rate = p.ok as f64 / p.wall.max(1e-3);
        total.merge(p);
        let left = d.as_secs_f64() - total.wall;
        n = ((rate * left.min(20.0)).ceil() as usize).max(100);
        if total.ok == 0 {
            break;
        }
    }
    Ok(total.row(sc.name()))
}

/// Every citizen logs in again and again on their own for `d`; a login is the whole journey.
async fn measure_logins(
    ctx: &Arc<Ctx>,
    server: &Server,
    citizens: &[Arc<Citizen>],
    d: Duration,
) -> Result<Row> {
    let sampler = RssSampler::start(server.pid);
    let cpu0 = server.cpu_secs();
    let start = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for c in citizens {
        let (ctx, c) = (Arc::clone(ctx), Arc::clone(c));
        set.spawn(async move {
            let mut p = Phase::default();
            while start.elapsed() < d {
                let t = Instant::now();
                match login(&ctx, &c, "rs").await {
                    Ok(_) => {
                        p.ok += 1;
                        p.latencies.push(t.elapsed().as_micros() as u32);
                    }
                    Err(e) => {
                        p.errors += 1;
                        p.first_error.get_or_insert_with(|| format!("{e:#}"));
                    }
                }
            }
            p
        });
    }
    let mut all = Phase::default();
    while let Some(p) = set.join_next().await {
        all.merge(p?);
    }
    all.wall = start.elapsed().as_secs_f64();
    all.cpu = server.cpu_secs() - cpu0;
    all.rss_peak = sampler.finish().await;
    Ok(all.row(LOGIN.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_time_of_a_stat_line_with_spaces_in_the_name() {
        let line = "4242 (tokio rt) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 8 0";
        assert_eq!(cpu_of_stat(line, 100.0), 3.0);
        assert_eq!(cpu_of_stat("", 100.0), 0.0);
    }

    #[test]
    fn dni_check_letters() {
        assert_eq!(dni(12_345_678), "12345678Z");
        assert_eq!(dni(0), "00000000T");
    }

    #[test]
    fn codes_and_hidden_values() {
        assert_eq!(
            first_code("Su código: 123456. No lo comparta.").as_deref(),
            Some("123456")
        );
        assert_eq!(first_code("12 345"), None);
        let html = r#"<form><input type="hidden" name="csrf" value="abc"></form>"#;
        assert_eq!(hidden_value(html, "csrf").as_deref(), Some("abc"));
        assert_eq!(hidden_value(html, "other"), None);
    }

    #[test]
    fn outbox_is_read_incrementally_by_whole_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sms.jsonl");
        let mut o = Outbox {
            path: path.clone(),
            offset: 0,
            latest: HashMap::new(),
        };
        assert_eq!(o.count("+34600000001").unwrap(), 0);
        std::fs::write(
            &path,
            "{\"to\":\"+34600000001\",\"text\":\"código 111111\"}\n{\"to\":\"+34600000002\",\"text\":\"código 222222\"}\n{\"to\":\"+3460",
        )
        .unwrap();
        assert_eq!(o.count("+34600000001").unwrap(), 1);
        assert_eq!(o.latest["+34600000002"].1, "222222");
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str("0000001\",\"text\":\"código 333333\"}\n");
        std::fs::write(&path, text).unwrap();
        assert_eq!(o.count("+34600000001").unwrap(), 2);
        assert_eq!(o.latest["+34600000001"].1, "333333");
    }
}
