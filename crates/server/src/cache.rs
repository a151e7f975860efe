//! The read cache of the public catalog: event lists, event details and seat maps, in-process
//! (moka) or in Redis when `REDIS_URL` is set, so every instance shares it.
//!
//! Nothing is ever served stale, by construction rather than by timing:
//! - a seat map is stored under the performance's seat-map version, which every seat change
//!   bumps in the same transaction, and only until the earliest running hold lapses (a lapsed
//!   hold shows as available without any write);
//! - lists and details are stored under generation numbers read *before* the answer is built;
//!   a catalog change bumps the generations it affects (the event's own, and the lists'), so an
//!   answer built concurrently with a change lands under a generation nobody reads any more.
//!
//! Nothing grows without bound either: list keys are built from the parsed filter (unknown
//! parameters, spelling and order of the query string make no new entry), the in-process store
//! is bounded by bytes, and every Redis key expires.

use std::{sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use fred::prelude::{Expiration, KeysInterface};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::redis::Redis;

/// How long an entry may live at most (they are normally replaced by generation or version).
const TTL: Duration = Duration::from_secs(600);
/// Bytes (keys plus JSON text) the in-process store keeps at most; the least used go first.
pub const MEMORY_BYTES: u64 = 64 * 1024 * 1024;
/// How long an untouched generation counter lives in Redis. Far longer than any entry stored
/// under it (`TTL`), so when a counter expires and restarts from 0, nothing stored under the
/// old 0 can still exist.
const GENERATION_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

enum Store {
    Memory { entries: moka::future::Cache<String, Arc<String>>, generations: moka::sync::Cache<String, u64> },
    Redis { client: Redis, prefix: String },
}

pub struct Cache {
    store: Store,
}

/// A cached answer: the envelope's data and pagination, valid until an instant (if any).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Cached {
    pub data: Value,
    pub pagination: Option<crate::http::envelope::Pagination>,
    pub valid_until: Option<DateTime<Utc>>,
}

impl Cache {
    pub fn memory() -> Self {
        Self::memory_bounded(MEMORY_BYTES)
    }

    /// An in-process store of at most `max_bytes` (a seat map of a big house is megabytes, a
    /// list page kilobytes: counting entries would bound nothing).
    pub fn memory_bounded(max_bytes: u64) -> Self {
        let entries = moka::future::Cache::builder()
            .weigher(|key: &String, text: &Arc<String>| {
                u32::try_from(key.len() + text.len()).unwrap_or(u32::MAX)
            })
            .max_capacity(max_bytes)
            .time_to_live(TTL)
            .build();
        Self {
            store: Store::Memory {
                entries,
                generations: moka::sync::Cache::builder().max_capacity(100_000).build(),
            },
        }
    }

    /// Bytes held by the in-process store once pending evictions have run (0 for Redis).
    pub async fn memory_bytes(&self) -> u64 {
        match &self.store {
            Store::Memory { entries, .. } => {
                entries.run_pending_tasks().await;
                entries.weighted_size()
            }
            Store::Redis { .. } => 0,
        }
    }

    pub fn redis(client: Redis, prefix: &str) -> Self {
        Self { store: Store::Redis { client, prefix: format!("{prefix}cache:") } }
    }

    /// The current generation of `name` (0 until first bumped).
    pub async fn generation(&self, name: &str) -> u64 {
        match &self.store {
            Store::Memory { generations, .. } => generations.get(name).unwrap_or(0),
            Store::Redis { client, prefix } => {
                client.get::<Option<u64>, _>(format!("{prefix}gen:{name}")).await.ok().flatten().unwrap_or(0)
            }
        }
    }

    /// Makes every entry stored under the current generation of `name` unreachable.
    pub async fn bump(&self, name: &str) {
        match &self.store {
            Store::Memory { generations, .. } => {
                let next = generations.get(name).unwrap_or(0) + 1;
                generations.insert(name.to_owned(), next);
            }
            Store::Redis { client, prefix } => {
                let key = format!("{prefix}gen:{name}");
                // Both commands leave in one write, so the counter cannot be bumped and then
                // miss its expiry because the client gave up between two round trips.
                let bump = client.pipeline();
                let queued: Result<(), fred::error::Error> = async {
                    let _: () = bump.incr(&key).await?;
                    let _: () = bump.expire(&key, GENERATION_TTL.as_secs() as i64, None).await?;
                    bump.all::<()>().await
                }
                .await;
                if let Err(err) = queued {
                    tracing::warn!(error = %err, "cache generation bump failed");
                }
            }
        }
    }

    pub async fn get(&self, key: &str, now: DateTime<Utc>) -> Option<Cached> {
        let text = match &self.store {
            Store::Memory { entries, .. } => entries.get(key).await.map(|t| t.as_ref().clone()),
            Store::Redis { client, prefix } => {
                client.get::<Option<String>, _>(format!("{prefix}{key}")).await.ok().flatten()
            }
        }?;
        let cached: Cached = serde_json::from_str(&text).ok()?;
        match cached.valid_until {
            Some(until) if until <= now => None,
            _ => Some(cached),
        }
    }

    pub async fn put(&self, key: &str, value: &Cached) {
        let Ok(text) = serde_json::to_string(value) else { return };
        match &self.store {
            Store::Memory { entries, .. } => entries.insert(key.to_owned(), Arc::new(text)).await,
            Store::Redis { client, prefix } => {
                let expire = Some(Expiration::EX(TTL.as_secs() as i64));
                if let Err(err) =
                    client.set::<(), _, _>(format!("{prefix}{key}"), text, expire, None, false).await
                {
                    tracing::warn!(error = %err, "cache write failed");
                }
            }
        }
    }
}

/// Generation names.
pub const LISTS: &str = "event-lists";
pub const ALL_DETAILS: &str = "event-details";

pub fn event_generation(event_id: i64) -> String {
    format!("event:{event_id}")
}

/// Bumps the generations a successful catalog write affects, judged from its path: an event's
/// own detail and the lists for `/api/events/{id}/…`; the lists for a new event; everything for
/// venues, categories and tags (their names appear in every detail).
pub async fn invalidate_for(cache: &Cache, path: &str) {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    match parts.as_slice() {
        ["api", "events", id, ..] | ["api", "admin", "events", id, ..] => {
            if let Ok(id) = id.parse::<i64>() {
                cache.bump(&event_generation(id)).await;
            }
            cache.bump(LISTS).await;
        }
        ["api", "events"] => cache.bump(LISTS).await,
        ["api", "venues", ..] | ["api", "categories", ..] | ["api", "tags", ..] => {
            cache.bump(LISTS).await;
            cache.bump(ALL_DETAILS).await;
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(n: usize) -> Cached {
        Cached { data: Value::String(format!("{n:0>1000}")), pagination: None, valid_until: None }
    }

    #[tokio::test]
    async fn the_in_process_store_stays_within_its_bytes() {
        let cache = Cache::memory_bounded(64 * 1024);
        let now = Utc::now();
        for n in 0..2_000 {
            cache.put(&format!("list:events:{n}"), &entry(n)).await;
        }
        let held = cache.memory_bytes().await;
        assert!(held > 0 && held <= 64 * 1024, "{held} bytes held");
        // The store still works: a fresh entry is served.
        cache.put("fresh", &entry(1)).await;
        assert_eq!(cache.get("fresh", now).await.map(|c| c.data), Some(entry(1).data));
    }
}
