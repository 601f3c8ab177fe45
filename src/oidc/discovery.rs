//! Discovery (`/.well-known/openid-configuration`) and the JWKS, built with the
//! `openidconnect` crate's provider-metadata type so that field names and shapes are the
//! spec's. Discovery lists exactly what this release implements.

use super::client::ClientAuthMethod;
use super::scopes::{CLAIMS_SUPPORTED, SCOPES_SUPPORTED};
use crate::core::keys::JwsAlg;
use crate::web::AppState;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use openidconnect::core::{
    CoreAuthDisplay, CoreClaimName, CoreClaimType, CoreClientAuthMethod, CoreGrantType,
    CoreJsonWebKey, CoreJweContentEncryptionAlgorithm, CoreJweKeyManagementAlgorithm,
    CoreJwsSigningAlgorithm, CoreResponseMode, CoreResponseType, CoreSubjectIdentifierType,
};
use openidconnect::{
    AdditionalProviderMetadata, AuthUrl, IssuerUrl, JsonWebKeySetUrl, ProviderMetadata,
    ResponseTypes, Scope, TokenUrl, UserInfoUrl,
};
use serde::{Deserialize, Serialize};

/// Metadata the crate's core type has no field for.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExtraMetadata {
    /// RP-initiated logout endpoint.
    pub end_session_endpoint: String,
    /// RFC 9207: every authorization response carries `iss`.
    pub authorization_response_iss_parameter_supported: bool,
    /// PKCE methods (S256 only; `plain` is refused).
    pub code_challenge_methods_supported: Vec<String>,
    /// Back-channel logout is sent to clients that registered a URI.
    pub backchannel_logout_supported: bool,
    /// Logout tokens carry `sid`.
    pub backchannel_logout_session_supported: bool,
    /// Front-channel logout frames on the page that ends a session.
    pub frontchannel_logout_supported: bool,
    /// The frames carry `iss` and `sid`.
    pub frontchannel_logout_session_supported: bool,
    /// RFC 7662 token introspection.
    pub introspection_endpoint: String,
    /// How clients authenticate there (every method but `none`).
    pub introspection_endpoint_auth_methods_supported: Vec<String>,
    /// RFC 7009 token revocation.
    pub revocation_endpoint: String,
    /// How clients authenticate there.
    pub revocation_endpoint_auth_methods_supported: Vec<String>,
    /// RFC 9126 pushed authorization requests.
    pub pushed_authorization_request_endpoint: String,
    /// Pushing is optional: plain authorization requests are still accepted.
    pub require_pushed_authorization_requests: bool,
}

impl AdditionalProviderMetadata for ExtraMetadata {}

/// Provider metadata with [`ExtraMetadata`].
pub type Metadata = ProviderMetadata<
    ExtraMetadata,
    CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;

fn url_error(e: url::ParseError) -> crate::core::CoreError {
    crate::core::CoreError::Invalid(format!("issuer URL: {e}"))
}

fn signing_alg(alg: JwsAlg) -> CoreJwsSigningAlgorithm {
    match alg {
        JwsAlg::RS256 => CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        JwsAlg::PS256 => CoreJwsSigningAlgorithm::RsaSsaPssSha256,
        JwsAlg::ES256 => CoreJwsSigningAlgorithm::EcdsaP256Sha256,
    }
}

/// The discovery document for `issuer`, with `acr_values` from the level vocabulary.
pub fn metadata(issuer: &str, acr_values: &[&str]) -> Result<Metadata, crate::core::CoreError> {
    let at = |path: &str| format!("{issuer}{path}");
    let meta = Metadata::new(
        IssuerUrl::new(issuer.to_owned()).map_err(url_error)?,
        AuthUrl::new(at("/oidc/authorize")).map_err(url_error)?,
        JsonWebKeySetUrl::new(at("/oidc/jwks")).map_err(url_error)?,
        vec![
            ResponseTypes::new(vec![CoreResponseType::Code]),
            ResponseTypes::new(vec![CoreResponseType::IdToken]),
            ResponseTypes::new(vec![CoreResponseType::Code, CoreResponseType::IdToken]),
            ResponseTypes::new(vec![CoreResponseType::IdToken, CoreResponseType::Token]),
            ResponseTypes::new(vec![CoreResponseType::Code, CoreResponseType::Token]),
            ResponseTypes::new(vec![
                CoreResponseType::Code,
                CoreResponseType::IdToken,
                CoreResponseType::Token,
            ]),
        ],
        vec![
            CoreSubjectIdentifierType::Public,
            CoreSubjectIdentifierType::Pairwise,
        ],
        JwsAlg::ALL.into_iter().map(signing_alg).collect(),
        ExtraMetadata {
            end_session_endpoint: at("/oidc/logout"),
            authorization_response_iss_parameter_supported: true,
            code_challenge_methods_supported: vec!["S256".into()],
            backchannel_logout_supported: true,
            backchannel_logout_session_supported: true,
            frontchannel_logout_supported: true,
            frontchannel_logout_session_supported: true,
            introspection_endpoint: at("/oidc/introspect"),
            introspection_endpoint_auth_methods_supported: ClientAuthMethod::ALL
                .iter()
                .filter(|m| **m != ClientAuthMethod::None)
                .map(|m| m.as_str().to_owned())
                .collect(),
            revocation_endpoint: at("/oidc/revoke"),
            revocation_endpoint_auth_methods_supported: ClientAuthMethod::ALL
                .iter()
                .map(|m| m.as_str().to_owned())
                .collect(),
            pushed_authorization_request_endpoint: at("/oidc/par"),
            require_pushed_authorization_requests: false,
        },
    )
    .set_token_endpoint(Some(TokenUrl::new(at("/oidc/token")).map_err(url_error)?))
    .set_userinfo_endpoint(Some(
        UserInfoUrl::new(at("/oidc/userinfo")).map_err(url_error)?,
    ))
    .set_scopes_supported(Some(
        SCOPES_SUPPORTED
            .iter()
            .map(|s| Scope::new((*s).to_owned()))
            .collect(),
    ))
    .set_response_modes_supported(Some(vec![
        CoreResponseMode::Query,
        CoreResponseMode::Fragment,
        CoreResponseMode::FormPost,
    ]))
    .set_grant_types_supported(Some(vec![
        CoreGrantType::AuthorizationCode,
        CoreGrantType::RefreshToken,
        CoreGrantType::ClientCredentials,
        CoreGrantType::Implicit,
    ]))
    .set_acr_values_supported(Some(
        acr_values
            .iter()
            .map(|a| openidconnect::AuthenticationContextClass::new((*a).to_owned()))
            .collect(),
    ))
    .set_token_endpoint_auth_methods_supported(Some(
        ClientAuthMethod::ALL
            .iter()
            .map(|m| match m {
                ClientAuthMethod::ClientSecretBasic => CoreClientAuthMethod::ClientSecretBasic,
                ClientAuthMethod::ClientSecretPost => CoreClientAuthMethod::ClientSecretPost,
                ClientAuthMethod::PrivateKeyJwt => CoreClientAuthMethod::PrivateKeyJwt,
                ClientAuthMethod::None => CoreClientAuthMethod::None,
            })
            .collect(),
    ))
    .set_token_endpoint_auth_signing_alg_values_supported(Some(
        JwsAlg::ALL.into_iter().map(signing_alg).collect(),
    ))
    .set_claims_supported(Some(
        CLAIMS_SUPPORTED
            .iter()
            .map(|c| CoreClaimName::new((*c).to_owned()))
            .collect(),
    ))
    .set_claim_types_supported(Some(vec![CoreClaimType::Normal]))
    .set_ui_locales_supported(Some(
        ["es", "ca", "en"]
            .iter()
            .map(|l| openidconnect::LanguageTag::new((*l).to_owned()))
            .collect(),
    ))
    .set_userinfo_signing_alg_values_supported(Some(
        JwsAlg::ALL.into_iter().map(signing_alg).collect(),
    ))
    .set_claims_parameter_supported(Some(true))
    .set_request_parameter_supported(Some(true))
    .set_request_uri_parameter_supported(Some(true))
    // Only clients that registered request_uris are held to them.
    .set_require_request_uri_registration(Some(false))
    .set_request_object_signing_alg_values_supported(Some(
        JwsAlg::ALL
            .into_iter()
            .map(signing_alg)
            .chain([CoreJwsSigningAlgorithm::None])
            .collect(),
    ));
    Ok(meta)
}

/// The discovery document of this deployment, serialised.
fn document(state: &AppState) -> Result<bytes::Bytes, String> {
    let acr = state.engine.vocabulary.acr_values();
    let registration = state.config.oidc.registration != super::config::RegistrationMode::Off;
    let meta = metadata(&state.issuer, &acr)
        .and_then(|m| {
            // Advertised only when clients may register themselves.
            let url = registration
                .then(|| {
                    openidconnect::RegistrationUrl::new(format!("{}/oidc/register", state.issuer))
                })
                .transpose()
                .map_err(url_error)?;
            Ok(m.set_registration_endpoint(url))
        })
        .map_err(|e| e.to_string())?;
    serde_json::to_vec(&meta)
        .map(bytes::Bytes::from)
        .map_err(|e| e.to_string())
}

/// `GET /.well-known/openid-configuration`: built and serialised once, then served as is.
pub async fn openid_configuration(State(state): State<AppState>) -> Response {
    let body = match state.discovery.get() {
        Some(body) => body.clone(),
        None => match document(&state) {
            Ok(body) => state.discovery.get_or_init(|| body).clone(),
            Err(e) => return super::error::server_error_json(&e),
        },
    };
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        body,
    )
        .into_response()
}

/// `GET /oidc/jwks`: the published keys. Short caching, so that a rotation is seen soon.
pub async fn jwks(State(state): State<AppState>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        state.keys.jwks_json(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_lists_what_is_implemented() {
        let m = metadata("https://idp.example.es", &["low", "high"]).unwrap();
        let v = serde_json::to_value(&m).unwrap();
        assert_eq!(v["issuer"], "https://idp.example.es");
        assert_eq!(
            v["authorization_endpoint"],
            "https://idp.example.es/oidc/authorize"
        );
        assert_eq!(
            v["response_types_supported"],
            serde_json::json!([
                "code",
                "id_token",
                "code id_token",
                "id_token token",
                "code token",
                "code id_token token"
            ])
        );
        assert_eq!(
            v["response_modes_supported"],
            serde_json::json!(["query", "fragment", "form_post"])
        );
        assert_eq!(
            v["code_challenge_methods_supported"],
            serde_json::json!(["S256"])
        );
        assert_eq!(v["authorization_response_iss_parameter_supported"], true);
        assert_eq!(
            v["acr_values_supported"],
            serde_json::json!(["low", "high"])
        );
        assert_eq!(
            v["id_token_signing_alg_values_supported"],
            serde_json::json!(["RS256", "PS256", "ES256"])
        );
        assert_eq!(
            v["end_session_endpoint"],
            "https://idp.example.es/oidc/logout"
        );
        assert_eq!(v["claims_parameter_supported"], true);
        assert_eq!(
            v["subject_types_supported"],
            serde_json::json!(["public", "pairwise"])
        );
        assert_eq!(
            v["userinfo_signing_alg_values_supported"],
            serde_json::json!(["RS256", "PS256", "ES256"])
        );
        assert_eq!(v["request_parameter_supported"], true);
        assert_eq!(v["request_uri_parameter_supported"], true);
        assert_eq!(v["require_request_uri_registration"], false);
        assert_eq!(
            v["request_object_signing_alg_values_supported"],
            serde_json::json!(["RS256", "PS256", "ES256", "none"])
        );
        assert_eq!(v["backchannel_logout_supported"], true);
        assert_eq!(v["backchannel_logout_session_supported"], true);
        assert_eq!(v["frontchannel_logout_supported"], true);
        assert_eq!(v["frontchannel_logout_session_supported"], true);
        assert_eq!(
            v["token_endpoint_auth_methods_supported"],
            serde_json::json!([
                "client_secret_basic",
                "client_secret_post",
                "private_key_jwt",
                "none"
            ])
        );
        assert_eq!(
            v["introspection_endpoint"],
            "https://idp.example.es/oidc/introspect"
        );
        assert_eq!(
            v["introspection_endpoint_auth_methods_supported"],
            serde_json::json!([
                "client_secret_basic",
                "client_secret_post",
                "private_key_jwt"
            ])
        );
        assert_eq!(
            v["revocation_endpoint"],
            "https://idp.example.es/oidc/revoke"
        );
        assert_eq!(
            v["grant_types_supported"],
            serde_json::json!([
                "authorization_code",
                "refresh_token",
                "client_credentials",
                "implicit"
            ])
        );
        assert_eq!(
            v["token_endpoint_auth_signing_alg_values_supported"],
            serde_json::json!(["RS256", "PS256", "ES256"])
        );
        assert!(v.get("registration_endpoint").is_none());
    }
}
