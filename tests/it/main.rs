//! The integration binary: starts the real server and runs the real command line.

mod account;
mod activation;
mod architecture;
mod browser;
mod cli;
mod demo;
mod harness;
mod levels;
mod login;
mod logout;
mod oidc;
mod oidc_peer;
mod registration;
mod saml;
mod saml_peers;
mod server;
mod walk;
