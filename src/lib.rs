//! pasarela: a federated identity provider (OpenID Connect and SAML 2.0 / eIDAS) for
//! government services, in the style of Cl@ve and ANSES "Clave de la Seguridad Social".
//!
//! See `README.md` for the map of the source tree and `config/pasarela.example.toml` for every
//! setting.

pub mod admin;
pub mod clock;
pub mod config;
pub mod core;
pub mod oidc;
pub mod saml;
pub mod server;
pub mod store;
pub mod web;
