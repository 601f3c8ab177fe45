//! The email channel, for security notices (password changed, mobile changed, account
//! locked, deregistered): the [`EmailGateway`] trait, its configuration and [`build_email`].

use super::outbox::OutboxEmail;
use super::{SendError, expand_env_with, mask_email};
use crate::clock::Clock;
use crate::core::CoreError;
use async_trait::async_trait;
use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::Deserialize;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Something that delivers a plain-text email.
#[async_trait]
pub trait EmailGateway: Send + Sync {
    /// Sends a plain-text message to the address `to`.
    async fn send(&self, to: &str, subject: &str, body_text: &str) -> Result<(), SendError>;
    /// The provider's name, for logs and health pages.
    fn name(&self) -> &'static str;
}

/// Which email provider to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EmailProvider {
    /// Append to a JSON-lines file: development and tests.
    #[default]
    Outbox,
    /// Deliver through an SMTP relay.
    Smtp,
}

/// How the SMTP connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS, which is required (default port 587).
    #[default]
    Starttls,
    /// TLS from the first byte (default port 465).
    Tls,
    /// No encryption (default port 25): only for a relay on the same host or a test server.
    None,
}

/// The `[email.smtp]` table.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    /// Relay host name.
    pub host: String,
    /// Relay port; defaults by `security` (587, 465 or 25).
    #[serde(default)]
    pub port: Option<u16>,
    /// Transport security.
    #[serde(default)]
    pub security: SmtpSecurity,
    /// Login, if the relay requires one; may contain `${ENV}` references.
    #[serde(default)]
    pub username: Option<String>,
    /// Password; write it as a `${ENV_NAME}` reference to keep it out of the file.
    #[serde(default)]
    pub password: Option<String>,
    /// Sender mailbox, e.g. `"Pasarela <no-reply@example.gob>"`.
    pub from: String,
    /// Timeout of each SMTP command.
    #[serde(default = "default_smtp_timeout_ms")]
    pub timeout_ms: u64,
}

fn default_smtp_timeout_ms() -> u64 {
    10_000
}

/// The `[email]` table.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct EmailConfig {
    /// Which provider delivers messages.
    pub provider: EmailProvider,
    /// Where the `outbox` provider appends messages.
    pub outbox_path: PathBuf,
    /// Settings of the `smtp` provider; required when `provider = "smtp"`.
    pub smtp: Option<SmtpConfig>,
}

impl Default for EmailConfig {
    fn default() -> Self {
        Self {
            provider: EmailProvider::Outbox,
            outbox_path: PathBuf::from("data/email-outbox.jsonl"),
            smtp: None,
        }
    }
}

impl EmailConfig {
    /// Checks the settings; the error names the offending key.
    pub fn validate(&self) -> Result<(), String> {
        match self.provider {
            EmailProvider::Outbox if self.outbox_path.as_os_str().is_empty() => {
                Err("email.outbox_path: required when provider = \"outbox\"".into())
            }
            EmailProvider::Outbox => Ok(()),
            EmailProvider::Smtp => match &self.smtp {
                None => Err("email.smtp.host: required when provider = \"smtp\"".into()),
                Some(smtp) => smtp.validate(),
            },
        }
    }
}

impl SmtpConfig {
    /// Checks the settings; the error names the offending key.
    pub fn validate(&self) -> Result<(), String> {
        if self.host.trim().is_empty() {
            return Err("email.smtp.host: must not be empty".into());
        }
        if self.from.parse::<Mailbox>().is_err() {
            return Err("email.smtp.from: not a valid mailbox".into());
        }
        if self.username.is_some() != self.password.is_some() {
            return Err("email.smtp.password: username and password go together".into());
        }
        if !(1..=300_000).contains(&self.timeout_ms) {
            return Err("email.smtp.timeout_ms: must be between 1 and 300000".into());
        }
        Ok(())
    }
}

/// Builds the configured email provider. Fails on invalid settings or an unset `${ENV}`
/// reference, so a misconfiguration stops startup.
pub fn build_email(
    config: &EmailConfig,
    clock: Arc<dyn Clock>,
) -> Result<Arc<dyn EmailGateway>, CoreError> {
    config.validate().map_err(CoreError::Invalid)?;
    match (config.provider, &config.smtp) {
        (EmailProvider::Smtp, Some(smtp)) => Ok(Arc::new(SmtpEmail::new(smtp)?)),
        (EmailProvider::Smtp, None) => Err(CoreError::Invalid("email.smtp.host: required".into())),
        (EmailProvider::Outbox, _) => Ok(Arc::new(OutboxEmail::new(
            config.outbox_path.clone(),
            clock,
        ))),
    }
}

/// SMTP provider over a pooled lettre transport.
pub struct SmtpEmail {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl SmtpEmail {
    /// Builds the transport, expanding `${ENV}` references from the process environment. No
    /// connection is made until the first send. Must be called inside a Tokio runtime, where
    /// the connection pool runs its housekeeping task.
    pub fn new(config: &SmtpConfig) -> Result<Self, CoreError> {
        Self::with_env(config, &|name| std::env::var(name).ok())
    }

    /// As [`SmtpEmail::new`], resolving `${ENV}` references with `lookup`.
    pub fn with_env(
        config: &SmtpConfig,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, CoreError> {
        config.validate().map_err(CoreError::Invalid)?;
        // lettre's pool spawns a task when built and would panic outside a runtime.
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(CoreError::Unavailable(
                "email.smtp: the transport must be built inside a Tokio runtime".into(),
            ));
        }
        let from = config
            .from
            .parse::<Mailbox>()
            .map_err(|_| CoreError::Invalid("email.smtp.from: not a valid mailbox".into()))?;
        let tls_error = |e: lettre::transport::smtp::Error| {
            CoreError::Invalid(format!("email.smtp.host: cannot set up TLS: {e}"))
        };
        let (builder, default_port) = match config.security {
            SmtpSecurity::Starttls => (
                AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&config.host)
                    .map_err(tls_error)?,
                587,
            ),
            SmtpSecurity::Tls => (
                AsyncSmtpTransport::<Tokio1Executor>::relay(&config.host).map_err(tls_error)?,
                465,
            ),
            SmtpSecurity::None => (
                AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&config.host),
                25,
            ),
        };
        let mut builder = builder
            .port(config.port.unwrap_or(default_port))
            .timeout(Some(Duration::from_millis(config.timeout_ms)));
        if let (Some(user), Some(password)) = (&config.username, &config.password) {
            let user = expand_env_with(user, lookup)
                .map_err(|e| CoreError::Invalid(format!("email.smtp.username: {e}")))?;
            let password = expand_env_with(password, lookup)
                .map_err(|e| CoreError::Invalid(format!("email.smtp.password: {e}")))?;
            builder = builder.credentials(Credentials::new(user, password));
        }
        Ok(Self {
            transport: builder.build(),
            from,
        })
    }
}

#[async_trait]
impl EmailGateway for SmtpEmail {
    async fn send(&self, to: &str, subject: &str, body_text: &str) -> Result<(), SendError> {
        let masked = mask_email(to);
        let recipient = to.parse::<Mailbox>().map_err(|_| {
            tracing::warn!(to = %masked, "email refused: invalid recipient address");
            SendError::Rejected("invalid recipient address".into())
        })?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(recipient)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body_text.to_string())
            .map_err(|_| SendError::Rejected("message could not be built".into()))?;
        self.transport.send(message).await.map(drop).map_err(|e| {
            // Only the reply code: server texts may quote the recipient.
            let code = e
                .status()
                .map_or_else(|| "no reply code".to_string(), |c| c.to_string());
            let err = if e.is_permanent() {
                SendError::Rejected(format!("smtp {code}"))
            } else if e.is_timeout() {
                SendError::Unavailable("smtp timeout".into())
            } else {
                SendError::Unavailable(format!("smtp {code}"))
            };
            tracing::warn!(to = %masked, error = %err, "email not sent");
            err
        })
    }

    fn name(&self) -> &'static str {
        "smtp"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

    fn smtp(host: &str, port: u16) -> SmtpConfig {
        SmtpConfig {
            host: host.into(),
            port: Some(port),
            security: SmtpSecurity::None,
            username: None,
            password: None,
            from: "Pasarela <no-reply@example.gob>".into(),
            timeout_ms: 5000,
        }
    }

    #[test]
    fn building_outside_a_runtime_is_an_error_not_a_panic() {
        let c = smtp("127.0.0.1", 25);
        assert_eq!(SmtpEmail::new(&c).err().unwrap().code(), "unavailable");
    }

    #[tokio::test]
    async fn config_defaults_validation_and_transport() {
        let c: EmailConfig = toml::from_str("").unwrap();
        assert_eq!(c, EmailConfig::default());
        let c = EmailConfig {
            provider: EmailProvider::Smtp,
            ..EmailConfig::default()
        };
        assert!(c.validate().unwrap_err().starts_with("email.smtp.host"));
        let c: EmailConfig = toml::from_str(
            r#"
            provider = "smtp"
            [smtp]
            host = "smtp.example.gob"
            username = "pasarela"
            password = "${SMTP_PASSWORD}"
            from = "Pasarela <no-reply@example.gob>"
            "#,
        )
        .unwrap();
        let smtp = c.smtp.clone().unwrap();
        assert_eq!(smtp.security, SmtpSecurity::Starttls);
        let lookup = |n: &str| (n == "SMTP_PASSWORD").then(|| "pw".to_string());
        assert_eq!(SmtpEmail::with_env(&smtp, &lookup).unwrap().name(), "smtp");
        let err = SmtpEmail::with_env(&smtp, &|_| None).err().unwrap();
        assert!(err.to_string().contains("email.smtp.password"));
        for security in [SmtpSecurity::Tls, SmtpSecurity::None] {
            let c = SmtpConfig {
                security,
                ..smtp.clone()
            };
            assert!(SmtpEmail::with_env(&c, &lookup).is_ok());
        }
        let bad = SmtpConfig {
            from: "not a mailbox".into(),
            ..smtp
        };
        assert!(bad.validate().unwrap_err().starts_with("email.smtp.from"));
    }

    /// Speaks just enough SMTP to accept one message, and returns the DATA it received.
    async fn fake_smtp_server(listener: tokio::net::TcpListener) -> (Vec<String>, String) {
        let (socket, _) = listener.accept().await.unwrap();
        let (read, mut write) = socket.into_split();
        let mut lines = BufReader::new(read).lines();
        let mut commands = Vec::new();
        let mut data = String::new();
        write.write_all(b"220 fake ESMTP\r\n").await.unwrap();
        while let Some(line) = lines.next_line().await.unwrap() {
            let verb = line
                .split([' ', ':'])
                .next()
                .unwrap_or("")
                .to_ascii_uppercase();
            commands.push(verb.clone());
            let reply: &[u8] = match verb.as_str() {
                "EHLO" | "HELO" => b"250 fake\r\n",
                "DATA" => {
                    write.write_all(b"354 go ahead\r\n").await.unwrap();
                    while let Some(l) = lines.next_line().await.unwrap() {
                        if l == "." {
                            break;
                        }
                        data.push_str(&l);
                        data.push('\n');
                    }
                    write.write_all(b"250 queued\r\n").await.unwrap();
                    return (commands, data);
                }
                _ => b"250 ok\r\n",
            };
            write.write_all(reply).await.unwrap();
        }
        (commands, data)
    }

    #[tokio::test]
    async fn smtp_delivers_to_a_local_server() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = tokio::spawn(fake_smtp_server(listener));
        let email = SmtpEmail::new(&smtp("127.0.0.1", port)).unwrap();
        email
            .send(
                "juana@example.org",
                "Password changed",
                "Your password was changed.",
            )
            .await
            .unwrap();
        let (commands, data) = server.await.unwrap();
        assert_eq!(commands, ["EHLO", "MAIL", "RCPT", "DATA"]);
        assert!(data.contains("Subject: Password changed"));
        assert!(data.contains("To: juana@example.org"));
        assert!(data.contains("Your password was changed."));
    }

    #[tokio::test]
    async fn invalid_recipient_is_rejected_without_connecting() {
        let email = SmtpEmail::new(&smtp("127.0.0.1", 9)).unwrap();
        assert_eq!(
            email.send("not an address", "s", "b").await,
            Err(SendError::Rejected("invalid recipient address".into()))
        );
    }
}
