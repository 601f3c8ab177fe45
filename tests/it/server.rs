//! The real server: readiness, security headers, TLS, proxies, PostgreSQL + Redis, shutdown.

use crate::harness::{
    Deployment, activate_registered, fresh_postgres_database, journey_deployment, redis_url,
    register_args,
};
use std::time::Duration;

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .build()
        .unwrap()
}

#[tokio::test]
async fn serves_health_and_readiness_with_security_headers() {
    let d = Deployment::new("");
    let server = d.start().await;
    let base = format!("http://{}", server.addr);
    let health = client()
        .get(format!("{base}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let ready = client()
        .get(format!("{base}/readyz"))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
    let h = ready.headers().clone();
    assert_eq!(h["x-request-id"], "abc-123");
    assert!(
        h["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert!(
        h.get("strict-transport-security").is_none(),
        "no HSTS over plain http"
    );
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(body["checks"]["keys"], "ok");
    let generated = client()
        .get(format!("{base}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        generated.headers()["x-request-id"].len(),
        36,
        "a request id is made when none is sent"
    );
    server.shutdown(Duration::from_secs(1)).await.unwrap();
}

#[tokio::test]
async fn forwarded_proto_is_believed_only_from_trusted_proxies() {
    for (trusted, hsts) in [("[\"127.0.0.1/32\"]", true), ("[]", false)] {
        let d = Deployment::custom(&format!("trusted_proxies = {trusted}"), "");
        let server = d.start().await;
        let res = client()
            .get(format!("http://{}/healthz", server.addr))
            .header("x-forwarded-proto", "https")
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.headers().contains_key("strict-transport-security"),
            hsts,
            "trusted = {trusted}"
        );
        server.shutdown(Duration::from_secs(1)).await.unwrap();
    }
}

#[tokio::test]
async fn built_in_tls_serves_https() {
    use openssl::{asn1::Asn1Time, hash::MessageDigest, pkey::PKey, rsa::Rsa, x509};
    let certs = tempfile::tempdir().unwrap();
    let key = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
    let mut name = x509::X509NameBuilder::new().unwrap();
    name.append_entry_by_text("CN", "localhost").unwrap();
    let name = name.build();
    let mut b = x509::X509Builder::new().unwrap();
    b.set_version(2).unwrap();
    b.set_subject_name(&name).unwrap();
    b.set_issuer_name(&name).unwrap();
    b.set_pubkey(&key).unwrap();
    b.set_not_before(&Asn1Time::days_from_now(0).unwrap())
        .unwrap();
    b.set_not_after(&Asn1Time::days_from_now(1).unwrap())
        .unwrap();
    b.sign(&key, MessageDigest::sha256()).unwrap();
    let cert = certs.path().join("tls.crt");
    let keyf = certs.path().join("tls.key");
    std::fs::write(&cert, b.build().to_pem().unwrap()).unwrap();
    std::fs::write(&keyf, key.private_key_to_pem_pkcs8().unwrap()).unwrap();
    let tls = format!(
        "[server.tls]\ncert_file = \"{}\"\nkey_file = \"{}\"",
        cert.display(),
        keyf.display()
    );
    let d = Deployment::custom(&tls, "");
    let server = d.start().await;
    let res = client()
        .get(format!("https://localhost:{}/readyz", server.addr.port()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers().contains_key("strict-transport-security"));
    server.shutdown(Duration::from_secs(1)).await.unwrap();
}

#[tokio::test]
async fn runs_on_postgresql_and_redis() {
    let (Some(db), Some(redis)) = (fresh_postgres_database().await, redis_url()) else {
        return;
    };
    let d = Deployment::new("");
    let text = std::fs::read_to_string(&d.config_path).unwrap();
    let text = text.replace(
        &format!("url = \"sqlite://{}/pasarela.db\"", d.dir.path().display()),
        &format!("url = \"{db}\"\n[ephemeral]\nbackend = \"redis\"\nredis_url = \"{redis}\"\nkey_prefix = \"it-{}:\"", pasarela::core::random::digits(8).unwrap()),
    );
    std::fs::write(&d.config_path, text).unwrap();
    let server = d.start().await;
    let res = client()
        .get(format!("http://{}/readyz", server.addr))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    server.shutdown(Duration::from_secs(1)).await.unwrap();
    // The operator CLI works on the same PostgreSQL database.
    let out = d.cli_ok(
        &crate::harness::register_args("12345678Z")
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    assert!(out.contains("ACTIVATION CODE: "));
}

/// Starts a private redis-server, so the test can kill it.
fn private_redis() -> Option<(std::process::Child, u16)> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .ok()?
        .local_addr()
        .ok()?
        .port();
    let child = std::process::Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .stdout(std::process::Stdio::null())
        .spawn()
        .ok()?;
    for _ in 0..50 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Some((child, port));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    None
}

#[tokio::test]
async fn readiness_fails_when_the_ephemeral_store_is_gone() {
    let Some((mut redis, port)) = private_redis() else {
        assert!(
            std::env::var("TEST_REQUIRE_BACKENDS").as_deref() != Ok("1"),
            "redis-server is required"
        );
        eprintln!("NOTICE: redis-server not available; skipping");
        return;
    };
    let d = Deployment::new(&format!(
        "[ephemeral]\nbackend = \"redis\"\nredis_url = \"redis://127.0.0.1:{port}/\"\n"
    ));
    let server = d.start().await;
    let url = format!("http://{}/readyz", server.addr);
    assert_eq!(client().get(&url).send().await.unwrap().status(), 200);
    redis.kill().unwrap();
    redis.wait().unwrap();
    let res = client().get(&url).send().await.unwrap();
    assert_eq!(res.status(), 503);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["checks"]["database"], "ok");
    assert_ne!(body["checks"]["ephemeral"], "ok");
    server.shutdown(Duration::from_secs(1)).await.unwrap();
}

#[test]
fn sigterm_stops_the_server_gracefully() {
    use std::io::{BufRead, BufReader};
    let d = Deployment::new("");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_pasarela"))
        .args(["--config", d.config_path.to_str().unwrap(), "serve"])
        .env("RUST_LOG", "info")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let mut saw_warning = false;
    let addr = loop {
        let line = lines
            .next()
            .expect("server exited before listening")
            .unwrap();
        saw_warning |= line.contains("DEVELOPMENT SETTING ON");
        if let Some(rest) = line.split("listening on http://").nth(1) {
            break rest.split_whitespace().next().unwrap().to_owned();
        }
    };
    assert!(saw_warning, "dev settings are announced loudly");
    let status = std::process::Command::new("curl")
        .args([
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            &format!("http://{addr}/readyz"),
        ])
        .output();
    if let Ok(out) = status {
        assert_eq!(String::from_utf8_lossy(&out.stdout), "200");
    }
    std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let started = std::time::Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "graceful exit, got {status}");
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the server did not stop"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // Drain so the pipe does not block anything.
    for _ in lines {}
}

#[tokio::test]
async fn dev_sms_page_lists_the_outbox_only_when_dev_pages_are_on() {
    let outbox = tempfile::tempdir().unwrap();
    let path = outbox.path().join("sms.jsonl");
    std::fs::write(
        &path,
        "{\"to\":\"+34600111222\",\"text\":\"Código <b>123456</b>\",\"sent_at\":\"2026-01-01T10:00:00Z\"}\n",
    )
    .unwrap();
    let sms = format!(
        "[sms]\nprovider = \"outbox\"\noutbox_path = \"{}\"\n",
        path.display()
    );
    let on = Deployment::new(&format!("pages = true\n{sms}"));
    let server = on.start().await;
    let res = client()
        .get(format!("http://{}/dev/sms?lang=ca", server.addr))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let page = res.text().await.unwrap();
    assert!(page.contains("<html lang=\"ca\">"), "{page}");
    assert!(page.contains("+34600111222"));
    assert!(
        page.contains("Código &#60;b&#62;123456&#60;/b&#62;")
            || page.contains("Código &lt;b&gt;123456&lt;/b&gt;"),
        "escaped: {page}"
    );
    server.shutdown(Duration::from_secs(1)).await.unwrap();

    let off = Deployment::new(&sms);
    let server = off.start().await;
    let res = client()
        .get(format!("http://{}/dev/sms", server.addr))
        .header("accept-language", "en-GB,en;q=0.9")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let page = res.text().await.unwrap();
    assert!(
        page.contains("<html lang=\"en\">") && page.contains("does not exist"),
        "{page}"
    );
    server.shutdown(Duration::from_secs(1)).await.unwrap();
}

/// `/readyz` reports the hasher's bound and the most hashes it ran at once: none before any
/// password was hashed, one after a single activation.
#[tokio::test]
async fn readiness_reports_the_peak_of_concurrent_password_hashes_and_the_bound() {
    let d = journey_deployment("[credentials]\nmax_concurrent_hashes = 3\n");
    let args = register_args("12345678Z");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    d.cli_ok(&args);
    let server = d.start().await;
    let readyz = || async {
        let res = client()
            .get(format!("http://{}/readyz", server.addr))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        res.json::<serde_json::Value>().await.unwrap()["password_hashes"].clone()
    };
    assert_eq!(readyz().await, serde_json::json!({ "peak": 0, "bound": 3 }));
    activate_registered(&server.state, "12345678Z", "pradera-naranja-47-vuelo").await;
    assert_eq!(readyz().await, serde_json::json!({ "peak": 1, "bound": 3 }));
    server.shutdown(Duration::from_secs(1)).await.unwrap();
}
