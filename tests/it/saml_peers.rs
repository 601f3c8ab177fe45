//! Real third-party SAML service providers against the running server: pysaml2 and
//! python3-saml (OneLogin, strict mode), from `tests/peers/saml/peer.py` in the venv that
//! `tests/all.sh` prepares (`tests/peers/saml/install.sh`). The Python side builds the
//! AuthnRequests and LogoutRequests and validates what pasarela answers with the library's
//! own checks; this side carries the browser leg, logging in through the real pages with
//! password and SMS code.
//!
//! Without the venv the tests are skipped with a notice, or fail when `TEST_REQUIRE_PEERS=1`.

use crate::harness::*;
use pasarela::server::Running;
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const PASSWORD: &str = "Marmota-Azul-2024!";
/// The server's configured public URL: what the peers read in the IdP metadata.
const PUBLIC: &str = "http://localhost:8080";
/// A RelayState with characters that URL encoders treat differently.
const RELAY: &str = "vuelta~a*la sede 1";

/// The peers' Python, or `None` (with a notice) when absent and not required.
fn peers_python() -> Option<PathBuf> {
    let venv = std::env::var_os("PASARELA_PEERS_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/peers-venv"));
    let python = venv.join("bin/python");
    if python.exists() {
        return Some(python);
    }
    assert!(
        std::env::var("TEST_REQUIRE_PEERS").as_deref() != Ok("1"),
        "the SAML peers (pysaml2, python3-saml) are not installed at {}: run tests/all.sh \
         (or tests/peers/saml/install.sh)",
        venv.display()
    );
    eprintln!(
        "NOTICE: no SAML peers venv at {}; skipping the pysaml2 / python3-saml runs \
         (tests/all.sh installs them)",
        venv.display()
    );
    None
}

/// One third-party SP: the library, its working directory and its entityID.
struct Peer {
    python: PathBuf,
    lib: &'static str,
    dir: PathBuf,
    entity: String,
}

impl Peer {
    fn run(&self, args: &[&str], stdin: Option<&Value>) -> String {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers/saml/peer.py");
        let mut child = Command::new(&self.python)
            .arg(script)
            .arg(self.lib)
            .arg(args[0])
            .arg(&self.dir)
            .args(&args[1..])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut input = child.stdin.take().unwrap();
        if let Some(v) = stdin {
            input.write_all(v.to_string().as_bytes()).unwrap();
        }
        drop(input);
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{} {:?} failed:\n{}",
            self.lib,
            args,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn json(&self, args: &[&str], stdin: Option<&Value>) -> Value {
        serde_json::from_str(&self.run(args, stdin)).unwrap()
    }
}

struct Setup {
    d: Deployment,
    server: Running,
    python: PathBuf,
    idp_metadata: PathBuf,
}

/// A deployment with Lucía registered and active, the server up, and its metadata saved.
async fn setup() -> Option<Setup> {
    let python = peers_python()?;
    let d = journey_deployment("");
    let args = register_args("12345678Z");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    d.cli_ok(&args);
    let server = d.start().await;
    let state = server.state.clone();
    activate_registered(&state, "12345678Z", PASSWORD).await;
    let md = reqwest::get(format!("http://{}/saml/metadata", server.addr))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let idp_metadata = d.dir.path().join("idp.xml");
    std::fs::write(&idp_metadata, md).unwrap();
    Some(Setup {
        d,
        server,
        python,
        idp_metadata,
    })
}

impl Setup {
    /// Sets up a `lib` SP called `name`, registers it from the metadata it generates through
    /// `admin sp add` (with `options`), and returns it.
    fn peer(&self, lib: &'static str, name: &str, encrypt: bool, options: &[&str]) -> Peer {
        let peer = Peer {
            python: self.python.clone(),
            lib,
            dir: self.d.dir.path().join(name),
            entity: format!("https://{name}.example.es"),
        };
        let mut args = vec![
            "setup",
            peer.entity.as_str(),
            self.idp_metadata.to_str().unwrap(),
        ];
        if encrypt {
            args.push("--encrypt");
        }
        let md = peer.run(&args, None);
        let path = self.d.dir.path().join(format!("{name}.xml"));
        std::fs::write(&path, md).unwrap();
        let mut add = vec![
            "admin",
            "sp",
            "add",
            "--metadata",
            path.to_str().unwrap(),
            "--min-level",
            "low",
        ];
        if encrypt {
            add.push("--encrypt");
        }
        add.extend_from_slice(options);
        self.d.cli_ok(&add);
        peer
    }
}

/// Sends the message a peer built (`{"method", "url", "fields"}`) from the browser, to the
/// server instead of the public URL.
async fn send(b: &Browser, msg: &Value) -> Page {
    let url = msg["url"].as_str().unwrap();
    let path = url
        .strip_prefix(PUBLIC)
        .unwrap_or_else(|| panic!("not to pasarela: {url}"));
    if msg["method"] == "GET" {
        return b.get(path).await;
    }
    let fields: Vec<(String, String)> = msg["fields"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
        .collect();
    let res = b
        .client
        .post(format!("{}{path}", b.base))
        .form(&fields)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let location = res
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned());
    Page {
        status,
        location,
        body: res.text().await.unwrap(),
    }
}

/// The fields of the auto-submitting form on `page` that goes to `action`.
fn posted_form(page: &Page, action: &str, param: &str) -> Value {
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains(&format!("action=\"{action}\"")),
        "the form does not go to {action}: {}",
        page.body
    );
    let mut form = serde_json::Map::new();
    form.insert(
        param.into(),
        hidden_value(&page.body, param).expect(param).into(),
    );
    if let Some(r) = hidden_value(&page.body, "RelayState") {
        form.insert("RelayState".into(), html_unescape(&r).into());
    }
    Value::Object(form)
}

/// What every accepted identity carries.
fn check_identity(id: &Value, relay: &str, encrypted: bool) {
    assert_eq!(
        id["name_id_format"],
        "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
    );
    assert!(!id["name_id"].as_str().unwrap().is_empty());
    assert!(!id["session_index"].as_str().unwrap().is_empty());
    assert_eq!(id["relay_state"], relay);
    assert_eq!(id["encrypted"], encrypted, "{id}");
    let ctx: Vec<&str> = id["authn_context"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(ctx, ["http://eidas.europa.eu/LoA/substantial"]);
    let attrs = id["attributes"].as_object().unwrap();
    let value = |suffix: &str| {
        attrs
            .iter()
            .find(|(k, _)| k.ends_with(suffix))
            .unwrap_or_else(|| panic!("no {suffix} in {attrs:?}"))
            .1[0]
            .as_str()
            .unwrap()
            .to_owned()
    };
    // pysaml2 names the eIDAS attributes by its own eIDAS attribute map (CurrentGivenName
    // is its FirstName, CurrentFamilyName its FamilyName); python3-saml keeps the URIs.
    let name = |eidas: &'static str, pysaml2: &'static str| {
        if attrs.keys().any(|k| k.ends_with(eidas)) {
            eidas
        } else {
            pysaml2
        }
    };
    assert_eq!(value("PersonIdentifier"), "ES/ES/12345678Z");
    assert_eq!(value(name("CurrentGivenName", "FirstName")), "Lucía");
    assert_eq!(
        value(name("CurrentFamilyName", "FamilyName")),
        "García Pérez"
    );
    assert_eq!(value("DateOfBirth"), "1980-02-29");
}

/// One SP's whole run in its own browser: SSO over `binding` (logging in), the peer
/// validates the Response; then SLO over `binding`, the peer validates the LogoutResponse,
/// and the session is gone.
async fn sso_and_slo(s: &Setup, peer: &Peer, binding: &str, encrypted: bool) {
    let b = Browser::new(s.server.addr);
    let msg = peer.json(&["login", binding, RELAY], None);
    let first = send(&b, &msg).await;
    let answer = log_in_through_pages(&s.d, &b, &first, PASSWORD).await;
    let acs = format!("{}/acs", peer.entity);
    let form = posted_form(&answer, &acs, "SAMLResponse");
    let id = peer.json(&["acs"], Some(&form));
    check_identity(&id, RELAY, encrypted);
    // Signed in: the home page sends the citizen to their account.
    assert_eq!(b.get("/").await.status, 303);

    let relay = "fin~de*sesión 2";
    let msg = peer.json(&["logout", binding, relay], None);
    let p = send(&b, &msg).await;
    let answer = if binding == "post" {
        serde_json::json!({ "form": posted_form(&p, &format!("{}/slo/post", peer.entity), "SAMLResponse") })
    } else {
        assert_eq!(p.status, 303, "{}", p.body);
        let to = p.location.unwrap();
        let (base, query) = to.split_once('?').unwrap();
        assert_eq!(base, format!("{}/slo", peer.entity));
        serde_json::json!({ "query": query })
    };
    let done = peer.json(&["sls"], Some(&answer));
    assert_eq!(done["ok"], true, "{done}");
    assert_eq!(done["relay_state"], relay);
    assert_eq!(done["signed"], true);
    // The session is over: the home page is shown again.
    assert_eq!(b.get("/").await.status, 200);
}

#[tokio::test]
async fn saml_peer_pysaml2_sso_and_slo_over_both_bindings_signed_and_encrypted() {
    let Some(s) = setup().await else { return };
    let plain = s.peer("pysaml2", "pysaml2-sp", false, &[]);
    sso_and_slo(&s, &plain, "redirect", false).await;
    sso_and_slo(&s, &plain, "post", false).await;
    let enc = s.peer("pysaml2", "pysaml2-enc", true, &[]);
    sso_and_slo(&s, &enc, "post", true).await;
    sso_and_slo(&s, &enc, "redirect", true).await;
}

#[tokio::test]
async fn saml_peer_python3_saml_strict_sso_and_slo_signed_and_encrypted() {
    let Some(s) = setup().await else { return };
    let plain = s.peer("onelogin", "onelogin-sp", false, &[]);
    sso_and_slo(&s, &plain, "redirect", false).await;
    let enc = s.peer("onelogin", "onelogin-enc", true, &[]);
    sso_and_slo(&s, &enc, "redirect", true).await;
}
