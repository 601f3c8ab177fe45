//! The durable store contract, as one test suite.
