//! The in-process store of rate-limit counters (no `REDIS_URL`).
//!
//! Each counter remembers when its own window ends, so a one-minute booking window and a one-hour
//! request window expire on their own schedules. The map is split into shards, each behind its
//! own lock and swept of ended windows at most once a minute, so no request ever scans every
//! counter under one lock. Memory is bounded: a full shard first drops ended windows, then
//! forgets its smallest count — a flood of new addresses cannot grow the map, and it pushes out
//! the one-off visitors before the heavy hitters a limit is there to stop.

use std::{
    collections::HashMap,
    hash::{BuildHasher, RandomState},
    sync::{Mutex, MutexGuard},
};

/// Counters kept at most, all buckets together (each about 100 bytes: some 20 MiB at worst).
pub const MAX_ENTRIES: usize = 200_000;
const SHARDS: usize = 64;
/// Seconds of the clock between two sweeps of one shard.
const SWEEP_EVERY_SECS: i64 = 60;

struct Counter {
    /// The Unix time at which this counter's window ends.
    window_end: i64,
    count: u64,
}

#[derive(Default)]
struct Shard {
    counters: HashMap<String, Counter>,
    next_sweep: i64,
}

impl Shard {
    fn drop_ended(&mut self, now: i64) {
        self.counters.retain(|_, c| c.window_end > now);
        self.next_sweep = now + SWEEP_EVERY_SECS;
    }
}

pub struct MemoryStore {
    shards: Vec<Mutex<Shard>>,
    per_shard: usize,
    hasher: RandomState,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::with_capacity(MAX_ENTRIES)
    }

    /// A store that keeps at most about `max_entries` counters.
    pub fn with_capacity(max_entries: usize) -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            per_shard: max_entries.div_ceil(SHARDS).max(1),
            hasher: RandomState::new(),
        }
    }

    fn shard(&self, key: &str) -> MutexGuard<'_, Shard> {
        let index = (self.hasher.hash_one(key) % SHARDS as u64) as usize;
        // A panic while holding a shard cannot leave a counter half-written: keep using it.
        self.shards[index].lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Counts one event for `key` in the window ending at `window_end`; returns the new count.
    pub fn increment(&self, key: &str, window_end: i64, now: i64) -> u64 {
        let mut shard = self.shard(key);
        if now >= shard.next_sweep {
            shard.drop_ended(now);
        }
        if let Some(counter) = shard.counters.get_mut(key) {
            // Another window (a later one, or an earlier one when a test moved the clock back).
            if counter.window_end != window_end {
                *counter = Counter { window_end, count: 0 };
            }
            counter.count += 1;
            return counter.count;
        }
        if shard.counters.len() >= self.per_shard {
            shard.drop_ended(now);
        }
        if shard.counters.len() >= self.per_shard {
            let smallest = shard.counters.iter().min_by_key(|(_, c)| c.count).map(|(k, _)| k.clone());
            if let Some(smallest) = smallest {
                shard.counters.remove(&smallest);
            }
        }
        shard.counters.insert(key.to_owned(), Counter { window_end, count: 1 });
        1
    }

    /// The count of `key` in the window ending at `window_end` (0 for another window).
    #[cfg(test)]
    pub fn current(&self, key: &str, window_end: i64) -> u64 {
        self.shard(key).counters.get(key).filter(|c| c.window_end == window_end).map_or(0, |c| c.count)
    }

    /// Takes one back from `key`'s count in the window ending at `window_end`, never below zero
    /// (for login throttling, which counts an attempt before knowing whether it failed).
    pub fn decrement(&self, key: &str, window_end: i64) {
        if let Some(counter) = self.shard(key).counters.get_mut(key)
            && counter.window_end == window_end
        {
            counter.count = counter.count.saturating_sub(1);
        }
    }

    pub fn remove(&self, key: &str) {
        self.shard(key).counters.remove(key);
    }

    /// Counters held, all shards together.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| s.lock().unwrap_or_else(|e| e.into_inner()).counters.len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_of_ended_windows_are_dropped_so_memory_stays_flat() {
        let store = MemoryStore::new();
        // Many distinct subjects in a one-minute window (the booking limit) …
        let t0 = 1_800_000_000;
        for i in 0..10_000 {
            store.increment(&format!("booking:{i}"), t0 + 60, t0);
        }
        assert_eq!(store.len(), 10_000);
        // … and as many new ones once that window has long ended: the old ones are gone.
        let t1 = t0 + 600;
        for i in 10_000..20_000 {
            store.increment(&format!("booking:{i}"), t1 + 60, t1);
        }
        assert_eq!(store.len(), 10_000, "ended windows are swept, not kept until the hour");
        // A fifteen-minute window lives as long as it should, no longer.
        store.increment("login_ip:192.0.2.1", t1 + 900, t1);
        let t2 = t1 + 300;
        store.increment("booking:other", t2 + 60, t2);
        assert_eq!(store.current("login_ip:192.0.2.1", t1 + 900), 1, "still inside its window");
    }

    #[test]
    fn a_flood_of_new_subjects_cannot_grow_the_store_past_its_bound() {
        let store = MemoryStore::with_capacity(640);
        let now = 1_800_000_000;
        let end = now + 3600;
        for _ in 0..50 {
            store.increment("ip:203.0.113.66", end, now);
        }
        for i in 0..20_000 {
            store.increment(&format!("ip:10.{}.{}.{}", i >> 16, (i >> 8) & 255, i & 255), end, now);
            assert!(store.len() <= 640, "bounded after {i} subjects: {}", store.len());
        }
        assert_eq!(store.current("ip:203.0.113.66", end), 50, "the heavy hitter is still counted");
    }

    #[test]
    fn a_new_window_starts_from_zero_and_reset_forgets() {
        let store = MemoryStore::new();
        assert_eq!(store.increment("a", 60, 0), 1);
        assert_eq!(store.increment("a", 60, 1), 2);
        assert_eq!(store.current("a", 60), 2);
        assert_eq!(store.current("a", 120), 0);
        assert_eq!(store.increment("a", 120, 61), 1);
        store.decrement("a", 60);
        assert_eq!(store.current("a", 120), 1, "another window's decrement changes nothing");
        store.decrement("a", 120);
        store.decrement("a", 120);
        assert_eq!(store.current("a", 120), 0);
        store.remove("a");
        assert_eq!(store.current("a", 120), 0);
    }
}
