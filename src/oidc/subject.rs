//! The `sub` a client sees: the citizen's internal id for public clients, or a pairwise
//! identifier per sector (OIDC Core §8.1): a keyed hash of the citizen and the sector's host,
//! so that clients of different sectors cannot correlate a citizen, while clients of one
//! sector (one `sector_identifier_uri`) see the same value.

use super::client::OidcClient;
use crate::core::CoreError;
use crate::core::citizen::CitizenId;
use crate::core::engine::Engine;

/// The purpose label of pairwise subjects in the keyed hash.
const PAIRWISE: &str = "oidc-pairwise";

/// The `sub` of `citizen` for `client`.
pub fn for_client(
    engine: &Engine,
    client: &OidcClient,
    citizen: CitizenId,
) -> Result<String, CoreError> {
    match client.sector() {
        None => Ok(citizen.to_string()),
        Some(sector) => engine
            .codes
            .hash(citizen, PAIRWISE, &sector)
            .map_err(|e| CoreError::Unavailable(format!("pairwise subject: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::testing::world;
    use crate::oidc::client::{NewClient, SubjectType};

    fn client(id: &str, uris: &[&str], subject_type: SubjectType) -> OidcClient {
        let (rp, _) = NewClient {
            id: id.into(),
            redirect_uris: uris.iter().map(|s| s.to_string()).collect(),
            grant_types: vec![crate::oidc::client::GrantType::AuthorizationCode],
            subject_type,
            ..Default::default()
        }
        .build()
        .unwrap();
        OidcClient::from_relying_party(rp).unwrap().unwrap()
    }

    #[tokio::test]
    async fn pairwise_subjects_differ_per_sector_and_agree_within_one() {
        let world = world().await;
        let engine = &world.engine;
        let citizen = CitizenId::new();
        let public = client("a", &["https://a.example/cb"], SubjectType::Public);
        assert_eq!(
            for_client(engine, &public, citizen).unwrap(),
            citizen.to_string()
        );
        let one = client("b", &["https://rp.example/cb"], SubjectType::Pairwise);
        let same_host = client("c", &["https://rp.example/other"], SubjectType::Pairwise);
        let other = client("d", &["https://other.example/cb"], SubjectType::Pairwise);
        let s1 = for_client(engine, &one, citizen).unwrap();
        assert_ne!(s1, citizen.to_string());
        assert_eq!(s1, for_client(engine, &same_host, citizen).unwrap());
        assert_ne!(s1, for_client(engine, &other, citizen).unwrap());
        assert_ne!(s1, for_client(engine, &one, CitizenId::new()).unwrap());
    }
}
