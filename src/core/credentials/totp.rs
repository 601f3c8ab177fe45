//! Time-based one-time passwords (RFC 6238) as authenticator apps expect them: HMAC-SHA-1,
//! 6 digits, 30-second steps, one step of clock skew accepted either way.
//!
//! Verification always takes the time from the caller (so tests and the injected clock
//! agree), and returns the time step that matched: the caller stores it and passes it back
//! to [`TotpSecret::verify_after`], which refuses the same code (or an older one) again.

use crate::core::CoreError;
use crate::core::random;
use chrono::{DateTime, Utc};
use std::fmt;
use totp_rs::{Algorithm, Builder, Secret, Totp};

const SECRET_LEN: usize = 20;
const DIGITS: u8 = 6;
const STEP_SECONDS: u64 = 30;
const SKEW_STEPS: u16 = 1;

/// A citizen's TOTP shared secret. Stored as base32 (the form apps and `otpauth://` URIs use).
#[derive(Clone, PartialEq, Eq)]
pub struct TotpSecret {
    bytes: Vec<u8>,
}

impl fmt::Debug for TotpSecret {
    /// Never prints the secret: Debug output ends up in logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TotpSecret(<redacted>)")
    }
}

impl TotpSecret {
    /// A fresh random 160-bit secret (the length RFC 4226 recommends).
    pub fn generate() -> Result<Self, CoreError> {
        Ok(Self {
            bytes: random::bytes(SECRET_LEN)?,
        })
    }

    /// Reads a secret stored with [`TotpSecret::to_base32`]. Spaces are ignored and letters
    /// are case-insensitive, so a secret typed from the enrolment page also reads back.
    pub fn from_base32(s: &str) -> Result<Self, CoreError> {
        let cleaned: String = s
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '=')
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let bytes = Secret::try_from_base32(&cleaned)
            .map_err(|_| CoreError::Invalid("the TOTP secret is not valid base32".into()))?
            .as_bytes()
            .to_vec();
        if bytes.len() < 16 {
            return Err(CoreError::Invalid(
                "the TOTP secret is shorter than 128 bits".into(),
            ));
        }
        Ok(Self { bytes })
    }

    /// The secret in unpadded RFC 4648 base32, for storage and for manual entry in an app.
    pub fn to_base32(&self) -> String {
        Secret::from(self.bytes.clone()).to_base32()
    }

    /// The `otpauth://totp/...` URI authenticator apps read from the QR code. A colon in
    /// `issuer` or `account_label` (the URI's label separator) is replaced by a space.
    pub fn provisioning_uri(&self, issuer: &str, account_label: &str) -> Result<String, CoreError> {
        self.totp(issuer, account_label)?
            .to_url()
            .map_err(|e| CoreError::Invalid(format!("cannot build the TOTP URI: {e}")))
    }

    /// The provisioning URI as a QR code: a base64 PNG, to embed as
    /// `<img src="data:image/png;base64,...">` (works without JavaScript).
    pub fn qr_png_base64(&self, issuer: &str, account_label: &str) -> Result<String, CoreError> {
        self.totp(issuer, account_label)?
            .to_qr_base64()
            .map_err(|e| CoreError::Invalid(format!("cannot draw the TOTP QR code: {e}")))
    }

    /// The time step `code` is valid for at `now` (±1 step), or `None`. Spaces inside the
    /// code are ignored (apps show `123 456`).
    pub fn verify(&self, code: &str, now: DateTime<Utc>) -> Option<u64> {
        let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        if code.len() != usize::from(DIGITS) || !code.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let time = u64::try_from(now.timestamp()).ok()?;
        self.totp("", "").ok()?.check(&code, time)
    }

    /// Like [`TotpSecret::verify`], but refuses a step at or before `last_used_step`, so a
    /// code (or an earlier one still inside the skew window) cannot be used twice.
    pub fn verify_after(
        &self,
        code: &str,
        now: DateTime<Utc>,
        last_used_step: Option<u64>,
    ) -> Option<u64> {
        let step = self.verify(code, now)?;
        match last_used_step {
            Some(last) if step <= last => None,
            _ => Some(step),
        }
    }

    /// The code for `now` (for tests and for the operator CLI; never shown to citizens).
    pub fn code_at(&self, now: DateTime<Utc>) -> Option<String> {
        let time = u64::try_from(now.timestamp()).ok()?;
        Some(self.totp("", "").ok()?.generate(time).to_string())
    }

    fn totp(&self, issuer: &str, account_label: &str) -> Result<Totp, CoreError> {
        let clean = |s: &str| s.replace(':', " ").trim().to_owned();
        let issuer = clean(issuer);
        let mut b = Builder::new()
            .with_algorithm(Algorithm::SHA1)
            .with_digits(DIGITS)
            .with_step_duration(STEP_SECONDS)
            .with_skew(SKEW_STEPS)
            .with_secret(self.bytes.clone())
            .with_account_name(clean(account_label));
        if !issuer.is_empty() {
            b = b.with_issuer(Some(issuer));
        }
        b.build()
            .map_err(|e| CoreError::Invalid(format!("invalid TOTP settings: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    /// The RFC 6238 appendix B SHA-1 secret: ASCII "12345678901234567890".
    fn rfc_secret() -> TotpSecret {
        TotpSecret {
            bytes: b"12345678901234567890".to_vec(),
        }
    }

    fn at(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(secs, 0).single().unwrap()
    }

    #[test]
    fn rfc6238_vectors() {
        // Appendix B lists 8-digit codes; the 6-digit code is their last six digits.
        let s = rfc_secret();
        for (t, code8) in [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
        ] {
            let code = &code8[2..];
            assert_eq!(s.code_at(at(t)).as_deref(), Some(code), "t={t}");
            assert_eq!(s.verify(code, at(t)), Some(t as u64 / 30));
        }
        assert_eq!(s.verify("287 082", at(59)), Some(1));
    }

    #[test]
    fn skew_is_one_step_each_way() {
        let s = TotpSecret::generate().unwrap();
        let t = 1_700_000_010;
        let code = s.code_at(at(t)).unwrap();
        let step = t as u64 / 30;
        assert_eq!(s.verify(&code, at(t + 30)), Some(step));
        assert_eq!(s.verify(&code, at(t - 30)), Some(step));
        assert_eq!(s.verify(&code, at(t + 60)), None);
        assert_eq!(s.verify("12345", at(t)), None);
        assert_eq!(s.verify("abcdef", at(t)), None);
    }

    #[test]
    fn replay_is_refused() {
        let s = TotpSecret::generate().unwrap();
        let t = 1_700_000_010;
        let code = s.code_at(at(t)).unwrap();
        let step = s.verify_after(&code, at(t), None).unwrap();
        assert_eq!(s.verify_after(&code, at(t + 5), Some(step)), None);
        let next = s.code_at(at(t + 30)).unwrap();
        assert_eq!(
            s.verify_after(&next, at(t + 30), Some(step)),
            Some(step + 1)
        );
        // The previous step's code, still inside the skew window, is refused too.
        let prev = s.code_at(at(t - 30)).unwrap();
        assert_eq!(s.verify_after(&prev, at(t), Some(step)), None);
    }

    #[test]
    fn base32_round_trip_and_uri() {
        let s = TotpSecret::generate().unwrap();
        let b32 = s.to_base32();
        assert_eq!(b32.len(), 32);
        assert_eq!(TotpSecret::from_base32(&b32.to_lowercase()).unwrap(), s);
        assert!(TotpSecret::from_base32("not base32!").is_err());
        assert!(TotpSecret::from_base32("GEZDGNBV").is_err());
        let uri = s.provisioning_uri("Cl@ve", "DNI 12345678Z").unwrap();
        assert!(uri.starts_with("otpauth://totp/"), "{uri}");
        assert!(uri.contains(&format!("secret={b32}")), "{uri}");
        assert!(uri.contains("issuer=Cl%40ve"), "{uri}");
        assert!(s.provisioning_uri("a:b", "c:d").is_ok());
        assert!(!format!("{s:?}").contains(&b32));
    }

    #[test]
    fn qr_code_is_a_png() {
        use base64::Engine;
        let s = TotpSecret::generate().unwrap();
        let b64 = s.qr_png_base64("Pasarela", "DNI 12345678Z").unwrap();
        let png = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap();
        assert!(png.starts_with(b"\x89PNG"));
    }
}
