//! The SSO session: one server-side record per single sign-on, reached through an opaque
//! cookie whose value changes at every (re)authentication, while the record's logical
//! [`SessionId`] stays stable for its whole life (it is the OIDC `sid` and the SAML
//! `SessionIndex`). Both protocols read the same facts from it: when the citizen last
//! authenticated, with which methods, and the level achieved.
//!
//! Only the SHA-256 of the cookie value is stored, so a database leak yields no usable
//! cookies. The engine operations live in [`engine`]; how a session ends, and who is told,
//! in [`end`].

pub mod end;
#[cfg(test)]
pub(crate) mod end_tests;
pub mod engine;
#[cfg(test)]
mod tests;

pub use end::{EndCause, EndedSession, Ending, Notifiers, SessionEndNotifier};

use super::citizen::CitizenId;
use super::level::{AuthMethod, LevelOfAssurance};
use base64::Engine as _;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Bytes of randomness in a [`SessionId`].
const SESSION_ID_BYTES: usize = 16;
/// Bytes of randomness in a [`SessionCookie`].
const COOKIE_BYTES: usize = 32;

/// The stable, public id of an SSO session: 128 random bits, base64url without padding.
/// Knowing it grants nothing (it is sent to relying parties as `sid`); the cookie does.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SessionId(String);

impl SessionId {
    /// A fresh random id.
    pub fn generate() -> Result<Self, openssl::error::ErrorStack> {
        Ok(Self(super::random::token(SESSION_ID_BYTES)?))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for SessionId {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match B64.decode(s) {
            // Re-encoding rejects non-canonical trailing bits, so one id has one spelling.
            Ok(bytes) if bytes.len() == SESSION_ID_BYTES && B64.encode(&bytes) == s => {
                Ok(Self(s.to_owned()))
            }
            _ => Err("not a session id".into()),
        }
    }
}

impl TryFrom<String> for SessionId {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<SessionId> for String {
    fn from(id: SessionId) -> Self {
        id.0
    }
}

/// The opaque value of the session cookie: 256 random bits, base64url. It is a bearer
/// secret, so `Debug` does not show it and only [`SessionCookie::hash`] is ever stored.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionCookie(String);

impl SessionCookie {
    /// Cookie name over HTTPS: `__Host-` makes browsers insist on Secure, Path=/ and no
    /// Domain, so a sibling subdomain cannot plant or overwrite it.
    pub const SECURE_NAME: &'static str = "__Host-pasarela_sso";
    /// Cookie name over plain HTTP (development only), where `__Host-` is not allowed.
    pub const PLAIN_NAME: &'static str = "pasarela_sso";

    /// A fresh random cookie value.
    pub fn generate() -> Result<Self, openssl::error::ErrorStack> {
        Ok(Self(super::random::token(COOKIE_BYTES)?))
    }

    /// Wraps a value received from a browser.
    pub fn from_value(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value to send to the browser.
    pub fn value(&self) -> &str {
        &self.0
    }

    /// The storage form: SHA-256 of the value, lowercase hex.
    pub fn hash(&self) -> String {
        cookie_hash(&self.0)
    }

    /// The cookie name to use, depending on whether the site is served over HTTPS.
    pub fn name(secure: bool) -> &'static str {
        if secure {
            Self::SECURE_NAME
        } else {
            Self::PLAIN_NAME
        }
    }

    /// A `Set-Cookie` header value: HttpOnly, SameSite=Lax (so the cookie comes along on
    /// top-level redirects back from relying parties), Path=/, Secure over HTTPS. No Max-Age:
    /// the server enforces the limits, and a browser-session cookie leaves with the browser.
    pub fn set_cookie(&self, secure: bool) -> String {
        let secure_attr = if secure { "; Secure" } else { "" };
        format!(
            "{}={}; Path=/; HttpOnly; SameSite=Lax{secure_attr}",
            Self::name(secure),
            self.0
        )
    }

    /// A `Set-Cookie` header value that removes the cookie.
    pub fn clear_cookie(secure: bool) -> String {
        let secure_attr = if secure { "; Secure" } else { "" };
        format!(
            "{}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure_attr}",
            Self::name(secure)
        )
    }
}

impl fmt::Debug for SessionCookie {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionCookie(<redacted>)")
    }
}

/// SHA-256 (lowercase hex) of a cookie value, as stored.
pub fn cookie_hash(value: &str) -> String {
    hex::encode(openssl::sha::sha256(value.as_bytes()))
}

/// One use of an authentication method in a session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MethodUse {
    /// The method.
    pub method: AuthMethod,
    /// When it succeeded.
    pub at: DateTime<Utc>,
}

/// A relying party served within a session, for single logout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelyingPartyVisit {
    /// The relying party's id.
    pub rp_id: String,
    /// `oidc` or `saml`.
    pub protocol: String,
    /// First time it was served in this session.
    pub first_at: DateTime<Utc>,
    /// Last time it was served in this session.
    pub last_at: DateTime<Utc>,
}

/// A server-side SSO session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoSession {
    /// Stable logical id (OIDC `sid`, SAML `SessionIndex`).
    pub id: SessionId,
    /// Whose session it is.
    pub citizen_id: CitizenId,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When the citizen last (re)authenticated (OIDC `auth_time`, SAML `AuthnInstant`).
    pub auth_time: DateTime<Utc>,
    /// Every method used, in order, with its time.
    pub methods: Vec<MethodUse>,
    /// The level achieved at the last (re)authentication.
    pub level: LevelOfAssurance,
    /// Relying parties served.
    pub relying_parties: Vec<RelyingPartyVisit>,
    /// Last activity seen (kept to within a minute, see [`engine`]).
    pub last_seen_at: DateTime<Utc>,
    /// Absolute end, whatever the activity.
    pub expires_at: DateTime<Utc>,
    /// When it was ended by a logout, if it was.
    pub ended_at: Option<DateTime<Utc>>,
    /// Browser user agent at creation, for the citizen's session list.
    pub user_agent: Option<String>,
    /// Source address at creation, for the citizen's session list.
    pub source: Option<String>,
}

impl SsoSession {
    /// The distinct methods used.
    pub fn methods_set(&self) -> BTreeSet<AuthMethod> {
        self.methods.iter().map(|m| m.method).collect()
    }

    /// RFC 8176 `amr` values of the distinct methods, plus `mfa` when two or more distinct
    /// methods were used.
    pub fn amr(&self) -> Vec<&'static str> {
        let set = self.methods_set();
        let mut amr: Vec<&'static str> = set.iter().map(|m| m.amr()).collect();
        if set.len() >= 2 {
            amr.push("mfa");
        }
        amr
    }

    /// Not ended, before its absolute end, and active within `idle`.
    pub fn is_live(&self, now: DateTime<Utc>, idle: Duration) -> bool {
        self.ended_at.is_none() && now < self.expires_at && now - self.last_seen_at < idle
    }

    /// Time since the last (re)authentication, for `max_age` and `ForceAuthn` decisions.
    pub fn age_since_auth(&self, now: DateTime<Utc>) -> Duration {
        now - self.auth_time
    }
}

/// Limits of SSO sessions: the `[sessions]` table of the configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SessionConfig {
    /// Hours after creation when a session ends, however active.
    pub absolute_hours: u32,
    /// Minutes without activity after which a session ends.
    pub idle_minutes: u32,
    /// Days an ended or expired session is kept (listed on the account page, resolvable as
    /// `sid` by relying parties) before it is deleted.
    pub keep_ended_days: u32,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            absolute_hours: 12,
            idle_minutes: 30,
            keep_ended_days: 7,
        }
    }
}

impl SessionConfig {
    /// The absolute limit.
    pub fn absolute(&self) -> Duration {
        Duration::hours(i64::from(self.absolute_hours))
    }

    /// The idle limit.
    pub fn idle(&self) -> Duration {
        Duration::minutes(i64::from(self.idle_minutes))
    }

    /// Checks the `[sessions]` section; the error names the key and why.
    pub fn validate(&self) -> Result<(), String> {
        if self.absolute_hours == 0 || self.idle_minutes == 0 {
            return Err("sessions: absolute_hours and idle_minutes must be at least 1".into());
        }
        Ok(())
    }
}
