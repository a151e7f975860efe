//! Staff notices (maintenance, house announcements) broadcast on the system channel.

use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::hub::{Message, Topic};
use crate::{
    accounts::extract::Staff,
    app::AppState,
    error::{AppError, AppResult},
    http::{
        ApiJson, ApiResponse,
        envelope::{Envelope, ErrorEnvelope},
    },
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(post_notice))
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Notice {
    #[schema(min_length = 1, max_length = 500, pattern = "\\S")]
    pub message: String,
}

/// Sends a notice to every client of `/ws/system/` on every instance (staff).
#[utoipa::path(post, path = "/api/admin/notices", tag = "admin", request_body = Notice, security(("bearer" = ["staff"])),
    responses((status = 202, body = Envelope<Notice>), (status = 400, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope)))]
async fn post_notice(
    State(state): State<AppState>,
    _staff: Staff,
    ApiJson(body): ApiJson<Notice>,
) -> AppResult<ApiResponse<Notice>> {
    let message = body.message.trim().to_owned();
    if message.is_empty() || message.chars().count() > 500 {
        return Err(AppError::invalid("message", "write 1 to 500 characters"));
    }
    state.hub.publish(Topic::System, Message::Notice { message: message.clone() }).await;
    Ok(ApiResponse::accepted(Notice { message }))
}
