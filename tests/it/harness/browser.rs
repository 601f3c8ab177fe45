//! The citizen's browser: a cookie-keeping client that does not follow redirects, and the
//! real login pages walked with it (password, then the SMS code from the outbox).

use super::Deployment;

/// A browser stand-in: keeps cookies, does not follow redirects, and repeats the page's
/// anti-forgery token in every form it posts.
pub struct Browser {
    pub client: reqwest::Client,
    pub base: String,
    csrf: std::sync::Mutex<Option<String>>,
    jar: std::sync::Arc<reqwest::cookie::Jar>,
}

/// A response as the tests look at it.
#[derive(Debug)]
pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub body: String,
}

impl Page {
    /// Reads `res` whole.
    pub async fn of(res: reqwest::Response) -> Self {
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
}

impl Browser {
    pub fn new(addr: std::net::SocketAddr) -> Self {
        let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
        Self {
            client: reqwest::Client::builder()
                .cookie_provider(jar.clone())
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: format!("http://{addr}"),
            csrf: std::sync::Mutex::new(None),
            jar,
        }
    }

    /// The cookies the browser would send to the server, as a `Cookie` header value.
    pub fn cookies(&self) -> String {
        use reqwest::cookie::CookieStore as _;
        let url = self.base.parse().unwrap();
        self.jar
            .cookies(&url)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    }

    /// Adds `name=value` (e.g. a session cookie made through the engine) to the browser.
    pub fn plant(&self, name_value: &str) {
        let url = self.base.parse().unwrap();
        self.jar
            .add_cookie_str(&format!("{name_value}; Path=/"), &url);
    }

    async fn page(&self, res: reqwest::Response) -> Page {
        let page = Page::of(res).await;
        if let Some(token) = hidden_value(&page.body, "csrf") {
            *self.csrf.lock().unwrap() = Some(token);
        }
        page
    }

    /// GET `path` (relative to the server).
    pub async fn get(&self, path: &str) -> Page {
        let res = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        self.page(res).await
    }

    /// POSTs `fields` as a form to `path`, adding the last page's `csrf` token.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let token = self.csrf.lock().unwrap().clone().unwrap_or_default();
        let mut form: Vec<(&str, &str)> = vec![("csrf", token.as_str())];
        form.extend_from_slice(fields);
        let res = self
            .client
            .post(format!("{}{path}", self.base))
            .form(&form)
            .send()
            .await
            .unwrap();
        self.page(res).await
    }

    /// Follows `page`'s redirect with a GET.
    pub async fn follow(&self, page: &Page) -> Page {
        let to = page.location.as_deref().expect("a redirect");
        self.get(to).await
    }
}

/// The `value` of the first hidden input named `name` in `html`.
pub fn hidden_value(html: &str, name: &str) -> Option<String> {
    let at = html.find(&format!("name=\"{name}\""))?;
    let start = html[..at].rfind('<')?;
    let end = at + html[at..].find('>')?;
    let tag = &html[start..end];
    let v = tag.find("value=\"")? + "value=\"".len();
    let len = tag[v..].find('"')?;
    Some(tag[v..v + len].to_owned())
}

/// `text` with the XML/HTML entities (named, and the numeric forms askama writes) turned
/// back into characters.
pub fn html_unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&#34;", "\"")
        .replace("&apos;", "'")
        .replace("&#39;", "'")
        .replace("&#38;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

impl Browser {
    /// On the login page just shown, types Lucía's identifier (12345678Z) and `password`;
    /// returns where the form goes.
    pub async fn type_password(&self, password: &str) -> Page {
        self.post(
            "/login",
            &[("identifier", "12345678Z"), ("password", password)],
        )
        .await
    }

    /// On the login page just shown, types Lucía's identifier (12345678Z) and `password`,
    /// then the code of the SMS the outbox of `d` got on her mobile (+34600111222); returns
    /// the code page's answer.
    pub async fn type_password_and_code(&self, d: &Deployment, password: &str) -> Page {
        let p = self.type_password(password).await;
        assert_eq!(
            (p.status, p.location.as_deref()),
            (303, Some("/login/code")),
            "{}",
            p.body
        );
        let code = d.last_sms_code("+34600111222");
        self.post("/login/code", &[("code", code.as_str())]).await
    }
}

/// Logs Lucía (12345678Z, mobile +34600111222) in through the real pages, from the
/// `/login?…` redirect in `page` with `password` and the SMS code of `d`'s outbox; returns
/// the page the `continue` target answers.
pub async fn log_in_through_pages(
    d: &Deployment,
    b: &Browser,
    page: &Page,
    password: &str,
) -> Page {
    assert_eq!(page.status, 303, "{}", page.body);
    let login = page.location.clone().unwrap();
    assert!(login.starts_with("/login?continue="), "{login}");
    assert_eq!(b.get(&login).await.status, 200);
    let p = b.type_password_and_code(d, password).await;
    assert_eq!(p.status, 303, "{}", p.body);
    b.follow(&p).await
}
