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

/// 200 only when the database (and Redis, when configured) answers. The server listens only after migrations and demo data,
/// so a listening server that answers here is ready.
async fn ready(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let database = crate::db::ping(&state.db).await;
    let redis = match &state.redis {
        Some(client) => Some(crate::redis::ping(client).await),
        None => None,
    };
    let ok = database && redis != Some(false);
    let status = if ok { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    let word = |ok: bool| if ok { "ok" } else { "down" };
    let mut checks = json!({"database": word(database)});
    if let Some(redis) = redis {
        checks["redis"] = json!(word(redis));
    }
    (status, Json(json!({"status": word(ok), "checks": checks})))
}
