//! SAML errors: those that may not go back to a service provider (the request could not be
//! trusted: malformed, unsigned, unknown issuer, unregistered ACS) are shown to the browser as
//! a 400 page; those found after the request was verified go back as a SAML status.

use std::fmt;

/// A request that cannot be answered to any service provider.
#[derive(Debug)]
pub enum SamlError {
    /// Not a well-formed, acceptable SAML message (size, encoding, DTD, schema).
    Malformed(String),
    /// Missing or invalid signature.
    Signature(String),
    /// A check of the request against the registration failed (unknown SP, ACS, Destination,
    /// IssueInstant, replay).
    Refused(String),
    /// Something failed on our side; the detail goes to the log only.
    Internal(String),
}

impl SamlError {
    /// A malformed message.
    pub fn malformed(detail: impl Into<String>) -> Self {
        Self::Malformed(detail.into())
    }
    /// A signature problem.
    pub fn signature(detail: impl Into<String>) -> Self {
        Self::Signature(detail.into())
    }
    /// A refused request.
    pub fn refused(detail: impl Into<String>) -> Self {
        Self::Refused(detail.into())
    }
    /// An internal failure.
    pub fn internal(e: impl fmt::Display) -> Self {
        Self::Internal(e.to_string())
    }
    /// Whether the failure is ours (503) rather than the request's (400).
    pub fn is_internal(&self) -> bool {
        matches!(self, Self::Internal(_))
    }
}

impl fmt::Display for SamlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Malformed(d) => write!(f, "malformed SAML message: {d}"),
            Self::Signature(d) => write!(f, "SAML signature refused: {d}"),
            Self::Refused(d) => write!(f, "SAML request refused: {d}"),
            Self::Internal(d) => write!(f, "internal error: {d}"),
        }
    }
}

impl std::error::Error for SamlError {}

impl From<crate::core::CoreError> for SamlError {
    fn from(e: crate::core::CoreError) -> Self {
        Self::Internal(e.to_string())
    }
}

impl From<crate::store::StoreError> for SamlError {
    fn from(e: crate::store::StoreError) -> Self {
        Self::Internal(e.to_string())
    }
}

impl From<crate::store::EphemeralError> for SamlError {
    fn from(e: crate::store::EphemeralError) -> Self {
        Self::Internal(e.to_string())
    }
}

/// A second-level SAML status answered to a verified request (the top level is
/// `Requester` or `Responder`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusCode {
    /// A login would be needed but the request is passive.
    NoPassive,
    /// The requested level cannot be met.
    NoAuthnContext,
    /// The request is refused (e.g. the account may not use this service).
    RequestDenied,
    /// The requested NameID format cannot be given.
    InvalidNameIdPolicy,
}

impl StatusCode {
    /// The full status URI.
    pub fn uri(self) -> &'static str {
        match self {
            Self::NoPassive => "urn:oasis:names:tc:SAML:2.0:status:NoPassive",
            Self::NoAuthnContext => "urn:oasis:names:tc:SAML:2.0:status:NoAuthnContext",
            Self::RequestDenied => "urn:oasis:names:tc:SAML:2.0:status:RequestDenied",
            Self::InvalidNameIdPolicy => "urn:oasis:names:tc:SAML:2.0:status:InvalidNameIDPolicy",
        }
    }
    /// The top-level status: `Responder` for a level this IdP cannot reach (its own limit,
    /// or the methods left after a Cl@ve exclusion), `Requester` for the others.
    pub fn top(self) -> &'static str {
        match self {
            Self::NoAuthnContext => "urn:oasis:names:tc:SAML:2.0:status:Responder",
            _ => "urn:oasis:names:tc:SAML:2.0:status:Requester",
        }
    }
}
