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
            "/api/admin/events",
            "/api/admin/jobs",
            "/api/admin/jobs/summary",
            "/api/admin/jobs/{id}/discard",
            "/api/admin/jobs/{id}/retry",
            "/api/admin/notices",
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
            "/api/bookings/{id}/invoice.pdf",
            "/api/bookings/{id}/tickets.pdf",
            "/api/categories",
            "/api/checkin",
            "/api/events",
            "/api/events/{id}",
            "/api/events/{id}/cancel",
            "/api/events/{id}/images",
            "/api/events/{id}/images/{image_id}",
            "/api/events/{id}/poster",
            "/api/events/{id}/prices",
            "/api/events/{id}/publish",
            "/api/events/{id}/reviews",
            "/api/events/{id}/reviews/{review_id}",
            "/api/events/{id}/seats",
            "/api/events/{id}/seats/block",
            "/api/events/{id}/seats/unblock",
            "/api/me",
            "/api/me/export",
            "/api/payments",
            "/api/payments/vnpay/ipn",
            "/api/payments/vnpay/return",
            "/api/payments/{id}/refund",
            "/api/tags",
            "/api/venues",
            "/api/venues/{id}",
            "/api/venues/{id}/events",
            "/api/venues/{id}/seats",
            "/api/venues/{id}/sections",
            "/api/venues/{id}/sections/{section_id}",
            "/api/venues/{id}/sections/{section_id}/seats",
        ]
    );
    // Public reads and staff writes share a path: both are documented.
    let methods = |path: &str| -> Vec<String> {
        let mut m: Vec<String> = paths[path].as_object().unwrap().keys().cloned().collect();
        m.sort();
        m
    };
    assert_eq!(methods("/api/venues"), ["get", "post"]);
    assert_eq!(methods("/api/venues/{id}"), ["delete", "get", "patch", "put"]);
    assert_eq!(methods("/api/events/{id}"), ["delete", "get", "patch", "put"]);
    assert_eq!(methods("/api/events/{id}/reviews"), ["get", "post"]);
    // Staff writes say they need the bearer token.
    for (path, method) in
        [("/api/venues", "post"), ("/api/events/{id}/prices", "put"), ("/api/events/{id}/images", "post")]
    {
        assert_eq!(paths[path][method]["security"][0]["bearer"], serde_json::json!([]), "{method} {path}");
    }
    assert!(
        paths["/api/events/{id}/images"]["post"]["requestBody"]["content"]["multipart/form-data"].is_object(),
        "the upload is documented as multipart"
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

/// What an operation says it does matches what it does: cancelling a booking also cancels (and
/// refunds) paid ones; deleting a performance can be refused while it has live bookings.
#[test]
fn operation_summaries_tell_the_truth() {
    let (_, document) = curtain::app::api_document();
    let doc = serde_json::to_value(&document).unwrap();
    let cancel = &doc["paths"]["/api/bookings/{id}/cancel"]["post"];
    let summary = cancel["summary"].as_str().unwrap();
    assert!(summary.contains("pending or confirmed"), "{summary}");
    assert!(cancel["description"].as_str().unwrap().contains("refunded"), "{cancel}");
    let delete = &doc["paths"]["/api/events/{id}"]["delete"];
    assert!(delete["responses"]["409"]["description"].as_str().unwrap().contains("has_bookings"));
}

/// Every target the Makefile declares phony exists (`make check-deploy` used to answer "No rule").
#[test]
fn every_phony_make_target_exists() {
    let makefile = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../Makefile")).unwrap();
    let phony: Vec<&str> =
        makefile.lines().filter_map(|l| l.strip_prefix(".PHONY:")).flat_map(str::split_whitespace).collect();
    assert!(phony.contains(&"test"), "{phony:?}");
    for target in phony {
        assert!(
            makefile.lines().any(|l| l.starts_with(&format!("{target}:"))),
            "the Makefile declares {target} phony but has no such target"
        );
    }
}
