//! The login pages.

use super::state::AppState;
use axum::Router;

/// The routes of the login pages.
pub fn routes() -> Router<AppState> {
    Router::new()
}
