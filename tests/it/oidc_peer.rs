//! pasarela's OpenID Provider against a relying party it did not write: panva's
//! `openid-client` (npm, `tests/peers/oidc/rp.mjs`) with `enableNonRepudiationChecks`, so the
//! ID token's signature, `iss`, `aud`, `nonce`, `state`, the RFC 9207 `iss` parameter and
//! `auth_time` are checked by the library. The citizen logs in on the real pages with
//! password and SMS code through a plain HTTP browser stand-in; the library then exchanges
//! the code, refreshes, reads userinfo and builds the end-session URL.
//!
//! Without `tests/peers/oidc/node_modules` (installed by `tests/all.sh`) the test is skipped
//! with a notice, or fails under `TEST_REQUIRE_PEERS=1`.

use crate::harness::*;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::AsyncWriteExt;

const PASSWORD: &str = "Tortuga-Marina-Azul-2031";
const ID: &str = "12345678Z";
const MOBILE: &str = "+34600111222";
const CLIENT: &str = "sede-peer";
const CB: &str = "http://localhost:9999/cb";
const BYE: &str = "http://localhost:9999/bye";
const SUBSTANTIAL: &str = "http://eidas.europa.eu/LoA/substantial";

/// The peer's directory when its packages are installed; `None` (with a notice) when they
/// are not and the run does not require them.
fn peer_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers/oidc");
    let required = std::env::var("TEST_REQUIRE_PEERS").as_deref() == Ok("1");
    let node = std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if dir.join("node_modules/openid-client").is_dir() && node {
        return Some(dir);
    }
    assert!(
        !required,
        "the OIDC peer (openid-client) is not installed in {} or node is missing: run tests/all.sh",
        dir.display()
    );
    eprintln!(
        "NOTICE: {}/node_modules or node missing; skipping the openid-client peer test \
         (tests/all.sh installs it)",
        dir.display()
    );
    None
}

/// Runs `node rp.mjs command` with `input` on stdin: the JSON it printed, or its stderr.
async fn rp(dir: &Path, command: &str, input: Value) -> Result<Value, String> {
    let mut child = tokio::process::Command::new("node")
        .arg("rp.mjs")
        .arg(command)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("node runs");
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(input.to_string().as_bytes()).await.unwrap();
    drop(stdin);
    let out = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("rp.mjs finished within a minute")
        .unwrap();
    if out.status.success() {
        Ok(serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "rp.mjs {command} printed no JSON ({e}): {}",
                String::from_utf8_lossy(&out.stdout)
            )
        }))
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

async fn rp_ok(dir: &Path, command: &str, input: Value) -> Value {
    rp(dir, command, input)
        .await
        .unwrap_or_else(|e| panic!("openid-client refused ({command}):\n{e}"))
}

/// `path` relative to the server: the library builds absolute URLs from discovery.
fn relative<'a>(base: &str, url: &'a str) -> &'a str {
    url.strip_prefix(base)
        .unwrap_or_else(|| panic!("{url} is not on {base}"))
}

fn param(location: &str, name: &str) -> Option<String> {
    query_pairs(location)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// `location` with the query parameter `name` set to `value`.
fn with_param(location: &str, name: &str, value: &str) -> String {
    let mut url = url::Url::parse(location).unwrap();
    let pairs: Vec<(String, String)> = query_pairs(location)
        .into_iter()
        .map(|(k, v)| {
            if k == name {
                (k, value.to_owned())
            } else {
                (k, v)
            }
        })
        .collect();
    url.query_pairs_mut().clear().extend_pairs(pairs);
    url.to_string()
}

#[tokio::test]
async fn oidc_peer_openid_client_code_flow_refresh_userinfo_and_logout() {
    let Some(dir) = peer_dir() else { return };
    // The issuer must be where the library can reach the server: a fixed free port.
    let d = journey_deployment("");
    let port = free_port();
    let issuer = format!("http://127.0.0.1:{port}");
    let text = std::fs::read_to_string(&d.config_path)
        .unwrap()
        .replace(
            "public_url = \"http://localhost:8080\"",
            &format!("public_url = \"{issuer}\""),
        )
        .replace(
            "bind = \"127.0.0.1:0\"",
            &format!("bind = \"127.0.0.1:{port}\""),
        );
    std::fs::write(&d.config_path, text).unwrap();
    let args = register_args(ID);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    d.cli_ok(&args);
    // A confidential client, registered the way an operator does.
    let added = d.cli_json(&[
        "admin",
        "client",
        "add",
        CLIENT,
        "--skip-consent",
        "--redirect-uri",
        CB,
        "--post-logout-redirect-uri",
        BYE,
        "--auth-method",
        "client_secret_basic",
        "--min-level",
        "substantial",
    ]);
    let secret = added["client_secret"].as_str().unwrap().to_owned();
    let server = d.start().await;
    assert_eq!(server.addr.port(), port);
    let state = server.state.clone();
    let citizen = activate_registered(&state, ID, PASSWORD).await;

    let work = tempfile::tempdir().unwrap();
    let state_file = work.path().join("rp.json");
    let start_input = |file: &Path| {
        json!({
            "issuer": issuer,
            "client_id": CLIENT,
            "client_secret": secret,
            "redirect_uri": CB,
            "scope": "openid profile email phone",
            "acr_values": SUBSTANTIAL,
            "max_age": 600,
            "state_file": file,
        })
    };
    let started = rp_ok(&dir, "start", start_input(&state_file)).await;
    let auth_url = started["authorization_url"].as_str().unwrap();
    let rp_state = param(auth_url, "state").unwrap();
    assert_eq!(
        param(auth_url, "code_challenge_method").as_deref(),
        Some("S256")
    );
    assert!(param(auth_url, "nonce").is_some());

    // The browser leg: no session, so the login pages, password then SMS code.
    let b = Browser::new(server.addr);
    let to_login = b.get(relative(&b.base, auth_url)).await;
    assert_eq!(to_login.status, 303, "{}", to_login.body);
    assert!(
        to_login.location.as_deref().unwrap().starts_with("/login?"),
        "{to_login:?}"
    );
    let form = b.follow(&to_login).await;
    assert_eq!(form.status, 200);
    let after_password = b.type_password(PASSWORD).await;
    assert_eq!(after_password.location.as_deref(), Some("/login/code"));
    let code_page = b.follow(&after_password).await;
    assert_eq!(code_page.status, 200);
    let sms = d.last_sms_code(MOBILE);
    let after_code = b.post("/login/code", &[("code", &sms)]).await;
    assert_eq!(after_code.status, 303, "{}", after_code.body);
    let resume = after_code.location.clone().unwrap();
    assert!(resume.starts_with("/oidc/authorize/resume"), "{resume}");
    let back = b.follow(&after_code).await;
    assert_eq!(back.status, 303, "{}", back.body);
    let callback = back.location.clone().unwrap();
    assert!(callback.starts_with(CB), "{callback}");

    // The library's checks are on: a callback claiming another issuer is refused before the
    // code is spent, and so is one with another state.
    for (name, value) in [("iss", "http://127.0.0.1:1"), ("state", "forged")] {
        let tampered = with_param(&callback, name, value);
        let err = rp(
            &dir,
            "finish",
            json!({ "state_file": state_file, "callback_url": tampered, "expected_acr": SUBSTANTIAL }),
        )
        .await
        .expect_err("openid-client must refuse a tampered callback");
        assert!(err.contains(name), "{name}: {err}");
    }

    // The real callback: code exchange, refresh, userinfo, all checked by the library.
    let got = rp_ok(
        &dir,
        "finish",
        json!({ "state_file": state_file, "callback_url": callback, "expected_acr": SUBSTANTIAL }),
    )
    .await;
    let claims = &got["id_token_claims"];
    assert_eq!(claims["iss"], issuer.as_str());
    assert_eq!(claims["sub"], citizen.id.to_string());
    assert_eq!(claims["azp"], CLIENT);
    assert_eq!(claims["acr"], SUBSTANTIAL);
    let amr: Vec<&str> = claims["amr"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(amr.contains(&"pwd") && amr.contains(&"sms"), "{amr:?}");
    assert!(claims["auth_time"].is_i64());
    assert!(claims["sid"].is_string());
    let refreshed = &got["refreshed_claims"];
    assert!(refreshed.is_object(), "a refreshed ID token: {got}");
    for k in ["sub", "auth_time", "acr", "sid"] {
        assert_eq!(refreshed[k], claims[k], "{k} after refresh");
    }
    assert_eq!(got["refresh_rotated"], true);
    assert_eq!(got["userinfo"]["sub"], claims["sub"]);
    assert_eq!(got["userinfo"]["given_name"], "Lucía");
    assert_eq!(got["userinfo"]["phone_number"], MOBILE);

    // A second authorization rides the SSO session; a wrong expected nonce makes the library
    // refuse the ID token after the exchange.
    let second = work.path().join("rp2.json");
    let started = rp_ok(&dir, "start", start_input(&second)).await;
    let page = b
        .get(relative(
            &b.base,
            started["authorization_url"].as_str().unwrap(),
        ))
        .await;
    assert_eq!(page.status, 303, "{}", page.body);
    let callback2 = page.location.unwrap();
    assert!(param(&callback2, "code").is_some(), "{callback2}");
    let mut kept: Value = serde_json::from_slice(&std::fs::read(&second).unwrap()).unwrap();
    kept["nonce"] = json!("not-the-nonce-that-was-sent");
    std::fs::write(&second, kept.to_string()).unwrap();
    let err = rp(
        &dir,
        "finish",
        json!({ "state_file": second, "callback_url": callback2, "expected_acr": SUBSTANTIAL }),
    )
    .await
    .expect_err("openid-client must refuse an ID token with another nonce");
    assert!(err.contains("nonce"), "{err}");
    // And one whose signature was altered on its way from the token endpoint: refused, so
    // the library verifies ID token signatures (enableNonRepudiationChecks).
    let third = work.path().join("rp3.json");
    let started = rp_ok(&dir, "start", start_input(&third)).await;
    let page = b
        .get(relative(
            &b.base,
            started["authorization_url"].as_str().unwrap(),
        ))
        .await;
    assert_eq!(page.status, 303, "{}", page.body);
    let err = rp(
        &dir,
        "finish",
        json!({
            "state_file": third,
            "callback_url": page.location.unwrap(),
            "expected_acr": SUBSTANTIAL,
            "corrupt_id_token_signature": true,
        }),
    )
    .await
    .expect_err("openid-client must refuse an ID token whose signature does not verify");
    assert!(err.contains("signature verification failed"), "{err}");

    // RP-initiated logout with the library's end-session URL: back to the client with the
    // state, and the session is gone.
    let logout = rp_ok(
        &dir,
        "logout",
        json!({ "state_file": state_file, "post_logout_redirect_uri": BYE, "state": "bye-state" }),
    )
    .await;
    let end = logout["end_session_url"].as_str().unwrap();
    assert!(param(end, "id_token_hint").is_some());
    let out = b.get(relative(&b.base, end)).await;
    assert_eq!(out.status, 303, "{}", out.body);
    let to = out.location.unwrap();
    assert!(to.starts_with(BYE), "{to}");
    assert_eq!(param(&to, "state").as_deref(), Some("bye-state"));
    let silent = b
        .get(&authorize_url(
            CLIENT,
            CB,
            "openid",
            &[("prompt", "none"), ("state", &rp_state)],
        ))
        .await;
    assert_eq!(silent.status, 303);
    let to = silent.location.unwrap();
    assert_eq!(
        param(&to, "error").as_deref(),
        Some("login_required"),
        "{to}"
    );
    server.shutdown(Duration::from_secs(1)).await.unwrap();
}
