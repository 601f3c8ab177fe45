//! Send quotas in front of any SMS provider. OTP pages are a classic target of SMS pumping
//! (toll fraud: bots request codes to premium numbers), so every send is counted per number
//! and overall before it reaches the provider, and refused past the limits.

use super::sms::{SmsGateway, SmsQuota};
use super::{SendError, mask_phone};
use crate::store::EphemeralStore;
use async_trait::async_trait;
use std::sync::Arc;
use std::time::Duration;

const MINUTE: u64 = 60;
const HOUR: u64 = 60 * MINUTE;
const DAY: u64 = 24 * HOUR;

/// An [`SmsGateway`] that enforces an [`SmsQuota`] with counters in the ephemeral store, so
/// the limits hold across every node. If the store fails, nothing is sent (fail closed).
pub struct QuotaSms {
    inner: Arc<dyn SmsGateway>,
    ephemeral: Arc<dyn EphemeralStore>,
    quota: SmsQuota,
}

impl QuotaSms {
    /// Wraps `inner` with `quota`, counting in `ephemeral`.
    pub fn new(
        inner: Arc<dyn SmsGateway>,
        ephemeral: Arc<dyn EphemeralStore>,
        quota: SmsQuota,
    ) -> Self {
        Self {
            inner,
            ephemeral,
            quota,
        }
    }

    /// Counts one send against `key`. Windows are fixed from their first send (the store's
    /// `incr` does not extend the TTL), so the wait reported is the window length: an upper
    /// bound, as the remaining TTL is not known.
    async fn count(
        &self,
        key: &str,
        window_secs: u64,
        limit: u32,
        to: &str,
    ) -> Result<(), SendError> {
        let count = self
            .ephemeral
            .incr(key, Duration::from_secs(window_secs))
            .await
            .map_err(|e| {
                tracing::warn!(to = %to, error = %e, "sms refused: quota store unavailable");
                SendError::Unavailable("quota store unavailable".into())
            })?;
        if count > i64::from(limit) {
            tracing::warn!(
                to = %to,
                window_secs,
                limit,
                global = key.starts_with("sms:g:"),
                "sms refused: quota exceeded"
            );
            return Err(SendError::QuotaExceeded {
                retry_after_secs: window_secs,
            });
        }
        Ok(())
    }
}

#[async_trait]
impl SmsGateway for QuotaSms {
    async fn send(&self, to_e164: &str, text: &str) -> Result<(), SendError> {
        let to = mask_phone(to_e164);
        // Per-number limits first, so one pumped number stops at its own limit without
        // using up the global budget that everyone else's codes depend on.
        let q = &self.quota;
        self.count(
            &format!("sms:n:h:{to_e164}"),
            HOUR,
            q.per_number_per_hour,
            &to,
        )
        .await?;
        self.count(
            &format!("sms:n:d:{to_e164}"),
            DAY,
            q.per_number_per_day,
            &to,
        )
        .await?;
        self.count("sms:g:m", MINUTE, q.global_per_minute, &to)
            .await?;
        self.inner.send(to_e164, text).await
    }

    fn name(&self) -> &'static str {
        self.inner.name()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::notify::test_support::{FailingEphemeral, FakeEphemeral, RecordingSms};

    fn gateway(quota: SmsQuota) -> (QuotaSms, Arc<RecordingSms>, Arc<FakeEphemeral>) {
        let inner = Arc::new(RecordingSms::default());
        let store = Arc::new(FakeEphemeral::default());
        (
            QuotaSms::new(inner.clone(), store.clone(), quota),
            inner,
            store,
        )
    }

    #[tokio::test]
    async fn sixth_sms_in_an_hour_is_refused_for_that_number_only() {
        let (sms, inner, store) = gateway(SmsQuota::default());
        for _ in 0..5 {
            sms.send("+34600000001", "code").await.unwrap();
        }
        assert_eq!(
            sms.send("+34600000001", "code").await,
            Err(SendError::QuotaExceeded {
                retry_after_secs: 3600
            })
        );
        sms.send("+34600000002", "code").await.unwrap();
        assert_eq!(inner.count(), 6);
        assert_eq!(
            store.ttl_of("sms:n:h:+34600000001"),
            Some(Duration::from_secs(3600))
        );
        assert_eq!(
            store.ttl_of("sms:n:d:+34600000001"),
            Some(Duration::from_secs(86400))
        );

        // The hour window resetting does not reset the day.
        store.remove("sms:n:h:+34600000001");
        for _ in 0..5 {
            sms.send("+34600000001", "code").await.unwrap();
        }
        store.remove("sms:n:h:+34600000001");
        assert_eq!(
            sms.send("+34600000001", "code").await,
            Err(SendError::QuotaExceeded {
                retry_after_secs: 86400
            })
        );
        assert_eq!(inner.count(), 11);
    }

    #[tokio::test]
    async fn global_limit_applies_across_numbers() {
        let (sms, inner, _) = gateway(SmsQuota {
            global_per_minute: 3,
            ..SmsQuota::default()
        });
        for n in 1..=3 {
            sms.send(&format!("+3460000000{n}"), "code").await.unwrap();
        }
        assert_eq!(
            sms.send("+34600000004", "code").await,
            Err(SendError::QuotaExceeded {
                retry_after_secs: 60
            })
        );
        assert_eq!(inner.count(), 3);
    }

    #[tokio::test]
    async fn failing_store_refuses_to_send() {
        let inner = Arc::new(RecordingSms::default());
        let sms = QuotaSms::new(
            inner.clone(),
            Arc::new(FailingEphemeral),
            SmsQuota::default(),
        );
        assert!(matches!(
            sms.send("+34600000001", "code").await,
            Err(SendError::Unavailable(_))
        ));
        assert_eq!(inner.count(), 0);
        assert_eq!(sms.name(), "recording");
    }
}
