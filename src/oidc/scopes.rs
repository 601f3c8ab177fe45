//! Scopes and the claims each one releases, from the citizen's record.
//!
//! Besides the standard scopes, `identifier` releases the citizen's national identifier as
//! the claim `identifier`: `{"type": "dni" | "nie" | "cuil" | "passport", "value": "…"}`.
//! `profile` releases it too, since public services need it to find their own records.

use crate::core::citizen::Citizen;
use serde_json::{Map, Value, json};

/// Scopes listed in discovery.
pub const SCOPES_SUPPORTED: &[&str] = &[
    "openid",
    "profile",
    "email",
    "phone",
    "address",
    "identifier",
    "offline_access",
];

/// Claims listed in discovery.
pub const CLAIMS_SUPPORTED: &[&str] = &[
    "sub",
    "iss",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "acr",
    "amr",
    "azp",
    "sid",
    "at_hash",
    "name",
    "given_name",
    "family_name",
    "birthdate",
    "updated_at",
    "email",
    "email_verified",
    "phone_number",
    "phone_number_verified",
    "address",
    "identifier",
];

/// The supported scopes of a requested `scope` string, in a canonical order (unknown scopes
/// are dropped, duplicates removed).
pub fn granted(requested: &str) -> Vec<&'static str> {
    let asked: Vec<&str> = requested.split(' ').filter(|s| !s.is_empty()).collect();
    SCOPES_SUPPORTED
        .iter()
        .copied()
        .filter(|s| asked.contains(s))
        .collect()
}

/// The userinfo claims `scope` releases about `citizen`, with `sub`.
pub fn userinfo_claims(citizen: &Citizen, sub: &str, scope: &str) -> Map<String, Value> {
    let scopes = granted(scope);
    let has = |s: &str| scopes.contains(&s);
    let mut claims = Map::new();
    claims.insert("sub".into(), sub.into());
    if has("profile") {
        claims.insert(
            "name".into(),
            format!("{} {}", citizen.given_name, citizen.family_names).into(),
        );
        claims.insert("given_name".into(), citizen.given_name.clone().into());
        claims.insert("family_name".into(), citizen.family_names.clone().into());
        claims.insert(
            "birthdate".into(),
            citizen.birth_date.format("%Y-%m-%d").to_string().into(),
        );
        claims.insert("updated_at".into(), citizen.updated_at.timestamp().into());
    }
    if has("profile") || has("identifier") {
        claims.insert(
            "identifier".into(),
            json!({
                "type": citizen.identifier.kind().as_str(),
                "value": citizen.identifier.number(),
            }),
        );
    }
    if has("email") && !citizen.email.is_empty() {
        claims.insert("email".into(), citizen.email.clone().into());
        // Recorded by the registry office, not proved by a link the citizen followed.
        claims.insert("email_verified".into(), false.into());
    }
    if has("phone") && !citizen.mobile.is_empty() {
        claims.insert("phone_number".into(), citizen.mobile.clone().into());
        // The mobile receives the login codes, so it is proved at every SMS login.
        claims.insert("phone_number_verified".into(), true.into());
    }
    if has("address") {
        let a = &citizen.address;
        let formatted = [
            &a.street,
            &a.postal_code,
            &a.locality,
            &a.region,
            &a.country,
        ]
        .iter()
        .filter(|s| !s.is_empty())
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(", ");
        claims.insert(
            "address".into(),
            json!({
                "formatted": formatted,
                "street_address": a.street,
                "locality": a.locality,
                "region": a.region,
                "postal_code": a.postal_code,
                "country": a.country,
            }),
        );
    }
    claims
}

/// The claims named in a `claims` request (OIDC Core §5.5) that the citizen's record holds,
/// whatever the scope; names that are not claims of ours are ignored.
pub fn named_claims(citizen: &Citizen, names: &[String]) -> Map<String, Value> {
    let mut all = userinfo_claims(citizen, "", "openid profile email phone address identifier");
    all.remove("sub");
    all.retain(|k, _| names.iter().any(|n| n == k));
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_scope_releases_its_claims_and_no_more() {
        let now = chrono::DateTime::from_timestamp(1_767_225_600, 0).unwrap();
        let mut new = crate::core::testing::lucia();
        new.address.street = "Calle Mayor 1".into();
        new.address.locality = "A Coruña".into();
        new.address.postal_code = "15001".into();
        let citizen = new.validate("ES", now).unwrap();
        let only = userinfo_claims(&citizen, "s-1", "openid");
        assert_eq!(only.len(), 1);
        assert_eq!(only["sub"], "s-1");
        let all = userinfo_claims(&citizen, "s-1", "openid profile email phone address");
        assert_eq!(all["family_name"], "García Pérez");
        assert_eq!(all["birthdate"], "1980-02-29");
        assert_eq!(all["updated_at"], 1_767_225_600);
        assert_eq!(all["email_verified"], false);
        assert_eq!(all["phone_number"], "+34600111222");
        assert_eq!(all["address"]["locality"], "A Coruña");
        assert!(
            all["address"]["formatted"]
                .as_str()
                .unwrap()
                .starts_with("Calle Mayor 1, 15001, A Coruña")
        );
        assert_eq!(
            all["identifier"],
            json!({ "type": "dni", "value": "12345678Z" })
        );
        let id_only = userinfo_claims(&citizen, "s-1", "openid identifier");
        assert_eq!(id_only.len(), 2);
        assert!(id_only.contains_key("identifier"));
    }

    #[test]
    fn named_claims_release_exactly_what_is_named() {
        let now = chrono::DateTime::from_timestamp(1_767_225_600, 0).unwrap();
        let citizen = crate::core::testing::lucia().validate("ES", now).unwrap();
        let names: Vec<String> = ["email", "name", "sub", "acr", "bogus"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let got = named_claims(&citizen, &names);
        let mut keys: Vec<&str> = got.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, vec!["email", "name"]);
        assert_eq!(got["email"], citizen.email.as_str());
        assert!(named_claims(&citizen, &[]).is_empty());
    }

    #[test]
    fn unknown_and_repeated_scopes_are_dropped() {
        assert_eq!(
            granted("email openid  bogus email"),
            vec!["openid", "email"]
        );
        assert!(granted("").is_empty());
    }
}
