//! Consents given by citizens on the OIDC consent page: per (citizen, client), the scopes
//! consented to so far. A request for the same or a smaller set needs no new consent; a
//! larger one asks again, and the answer is recorded as the union.

use crate::core::citizen::CitizenId;
use chrono::{DateTime, Utc};

/// A citizen's consent to one client, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consent {
    /// The citizen.
    pub citizen_id: CitizenId,
    /// The client.
    pub client_id: String,
    /// The scopes consented to, space separated.
    pub scope: String,
    /// When it was last given (or widened).
    pub granted_at: DateTime<Utc>,
}

impl Consent {
    /// Whether every scope of `asked` (space separated) was consented to.
    pub fn covers(&self, asked: &str) -> bool {
        words(asked).all(|s| words(&self.scope).any(|c| c == s))
    }

    /// The consented scopes widened with `asked`, in the order first seen, without duplicates.
    pub fn union(&self, asked: &str) -> String {
        union(&self.scope, asked)
    }
}

/// `a` and then the scopes of `b` not in `a`, space separated.
pub fn union(a: &str, b: &str) -> String {
    let mut all: Vec<&str> = Vec::new();
    for s in words(a).chain(words(b)) {
        if !all.contains(&s) {
            all.push(s);
        }
    }
    all.join(" ")
}

fn words(s: &str) -> impl Iterator<Item = &str> {
    s.split(' ').filter(|w| !w.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn consent(scope: &str) -> Consent {
        Consent {
            citizen_id: CitizenId::new(),
            client_id: "c".into(),
            scope: scope.into(),
            granted_at: Utc::now(),
        }
    }

    #[test]
    fn the_same_or_a_smaller_set_is_covered_a_larger_one_is_not() {
        let c = consent("openid profile email");
        assert!(c.covers("openid profile email"));
        assert!(c.covers("email openid"));
        assert!(c.covers("openid"));
        assert!(!c.covers("openid phone"));
        assert!(!c.covers("openid profile email offline_access"));
    }

    #[test]
    fn the_union_keeps_order_and_drops_duplicates() {
        let c = consent("openid profile");
        assert_eq!(c.union("openid email profile"), "openid profile email");
        assert_eq!(c.union(""), "openid profile");
        assert_eq!(union("", "openid  phone"), "openid phone");
        assert!(consent(&c.union("openid phone")).covers("openid profile phone"));
    }
}
