//! The OpenAPI document's frame; every path comes from the handlers' `#[utoipa::path]`.

use axum::http::StatusCode;
use utoipa::{
    Modify,
    openapi::{
        Content, HeaderBuilder, ObjectBuilder, OpenApi, Ref, RefOr, Required, Response, ResponseBuilder,
        Type,
        path::{Operation, ParameterIn},
        security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
    },
};

#[derive(utoipa::OpenApi)]
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
    fn modify(&self, openapi: &mut OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "An access token from /api/auth/login. A requirement listing a role \
                         (`staff`, `admin`) needs at least that role: customer < staff < admin; \
                         a lesser role answers 403.",
                    ))
                    .build(),
            ),
        );
    }
}

/// Finishes the document once the routes' paths are in.
///
/// Statuses that come from the shared machinery rather than from a handler's own rules are added
/// here, once, so no annotation can forget them (SPEC §9):
/// - 400 `validation_failed` for a body (malformed JSON, wrong field types) or a query string;
/// - 401 wherever a bearer token is read (required, or optional: a bad token is never ignored);
/// - 403 where the security requirement names a role;
/// - 404 where the path has a parameter (an id that does not parse names nothing);
/// - 413 for a body over the size limit, 415 for a required JSON body sent as another type;
/// - 429 on every rate-limited route (all of `/api/` but VNPAY's callbacks);
/// - 503 everywhere (a busy database, a dependency down).
///
/// Each refers to one shared response in `components/responses`, itself the error envelope. A
/// status a handler documents itself (with the codes it uses) is kept as written. Then every
/// response gets a description (required by OpenAPI), the status's reason phrase where the
/// handler did not say more.
pub fn complete(openapi: &mut OpenApi) {
    let components = openapi.components.get_or_insert_with(Default::default);
    for (name, _, description) in SHARED {
        components.responses.insert((*name).to_owned(), RefOr::T(shared_response(name, description)));
    }
    for (path, item) in openapi.paths.paths.iter_mut() {
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
            if answers_in_envelope(path) {
                for status in shared_statuses(path, operation) {
                    let name = SHARED.iter().find(|(_, s, _)| *s == status).map(|(n, _, _)| *n);
                    if let Some(name) = name {
                        operation
                            .responses
                            .responses
                            .entry(status.to_string())
                            .or_insert_with(|| RefOr::Ref(Ref::from_response_name(name)));
                    }
                }
            }
            for (status, response) in operation.responses.responses.iter_mut() {
                if let RefOr::T(response) = response
                    && response.description.is_empty()
                {
                    let reason = status
                        .parse::<u16>()
                        .ok()
                        .and_then(|code| StatusCode::from_u16(code).ok())
                        .and_then(|code| code.canonical_reason())
                        .unwrap_or("Response");
                    response.description = reason.to_owned();
                }
            }
        }
    }
}

/// The shared error responses: name in `components/responses`, status, description.
const SHARED: &[(&str, u16, &str)] = &[
    (
        "ValidationFailed",
        400,
        "`validation_failed`: the body or query string is malformed or invalid; `errors` names each field",
    ),
    ("Unauthorized", 401, "`unauthorized` (no token) or `invalid_token` (invalid, revoked or expired)"),
    ("Forbidden", 403, "`forbidden`: the signed-in user's role is not enough"),
    ("NotFound", 404, "`not_found`"),
    ("PayloadTooLarge", 413, "`payload_too_large`: the body is over the size limit"),
    ("UnsupportedMediaType", 415, "`unsupported_media_type`: send the body as application/json"),
    ("RateLimited", 429, "`rate_limited`: too many requests; `Retry-After` says when to try again"),
    (
        "ServiceUnavailable",
        503,
        "`service_unavailable`: busy or a dependency is down; retry after `Retry-After` seconds",
    ),
];

fn shared_response(name: &str, description: &str) -> Response {
    let mut response = ResponseBuilder::new()
        .description(description)
        .content("application/json", Content::new(Some(Ref::from_schema_name("ErrorEnvelope"))));
    if matches!(name, "RateLimited" | "ServiceUnavailable") {
        let seconds = ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(0));
        response = response.header(
            "Retry-After",
            HeaderBuilder::new()
                .schema(Some(seconds))
                .description(Some("Seconds to wait before retrying."))
                .build(),
        );
    }
    response.build()
}

/// VNPAY's callbacks speak VNPAY's protocol (a redirect, its JSON), are not rate limited and never
/// answer the envelope; everything else under `/api/` does.
fn answers_in_envelope(path: &str) -> bool {
    path.starts_with("/api/") && !path.starts_with("/api/payments/vnpay/")
}

/// The statuses `operation` can answer through the shared machinery (see `complete`).
fn shared_statuses(path: &str, operation: &Operation) -> Vec<u16> {
    let mut statuses = Vec::new();
    let requirements: Vec<serde_json::Value> =
        operation.security.iter().flatten().filter_map(|r| serde_json::to_value(r).ok()).collect();
    let bearer: Vec<&serde_json::Value> = requirements.iter().filter_map(|r| r.get("bearer")).collect();
    let has_params_in = |place: ParameterIn| {
        operation.parameters.iter().flatten().any(|p| matches!(p, RefOr::T(p) if p.parameter_in == place))
    };
    let body = match &operation.request_body {
        Some(RefOr::T(body)) => Some(body),
        _ => None,
    };
    if body.is_some() || has_params_in(ParameterIn::Query) {
        statuses.push(400);
    }
    if !bearer.is_empty() {
        statuses.push(401);
    }
    if bearer.iter().any(|roles| roles.as_array().is_some_and(|r| !r.is_empty())) {
        statuses.push(403);
    }
    if has_params_in(ParameterIn::Path) || path.contains('{') {
        statuses.push(404);
    }
    if let Some(body) = body {
        statuses.push(413);
        // A required JSON body is read by `ApiJson`, which wants the JSON content type; optional
        // bodies (`refresh`, `logout`, a booking's cancellation) are read as bytes of any type.
        if body.content.contains_key("application/json") && matches!(body.required, Some(Required::True)) {
            statuses.push(415);
        }
    }
    statuses.push(429);
    statuses.push(503);
    statuses
}

/// Schemas of request fields whose rules the derive attributes cannot say (constraints on the
/// items of a list, unique items, the closed set of time zones), used with `schema_with`.
pub mod fields {
    use utoipa::openapi::{ArrayBuilder, KnownFormat, ObjectBuilder, SchemaFormat, Type, schema::Schema};

    fn ids(min: usize, max: usize, what: &str) -> Schema {
        ArrayBuilder::new()
            .items(
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64))),
            )
            .min_items((min > 0).then_some(min))
            .max_items(Some(max))
            .unique_items(true)
            .description(Some(what))
            .build()
            .into()
    }

    /// Seats picked on the map for a new hold: 1 to 10, each once.
    pub fn seats_to_hold() -> Schema {
        ids(1, 10, "Seats picked on the map (1–10, each once).")
    }

    /// Seats added to or released from a pending booking: at most 10, each once.
    pub fn seats_to_change() -> Schema {
        ids(0, 10, "At most 10 seats, each once.")
    }

    /// Seats of a performance to block or unblock: 1 to 1000, each once.
    pub fn seats_to_block() -> Schema {
        ids(1, 1000, "1 to 1000 seats of the performance, each once.")
    }

    /// One length per row, front to back: 1 to 1000 rows of 1 to 1000 seats (100,000 seats at
    /// most in all).
    pub fn row_lengths() -> Schema {
        let length = ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(1)).maximum(Some(1000));
        ArrayBuilder::new()
            .items(length)
            .min_items(Some(1))
            .max_items(Some(1000))
            .description(Some(
                "One length per row, front to back (1–1000 rows of 1–1000 seats, at most 100,000 seats); \
                 instead of `rows` × `seats_per_row`.",
            ))
            .build()
            .into()
    }

    /// Seat positions after which an aisle runs (within the widest row).
    pub fn aisles_after() -> Schema {
        let position = ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(1));
        ArrayBuilder::new()
            .items(position)
            .description(Some(
                "Seat positions in a row (1-based, from the left) after which an aisle runs; each lies \
                 before the last seat of the widest row.",
            ))
            .build()
            .into()
    }

    /// Free labels of a venue: at most 30, each 1 to 50 characters.
    pub fn amenities() -> Schema {
        let label = ObjectBuilder::new()
            .schema_type(Type::String)
            .min_length(Some(1))
            .max_length(Some(50))
            .pattern(Some("\\S"));
        ArrayBuilder::new()
            .items(label)
            .max_items(Some(30))
            .description(Some(
                "Free labels such as `parking`, `wheelchair_access`, `hearing_loop`, `bar`, `cloakroom` \
                 (at most 30, each 1–50 characters).",
            ))
            .build()
            .into()
    }

    /// An IANA time zone name, from the same database the server checks against.
    pub fn time_zone() -> Schema {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name())))
            .description(Some("IANA time zone, e.g. `Asia/Ho_Chi_Minh`."))
            .build()
            .into()
    }
}
