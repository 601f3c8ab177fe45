//! Redis ephemeral store.
