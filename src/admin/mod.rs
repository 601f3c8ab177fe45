//! Operator commands (the registry office and the operators of pasarela): register citizens,
//! issue codes, raise levels, manage keys, query and verify the audit trail. They work on the
//! database directly; no running server is needed.

pub mod audit;
pub mod citizen;
pub mod cli;
pub mod client;
pub mod dev;
pub mod keys;
pub mod letter;
pub mod output;
pub mod sp;
