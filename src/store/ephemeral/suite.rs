//! The ephemeral store contract, as one test suite.
