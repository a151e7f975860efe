//! The Redis connection shared by the scaled-out seams (rate limits, cache, pub/sub).

use anyhow::Context;
use fred::prelude::{Builder, ClientLike, Config as RedisConfig};

use crate::db::redact;

pub type Redis = fred::clients::Client;

/// Connects to `REDIS_URL`; an unreachable server is a one-line start-up error. Messages name the
/// server without its password (as for PostgreSQL).
pub async fn connect(url: &str) -> anyhow::Result<Redis> {
    let shown = redact(url);
    // fred's own parse error may quote the URL: drop it, the redacted URL says which one.
    let config = RedisConfig::from_url(url)
        .map_err(|_| anyhow::anyhow!("REDIS_URL {shown:?} is not a valid redis:// URL"))?;
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
        .map_err(|_| anyhow::anyhow!("cannot connect to Redis at {shown}: timed out"))?
        .map_err(|e| anyhow::anyhow!("cannot connect to Redis at {shown}: {}", scrub(&e.to_string(), url)))?;
    Ok(client)
}

/// `message` with any copy of the URL's password removed (in case a driver quotes it).
fn scrub(message: &str, url: &str) -> String {
    match password_of(url) {
        Some(password) if !password.is_empty() => message.replace(password, "***"),
        _ => message.to_owned(),
    }
}

fn password_of(url: &str) -> Option<&str> {
    let (_, rest) = url.split_once("://")?;
    let creds = &rest[..rest.rfind('@')?];
    creds.split_once(':').map(|(_, password)| password)
}

pub async fn ping(client: &Redis) -> bool {
    client.ping::<String>(None).await.is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn connection_errors_do_not_print_the_password() {
        for url in ["redis://:s3cret-pw@127.0.0.1:1/0", "redis://curtain:s3cret-pw@127.0.0.1:1"] {
            let err = connect(url).await.unwrap_err().to_string();
            assert!(err.contains("cannot connect to Redis at redis://"), "{err}");
            assert!(err.contains("127.0.0.1:1"), "{err}");
            assert!(!err.contains("s3cret-pw"), "{err}");
        }
        let err = connect("redis://:s3cret-pw@127.0.0.1:notaport").await.unwrap_err().to_string();
        assert!(!err.contains("s3cret-pw"), "{err}");
    }

    #[test]
    fn the_password_is_scrubbed_from_driver_messages() {
        assert_eq!(scrub("auth failed for :pw@h", "redis://:pw@h"), "auth failed for :***@h");
        assert_eq!(scrub("no creds here", "redis://h:6379"), "no creds here");
    }
}
