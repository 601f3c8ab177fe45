//! The account pages.

use super::state::AppState;
use axum::Router;

/// The routes of the account pages.
pub fn routes() -> Router<AppState> {
    Router::new()
}
