//! Integration tests of the account pages.

#[allow(unused_imports)]
use crate::support::*;
