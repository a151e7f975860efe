//! Booking routes.

use std::collections::HashMap;

use axum::extract::State;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    queries::{self, BookingFilter, BookingOut, HistoryOut},
    service::{self, SeatRequest},
    status::BookingStatus,
};
use crate::{
    accounts::extract::CurrentUser,
    app::AppState,
    error::{AppError, AppResult},
    http::{
        ApiJson, ApiPath, ApiResponse, ClientIp, PageRequest, Params,
        envelope::{Envelope, ErrorEnvelope},
        extract::ApiQuery,
    },
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_booking, list_bookings))
        .routes(routes!(get_booking, modify_booking))
        .routes(routes!(cancel_booking))
        .routes(routes!(booking_history))
}

/// Either `seat_ids`, or `section_id` with `quantity` (best available).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateBooking {
    #[schema(minimum = 1)]
    pub event_id: i64,
    /// Seats picked on the map (1–10).
    #[schema(schema_with = crate::openapi::fields::seats_to_hold)]
    pub seat_ids: Option<Vec<i64>>,
    /// Best available: the section…
    #[schema(minimum = 1)]
    pub section_id: Option<i64>,
    /// …and how many adjacent seats (1–10).
    #[schema(minimum = 1, maximum = 10)]
    pub quantity: Option<u32>,
    /// Best available among wheelchair and companion seats.
    pub accessible: Option<bool>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ModifyBooking {
    #[schema(schema_with = crate::openapi::fields::seats_to_change)]
    pub add_seat_ids: Option<Vec<i64>>,
    #[schema(schema_with = crate::openapi::fields::seats_to_change)]
    pub remove_seat_ids: Option<Vec<i64>>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelBooking {
    #[schema(max_length = 500)]
    pub reason: Option<String>,
}

/// Holds seats for 10 minutes (configurable) in a new pending booking. If any seat is taken,
/// nothing is held and the answer lists the taken seats in `errors[0].seat_ids`.
#[utoipa::path(post, path = "/api/bookings", tag = "bookings", request_body = CreateBooking, security(("bearer" = [])),
    responses(
        (status = 201, body = Envelope<BookingOut>),
        (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope),
        (status = 409, description = "`seat_unavailable` (with `seat_ids`), `no_adjacent_seats`, `not_enough_seats`, `sales_closed`, `booking_limit`", body = ErrorEnvelope),
        (status = 429, description = "`rate_limited`, or `held_seats_limit` (this client address holds as many seats of the performance as it may)", body = ErrorEnvelope)))]
async fn create_booking(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientIp(client): ClientIp,
    ApiJson(body): ApiJson<CreateBooking>,
) -> AppResult<ApiResponse<BookingOut>> {
    let request = match (body.seat_ids, body.section_id, body.quantity) {
        (Some(ids), None, None) => SeatRequest::Explicit(ids),
        (None, Some(section_id), Some(quantity)) => SeatRequest::Best {
            section_id,
            quantity: quantity as usize,
            accessible: body.accessible.unwrap_or(false),
        },
        (None, Some(_), None) => return Err(AppError::invalid("quantity", "how many seats?")),
        (None, None, _) => {
            return Err(AppError::invalid("seat_ids", "give seat_ids, or section_id with quantity"));
        }
        _ => {
            return Err(AppError::invalid("seat_ids", "give seat_ids or section_id with quantity, not both"));
        }
    };
    Ok(ApiResponse::created(service::create(&state, &user, client, body.event_id, request).await?))
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // Documents the query string; it is read through `Params`.
pub struct BookingListQuery {
    #[param(minimum = 1)]
    event: Option<i64>,
    /// `pending`, `confirmed`, `completed`, `expired`, `cancelled`, `refunded`.
    #[param(pattern = "^(pending|confirmed|completed|expired|cancelled|refunded)$")]
    status: Option<String>,
    /// Staff only: bookings of this user.
    #[param(minimum = 1)]
    user: Option<i64>,
    #[param(max_length = 20)]
    reference: Option<String>,
    #[param(minimum = 1, maximum = 1000000)]
    page: Option<u64>,
    #[param(minimum = 1, maximum = 100)]
    page_size: Option<u64>,
}

/// The caller's bookings, newest first; staff see everyone's.
#[utoipa::path(get, path = "/api/bookings", tag = "bookings", params(BookingListQuery), security(("bearer" = [])),
    responses((status = 200, body = Envelope<Vec<BookingOut>>), (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope)))]
async fn list_bookings(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiQuery(raw): ApiQuery<HashMap<String, String>>,
) -> AppResult<ApiResponse<Vec<BookingOut>>> {
    let mut params = Params::new(raw);
    let statuses: Vec<&str> = BookingStatus::ALL.iter().map(|s| s.as_str()).collect();
    let filter = BookingFilter {
        event: params.id("event"),
        status: params.choice("status", &statuses),
        user: params.id("user"),
        reference: params.string("reference", 20),
        page: PageRequest::read(&mut params),
    };
    params.finish()?;
    Ok(ApiResponse::<BookingOut>::page(queries::list(&state.db, &user, &filter).await?))
}

/// One booking (its owner or staff; anyone else gets 404).
#[utoipa::path(get, path = "/api/bookings/{id}", tag = "bookings", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = Envelope<BookingOut>), (status = 404, body = ErrorEnvelope)))]
async fn get_booking(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<ApiResponse<BookingOut>> {
    let booking = queries::visible(&state.db, &user, id).await?;
    Ok(ApiResponse::ok(queries::one(&state.db, booking).await?))
}

/// Adds or releases seats of a pending booking; the other seats stay held.
#[utoipa::path(patch, path = "/api/bookings/{id}", tag = "bookings", params(("id" = i64, Path)), request_body = ModifyBooking,
    security(("bearer" = [])),
    responses((status = 200, body = Envelope<BookingOut>), (status = 400, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
        (status = 409, description = "`seat_unavailable`, `hold_expired`, `invalid_transition`", body = ErrorEnvelope),
        (status = 429, description = "`held_seats_limit`: the address the booking was made from holds as many seats as it may", body = ErrorEnvelope)))]
async fn modify_booking(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<ModifyBooking>,
) -> AppResult<ApiResponse<BookingOut>> {
    let add = body.add_seat_ids.unwrap_or_default();
    let remove = body.remove_seat_ids.unwrap_or_default();
    Ok(ApiResponse::ok(service::modify(&state, &user, id, add, remove).await?))
}

/// Cancels a pending or confirmed booking; its seats go back on sale at once.
///
/// A pending booking simply lets its hold go. A confirmed (paid) booking also voids its tickets
/// and is refunded as the refund policy says: in full until `CURTAIN_REFUND_CUTOFF_HOURS` before
/// the start, nothing after. The answer shows the booking already cancelled; the refund itself
/// runs after the commit, and the buyer gets an email.
#[utoipa::path(post, path = "/api/bookings/{id}/cancel", tag = "bookings", params(("id" = i64, Path)), request_body = Option<CancelBooking>,
    security(("bearer" = [])),
    responses((status = 200, body = Envelope<BookingOut>), (status = 404, body = ErrorEnvelope),
        (status = 409, description = "`invalid_transition`", body = ErrorEnvelope)))]
async fn cancel_booking(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath(id): ApiPath<i64>,
    body: axum::body::Bytes,
) -> AppResult<ApiResponse<BookingOut>> {
    let body: CancelBooking = crate::http::extract::optional_json(&body)?.unwrap_or_default();
    Ok(ApiResponse::ok(service::cancel(&state, &user, id, body.reason).await?))
}

/// Every status change of the booking, oldest first.
#[utoipa::path(get, path = "/api/bookings/{id}/history", tag = "bookings", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = Envelope<Vec<HistoryOut>>), (status = 404, body = ErrorEnvelope)))]
async fn booking_history(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<ApiResponse<Vec<HistoryOut>>> {
    let booking = queries::visible(&state.db, &user, id).await?;
    Ok(ApiResponse::ok(queries::history(&state.db, booking.id).await?))
}
