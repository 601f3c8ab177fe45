//! Generic HTTP SMS provider: POSTs a JSON body built from a template to an SMS API, which
//! covers most commercial gateways without provider-specific code.

use super::sms::SmsGateway;
use super::{SendError, expand_env_with, mask_phone};
use crate::core::CoreError;
use async_trait::async_trait;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Duration;

/// Upper bound on `retries`, so a misconfiguration cannot hold a login request for minutes.
const MAX_RETRIES: u32 = 5;

/// The `[sms.http]` table.
#[derive(Debug, Clone, PartialEq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct HttpSmsConfig {
    /// Endpoint to POST to.
    pub url: String,
    /// Extra request headers; values may contain `${ENV_NAME}` references.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// JSON body template: in every string, `{{to}}`, `{{text}}` and `{{sender}}` are
    /// replaced by the recipient, the message and `sms.sender_name`.
    pub body: Value,
    /// Per-attempt timeout.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// Extra attempts after a connect error, timeout, 5xx or 429 (at most 5).
    #[serde(default = "default_retries")]
    pub retries: u32,
    /// Pause before the first retry, doubled for each further one.
    #[serde(default = "default_backoff_ms")]
    pub backoff_ms: u64,
    /// Statuses that mean "sent"; empty means any 2xx.
    #[serde(default)]
    pub success_status: Vec<u16>,
}

fn default_timeout_ms() -> u64 {
    5000
}
fn default_retries() -> u32 {
    2
}
fn default_backoff_ms() -> u64 {
    200
}

impl HttpSmsConfig {
    /// Checks the settings; the error names the offending key.
    pub fn validate(&self) -> Result<(), String> {
        match url::Url::parse(&self.url) {
            Ok(u) if matches!(u.scheme(), "http" | "https") => {}
            _ => return Err("sms.http.url: must be an http(s) URL".into()),
        }
        for name in self.headers.keys() {
            if HeaderName::from_bytes(name.as_bytes()).is_err() {
                return Err(format!("sms.http.headers: invalid header name {name:?}"));
            }
        }
        if !template_mentions(&self.body, "{{to}}") || !template_mentions(&self.body, "{{text}}") {
            return Err("sms.http.body: must contain \"{{to}}\" and \"{{text}}\"".into());
        }
        if !(1..=120_000).contains(&self.timeout_ms) {
            return Err("sms.http.timeout_ms: must be between 1 and 120000".into());
        }
        if self.retries > MAX_RETRIES {
            return Err(format!("sms.http.retries: at most {MAX_RETRIES}"));
        }
        if self.backoff_ms > 5000 {
            return Err("sms.http.backoff_ms: at most 5000".into());
        }
        if let Some(s) = self
            .success_status
            .iter()
            .find(|s| !(100..=599).contains(*s))
        {
            return Err(format!(
                "sms.http.success_status: {s} is not an HTTP status"
            ));
        }
        Ok(())
    }
}

fn template_mentions(value: &Value, placeholder: &str) -> bool {
    match value {
        Value::String(s) => s.contains(placeholder),
        Value::Array(items) => items.iter().any(|v| template_mentions(v, placeholder)),
        Value::Object(map) => map.values().any(|v| template_mentions(v, placeholder)),
        _ => false,
    }
}

/// Fills the body template by walking the value tree, so serde_json does the escaping.
fn render(template: &Value, vars: &[(&str, &str)]) -> Value {
    match template {
        Value::String(s) => Value::String(substitute(s, vars)),
        Value::Array(items) => Value::Array(items.iter().map(|v| render(v, vars)).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), render(v, vars)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// One left-to-right pass, so a text that itself contains `{{to}}` is not expanded again.
fn substitute(s: &str, vars: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    'scan: while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let tail = &rest[start..];
        for (name, value) in vars {
            let token = format!("{{{{{name}}}}}");
            if tail.starts_with(&token) {
                out.push_str(value);
                rest = &tail[token.len()..];
                continue 'scan;
            }
        }
        out.push_str("{{");
        rest = &tail[2..];
    }
    out.push_str(rest);
    out
}

/// The HTTP provider. Holds one `reqwest::Client`, so connections are pooled across sends.
pub struct HttpSms {
    client: reqwest::Client,
    url: String,
    headers: HeaderMap,
    body: Value,
    sender: String,
    retries: u32,
    backoff: Duration,
    success_status: Vec<u16>,
}

/// What one attempt came to.
enum Attempt {
    Sent,
    Retryable(String),
    Final(SendError),
}

impl HttpSms {
    /// Builds the provider, expanding `${ENV}` references in headers from the process
    /// environment.
    pub fn new(config: &HttpSmsConfig, sender: &str) -> Result<Self, CoreError> {
        Self::with_env(config, sender, &|name| std::env::var(name).ok())
    }

    /// As [`HttpSms::new`], resolving `${ENV}` references with `lookup`.
    pub fn with_env(
        config: &HttpSmsConfig,
        sender: &str,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, CoreError> {
        config.validate().map_err(CoreError::Invalid)?;
        let mut headers = HeaderMap::new();
        for (name, raw) in &config.headers {
            let invalid =
                |why: String| CoreError::Invalid(format!("sms.http.headers.{name}: {why}"));
            let value = expand_env_with(raw, lookup).map_err(invalid)?;
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| invalid("invalid header name".into()))?;
            let mut value = HeaderValue::from_str(&value)
                .map_err(|_| invalid("invalid header value".into()))?;
            // Keeps API keys out of reqwest's debug output.
            value.set_sensitive(true);
            headers.insert(name, value);
        }
        let client = reqwest::Client::builder()
            .timeout(Duration::from_millis(config.timeout_ms))
            // A redirect would carry the API key and the code to wherever it points.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| CoreError::Unavailable(format!("sms http client: {e}")))?;
        Ok(Self {
            client,
            url: config.url.clone(),
            headers,
            body: config.body.clone(),
            sender: sender.to_string(),
            retries: config.retries.min(MAX_RETRIES),
            backoff: Duration::from_millis(config.backoff_ms),
            success_status: config.success_status.clone(),
        })
    }

    async fn attempt(&self, body: &Value) -> Attempt {
        let response = self
            .client
            .post(&self.url)
            .headers(self.headers.clone())
            .json(body)
            .send()
            .await;
        let response = match response {
            Ok(r) => r,
            Err(e) if e.is_timeout() => return Attempt::Retryable("timeout".into()),
            Err(e) if e.is_connect() => return Attempt::Retryable("connect error".into()),
            // Not the error's Display: it would carry the URL, which may hold a key.
            Err(_) => return Attempt::Final(SendError::Unavailable("request failed".into())),
        };
        let status = response.status();
        let ok = if self.success_status.is_empty() {
            status.is_success()
        } else {
            self.success_status.contains(&status.as_u16())
        };
        // The body is dropped unread: APIs often echo the message text back.
        if ok {
            Attempt::Sent
        } else if status.is_server_error() || status.as_u16() == 429 {
            Attempt::Retryable(format!("status {}", status.as_u16()))
        } else {
            Attempt::Final(SendError::Rejected(format!("status {}", status.as_u16())))
        }
    }
}

#[async_trait]
impl SmsGateway for HttpSms {
    async fn send(&self, to_e164: &str, text: &str) -> Result<(), SendError> {
        let body = render(
            &self.body,
            &[("to", to_e164), ("text", text), ("sender", &self.sender)],
        );
        let to = mask_phone(to_e164);
        let mut attempt = 0;
        loop {
            match self.attempt(&body).await {
                Attempt::Sent => return Ok(()),
                Attempt::Final(e) => {
                    tracing::warn!(to = %to, error = %e, "sms refused by http provider");
                    return Err(e);
                }
                Attempt::Retryable(why) if attempt >= self.retries => {
                    let e = SendError::Unavailable(format!("{why} after {} attempts", attempt + 1));
                    tracing::warn!(to = %to, error = %e, "sms http provider unavailable");
                    return Err(e);
                }
                Attempt::Retryable(why) => {
                    tracing::info!(to = %to, why = %why, attempt = attempt + 1, "sms send retry");
                    tokio::time::sleep(self.backoff.saturating_mul(1 << attempt)).await;
                    attempt += 1;
                }
            }
        }
    }

    fn name(&self) -> &'static str {
        "http"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rendering_substitutes_inside_strings_in_one_pass() {
        let template = json!({
            "to": "{{to}}",
            "msg": { "parts": ["[{{sender}}] {{text}}", 3, true, null] },
            "keep": "{{other}} {{",
        });
        let out = render(
            &template,
            &[
                ("to", "+34600123456"),
                ("text", "a {{to}} \"b\"\n"),
                ("sender", "S"),
            ],
        );
        assert_eq!(
            out,
            json!({
                "to": "+34600123456",
                "msg": { "parts": ["[S] a {{to}} \"b\"\n", 3, true, null] },
                "keep": "{{other}} {{",
            })
        );
    }

    #[test]
    fn validation_names_the_key() {
        let mut c = HttpSmsConfig {
            url: "https://sms.example/send".into(),
            headers: BTreeMap::new(),
            body: json!({ "to": "{{to}}", "text": "{{text}}" }),
            timeout_ms: 5000,
            retries: 2,
            backoff_ms: 200,
            success_status: vec![],
        };
        assert!(c.validate().is_ok());
        c.retries = 9;
        assert!(c.validate().unwrap_err().starts_with("sms.http.retries"));
        c.retries = 2;
        c.body = json!({ "to": "{{to}}" });
        assert!(c.validate().unwrap_err().starts_with("sms.http.body"));
        c.body = json!({ "to": "{{to}}", "text": "{{text}}" });
        c.url = "ftp://x".into();
        assert!(c.validate().unwrap_err().starts_with("sms.http.url"));
        c.url = "https://sms.example/send".into();
        c.headers
            .insert("X-Key".into(), "${MISSING_FOR_SURE}".into());
        let e = HttpSms::with_env(&c, "pasarela", &|_| None).err().unwrap();
        assert!(e.to_string().contains("sms.http.headers.X-Key"));
        assert!(e.to_string().contains("MISSING_FOR_SURE"));
    }
}
