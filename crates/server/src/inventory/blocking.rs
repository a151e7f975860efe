//! Staff blocking seats of a performance (house seats, broken seats, camera positions): a
//! blocked seat is not sold until it is unblocked.

use axum::extract::State;
use chrono::{DateTime, Utc};
use entity::event_seats;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, sea_query::Expr};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::hold::{next_version, takeable};
use crate::{
    accounts::extract::Staff,
    app::AppState,
    error::{AppError, AppResult, ErrorItem},
    http::{
        ApiJson, ApiPath, ApiResponse,
        envelope::{Envelope, ErrorEnvelope},
    },
    inventory::retry::with_retry,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(block_seats)).routes(routes!(unblock_seats))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct BlockBody {
    #[schema(schema_with = crate::openapi::fields::seats_to_block)]
    pub seat_ids: Vec<i64>,
    #[schema(min_length = 1, max_length = 500, pattern = "\\S")]
    pub reason: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct UnblockBody {
    #[schema(schema_with = crate::openapi::fields::seats_to_block)]
    pub seat_ids: Vec<i64>,
    pub reason: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BlockResult {
    pub event_id: i64,
    /// The seat-map version after the change.
    pub version: i64,
    pub seat_ids: Vec<i64>,
}

fn check_ids(seat_ids: &[i64]) -> AppResult<()> {
    if seat_ids.is_empty() || seat_ids.len() > 1000 {
        return Err(AppError::invalid("seat_ids", "give 1 to 1000 seat ids"));
    }
    let mut sorted = seat_ids.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    if sorted.len() != seat_ids.len() {
        return Err(AppError::invalid("seat_ids", "contains duplicates"));
    }
    Ok(())
}

/// Bumps the performance's seat-map version (locking it) after checking every seat is one of
/// its seats; 400 naming the strangers otherwise.
async fn version_seats_of<C: crate::db::Writes>(
    db: &C,
    event_id: i64,
    seat_ids: &[i64],
    now: DateTime<Utc>,
) -> AppResult<entity::events::Model> {
    let event = next_version(db, event_id, now).await?.ok_or(AppError::NotFound)?;
    let unknown = unknown_seats(db, event_id, seat_ids).await?;
    if !unknown.is_empty() {
        return Err(AppError::Validation(vec![
            ErrorItem::field("seat_ids", "these seats are not part of this performance")
                .with_detail("seat_ids", unknown),
        ]));
    }
    Ok(event)
}

/// Seat ids of the request that are not seats of this performance.
async fn unknown_seats<C: ConnectionTrait>(db: &C, event_id: i64, seat_ids: &[i64]) -> AppResult<Vec<i64>> {
    let known: Vec<i64> = event_seats::Entity::find()
        .filter(event_seats::Column::EventId.eq(event_id))
        .filter(event_seats::Column::SeatId.is_in(seat_ids.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|s| s.seat_id)
        .collect();
    Ok(seat_ids.iter().copied().filter(|id| !known.contains(id)).collect())
}

/// Blocks seats that are free now; held or sold seats refuse with 409 `seat_unavailable`.
pub async fn block(
    state: &AppState,
    event_id: i64,
    seat_ids: &[i64],
    reason: &str,
) -> AppResult<BlockResult> {
    check_ids(seat_ids)?;
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(AppError::invalid("reason", "say why, in at most 500 characters"));
    }
    let result = with_retry(|| async move {
        let now: DateTime<Utc> = state.clock.now();
        let txn = state.begin_write().await?;
        let event = version_seats_of(&txn, event_id, seat_ids, now).await?;
        let blocked = event_seats::Entity::update_many()
            .col_expr(event_seats::Column::Status, Expr::val("blocked"))
            .col_expr(event_seats::Column::BlockReason, Expr::val(reason))
            .col_expr(event_seats::Column::BookingId, Expr::val(None::<i64>))
            .col_expr(event_seats::Column::HeldUntil, Expr::val(None::<DateTime<Utc>>))
            .col_expr(event_seats::Column::Version, Expr::val(event.seats_version))
            .col_expr(event_seats::Column::UpdatedAt, Expr::val(now))
            .filter(event_seats::Column::EventId.eq(event_id))
            .filter(event_seats::Column::SeatId.is_in(seat_ids.iter().copied()))
            .filter(takeable(now))
            .exec_with_returning(&txn)
            .await?;
        if blocked.len() != seat_ids.len() {
            let got: Vec<i64> = blocked.iter().map(|s| s.seat_id).collect();
            let taken: Vec<i64> = seat_ids.iter().copied().filter(|id| !got.contains(id)).collect();
            txn.rollback().await?;
            return Err(seat_unavailable(taken));
        }
        txn.commit().await?;
        Ok(BlockResult { event_id, version: event.seats_version, seat_ids: seat_ids.to_vec() })
    })
    .await?;
    state.hub.seats(event_id, result.version, &result.seat_ids, "blocked").await;
    Ok(result)
}

pub async fn unblock(state: &AppState, event_id: i64, seat_ids: &[i64]) -> AppResult<BlockResult> {
    check_ids(seat_ids)?;
    let result = with_retry(|| async move {
        let now = state.clock.now();
        let txn = state.begin_write().await?;
        let event = version_seats_of(&txn, event_id, seat_ids, now).await?;
        let freed = event_seats::Entity::update_many()
            .col_expr(event_seats::Column::Status, Expr::val("available"))
            .col_expr(event_seats::Column::BlockReason, Expr::val(None::<String>))
            .col_expr(event_seats::Column::Version, Expr::val(event.seats_version))
            .col_expr(event_seats::Column::UpdatedAt, Expr::val(now))
            .filter(event_seats::Column::EventId.eq(event_id))
            .filter(event_seats::Column::SeatId.is_in(seat_ids.iter().copied()))
            .filter(event_seats::Column::Status.eq("blocked"))
            .exec_with_returning(&txn)
            .await?;
        txn.commit().await?;
        Ok(BlockResult {
            event_id,
            version: event.seats_version,
            seat_ids: freed.into_iter().map(|s| s.seat_id).collect(),
        })
    })
    .await?;
    state.hub.seats(event_id, result.version, &result.seat_ids, "available").await;
    Ok(result)
}

/// 409 `seat_unavailable` naming exactly the seats that could not be had.
pub fn seat_unavailable(seat_ids: Vec<i64>) -> AppError {
    AppError::Conflict(
        ErrorItem::new("seat_unavailable", "Some of these seats were just taken by someone else.")
            .with_detail("seat_ids", seat_ids),
    )
}

/// Blocks seats of a performance (staff); they cannot be sold until unblocked.
#[utoipa::path(post, path = "/api/events/{id}/seats/block", tag = "events", params(("id" = i64, Path)), request_body = BlockBody,
    security(("bearer" = ["staff"])),
    responses((status = 200, body = Envelope<BlockResult>), (status = 400, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
              (status = 404, body = ErrorEnvelope), (status = 409, description = "`seat_unavailable`", body = ErrorEnvelope)))]
async fn block_seats(
    State(state): State<AppState>,
    _staff: Staff,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<BlockBody>,
) -> AppResult<ApiResponse<BlockResult>> {
    Ok(ApiResponse::ok(block(&state, id, &body.seat_ids, &body.reason).await?))
}

/// Unblocks seats of a performance (staff); answers the seats that were blocked and are now free.
#[utoipa::path(post, path = "/api/events/{id}/seats/unblock", tag = "events", params(("id" = i64, Path)), request_body = UnblockBody,
    security(("bearer" = ["staff"])),
    responses((status = 200, body = Envelope<BlockResult>), (status = 400, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
async fn unblock_seats(
    State(state): State<AppState>,
    _staff: Staff,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<UnblockBody>,
) -> AppResult<ApiResponse<BlockResult>> {
    Ok(ApiResponse::ok(unblock(&state, id, &body.seat_ids).await?))
}
