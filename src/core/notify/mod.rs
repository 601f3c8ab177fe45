//! Outgoing notifications: SMS (one-time codes) and email (security notices such as "your
//! password was changed").
//!
//! Each channel is a trait ([`SmsGateway`], [`EmailGateway`]) with interchangeable providers
//! chosen by configuration ([`SmsConfig`], [`EmailConfig`]) and built once at startup by
//! [`build_sms`] / [`build_email`]. SMS sends always go through [`QuotaSms`], which caps sends
//! per number and overall so that the login page cannot be abused for SMS pumping.
//!
//! Privacy: message texts carry codes and are never logged (the development `log` SMS provider
//! is the one exception, at `debug` level); phone numbers and addresses are logged masked
//! ([`mask_phone`], [`mask_email`]). [`SendError`]'s `Display` is built from status codes only
//! and is safe to log.

pub mod email;
pub mod http;
pub mod outbox;
pub mod quota;
pub mod sms;

#[cfg(test)]
mod http_tests;
#[cfg(test)]
mod test_support;

pub use email::{
    EmailConfig, EmailGateway, EmailProvider, SmtpConfig, SmtpEmail, SmtpSecurity, build_email,
};
pub use http::{HttpSms, HttpSmsConfig};
pub use outbox::{
    EmailOutboxMessage, OutboxEmail, OutboxMessage, OutboxSms, latest_for, read_email_outbox,
    read_outbox,
};
pub use quota::QuotaSms;
pub use sms::{LogSms, SmsConfig, SmsGateway, SmsProvider, SmsQuota, build_sms};

use crate::core::CoreError;

/// Why a message was not sent. The payload is a private detail for the log (status codes,
/// masked recipients — never the text); users only learn "could not send, try again".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// The provider could not be reached or failed temporarily (timeout, 5xx, 429, store
    /// down): trying again later may work.
    #[error("notification provider unavailable: {0}")]
    Unavailable(String),
    /// The provider refused this message (4xx, invalid recipient): retrying will not help.
    #[error("notification rejected: {0}")]
    Rejected(String),
    /// Too many messages to this recipient or overall; try again after at most this long.
    #[error("notification quota exceeded, retry after {retry_after_secs}s")]
    QuotaExceeded {
        /// Upper bound on the wait before the quota window that refused resets.
        retry_after_secs: u64,
    },
}

impl SendError {
    /// A stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unavailable(_) => "unavailable",
            Self::Rejected(_) => "rejected",
            Self::QuotaExceeded { .. } => "quota_exceeded",
        }
    }
}

impl From<SendError> for CoreError {
    fn from(e: SendError) -> Self {
        match e {
            SendError::Unavailable(_) => Self::Unavailable(e.to_string()),
            SendError::Rejected(_) | SendError::QuotaExceeded { .. } => {
                Self::Refused(e.to_string())
            }
        }
    }
}

/// A phone number fit for logs: every digit but the last three becomes `*`, a leading `+` is
/// kept (`+34600123456` → `+********456`). Inputs with three digits or fewer are fully
/// masked, since "the last three" would then be the whole number.
pub fn mask_phone(number: &str) -> String {
    let digits = number.chars().filter(char::is_ascii_digit).count();
    let keep_from = if digits > 3 { digits - 3 } else { usize::MAX };
    let mut seen = 0;
    let mut out = String::with_capacity(number.len());
    for (i, c) in number.chars().enumerate() {
        if c.is_ascii_digit() {
            out.push(if seen >= keep_from { c } else { '*' });
            seen += 1;
        } else if c == '+' && i == 0 {
            out.push('+');
        } else {
            out.push('*');
        }
    }
    out
}

/// An email address fit for logs: the first character of the local part and the domain
/// (`juana@example.org` → `j***@example.org`); anything unparseable is fully masked.
pub fn mask_email(address: &str) -> String {
    match address.rsplit_once('@') {
        Some((local, domain)) if !local.is_empty() => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        _ => "***".to_string(),
    }
}

/// Replaces every `${NAME}` in `value` with `lookup(NAME)`, so secrets (API keys, SMTP
/// passwords) can stay in the environment instead of the config file. A missing variable or
/// an unterminated reference is an error naming the variable, never echoing the value.
pub fn expand_env_with(
    value: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<String, String> {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find('}')
            .ok_or_else(|| "unterminated ${...} reference".to_string())?;
        let name = &after[..end];
        if name.is_empty() {
            return Err("empty ${} reference".to_string());
        }
        let resolved =
            lookup(name).ok_or_else(|| format!("environment variable {name} is not set"))?;
        out.push_str(&resolved);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// [`expand_env_with`] over the process environment.
pub fn expand_env(value: &str) -> Result<String, String> {
    expand_env_with(value, &|name| std::env::var(name).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_numbers_are_masked_but_the_last_three_digits() {
        assert_eq!(mask_phone("+34600123456"), "+********456");
        assert_eq!(mask_phone("5491123456789"), "**********789");
        assert_eq!(mask_phone("+123"), "+***");
        assert_eq!(mask_phone(""), "");
        assert_eq!(mask_phone("+34 600-123"), "+*******123");
    }

    #[test]
    fn email_addresses_are_masked() {
        assert_eq!(mask_email("juana@example.org"), "j***@example.org");
        assert_eq!(mask_email("nonsense"), "***");
        assert_eq!(mask_email("@example.org"), "***");
    }

    #[test]
    fn env_references_are_expanded_and_missing_ones_named() {
        let lookup = |name: &str| (name == "KEY").then(|| "s3cr3t".to_string());
        assert_eq!(
            expand_env_with("Bearer ${KEY}!", &lookup).unwrap(),
            "Bearer s3cr3t!"
        );
        assert_eq!(expand_env_with("plain", &lookup).unwrap(), "plain");
        let err = expand_env_with("${NOPE}", &lookup).unwrap_err();
        assert!(err.contains("NOPE"));
        assert!(expand_env_with("${KEY", &lookup).is_err());
        assert!(expand_env_with("${}", &lookup).is_err());
    }

    #[test]
    fn send_errors_map_to_core_errors() {
        let e: CoreError = SendError::QuotaExceeded {
            retry_after_secs: 60,
        }
        .into();
        assert_eq!(e.code(), "refused");
        let e: CoreError = SendError::Unavailable("status 503".into()).into();
        assert_eq!(e.code(), "unavailable");
    }
}
