//! The server process under test: start, stop, its CPU time and resident memory; the bare
//! Argon2id rate beside it.

use super::*;

// ----------------------------------------------------------------------------------------------
// The pasarela process: CPU time and memory from /proc.

pub(crate) struct Server {
    pub(crate) child: Child,
    pub(crate) pid: u32,
    pub(crate) ticks_per_sec: f64,
}

impl Server {
    pub(crate) fn cpu_secs(&self) -> f64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid)).unwrap_or_default();
        cpu_of_stat(&stat, self.ticks_per_sec)
    }

    pub(crate) fn status_kib(&self, field: &str) -> u64 {
        proc_status_kib(self.pid, field)
    }
}

pub(crate) fn proc_status_kib(pid: u32, field: &str) -> u64 {
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

pub(crate) fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok()?.trim().parse().ok())
        .unwrap_or(100.0)
}

/// Samples pasarela's resident set every 20 ms until stopped; returns the largest, KiB.
pub(crate) struct RssSampler {
    pub(crate) stop: Arc<AtomicBool>,
    pub(crate) handle: tokio::task::JoinHandle<u64>,
}

impl RssSampler {
    pub(crate) fn start(pid: u32) -> Self {
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

    pub(crate) async fn finish(self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        self.handle.await.unwrap_or(0)
    }
}

/// Hashes per CPU-second of Argon2id with these parameters on this thread (CPU time rather
/// than wall time, so that other work on a shared machine does not lower the figure).
pub(crate) fn bare_argon2(m: u32, t: u32, p: u32, n: u32, ticks_per_sec: f64) -> Result<f64> {
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
pub(crate) fn thread_cpu_secs(ticks_per_sec: f64) -> f64 {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap_or_default();
    cpu_of_stat(&stat, ticks_per_sec)
}

/// utime + stime of a `/proc/…/stat` line, in seconds.
pub(crate) fn cpu_of_stat(stat: &str, ticks_per_sec: f64) -> f64 {
    // Fields after the command name (which may hold spaces) start at ") "; utime and stime
    // are fields 14 and 15 of the whole line, 12 and 13 of the rest.
    let rest = stat.rsplit_once(") ").map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / ticks_per_sec
}
