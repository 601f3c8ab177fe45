//! The application state every handler receives.

use crate::core::CoreError;
use crate::core::credentials::{Lang, PasswordHasher};
use crate::core::engine::Engine;
use crate::core::keys::KeyRing;
use crate::core::notify::{EmailGateway, SmsGateway, build_email, build_sms};
use crate::core::otp::OtpSender;
use crate::web::settings::Settings;
use std::sync::Arc;

/// Shared, cheaply cloneable application state.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

/// What the state holds.
pub struct Inner {
    /// The settings handlers read (the validated configuration, less its start-up-only
    /// sections).
    pub config: Settings,
    /// The issuer string (`public_url` without a trailing slash).
    pub issuer: String,
    /// The identity engine.
    pub engine: Engine,
    /// Signing keys.
    pub keys: KeyRing,
    /// The SMS gateway (with its quotas), built once at start-up.
    pub sms: Arc<dyn SmsGateway>,
    /// The email gateway for notices.
    pub email: Arc<dyn EmailGateway>,
    /// Password hashing with bounded concurrency, shared by every request.
    pub hasher: PasswordHasher,
    /// The discovery document, serialised once on first use (it depends only on the
    /// configuration).
    pub discovery: std::sync::OnceLock<bytes::Bytes>,
}

impl AppState {
    /// Wraps the parts and builds the gateways and the hasher the configuration describes.
    /// Fails on a misconfigured gateway, so a bad setting stops start-up rather than a login.
    pub fn new(config: Settings, engine: Engine, keys: KeyRing) -> Result<Self, CoreError> {
        let issuer = config.issuer();
        let sms = build_sms(&config.sms, engine.clock.clone(), engine.ephemeral.clone())?;
        let email = build_email(&config.email, engine.clock.clone())?;
        let hasher = config.credentials.hasher()?;
        Ok(Self(Arc::new(Inner {
            config,
            issuer,
            engine,
            keys,
            sms,
            email,
            hasher,
            discovery: std::sync::OnceLock::new(),
        })))
    }

    /// How SMS codes reach a citizen reading pages in `lang`.
    pub fn otp_sender(&self, lang: Lang) -> OtpSender<'_> {
        OtpSender {
            sms: self.sms.as_ref(),
            lang,
            policy: &self.config.otp,
        }
    }
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}
