//! What the OpenID Provider issues and redeems: authorization codes (ephemeral, single use,
//! stored under their hash) and access and refresh tokens (durable, stored hashed, grouped
//! in a grant so that a replayed code or a reused refresh token revokes the family). Every
//! issue, exchange, refresh and revocation is audited, never with a code or token value.

use super::client::OidcClient;
use super::error::TokenError;
use super::id_token;
use super::request::AuthzRequest;
use crate::core::CoreError;
use crate::core::citizen::CitizenId;
use crate::core::engine::{Actor, Engine};
use crate::core::session::SsoSession;
use crate::store::Consumed;
use crate::store::oidc_tokens::{GrantFacts, TokenKind, TokenRecord};
use crate::web::AppState;
use chrono::Duration;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// Prefix of codes in the ephemeral store.
const CODE: &str = "oidc:code:";
/// Random bytes in codes and tokens (256 bits).
const TOKEN_BYTES: usize = 32;

/// What an authorization code stands for.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CodeGrant {
    /// The client it was issued to.
    pub client_id: String,
    /// The redirect URI of the request.
    pub redirect_uri: String,
    /// Whether the request named it: then the token request must repeat it (RFC 6749
    /// §4.1.3); otherwise it may leave it out, but not give another one.
    #[serde(default)]
    pub redirect_uri_sent: bool,
    /// Whose authentication it carries.
    pub citizen_id: CitizenId,
    /// The authentication facts.
    pub facts: GrantFacts,
    /// The request's nonce.
    pub nonce: Option<String>,
    /// PKCE S256 challenge.
    pub code_challenge: Option<String>,
}

/// SHA-256 (hex) of a code or token, as stored.
pub fn hash(value: &str) -> String {
    hex::encode(openssl::sha::sha256(value.as_bytes()))
}

/// The grant (token family) id of a code: derived from the code, so that a replayed code
/// names its family even after the code itself is gone.
fn grant_id(code: &str) -> String {
    hash(&format!("grant:{code}"))
}

fn system() -> Actor {
    Actor::system()
}

/// The enabled OIDC client with this id.
pub async fn client(state: &AppState, id: &str) -> Result<Option<OidcClient>, CoreError> {
    client_of(&state.engine, id).await
}

/// [`client`], for callers that hold the engine but not the web state (the session-end
/// notifier).
pub async fn client_of(engine: &Engine, id: &str) -> Result<Option<OidcClient>, CoreError> {
    let Some(rp) = engine.store.relying_party(id).await? else {
        return Ok(None);
    };
    if !rp.enabled {
        return Ok(None);
    }
    OidcClient::from_relying_party(rp)
}

/// Issues a code for `req` answered from `session`, and records the client in the session.
pub async fn issue_code(
    state: &AppState,
    client: &OidcClient,
    req: &AuthzRequest,
    session: &SsoSession,
) -> Result<String, CoreError> {
    let code = crate::core::random::token(TOKEN_BYTES)?;
    let grant = CodeGrant {
        client_id: client.id().to_owned(),
        redirect_uri: req.reply.redirect_uri.clone(),
        redirect_uri_sent: req.reply.redirect_uri_sent,
        citizen_id: session.citizen_id,
        facts: GrantFacts {
            session_id: session.id.clone(),
            scope: req.scope.clone(),
            auth_time: session.auth_time,
            level: session.level,
            amr: session.amr().iter().map(|a| (*a).to_owned()).collect(),
            claims: req.claims.clone(),
        },
        nonce: req.nonce.clone(),
        code_challenge: req.code_challenge.clone(),
    };
    let bytes = serde_json::to_vec(&grant)
        .map_err(|e| CoreError::Unavailable(format!("code grant: {e}")))?;
    state
        .engine
        .ephemeral
        .put(
            &format!("{CODE}{}", hash(&code)),
            &bytes,
            state.config.oidc.code_ttl(),
        )
        .await?;
    state
        .engine
        .record_relying_party(&session.id, client.id(), "oidc")
        .await?;
    let event = state
        .engine
        .event(&system(), "oidc.code.issued")
        .citizen(session.citizen_id)
        .detail(json!({ "client": client.id(), "session": session.id.as_str() }));
    state.engine.audit(event).await?;
    Ok(code)
}

/// An access token issued at the authorization endpoint (`id_token token`, `code token`,
/// `code id_token token`): durable and hashed like those of the token endpoint, in the code's
/// family when a code comes with it (a replayed code revokes it too), never with a refresh
/// token. Returns the token and its lifetime in seconds.
pub async fn issue_front_access_token(
    state: &AppState,
    client: &OidcClient,
    req: &AuthzRequest,
    session: &SsoSession,
    code: Option<&str>,
) -> Result<(String, i64), CoreError> {
    let now = state.engine.clock.now();
    let ttl = state.config.oidc.access_token_ttl();
    let access = crate::core::random::token(TOKEN_BYTES)?;
    let grant = match code {
        Some(c) => grant_id(c),
        None => hash(&format!(
            "front:{}",
            crate::core::random::token(TOKEN_BYTES)?
        )),
    };
    let record = TokenRecord {
        token_hash: hash(&access),
        kind: TokenKind::Access,
        grant_id: grant,
        client_id: client.id().to_owned(),
        citizen_id: session.citizen_id,
        facts: GrantFacts {
            session_id: session.id.clone(),
            scope: req.scope.clone(),
            auth_time: session.auth_time,
            level: session.level,
            amr: session.amr().iter().map(|a| (*a).to_owned()).collect(),
            claims: req.claims.clone(),
        },
        issued_at: now,
        expires_at: now + ttl,
        used_at: None,
        revoked_at: None,
    };
    state.engine.store.insert_token(&record).await?;
    state
        .engine
        .record_relying_party(&session.id, client.id(), "oidc")
        .await?;
    let event = state
        .engine
        .event(&system(), "oidc.access_token.issued")
        .citizen(session.citizen_id)
        .detail(json!({
            "client": client.id(),
            "session": session.id.as_str(),
            "response_type": req.response_type.as_str(),
        }));
    state.engine.audit(event).await?;
    Ok((access, ttl.num_seconds()))
}

/// Tokens issued at the token endpoint.
#[derive(Debug, Serialize)]
pub struct Issued {
    /// The access token.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds the access token lives.
    pub expires_in: i64,
    /// The signed ID token.
    pub id_token: String,
    /// A refresh token, when the client may refresh.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// The granted scope.
    pub scope: String,
}

async fn revoke(state: &AppState, grant: &str, citizen: Option<CitizenId>, why: &str) {
    let now = state.engine.clock.now();
    let revoked = state.engine.store.revoke_grant(grant, now).await;
    let mut event = state
        .engine
        .event(&system(), "oidc.grant.revoked")
        .detail(json!({ "reason": why, "tokens": revoked.as_ref().ok() }));
    if let Some(c) = citizen {
        event = event.citizen(c);
    }
    if let Err(e) = state.engine.audit(event).await {
        tracing::error!(error = %e, "could not audit a grant revocation");
    }
}

fn pkce_ok(challenge: &str, verifier: &str) -> bool {
    let digest = openssl::sha::sha256(verifier.as_bytes());
    let computed =
        base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, digest);
    bool::from(subtle::ConstantTimeEq::ct_eq(
        computed.as_bytes(),
        challenge.as_bytes(),
    ))
}

/// The `authorization_code` grant.
pub async fn exchange_code(
    state: &AppState,
    client: &OidcClient,
    code: &str,
    redirect_uri: Option<&str>,
    verifier: Option<&str>,
) -> Result<Issued, TokenError> {
    let grant = match state
        .engine
        .ephemeral
        .consume(&format!("{CODE}{}", hash(code)))
        .await?
    {
        Consumed::Value(bytes) => serde_json::from_slice::<CodeGrant>(&bytes)
            .map_err(|e| TokenError::server(format!("code grant: {e}")))?,
        Consumed::AlreadyConsumed => {
            revoke(state, &grant_id(code), None, "authorization code reused").await;
            return Err(TokenError::invalid_grant("the code was already used"));
        }
        Consumed::Missing => {
            return Err(TokenError::invalid_grant("unknown or expired code"));
        }
    };
    if grant.client_id != client.id() {
        return Err(TokenError::invalid_grant(
            "the code was issued to another client",
        ));
    }
    let redirect_ok = match redirect_uri {
        Some(uri) => uri == grant.redirect_uri,
        None => !grant.redirect_uri_sent,
    };
    if !redirect_ok {
        return Err(TokenError::invalid_grant("redirect_uri does not match"));
    }
    match (&grant.code_challenge, verifier) {
        (Some(c), Some(v)) if pkce_ok(c, v) => {}
        (Some(_), _) => return Err(TokenError::invalid_grant("PKCE verification failed")),
        (None, Some(_)) => return Err(TokenError::invalid_grant("no PKCE challenge was sent")),
        (None, None) => {}
    }
    let session = state.engine.store.session(&grant.facts.session_id).await?;
    if session.is_none_or(|s| s.ended_at.is_some()) {
        return Err(TokenError::invalid_grant("the session has ended"));
    }
    let family = Family {
        grant: &grant_id(code),
        citizen: grant.citizen_id,
        facts: &grant.facts,
        refresh_facts: &grant.facts,
        nonce: grant.nonce.as_deref(),
        ends: None,
    };
    let issued = issue_tokens(state, client, &family).await?;
    audit(state, "oidc.code.exchanged", client, grant.citizen_id).await?;
    Ok(issued)
}

/// The `refresh_token` grant, with rotation. A refresh token presented a second time revokes
/// its whole family.
pub async fn refresh(
    state: &AppState,
    client: &OidcClient,
    token: &str,
    scope: Option<&str>,
) -> Result<Issued, TokenError> {
    let now = state.engine.clock.now();
    let h = hash(token);
    let record = state.engine.store.token(&h).await?;
    let Some(record) = record.filter(|r| r.kind == TokenKind::Refresh) else {
        return Err(TokenError::invalid_grant("unknown refresh token"));
    };
    if record.client_id != client.id() {
        return Err(TokenError::invalid_grant(
            "the refresh token was issued to another client",
        ));
    }
    if !record.is_live(now) {
        return Err(TokenError::invalid_grant(
            "the refresh token is no longer valid",
        ));
    }
    // Ending a session revokes its tokens; this check also refuses a token the revocation
    // missed (a notifier that failed). Only an ended session counts: an idle or expired one
    // does not end its grants, and a purged one (past `keep_ended_days`) was revoked when it
    // ended, if it ended.
    let session = state.engine.store.session(&record.facts.session_id).await?;
    if session.is_some_and(|s| s.ended_at.is_some()) {
        return Err(TokenError::invalid_grant(
            "the session the refresh token was issued in has ended",
        ));
    }
    if record.used_at.is_some() || !state.engine.store.use_refresh_token(&h, now).await? {
        revoke(
            state,
            &record.grant_id,
            Some(record.citizen_id),
            "refresh token reused",
        )
        .await;
        return Err(TokenError::invalid_grant(
            "the refresh token was already used",
        ));
    }
    let mut facts = record.facts.clone();
    if let Some(asked) = scope {
        let held: Vec<&str> = facts.scope.split(' ').collect();
        let narrowed = super::scopes::granted(asked);
        if narrowed.iter().any(|s| !held.contains(s)) {
            return Err(TokenError::bad("invalid_scope", "scope exceeds the grant"));
        }
        facts.scope = narrowed.join(" ");
    }
    let family = Family {
        grant: &record.grant_id,
        citizen: record.citizen_id,
        facts: &facts,
        refresh_facts: &record.facts,
        nonce: None,
        ends: Some(record.expires_at),
    };
    let issued = issue_tokens(state, client, &family).await?;
    audit(state, "oidc.token.refreshed", client, record.citizen_id).await?;
    Ok(issued)
}

async fn audit(
    state: &AppState,
    kind: &str,
    client: &OidcClient,
    citizen: CitizenId,
) -> Result<(), CoreError> {
    let event = state
        .engine
        .event(&system(), kind)
        .citizen(citizen)
        .detail(json!({ "client": client.id() }));
    state.engine.audit(event).await.map(|_| ())
}

/// What the tokens about to be issued belong to.
struct Family<'a> {
    /// The grant id.
    grant: &'a str,
    /// Whose tokens.
    citizen: CitizenId,
    /// What the access and ID tokens assert.
    facts: &'a GrantFacts,
    /// What the refresh token keeps (the whole grant's scope).
    refresh_facts: &'a GrantFacts,
    /// The request's nonce (first issue only).
    nonce: Option<&'a str>,
    /// When the refresh family ends (after a rotation).
    ends: Option<chrono::DateTime<chrono::Utc>>,
}

async fn issue_tokens(
    state: &AppState,
    client: &OidcClient,
    family: &Family<'_>,
) -> Result<Issued, TokenError> {
    let Family {
        grant,
        citizen,
        facts,
        refresh_facts,
        nonce,
        ends: family_ends,
    } = *family;
    let now = state.engine.clock.now();
    let cfg = &state.config.oidc;
    let access = crate::core::random::token(TOKEN_BYTES).map_err(TokenError::server)?;
    let record = |kind, token: &str, ttl: Duration| TokenRecord {
        token_hash: hash(token),
        kind,
        grant_id: grant.to_owned(),
        client_id: client.id().to_owned(),
        citizen_id: citizen,
        facts: facts.clone(),
        issued_at: now,
        expires_at: now + ttl,
        used_at: None,
        revoked_at: None,
    };
    state
        .engine
        .store
        .insert_token(&record(TokenKind::Access, &access, cfg.access_token_ttl()))
        .await?;
    let refresh = if client.allows_grant(super::client::GrantType::RefreshToken) {
        let token = crate::core::random::token(TOKEN_BYTES).map_err(TokenError::server)?;
        // A rotated refresh token ends when its family does, counted from the authorization.
        // It keeps the whole grant's scope even when this refresh asked for less (RFC 6749
        // §6: a narrower scope applies to the new access token only).
        let mut r = record(TokenKind::Refresh, &token, cfg.refresh_ttl());
        r.facts = refresh_facts.clone();
        if let Some(end) = family_ends {
            r.expires_at = end;
        }
        state.engine.store.insert_token(&r).await?;
        Some(token)
    } else {
        None
    };
    let acr = state
        .engine
        .vocabulary
        .acr(facts.level)
        .unwrap_or(facts.level.as_str())
        .to_owned();
    let subject =
        super::subject::for_client(&state.engine, client, citizen).map_err(TokenError::server)?;
    let mut claims = id_token::claims(&id_token::IdTokenInput {
        issuer: &state.issuer,
        client_id: client.id(),
        subject: &subject,
        facts,
        acr: &acr,
        nonce,
        access_token: Some(&access),
        code: None,
        now,
        ttl: cfg.id_token_ttl(),
    })?;
    if !facts.claims.id_token.is_empty() {
        // Claims the `claims` parameter asked for in the ID token (OIDC Core §5.5).
        let record = state
            .engine
            .store
            .citizen(citizen)
            .await?
            .ok_or_else(|| TokenError::invalid_grant("the citizen is no longer known"))?;
        id_token::add_claims(
            &mut claims,
            super::scopes::named_claims(&record, &facts.claims.id_token),
        );
    }
    let id_token = id_token::sign(
        &state.keys,
        client.settings.id_token_signed_response_alg,
        &claims,
    )?;
    Ok(Issued {
        access_token: access,
        token_type: "Bearer",
        expires_in: cfg.access_token_ttl().num_seconds(),
        id_token,
        refresh_token: refresh,
        scope: facts.scope.clone(),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn pkce_s256_matches_the_rfc_example() {
        // Computed independently (Python hashlib).
        assert!(super::pkce_ok(
            "jeKapnPfiU_wqJ_BaE7ygYSi_Jdlp6EJ8EvSCzMc5e4",
            "dBjftJeZ4CVP-mB0Y3bJbBZyY1mLyK4Zm4ggXvebHzA"
        ));
        assert!(!super::pkce_ok(
            "jeKapnPfiU_wqJ_BaE7ygYSi_Jdlp6EJ8EvSCzMc5e4",
            "dBjftJeZ4CVP-mB0Y3bJbBZyY1mLyK4Zm4ggXvebHzB"
        ));
    }
}
