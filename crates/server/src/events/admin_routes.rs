//! Staff routes for performances: create, edit, delete, prices, publish, cancel, and the staff
//! list of every status. Anonymous callers get 401, customers 403.

use std::collections::HashMap;

use axum::{extract::State, http::StatusCode};
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    admin::{self, AdminFilter, CancelBody, EventBody, EventPatch},
    prices::{self, PricesBody, PricesOut},
    service::{self, EventDetail, EventSummary},
};
use crate::{
    accounts::extract::Staff,
    app::AppState,
    error::AppResult,
    http::{
        ApiJson, ApiPath, ApiResponse, PageRequest, Params,
        envelope::{Envelope, ErrorEnvelope},
        extract::ApiQuery,
    },
    realtime::hub::{Message, Topic},
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_event))
        .routes(routes!(replace_event, update_event, delete_event))
        .routes(routes!(set_prices))
        .routes(routes!(publish_event))
        .routes(routes!(cancel_event))
        .routes(routes!(admin_list_events))
}

/// A new draft performance (staff). Category and tags by id or slug; the slug is generated from
/// the title and the local date unless given.
#[utoipa::path(post, path = "/api/events", tag = "events", request_body = EventBody, security(("bearer" = ["staff"])),
    responses((status = 201, body = Envelope<EventDetail>), (status = 400, body = ErrorEnvelope),
              (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
              (status = 409, description = "`slug_taken`", body = ErrorEnvelope)))]
async fn create_event(
    State(state): State<AppState>,
    _staff: Staff,
    ApiJson(body): ApiJson<EventBody>,
) -> AppResult<ApiResponse<EventDetail>> {
    let event = admin::create(&state.writer, body, state.clock.now()).await?;
    Ok(ApiResponse::created(service::detail_of(&state.db, event).await?))
}

/// Replaces every field of a performance (staff); absent optional fields are cleared. A
/// published performance keeps its venue; a cancelled one cannot change.
#[utoipa::path(put, path = "/api/events/{id}", tag = "events", params(("id" = i64, Path)), request_body = EventBody,
    security(("bearer" = ["staff"])),
    responses((status = 200, body = Envelope<EventDetail>), (status = 400, body = ErrorEnvelope),
              (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
              (status = 409, description = "`venue_change_not_allowed`, `invalid_transition`, `slug_taken`", body = ErrorEnvelope)))]
async fn replace_event(
    State(state): State<AppState>,
    _staff: Staff,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<EventBody>,
) -> AppResult<ApiResponse<EventDetail>> {
    let (before, event) = admin::update(&state.writer, id, body.into(), state.clock.now()).await?;
    announce_change(&state, &before, &event).await;
    Ok(ApiResponse::ok(service::detail_of(&state.db, event).await?))
}

/// Changes the fields present (staff); `null` clears `category`, `sales_start` or `sales_end`.
#[utoipa::path(patch, path = "/api/events/{id}", tag = "events", params(("id" = i64, Path)), request_body = EventPatch,
    security(("bearer" = ["staff"])),
    responses((status = 200, body = Envelope<EventDetail>), (status = 400, body = ErrorEnvelope),
              (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
              (status = 409, description = "`venue_change_not_allowed`, `invalid_transition`, `slug_taken`", body = ErrorEnvelope)))]
async fn update_event(
    State(state): State<AppState>,
    _staff: Staff,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<EventPatch>,
) -> AppResult<ApiResponse<EventDetail>> {
    let (before, event) = admin::update(&state.writer, id, body, state.clock.now()).await?;
    announce_change(&state, &before, &event).await;
    Ok(ApiResponse::ok(service::detail_of(&state.db, event).await?))
}

/// Tells live clients (the system channel) that a published performance moved in time, whichever
/// of `PUT` and `PATCH` moved it. Ticket holders are mailed by the job `update` queued.
async fn announce_change(state: &AppState, before: &entity::events::Model, event: &entity::events::Model) {
    if event.status == service::PUBLISHED
        && (before.start_time != event.start_time || before.end_time != event.end_time)
    {
        let message = format!("{} now starts at {}", event.title, event.start_time.to_rfc3339());
        let change = Message::Event { event_id: event.id, change: "time_changed".into(), message };
        state.hub.publish(Topic::System, change).await;
    }
}

/// Soft-deletes a performance (staff): it leaves every list; its bookings stay readable. A
/// performance with pending or confirmed bookings must be cancelled first (409 `has_bookings`).
#[utoipa::path(delete, path = "/api/events/{id}", tag = "events", params(("id" = i64, Path)), security(("bearer" = ["staff"])),
    responses((status = 204), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
              (status = 409, description = "`has_bookings`: cancel the performance first", body = ErrorEnvelope)))]
async fn delete_event(
    State(state): State<AppState>,
    _staff: Staff,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<StatusCode> {
    admin::delete(&state.writer, id, state.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sets prices per section (staff). On a published performance the seats not held or sold take
/// the new price and the seat map's version grows.
#[utoipa::path(put, path = "/api/events/{id}/prices", tag = "events", params(("id" = i64, Path)), request_body = PricesBody,
    security(("bearer" = ["staff"])),
    responses((status = 200, body = Envelope<PricesOut>), (status = 400, body = ErrorEnvelope),
              (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
              (status = 409, description = "`invalid_transition` (cancelled)", body = ErrorEnvelope)))]
async fn set_prices(
    State(state): State<AppState>,
    _staff: Staff,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<PricesBody>,
) -> AppResult<ApiResponse<PricesOut>> {
    Ok(ApiResponse::ok(prices::set(&state.writer, id, body, state.clock.now()).await?))
}

/// Publishes a draft (staff): every active seat of the venue is copied with its section's price,
/// so a price is needed for every section with seats.
#[utoipa::path(post, path = "/api/events/{id}/publish", tag = "events", params(("id" = i64, Path)), security(("bearer" = ["staff"])),
    responses((status = 200, body = Envelope<EventDetail>), (status = 400, description = "a section has no price", body = ErrorEnvelope),
              (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
              (status = 409, description = "`invalid_transition`", body = ErrorEnvelope)))]
async fn publish_event(
    State(state): State<AppState>,
    _staff: Staff,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<ApiResponse<EventDetail>> {
    let event = admin::publish(&state.writer, id, state.clock.now()).await?;
    Ok(ApiResponse::ok(service::detail_of(&state.db, event).await?))
}

/// Batches of bookings a cancellation request ends itself before answering (the job does the rest).
const REQUEST_BATCHES: usize = 3;

/// Cancels a draft or published performance (staff): sales stop, the reason is shown, and every
/// booking is cancelled — paid ones refunded in full through the gateway. Bookings are ended in
/// short batches after sales stopped: the first ones before the answer, the rest by a job.
#[utoipa::path(post, path = "/api/events/{id}/cancel", tag = "events", params(("id" = i64, Path)), request_body = CancelBody,
    security(("bearer" = ["staff"])),
    responses((status = 200, body = Envelope<EventDetail>), (status = 400, body = ErrorEnvelope),
              (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
              (status = 409, description = "`invalid_transition`", body = ErrorEnvelope)))]
async fn cancel_event(
    State(state): State<AppState>,
    Staff(staff): Staff,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<CancelBody>,
) -> AppResult<ApiResponse<EventDetail>> {
    let actor = crate::bookings::status::Actor(Some(staff.id()));
    let event = admin::cancel(&state.writer, id, body, actor, state.clock.now()).await?;
    let message = event.cancel_reason.clone().unwrap_or_default();
    state
        .hub
        .publish(Topic::System, Message::Event { event_id: id, change: "cancelled".into(), message })
        .await;
    // Sales have stopped; a few batches of bookings are ended now (a small house is done before
    // the answer). The job queued with the cancellation finishes the rest, and whatever a crash,
    // a deploy or a batch that keeps losing races left: the performance is cancelled either way,
    // which is what the answer says.
    let job = crate::bookings::service::CancelEventBookings { event_id: id, actor: actor.0 };
    if let Err(err) = crate::bookings::service::finish_cancelled_event(&state, job, REQUEST_BATCHES).await {
        tracing::warn!(event_id = id, error = ?err, "cancelling bookings stopped; the queued job will finish");
    }
    Ok(ApiResponse::ok(service::detail_of(&state.db, event).await?))
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // Documents the query string; it is read through `Params`.
pub struct AdminEventQuery {
    /// `draft`, `published` or `cancelled`.
    #[param(pattern = "^(draft|published|cancelled)$")]
    status: Option<String>,
    /// Venue id.
    #[param(minimum = 1)]
    venue: Option<i64>,
    /// Case-insensitive substring of the title or description.
    #[param(max_length = 200)]
    q: Option<String>,
    #[param(minimum = 1, maximum = 1000000)]
    page: Option<u64>,
    #[param(minimum = 1, maximum = 100)]
    page_size: Option<u64>,
}

/// Every performance not deleted, any status, past ones too, latest start first (staff).
#[utoipa::path(get, path = "/api/admin/events", tag = "events", params(AdminEventQuery), security(("bearer" = ["staff"])),
    responses((status = 200, body = Envelope<Vec<EventSummary>>), (status = 400, body = ErrorEnvelope),
              (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope)))]
async fn admin_list_events(
    State(state): State<AppState>,
    _staff: Staff,
    ApiQuery(raw): ApiQuery<HashMap<String, String>>,
) -> AppResult<ApiResponse<Vec<EventSummary>>> {
    let mut params = Params::new(raw);
    let filter = AdminFilter {
        status: params.choice("status", &["draft", "published", "cancelled"]),
        venue: params.id("venue"),
        q: params.string("q", 200),
        page: PageRequest::read(&mut params),
    };
    params.finish()?;
    Ok(ApiResponse::<EventSummary>::page(admin::list(&state.db, &filter).await?))
}
