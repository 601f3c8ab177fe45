//! The SMS channel: the [`SmsGateway`] trait, its configuration and [`build_sms`].

use super::http::{HttpSms, HttpSmsConfig};
use super::outbox::OutboxSms;
use super::quota::QuotaSms;
use super::{SendError, mask_phone};
use crate::clock::Clock;
use crate::core::CoreError;
use crate::store::EphemeralStore;
use async_trait::async_trait;
use serde::Deserialize;
use std::path::PathBuf;
use std::sync::Arc;

/// Something that delivers a text message to a phone number.
#[async_trait]
pub trait SmsGateway: Send + Sync {
    /// Sends `text` to `to_e164` (an E.164 number such as `+34600123456`).
    async fn send(&self, to_e164: &str, text: &str) -> Result<(), SendError>;
    /// The provider's name, for logs and health pages.
    fn name(&self) -> &'static str;
}

/// Which SMS provider to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SmsProvider {
    /// Append to a JSON-lines file read by the `/dev/sms` page: development and tests.
    #[default]
    Outbox,
    /// POST a JSON body to an SMS API.
    Http,
    /// Log only (development): the text is logged at `debug`, never delivered.
    Log,
}

/// Per-number and global send limits, against SMS pumping (toll fraud through OTP pages).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct SmsQuota {
    /// Messages to one number within an hour.
    pub per_number_per_hour: u32,
    /// Messages to one number within a day.
    pub per_number_per_day: u32,
    /// Messages to all numbers within a minute.
    pub global_per_minute: u32,
}

impl Default for SmsQuota {
    fn default() -> Self {
        Self {
            per_number_per_hour: 5,
            per_number_per_day: 10,
            global_per_minute: 300,
        }
    }
}

/// The `[sms]` table.
#[derive(Debug, Clone, PartialEq, Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct SmsConfig {
    /// Which provider delivers messages.
    pub provider: SmsProvider,
    /// Where the `outbox` provider appends messages.
    pub outbox_path: PathBuf,
    /// Settings of the `http` provider; required when `provider = "http"`.
    pub http: Option<HttpSmsConfig>,
    /// Sender shown to citizens where the API supports it (`{{sender}}` in the HTTP body).
    pub sender_name: String,
    /// Send limits.
    pub quota: SmsQuota,
}

impl Default for SmsConfig {
    fn default() -> Self {
        Self {
            provider: SmsProvider::Outbox,
            outbox_path: PathBuf::from("data/sms-outbox.jsonl"),
            http: None,
            sender_name: "pasarela".to_string(),
            quota: SmsQuota::default(),
        }
    }
}

impl SmsConfig {
    /// Checks the settings; the error names the offending key.
    pub fn validate(&self) -> Result<(), String> {
        let q = &self.quota;
        for (key, value) in [
            ("per_number_per_hour", q.per_number_per_hour),
            ("per_number_per_day", q.per_number_per_day),
            ("global_per_minute", q.global_per_minute),
        ] {
            if value == 0 {
                return Err(format!("sms.quota.{key}: must be at least 1"));
            }
        }
        if q.per_number_per_day < q.per_number_per_hour {
            return Err(
                "sms.quota.per_number_per_day: must not be below per_number_per_hour".into(),
            );
        }
        if self.sender_name.trim().is_empty() {
            return Err("sms.sender_name: must not be empty".into());
        }
        match self.provider {
            SmsProvider::Outbox if self.outbox_path.as_os_str().is_empty() => {
                Err("sms.outbox_path: required when provider = \"outbox\"".into())
            }
            SmsProvider::Http => match &self.http {
                None => Err("sms.http.url: required when provider = \"http\"".into()),
                Some(http) => http.validate(),
            },
            _ => Ok(()),
        }
    }
}

/// Builds the configured provider, wrapped in [`QuotaSms`]. Fails on invalid settings or an
/// unset `${ENV}` reference, so a misconfiguration stops startup rather than the first login.
pub fn build_sms(
    config: &SmsConfig,
    clock: Arc<dyn Clock>,
    ephemeral: Arc<dyn EphemeralStore>,
) -> Result<Arc<dyn SmsGateway>, CoreError> {
    config.validate().map_err(CoreError::Invalid)?;
    let inner: Arc<dyn SmsGateway> = match config.provider {
        SmsProvider::Outbox => Arc::new(OutboxSms::new(config.outbox_path.clone(), clock)),
        SmsProvider::Log => Arc::new(LogSms),
        SmsProvider::Http => {
            let http = config
                .http
                .as_ref()
                .ok_or_else(|| CoreError::Invalid("sms.http.url: required".into()))?;
            Arc::new(HttpSms::new(http, &config.sender_name)?)
        }
    };
    Ok(Arc::new(QuotaSms::new(
        inner,
        ephemeral,
        config.quota.clone(),
    )))
}

/// Development provider: delivers nothing. Logs the masked number and the text length at
/// `info`, and the text itself only at `debug` — never enable it in production, where the
/// text (a one-time code) would end up in the logs.
#[derive(Debug, Default, Clone, Copy)]
pub struct LogSms;

#[async_trait]
impl SmsGateway for LogSms {
    async fn send(&self, to_e164: &str, text: &str) -> Result<(), SendError> {
        let to = mask_phone(to_e164);
        tracing::info!(to = %to, len = text.chars().count(), "sms (log provider, not delivered)");
        tracing::debug!(to = %to, text = %text, "sms text (log provider)");
        Ok(())
    }

    fn name(&self) -> &'static str {
        "log"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::core::notify::test_support::FakeEphemeral;

    #[test]
    fn defaults_and_toml() {
        let c: SmsConfig = toml::from_str("").unwrap();
        assert_eq!(c, SmsConfig::default());
        assert_eq!(c.quota.per_number_per_hour, 5);
        assert!(c.validate().is_ok());
        let c: SmsConfig = toml::from_str(
            r#"
            provider = "http"
            [http]
            url = "https://sms.example/send"
            headers = { Authorization = "Bearer ${SMS_KEY}" }
            body = { to = "{{to}}", message = "{{text}}", from = "{{sender}}" }
            "#,
        )
        .unwrap();
        assert_eq!(c.provider, SmsProvider::Http);
        assert!(c.validate().is_ok());
        assert!(toml::from_str::<SmsConfig>("nope = 1").is_err());
    }

    #[test]
    fn validation_names_the_key() {
        let c = SmsConfig {
            provider: SmsProvider::Http,
            ..SmsConfig::default()
        };
        assert_eq!(
            c.validate().unwrap_err(),
            "sms.http.url: required when provider = \"http\""
        );
        let mut c = SmsConfig::default();
        c.quota.global_per_minute = 0;
        assert!(
            c.validate()
                .unwrap_err()
                .starts_with("sms.quota.global_per_minute")
        );
    }

    #[tokio::test]
    async fn build_wraps_the_provider() {
        let config = SmsConfig {
            provider: SmsProvider::Log,
            ..SmsConfig::default()
        };
        let sms = build_sms(
            &config,
            Arc::new(ManualClock::fixed()),
            Arc::new(FakeEphemeral::default()),
        )
        .unwrap();
        assert_eq!(sms.name(), "log");
        sms.send("+34600123456", "Código: 123456").await.unwrap();
    }
}
