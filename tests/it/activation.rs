//! Integration tests of the activation pages.

#[allow(unused_imports)]
use crate::support::*;
