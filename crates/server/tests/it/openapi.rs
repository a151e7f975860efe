use std::collections::BTreeSet;

use curtain::accounts::roles::Role;
use reqwest::{
    Method,
    header::{AUTHORIZATION, CONTENT_TYPE},
};
use serde_json::{Value, json};

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
    // Staff writes say they need the bearer token, and which role.
    for (path, method) in
        [("/api/venues", "post"), ("/api/events/{id}/prices", "put"), ("/api/events/{id}/images", "post")]
    {
        assert_eq!(
            paths[path][method]["security"][0]["bearer"],
            serde_json::json!(["staff"]),
            "{method} {path}"
        );
    }
    assert_eq!(paths["/api/admin/users"]["get"]["security"][0]["bearer"], serde_json::json!(["admin"]));
    assert_eq!(paths["/api/auth/me"]["get"]["security"][0]["bearer"], serde_json::json!([]));
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

/// One request of the walk: the bearer token, the body (content type and bytes), the query.
type Probe = (Option<String>, Option<(&'static str, &'static str)>, &'static str);

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// Every (method, path, operation) of the document, deletions last so the walk keeps its data.
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut ops: Vec<(String, String, Value)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            METHODS
                .iter()
                .filter_map(move |m| item.get(*m).map(|op| (m.to_string(), path.clone(), op.clone())))
        })
        .collect();
    ops.sort_by_key(|(method, _, _)| method == "delete");
    ops
}

/// SPEC §9: the document lists every status each operation can answer. Walks every operation of
/// the served document with no token, a customer's, a staff member's and an admin's; operations
/// with a JSON body also get a malformed body and a `text/plain` one, and those with a query
/// string an invalid one. Every answer's status must be among the operation's responses.
#[tokio::test]
async fn every_status_the_api_answers_is_documented() {
    let app = TestApp::with_demo().await;
    let doc = app.get("/api/openapi.json").await.body;
    let venue = app.get("/api/venues").await.data()[0]["id"].as_i64().unwrap();
    let section =
        app.get(&format!("/api/venues/{venue}")).await.data()["sections"][0]["id"].as_i64().unwrap();
    let (event, seats) = app.demo_event(0).await;
    let (buyer, buyer_token) = app.quick_user("walk.buyer@curtain.test", Role::Customer).await;
    let booking = app
        .post("/api/bookings", &json!({"event_id": event, "seat_ids": [seats[0]]}), Some(&buyer_token))
        .await;
    assert_eq!(booking.status, 201, "{}", booking.text);
    let booking = booking.data()["id"].as_i64().unwrap();

    // Redirects are answers too (VNPAY's return): not followed.
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let mut undocumented = BTreeSet::new();
    let mut sent = 0;
    for (n, (method, path, op)) in operations(&doc).into_iter().enumerate() {
        let id = if path.starts_with("/api/events/") {
            event
        } else if path.starts_with("/api/venues/") {
            venue
        } else if path.starts_with("/api/bookings/") {
            booking
        } else if path.starts_with("/api/admin/users/") {
            buyer
        } else {
            1
        };
        let url = path
            .replace("{id}", &id.to_string())
            .replace("{section_id}", &section.to_string())
            .replace("{image_id}", "1")
            .replace("{review_id}", "1");
        assert!(!url.contains('{'), "unfilled path parameter in {path}");
        let documented: Vec<&String> = op["responses"].as_object().unwrap().keys().collect();
        let json_body = op["requestBody"]["content"].get("application/json").is_some();
        let with_query = op["parameters"].as_array().into_iter().flatten().any(|p| p["in"] == "query");
        // Fresh accounts for each operation: one that signs out or deletes its account spoils
        // no other.
        let mut tokens = vec![None];
        for (role, name) in [(Role::Customer, "customer"), (Role::Staff, "staff"), (Role::Admin, "admin")] {
            let (_, token) = app.quick_user(&format!("walk.{name}.{n}@curtain.test"), role).await;
            tokens.push(Some(token));
        }
        let admin = tokens[3].clone();
        let mut requests: Vec<Probe> = Vec::new();
        for token in &tokens {
            requests.push((token.clone(), json_body.then_some(("application/json", "{}")), ""));
        }
        if json_body {
            requests.push((admin.clone(), Some(("application/json", "{\"")), ""));
            requests.push((admin.clone(), Some(("text/plain", "{}")), ""));
        }
        if with_query {
            requests.push((admin.clone(), None, "?page=0&page_size=1000"));
        }
        for (token, body, query) in requests {
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let mut req = client.request(method.clone(), app.url(&format!("{url}{query}")));
            if let Some(token) = &token {
                req = req.header(AUTHORIZATION, format!("Bearer {token}"));
            }
            if let Some((content_type, body)) = body {
                req = req.header(CONTENT_TYPE, content_type).body(body);
            }
            let res = req.send().await.unwrap();
            sent += 1;
            let status = res.status().as_u16().to_string();
            if !documented.contains(&&status) {
                let who = ["anonymous", "customer", "staff", "admin"]
                    [tokens.iter().position(|t| *t == token).unwrap_or(0)];
                let what = body.map(|(t, b)| format!(" {t} {b}")).unwrap_or_default();
                undocumented.insert(format!("{method} {path} -> {status} ({who}{what}{query})"));
            }
        }
    }
    assert!(sent > 300, "only {sent} requests");
    assert!(
        undocumented.is_empty(),
        "undocumented answers:\n{}",
        undocumented.into_iter().collect::<Vec<_>>().join("\n")
    );
}

/// The statuses every operation shares are documented by rule, through one shared response each
/// that carries the error envelope.
#[test]
fn shared_failures_are_documented_on_every_operation() {
    let (_, document) = curtain::app::api_document();
    let doc = serde_json::to_value(&document).unwrap();
    for name in ["ValidationFailed", "Unauthorized", "Forbidden", "RateLimited", "ServiceUnavailable"] {
        let response = &doc["components"]["responses"][name];
        assert_eq!(
            response["content"]["application/json"]["schema"]["$ref"], "#/components/schemas/ErrorEnvelope",
            "{name}"
        );
    }
    assert!(doc["components"]["responses"]["RateLimited"]["headers"]["Retry-After"].is_object());
    for (method, path, op) in operations(&doc) {
        let has = |status: &str| op["responses"].get(status).is_some();
        if path.starts_with("/api/payments/vnpay/") {
            // VNPAY's callbacks answer VNPAY's protocol only and are not rate limited.
            assert!(!has("429") && !has("503"), "{method} {path}");
            continue;
        }
        assert!(has("429") && has("503"), "{method} {path}: 429 and 503");
        if op.get("requestBody").is_some() {
            assert!(has("400") && has("413"), "{method} {path}: body statuses");
        }
        let secured = op["security"].as_array().into_iter().flatten().any(|r| r.get("bearer").is_some());
        assert!(has("401") || !secured, "{method} {path}: 401 wherever a token is read");
        if path.contains('{') {
            assert!(has("404"), "{method} {path}: 404");
        }
    }
    let login = &doc["paths"]["/api/auth/login"]["post"]["responses"];
    assert!(login["415"].is_object() && login["400"].is_object());
    // Bodies that may be absent (the browser sends the refresh cookie) are read whatever their type.
    assert!(doc["paths"]["/api/auth/refresh"]["post"]["responses"].get("415").is_none());
}

/// Request schemas say what validation enforces, so data generated from them is accepted.
#[test]
fn request_schemas_carry_the_validators_limits() {
    let (_, document) = curtain::app::api_document();
    let doc = serde_json::to_value(&document).unwrap();
    let schema = |name: &str, field: &str| doc["components"]["schemas"][name]["properties"][field].clone();
    let register = schema("RegisterBody", "password");
    assert_eq!((register["minLength"].as_u64(), register["maxLength"].as_u64()), (Some(10), Some(128)));
    assert_eq!(schema("RegisterBody", "email")["format"], "email");
    assert_eq!(schema("EventBody", "title")["maxLength"], 200);
    assert_eq!(schema("EventBody", "slug")["pattern"], "^[a-z0-9]+(-[a-z0-9]+)*$");
    assert_eq!(schema("PriceItem", "price")["maximum"], 1_000_000_000);
    assert_eq!(schema("ReviewBody", "rating")["minimum"], 1);
    assert_eq!(schema("ReviewBody", "rating")["maximum"], 5);
    let seats = schema("CreateBooking", "seat_ids");
    assert_eq!((seats["maxItems"].as_u64(), seats["uniqueItems"].as_bool()), (Some(10), Some(true)));
    assert_eq!(schema("CreateBooking", "quantity")["maximum"], 10);
    assert_eq!(schema("LayoutSpec", "rows")["maximum"], 1000);
    assert_eq!(schema("SectionBody", "color")["pattern"], "^#[0-9A-Fa-f]{6}$");
    let zones = schema("VenueBody", "time_zone");
    assert!(zones["enum"].as_array().unwrap().contains(&json!("Asia/Ho_Chi_Minh")), "{zones}");
    let page_size = doc["paths"]["/api/events"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "page_size")
        .unwrap()
        .clone();
    assert_eq!(page_size["schema"]["maximum"], 100, "{page_size}");
}
