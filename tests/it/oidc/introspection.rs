//! `client_credentials`, token introspection and revocation.

use super::*;

async fn introspect(op: &Rp, basic: (&str, &str), token: &str) -> Value {
    let (status, body, headers) =
        post_form(op, "/oidc/introspect", Some(basic), &[("token", token)]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(headers["cache-control"], "no-store");
    serde_json::from_str(&body).unwrap()
}

#[tokio::test]
async fn oidc_client_credentials_introspection_and_revocation() {
    use pasarela::oidc::client::{ClientAuthMethod, GrantType, NewClient};
    let op = Rp::start().await;
    let batch_secret = op
        .register(NewClient {
            id: "batch".into(),
            grant_types: vec![GrantType::ClientCredentials],
            auth_method: ClientAuthMethod::ClientSecretBasic,
            service_scopes: vec!["registry.read".into(), "registry.write".into()],
            ..Default::default()
        })
        .await;
    let batch = ("batch", batch_secret.as_deref().unwrap());
    let sede = ("sede", op.secret.as_str());

    // client_credentials: scope limited to the registered service scopes, never openid.
    let (status, svc, headers) = op
        .token(
            batch.0,
            Some(batch.1),
            &[
                ("grant_type", "client_credentials"),
                ("scope", "registry.read"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{svc}");
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(svc["token_type"], "Bearer");
    assert_eq!(svc["scope"], "registry.read");
    assert!(svc["expires_in"].as_i64().unwrap() > 0);
    assert!(svc.get("refresh_token").is_none() && svc.get("id_token").is_none());
    let svc_token = svc["access_token"].as_str().unwrap().to_owned();
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(&svc_token)
        .unwrap();
    assert!(raw.len() >= 32, "at least 256 bits");
    for bad in ["openid", "registry.delete", "registry.read openid"] {
        let (status, body, _) = op
            .token(
                batch.0,
                Some(batch.1),
                &[("grant_type", "client_credentials"), ("scope", bad)],
            )
            .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_scope")),
            "{bad}"
        );
    }
    let (status, all, _) = op
        .token(
            batch.0,
            Some(batch.1),
            &[("grant_type", "client_credentials")],
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(all["scope"], "registry.read registry.write");
    // A client not registered for the grant.
    let (status, body, _) = op
        .token(
            "sede",
            Some(&op.secret),
            &[("grant_type", "client_credentials")],
        )
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("unauthorized_client"))
    );
    // A service token is no citizen's token: userinfo refuses it.
    let res = op.userinfo(&svc_token).await;
    assert_eq!(res.status(), 401);

    // Introspection of the service token: by its client only.
    let v = introspect(&op, batch, &svc_token).await;
    assert_eq!(v["active"], true);
    assert_eq!(v["client_id"], "batch");
    assert_eq!(v["scope"], "registry.read");
    assert_eq!(v["iss"], ISSUER);
    assert_eq!(v["token_type"], "Bearer");
    assert!(v.get("sub").is_none(), "no citizen behind a service token");
    assert!(v["exp"].as_i64().unwrap() > v["iat"].as_i64().unwrap());
    assert_eq!(
        introspect(&op, sede, &svc_token).await,
        serde_json::json!({"active": false})
    );

    // A citizen's tokens.
    let session = op.sign_in(LevelOfAssurance::Substantial).await;
    let code = code_for(&op, "sede", &[]).await;
    let issued = exchange(&op, &code).await;
    let access = issued["access_token"].as_str().unwrap().to_owned();
    let refresh = issued["refresh_token"].as_str().unwrap().to_owned();
    let id_claims = verify_id_token(&op, "sede", issued["id_token"].as_str().unwrap(), None).await;
    let v = introspect(&op, sede, &access).await;
    assert_eq!(v["active"], true, "{v}");
    assert_eq!(v["sub"], id_claims["sub"]);
    assert_eq!(v["client_id"], "sede");
    assert_eq!(v["aud"], "sede");
    assert_eq!(v["token_type"], "Bearer");
    assert_eq!(v["acr"], "http://eidas.europa.eu/LoA/substantial");
    assert_eq!(v["auth_time"], session.auth_time.timestamp());
    assert_eq!(v["scope"], issued["scope"]);
    // The hint is a hint only.
    let (_, body, _) = post_form(
        &op,
        "/oidc/introspect",
        Some(sede),
        &[
            ("token", refresh.as_str()),
            ("token_type_hint", "access_token"),
        ],
    )
    .await;
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["active"], true);
    assert_eq!(v["token_type"], "refresh_token");
    // Another client learns nothing; unknown values are inactive; public clients may not
    // introspect; a bad secret is invalid_client.
    assert_eq!(
        introspect(&op, batch, &access).await,
        serde_json::json!({"active": false})
    );
    assert_eq!(
        introspect(&op, sede, "nope").await,
        serde_json::json!({"active": false})
    );
    let (status, body, _) = post_form(
        &op,
        "/oidc/introspect",
        None,
        &[("client_id", "app"), ("token", access.as_str())],
    )
    .await;
    assert_eq!(status, 401, "{body}");
    let (status, body, headers) = post_form(
        &op,
        "/oidc/introspect",
        Some(("sede", "wrong")),
        &[("token", access.as_str())],
    )
    .await;
    assert_eq!(status, 401);
    assert!(body.contains("invalid_client"));
    assert!(headers.contains_key("www-authenticate"));
    let (status, body, _) = post_form(&op, "/oidc/introspect", Some(sede), &[]).await;
    assert_eq!(status, 400);
    assert!(body.contains("invalid_request"));

    // Revocation: another client's token is left alone (200 without effect).
    let (status, _, headers) = post_form(
        &op,
        "/oidc/revoke",
        Some(batch),
        &[("token", refresh.as_str())],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(introspect(&op, sede, &refresh).await["active"], true);
    // Unknown tokens: 200.
    let (status, _, _) = post_form(&op, "/oidc/revoke", Some(sede), &[("token", "nope")]).await;
    assert_eq!(status, 200);
    // The refresh token revokes its family: the access token too.
    let (status, _, _) = post_form(
        &op,
        "/oidc/revoke",
        Some(sede),
        &[("token", refresh.as_str()), ("token_type_hint", "whatever")],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        introspect(&op, sede, &refresh).await,
        serde_json::json!({"active": false})
    );
    assert_eq!(
        introspect(&op, sede, &access).await,
        serde_json::json!({"active": false})
    );
    let (status, body, _) = op.refresh(refresh.as_str()).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    // A service token revokes just itself; the other one stays active.
    let (status, _, _) = post_form(
        &op,
        "/oidc/revoke",
        Some(sede),
        &[("token", svc_token.as_str())],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(introspect(&op, batch, &svc_token).await["active"], true);
    let (status, _, _) = post_form(
        &op,
        "/oidc/revoke",
        Some(batch),
        &[("token", svc_token.as_str())],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        introspect(&op, batch, &svc_token).await,
        serde_json::json!({"active": false})
    );
    let other = all["access_token"].as_str().unwrap();
    assert_eq!(introspect(&op, batch, other).await["active"], true);
    // A public client revokes with its client_id alone.
    let (status, _, _) = post_form(
        &op,
        "/oidc/revoke",
        None,
        &[("client_id", "app"), ("token", "nope")],
    )
    .await;
    assert_eq!(status, 200);
    let (status, body, _) = post_form(
        &op,
        "/oidc/revoke",
        None,
        &[("client_id", "ghost"), ("token", "nope")],
    )
    .await;
    assert_eq!(status, 401, "{body}");
    op.stop().await;
}
