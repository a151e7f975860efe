//! Rate limits (SPEC §9): fixed windows counted in-process, or in Redis when `REDIS_URL` is set so
//! every instance shares them. Windows are numbered from the injectable clock, so tests cross a
//! boundary by moving time, not by sleeping.

mod memory;

use std::{
    net::{IpAddr, SocketAddr},
    sync::Arc,
};

use axum::{
    extract::{ConnectInfo, Request, State},
    http::{HeaderMap, header::AUTHORIZATION},
    middleware::Next,
    response::{IntoResponse, Response},
};
use fred::{
    prelude::{Expiration, KeysInterface},
    types::SetOptions,
};

use self::memory::MemoryStore;
use crate::{app::AppState, clock::Clock, error::AppError, redis::Redis};

/// At most `max` events per `window_secs`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit {
    pub max: u64,
    pub window_secs: i64,
}

/// Every figure of SPEC §9, each configurable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LimitSettings {
    pub anonymous: Limit,
    pub authenticated: Limit,
    pub booking: Limit,
    pub login_account: Limit,
    pub login_ip: Limit,
}

impl Default for LimitSettings {
    fn default() -> Self {
        Self {
            anonymous: Limit { max: 100, window_secs: 3600 },
            authenticated: Limit { max: 1000, window_secs: 3600 },
            booking: Limit { max: 10, window_secs: 60 },
            login_account: Limit { max: 5, window_secs: 15 * 60 },
            login_ip: Limit { max: 20, window_secs: 15 * 60 },
        }
    }
}

enum Store {
    Memory(MemoryStore),
    Redis { client: Redis, prefix: String },
}

pub struct Limiter {
    store: Store,
    clock: Arc<dyn Clock>,
    pub enabled: bool,
    pub settings: LimitSettings,
}

impl Limiter {
    pub fn new(
        redis: Option<(Redis, String)>,
        clock: Arc<dyn Clock>,
        enabled: bool,
        settings: LimitSettings,
    ) -> Self {
        let store = match redis {
            Some((client, prefix)) => Store::Redis { client, prefix: format!("{prefix}rl:") },
            None => Store::Memory(MemoryStore::new()),
        };
        Self { store, clock, enabled, settings }
    }

    fn window(&self, limit: Limit) -> (i64, u64) {
        let now = self.clock.now().timestamp();
        let index = now.div_euclid(limit.window_secs);
        let retry_after = ((index + 1) * limit.window_secs - now).max(1) as u64;
        (index, retry_after)
    }

    /// Counts one event for `subject` and refuses it if the window is full.
    pub async fn hit(&self, bucket: &str, subject: &str, limit: Limit) -> Result<(), AppError> {
        if !self.enabled {
            return Ok(());
        }
        let (index, retry_after) = self.window(limit);
        let count = self.increment(bucket, subject, index, limit).await?;
        if count > limit.max { Err(AppError::RateLimited { retry_after_secs: retry_after }) } else { Ok(()) }
    }

    /// Forgets a subject's count (a successful login clears its failures).
    pub async fn reset(&self, bucket: &str, subject: &str, limit: Limit) -> Result<(), AppError> {
        let (index, _) = self.window(limit);
        match &self.store {
            Store::Memory(store) => store.remove(&format!("{bucket}:{subject}")),
            Store::Redis { client, prefix } => {
                client
                    .del::<(), _>(format!("{prefix}{bucket}:{subject}:{index}"))
                    .await
                    .map_err(redis_error)?;
            }
        }
        Ok(())
    }

    /// Counters held in memory (0 with Redis, where keys expire on their own).
    #[cfg(test)]
    fn memory_entries(&self) -> usize {
        match &self.store {
            Store::Memory(store) => store.len(),
            Store::Redis { .. } => 0,
        }
    }

    /// Takes back one event counted by `hit` in the current window (a login attempt that turned
    /// out to succeed is no failure). Never below zero.
    pub async fn forgive(&self, bucket: &str, subject: &str, limit: Limit) -> Result<(), AppError> {
        if !self.enabled {
            return Ok(());
        }
        let (index, _) = self.window(limit);
        match &self.store {
            Store::Memory(store) => {
                store.decrement(&format!("{bucket}:{subject}"), (index + 1) * limit.window_secs);
            }
            Store::Redis { client, prefix } => {
                let key = format!("{prefix}{bucket}:{subject}:{index}");
                // A window that rolled over since the hit has no key yet: DECR would create it at
                // -1, so bring it back to zero; either way it expires like any window.
                let count: i64 = client.decr(&key).await.map_err(redis_error)?;
                if count < 0 {
                    client.incr::<i64, _>(&key).await.map_err(redis_error)?;
                }
                client.expire::<(), _>(&key, limit.window_secs + 5, None).await.map_err(redis_error)?;
            }
        }
        Ok(())
    }

    async fn increment(
        &self,
        bucket: &str,
        subject: &str,
        index: i64,
        limit: Limit,
    ) -> Result<u64, AppError> {
        match &self.store {
            Store::Memory(store) => {
                let window_end = (index + 1) * limit.window_secs;
                Ok(store.increment(&format!("{bucket}:{subject}"), window_end, self.clock.now().timestamp()))
            }
            Store::Redis { client, prefix } => {
                let key = format!("{prefix}{bucket}:{subject}:{index}");
                // One round trip, and the key never lives without an expiry: the window's key is
                // created with its TTL (SET NX EX) before INCR, which keeps the TTL. (INCR then a
                // separate EXPIRE leaves an immortal key when the second command never arrives.)
                let window = client.pipeline();
                let ttl = Expiration::EX(limit.window_secs + 5);
                let _: () =
                    window.set(&key, 0, Some(ttl), Some(SetOptions::NX), false).await.map_err(redis_error)?;
                let _: () = window.incr(&key).await.map_err(redis_error)?;
                let count: i64 = window.last().await.map_err(redis_error)?;
                Ok(count.max(0) as u64)
            }
        }
    }
}

fn redis_error(err: fred::error::Error) -> AppError {
    AppError::Unavailable(format!("rate-limit store: {err}"))
}

/// The client's address: the socket peer, or — only when the peer is a trusted proxy — the
/// nearest untrusted address of `X-Forwarded-For`.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let forwarded: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|ip| ip.trim().parse().ok())
        .collect();
    forwarded.into_iter().rev().find(|ip| !trusted.contains(ip)).unwrap_or(peer)
}

/// What per-client limits count a client by (rate limits, login attempts, WebSocket connections,
/// seats held): its address in one spelling (an IPv4 client seen through a dual-stack socket is
/// `::ffff:a.b.c.d`), and for IPv6 its /64 — the block one home or phone is given, so hopping
/// between its 2^64 addresses does not multiply the allowance.
pub fn client_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => IpAddr::V6(std::net::Ipv6Addr::from(u128::from(v6) & !((1u128 << 64) - 1))),
        v4 => v4,
    }
}

/// Routes that act on an account without being signed in to it (sign-in, sign-up, mailed links):
/// always counted per client address, so a token of a throwaway account cannot lift the
/// per-address cap on guessing passwords, probing accounts or sending mail.
const BY_ADDRESS_ALWAYS: &[&str] = &[
    "/api/auth/register",
    "/api/auth/login",
    "/api/auth/refresh",
    "/api/auth/verify-email",
    "/api/auth/password-reset/request",
    "/api/auth/password-reset/confirm",
];

/// Per-request limit on `/api/`: per user when a valid token is presented, else per IP; the
/// account routes above always per IP. VNPAY's callbacks are exempt (the gateway must always get
/// through).
pub async fn limit_requests(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    if !state.limits.enabled || !path.starts_with("/api/") || path.starts_with("/api/payments/vnpay/") {
        return next.run(request).await;
    }
    let by_address = BY_ADDRESS_ALWAYS.contains(&path.trim_end_matches('/'));
    let user = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .filter(|_| !by_address)
        .and_then(|token| state.jwt.verify(token.trim(), state.clock.now()).ok());
    let settings = state.limits.settings;
    let verdict = match user {
        Some(claims) => state.limits.hit("user", &claims.sub, settings.authenticated).await,
        None => {
            let ip = client_key(client_ip(peer.ip(), request.headers(), &state.config.trusted_proxies));
            state.limits.hit("ip", &ip.to_string(), settings.anonymous).await
        }
    };
    match verdict {
        Ok(()) => next.run(request).await,
        Err(err) => err.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    #[tokio::test]
    async fn counters_of_short_windows_do_not_pile_up_while_time_moves_on() {
        let clock = ManualClock::new(chrono::Utc::now());
        let settings = LimitSettings::default();
        let limiter = Limiter::new(None, Arc::new(clock.clone()), true, settings);
        for round in 0..4 {
            for i in 0..5_000 {
                let subject = format!("{round}-{i}");
                limiter.hit("booking", &subject, settings.booking).await.unwrap();
                limiter.hit("login_ip", &subject, settings.login_ip).await.unwrap();
            }
            assert!(
                limiter.memory_entries() <= 10_000,
                "round {round}: {} counters for 10,000 live ones",
                limiter.memory_entries()
            );
            // Past both the 60 s and the 900 s windows.
            clock.advance(chrono::Duration::minutes(16));
        }
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let proxy: IpAddr = "10.0.0.2".parse().unwrap();
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", "203.0.113.9, 198.51.100.7, 10.0.0.2".parse().unwrap());
        assert_eq!(client_ip(proxy, &headers, &[proxy]), "198.51.100.7".parse::<IpAddr>().unwrap());
        let stranger: IpAddr = "192.0.2.1".parse().unwrap();
        assert_eq!(client_ip(stranger, &headers, &[proxy]), stranger);
        assert_eq!(client_ip(proxy, &HeaderMap::new(), &[proxy]), proxy);
    }

    #[test]
    fn an_ipv6_client_is_counted_by_its_64_block_and_ipv4_in_one_spelling() {
        let key = |ip: &str| client_key(ip.parse().unwrap());
        assert_eq!(key("2001:db8:1:2::1"), key("2001:db8:1:2:ffff:ffff:ffff:ffff"));
        assert_eq!(key("2001:db8:1:2::1").to_string(), "2001:db8:1:2::");
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(key("::ffff:198.51.100.7"), key("198.51.100.7"));
        assert_eq!(key("198.51.100.7").to_string(), "198.51.100.7");
    }
}
