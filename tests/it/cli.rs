//! The operator command line against a real database.

use crate::harness::{Deployment, register_args};

fn args(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[test]
fn register_prints_an_activation_code_and_a_wrong_letter_is_refused() {
    let d = Deployment::new("");
    let out = d.cli_ok(&args(&register_args("12345678Z")));
    let code = out
        .lines()
        .find_map(|l| l.strip_prefix("ACTIVATION CODE: "))
        .expect("the activation code is printed");
    assert_eq!(code.len(), 8);
    assert!(code.chars().all(|c| c.is_ascii_digit()));

    let bad = d.cli(&args(&register_args("12345678A")));
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("the check letter for 12345678 is Z"), "{err}");

    let dup = d.cli(&args(&register_args("12345678z")));
    assert!(!dup.status.success());
    assert!(String::from_utf8_lossy(&dup.stderr).contains("already registered"));
}

#[test]
fn the_registry_office_lifecycle_is_audited() {
    let d = Deployment::new("");
    let mut reg = register_args("20-12345678-6");
    reg.extend(
        [
            "--proofing",
            "online",
            "--fact",
            "employer=SANTA JULIA S A",
            "--tramite",
            "00123456789",
        ]
        .map(String::from),
    );
    let first = d.cli_json(&args(&reg));
    let first_code = first["activation_code"].as_str().unwrap().to_owned();
    assert_eq!(first["citizen"]["identifier"]["number"], "20123456786");

    let shown = d.cli_json(&["admin", "citizen", "show", "20123456786"]);
    assert_eq!(shown["citizen"]["status"], "registered");
    assert_eq!(shown["citizen"]["proofing"], "online");
    assert_eq!(shown["highest_level"], "substantial");
    assert_eq!(shown["activation_code"]["failures"], 0);

    let raised = d.cli_json(&[
        "admin",
        "citizen",
        "set-level",
        "cuil:20-12345678-6",
        "--proofing",
        "in_person",
    ]);
    assert_eq!(raised["highest_level"], "high");

    let blocked = d.cli_json(&[
        "admin",
        "citizen",
        "block",
        "20123456786",
        "--reason",
        "lost phone",
    ]);
    assert_eq!(blocked["citizen"]["status"], "blocked");
    let again = d.cli(&["admin", "citizen", "block", "20123456786"]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already blocked"));
    let unblocked = d.cli_json(&["admin", "citizen", "unblock", "20123456786"]);
    assert_eq!(unblocked["citizen"]["status"], "registered");

    let reissued = d.cli_json(&["admin", "citizen", "reissue-code", "20123456786"]);
    assert_ne!(reissued["activation_code"].as_str().unwrap(), first_code);

    let missing = d.cli(&["admin", "citizen", "show", "87654321X"]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("not found"));

    let trail = d.cli_json(&["admin", "audit", "--citizen", "20123456786"]);
    let kinds: Vec<_> = trail
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        kinds,
        [
            "citizen.registered",
            "activation_code.issued",
            "citizen.proofing_changed",
            "citizen.blocked",
            "citizen.unblocked",
            "activation_code.issued"
        ]
    );
    // No secret goes to the audit trail.
    assert!(!trail.to_string().contains(&first_code));
    let verdict = d.cli_json(&["admin", "audit", "verify"]);
    assert_eq!(verdict["intact"], true);
    assert_eq!(verdict["entries"], 6);
}

#[tokio::test]
async fn audit_verify_detects_an_edited_row() {
    let d = Deployment::new("");
    d.cli_ok(&args(&register_args("12345678Z")));
    d.cli_ok(&["admin", "citizen", "block", "12345678Z"]);
    assert!(
        d.cli_ok(&["admin", "audit", "verify"])
            .contains("intact: 3 entries")
    );

    let url = format!("sqlite://{}/pasarela.db", d.dir.path().display());
    {
        use sqlx::Connection;
        let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
        let edited = sqlx::query("UPDATE audit_log SET actor = 'operator:mallory' WHERE seq = 2")
            .execute(&mut conn)
            .await
            .unwrap();
        assert_eq!(edited.rows_affected(), 1);
        conn.close().await.unwrap();
    }
    let out = d.cli(&["admin", "audit", "verify"]);
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("entry 2 was altered"), "{text}");
}

#[test]
fn keys_rotate_starts_signing_with_the_key_already_published() {
    let d = Deployment::new("");
    let before = d.cli_json(&["keys", "list"]);
    let state_of = |list: &serde_json::Value, kid: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|k| k["kid"] == kid)
            .map(|k| k["state"].as_str().unwrap().to_owned())
    };
    let pick = |list: &serde_json::Value, alg: &str, state: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|k| k["alg"] == alg && k["state"] == state)
            .map(|k| k["kid"].as_str().unwrap().to_owned())
            .unwrap_or_else(|| panic!("no {state} {alg} key in {list}"))
    };
    let next_rsa = pick(&before, "RS256", "next");
    let active_rsa = pick(&before, "RS256", "active");
    let next_ec = pick(&before, "ES256", "next");

    d.cli_ok(&["keys", "rotate"]);
    let after = d.cli_json(&["keys", "list"]);
    assert_eq!(
        pick(&after, "RS256", "active"),
        next_rsa,
        "the published next key signs now"
    );
    assert_eq!(pick(&after, "ES256", "active"), next_ec);
    assert_eq!(
        state_of(&after, &active_rsa).as_deref(),
        Some("retiring"),
        "the old key stays published"
    );
    let new_next = pick(&after, "RS256", "next");
    assert!(
        state_of(&before, &new_next).is_none(),
        "a brand-new key is published as next"
    );
}

#[test]
fn configuration_errors_name_the_key_and_stop() {
    let d = Deployment::new(
        "[server.tls]\ncert_file = \"/nonexistent.pem\"\nkey_file = \"/nonexistent.key\"\n",
    );
    let out = d.cli(&["check-config"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("server.tls.cert_file"));

    let d = Deployment::new("[citizens]\nmax_code_failures = \"five\"\n");
    let out = d.cli(&["check-config"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("citizens.max_code_failures"));

    let d = Deployment::new("[ephemeral]\nbackendd = \"memory\"\n");
    let err = String::from_utf8_lossy(&d.cli(&["serve"]).stderr).to_string();
    assert!(err.contains("backendd"), "{err}");

    let ok = Deployment::new("");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_pasarela"))
        .args(["--config", ok.config_path.to_str().unwrap(), "check-config"])
        .env("PASARELA_CITIZENS__DEFAULT_REGION", "Atlantis")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("citizens.default_region"),
        "{err}"
    );
}

#[tokio::test]
async fn dev_seed_makes_a_demo_citizen_who_logs_in_with_password_and_sms_code() {
    use crate::walk::{Driver, PlainHttp};
    let d = crate::harness::journey_deployment("");
    let first = d.cli_json(&["dev", "seed"]);
    // Running it again resets the same citizen rather than failing.
    let again = d.cli_json(&["dev", "seed"]);
    assert_eq!(first, again);
    let (id, password) = (
        first["identifier"].as_str().unwrap(),
        first["password"].as_str().unwrap(),
    );
    let shown = d.cli_json(&["admin", "citizen", "show", id]);
    assert_eq!(shown["citizen"]["status"], "active");

    let server = d.start().await;
    let mut browser = PlainHttp::new(server.addr);
    browser.open("/login").await;
    let at = browser
        .submit(&[("identifier", id), ("password", password)])
        .await;
    assert_eq!(at, "/login/code");
    let code = d.last_sms_code(first["mobile"].as_str().unwrap());
    assert_eq!(browser.submit(&[("code", &code)]).await, "/account");
    server
        .shutdown(std::time::Duration::from_secs(1))
        .await
        .unwrap();
}

#[test]
fn dev_commands_are_refused_outside_development() {
    let d = Deployment::new("");
    let text = std::fs::read_to_string(&d.config_path)
        .unwrap()
        .replace("enabled = true", "enabled = false");
    std::fs::write(&d.config_path, text).unwrap();
    let out = d.cli(&["dev", "seed"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("dev.enabled"));
}

#[test]
fn client_add_takes_the_newer_oidc_settings_and_show_prints_them() {
    let d = Deployment::new("");
    let jwks = d.dir.path().join("jwks.json");
    std::fs::write(
        &jwks,
        r#"{"keys":[{"kty":"EC","crv":"P-256","kid":"k1","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}"#,
    )
    .unwrap();
    let jwks = jwks.display().to_string();
    let added = d.cli_json(&[
        "admin",
        "client",
        "add",
        "hybrid",
        "--redirect-uri",
        "https://rp.example/cb",
        "--auth-method",
        "private_key_jwt",
        "--jwks-file",
        &jwks,
        "--token-auth-alg",
        "ES256",
        "--grant-type",
        "authorization_code",
        "--grant-type",
        "implicit",
        "--response-type",
        "code",
        "--response-type",
        "code id_token",
        "--subject-type",
        "pairwise",
        "--request-object-alg",
        "none",
        "--request-uri",
        "https://rp.example/req.jwt#abc",
        "--userinfo-alg",
        "PS256",
        "--frontchannel-logout-uri",
        "https://rp.example/fc",
        "--logo-uri",
        "https://rp.example/logo.png",
        "--policy-uri",
        "https://rp.example/privacy",
        "--tos-uri",
        "https://rp.example/tos",
    ]);
    assert!(added["client_secret"].is_null());
    let shown = d.cli_json(&["admin", "client", "show", "hybrid"]);
    assert_eq!(shown["token_endpoint_auth_method"], "private_key_jwt");
    assert_eq!(shown["jwks"]["keys"][0]["kid"], "k1");
    assert_eq!(shown["token_endpoint_auth_signing_alg"], "ES256");
    assert_eq!(
        shown["grant_types"],
        serde_json::json!(["authorization_code", "implicit"])
    );
    assert_eq!(
        shown["response_types"],
        serde_json::json!(["code", "code id_token"])
    );
    assert_eq!(shown["subject_type"], "pairwise");
    assert_eq!(shown["request_object_signing_alg"], "none");
    assert_eq!(
        shown["request_uris"],
        serde_json::json!(["https://rp.example/req.jwt#abc"])
    );
    assert_eq!(shown["userinfo_signed_response_alg"], "PS256");
    assert_eq!(shown["frontchannel_logout_uri"], "https://rp.example/fc");
    assert_eq!(shown["logo_uri"], "https://rp.example/logo.png");
    assert_eq!(shown["policy_uri"], "https://rp.example/privacy");
    assert_eq!(shown["tos_uri"], "https://rp.example/tos");
    assert_eq!(shown["registered_by"], "admin");

    // A service client needs no redirect URI.
    let service = d.cli_json(&[
        "admin",
        "client",
        "add",
        "batch",
        "--grant-type",
        "client_credentials",
    ]);
    assert!(service["client_secret"].is_string());
    assert_eq!(
        service["grant_types"],
        serde_json::json!(["client_credentials"])
    );

    for bad in [
        vec![
            "--redirect-uri",
            "https://rp.example/cb",
            "--subject-type",
            "secret",
        ],
        vec![
            "--redirect-uri",
            "https://rp.example/cb",
            "--response-type",
            "id_token",
        ],
        vec![
            "--redirect-uri",
            "https://rp.example/cb",
            "--userinfo-alg",
            "HS256",
        ],
        vec![
            "--redirect-uri",
            "https://rp.example/cb",
            "--auth-method",
            "private_key_jwt",
        ],
        vec![
            "--redirect-uri",
            "https://rp.example/cb",
            "--jwks-file",
            "/nonexistent.json",
        ],
        vec!["--grant-type", "authorization_code"],
    ] {
        let mut a = vec!["admin", "client", "add", "bad"];
        a.extend(bad.iter().copied());
        assert!(!d.cli(&a).status.success(), "{bad:?}");
    }
    let show = d.cli(&["admin", "client", "show", "bad"]);
    assert!(!show.status.success());
}
