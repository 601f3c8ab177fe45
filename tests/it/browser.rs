//! The citizen journey of `walk.rs` in headless Chromium (Debian's chromium and chromedriver,
//! installed by `tests/all.sh`), driven over WebDriver by `fantoccini`: real form filling,
//! real cookies (`__Host-` rules, SameSite), no JavaScript needed by the pages.

use crate::harness::{Deployment, free_port};
use crate::walk::{Driver, registered, walk};
use fantoccini::{Client, ClientBuilder, Locator};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

/// chromedriver on a free port, killed on drop.
pub(crate) struct ChromeDriver {
    child: Child,
    pub(crate) port: u16,
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts chromedriver, or `None` (with a notice) when it is not installed and the run does
/// not require it.
pub(crate) fn chromedriver() -> Option<ChromeDriver> {
    if !std::path::Path::new(CHROMEDRIVER).exists() {
        assert!(
            std::env::var("TEST_REQUIRE_BACKENDS").as_deref() != Ok("1"),
            "{CHROMEDRIVER} is required (tests/all.sh installs chromium-driver)"
        );
        eprintln!("NOTICE: {CHROMEDRIVER} not found; skipping the browser test");
        return None;
    }
    let port = free_port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    Some(ChromeDriver { child, port })
}

pub(crate) async fn connect(port: u16) -> Client {
    let caps = serde_json::json!({
        "goog:chromeOptions": {
            "binary": CHROMIUM,
            // Flags for a sandboxed CI machine with no network: no first-run, no background
            // connections, no GPU, a throwaway profile.
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--lang=en"
            ]
        }
    });
    let caps = caps.as_object().unwrap().clone();
    let url = format!("http://127.0.0.1:{port}");
    // chromedriver takes a moment to listen.
    for attempt in 0.. {
        match ClientBuilder::native()
            .capabilities(caps.clone())
            .connect(&url)
            .await
        {
            Ok(c) => return c,
            Err(e) if attempt < 50 => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => panic!("cannot start a Chromium session: {e}"),
        }
    }
    unreachable!()
}

/// Drives Chromium through the pages.
pub(crate) struct Chromium {
    pub(crate) client: Client,
    pub(crate) base: String,
}

impl Chromium {
    pub(crate) async fn path(&self) -> String {
        self.client.current_url().await.unwrap().path().to_owned()
    }

    /// Clicks `button` and waits until the next page has replaced this one (the click can
    /// return before the navigation its form submission starts has finished).
    pub(crate) async fn click_and_wait(&self, button: fantoccini::elements::Element) -> String {
        let old = self.client.find(Locator::Css("html")).await.unwrap();
        button.click().await.unwrap();
        for _ in 0..200 {
            // A reference to the old document's root goes stale once the new page is in.
            if old.tag_name().await.is_err() {
                let ready = self
                    .client
                    .execute("return document.readyState", vec![])
                    .await
                    .unwrap();
                if ready == "complete" {
                    return self.path().await;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the page did not change after submitting a form");
    }
}

impl Driver for Chromium {
    async fn open(&mut self, path: &str) -> String {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .unwrap();
        self.path().await
    }

    async fn submit(&mut self, fields: &[(&str, &str)]) -> String {
        let mut last = None;
        for (name, value) in fields {
            let field = self
                .client
                .find(Locator::Css(&format!("[name=\"{name}\"]")))
                .await
                .unwrap_or_else(|e| panic!("no field {name}: {e}"));
            if field.attr("type").await.unwrap().as_deref() == Some("checkbox") {
                if !field.is_selected().await.unwrap() {
                    field.click().await.unwrap();
                }
            } else {
                field.clear().await.unwrap();
                field.send_keys(value).await.unwrap();
            }
            last = Some(field);
        }
        let field = last.expect("at least one field");
        let button = field
            .find(Locator::XPath("./ancestor::form//button[@type='submit']"))
            .await
            .unwrap();
        self.click_and_wait(button).await
    }

    async fn press(&mut self, action: &str) -> String {
        let button = self
            .client
            .find(Locator::Css(&format!(
                "form[action=\"{action}\"] button[type=\"submit\"]"
            )))
            .await
            .unwrap_or_else(|e| panic!("no form posting to {action}: {e}"));
        self.click_and_wait(button).await
    }

    async fn html(&mut self) -> String {
        self.client.source().await.unwrap()
    }
}

#[tokio::test]
async fn a_citizen_walks_the_whole_journey_in_chromium() {
    let Some(driver) = chromedriver() else { return };
    let (d, server, code): (Deployment, _, String) = registered().await;
    let client = connect(driver.port).await;
    let mut chromium = Chromium {
        client: client.clone(),
        base: format!("http://{}", server.addr),
    };
    walk(&mut chromium, &d, &code).await;
    client.close().await.unwrap();
    server.shutdown(Duration::from_secs(1)).await.unwrap();
}
