//! The integration binary: starts the real server and runs the real command line.

mod account;
mod activation;
mod browser;
mod cli;
mod login;
mod oidc;
mod registration;
mod saml;
mod server;
// Shared fixtures; not every suite uses every one.
#[allow(dead_code)]
mod support;
mod walk;
