//! Figures of a benchmark run: what one backend's run measured (serialised as JSON so that
//! both backends' runs can be printed in one table), percentiles, and the table itself.

use serde::{Deserialize, Serialize};

/// One scenario's figures on one backend.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Row {
    /// What was measured, e.g. "discovery".
    pub scenario: String,
    /// Operations that succeeded (requests, or whole logins for the login row).
    pub ok: u64,
    /// Operations that failed (wrong status or transport error).
    pub errors: u64,
    /// Wall-clock seconds of the timed phases.
    pub wall_secs: f64,
    /// CPU seconds (user + system) the pasarela process used during the timed phases.
    pub cpu_secs: f64,
    /// Median latency, microseconds.
    pub p50_us: u64,
    /// 99th percentile latency, microseconds.
    pub p99_us: u64,
    /// Largest resident set sampled during the scenario, KiB.
    pub rss_peak_kib: u64,
}

impl Row {
    /// Successful operations per wall-clock second.
    pub fn per_sec(&self) -> f64 {
        ratio(self.ok as f64, self.wall_secs)
    }

    /// Successful operations per second of pasarela's CPU.
    pub fn per_cpu_sec(&self) -> f64 {
        ratio(self.ok as f64, self.cpu_secs)
    }
}

/// Everything one backend's run measured.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Report {
    /// e.g. "SQLite + memory".
    pub backend: String,
    /// Resident set after start, before any load, KiB.
    pub rss_idle_kib: u64,
    /// The kernel's high-water mark of the resident set at the end (VmHWM), KiB.
    pub rss_hwm_kib: u64,
    /// One row per scenario; the full login is the one named [`LOGIN`].
    pub rows: Vec<Row>,
    /// Bare Argon2id hashes per CPU-second, one thread, the configured parameters.
    pub argon2_per_sec: f64,
    /// The Argon2id parameters, as `m=…,t=…,p=…`.
    pub argon2_params: String,
    /// The most password hashes pasarela ran at once (from `/readyz`).
    pub hash_peak: u64,
    /// Its bound (`credentials.max_concurrent_hashes`).
    pub hash_bound: u64,
}

/// The scenario name of the full citizen login.
pub const LOGIN: &str = "full citizen login";

/// `a / b`, or 0 when `b` is not positive.
fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 { a / b } else { 0.0 }
}

/// The `q`-quantile (0 ≤ q ≤ 1) of `sorted` by the nearest-rank method; 0 when empty.
pub fn percentile(sorted: &[u32], q: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (q.clamp(0.0, 1.0) * sorted.len() as f64).ceil() as usize;
    u64::from(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// How much server CPU one login costs beyond its password hash, as a percentage of the
/// bare hash: `logins_per_cpu_sec` against `hashes_per_sec` on one thread.
pub fn overhead_pct(logins_per_cpu_sec: f64, hashes_per_sec: f64) -> f64 {
    if logins_per_cpu_sec <= 0.0 || hashes_per_sec <= 0.0 {
        return 0.0;
    }
    (hashes_per_sec / logins_per_cpu_sec - 1.0) * 100.0
}

/// A count with thousands separated by a thin space, rounded: `45 120`.
pub fn human(n: f64) -> String {
    if n < 100.0 {
        return format!("{n:.1}");
    }
    let digits = format!("{:.0}", n);
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

fn ms(us: u64) -> String {
    format!("{:.2}", us as f64 / 1000.0)
}

fn mib(kib: u64) -> String {
    format!("{:.1}", kib as f64 / 1024.0)
}

/// The markdown table of `reports`: one row per scenario and backend, scenarios in the order
/// of the first report, then one line per backend about memory and password hashes.
pub fn table(reports: &[Report]) -> String {
    let mut out = String::from(
        "| Scenario | Backend | req/s (wall) | req per server CPU-s | p50 ms | p99 ms | RSS idle MiB | RSS peak MiB | errors |\n\
         |---|---|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    let scenarios: Vec<&str> = reports
        .first()
        .map(|r| r.rows.iter().map(|row| row.scenario.as_str()).collect())
        .unwrap_or_default();
    for scenario in scenarios {
        for report in reports {
            let Some(row) = report.rows.iter().find(|r| r.scenario == scenario) else {
                continue;
            };
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
                row.scenario,
                report.backend,
                human(row.per_sec()),
                human(row.per_cpu_sec()),
                ms(row.p50_us),
                ms(row.p99_us),
                mib(report.rss_idle_kib),
                mib(row.rss_peak_kib),
                row.errors,
            ));
        }
    }
    for report in reports {
        let login = report.rows.iter().find(|r| r.scenario == LOGIN);
        let (per_sec, per_cpu) = login.map_or((0.0, 0.0), |r| (r.per_sec(), r.per_cpu_sec()));
        out.push_str(&format!(
            "\n{}: full logins {} /s wall, {} per server CPU-s; bare Argon2id ({}) {} hashes per CPU-s on one thread, \
             so a login costs {:.1} % beyond its hash; peak concurrent hashes {} / bound {}; \
             RSS idle {} MiB, high-water mark {} MiB.\n",
            report.backend,
            human(per_sec),
            human(per_cpu),
            report.argon2_params,
            human(report.argon2_per_sec),
            overhead_pct(per_cpu, report.argon2_per_sec),
            report.hash_peak,
            report.hash_bound,
            mib(report.rss_idle_kib),
            mib(report.rss_hwm_kib),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_by_nearest_rank() {
        let v: Vec<u32> = (1..=100).collect();
        assert_eq!(percentile(&v, 0.5), 50);
        assert_eq!(percentile(&v, 0.99), 99);
        assert_eq!(percentile(&v, 1.0), 100);
        assert_eq!(percentile(&v, 0.0), 1);
        assert_eq!(percentile(&[7], 0.99), 7);
        assert_eq!(percentile(&[], 0.5), 0);
        assert_eq!(percentile(&[1, 2, 3], 0.5), 2);
    }

    #[test]
    fn overhead_is_the_share_of_cpu_beyond_the_hash() {
        // 25 logins per CPU-second against 28 bare hashes per second: each login costs
        // 40 ms against a 35.7 ms hash, i.e. 12 % more.
        assert!((overhead_pct(25.0, 28.0) - 12.0).abs() < 1e-9);
        assert_eq!(overhead_pct(0.0, 28.0), 0.0);
        assert_eq!(overhead_pct(28.0, 28.0), 0.0);
    }

    #[test]
    fn rates_and_numbers() {
        let r = Row {
            ok: 1000,
            wall_secs: 2.0,
            cpu_secs: 0.5,
            ..Row::default()
        };
        assert_eq!((r.per_sec(), r.per_cpu_sec()), (500.0, 2000.0));
        assert_eq!(Row::default().per_sec(), 0.0);
        assert_eq!(human(45120.4), "45 120");
        assert_eq!(human(1234567.0), "1 234 567");
        assert_eq!(human(780.0), "780");
        assert_eq!(human(27.84), "27.8");
    }

    #[test]
    fn table_has_a_row_per_scenario_and_backend_and_the_login_summary() {
        let report = |backend: &str, login_ok: u64| Report {
            backend: backend.into(),
            rss_idle_kib: 10 * 1024,
            rss_hwm_kib: 60 * 1024,
            rows: vec![
                Row {
                    scenario: "discovery".into(),
                    ok: 90_000,
                    wall_secs: 2.0,
                    cpu_secs: 2.0,
                    p50_us: 1_250,
                    p99_us: 4_000,
                    rss_peak_kib: 20 * 1024,
                    ..Row::default()
                },
                Row {
                    scenario: LOGIN.into(),
                    ok: login_ok,
                    wall_secs: 10.0,
                    cpu_secs: 10.0,
                    ..Row::default()
                },
            ],
            argon2_per_sec: 28.0,
            argon2_params: "m=19456,t=2,p=1".into(),
            hash_peak: 4,
            hash_bound: 4,
        };
        let t = table(&[
            report("SQLite + memory", 250),
            report("PostgreSQL + Redis", 200),
        ]);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(
            lines[2],
            "| discovery | SQLite + memory | 45 000 | 45 000 | 1.25 | 4.00 | 10.0 | 20.0 | 0 |"
        );
        assert!(lines[3].starts_with("| discovery | PostgreSQL + Redis |"));
        assert!(lines[4].starts_with("| full citizen login | SQLite + memory | 25.0 |"));
        assert!(t.contains(
            "so a login costs 12.0 % beyond its hash; peak concurrent hashes 4 / bound 4"
        ));
        assert!(t.contains("PostgreSQL + Redis: full logins 20.0 /s wall"));
        let back: Report =
            serde_json::from_str(&serde_json::to_string(&report("x", 1)).unwrap()).unwrap();
        assert_eq!(back, report("x", 1));
    }
}
