//! Ending an SSO session, whatever the door: the OIDC end-session endpoint, the logout page,
//! SAML single logout, the account's session list, a password reset, a deregistration or a
//! new login replacing the browser's session. The engine ends the session in the store,
//! audits it, and then tells every registered [`SessionEndNotifier`] once, so that each
//! protocol reaches its relying parties the same way whoever ended the session.
//!
//! The notifiers are registered where the engine is built (`crate::server::open`); the core
//! knows them only through the trait, never the protocol modules behind them.

use super::SsoSession;
use crate::core::CoreError;
use crate::core::engine::Engine;
use async_trait::async_trait;

/// Why a session ended, as recorded in the audit trail and told to the notifiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndCause {
    /// The citizen logged out (the logout page or a relying party's logout endpoint).
    Logout,
    /// A SAML service provider asked for single logout.
    SingleLogout,
    /// The citizen ended it from the account's session list.
    AccountPage,
    /// A forgotten-password reset ended every session of the citizen.
    PasswordReset,
    /// The citizen deregistered.
    Deregistration,
    /// A new login in the same browser replaced it.
    Replaced,
}

impl EndCause {
    /// The name recorded in the audit trail.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Logout => "logout",
            Self::SingleLogout => "single_logout",
            Self::AccountPage => "account_page",
            Self::PasswordReset => "password_reset",
            Self::Deregistration => "deregistration",
            Self::Replaced => "replaced",
        }
    }
}

/// How a session is being ended: the facts a notifier needs to decide whom to tell and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ending {
    /// Why.
    pub cause: EndCause,
    /// The relying party that asked for the end (a SAML SP's single logout): it answers
    /// the request itself, so no notifier tells it again.
    pub initiator: Option<String>,
    /// Whether the caller walks the browser, right after, through the front-channel logout
    /// endpoints of the session's relying parties (the SAML IdP-initiated chain); notifiers
    /// then leave those relying parties to the browser, so none is told twice.
    pub browser_chain: bool,
}

impl Ending {
    /// An end with no browser chain to follow and no initiating relying party.
    pub fn without_browser(cause: EndCause) -> Self {
        Self {
            cause,
            initiator: None,
            browser_chain: false,
        }
    }

    /// An end after which the browser is walked through the front-channel endpoints.
    pub fn with_browser_chain(cause: EndCause) -> Self {
        Self {
            browser_chain: true,
            ..Self::without_browser(cause)
        }
    }
}

/// A session that has just ended, as the notifiers receive it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndedSession {
    /// The session as ended, with the relying parties it served.
    pub session: SsoSession,
    /// How it was ended.
    pub ending: Ending,
}

/// Something that must hear of every ended session: one per protocol, reaching that
/// protocol's relying parties. A notifier handles and audits its own failures: by the time
/// it runs the session is over, and a relying party that cannot be reached does not bring
/// it back.
#[async_trait]
pub trait SessionEndNotifier: Send + Sync {
    /// Called once for every session the engine ended.
    async fn session_ended(&self, engine: &Engine, ended: &EndedSession);

    /// For a browser that ended its own `session` (already ended) with
    /// [`Ending::with_browser_chain`]: the local path of the first hop of a walk through this
    /// protocol's front-channel logout endpoints, which ends at `then` (a URL already matched
    /// against a registration; the logged-out page when `None`). `None`: this protocol has no
    /// such walk for the session. Any door can hand the browser to it without knowing which
    /// protocol serves it.
    async fn browser_walk(
        &self,
        _engine: &Engine,
        _session: &SsoSession,
        _then: Option<String>,
    ) -> Result<Option<String>, CoreError> {
        Ok(None)
    }
}

impl Engine {
    /// The first browser walk a notifier offers for an ended `session` (see
    /// [`SessionEndNotifier::browser_walk`]). A notifier's failure is logged and passed over:
    /// the session is over whatever happens to the relying parties' notices.
    pub async fn browser_logout_walk(
        &self,
        session: &SsoSession,
        then: Option<String>,
    ) -> Option<String> {
        for notifier in &self.notifiers {
            match notifier.browser_walk(self, session, then.clone()).await {
                Ok(Some(path)) => return Some(path),
                Ok(None) => {}
                Err(e) => tracing::error!(error = %e, "logout: browser walk could not be prepared"),
            }
        }
        None
    }
}

/// The notifiers an engine calls, in registration order.
pub type Notifiers = Vec<std::sync::Arc<dyn SessionEndNotifier>>;
