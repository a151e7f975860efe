//! Staff routes for venues, their sections and seats (the layout generator). Every route here
//! needs a staff or admin token: anonymous callers get 401, customers 403.

use axum::{extract::State, http::StatusCode};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    admin::{self, VenueBody, VenuePatch},
    seats::{self, SeatOut, SeatsPatch, SeatsUpdated},
    sections::{self, SeatsBody, SectionAdminOut, SectionBody, SectionPatch},
    service::VenueOut,
};
use crate::{
    accounts::extract::Staff,
    app::AppState,
    error::AppResult,
    http::{
        ApiJson, ApiPath, ApiResponse,
        envelope::{Envelope, ErrorEnvelope},
    },
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_venue))
        .routes(routes!(replace_venue, update_venue, delete_venue))
        .routes(routes!(create_section))
        .routes(routes!(update_section, delete_section))
        .routes(routes!(list_section_seats, add_section_seats))
        .routes(routes!(update_seats))
}

/// A new venue (staff). Its capacity starts at 0 and follows the seats added to it.
#[utoipa::path(post, path = "/api/venues", tag = "venues", request_body = VenueBody, security(("bearer" = ["staff"])),
    responses((status = 201, body = Envelope<VenueOut>), (status = 400, body = ErrorEnvelope),
              (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
              (status = 409, description = "`slug_taken`", body = ErrorEnvelope)))]
async fn create_venue(
    State(state): State<AppState>,
    _staff: Staff,
    ApiJson(body): ApiJson<VenueBody>,
) -> AppResult<ApiResponse<VenueOut>> {
    Ok(ApiResponse::created(admin::create(&state.writer, body, state.clock.now()).await?))
}

/// Replaces a venue's fields (staff); an absent slug keeps the current one.
#[utoipa::path(put, path = "/api/venues/{id}", tag = "venues", params(("id" = i64, Path)), request_body = VenueBody,
    security(("bearer" = ["staff"])),
    responses((status = 200, body = Envelope<VenueOut>), (status = 400, body = ErrorEnvelope),
              (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
              (status = 409, description = "`slug_taken`", body = ErrorEnvelope)))]
async fn replace_venue(
    State(state): State<AppState>,
    _staff: Staff,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<VenueBody>,
) -> AppResult<ApiResponse<VenueOut>> {
    Ok(ApiResponse::ok(admin::replace(&state.writer, id, body, state.clock.now()).await?))
}

/// Changes the fields present (staff).
#[utoipa::path(patch, path = "/api/venues/{id}", tag = "venues", params(("id" = i64, Path)), request_body = VenuePatch,
    security(("bearer" = ["staff"])),
    responses((status = 200, body = Envelope<VenueOut>), (status = 400, body = ErrorEnvelope),
              (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
              (status = 409, description = "`slug_taken`", body = ErrorEnvelope)))]
async fn update_venue(
    State(state): State<AppState>,
    _staff: Staff,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<VenuePatch>,
) -> AppResult<ApiResponse<VenueOut>> {
    Ok(ApiResponse::ok(admin::update(&state.writer, id, body, state.clock.now()).await?))
}

/// Soft-deletes a venue (staff): it and its performances leave the public catalog; bookings stay.
#[utoipa::path(delete, path = "/api/venues/{id}", tag = "venues", params(("id" = i64, Path)), security(("bearer" = ["staff"])),
    responses((status = 204), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
async fn delete_venue(
    State(state): State<AppState>,
    _staff: Staff,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<StatusCode> {
    admin::delete(&state.writer, id, state.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A new section with seats generated from `layout` (staff): rows × seats or one length per
/// row, row labels A…Z, AA…, numbering `ltr`/`rtl`/`odd_even`, aisles, curved rows; up to
/// 100,000 seats. All or nothing: a bad layout writes no section and no seat.
#[utoipa::path(post, path = "/api/venues/{id}/sections", tag = "venues", params(("id" = i64, Path)),
    request_body = SectionBody, security(("bearer" = ["staff"])),
    responses((status = 201, body = Envelope<SectionAdminOut>), (status = 400, body = ErrorEnvelope),
              (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
              (status = 409, description = "`section_name_taken`", body = ErrorEnvelope)))]
async fn create_section(
    State(state): State<AppState>,
    _staff: Staff,
    ApiPath(venue_id): ApiPath<i64>,
    ApiJson(body): ApiJson<SectionBody>,
) -> AppResult<ApiResponse<SectionAdminOut>> {
    Ok(ApiResponse::created(sections::create(&state.writer, venue_id, body, state.clock.now()).await?))
}

/// Renames, recolours, reorders or restores (`is_active: true`) a section (staff).
#[utoipa::path(patch, path = "/api/venues/{id}/sections/{section_id}", tag = "venues",
    params(("id" = i64, Path), ("section_id" = i64, Path)), request_body = SectionPatch, security(("bearer" = ["staff"])),
    responses((status = 200, body = Envelope<SectionAdminOut>), (status = 400, body = ErrorEnvelope),
              (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
              (status = 409, description = "`section_name_taken`", body = ErrorEnvelope)))]
async fn update_section(
    State(state): State<AppState>,
    _staff: Staff,
    ApiPath((venue_id, section_id)): ApiPath<(i64, i64)>,
    ApiJson(body): ApiJson<SectionPatch>,
) -> AppResult<ApiResponse<SectionAdminOut>> {
    Ok(ApiResponse::ok(sections::update(&state.writer, venue_id, section_id, body, state.clock.now()).await?))
}

/// Soft-deletes a section (staff): it leaves the venue's capacity and future publications.
#[utoipa::path(delete, path = "/api/venues/{id}/sections/{section_id}", tag = "venues",
    params(("id" = i64, Path), ("section_id" = i64, Path)), security(("bearer" = ["staff"])),
    responses((status = 204), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
async fn delete_section(
    State(state): State<AppState>,
    _staff: Staff,
    ApiPath((venue_id, section_id)): ApiPath<(i64, i64)>,
) -> AppResult<StatusCode> {
    sections::delete(&state.writer, venue_id, section_id, state.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Every seat of a section, inactive ones included, front row first (staff; not paginated:
/// the layout editor draws the whole section).
#[utoipa::path(get, path = "/api/venues/{id}/sections/{section_id}/seats", tag = "venues",
    params(("id" = i64, Path), ("section_id" = i64, Path)), security(("bearer" = ["staff"])),
    responses((status = 200, body = Envelope<Vec<SeatOut>>), (status = 403, body = ErrorEnvelope),
              (status = 404, body = ErrorEnvelope)))]
async fn list_section_seats(
    State(state): State<AppState>,
    _staff: Staff,
    ApiPath((venue_id, section_id)): ApiPath<(i64, i64)>,
) -> AppResult<ApiResponse<Vec<SeatOut>>> {
    Ok(ApiResponse::ok(seats::seats_of(&state.db, venue_id, section_id).await?))
}

/// Adds a layout's seats to a section (staff). Seats sharing a row and number, or a row and
/// place, with existing ones answer 409 `seats_overlap` naming them, and nothing is written.
#[utoipa::path(post, path = "/api/venues/{id}/sections/{section_id}/seats", tag = "venues",
    params(("id" = i64, Path), ("section_id" = i64, Path)), request_body = SeatsBody, security(("bearer" = ["staff"])),
    responses((status = 201, body = Envelope<SectionAdminOut>), (status = 400, body = ErrorEnvelope),
              (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
              (status = 409, description = "`seats_overlap`", body = ErrorEnvelope)))]
async fn add_section_seats(
    State(state): State<AppState>,
    _staff: Staff,
    ApiPath((venue_id, section_id)): ApiPath<(i64, i64)>,
    ApiJson(body): ApiJson<SeatsBody>,
) -> AppResult<ApiResponse<SectionAdminOut>> {
    Ok(ApiResponse::created(
        sections::add_seats(&state.writer, venue_id, section_id, body, state.clock.now()).await?,
    ))
}

/// Changes the kind or active flag of seats of this venue (staff). Ids that are not seats of
/// the venue answer 400 naming them (`errors[0].seat_ids`); nothing changes then.
#[utoipa::path(patch, path = "/api/venues/{id}/seats", tag = "venues", params(("id" = i64, Path)),
    request_body = SeatsPatch, security(("bearer" = ["staff"])),
    responses((status = 200, body = Envelope<SeatsUpdated>), (status = 400, body = ErrorEnvelope),
              (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
async fn update_seats(
    State(state): State<AppState>,
    _staff: Staff,
    ApiPath(venue_id): ApiPath<i64>,
    ApiJson(body): ApiJson<SeatsPatch>,
) -> AppResult<ApiResponse<SeatsUpdated>> {
    Ok(ApiResponse::ok(seats::update_seats(&state.writer, venue_id, body, state.clock.now()).await?))
}
