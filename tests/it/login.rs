//! Integration tests of the login pages.

#[allow(unused_imports)]
use crate::support::*;
