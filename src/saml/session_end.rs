//! What the IdP does for SAML SPs when an SSO session ends without the browser walking
//! through them (a password reset, a deregistration, the account's session list, a new
//! login replacing the session, or the SPs a browser chain cannot visit): an SP that
//! registered a SOAP SingleLogoutService gets a signed LogoutRequest over the SOAP binding
//! (SAML Bindings §3.2, synchronous, bounded by a timeout); any other is recorded in the
//! audit trail as not reachable without the browser. The SP that asked for the logout, and
//! those a browser chain visits, are never told here, so no SP is told twice.

use super::Endpoints;
use super::response;
use super::slo::saml_sps_of;
use super::sp::{SpSettings, front_channel_slo, soap_slo};
use super::xml::{self, BINDING_REDIRECT, NS_SAMLP};
use crate::core::CoreError;
use crate::core::engine::{Actor, Engine};
use crate::core::keys::{JwsAlg, KeyRing};
use crate::core::session::{EndedSession, SessionEndNotifier, SsoSession};
use async_trait::async_trait;
use serde_json::json;
use std::time::Duration;

/// How long one SOAP exchange may take.
const SOAP_TIMEOUT: Duration = Duration::from_secs(5);
/// The largest SOAP answer read.
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// The SAML session-end notifier, registered with the engine at start-up.
pub struct SamlNotifier {
    keys: KeyRing,
    issuer: String,
}

impl SamlNotifier {
    /// A notifier signing LogoutRequests with `keys` as the IdP of `issuer`.
    pub fn new(keys: KeyRing, issuer: String) -> Self {
        Self { keys, issuer }
    }

    /// The signed SOAP envelope carrying a LogoutRequest for `session` to the SP `rp_id`.
    fn envelope(
        &self,
        engine: &Engine,
        rp_id: &str,
        settings: &SpSettings,
        location: &str,
        session: &SsoSession,
    ) -> Result<String, String> {
        let alg = if settings.sign_with_ec {
            JwsAlg::ES256
        } else {
            JwsAlg::RS256
        };
        let key = self
            .keys
            .active(alg)
            .ok_or_else(|| format!("no active {alg} key"))?;
        // The same persistent pairwise NameID the browser chain sends; an SP that got a
        // transient one finds the session by its SessionIndex.
        let name_id = engine
            .codes
            .hash(session.citizen_id, "saml-pairwise", rp_id)
            .map_err(|e| e.to_string())?;
        let idp = Endpoints::new(&self.issuer).entity_id;
        let id = xml::new_id().map_err(|e| e.to_string())?;
        let request = response::logout_request(
            &idp,
            location,
            &id,
            &name_id,
            session.id.as_str(),
            engine.clock.now(),
            Some(&key),
        )
        .map_err(|e| e.to_string())?;
        Ok(format!(
            "<SOAP-ENV:Envelope xmlns:SOAP-ENV=\"http://schemas.xmlsoap.org/soap/envelope/\">\
             <SOAP-ENV:Body>{request}</SOAP-ENV:Body></SOAP-ENV:Envelope>"
        ))
    }
}

/// The top-level `StatusCode` of the LogoutResponse in a SOAP answer, as the SP says it.
fn answered_status(body: &[u8]) -> Option<String> {
    let text = xml::checked_text(body, MAX_ANSWER_BYTES).ok()?;
    let doc = xml::parse(&text).ok()?;
    let response = doc
        .descendants()
        .find(|n| xml::is(*n, NS_SAMLP, "LogoutResponse"))?;
    let status = xml::child(response, NS_SAMLP, "Status")?;
    let code = xml::child(status, NS_SAMLP, "StatusCode")?;
    code.attribute("Value").map(str::to_owned)
}

async fn deliver(http: reqwest::Client, location: String, envelope: String) -> serde_json::Value {
    let sent = http
        .post(&location)
        .header(reqwest::header::CONTENT_TYPE, "text/xml; charset=utf-8")
        .header(
            "SOAPAction",
            "http://www.oasis-open.org/committees/security",
        )
        .body(envelope)
        .send()
        .await;
    match sent {
        Ok(res) => {
            let status = res.status().as_u16();
            let body = res.bytes().await.unwrap_or_default();
            // Not verified: the answer changes nothing here, it is only recorded.
            json!({ "status": status, "answered": answered_status(&body) })
        }
        Err(e) => json!({ "error": e.without_url().to_string() }),
    }
}

#[async_trait]
impl SessionEndNotifier for SamlNotifier {
    /// The IdP-initiated chain through the session's SAML SPs with a front-channel
    /// SingleLogoutService (`/saml/slo/start?chain=…`).
    async fn browser_walk(
        &self,
        engine: &Engine,
        session: &SsoSession,
        then: Option<String>,
    ) -> Result<Option<String>, CoreError> {
        super::slo::prepare_idp_logout(engine, session, then)
            .await
            .map_err(|e| CoreError::Unavailable(e.to_string()))
    }

    async fn session_ended(&self, engine: &Engine, ended: &EndedSession) {
        let session = &ended.session;
        let ending = &ended.ending;
        let http = reqwest::Client::builder()
            .timeout(SOAP_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build();
        let mut deliveries = tokio::task::JoinSet::new();
        let mut unreachable = Vec::new();
        for sp in saml_sps_of(session, ending.initiator.as_deref()) {
            let rp = match engine.store.relying_party(&sp).await {
                Ok(Some(rp)) => rp,
                Ok(None) => continue,
                Err(e) => {
                    tracing::error!(error = %e, "SAML session end: SP lookup failed");
                    continue;
                }
            };
            let Ok(Some(settings)) = SpSettings::of(&rp) else {
                continue;
            };
            if ending.browser_chain && front_channel_slo(&rp, BINDING_REDIRECT).is_some() {
                continue;
            }
            let Some(location) = soap_slo(&rp) else {
                unreachable.push(rp.id);
                continue;
            };
            let http = match &http {
                Ok(h) => h,
                Err(e) => {
                    tracing::error!(error = %e, "SAML SOAP logout: no HTTP client");
                    continue;
                }
            };
            match self.envelope(engine, &rp.id, &settings, location, session) {
                Ok(envelope) => {
                    let (http, location, id) = (http.clone(), location.to_owned(), rp.id);
                    deliveries.spawn(async move { (id, deliver(http, location, envelope).await) });
                }
                Err(e) => tracing::error!(error = %e, sp = %rp.id, "SAML SOAP logout: not signed"),
            }
        }
        let mut events = Vec::new();
        for sp in unreachable {
            let detail = json!({
                "sp": sp,
                "session": session.id.as_str(),
                "cause": ending.cause.as_str(),
                "reason": "no SOAP SingleLogoutService: the SP is reached only through the browser",
            });
            events.push(("saml.slo_unreachable", detail));
        }
        while let Some(done) = deliveries.join_next().await {
            let Ok((sp, mut outcome)) = done else {
                continue;
            };
            outcome["sp"] = sp.into();
            outcome["session"] = session.id.as_str().into();
            outcome["cause"] = ending.cause.as_str().into();
            events.push(("saml.soap_logout", outcome));
        }
        for (kind, detail) in events {
            let event = engine
                .event(&Actor::system(), kind)
                .citizen(session.citizen_id)
                .detail(detail);
            if let Err(e) = engine.audit(event).await {
                tracing::error!(error = %e, "SAML session end: could not audit");
            }
        }
    }
}
