//! Configuration from environment variables (SPEC §2): every setting has a working default for
//! the embedded mode, so `curtain serve` runs with nothing set.

use std::{net::SocketAddr, path::PathBuf};

use anyhow::{Context, bail};

/// When demo data is loaded into an empty database.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DemoMode {
    /// Only into an embedded (SQLite) database without any user, while no VNPAY setting is
    /// configured (see `demo::wanted`).
    Auto,
    On,
    Off,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

/// VNPAY credentials and endpoints; all unset means the built-in simulator.
#[derive(Clone, Debug, Default)]
pub struct VnpayConfig {
    pub tmn_code: Option<String>,
    pub hash_secret: Option<Secret>,
    pub payment_url: Option<String>,
    pub api_url: Option<String>,
}

/// A string that never prints: secrets must not reach logs.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[derive(Clone, Debug)]
pub struct Config {
    pub addr: SocketAddr,
    pub data_dir: PathBuf,
    pub database_url: String,
    pub redis_url: Option<String>,
    pub redis_prefix: String,
    pub public_base_url: String,
    pub jwt_secret: Option<Secret>,
    pub hold_minutes: i64,
    pub refund_cutoff_hours: i64,
    pub mail_from: String,
    pub smtp_url: Option<Secret>,
    pub vnpay: VnpayConfig,
    pub rate_limits: bool,
    pub limits: crate::limits::LimitSettings,
    pub trusted_proxies: Vec<std::net::IpAddr>,
    pub cors_origins: Vec<String>,
    /// WebSocket connections one client address may hold.
    pub ws_max_per_ip: usize,
    pub demo: DemoMode,
    pub log_format: LogFormat,
}

impl Config {
    /// Reads the process environment (after `.env`, when present).
    pub fn from_env() -> anyhow::Result<Self> {
        Self::from_lookup(|key| std::env::var(key).ok().filter(|v| !v.trim().is_empty()))
    }

    /// Builds the configuration from any key lookup, so tests can pass a map.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let addr: SocketAddr = get("CURTAIN_ADDR")
            .unwrap_or_else(|| "127.0.0.1:8000".into())
            .parse()
            .context("CURTAIN_ADDR must look like 127.0.0.1:8000")?;
        let data_dir = PathBuf::from(get("CURTAIN_DATA_DIR").unwrap_or_else(|| "./data".into()));
        let database_url =
            get("DATABASE_URL").unwrap_or_else(|| format!("sqlite://{}/curtain.db", data_dir.display()));
        let public_base_url = get("PUBLIC_BASE_URL")
            .unwrap_or_else(|| format!("http://{addr}"))
            .trim_end_matches('/')
            .to_owned();
        let demo = match get("CURTAIN_DEMO").as_deref().unwrap_or("auto") {
            "auto" => DemoMode::Auto,
            "on" | "true" | "1" => DemoMode::On,
            "off" | "false" | "0" => DemoMode::Off,
            other => bail!("CURTAIN_DEMO must be auto, on or off, not {other:?}"),
        };
        let log_format = match get("CURTAIN_LOG_FORMAT").as_deref().unwrap_or("pretty") {
            "pretty" => LogFormat::Pretty,
            "json" => LogFormat::Json,
            other => bail!("CURTAIN_LOG_FORMAT must be pretty or json, not {other:?}"),
        };
        let rate_limits = match get("CURTAIN_RATE_LIMITS").as_deref().unwrap_or("on") {
            "on" | "true" | "1" => true,
            "off" | "false" | "0" => false,
            other => bail!("CURTAIN_RATE_LIMITS must be on or off, not {other:?}"),
        };
        let trusted_proxies = list(get("CURTAIN_TRUSTED_PROXIES"))
            .iter()
            .map(|ip| {
                ip.parse().with_context(|| format!("CURTAIN_TRUSTED_PROXIES: {ip:?} is not an IP address"))
            })
            .collect::<anyhow::Result<_>>()?;
        Ok(Self {
            addr,
            database_url,
            redis_url: get("REDIS_URL"),
            redis_prefix: get("CURTAIN_REDIS_PREFIX").unwrap_or_else(|| "curtain:".into()),
            public_base_url,
            jwt_secret: jwt_secret(get("JWT_SECRET"))?,
            hold_minutes: positive(&get, "CURTAIN_HOLD_MINUTES", 10)?,
            refund_cutoff_hours: positive(&get, "CURTAIN_REFUND_CUTOFF_HOURS", 24)?,
            mail_from: get("MAIL_FROM").unwrap_or_else(|| "Curtain <no-reply@localhost>".into()),
            smtp_url: get("SMTP_URL").map(Secret::new),
            vnpay: VnpayConfig {
                tmn_code: get("VNPAY_TMN_CODE"),
                hash_secret: get("VNPAY_HASH_SECRET").map(Secret::new),
                payment_url: get("VNPAY_PAYMENT_URL"),
                api_url: get("VNPAY_API_URL"),
            },
            rate_limits,
            limits: {
                use crate::limits::{Limit, LimitSettings};
                let d = LimitSettings::default();
                let per = |key: &str, default: Limit| -> anyhow::Result<Limit> {
                    Ok(Limit { max: positive(&get, key, default.max as i64)? as u64, ..default })
                };
                LimitSettings {
                    anonymous: per("CURTAIN_LIMIT_ANONYMOUS_PER_HOUR", d.anonymous)?,
                    authenticated: per("CURTAIN_LIMIT_USER_PER_HOUR", d.authenticated)?,
                    booking: per("CURTAIN_LIMIT_BOOKINGS_PER_MINUTE", d.booking)?,
                    login_account: per("CURTAIN_LIMIT_LOGIN_FAILURES_PER_ACCOUNT", d.login_account)?,
                    login_ip: per("CURTAIN_LIMIT_LOGIN_FAILURES_PER_IP", d.login_ip)?,
                }
            },
            trusted_proxies,
            cors_origins: list(get("CURTAIN_CORS_ORIGINS")),
            ws_max_per_ip: positive(&get, "CURTAIN_WS_MAX_PER_IP", 50)? as usize,
            demo,
            log_format,
            data_dir,
        })
    }

    pub fn is_sqlite(&self) -> bool {
        self.database_url.starts_with("sqlite:")
    }
}

/// Shortest `JWT_SECRET` accepted: HS256 keys shorter than the hash (32 bytes) are guessable
/// offline from any one token.
pub const JWT_SECRET_MIN_BYTES: usize = 32;

fn jwt_secret(value: Option<String>) -> anyhow::Result<Option<Secret>> {
    match value {
        Some(secret) if secret.len() < JWT_SECRET_MIN_BYTES => bail!(
            "JWT_SECRET must be at least {JWT_SECRET_MIN_BYTES} bytes (it has {}); unset it to use a generated one",
            secret.len()
        ),
        other => Ok(other.map(Secret::new)),
    }
}

fn list(value: Option<String>) -> Vec<String> {
    value.unwrap_or_default().split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

fn positive(get: &impl Fn(&str) -> Option<String>, key: &str, default: i64) -> anyhow::Result<i64> {
    match get(key) {
        None => Ok(default),
        Some(raw) => match raw.parse::<i64>() {
            Ok(n) if n >= 0 => Ok(n),
            _ => bail!("{key} must be a non-negative whole number, not {raw:?}"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(pairs: &[(&str, &str)]) -> anyhow::Result<Config> {
        let map: HashMap<String, String> =
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_are_the_embedded_mode() {
        let c = config(&[]).unwrap();
        assert_eq!(c.addr.to_string(), "127.0.0.1:8000");
        assert_eq!(c.database_url, "sqlite://./data/curtain.db");
        assert_eq!(c.public_base_url, "http://127.0.0.1:8000");
        assert_eq!(c.redis_prefix, "curtain:");
        assert_eq!(c.hold_minutes, 10);
        assert_eq!(c.refund_cutoff_hours, 24);
        assert_eq!(c.mail_from, "Curtain <no-reply@localhost>");
        assert_eq!(c.demo, DemoMode::Auto);
        assert!(c.rate_limits);
        assert_eq!(c.limits, crate::limits::LimitSettings::default());
        assert_eq!(c.limits.anonymous.max, 100);
        assert!(c.is_sqlite());
        assert!(c.vnpay.payment_url.is_none());
    }

    #[test]
    fn data_dir_moves_the_default_database() {
        let c = config(&[("CURTAIN_DATA_DIR", "/var/lib/curtain")]).unwrap();
        assert_eq!(c.database_url, "sqlite:///var/lib/curtain/curtain.db");
    }

    #[test]
    fn bad_values_are_refused_with_the_variable_named() {
        let err = config(&[("CURTAIN_HOLD_MINUTES", "ten")]).unwrap_err();
        assert!(err.to_string().contains("CURTAIN_HOLD_MINUTES"));
        let err = config(&[("CURTAIN_DEMO", "maybe")]).unwrap_err();
        assert!(err.to_string().contains("CURTAIN_DEMO"));
        let err = config(&[("CURTAIN_TRUSTED_PROXIES", "10.0.0.1,nope")]).unwrap_err();
        assert!(err.to_string().contains("nope"));
    }

    #[test]
    fn secrets_never_print() {
        let c = config(&[("JWT_SECRET", "hunter2-hunter2-hunter2-hunter2-hunter2")]).unwrap();
        assert!(!format!("{c:?}").contains("hunter2"));
    }

    #[test]
    fn a_short_jwt_secret_is_refused() {
        let err = config(&[("JWT_SECRET", "hunter2")]).unwrap_err().to_string();
        assert!(err.contains("JWT_SECRET") && err.contains("32"), "{err}");
        assert!(!err.contains("hunter2"), "the secret itself is not printed: {err}");
        let just_long_enough = "x".repeat(JWT_SECRET_MIN_BYTES);
        assert!(config(&[("JWT_SECRET", &just_long_enough)]).unwrap().jwt_secret.is_some());
    }
}
