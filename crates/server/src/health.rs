//! Liveness and readiness probes (not enveloped: load balancers read the status code).

use axum::{Json, Router, extract::State, http::StatusCode, routing::get};
use serde_json::{Value, json};

use crate::app::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/health/live", get(live)).route("/health/ready", get(ready))
}

async fn live() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// 200 only when the database answers. The server listens only after migrations and demo data,
/// so a listening server that answers here is ready.
async fn ready(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let database = crate::db::ping(&state.db).await;
    let status = if database { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    let word = |ok: bool| if ok { "ok" } else { "down" };
    (status, Json(json!({"status": word(database), "checks": {"database": word(database)}})))
}
