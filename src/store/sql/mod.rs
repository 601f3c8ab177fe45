//! SQL implementation of the durable store.
