use crate::harness::TestApp;

#[tokio::test]
async fn live_and_ready_answer_when_the_database_does() {
    let app = TestApp::spawn().await;
    let live = app.get("/health/live").await;
    assert_eq!(live.status, 200);
    assert_eq!(live.body["status"], "ok");
    let ready = app.get("/health/ready").await;
    assert_eq!(ready.status, 200);
    assert_eq!(ready.body["checks"]["database"], "ok");
}

#[tokio::test]
async fn responses_carry_a_request_id() {
    let app = TestApp::spawn().await;
    let res = app.get("/api/categories/").await;
    let id = res.headers.get("x-request-id").expect("x-request-id header");
    assert_eq!(id.len(), 36, "a UUID: {id:?}");
}

#[tokio::test]
async fn metrics_count_requests_by_route_holds_and_websockets() {
    use curtain::accounts::roles::Role;
    use futures_util::StreamExt;
    let app = TestApp::with_demo().await;
    let (_, buyer) = app.quick_user("metered@example.com", Role::Customer).await;
    let (event, seats) = app.demo_event(0).await;
    let (mut ws, _) = tokio_tungstenite::connect_async(format!(
        "{}/ws/events/{event}/seats",
        app.base.replace("http", "ws")
    ))
    .await
    .unwrap();
    ws.next().await.unwrap().unwrap();
    app.post("/api/bookings", &serde_json::json!({"event_id": event, "seat_ids": [seats[0]]}), Some(&buyer))
        .await;
    app.get(&format!("/api/events/{event}")).await;
    let res = app.get("/metrics").await;
    assert_eq!(res.status, 200);
    assert!(res.headers["content-type"].to_str().unwrap().starts_with("text/plain"));
    for needle in [
        "curtain_http_requests_total{",
        "route=\"/api/events/{id}\"",
        "curtain_http_request_duration_seconds_bucket",
        "curtain_holds_total{result=\"held\"}",
        "curtain_ws_connections",
        "curtain_ws_messages_sent_total",
    ] {
        assert!(
            res.text.contains(needle),
            "{needle} missing from /metrics:\n{}",
            &res.text[..res.text.len().min(2000)]
        );
    }
    assert!(
        !res.text.contains(&format!("route=\"/api/events/{event}\"")),
        "routes are patterns, not raw paths"
    );
}
