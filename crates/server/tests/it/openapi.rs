use crate::harness::TestApp;

#[tokio::test]
async fn the_openapi_document_is_3_1_and_lists_every_api_route() {
    let app = TestApp::spawn().await;
    let res = app.get("/api/openapi.json").await;
    assert_eq!(res.status, 200);
    assert!(res.body["openapi"].as_str().unwrap().starts_with("3.1"), "{}", res.body["openapi"]);
    let paths = res.body["paths"].as_object().unwrap();
    let mut documented: Vec<&str> = paths.keys().map(String::as_str).collect();
    documented.sort_unstable();
    assert_eq!(
        documented,
        [
            "/api/admin/jobs",
            "/api/admin/jobs/summary",
            "/api/admin/jobs/{id}/discard",
            "/api/admin/jobs/{id}/retry",
            "/api/admin/users",
            "/api/admin/users/{id}",
            "/api/auth/login",
            "/api/auth/logout",
            "/api/auth/me",
            "/api/auth/password",
            "/api/auth/password-reset/confirm",
            "/api/auth/password-reset/request",
            "/api/auth/refresh",
            "/api/auth/register",
            "/api/auth/verify-email",
            "/api/bookings",
            "/api/bookings/{id}",
            "/api/bookings/{id}/cancel",
            "/api/bookings/{id}/history",
            "/api/categories",
            "/api/events",
            "/api/events/{id}",
            "/api/events/{id}/seats",
            "/api/events/{id}/seats/block",
            "/api/events/{id}/seats/unblock",
            "/api/me",
            "/api/me/export",
            "/api/tags",
            "/api/venues",
            "/api/venues/{id}",
            "/api/venues/{id}/events",
        ]
    );
    assert!(res.body["components"]["securitySchemes"]["bearer"].is_object());
}

#[tokio::test]
async fn the_docs_viewer_is_served_without_any_download() {
    let app = TestApp::spawn().await;
    let res = app.get("/api/docs/").await;
    assert_eq!(res.status, 200);
    assert!(res.text.to_lowercase().contains("swagger"), "{}", &res.text[..200.min(res.text.len())]);
    let bundle = app.get("/api/docs/swagger-ui-bundle.js").await;
    assert_eq!(bundle.status, 200);
    assert!(bundle.text.len() > 100_000);
}
