//! Discovery metadata and the JWKS.

use super::*;

#[tokio::test]
async fn oidc_discovery_and_jwks() {
    let op = Rp::start().await;
    let res = op.get("/.well-known/openid-configuration").await;
    assert_eq!(res.status(), 200);
    let meta: Value = res.json().await.unwrap();
    assert_eq!(meta["issuer"], ISSUER);
    assert_eq!(meta["token_endpoint"], format!("{ISSUER}/oidc/token"));
    assert_eq!(meta["jwks_uri"], format!("{ISSUER}/oidc/jwks"));
    assert_eq!(meta["authorization_response_iss_parameter_supported"], true);
    assert_eq!(
        meta["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    let acr = meta["acr_values_supported"].as_array().unwrap();
    assert_eq!(acr.len(), 3);
    // The crate's own metadata type reads it.
    let _: openidconnect::core::CoreProviderMetadata = serde_json::from_value(meta).unwrap();
    let res = op.get("/oidc/jwks").await;
    assert!(
        res.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("max-age")
    );
    let jwks: Value = res.json().await.unwrap();
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert!(kids.len() >= 2);
    let mut unique = kids.clone();
    unique.dedup();
    assert_eq!(unique.len(), kids.len());
    op.stop().await;
}
