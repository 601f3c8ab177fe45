//! The seam with the citizen pages: codes got through the real login pages, and
//! `prompt=login` / `max_age` walking them again.

use super::*;

/// The seam between the OpenID Provider and the citizen pages: no planted session; the
/// citizen types the password and the SMS code on the real login pages, and the relying party
/// gets a code whose ID token tells what happened there.
#[tokio::test]
async fn oidc_code_flow_through_the_real_login_pages() {
    let op = Rp::start().await;
    let page =
        op.b.get(&authorize_path(
            "sede",
            &[
                ("state", "st"),
                ("nonce", "nn"),
                ("code_challenge", CHALLENGE),
                ("code_challenge_method", "S256"),
            ],
        ))
        .await;
    assert_eq!(page.status, 303);
    let login = page.location.unwrap();
    assert!(login.starts_with("/login?"), "{login}");
    assert_eq!(op.b.get(&login).await.status, 200);
    let p = op.b.type_password_and_code(&op.d, PASSWORD).await;
    assert_eq!(p.status, 303);
    let resume = p.location.unwrap();
    assert!(resume.starts_with("/oidc/authorize/resume"), "{resume}");
    let back = op.b.get(&resume).await;
    assert_eq!(back.status, 303);
    let q = query_of(&back.location.unwrap());
    assert_eq!((q["state"].as_str(), q["iss"].as_str()), ("st", ISSUER));
    let form = [
        ("grant_type", "authorization_code"),
        ("code", q["code"].as_str()),
        ("redirect_uri", CB),
        ("code_verifier", VERIFIER),
    ];
    let (status, body, _) = op.token("sede", Some(&op.secret), &form).await;
    assert_eq!(status, 200, "{body}");
    let claims = verify_id_token(&op, "sede", body["id_token"].as_str().unwrap(), Some("nn")).await;
    assert_eq!(claims["acr"], "http://eidas.europa.eu/LoA/substantial");
    assert_eq!(claims["amr"], serde_json::json!(["pwd", "sms", "mfa"]));
    let sessions = op
        .server
        .state
        .engine
        .sessions_of(op.citizen.id, &op.server.state.config.sessions)
        .await
        .unwrap();
    assert_eq!(claims["sid"], sessions[0].id.to_string());
    op.stop().await;
}

/// `oidcc-prompt-login` and `oidcc-max-age-1` walked in full: with a live session, `prompt=login`
/// and an exceeded `max_age` send the citizen through the login pages again (password and SMS
/// code), and the new ID token's `auth_time` is later; `max_age=10000` answers silently with the
/// same `auth_time`.
#[tokio::test]
async fn oidc_prompt_login_and_max_age_walk_the_login_pages_again() {
    let op = Rp::start().await;
    let first = through_the_login_pages(&op, &authorize_path("sede", &[("state", "a")])).await;
    assert_eq!(first["state"], "a");
    let t1 = claims_for(&op, &first).await;
    // auth_time has a one-second resolution.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let again = through_the_login_pages(
        &op,
        &authorize_path("sede", &[("state", "b"), ("prompt", "login")]),
    )
    .await;
    assert_eq!(again["state"], "b");
    let t2 = claims_for(&op, &again).await;
    assert_eq!(t2["sub"], t1["sub"]);
    assert!(
        t2["auth_time"].as_i64().unwrap() > t1["auth_time"].as_i64().unwrap(),
        "{t1} {t2}"
    );
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let old = through_the_login_pages(
        &op,
        &authorize_path("sede", &[("state", "c"), ("max_age", "1")]),
    )
    .await;
    let t3 = claims_for(&op, &old).await;
    assert!(t3["auth_time"].as_i64().unwrap() > t2["auth_time"].as_i64().unwrap());
    // A generous max_age needs no login: straight back with the same auth_time.
    let res = op
        .get(&authorize_path(
            "sede",
            &[("state", "d"), ("max_age", "10000")],
        ))
        .await;
    assert_eq!(res.status(), 303);
    let q = query_of(&location(&res));
    assert_eq!(q["state"], "d");
    let t4 = claims_for(&op, &q).await;
    assert_eq!(t4["auth_time"], t3["auth_time"]);
    op.stop().await;
}
