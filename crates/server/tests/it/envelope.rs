//! The envelope and error codes of SPEC §6, including errors raised by the framework.

use reqwest::Method;
use serde_json::json;

use crate::harness::TestApp;

#[tokio::test]
async fn success_answers_are_enveloped() {
    let app = TestApp::spawn().await;
    let res = app.get("/api/categories/").await;
    assert_eq!(res.status, 200);
    assert_eq!(res.body["data"], json!([]));
    assert_eq!(res.body["errors"], json!([]));
    assert_eq!(res.body["meta"]["version"], env!("CARGO_PKG_VERSION"));
    assert!(res.body["meta"]["timestamp"].as_str().unwrap().contains('T'));
}

#[tokio::test]
async fn unknown_ids_and_routes_are_not_found() {
    let app = TestApp::spawn().await;
    for path in [
        "/api/venues/999999/",
        "/api/events/999999",
        "/api/events/abc/",
        "/api/events/-1/seats/",
        "/api/no-such-thing/",
        "/api/venues/99999999999999999999999",
    ] {
        let res = app.get(path).await;
        assert_eq!(res.status, 404, "{path}");
        assert_eq!(res.error_code(), "not_found", "{path}");
        assert!(res.body["data"].is_null());
    }
}

#[tokio::test]
async fn every_path_answers_with_and_without_its_trailing_slash() {
    let app = TestApp::with_demo().await;
    for path in ["/api/events", "/api/venues", "/api/categories", "/api/tags", "/health/ready"] {
        let without = app.get(path).await;
        let with = app.get(&format!("{path}/")).await;
        assert_eq!(without.status, 200, "{path}");
        assert_eq!(with.status, 200, "{path}/");
        assert_eq!(without.body["data"], with.body["data"], "{path}");
    }
    let with_query = app.get("/api/events/?page_size=2").await;
    assert_eq!(with_query.data().as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn a_wrong_method_is_refused_in_the_envelope() {
    let app = TestApp::spawn().await;
    let res = app.request(Method::DELETE, "/api/categories/", None).await;
    assert_eq!(res.status, 405);
    assert_eq!(res.error_code(), "method_not_allowed");
}

#[tokio::test]
async fn malformed_query_parameters_name_their_fields() {
    let app = TestApp::spawn().await;
    let res = app.get("/api/events/?page=-1&page_size=10000&date_from=tomorrow&ordering=popularity").await;
    assert_eq!(res.status, 400);
    assert_eq!(res.error_code(), "validation_failed");
    let mut fields = res.error_fields();
    fields.sort();
    assert_eq!(fields, ["date_from", "ordering", "page", "page_size"]);

    let res = app.get("/api/events/?page=abc").await;
    assert_eq!(res.status, 400);
    assert_eq!(res.error_fields(), ["page"]);
    let res = app.get("/api/events/?date_from=2026-12-10&date_to=2026-12-01").await;
    assert_eq!(res.error_fields(), ["date_to"]);
    let res = app.get("/api/venues/?page_size=0").await;
    assert_eq!(res.error_fields(), ["page_size"]);
}

#[tokio::test]
async fn non_api_paths_are_not_enveloped() {
    let app = TestApp::spawn().await;
    let root = app.get("/").await;
    assert_eq!(root.status, 200);
    assert!(root.text.contains("Curtain"));
    let missing = app.get("/no/such/page").await;
    assert_eq!(missing.status, 404);
    assert!(missing.body.is_null(), "HTML, not JSON");
}
