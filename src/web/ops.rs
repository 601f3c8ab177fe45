//! Operations endpoints: `/healthz` (the process is alive) and `/readyz` (it can serve: the
//! database and the ephemeral store answer and signing keys are loaded). `/readyz` also
//! reports the password hasher's bound and the most hashes it has run at once since start
//! (`password_hashes`: two counters, nothing about any citizen), which the benchmark command
//! (`deploy/bench.sh`) reads to show that the bound holds under load.

use super::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::json;
use std::time::Duration;

/// How long a readiness probe waits for each dependency.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// `GET /healthz`: 200 while the process runs.
pub async fn healthz() -> impl IntoResponse {
    (StatusCode::OK, Json(json!({ "status": "alive" })))
}

/// `GET /readyz`: 200 when every dependency answers, 503 naming the ones that do not; with
/// `password_hashes.peak` (most concurrent Argon2 hashes since start) and `.bound`
/// (`credentials.max_concurrent_hashes`).
pub async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    let engine = &state.engine;
    let database = match tokio::time::timeout(PROBE_TIMEOUT, engine.store.ping()).await {
        Ok(Ok(())) => "ok".to_owned(),
        Ok(Err(e)) => e.to_string(),
        Err(_) => "timed out".to_owned(),
    };
    let ephemeral = match tokio::time::timeout(PROBE_TIMEOUT, engine.ephemeral.ping()).await {
        Ok(Ok(())) => "ok".to_owned(),
        Ok(Err(e)) => e.to_string(),
        Err(_) => "timed out".to_owned(),
    };
    let keys = if state.keys.is_ready() {
        "ok".to_owned()
    } else {
        "no active signing key".to_owned()
    };
    let ready = [&database, &ephemeral, &keys].iter().all(|s| *s == "ok");
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    if !ready {
        tracing::warn!(%database, %ephemeral, %keys, "not ready");
    }
    (
        status,
        [(axum::http::header::CACHE_CONTROL, "no-store")],
        Json(json!({
            "status": if ready { "ready" } else { "unavailable" },
            "checks": { "database": database, "ephemeral": ephemeral, "keys": keys },
            "password_hashes": {
                "peak": state.hasher.in_flight_peak(),
                "bound": state.hasher.max_concurrent(),
            },
        })),
    )
}
