//! The WebSocket endpoints of SPEC §7.
//!
//! `/ws/events/{id}/seats/`: `hello` with the seat-map version, then seat changes batched over
//! ~100 ms; a client that falls behind gets `resync` instead of a growing queue.
//! `/ws/bookings/{id}/`: the first message must be `{"type":"auth","token":…}` (the access token
//! never travels in a URL that proxies log); then the booking's status changes, until the token
//! expires or is revoked (logout): then the session closes with 4401.
//! `/ws/system/`: event updates and staff notices.
//! Every session pings every 20 s and closes a peer silent for 60 s; unexpected, oversized or too
//! many client messages close the connection with a reason; so does server shutdown.
//! Connections are capped per client address (resolved as for rate limits, behind trusted
//! proxies) and per instance.

use std::{
    collections::{BTreeMap, HashMap},
    net::IpAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    Router,
    extract::{
        Path, State, WebSocketUpgrade,
        ws::{CloseFrame, Message as WsMessage, Utf8Bytes, WebSocket},
    },
    response::Response,
    routing::get,
};
use futures_util::{SinkExt, StreamExt, stream::SplitSink};
use serde_json::{Value, json};
use tokio::{sync::broadcast::error::RecvError, time::Instant};

use super::hub::{Message, Topic};
use crate::{
    accounts::extract::{CurrentUser, authenticate},
    app::AppState,
    bookings::queries,
    error::AppError,
    events::service::find_public,
    http::ClientIp,
};

/// Largest message a client may send (they only send auth, ping and close).
const MAX_CLIENT_MESSAGE: usize = 4 * 1024;
const BATCH_WINDOW: Duration = Duration::from_millis(100);
const PING_EVERY: Duration = Duration::from_secs(20);
const SILENT_LIMIT: Duration = Duration::from_secs(60);
const AUTH_WITHIN: Duration = Duration::from_secs(10);
/// Client messages allowed per 10 seconds.
const FLOOD_LIMIT: u32 = 30;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/ws/events/{id}/seats", get(seats))
        .route("/ws/bookings/{id}", get(booking))
        .route("/ws/system", get(system))
}

/// Open connections per client address and in all, released when a session ends.
pub struct WsLimits {
    max_per_ip: usize,
    max: usize,
    open: Arc<Mutex<Open>>,
}

#[derive(Default)]
struct Open {
    per_ip: HashMap<IpAddr, usize>,
    total: usize,
}

pub struct WsSlot {
    ip: IpAddr,
    open: Arc<Mutex<Open>>,
}

impl Drop for WsSlot {
    fn drop(&mut self) {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        open.total = open.total.saturating_sub(1);
        if let Some(n) = open.per_ip.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                open.per_ip.remove(&self.ip);
            }
        }
    }
}

impl WsLimits {
    /// At most `max_per_ip` connections per client address, and `max` in all on this instance.
    pub fn new(max_per_ip: usize, max: usize) -> Self {
        Self { max_per_ip, max, open: Arc::default() }
    }

    /// A slot for one more connection from `ip`, or the close reason.
    fn take(&self, ip: IpAddr) -> Result<WsSlot, &'static str> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if open.total >= self.max {
            return Err("the server has too many connections");
        }
        let n = open.per_ip.entry(ip).or_insert(0);
        if *n >= self.max_per_ip {
            return Err("too many connections from this address");
        }
        *n += 1;
        open.total += 1;
        Ok(WsSlot { ip, open: self.open.clone() })
    }

    /// Open connections, all clients together.
    pub fn open(&self) -> usize {
        self.open.lock().unwrap_or_else(|e| e.into_inner()).total
    }
}

type Sink = SplitSink<WebSocket, WsMessage>;

/// One connection: its halves, and what the guards need to know.
struct Session {
    sink: Sink,
    stream: futures_util::stream::SplitStream<WebSocket>,
    state: AppState,
    last_heard: Instant,
    /// Client messages in the current 10-second window.
    received: u32,
    window: Instant,
}

/// What a client message means to a session.
enum Incoming {
    /// Nothing to act on (a pong, or a ping the library answered).
    Quiet,
    Text(Utf8Bytes),
    /// The session must end (closed, broken, or closed by us with a reason).
    End,
}

impl Session {
    async fn send(&mut self, value: &Value) -> bool {
        metrics::counter!("curtain_ws_messages_sent_total").increment(1);
        self.sink.send(WsMessage::Text(value.to_string().into())).await.is_ok()
    }

    async fn close(&mut self, code: u16, reason: &str) {
        let frame = CloseFrame { code, reason: reason.into() };
        let _ = self.sink.send(WsMessage::Close(Some(frame))).await;
        let _ = self.sink.close().await;
    }

    /// Reads the next client message and enforces the guards (size is enforced by axum).
    async fn read(&mut self) -> Incoming {
        match self.stream.next().await {
            None | Some(Err(_)) | Some(Ok(WsMessage::Close(_))) => Incoming::End,
            Some(Ok(message)) => {
                self.last_heard = Instant::now();
                if self.window.elapsed() > Duration::from_secs(10) {
                    self.window = Instant::now();
                    self.received = 0;
                }
                self.received += 1;
                if self.received > FLOOD_LIMIT {
                    self.close(1008, "too many messages").await;
                    return Incoming::End;
                }
                match message {
                    WsMessage::Text(text) => Incoming::Text(text),
                    WsMessage::Binary(_) => {
                        self.close(1003, "binary messages are not accepted").await;
                        Incoming::End
                    }
                    _ => Incoming::Quiet,
                }
            }
        }
    }

    /// Handles what the client sent; false when the session must end.
    async fn answer(&mut self, incoming: Incoming) -> bool {
        match incoming {
            Incoming::Quiet => true,
            Incoming::Text(text) => self.client_text(&text).await,
            Incoming::End => false,
        }
    }

    /// Answers `{"type":"ping"}`; anything else from the client closes the session.
    async fn client_text(&mut self, text: &str) -> bool {
        let kind =
            serde_json::from_str::<Value>(text).ok().and_then(|v| v["type"].as_str().map(str::to_owned));
        if kind.as_deref() == Some("ping") {
            self.send(&json!({"type": "pong"})).await
        } else {
            self.close(1003, "unexpected message").await;
            false
        }
    }

    /// Sends a heartbeat; false (and closed) when the peer has been silent too long.
    async fn heartbeat(&mut self) -> bool {
        if self.last_heard.elapsed() > SILENT_LIMIT {
            self.close(1001, "no answer to pings").await;
            return false;
        }
        self.sink.send(WsMessage::Ping(Default::default())).await.is_ok()
    }
}

/// Opens a session if the client's address and the instance have room, then runs `body`.
async fn open<F, Fut>(ws: WebSocketUpgrade, state: AppState, client: ClientIp, body: F) -> Response
where
    F: FnOnce(Session) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let slot = state.ws.take(client.0);
    // Small buffers: the library's defaults (128 KiB each way) would cost far more memory per
    // subscriber than the messages ever need; larger frames are still handled.
    ws.max_message_size(MAX_CLIENT_MESSAGE)
        .max_frame_size(MAX_CLIENT_MESSAGE)
        .read_buffer_size(4 * 1024)
        .write_buffer_size(4 * 1024)
        .on_upgrade(move |socket| async move {
            let (sink, stream) = socket.split();
            let mut session = Session {
                sink,
                stream,
                state,
                last_heard: Instant::now(),
                received: 0,
                window: Instant::now(),
            };
            match slot {
                Ok(slot) => {
                    metrics::gauge!("curtain_ws_connections").increment(1.0);
                    body(session).await;
                    metrics::gauge!("curtain_ws_connections").decrement(1.0);
                    drop(slot);
                }
                Err(reason) => session.close(1013, reason).await,
            }
        })
}

async fn seats(
    ws: WebSocketUpgrade,
    State(state): State<AppState>,
    client: ClientIp,
    Path(id): Path<String>,
) -> Response {
    open(ws, state, client, move |session| seat_session(session, id)).await
}

async fn seat_session(mut session: Session, id: String) {
    let Ok(event_id) = id.parse::<i64>() else { return session.close(4404, "unknown performance").await };
    // Subscribe before reading the version, so no change falls between the two.
    let mut changes = session.state.hub.subscribe(&Topic::Seats(event_id));
    let Ok(event) = find_public(&session.state.db, event_id).await else {
        return session.close(4404, "unknown performance").await;
    };
    if !session.send(&json!({"type": "hello", "event_id": event_id, "version": event.seats_version})).await {
        return;
    }
    let mut shutdown = session.state.shutdown.subscribe();
    let mut ping = tokio::time::interval_at(Instant::now() + PING_EVERY, PING_EVERY);
    loop {
        tokio::select! {
            received = changes.recv() => match received {
                Ok(first) => {
                    // Gather what else arrives within the window into one frame.
                    let mut batch = Batch::default();
                    // The hub itself may say messages were lost (it fell behind Redis).
                    let mut lagged = !batch.add(&first);
                    let deadline = Instant::now() + BATCH_WINDOW;
                    while !lagged {
                        match tokio::time::timeout_at(deadline, changes.recv()).await {
                            Ok(Ok(more)) => lagged = !batch.add(&more),
                            Ok(Err(RecvError::Lagged(_))) => lagged = true,
                            Ok(Err(RecvError::Closed)) | Err(_) => break,
                        }
                    }
                    let frame = if lagged { resync(&session.state, event_id).await } else { batch.frame(event_id) };
                    if !session.send(&frame).await { return }
                }
                Err(RecvError::Lagged(_)) => {
                    let frame = resync(&session.state, event_id).await;
                    if !session.send(&frame).await { return }
                }
                Err(RecvError::Closed) => return,
            },
            incoming = session.read() => if !session.answer(incoming).await { return },
            _ = ping.tick() => if !session.heartbeat().await { return },
            _ = shutdown.changed() => return session.close(1001, "server shutting down").await,
        }
    }
}

/// Seat changes merged over a batch window: the last status of each seat wins.
#[derive(Default)]
struct Batch {
    version: i64,
    seats: BTreeMap<i64, String>,
}

impl Batch {
    /// Adds a message; false when it says changes were lost (the client must resync).
    fn add(&mut self, message: &Message) -> bool {
        match message {
            Message::Seats { version, changes, .. } => {
                self.version = self.version.max(*version);
                for change in changes {
                    self.seats.insert(change.id, change.status.clone());
                }
                true
            }
            Message::Resync => false,
            _ => true,
        }
    }

    fn frame(self, event_id: i64) -> Value {
        let changes: Vec<Value> =
            self.seats.into_iter().map(|(id, status)| json!({"id": id, "status": status})).collect();
        json!({"type": "seats", "event_id": event_id, "version": self.version, "changes": changes})
    }
}

/// Told to a client that fell behind: refetch the seat map at (at least) this version.
async fn resync(state: &AppState, event_id: i64) -> Value {
    let version = find_public(&state.db, event_id).await.map(|e| e.seats_version).unwrap_or_default();
    json!({"type": "resync", "event_id": event_id, "version": version})
}

async fn booking(
    ws: WebSocketUpgrade,
    State(state): State<AppState>,
    client: ClientIp,
    Path(id): Path<String>,
) -> Response {
    open(ws, state, client, move |session| booking_session(session, id)).await
}

async fn booking_session(mut session: Session, id: String) {
    let Ok(booking_id) = id.parse::<i64>() else { return session.close(4404, "unknown booking").await };
    // The access token comes in the first message, never in the URL.
    let first = tokio::time::timeout(AUTH_WITHIN, session.read()).await;
    let Ok(Incoming::Text(text)) = first else { return session.close(4401, "authenticate first").await };
    let message: Value = serde_json::from_str(&text).unwrap_or_default();
    let token = match (message["type"].as_str(), message["token"].as_str()) {
        (Some("auth"), Some(token)) => token.to_owned(),
        _ => return session.close(4401, "authenticate first").await,
    };
    let Ok(user) = authenticate(&token, &session.state).await else {
        return session.close(4401, "invalid token").await;
    };
    let mut updates = session.state.hub.subscribe(&Topic::Booking(booking_id));
    // Subscribed before anything else, so a logout from now on is heard.
    let sign_outs = session.state.hub.subscribe(&Topic::Session(user.id()));
    // Someone else's booking looks exactly like a missing one.
    let Ok(booking) = queries::visible(&session.state.db, &user, booking_id).await else {
        return session.close(4404, "unknown booking").await;
    };
    if !session.send(&json!({"type": "hello", "id": booking.id, "status": booking.status})).await {
        return;
    }
    let guard = TokenGuard { token, user, sign_outs };
    forward(session, &mut updates, Some(guard)).await;
}

/// What keeps a signed-in session honest: it ends (4401) when its access token expires, is
/// revoked at logout (told through the hub at once, on every instance), or stops being accepted
/// (password or role change, account closed; checked with every heartbeat).
struct TokenGuard {
    token: String,
    user: CurrentUser,
    sign_outs: tokio::sync::broadcast::Receiver<Arc<Message>>,
}

impl TokenGuard {
    fn expired(&self, state: &AppState) -> bool {
        state.clock.now() >= self.user.claims.expires_at()
    }

    /// When the token expires, on the tokio clock. Re-armed each time it fires early (a test
    /// clock that does not follow wall time).
    fn expiry(&self, state: &AppState) -> Instant {
        let left = (self.user.claims.expires_at() - state.clock.now()).to_std().unwrap_or_default();
        Instant::now() + left.max(Duration::from_millis(10))
    }

    /// Whether the token is still accepted; a database that cannot answer keeps the session.
    async fn still_valid(&self, state: &AppState) -> bool {
        !matches!(
            authenticate(&self.token, state).await,
            Err(AppError::InvalidToken | AppError::Unauthorized)
        )
    }

    /// The reason to close, if a message on the user's session topic ends this session.
    async fn ended_by(
        &self,
        state: &AppState,
        received: Result<Arc<Message>, RecvError>,
    ) -> Option<&'static str> {
        match received {
            Ok(message) => match message.as_ref() {
                Message::SignedOut { jti } if *jti == self.user.claims.jti => Some("signed out"),
                // A sign-out may have been lost: ask the database.
                Message::Resync if !self.still_valid(state).await => Some("signed out"),
                _ => None,
            },
            Err(RecvError::Lagged(_)) if !self.still_valid(state).await => Some("signed out"),
            Err(_) => None,
        }
    }
}

async fn system(ws: WebSocketUpgrade, State(state): State<AppState>, client: ClientIp) -> Response {
    open(ws, state, client, |mut session| async move {
        let mut updates = session.state.hub.subscribe(&Topic::System);
        if session.send(&json!({"type": "hello"})).await {
            forward(session, &mut updates, None).await;
        }
    })
    .await
}

/// Relays hub messages as they come (booking and system channels are low-volume); a session
/// with a `guard` also ends when its token does.
async fn forward(
    mut session: Session,
    updates: &mut tokio::sync::broadcast::Receiver<Arc<Message>>,
    mut guard: Option<TokenGuard>,
) {
    let mut shutdown = session.state.shutdown.subscribe();
    let mut ping = tokio::time::interval_at(Instant::now() + PING_EVERY, PING_EVERY);
    let never = Instant::now() + Duration::from_secs(365 * 24 * 3600);
    let expiry = tokio::time::sleep_until(guard.as_ref().map_or(never, |g| g.expiry(&session.state)));
    tokio::pin!(expiry);
    loop {
        tokio::select! {
            received = updates.recv() => match received {
                Ok(message) => {
                    let Ok(value) = serde_json::to_value(message.as_ref()) else { continue };
                    if !session.send(&value).await { return }
                }
                Err(RecvError::Lagged(_)) => {
                    if !session.send(&json!({"type": "resync"})).await { return }
                }
                Err(RecvError::Closed) => return,
            },
            received = sign_out(&mut guard) => {
                if let Some(guard) = &guard
                    && let Some(reason) = guard.ended_by(&session.state, received).await
                {
                    return session.close(4401, reason).await;
                }
            }
            () = &mut expiry, if guard.is_some() => {
                let Some(guard) = &guard else { continue };
                if guard.expired(&session.state) {
                    return session.close(4401, "token expired").await;
                }
                expiry.as_mut().reset(guard.expiry(&session.state));
            }
            incoming = session.read() => {
                // Whatever the client says, an expired token ends the session first.
                if let Some(guard) = &guard
                    && guard.expired(&session.state)
                {
                    return session.close(4401, "token expired").await;
                }
                if !session.answer(incoming).await { return }
            }
            _ = ping.tick() => {
                if let Some(guard) = &guard {
                    if guard.expired(&session.state) {
                        return session.close(4401, "token expired").await;
                    }
                    if !guard.still_valid(&session.state).await {
                        return session.close(4401, "signed out").await;
                    }
                }
                if !session.heartbeat().await { return }
            }
            _ = shutdown.changed() => return session.close(1001, "server shutting down").await,
        }
    }
}

/// The next message on the guard's sign-out topic; never resolves without a guard.
async fn sign_out(guard: &mut Option<TokenGuard>) -> Result<Arc<Message>, RecvError> {
    match guard {
        Some(guard) => guard.sign_outs.recv().await,
        None => std::future::pending().await,
    }
}
