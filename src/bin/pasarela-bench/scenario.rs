//! The scenarios, their timed phases and the measurement of each.

use super::*;

// ----------------------------------------------------------------------------------------------
// Scenarios and the timed loop.

#[derive(Debug, Clone, Copy)]
pub(crate) enum Scenario {
    Discovery,
    Jwks,
    ClientCredentials,
    /// Code exchange for the client with this id (`rs`: RS256 ID token, `es`: ES256).
    Exchange(&'static str),
    Introspection,
    Saml,
}

impl Scenario {
    pub(crate) fn name(self) -> String {
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
    pub(crate) fn prepared(self) -> bool {
        matches!(self, Self::Exchange(_) | Self::Saml)
    }

    pub(crate) async fn one(self, ctx: &Ctx, item: &str) -> Result<()> {
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
    pub(crate) async fn prepare(
        self,
        ctx: &Arc<Ctx>,
        n: usize,
        connections: usize,
    ) -> Result<Vec<String>> {
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
pub(crate) struct Phase {
    pub(crate) ok: u64,
    pub(crate) errors: u64,
    pub(crate) wall: f64,
    pub(crate) cpu: f64,
    pub(crate) latencies: Vec<u32>,
    pub(crate) rss_peak: u64,
    pub(crate) first_error: Option<String>,
}

impl Phase {
    pub(crate) fn merge(&mut self, o: Phase) {
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

    /// Counts one request begun at `started`: its latency when it succeeded, else its error.
    pub(crate) fn record<T>(&mut self, started: Instant, result: Result<T>) {
        match result {
            Ok(_) => {
                self.ok += 1;
                let us = started.elapsed().as_micros().min(u128::from(u32::MAX));
                self.latencies.push(us as u32);
            }
            Err(e) => {
                self.errors += 1;
                self.first_error.get_or_insert_with(|| format!("{e:#}"));
            }
        }
    }

    pub(crate) fn row(mut self, scenario: String) -> Row {
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
pub(crate) async fn phase(
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
                p.record(t, sc.one(&ctx, item).await);
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

pub(crate) async fn measure(
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
pub(crate) async fn measure_logins(
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
                p.record(t, login(&ctx, &c, "rs").await);
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
