//! The activation pages.

use super::state::AppState;
use axum::Router;

/// The routes of the activation pages.
pub fn routes() -> Router<AppState> {
    Router::new()
}
