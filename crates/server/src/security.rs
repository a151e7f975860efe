//! Response headers that keep browsers safe (SPEC §9), and CORS for configured origins only.

use axum::Router;
use axum::http::{HeaderName, HeaderValue, Method, header};
use tower_http::{
    cors::{AllowOrigin, CorsLayer},
    set_header::SetResponseHeaderLayer,
};

/// The SPA's policy: everything from this origin, WebSockets back to it, images also as data/blob
/// URLs (previews), inline styles for the seat map's computed colours; no framing by anyone.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
img-src 'self' data: blob:; connect-src 'self' ws: wss:; font-src 'self'; object-src 'none'; \
base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

type SetHeader = SetResponseHeaderLayer<HeaderValue>;

pub fn content_security_policy() -> SetHeader {
    SetResponseHeaderLayer::if_not_present(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP))
}

/// Adds no-sniff, no framing, a conservative referrer policy, and HSTS when served over https.
pub fn with_headers<S: Clone + Send + Sync + 'static>(router: Router<S>, https: bool) -> Router<S> {
    let router = router
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("strict-origin-when-cross-origin"),
        ));
    if https {
        router.layer(SetResponseHeaderLayer::if_not_present(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        ))
    } else {
        router
    }
}

/// Cross-origin requests only from `CURTAIN_CORS_ORIGINS` (none by default), with credentials so
/// the refresh cookie travels.
pub fn cors(origins: &[String]) -> CorsLayer {
    let allowed: Vec<HeaderValue> = origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()).collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(allowed))
        .allow_credentials(true)
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, HeaderName::from_static("x-request-id")])
        .expose_headers([header::RETRY_AFTER, HeaderName::from_static("x-request-id")])
}
