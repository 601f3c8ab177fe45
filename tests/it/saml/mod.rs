//! The SAML 2.0 IdP against the running server, one file per feature, all on the test SP of
//! the harness ([`Sp`]): metadata, SSO over both bindings with crafted AuthnRequests signed by
//! a test SP key, and refused fixtures each paired with an accepted one that differs only by
//! the defect. Signatures of answers are checked with Debian's
//! `xmlsec1` when it is installed.

use crate::harness::*;
use base64::Engine as _;
use pasarela::core::engine::Actor;
use pasarela::core::keys::{JwsAlg, KeyRing};
use pasarela::core::level::{AuthMethod, LevelOfAssurance};
use pasarela::saml::{binding, xml};
use std::sync::Arc;

mod clave;
mod encryption;
mod levels;
mod refusals;
mod registration;
mod slo;
mod sso;
