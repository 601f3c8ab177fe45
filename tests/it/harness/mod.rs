//! The one test harness of the integration binary:
//!
//! - [`deployment`]: a throwaway deployment from a config delta, the command line run against
//!   it, the real server started from it with Lucía seeded ([`Live`]);
//! - [`browser`]: the citizen's cookie-keeping browser and the real login pages;
//! - [`rp`]: the test relying party (authorize URL, code, token exchange, ID token check);
//! - [`sp`]: the test SAML SP (signed AuthnRequests over both bindings, the Response checked).

pub mod browser;
pub mod deployment;
pub mod rp;
pub mod sp;

pub use browser::*;
pub use deployment::*;
pub use rp::*;
pub use sp::*;

use std::collections::HashMap;

/// The query parameters of `url` (absolute), in order.
pub fn query_pairs(url: &str) -> Vec<(String, String)> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// The query parameters of `url` (absolute) by name.
pub fn query_of(url: &str) -> HashMap<String, String> {
    query_pairs(url).into_iter().collect()
}
