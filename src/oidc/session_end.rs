//! What the OpenID Provider does when an SSO session ends, whatever ended it: the tokens
//! issued in it are revoked (access and refresh alike, so a refresh answers `invalid_grant`)
//! and its clients that registered a back-channel URI get a logout token
//! ([`super::backchannel`]). Front-channel frames need the browser, so they stay with the
//! end-session endpoint ([`super::logout`]), which ends the browser's own session.

use crate::core::engine::{Actor, Engine};
use crate::core::keys::KeyRing;
use crate::core::session::{EndedSession, SessionEndNotifier};
use async_trait::async_trait;
use serde_json::json;

/// The OIDC session-end notifier, registered with the engine at start-up.
pub struct OidcNotifier {
    keys: KeyRing,
    issuer: String,
}

impl OidcNotifier {
    /// A notifier signing logout tokens with `keys` as `issuer`.
    pub fn new(keys: KeyRing, issuer: String) -> Self {
        Self { keys, issuer }
    }
}

#[async_trait]
impl SessionEndNotifier for OidcNotifier {
    async fn session_ended(&self, engine: &Engine, ended: &EndedSession) {
        let session = &ended.session;
        match engine
            .store
            .revoke_session_tokens(&session.id, engine.clock.now())
            .await
        {
            Ok(0) => {}
            Ok(revoked) => {
                let event = engine
                    .event(&Actor::system(), "oidc.session_tokens_revoked")
                    .citizen(session.citizen_id)
                    .detail(json!({
                        "session": session.id.as_str(),
                        "cause": ended.ending.cause.as_str(),
                        "tokens_revoked": revoked,
                    }));
                if let Err(e) = engine.audit(event).await {
                    tracing::error!(error = %e, "session end: could not audit the revocation");
                }
            }
            // The refresh grant also refuses tokens of an ended session, so a failed
            // revocation leaves only access tokens alive until they expire.
            Err(e) => tracing::error!(error = %e, "session end: could not revoke the tokens"),
        }
        super::backchannel::notify(engine, &self.keys, &self.issuer, session).await;
    }
}
