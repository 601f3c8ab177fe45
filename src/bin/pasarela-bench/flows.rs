//! The protocol steps the scenarios time: authorization, login, code exchange,
//! client_credentials, SAML requests.

use super::*;

pub(crate) fn authorize_path(client: &str, challenge: &str) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    q.append_pair("client_id", client);
    q.append_pair("response_type", "code");
    q.append_pair("scope", "openid profile");
    q.append_pair("redirect_uri", CB);
    q.append_pair("state", "bench");
    q.append_pair("nonce", "bench");
    q.append_pair("code_challenge", challenge);
    q.append_pair("code_challenge_method", "S256");
    format!("/oidc/authorize?{}", q.finish())
}

pub(crate) fn code_of(location: &str) -> Result<String> {
    let u = url::Url::parse(location)?;
    u.query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .with_context(|| format!("no code in {location}"))
}

/// A whole citizen login through the pages for `client`: authorize, password, SMS code,
/// back to the client with a code, exchanged for tokens. Returns the browser's cookies and
/// how many HTTP requests it took.
pub(crate) async fn login(ctx: &Ctx, c: &Citizen, client: &str) -> Result<(Jar, u32)> {
    let (http, base) = (&ctx.http, ctx.base.as_str());
    let mut j = Jar::default();
    let a = j
        .get(http, base, &authorize_path(client, &ctx.challenge))
        .await?;
    let to = expect(&a, 303, "/login?", "authorize")?;
    j.get(http, base, &to).await?;
    let seen = ctx.outbox.lock().await.count(&c.mobile)?;
    let a = j
        .post(
            http,
            base,
            "/login",
            &[("identifier", &c.id), ("password", PASSWORD)],
        )
        .await?;
    expect(&a, 303, "/login/code", "password")?;
    let code = code_after(&ctx.outbox, &c.mobile, seen).await?;
    let a = j
        .post(http, base, "/login/code", &[("code", &code)])
        .await?;
    let resume = expect(&a, 303, "/oidc/authorize/resume", "SMS code")?;
    let a = j.get(http, base, &resume).await?;
    let back = expect(&a, 303, CB, "resume")?;
    exchange(ctx, client, &code_of(&back)?).await?;
    Ok((j, 6))
}

pub(crate) async fn exchange(ctx: &Ctx, client: &str, code: &str) -> Result<()> {
    let res = ctx
        .http
        .post(format!("{}/oidc/token", ctx.base))
        .basic_auth(client, Some(&ctx.secrets[client]))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", CB),
            ("code_verifier", VERIFIER),
        ])
        .send()
        .await?;
    let status = res.status();
    let body: serde_json::Value = res.json().await?;
    if status != 200 || body["id_token"].as_str().is_none() {
        bail!("code exchange: {status} {body}");
    }
    Ok(())
}

pub(crate) async fn client_credentials(ctx: &Ctx) -> Result<String> {
    let res = ctx
        .http
        .post(format!("{}/oidc/token", ctx.base))
        .basic_auth("batch", Some(&ctx.secrets["batch"]))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await?;
    let status = res.status();
    let body: serde_json::Value = res.json().await?;
    match body["access_token"].as_str() {
        Some(t) if status == 200 => Ok(t.to_owned()),
        _ => bail!("client_credentials: {status} {body}"),
    }
}

/// A signed HTTP-Redirect AuthnRequest query from the benchmark SP.
pub(crate) fn saml_query(ctx: &Ctx) -> Result<String> {
    use pasarela::saml::{binding, xml};
    let id = format!("_{}", pasarela::core::random::digits(24)?);
    let text = format!(
        "<samlp:AuthnRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" \
         ID=\"{id}\" Version=\"2.0\" IssueInstant=\"{now}\" Destination=\"{issuer}/saml/sso\" AssertionConsumerServiceURL=\"{SP}/acs\" \
         ProtocolBinding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST\">\
         <saml:Issuer>{SP}</saml:Issuer>\
         <samlp:NameIDPolicy Format=\"urn:oasis:names:tc:SAML:2.0:nameid-format:persistent\" AllowCreate=\"true\"/>\
         <samlp:RequestedAuthnContext Comparison=\"minimum\"><saml:AuthnContextClassRef>http://eidas.europa.eu/LoA/substantial</saml:AuthnContextClassRef></samlp:RequestedAuthnContext>\
         </samlp:AuthnRequest>",
        now = xml::instant(chrono::Utc::now()),
        issuer = ctx.issuer,
    );
    Ok(binding::redirect_encode(
        "SAMLRequest",
        &text,
        None,
        &ctx.sp_key,
    )?)
}
