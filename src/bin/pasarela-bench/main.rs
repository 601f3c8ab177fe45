//! `pasarela-bench`: the load driver of `deploy/bench.sh`. `run` prepares a deployment through
//! the real CLI (OIDC clients, a SAML SP, citizens activated through the real pages), starts
//! pasarela pinned to a core, drives each scenario with many connections, and measures
//! throughput, latency, pasarela's CPU time and resident memory; `table` prints the reports of
//! several runs (one per storage backend) as one markdown table.

mod flows;
mod process;
mod scenario;
mod setup;
mod stats;
mod web;

use anyhow::{Context as _, Result, bail};
use clap::{Parser, Subcommand};
use flows::*;
use pasarela::config::Config;
use pasarela::core::keys::{JwsAlg, KeyRing, SigningKey};
use process::*;
use scenario::*;
use setup::*;
use stats::{LOGIN, Report, Row, percentile};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Mutex;
use web::*;

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
