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
