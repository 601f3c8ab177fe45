//! In-process ephemeral store.
