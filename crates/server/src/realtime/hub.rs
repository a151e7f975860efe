//! The hub: publish a change once, every subscriber of its topic (on every instance) gets it.
//!
//! Locally each topic is a bounded tokio broadcast channel: a subscriber that falls behind loses
//! its backlog and is told to resync, so memory never grows without bound. With Redis, publishing
//! goes to one Redis channel and every instance's subscriber task feeds what it receives into
//! its local channels (fred resubscribes by itself after a reconnect).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use fred::prelude::{ClientLike, EventInterface, PubsubInterface};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

use crate::redis::Redis;

/// Messages a slow subscriber may have waiting before it is told to resync.
pub const BACKLOG: usize = 256;

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
}

/// What subscribers receive.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Message {
    Seats { event_id: i64, version: i64, changes: Vec<SeatChange> },
    Booking { id: i64, status: String },
    Event { event_id: i64, change: String, message: String },
    Notice { message: String },
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
}

pub struct Hub {
    local: Arc<Local>,
    redis: Option<(Redis, String)>,
}

impl Hub {
    /// In-process only.
    pub fn local() -> Self {
        Self { local: Arc::new(Local::default()), redis: None }
    }

    /// Through Redis: `client` publishes; a dedicated subscriber connection feeds local channels.
    pub async fn redis(client: Redis, prefix: &str) -> anyhow::Result<Self> {
        let channel = format!("{prefix}hub");
        let subscriber = client.clone_new();
        subscriber.init().await.map_err(|e| anyhow::anyhow!("Redis subscriber: {e}"))?;
        subscriber.subscribe(channel.clone()).await.map_err(|e| anyhow::anyhow!("Redis SUBSCRIBE: {e}"))?;
        let local = Arc::new(Local::default());
        let feed = local.clone();
        let mut messages = subscriber.message_rx();
        tokio::spawn(async move {
            // Keep the subscriber alive as long as the task runs.
            let _subscriber = subscriber;
            while let Ok(message) = messages.recv().await {
                let Some(text) = message.value.as_str() else { continue };
                match serde_json::from_str::<Wire>(&text) {
                    Ok(wire) => feed.deliver(&wire.topic, wire.message),
                    Err(err) => tracing::warn!(error = %err, "unreadable hub message from Redis"),
                }
            }
        });
        Ok(Self { local, redis: Some((client, channel)) })
    }

    pub fn subscribe(&self, topic: &Topic) -> broadcast::Receiver<Arc<Message>> {
        self.local.sender(topic).subscribe()
    }

    /// Sends a message to every subscriber of `topic` on every instance. Call it only after the
    /// transaction that made the change has committed.
    pub async fn publish(&self, topic: Topic, message: Message) {
        match &self.redis {
            None => self.local.deliver(&topic, message),
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
}
