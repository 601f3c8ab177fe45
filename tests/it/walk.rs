//! The whole citizen journey, walked twice over the real server: once by a plain HTTP client
//! that reads each form from the page (like a browser without JavaScript) and once by headless
//! Chromium (in `browser.rs`). Both follow the same script: an operator registers a citizen,
//! who activates with the code from the outbox, logs in with password and SMS code, changes
//! the password, logs out, recovers a forgotten password, deregisters and can no longer log in.

use crate::harness::{Deployment, first_code, journey_deployment, register_args};
use std::net::SocketAddr;
use std::time::Duration;

/// What the script needs from whoever drives the pages.
pub(crate) trait Driver {
    /// Opens `path` and returns the path reached after redirects.
    async fn open(&mut self, path: &str) -> String;
    /// Fills the form that holds the first field with `fields` (a checkbox is ticked when its
    /// value is given), submits it and returns the path reached after redirects.
    async fn submit(&mut self, fields: &[(&str, &str)]) -> String;
    /// Submits the form posting to `action` as it is (a lone button such as "log out").
    async fn press(&mut self, action: &str) -> String;
    /// The page's HTML.
    async fn html(&mut self) -> String;
}

const ID: &str = "12345678Z";
const EMAIL: &str = "lucia@example.es";
const MOBILE: &str = "+34600111222";

/// The deployment, the activation code and a fresh server.
pub async fn registered() -> (Deployment, pasarela::server::Running, String) {
    // The walk sends six SMS to one number within minutes: above the default hourly quota.
    let d = journey_deployment("[sms.quota]\nper_number_per_hour = 20\nper_number_per_day = 20\n");
    let mut args = register_args(ID);
    args.push("--json".into());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out: serde_json::Value = serde_json::from_str(&d.cli_ok(&args)).unwrap();
    let code = out["activation_code"].as_str().unwrap().to_owned();
    let server = d.start().await;
    (d, server, code)
}

/// The latest SMS code to the citizen, checking one arrived since `before` messages.
fn new_sms_code(d: &Deployment, before: usize) -> String {
    let texts = d.sms_to(MOBILE);
    assert!(texts.len() > before, "no new SMS was sent");
    first_code(texts.last().unwrap()).unwrap()
}

/// Asserts the browser is at `want`, showing the page when it is not.
async fn expect_at<D: Driver>(driver: &mut D, at: &str, want: &str) {
    if at != want {
        let html = driver.html().await;
        panic!("at {at}, expected {want}; the page says:\n{html}");
    }
}

async fn fields_have_autocomplete<D: Driver>(driver: &mut D, expected: &[(&str, &str)]) {
    let html = driver.html().await;
    for (name, autocomplete) in expected {
        let tag = input_tag(&html, name).unwrap_or_else(|| panic!("no field {name}"));
        assert!(
            tag.contains(&format!("autocomplete=\"{autocomplete}\"")),
            "{name} should have autocomplete={autocomplete}: {tag}"
        );
        let id = attr(&tag, "id").unwrap_or_else(|| panic!("{name} has no id"));
        assert!(
            html.contains(&format!("for=\"{id}\"")),
            "{name} has no label"
        );
    }
}

/// Logs in with password and SMS code; returns the path reached.
async fn login<D: Driver>(driver: &mut D, d: &Deployment, password: &str) -> String {
    assert!(driver.open("/login").await.starts_with("/login"));
    fields_have_autocomplete(
        driver,
        &[("identifier", "username"), ("password", "current-password")],
    )
    .await;
    let sent = d.sms_to(MOBILE).len();
    let at = driver
        .submit(&[("identifier", ID), ("password", password)])
        .await;
    expect_at(driver, &at, "/login/code").await;
    fields_have_autocomplete(driver, &[("code", "one-time-code")]).await;
    let code = new_sms_code(d, sent);
    driver.submit(&[("code", &code)]).await
}

/// The script. `lang` is the page language used throughout.
pub async fn walk<D: Driver>(driver: &mut D, d: &Deployment, activation_code: &str) {
    // Activation: identifier + email + code, security policy, SMS code, password twice.
    {
        let at = driver.open("/activate?lang=en").await;
        expect_at(driver, &at, "/activate").await;
    }
    let at = driver
        .submit(&[
            ("identifier", ID),
            ("email", EMAIL),
            ("code", activation_code),
        ])
        .await;
    expect_at(driver, &at, "/activate/policy").await;
    let sent = d.sms_to(MOBILE).len();
    let at = driver.submit(&[("accept", "yes")]).await;
    expect_at(driver, &at, "/activate/code").await;
    let code = new_sms_code(d, sent);
    let at = driver.submit(&[("code", &code)]).await;
    expect_at(driver, &at, "/activate/password").await;
    fields_have_autocomplete(
        driver,
        &[
            ("password", "new-password"),
            ("password_confirm", "new-password"),
        ],
    )
    .await;
    let first = "correct horse battery 1";
    let at = driver
        .submit(&[("password", first), ("password_confirm", first)])
        .await;
    expect_at(driver, &at, "/activate/done").await;

    // Login with password + SMS code.
    {
        let at = login(driver, d, first).await;
        expect_at(driver, &at, "/account").await;
    }
    assert!(
        driver.html().await.contains(ID),
        "the account page names the citizen"
    );

    // Change the password: current + new twice, confirmed by an SMS code.
    {
        let at = driver.open("/account/password").await;
        expect_at(driver, &at, "/account/password").await;
    }
    fields_have_autocomplete(
        driver,
        &[
            ("current_password", "current-password"),
            ("password", "new-password"),
        ],
    )
    .await;
    let second = "another horse battery 2";
    let sent = d.sms_to(MOBILE).len();
    let at = driver
        .submit(&[
            ("current_password", first),
            ("password", second),
            ("password_confirm", second),
        ])
        .await;
    expect_at(driver, &at, "/account/password/code").await;
    let code = new_sms_code(d, sent);
    let at = driver.submit(&[("code", &code)]).await;
    expect_at(driver, &at, "/account/password/done").await;

    // Log out: the account pages send to the login page again.
    {
        let at = driver.open("/account").await;
        expect_at(driver, &at, "/account").await;
    }
    driver.press("/logout").await;
    assert!(driver.open("/account").await.starts_with("/login"));

    // Forgotten password: identifier + activation (recovery) code, SMS code, new password.
    {
        let at = driver.open("/recover").await;
        expect_at(driver, &at, "/recover").await;
    }
    let sent = d.sms_to(MOBILE).len();
    let at = driver
        .submit(&[("identifier", ID), ("code", activation_code)])
        .await;
    expect_at(driver, &at, "/recover/code").await;
    let code = new_sms_code(d, sent);
    let at = driver.submit(&[("code", &code)]).await;
    expect_at(driver, &at, "/recover/password").await;
    let third = "third horse battery 3";
    let at = driver
        .submit(&[("password", third), ("password_confirm", third)])
        .await;
    expect_at(driver, &at, "/recover/done").await;

    // The old password no longer works; the new one does. Then deregister.
    driver.open("/login").await;
    let at = driver
        .submit(&[("identifier", ID), ("password", second)])
        .await;
    assert!(
        at.starts_with("/login") && at != "/login/code",
        "old password refused: {at}"
    );
    {
        let at = login(driver, d, third).await;
        expect_at(driver, &at, "/account").await;
    }
    assert_eq!(
        driver.open("/account/deregister").await,
        "/account/deregister"
    );
    let sent = d.sms_to(MOBILE).len();
    let at = driver.submit(&[("confirm", "yes")]).await;
    expect_at(driver, &at, "/account/deregister/code").await;
    let code = new_sms_code(d, sent);
    let at = driver.submit(&[("code", &code)]).await;
    expect_at(driver, &at, "/account/deregistered").await;

    // A deregistered account can never log in again, and gets the generic refusal.
    driver.open("/login").await;
    let at = driver
        .submit(&[("identifier", ID), ("password", third)])
        .await;
    assert!(
        at.starts_with("/login") && at != "/login/code",
        "deregistered refused: {at}"
    );
    assert!(driver.html().await.contains("role=\"alert\""));
    let status = d.cli_json(&["admin", "citizen", "show", ID]);
    assert_eq!(status["citizen"]["status"], "deregistered");
}

/// The opening tag of the input (or select/textarea) named `name`.
pub fn input_tag(html: &str, name: &str) -> Option<String> {
    let at = html.find(&format!("name=\"{name}\""))?;
    let start = html[..at].rfind('<')?;
    let end = at + html[at..].find('>')?;
    Some(html[start..=end].to_owned())
}

/// The value of attribute `name` in an opening tag.
pub fn attr(tag: &str, name: &str) -> Option<String> {
    let key = format!(" {name}=\"");
    let v = tag.find(&key)? + key.len();
    let len = tag[v..].find('"')?;
    Some(html_unescape(&tag[v..v + len]))
}

fn html_unescape(s: &str) -> String {
    s.replace("&amp;", "&")
        .replace("&quot;", "\"")
        .replace("&#x2f;", "/")
        .replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
}

/// A driver that reads forms out of the HTML, as a browser without JavaScript does.
pub struct PlainHttp {
    client: reqwest::Client,
    base: String,
    html: String,
}

impl PlainHttp {
    pub fn new(addr: SocketAddr) -> Self {
        Self {
            client: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: format!("http://{addr}"),
            html: String::new(),
        }
    }

    /// Follows redirects by hand, to know where the browser ends.
    async fn land(&mut self, mut res: reqwest::Response) -> String {
        let mut path = res.url().path().to_owned();
        for _ in 0..10 {
            let Some(to) = res.headers().get("location") else {
                break;
            };
            let to = to.to_str().unwrap().to_owned();
            path = to.split('?').next().unwrap().to_owned();
            res = self
                .client
                .get(format!("{}{to}", self.base))
                .send()
                .await
                .unwrap();
        }
        let status = res.status().as_u16();
        // Refusals may come with a 4xx status and the form again; a forged form, a missing
        // page or a server error never belong to the journey.
        assert!(
            status < 500 && status != 403 && status != 404,
            "{path} answered {status}"
        );
        self.html = res.text().await.unwrap();
        path
    }

    /// The form (its opening tag's action and its body) containing the field `name`, or the
    /// form posting to `action`.
    fn form(&self, name: Option<&str>, action: Option<&str>) -> (String, String) {
        let html = &self.html;
        let mut from = 0;
        while let Some(i) = html[from..].find("<form") {
            let start = from + i;
            let end = start + html[start..].find("</form>").expect("unclosed form");
            let form = &html[start..end];
            let open = &form[..form.find('>').unwrap() + 1];
            let form_action = attr(open, "action").unwrap_or_default();
            let hit = match (name, action) {
                (Some(n), _) => form.contains(&format!("name=\"{n}\"")),
                (None, Some(a)) => form_action.split('?').next() == Some(a),
                _ => false,
            };
            if hit {
                return (form_action, form.to_owned());
            }
            from = end;
        }
        panic!("no form with {name:?} {action:?} in:\n{html}");
    }

    async fn post(&mut self, action: &str, form: &str, fields: &[(&str, &str)]) -> String {
        let mut values: Vec<(String, String)> = Vec::new();
        let mut rest = form;
        while let Some(i) = rest.find("<input") {
            let end = i + rest[i..].find('>').unwrap();
            let tag = &rest[i..=end];
            if attr(tag, "type").as_deref() == Some("hidden")
                && let (Some(n), Some(v)) = (attr(tag, "name"), attr(tag, "value"))
            {
                values.push((n, v));
            }
            rest = &rest[end..];
        }
        for (n, v) in fields {
            values.push((n.to_string(), v.to_string()));
        }
        let action = if action.is_empty() { "/" } else { action };
        let url = if action.starts_with('/') {
            format!("{}{action}", self.base)
        } else {
            action.to_owned()
        };
        let res = self.client.post(url).form(&values).send().await.unwrap();
        self.land(res).await
    }
}

impl Driver for PlainHttp {
    async fn open(&mut self, path: &str) -> String {
        let res = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        self.land(res).await
    }

    async fn submit(&mut self, fields: &[(&str, &str)]) -> String {
        let (action, form) = self.form(Some(fields[0].0), None);
        self.post(&action, &form, fields).await
    }

    async fn press(&mut self, action: &str) -> String {
        let (action, form) = self.form(None, Some(action));
        self.post(&action, &form, &[]).await
    }

    async fn html(&mut self) -> String {
        self.html.clone()
    }
}

#[tokio::test]
async fn a_citizen_walks_the_whole_journey_without_javascript() {
    let (d, server, code) = registered().await;
    let mut driver = PlainHttp::new(server.addr);
    walk(&mut driver, &d, &code).await;
    server.shutdown(Duration::from_secs(1)).await.unwrap();
}
