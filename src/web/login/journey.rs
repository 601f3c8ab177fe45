//! What a login journey keeps between its pages: the one-time message for the next page, the
//! second step after a right password, and the flow's whole state (where it returns, the
//! level asked for, failures so far).

use super::DEFAULT_CONTINUE;
use crate::core::citizen::CitizenId;
use crate::core::level::{AuthMethod, LevelOfAssurance, ProofingLevel};
use crate::core::otp::SendRefusal;
use crate::web::i18n::Tr;
use serde::{Deserialize, Serialize};

/// A message to show once on the next page, with its optional number.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(super) struct Flash {
    pub(super) key: String,
    pub(super) count: Option<i64>,
    /// An error (`role="alert"`) rather than information (`role="status"`).
    pub(super) alert: bool,
}

impl Flash {
    pub(super) fn alert(key: &str) -> Self {
        Self {
            key: key.to_owned(),
            count: None,
            alert: true,
        }
    }

    pub(super) fn status(key: &str) -> Self {
        Self {
            alert: false,
            ..Self::alert(key)
        }
    }

    pub(super) fn text(&self, tr: &Tr) -> String {
        match self.count {
            Some(n) => tr.t1(&self.key, "count", &n.to_string()),
            None => tr.t(&self.key),
        }
    }

    /// The message for a refused send.
    pub(super) fn send_refused(refusal: &SendRefusal) -> Self {
        match refusal {
            SendRefusal::TooSoon(secs) => Self {
                count: Some((*secs).max(1)),
                ..Self::alert("login-code-wait")
            },
            SendRefusal::TooManySends => Self::alert("login-code-no-more"),
            SendRefusal::Gateway(_) => Self::alert("login-code-send-failed"),
        }
    }
}

/// The second step of a login, once the password was right.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct SecondStep {
    pub(super) citizen: CitizenId,
    pub(super) proofing: ProofingLevel,
    /// The registered mobile, masked for display.
    pub(super) masked_mobile: String,
    /// The SMS challenge, once a code was sent.
    pub(super) challenge: Option<String>,
    /// The citizen is asked for a code from their authenticator app (TOTP) rather than SMS.
    pub(super) totp: bool,
    /// Wrong TOTP codes in this attempt.
    pub(super) totp_failures: u32,
    /// SMS codes are not accepted in this login (the service excluded them, or they would
    /// not reach the level asked for).
    #[serde(default)]
    pub(super) no_sms: bool,
    /// The methods used before this step began: the password, or the stepped-up session's.
    #[serde(default)]
    pub(super) before: Vec<AuthMethod>,
    /// The methods verified in this login so far (the password, earlier factors; for a
    /// step-up only the factors added).
    #[serde(default)]
    pub(super) done: Vec<AuthMethod>,
    /// The factors still to ask for after the current one.
    #[serde(default)]
    pub(super) queue: Vec<AuthMethod>,
    /// A step-up of this SSO session (its id): no password was asked, and the session's level
    /// is raised rather than a new session started.
    #[serde(default)]
    pub(super) step_up: Option<String>,
    /// The level this login is reaching for (shown on the code page of a step-up).
    #[serde(default)]
    pub(super) goal: Option<LevelOfAssurance>,
}

/// What the login flow has established so far.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct LoginFlow {
    pub(super) continue_to: String,
    pub(super) level: Option<LevelOfAssurance>,
    /// Wrong passwords in this login attempt.
    pub(super) failures: u32,
    pub(super) second: Option<SecondStep>,
    pub(super) flash: Option<Flash>,
    /// The second-factor methods the service accepts (`?methods=`); `None`: any.
    #[serde(default)]
    pub(super) methods: Option<Vec<AuthMethod>>,
    /// The lowest level the service accepts (`?need=`; `None`: `level` itself). A citizen who
    /// cannot reach it is told how to, and the service gets its error.
    #[serde(default)]
    pub(super) need: Option<LevelOfAssurance>,
    /// The service demands a fresh login (`prompt=login`, `max_age`, `ForceAuthn`): the
    /// password is asked even with a live session.
    #[serde(default)]
    pub(super) fresh: bool,
    /// The origin of the relying party the login ends at (an OIDC client's redirect URI), which
    /// the pages' `form-action` must allow.
    #[serde(default)]
    pub(super) rp_origin: Option<String>,
}

impl LoginFlow {
    pub(super) fn new() -> Self {
        Self {
            continue_to: DEFAULT_CONTINUE.to_owned(),
            level: None,
            failures: 0,
            second: None,
            flash: None,
            methods: None,
            need: None,
            fresh: false,
            rp_origin: None,
        }
    }
}
