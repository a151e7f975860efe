//! The OpenAPI document's frame; every path comes from the handlers' `#[utoipa::path]`.

use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Curtain API",
        description = "Theater ticketing: venues, performances, live seat maps, bookings, VNPAY payments and e-tickets. Every JSON answer under /api/ uses the envelope {data, meta, errors}.",
        license(name = "AGPL-3.0-or-later")
    ),
    tags(
        (name = "venues", description = "Theaters, their sections and seats"),
        (name = "events", description = "Performances, prices and seat maps"),
        (name = "catalog", description = "Categories and tags")
    )
)]
pub struct ApiDoc;
