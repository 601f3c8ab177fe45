//! The integration binary: starts the real server and runs the real command line.

mod cli;
mod server;
mod support;
