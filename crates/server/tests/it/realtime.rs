//! Live updates (SPEC §7) over real WebSockets: seat changes in order, booking status, resync for
//! slow clients, refusals, guards, shutdown, and (with Redis) across two instances.

use std::time::Duration;

use curtain::{
    accounts::roles::Role,
    realtime::hub::{Message as HubMessage, Topic},
};
use futures_util::{SinkExt, StreamExt};
use reqwest::Method;
use serde_json::{Value, json};
use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream, connect_async,
    tungstenite::{Message, protocol::frame::coding::CloseCode},
};

use crate::harness::{TestApp, backends};

type Ws = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(app: &TestApp, path: &str) -> Ws {
    let url = format!("{}{}", app.base.replace("http://", "ws://"), path);
    connect_async(url).await.expect("websocket connects").0
}

/// Connects as the client `ip` behind a proxy that reports it in `X-Forwarded-For`.
async fn connect_from(app: &TestApp, path: &str, ip: &str) -> Ws {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let url = format!("{}{}", app.base.replace("http://", "ws://"), path);
    let mut request = url.into_client_request().unwrap();
    request.headers_mut().insert("x-forwarded-for", ip.parse().unwrap());
    connect_async(request).await.expect("websocket connects").0
}

/// The next JSON text frame (skipping pings), or panics after 5 s.
async fn next_json(ws: &mut Ws) -> Value {
    loop {
        let message =
            tokio::time::timeout(Duration::from_secs(5), ws.next()).await.expect("a frame within 5 s");
        match message {
            Some(Ok(Message::Text(text))) => return serde_json::from_str(&text).unwrap(),
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            other => panic!("expected a text frame, got {other:?}"),
        }
    }
}

/// Reads until the server closes; returns the close code and reason.
async fn close_of(ws: &mut Ws) -> (u16, String) {
    loop {
        match tokio::time::timeout(Duration::from_secs(12), ws.next()).await.expect("closed within 12 s") {
            Some(Ok(Message::Close(Some(frame)))) => {
                return (u16::from(frame.code), frame.reason.to_string());
            }
            Some(Ok(Message::Close(None))) | None => return (0, String::new()),
            Some(Err(err)) => return (0, err.to_string()),
            Some(Ok(_)) => continue,
        }
    }
}

/// Seat changes as (seat id, status), from frames until `count` changes arrived.
async fn changes(ws: &mut Ws, count: usize) -> Vec<(i64, String)> {
    let mut out = Vec::new();
    let mut last_version = 0;
    while out.len() < count {
        let frame = next_json(ws).await;
        assert_eq!(frame["type"], "seats", "{frame}");
        let version = frame["version"].as_i64().unwrap();
        assert!(version > last_version, "versions grow: {frame}");
        last_version = version;
        for change in frame["changes"].as_array().unwrap() {
            out.push((change["id"].as_i64().unwrap(), change["status"].as_str().unwrap().to_owned()));
        }
    }
    out
}

#[tokio::test]
async fn a_seat_map_subscriber_sees_holds_releases_and_blocks_in_order() {
    for backend in backends() {
        let app = TestApp::builder().demo().backend(&backend).spawn().await;
        let (_, buyer) = app.quick_user("live@example.com", Role::Customer).await;
        let (_, staff) = app.quick_user("desk@example.com", Role::Staff).await;
        let (event, seats) = app.demo_event(0).await;
        let mut ws = connect(&app, &format!("/ws/events/{event}/seats/")).await;
        let hello = next_json(&mut ws).await;
        assert_eq!(hello["type"], "hello");
        assert_eq!(hello["event_id"], event);
        let v0 = hello["version"].as_i64().unwrap();

        let booked = app
            .post("/api/bookings", &json!({"event_id": event, "seat_ids": &seats[..2]}), Some(&buyer))
            .await;
        let id = booked.data()["id"].as_i64().unwrap();
        let held = changes(&mut ws, 2).await;
        assert_eq!(held, [(seats[0], "held".to_owned()), (seats[1], "held".to_owned())], "{backend:?}");

        app.post(&format!("/api/bookings/{id}/cancel"), &json!({}), Some(&buyer)).await;
        assert_eq!(
            changes(&mut ws, 2).await,
            [(seats[0], "available".to_owned()), (seats[1], "available".to_owned())]
        );

        app.post(
            &format!("/api/events/{event}/seats/block"),
            &json!({"seat_ids": [seats[7]], "reason": "camera"}),
            Some(&staff),
        )
        .await;
        assert_eq!(changes(&mut ws, 1).await, [(seats[7], "blocked".to_owned())]);
        let map = app.get(&format!("/api/events/{event}/seats")).await;
        assert!(map.data()["version"].as_i64().unwrap() > v0);
    }
}

#[tokio::test]
async fn changes_made_on_one_instance_reach_subscribers_of_another() {
    let Some(redis) = backends().into_iter().flatten().next() else { return };
    let backend = Some(redis);
    let a = TestApp::builder().demo().backend(&backend).spawn().await;
    let b = a.second_instance().await;
    let (_, buyer) = a.quick_user("far@example.com", Role::Customer).await;
    let (event, seats) = a.demo_event(0).await;
    let mut ws = connect(&b, &format!("/ws/events/{event}/seats")).await;
    assert_eq!(next_json(&mut ws).await["type"], "hello");
    let res =
        a.post("/api/bookings", &json!({"event_id": event, "seat_ids": [seats[3]]}), Some(&buyer)).await;
    assert_eq!(res.status, 201);
    assert_eq!(changes(&mut ws, 1).await, [(seats[3], "held".to_owned())]);
}

#[tokio::test]
async fn a_client_that_falls_behind_is_told_to_resync() {
    let app = TestApp::with_demo().await;
    let (event, seats) = app.demo_event(0).await;
    let mut ws = connect(&app, &format!("/ws/events/{event}/seats")).await;
    assert_eq!(next_json(&mut ws).await["type"], "hello");
    // Far more changes than a subscriber may have waiting, published without a pause.
    for version in 1..=2000 {
        app.state.hub.seats(event, version, &seats[..1], "held").await;
    }
    let mut saw_resync = false;
    for _ in 0..50 {
        let frame = next_json(&mut ws).await;
        if frame["type"] == "resync" {
            assert_eq!(frame["event_id"], event);
            saw_resync = true;
            break;
        }
    }
    assert!(saw_resync, "a lagging client gets a resync, not an unbounded queue");
    // The connection stays usable.
    ws.send(Message::Text(r#"{"type":"ping"}"#.into())).await.unwrap();
    loop {
        let frame = next_json(&mut ws).await;
        if frame["type"] == "pong" {
            break;
        }
    }
}

#[tokio::test]
async fn the_booking_channel_needs_the_owners_token_in_the_first_message() {
    let app = TestApp::with_demo().await;
    let (_, owner) = app.quick_user("own@example.com", Role::Customer).await;
    let (_, stranger) = app.quick_user("peek@example.com", Role::Customer).await;
    let (event, seats) = app.demo_event(0).await;
    let id = app
        .post("/api/bookings", &json!({"event_id": event, "seat_ids": [seats[0]]}), Some(&owner))
        .await
        .data()["id"]
        .as_i64()
        .unwrap();
    let path = format!("/ws/bookings/{id}/");

    let mut ws = connect(&app, &path).await;
    ws.send(Message::Text(r#"{"type":"hello"}"#.into())).await.unwrap();
    assert_eq!(close_of(&mut ws).await.0, 4401);

    let mut ws = connect(&app, &path).await;
    ws.send(Message::Text(json!({"type": "auth", "token": "forged"}).to_string().into())).await.unwrap();
    assert_eq!(close_of(&mut ws).await.0, 4401);

    let mut ws = connect(&app, &path).await;
    ws.send(Message::Text(json!({"type": "auth", "token": stranger}).to_string().into())).await.unwrap();
    assert_eq!(close_of(&mut ws).await, (4404, "unknown booking".to_owned()));

    let mut ws = connect(&app, &path).await;
    ws.send(Message::Text(json!({"type": "auth", "token": owner}).to_string().into())).await.unwrap();
    let hello = next_json(&mut ws).await;
    assert_eq!((hello["type"].as_str(), hello["status"].as_str()), (Some("hello"), Some("pending")));
    app.send(Method::POST, &format!("/api/bookings/{id}/cancel"), Some(&json!({})), Some(&owner)).await;
    let update = next_json(&mut ws).await;
    assert_eq!(update, json!({"type": "booking", "id": id, "status": "cancelled"}));
}

#[tokio::test]
async fn garbage_oversized_floods_and_unknown_performances_are_closed_with_a_reason() {
    let app = TestApp::with_demo().await;
    let (event, _) = app.demo_event(0).await;
    let path = format!("/ws/events/{event}/seats");

    let mut ws = connect(&app, "/ws/events/999999/seats").await;
    assert_eq!(close_of(&mut ws).await, (4404, "unknown performance".to_owned()));
    let mut ws = connect(&app, "/ws/events/abc/seats").await;
    assert_eq!(close_of(&mut ws).await.0, 4404);

    let mut ws = connect(&app, &path).await;
    next_json(&mut ws).await;
    ws.send(Message::Text("garbage".into())).await.unwrap();
    assert_eq!(close_of(&mut ws).await, (1003, "unexpected message".to_owned()));

    let mut ws = connect(&app, &path).await;
    next_json(&mut ws).await;
    ws.send(Message::Binary(vec![0u8; 16].into())).await.unwrap();
    assert_eq!(close_of(&mut ws).await.0, 1003);

    let mut ws = connect(&app, &path).await;
    next_json(&mut ws).await;
    let _ = ws.send(Message::Text("x".repeat(64 * 1024).into())).await;
    let (code, _) = close_of(&mut ws).await;
    assert!(code == u16::from(CloseCode::Size) || code == 0, "oversized frame closes the connection: {code}");

    let mut ws = connect(&app, &path).await;
    next_json(&mut ws).await;
    for _ in 0..40 {
        if ws.send(Message::Text(r#"{"type":"ping"}"#.into())).await.is_err() {
            break;
        }
    }
    let (code, reason) = close_of(&mut ws).await;
    assert_eq!((code, reason.as_str()), (1008, "too many messages"));

    assert_eq!(app.get("/health/ready").await.status, 200, "the server stays healthy");
}

#[tokio::test]
async fn one_address_may_hold_only_so_many_connections() {
    let app = TestApp::builder().demo().env("CURTAIN_WS_MAX_PER_IP", "3").spawn().await;
    let (event, _) = app.demo_event(0).await;
    let path = format!("/ws/events/{event}/seats");
    let mut open = Vec::new();
    for _ in 0..3 {
        let mut ws = connect(&app, &path).await;
        assert_eq!(next_json(&mut ws).await["type"], "hello");
        open.push(ws);
    }
    let mut fourth = connect(&app, &path).await;
    assert_eq!(close_of(&mut fourth).await.0, 1013);
    drop(open.pop());
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut again = connect(&app, &path).await;
    assert_eq!(next_json(&mut again).await["type"], "hello", "a freed slot is reusable");
}

#[tokio::test]
async fn shutdown_closes_websockets_with_a_reason() {
    let app = TestApp::with_demo().await;
    let (event, _) = app.demo_event(0).await;
    let mut ws = connect(&app, &format!("/ws/events/{event}/seats")).await;
    next_json(&mut ws).await;
    let mut system = connect(&app, "/ws/system").await;
    assert_eq!(next_json(&mut system).await["type"], "hello");
    app.state.shutdown.send(true).unwrap();
    assert_eq!(close_of(&mut ws).await, (1001, "server shutting down".to_owned()));
    assert_eq!(close_of(&mut system).await.0, 1001);
}

#[tokio::test]
async fn the_system_channel_carries_cancellations_time_changes_and_staff_notices() {
    let app = TestApp::with_demo().await;
    let (_, staff) = app.quick_user("house@example.com", Role::Staff).await;
    let (_, customer) = app.quick_user("guest@example.com", Role::Customer).await;
    let (event, _) = app.demo_event(0).await;
    let (other, _) = app.demo_event(1).await;
    let mut ws = connect(&app, "/ws/system/").await;
    assert_eq!(next_json(&mut ws).await["type"], "hello");

    let start =
        app.get(&format!("/api/events/{other}")).await.data()["start_time"].as_str().unwrap().to_owned();
    let later =
        (chrono::DateTime::parse_from_rfc3339(&start).unwrap() + chrono::Duration::minutes(30)).to_rfc3339();
    let end =
        (chrono::DateTime::parse_from_rfc3339(&start).unwrap() + chrono::Duration::minutes(200)).to_rfc3339();
    let res = app
        .send(
            Method::PATCH,
            &format!("/api/events/{other}"),
            Some(&json!({"start_time": later, "end_time": end})),
            Some(&staff),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let moved = next_json(&mut ws).await;
    assert_eq!(
        (moved["type"].as_str(), moved["event_id"].as_i64(), moved["change"].as_str()),
        (Some("event"), Some(other), Some("time_changed"))
    );

    let res = app
        .post(&format!("/api/events/{event}/cancel"), &json!({"reason": "lead actor ill"}), Some(&staff))
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let cancelled = next_json(&mut ws).await;
    assert_eq!(
        cancelled,
        json!({"type": "event", "event_id": event, "change": "cancelled", "message": "lead actor ill"})
    );

    assert_eq!(
        app.post("/api/admin/notices", &json!({"message": "Doors open late"}), Some(&customer)).await.status,
        403
    );
    assert_eq!(
        app.post("/api/admin/notices", &json!({"message": " "}), Some(&staff)).await.error_fields(),
        ["message"]
    );
    let res = app
        .post("/api/admin/notices", &json!({"message": "Doors open 15 minutes late tonight"}), Some(&staff))
        .await;
    assert_eq!(res.status, 202);
    assert_eq!(
        next_json(&mut ws).await,
        json!({"type": "notice", "message": "Doors open 15 minutes late tonight"})
    );
}

#[tokio::test]
async fn a_sale_and_a_refund_reach_the_seat_map_and_the_booking_channel() {
    for backend in backends() {
        let app = TestApp::builder().demo().backend(&backend).spawn().await;
        let (_, buyer) = app.quick_user("live@example.com", Role::Customer).await;
        let (_, staff) = app.quick_user("desk@example.com", Role::Staff).await;
        let (event, seats) = app.demo_event(0).await;
        let mut seat_ws = connect(&app, &format!("/ws/events/{event}/seats/")).await;
        assert_eq!(next_json(&mut seat_ws).await["type"], "hello");

        let id = crate::payments::book(&app, &buyer, event, &seats[2..4]).await;
        assert_eq!(
            changes(&mut seat_ws, 2).await,
            [(seats[2], "held".to_owned()), (seats[3], "held".to_owned())]
        );
        let mut booking_ws = connect(&app, &format!("/ws/bookings/{id}/")).await;
        booking_ws
            .send(Message::Text(json!({"type": "auth", "token": buyer}).to_string().into()))
            .await
            .unwrap();
        assert_eq!(next_json(&mut booking_ws).await["status"], "pending");

        let (_, url) = crate::payments::start(&app, &buyer, id).await;
        crate::payments::decide(&url, "pay", true).await;
        assert_eq!(
            changes(&mut seat_ws, 2).await,
            [(seats[2], "sold".to_owned()), (seats[3], "sold".to_owned())],
            "{backend:?}"
        );
        assert_eq!(
            next_json(&mut booking_ws).await,
            json!({"type": "booking", "id": id, "status": "confirmed"})
        );

        let payment = app.get_as(&format!("/api/payments/?booking={id}"), &staff).await.data()[0]["id"]
            .as_i64()
            .unwrap();
        let res = app
            .post(&format!("/api/payments/{payment}/refund"), &json!({"reason": "show moved"}), Some(&staff))
            .await;
        assert_eq!(res.status, 201, "{}", res.text);
        assert_eq!(
            changes(&mut seat_ws, 2).await,
            [(seats[2], "available".to_owned()), (seats[3], "available".to_owned())]
        );
        assert_eq!(
            next_json(&mut booking_ws).await,
            json!({"type": "booking", "id": id, "status": "refunded"})
        );
    }
}

#[tokio::test]
async fn connection_caps_count_each_client_behind_a_trusted_proxy_and_the_whole_instance() {
    let app = TestApp::builder()
        .demo()
        .env("CURTAIN_TRUSTED_PROXIES", "127.0.0.1")
        .env("CURTAIN_WS_MAX_PER_IP", "2")
        .env("CURTAIN_WS_MAX", "4")
        .spawn()
        .await;
    let (event, _) = app.demo_event(0).await;
    let path = format!("/ws/events/{event}/seats");
    let mut open = Vec::new();
    for _ in 0..2 {
        let mut ws = connect_from(&app, &path, "203.0.113.1").await;
        assert_eq!(next_json(&mut ws).await["type"], "hello");
        open.push(ws);
    }
    let mut third = connect_from(&app, &path, "203.0.113.1").await;
    assert_eq!(close_of(&mut third).await, (1013, "too many connections from this address".to_owned()));
    // Everyone comes through the same proxy, yet another client still gets in.
    for _ in 0..2 {
        let mut ws = connect_from(&app, &path, "203.0.113.2").await;
        assert_eq!(next_json(&mut ws).await["type"], "hello", "a second client behind the proxy");
        open.push(ws);
    }
    // The instance as a whole is full.
    let mut fifth = connect_from(&app, &path, "203.0.113.3").await;
    assert_eq!(close_of(&mut fifth).await, (1013, "the server has too many connections".to_owned()));
    assert_eq!(app.state.ws.open(), 4);
}

/// Authenticates a booking channel and reads its hello.
async fn booking_channel(app: &TestApp, booking: i64, token: &str) -> Ws {
    let mut ws = connect(app, &format!("/ws/bookings/{booking}/")).await;
    ws.send(Message::Text(json!({"type": "auth", "token": token}).to_string().into())).await.unwrap();
    assert_eq!(next_json(&mut ws).await["type"], "hello");
    ws
}

#[tokio::test]
async fn the_booking_channel_closes_at_logout_on_every_instance() {
    for backend in backends() {
        let app = TestApp::builder().demo().backend(&backend).spawn().await;
        // With Redis the channel lives on another instance than the logout.
        let other = match backend {
            Some(_) => Some(app.second_instance().await),
            None => None,
        };
        let watching = other.as_ref().unwrap_or(&app);
        let (_, token) = app.quick_user("leaving@example.com", Role::Customer).await;
        let (_, other_token) = app.quick_user("staying@example.com", Role::Customer).await;
        let (event, seats) = app.demo_event(0).await;
        let mine = crate::payments::book(&app, &token, event, &seats[..1]).await;
        let theirs = crate::payments::book(&app, &other_token, event, &seats[1..2]).await;
        let mut ws = booking_channel(watching, mine, &token).await;
        let mut unaffected = booking_channel(watching, theirs, &other_token).await;

        let res = app.send(Method::POST, "/api/auth/logout", None, Some(&token)).await;
        assert_eq!(res.status, 204, "{}", res.text);
        assert_eq!(close_of(&mut ws).await, (4401, "signed out".to_owned()), "{backend:?}");
        // Someone else's session goes on.
        unaffected.send(Message::Text(r#"{"type":"ping"}"#.into())).await.unwrap();
        assert_eq!(next_json(&mut unaffected).await["type"], "pong");
    }
}

#[tokio::test]
async fn the_booking_channel_closes_when_its_token_expires() {
    let app = TestApp::with_demo().await;
    let (_, token) = app.quick_user("brief@example.com", Role::Customer).await;
    let (event, seats) = app.demo_event(0).await;
    let id = crate::payments::book(&app, &token, event, &seats[..1]).await;
    let mut ws = booking_channel(&app, id, &token).await;
    ws.send(Message::Text(r#"{"type":"ping"}"#.into())).await.unwrap();
    assert_eq!(next_json(&mut ws).await["type"], "pong", "alive while the token is");
    // Access tokens live 15 minutes.
    app.clock.advance(chrono::Duration::minutes(16));
    ws.send(Message::Text(r#"{"type":"ping"}"#.into())).await.unwrap();
    assert_eq!(close_of(&mut ws).await, (4401, "token expired".to_owned()));
}

/// Waits until `heard` delivers a seat change with `version`; false when it does not within
/// `within`. A resync from the hub on the way sets `resynced`.
async fn wait_for_version(
    heard: &mut tokio::sync::broadcast::Receiver<std::sync::Arc<HubMessage>>,
    version: i64,
    within: Duration,
    resynced: &mut bool,
) -> bool {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, heard.recv()).await {
            Err(_) => return false,
            Ok(Ok(message)) => match message.as_ref() {
                HubMessage::Seats { version: v, .. } if *v == version => return true,
                HubMessage::Resync => *resynced = true,
                _ => {}
            },
            // This receiver itself fell behind: it skips ahead, which is fine here.
            Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(_))) => {}
            Ok(Err(tokio::sync::broadcast::error::RecvError::Closed)) => return false,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_ten_thousand_changes_through_redis_does_not_silence_the_other_instance() {
    let Some(redis) = backends().into_iter().flatten().next() else { return };
    let a = TestApp::builder().demo().backend(&Some(redis)).spawn().await;
    let b = a.second_instance().await;
    let (_, buyer) = a.quick_user("burst@example.com", Role::Customer).await;
    let (event, seats) = a.demo_event(0).await;
    let mut heard = b.state.hub.subscribe(&Topic::Seats(event));

    // 10,000 changes published at once, pipelined on one connection: far more than fred's
    // default buffer of 32 between the Redis connection and the hub.
    let burst = (1..=10_000).map(|version| a.state.hub.seats(event, version, &seats[..1], "held"));
    futures_util::future::join_all(burst).await;
    // One more change still reaches the other instance.
    a.state.hub.seats(event, 10_001, &seats[1..2], "held").await;
    assert!(
        wait_for_version(&mut heard, 10_001, Duration::from_secs(60), &mut false).await,
        "the change after the burst never reached the other instance"
    );
    // And a real hold on one instance reaches a seat map open on the other.
    let mut ws = connect(&b, &format!("/ws/events/{event}/seats")).await;
    assert_eq!(next_json(&mut ws).await["type"], "hello");
    let res =
        a.post("/api/bookings", &json!({"event_id": event, "seat_ids": [seats[5]]}), Some(&buyer)).await;
    assert_eq!(res.status, 201, "{}", res.text);
    assert_eq!(changes(&mut ws, 1).await, [(seats[5], "held".to_owned())]);
}

/// A `redis-server` of this test's own on a free port, so restarting it disturbs nobody else.
struct PrivateRedis {
    port: u16,
    dir: tempfile::TempDir,
    child: Option<std::process::Child>,
}

impl PrivateRedis {
    /// Starts one, or `None` when `redis-server` is not installed (a failure when CI requires Redis).
    async fn start() -> Option<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut redis = Self { port, dir: tempfile::tempdir().unwrap(), child: None };
        match redis.spawn() {
            Ok(()) => {
                redis.wait_until_up().await;
                Some(redis)
            }
            Err(err) if std::env::var("CURTAIN_REQUIRE_REDIS").as_deref() == Ok("1") => {
                panic!("CURTAIN_REQUIRE_REDIS=1 but redis-server cannot start: {err}")
            }
            Err(_) => None,
        }
    }

    fn spawn(&mut self) -> std::io::Result<()> {
        let child = std::process::Command::new("redis-server")
            .args([
                "--port",
                &self.port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .arg("--dir")
            .arg(self.dir.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()?;
        self.child = Some(child);
        Ok(())
    }

    async fn wait_until_up(&self) {
        for _ in 0..200 {
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port)).await.is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the private redis-server did not start on port {}", self.port);
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.stop();
    }
}

#[tokio::test]
async fn live_updates_resume_after_redis_restarts() {
    let Some(mut redis) = PrivateRedis::start().await else { return };
    let backend = Some((redis.url(), "curtain-test-restart:".to_owned()));
    let a = TestApp::builder().demo().backend(&backend).spawn().await;
    let b = a.second_instance().await;
    let (_, buyer) = a.quick_user("restart@example.com", Role::Customer).await;
    let (event, seats) = a.demo_event(0).await;
    let mut heard = b.state.hub.subscribe(&Topic::Seats(event));
    a.state.hub.seats(event, 1, &seats[..1], "held").await;
    let mut resynced = false;
    assert!(
        wait_for_version(&mut heard, 1, Duration::from_secs(10), &mut resynced).await,
        "before the restart"
    );
    assert!(!resynced, "no resync while nothing was lost");

    // Redis restarts on the same port; the instances reconnect by themselves.
    redis.stop();
    redis.spawn().unwrap();
    redis.wait_until_up().await;

    // Changes made while an instance is not yet back are lost to the other one, so keep making
    // them until one arrives: it must, and the subscriber must have been told to resync first.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let mut version = 100;
    loop {
        assert!(tokio::time::Instant::now() < deadline, "no update crossed Redis after its restart");
        version += 1;
        a.state.hub.seats(event, version, &seats[..1], "held").await;
        if wait_for_version(&mut heard, version, Duration::from_millis(500), &mut resynced).await {
            break;
        }
    }
    assert!(resynced, "subscribers are told to resync after the hub reconnects");

    // Real holds reach a seat map on the other instance again.
    let mut ws = connect(&b, &format!("/ws/events/{event}/seats")).await;
    assert_eq!(next_json(&mut ws).await["type"], "hello");
    let res =
        a.post("/api/bookings", &json!({"event_id": event, "seat_ids": [seats[4]]}), Some(&buyer)).await;
    assert_eq!(res.status, 201, "{}", res.text);
    assert_eq!(changes(&mut ws, 1).await, [(seats[4], "held".to_owned())]);
}

/// The subject and plain text of every mail the file mailer wrote to `to`.
fn mails_to(app: &TestApp, to: &str) -> Vec<(String, String)> {
    let dir = app.state.config.data_dir.join("mail");
    std::fs::read_dir(&dir)
        .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .filter_map(|p| {
            let raw = std::fs::read(p).unwrap();
            let parsed = mail_parser::MessageParser::default().parse(&raw).unwrap();
            let sent_to = parsed.to().and_then(|a| a.first()).and_then(|a| a.address()).unwrap_or_default();
            (sent_to == to).then(|| {
                (
                    parsed.subject().unwrap_or_default().to_owned(),
                    parsed.body_text(0).unwrap_or_default().into_owned(),
                )
            })
        })
        .collect()
}

#[tokio::test]
async fn moving_a_performance_with_put_is_broadcast_and_mailed_to_its_ticket_holders() {
    use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait, IntoActiveModel};
    let app = crate::payments::app().await;
    let (_, staff) = app.quick_user("house@example.com", Role::Staff).await;
    let (_, lan) = app.quick_user("lan@example.com", Role::Customer).await;
    let (minh_id, minh) = app.quick_user("minh@example.com", Role::Customer).await;
    let mut vietnamese =
        entity::users::Entity::find_by_id(minh_id).one(app.db()).await.unwrap().unwrap().into_active_model();
    vietnamese.locale = Set("vi".into());
    vietnamese.update(app.writer()).await.unwrap();
    let (_, waiting) = app.quick_user("waiting@example.com", Role::Customer).await;
    let (event, seats) = app.demo_event(0).await;
    crate::payments::buy(&app, &lan, event, &seats[..1]).await;
    crate::payments::buy(&app, &minh, event, &seats[1..2]).await;
    crate::payments::book(&app, &waiting, event, &seats[5..6]).await;
    app.drain_jobs().await;
    let mut ws = connect(&app, "/ws/system/").await;
    assert_eq!(next_json(&mut ws).await["type"], "hello");

    // PUT replaces every field: the same performance, a day later.
    let row = entity::events::Entity::find_by_id(event).one(app.db()).await.unwrap().unwrap();
    let body = json!({
        "venue_id": row.venue_id, "title": row.title, "description": row.description,
        "start_time": row.start_time + chrono::Duration::days(1), "end_time": row.end_time + chrono::Duration::days(1),
    });
    let res = app.send(Method::PUT, &format!("/api/events/{event}"), Some(&body), Some(&staff)).await;
    assert_eq!(res.status, 200, "{}", res.text);
    let moved = next_json(&mut ws).await;
    assert_eq!(
        (moved["type"].as_str(), moved["event_id"].as_i64(), moved["change"].as_str()),
        (Some("event"), Some(event), Some("time_changed"))
    );

    // Every ticket holder is told, in their language, through the outbox.
    app.drain_jobs().await;
    let changed = |to: &str, marker: &str| {
        mails_to(&app, to).into_iter().filter(|(subject, _)| subject.contains(marker)).collect::<Vec<_>>()
    };
    let en = changed("lan@example.com", "has changed");
    assert_eq!(en.len(), 1, "{en:?}");
    assert!(en[0].1.contains("New time:") && en[0].1.contains("(it was "), "{}", en[0].1);
    let vi = changed("minh@example.com", "có thay đổi");
    assert_eq!(vi.len(), 1, "{vi:?}");
    assert!(vi[0].1.contains("Thời gian mới:"), "{}", vi[0].1);
    assert!(mails_to(&app, "waiting@example.com").is_empty(), "a pending booking holds no tickets");

    // The same times again: nothing moved, nobody is mailed.
    let res = app.send(Method::PUT, &format!("/api/events/{event}"), Some(&body), Some(&staff)).await;
    assert_eq!(res.status, 200, "{}", res.text);
    app.drain_jobs().await;
    assert_eq!(changed("lan@example.com", "has changed").len(), 1);
}
