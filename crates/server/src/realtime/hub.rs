//! The hub: publish a change once, every subscriber of its topic (on every instance) gets it.
//!
//! Locally each topic is a bounded tokio broadcast channel: a subscriber that falls behind loses
//! its backlog and is told to resync, so memory never grows without bound. With Redis, publishing
//! goes to one Redis channel and every instance's subscriber task feeds what it receives into
//! its local channels. That task never ends while the hub lives: when it falls behind Redis, or
//! its connection drops and comes back (fred reconnects; the task subscribes again itself), some
//! messages are gone, so every local subscriber is told to resync.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use fred::prelude::{Builder, ClientLike, EventInterface, PubsubInterface};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast::{self, error::RecvError};

use crate::redis::Redis;

/// Messages a slow subscriber may have waiting before it is told to resync.
pub const BACKLOG: usize = 256;
/// Messages from Redis waiting for the subscriber task (fred's default is 32: one burst of holds
/// overflowed it). Overflowing still only costs a resync.
pub const REDIS_BACKLOG: usize = 16_384;

/// Where a message goes.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "topic", content = "id", rename_all = "snake_case")]
pub enum Topic {
    /// Seat status changes of one performance.
    Seats(i64),
    /// Status changes of one booking.
    Booking(i64),
    /// Event updates and staff notices for everyone.
    System,
    /// Sign-outs of one user: their live sessions close (booking WebSockets).
    Session(i64),
}

/// What subscribers receive.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Message {
    Seats {
        event_id: i64,
        version: i64,
        changes: Vec<SeatChange>,
    },
    Booking {
        id: i64,
        status: String,
    },
    Event {
        event_id: i64,
        change: String,
        message: String,
    },
    Notice {
        message: String,
    },
    /// The access token `jti` was revoked (logout).
    SignedOut {
        jti: String,
    },
    /// Messages may have been lost (the hub fell behind Redis, or reconnected to it): refetch.
    /// Raised by the hub itself, on every topic.
    Resync,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeatChange {
    /// The seat id (as in the seat map).
    pub id: i64,
    pub status: String,
}

#[derive(Serialize, Deserialize)]
struct Wire {
    topic: Topic,
    message: Message,
}

#[derive(Default)]
struct Local {
    channels: Mutex<HashMap<Topic, broadcast::Sender<Arc<Message>>>>,
}

impl Local {
    fn sender(&self, topic: &Topic) -> broadcast::Sender<Arc<Message>> {
        let mut channels = self.channels.lock().unwrap_or_else(|e| e.into_inner());
        // Drop channels nobody listens to any more, so topics of past performances do not pile up.
        if channels.len() > 1024 {
            channels.retain(|_, tx| tx.receiver_count() > 0);
        }
        channels.entry(topic.clone()).or_insert_with(|| broadcast::channel(BACKLOG).0).clone()
    }

    fn deliver(&self, topic: &Topic, message: Message) {
        let channels = self.channels.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(tx) = channels.get(topic) {
            // No receivers is fine: nobody is watching.
            let _ = tx.send(Arc::new(message));
        }
    }

    /// Tells every subscriber of every topic that messages may have been lost.
    fn resync_all(&self) {
        let channels = self.channels.lock().unwrap_or_else(|e| e.into_inner());
        let resync = Arc::new(Message::Resync);
        for tx in channels.values() {
            let _ = tx.send(resync.clone());
        }
    }
}

pub struct Hub {
    local: Arc<Local>,
    redis: Option<(Redis, String)>,
    /// Dropped with the hub: the Redis subscriber task then ends and closes its connection.
    _stop: Option<tokio::sync::watch::Sender<()>>,
}

impl Hub {
    /// In-process only.
    pub fn local() -> Self {
        Self { local: Arc::new(Local::default()), redis: None, _stop: None }
    }

    /// Through Redis: `client` publishes; a dedicated subscriber connection (with the same
    /// settings and reconnect policy, and a larger buffer) feeds local channels.
    pub async fn redis(client: Redis, prefix: &str) -> anyhow::Result<Self> {
        let channel = format!("{prefix}hub");
        let mut performance = client.perf_config();
        performance.broadcast_channel_capacity = REDIS_BACKLOG;
        let subscriber = Builder::from_config(client.client_config())
            .set_performance_config(performance)
            .set_connection_config(client.connection_config().clone())
            .set_policy(client.client_reconnect_policy().unwrap_or_default())
            .build()
            .map_err(|e| anyhow::anyhow!("Redis subscriber: {e}"))?;
        subscriber.init().await.map_err(|e| anyhow::anyhow!("Redis subscriber: {e}"))?;
        subscriber.subscribe(channel.clone()).await.map_err(|e| anyhow::anyhow!("Redis SUBSCRIBE: {e}"))?;
        let local = Arc::new(Local::default());
        let (stop, stopped) = tokio::sync::watch::channel(());
        tokio::spawn(feed_from_redis(subscriber, channel.clone(), local.clone(), stopped));
        Ok(Self { local, redis: Some((client, channel)), _stop: Some(stop) })
    }

    pub fn subscribe(&self, topic: &Topic) -> broadcast::Receiver<Arc<Message>> {
        self.local.sender(topic).subscribe()
    }

    /// Sends a message to every subscriber of `topic` on every instance. Call it only after the
    /// transaction that made the change has committed.
    pub async fn publish(&self, topic: Topic, message: Message) {
        match &self.redis {
            None => self.local.deliver(&topic, message),
            // Redis is down (fred is reconnecting): do not wait for it, this instance hears at once.
            Some((client, _)) if !client.is_connected() => self.local.deliver(&topic, message),
            Some((client, channel)) => {
                let wire =
                    match serde_json::to_string(&Wire { topic: topic.clone(), message: message.clone() }) {
                        Ok(wire) => wire,
                        Err(err) => return tracing::error!(error = %err, "hub message does not serialize"),
                    };
                if let Err(err) = client.publish::<(), _, _>(channel.as_str(), wire).await {
                    // Redis is down: at least this instance's subscribers hear of it.
                    tracing::warn!(error = %err, "Redis PUBLISH failed; delivering locally only");
                    self.local.deliver(&topic, message);
                }
            }
        }
    }

    /// Seats of a performance changed (held, released, sold, blocked).
    pub async fn seats(&self, event_id: i64, version: i64, seat_ids: &[i64], status: &str) {
        if seat_ids.is_empty() {
            return;
        }
        let changes = seat_ids.iter().map(|id| SeatChange { id: *id, status: status.to_owned() }).collect();
        self.publish(Topic::Seats(event_id), Message::Seats { event_id, version, changes }).await;
    }

    pub async fn booking(&self, id: i64, status: &str) {
        self.publish(Topic::Booking(id), Message::Booking { id, status: status.to_owned() }).await;
    }

    /// A user's access token was revoked: their sessions using it close.
    pub async fn signed_out(&self, user_id: i64, jti: &str) {
        self.publish(Topic::Session(user_id), Message::SignedOut { jti: jti.to_owned() }).await;
    }
}

/// Feeds what Redis sends into the local channels until the hub is dropped. Falling behind or
/// losing the connection is survived, and told to subscribers as a resync.
async fn feed_from_redis(
    subscriber: Redis,
    channel: String,
    local: Arc<Local>,
    mut stopped: tokio::sync::watch::Receiver<()>,
) {
    let mut messages = subscriber.message_rx();
    let mut reconnects = subscriber.reconnect_rx();
    loop {
        tokio::select! {
            _ = stopped.changed() => break,
            received = messages.recv() => match received {
                Ok(message) => {
                    let Some(text) = message.value.as_str() else { continue };
                    match serde_json::from_str::<Wire>(&text) {
                        Ok(wire) => local.deliver(&wire.topic, wire.message),
                        Err(err) => tracing::warn!(error = %err, "unreadable hub message from Redis"),
                    }
                }
                Err(RecvError::Lagged(missed)) => {
                    metrics::counter!("curtain_hub_lagged_total").increment(1);
                    tracing::warn!(missed, "the hub fell behind Redis; subscribers are told to resync");
                    local.resync_all();
                }
                Err(RecvError::Closed) => break,
            },
            reconnected = reconnects.recv() => {
                if matches!(reconnected, Err(RecvError::Closed)) {
                    break;
                }
                // A new connection has no subscriptions: subscribe again before telling anyone
                // to refetch, so nothing published after the refetch can be missed.
                let mut attempt = 0u64;
                while let Err(err) = subscriber.subscribe(channel.clone()).await {
                    attempt += 1;
                    tracing::warn!(error = %err, attempt, "Redis SUBSCRIBE after a reconnect failed; retrying");
                    tokio::select! {
                        _ = stopped.changed() => return subscriber_quit(&subscriber).await,
                        _ = tokio::time::sleep(Duration::from_millis(250 * attempt.min(8))) => {}
                    }
                }
                tracing::info!("the hub reconnected to Redis; subscribers are told to resync");
                local.resync_all();
            }
        }
    }
    subscriber_quit(&subscriber).await;
}

async fn subscriber_quit(subscriber: &Redis) {
    let _ = tokio::time::timeout(Duration::from_secs(2), subscriber.quit()).await;
}
