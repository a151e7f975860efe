//! The OpenAPI document's frame; every path comes from the handlers' `#[utoipa::path]`.

use utoipa::{
    Modify, OpenApi,
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
};

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
        (name = "catalog", description = "Categories and tags"),
        (name = "auth", description = "Accounts, sign-in and tokens"),
        (name = "admin", description = "Users and roles (admin only)"),
        (name = "bookings", description = "Seat holds, bookings and their history")
    ),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

/// Declares the `bearer` security scheme the handlers refer to.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build(),
            ),
        );
    }
}

/// Finishes the document once the routes' paths are in: every response gets a description
/// (required by OpenAPI), the status's reason phrase where the handler did not say more.
pub fn complete(openapi: &mut utoipa::openapi::OpenApi) {
    {
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.options,
                &mut item.head,
                &mut item.patch,
                &mut item.trace,
            ];
            for operation in operations.into_iter().flatten() {
                for (status, response) in operation.responses.responses.iter_mut() {
                    if let utoipa::openapi::RefOr::T(response) = response
                        && response.description.is_empty()
                    {
                        let reason = status
                            .parse::<u16>()
                            .ok()
                            .and_then(|code| axum::http::StatusCode::from_u16(code).ok())
                            .and_then(|code| code.canonical_reason())
                            .unwrap_or("Response");
                        response.description = reason.to_owned();
                    }
                }
            }
        }
    }
}
