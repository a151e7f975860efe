//! The Redis connection shared by the scaled-out seams (rate limits, cache, pub/sub).

use anyhow::Context;
use fred::prelude::{Builder, ClientLike, Config as RedisConfig};

pub type Redis = fred::clients::Client;

/// Connects to `REDIS_URL`; an unreachable server is a one-line start-up error.
pub async fn connect(url: &str) -> anyhow::Result<Redis> {
    let config = RedisConfig::from_url(url)
        .with_context(|| format!("REDIS_URL {url:?} is not a valid redis:// URL"))?;
    let client = Builder::from_config(config)
        .with_connection_config(|c| c.connection_timeout = std::time::Duration::from_secs(5))
        // While Redis is down, commands fail after 3 s instead of queueing until it returns, so
        // requests answer 503 rather than hang.
        .with_performance_config(|c| c.default_command_timeout = std::time::Duration::from_secs(3))
        // Reconnect forever after a lost connection (a Redis restart), waiting 100 ms doubling to
        // 2 s. Without a policy fred never reconnects: one restart silenced an instance for good.
        .set_policy(fred::prelude::ReconnectPolicy::new_exponential(0, 100, 2_000, 2))
        .build()
        .context("building the Redis client")?;
    tokio::time::timeout(std::time::Duration::from_secs(8), client.init())
        .await
        .map_err(|_| anyhow::anyhow!("cannot connect to Redis at {url}: timed out"))?
        .map_err(|e| anyhow::anyhow!("cannot connect to Redis at {url}: {e}"))?;
    Ok(client)
}

pub async fn ping(client: &Redis) -> bool {
    client.ping::<String>(None).await.is_ok()
}
