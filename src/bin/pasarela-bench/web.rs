//! A browser stand-in for the login journeys (cookies, CSRF tokens, redirects) and the SMS
//! outbox the codes are read from.

use super::*;

// ----------------------------------------------------------------------------------------------
// A minimal browser: cookies by hand (so that one connection pool serves every citizen), the
// page's anti-forgery token, no redirects followed.

#[derive(Default, Clone)]
pub(crate) struct Jar {
    pub(crate) cookies: HashMap<String, String>,
    pub(crate) csrf: Option<String>,
}

pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) location: Option<String>,
    pub(crate) body: String,
}

impl Jar {
    pub(crate) fn header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub(crate) async fn answer(&mut self, res: reqwest::Response) -> Result<Answer> {
        for v in res.headers().get_all("set-cookie") {
            let v = v.to_str()?;
            let pair = v.split(';').next().unwrap_or("");
            if let Some((k, val)) = pair.split_once('=') {
                if val.is_empty() || v.contains("Max-Age=0") {
                    self.cookies.remove(k.trim());
                } else {
                    self.cookies.insert(k.trim().to_owned(), val.to_owned());
                }
            }
        }
        let status = res.status().as_u16();
        let location = res
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = res.text().await?;
        if let Some(token) = hidden_value(&body, "csrf") {
            self.csrf = Some(token);
        }
        Ok(Answer {
            status,
            location,
            body,
        })
    }

    pub(crate) async fn get(
        &mut self,
        http: &reqwest::Client,
        base: &str,
        path: &str,
    ) -> Result<Answer> {
        let url = if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{base}{path}")
        };
        let res = http.get(url).header("cookie", self.header()).send().await?;
        self.answer(res).await
    }

    pub(crate) async fn post(
        &mut self,
        http: &reqwest::Client,
        base: &str,
        path: &str,
        fields: &[(&str, &str)],
    ) -> Result<Answer> {
        let token = self.csrf.clone().unwrap_or_default();
        let mut form = vec![("csrf", token.as_str())];
        form.extend_from_slice(fields);
        let res = http
            .post(format!("{base}{path}"))
            .header("cookie", self.header())
            .form(&form)
            .send()
            .await?;
        self.answer(res).await
    }
}

/// The `value` of the first hidden input named `name` in `html`.
pub(crate) fn hidden_value(html: &str, name: &str) -> Option<String> {
    let at = html.find(&format!("name=\"{name}\""))?;
    let start = html[..at].rfind('<')?;
    let end = at + html[at..].find('>')?;
    let tag = &html[start..end];
    let v = tag.find("value=\"")? + "value=\"".len();
    let len = tag[v..].find('"')?;
    Some(tag[v..v + len].to_owned())
}

pub(crate) fn expect(a: &Answer, status: u16, location_prefix: &str, what: &str) -> Result<String> {
    let loc = a.location.clone().unwrap_or_default();
    if a.status != status || !loc.starts_with(location_prefix) {
        bail!(
            "{what}: expected {status} to {location_prefix}…, got {} to {loc:?}: {}",
            a.status,
            a.body.chars().take(300).collect::<String>()
        );
    }
    Ok(loc)
}

/// The SMS outbox, read incrementally: the latest code and the number of messages per number.
pub(crate) struct Outbox {
    pub(crate) path: PathBuf,
    pub(crate) offset: u64,
    pub(crate) latest: HashMap<String, (usize, String)>,
}

impl Outbox {
    pub(crate) fn refresh(&mut self) -> Result<()> {
        use std::io::{Read, Seek, SeekFrom};
        let Ok(mut f) = std::fs::File::open(&self.path) else {
            return Ok(());
        };
        f.seek(SeekFrom::Start(self.offset))?;
        let mut text = String::new();
        f.read_to_string(&mut text)?;
        // Only whole lines; a line being written is read next time.
        let whole = text.rfind('\n').map_or(0, |i| i + 1);
        for line in text[..whole].lines() {
            let Ok(m) = serde_json::from_str::<serde_json::Value>(line) else {
                continue;
            };
            let (Some(to), Some(t)) = (m["to"].as_str(), m["text"].as_str()) else {
                continue;
            };
            if let Some(code) = first_code(t) {
                let e = self.latest.entry(to.to_owned()).or_default();
                *e = (e.0 + 1, code);
            }
        }
        self.offset += whole as u64;
        Ok(())
    }

    pub(crate) fn count(&mut self, to: &str) -> Result<usize> {
        self.refresh()?;
        Ok(self.latest.get(to).map_or(0, |e| e.0))
    }
}

/// Waits for an SMS to `to` newer than the `seen`-th and returns its code.
pub(crate) async fn code_after(outbox: &Mutex<Outbox>, to: &str, seen: usize) -> Result<String> {
    for _ in 0..500 {
        {
            let mut o = outbox.lock().await;
            o.refresh()?;
            if let Some((n, code)) = o.latest.get(to)
                && *n > seen
            {
                return Ok(code.clone());
            }
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    bail!("no SMS to {to}")
}

/// The first run of 6 or more ASCII digits in `text`.
pub(crate) fn first_code(text: &str) -> Option<String> {
    text.split(|c: char| !c.is_ascii_digit())
        .find(|run| run.len() >= 6)
        .map(str::to_owned)
}
