//! Outbox providers: messages are appended as JSON lines to a local file instead of being
//! delivered, so development setups and end-to-end tests can read the codes (`/dev/sms`).

use super::email::EmailGateway;
use super::sms::SmsGateway;
use super::{SendError, mask_email, mask_phone};
use crate::clock::Clock;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::io::AsyncWriteExt;
use tokio::sync::Mutex;

/// One process-wide lock for every outbox file: sends are rare and a shared lock is the
/// simplest way to keep concurrent appends (SMS and email alike) from interleaving.
static APPEND_LOCK: Mutex<()> = Mutex::const_new(());

/// One SMS as written to the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxMessage {
    /// The recipient, E.164.
    pub to: String,
    /// The full text.
    pub text: String,
    /// When it was "sent", by the injected clock.
    pub sent_at: DateTime<Utc>,
}

/// One email as written to the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailOutboxMessage {
    /// The recipient address.
    pub to: String,
    /// The subject line.
    pub subject: String,
    /// The plain-text body.
    pub text: String,
    /// When it was "sent", by the injected clock.
    pub sent_at: DateTime<Utc>,
}

/// SMS provider that appends to a JSON-lines file.
pub struct OutboxSms {
    path: PathBuf,
    clock: Arc<dyn Clock>,
}

impl OutboxSms {
    /// Appends to `path` (parent directories are created on first send).
    pub fn new(path: PathBuf, clock: Arc<dyn Clock>) -> Self {
        Self { path, clock }
    }
}

#[async_trait]
impl SmsGateway for OutboxSms {
    async fn send(&self, to_e164: &str, text: &str) -> Result<(), SendError> {
        let message = OutboxMessage {
            to: to_e164.to_string(),
            text: text.to_string(),
            sent_at: self.clock.now(),
        };
        append_line(&self.path, &message).await.map_err(|e| {
            tracing::warn!(to = %mask_phone(to_e164), error = %e, "sms outbox append failed");
            SendError::Unavailable(format!("outbox: {}", e.kind()))
        })
    }

    fn name(&self) -> &'static str {
        "outbox"
    }
}

/// Email provider that appends to a JSON-lines file.
pub struct OutboxEmail {
    path: PathBuf,
    clock: Arc<dyn Clock>,
}

impl OutboxEmail {
    /// Appends to `path` (parent directories are created on first send).
    pub fn new(path: PathBuf, clock: Arc<dyn Clock>) -> Self {
        Self { path, clock }
    }
}

#[async_trait]
impl EmailGateway for OutboxEmail {
    async fn send(&self, to: &str, subject: &str, body_text: &str) -> Result<(), SendError> {
        let message = EmailOutboxMessage {
            to: to.to_string(),
            subject: subject.to_string(),
            text: body_text.to_string(),
            sent_at: self.clock.now(),
        };
        append_line(&self.path, &message).await.map_err(|e| {
            tracing::warn!(to = %mask_email(to), error = %e, "email outbox append failed");
            SendError::Unavailable(format!("outbox: {}", e.kind()))
        })
    }

    fn name(&self) -> &'static str {
        "outbox"
    }
}

/// Writes `value` as one line with a single `write_all`, under [`APPEND_LOCK`].
async fn append_line<T: Serialize>(path: &Path, value: &T) -> std::io::Result<()> {
    let mut line = serde_json::to_vec(value)?;
    line.push(b'\n');
    let _guard = APPEND_LOCK.lock().await;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        tokio::fs::create_dir_all(parent).await?;
    }
    let mut file = tokio::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .await?;
    file.write_all(&line).await?;
    file.flush().await
}

/// Every line of a JSON-lines outbox, oldest first. A missing file is an empty outbox; a
/// line that does not parse (hand-edited file) is skipped rather than hiding the others.
async fn read_lines<T: DeserializeOwned>(path: &Path) -> std::io::Result<Vec<T>> {
    let content = match tokio::fs::read_to_string(path).await {
        Ok(content) => content,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut out = Vec::new();
    for (n, line) in content.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str(line) {
            Ok(v) => out.push(v),
            Err(_) => {
                tracing::warn!(path = %path.display(), line = n + 1, "skipping bad outbox line")
            }
        }
    }
    Ok(out)
}

/// The SMS outbox at `path`, most recent last.
pub async fn read_outbox(path: &Path) -> std::io::Result<Vec<OutboxMessage>> {
    read_lines(path).await
}

/// The email outbox at `path`, most recent last.
pub async fn read_email_outbox(path: &Path) -> std::io::Result<Vec<EmailOutboxMessage>> {
    read_lines(path).await
}

/// The most recent SMS to `to` in `messages` (as returned by [`read_outbox`]).
pub fn latest_for<'a>(messages: &'a [OutboxMessage], to: &str) -> Option<&'a OutboxMessage> {
    messages.iter().rev().find(|m| m.to == to)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    #[tokio::test]
    async fn concurrent_sends_are_all_present_as_valid_json_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/dir/sms.jsonl");
        let clock = Arc::new(ManualClock::fixed());
        let sms = Arc::new(OutboxSms::new(path.clone(), clock.clone()));
        let long = "x".repeat(64 * 1024);
        let (a, b) = tokio::join!(
            sms.send("+34600000001", "Código: 111111 — válido \"10 min\"\n"),
            sms.send("+34600000002", &long),
        );
        a.unwrap();
        b.unwrap();
        clock.advance(chrono::Duration::seconds(5));
        sms.send("+34600000001", "Código: 222222").await.unwrap();

        let raw = tokio::fs::read_to_string(&path).await.unwrap();
        assert_eq!(raw.lines().count(), 3);
        for line in raw.lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            assert!(
                v["sent_at"]
                    .as_str()
                    .unwrap()
                    .starts_with("2026-01-01T00:00:0")
            );
        }
        let messages = read_outbox(&path).await.unwrap();
        assert_eq!(messages.len(), 3);
        assert!(messages.iter().any(|m| m.text == long));
        let latest = latest_for(&messages, "+34600000001").unwrap();
        assert_eq!(latest.text, "Código: 222222");
        assert_eq!(latest.sent_at, clock.now());
        assert!(latest_for(&messages, "+34600000009").is_none());
    }

    #[tokio::test]
    async fn missing_outbox_is_empty_and_bad_lines_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sms.jsonl");
        assert!(read_outbox(&path).await.unwrap().is_empty());
        tokio::fs::write(&path, "not json\n").await.unwrap();
        OutboxSms::new(path.clone(), Arc::new(ManualClock::fixed()))
            .send("+34600000001", "hola")
            .await
            .unwrap();
        assert_eq!(read_outbox(&path).await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn email_outbox_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("email.jsonl");
        let email = OutboxEmail::new(path.clone(), Arc::new(ManualClock::fixed()));
        email
            .send("juana@example.org", "Contraseña cambiada", "Hola,\n…")
            .await
            .unwrap();
        let messages = read_email_outbox(&path).await.unwrap();
        assert_eq!(messages.len(), 1);
        assert_eq!(messages[0].subject, "Contraseña cambiada");
        assert_eq!(messages[0].text, "Hola,\n…");
    }
}
