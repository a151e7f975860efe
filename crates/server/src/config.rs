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

/// VNPAY credentials and endpoints. All unset means the built-in simulator with a code and secret
/// of its own; all four set means the real gateway; anything in between is refused at start
/// unless `simulator` (`VNPAY_SIMULATOR=on`) says the simulator should sign with the code and
/// secret given (how tests play VNPAY with a known secret).
#[derive(Clone, Debug, Default)]
pub struct VnpayConfig {
    pub tmn_code: Option<String>,
    pub hash_secret: Option<Secret>,
    pub payment_url: Option<String>,
    pub api_url: Option<String>,
    /// `VNPAY_SIMULATOR=on`.
    pub simulator: bool,
}

impl VnpayConfig {
    fn from_lookup(get: &impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let simulator = match get("VNPAY_SIMULATOR").as_deref().unwrap_or("off") {
            "on" | "true" | "1" => true,
            "off" | "false" | "0" => false,
            other => bail!("VNPAY_SIMULATOR must be on or off, not {other:?}"),
        };
        let vnpay = Self {
            tmn_code: get("VNPAY_TMN_CODE"),
            hash_secret: get("VNPAY_HASH_SECRET").map(Secret::new),
            payment_url: get("VNPAY_PAYMENT_URL"),
            api_url: get("VNPAY_API_URL"),
            simulator,
        };
        vnpay.check()?;
        Ok(vnpay)
    }

    /// The rules of SPEC §2. A partial configuration must never fall back to the simulator
    /// silently: with `VNPAY_TMN_CODE` and `VNPAY_HASH_SECRET` set but no payment URL, the
    /// simulator's page would hand out free tickets on a site that believes it takes money.
    fn check(&self) -> anyhow::Result<()> {
        let set = [
            ("VNPAY_TMN_CODE", self.tmn_code.is_some()),
            ("VNPAY_HASH_SECRET", self.hash_secret.is_some()),
            ("VNPAY_PAYMENT_URL", self.payment_url.is_some()),
            ("VNPAY_API_URL", self.api_url.is_some()),
        ];
        if self.simulator {
            // The simulator serves its own page and API: a gateway URL beside it would send
            // buyers (or refunds) to a real gateway from a site that simulates payments.
            if let Some((name, _)) = set[2..].iter().find(|(_, on)| *on) {
                bail!(
                    "VNPAY_SIMULATOR=on cannot be combined with {name}: unset {name} to simulate, or unset VNPAY_SIMULATOR for the real gateway"
                );
            }
            return Ok(());
        }
        let missing: Vec<&str> = set.iter().filter(|(_, on)| !on).map(|(name, _)| *name).collect();
        if missing.is_empty() || missing.len() == set.len() {
            return Ok(());
        }
        bail!(
            "VNPAY is partly configured, {} missing: set all four VNPAY variables for the real gateway, none for the built-in simulator, or VNPAY_SIMULATOR=on to let the simulator sign with the given code and secret",
            missing.join(", ")
        )
    }
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
    /// WebSocket connections this instance holds, all clients together.
    pub ws_max: usize,
    /// Seats one client address may hold at once in one performance.
    pub max_held_seats_per_ip: u64,
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
            // Zero is meaningful here: buyers may cancel with a refund until the curtain rises.
            refund_cutoff_hours: non_negative(&get, "CURTAIN_REFUND_CUTOFF_HOURS", 24)?,
            mail_from: get("MAIL_FROM").unwrap_or_else(|| "Curtain <no-reply@localhost>".into()),
            smtp_url: get("SMTP_URL").map(Secret::new),
            vnpay: VnpayConfig::from_lookup(&get)?,
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
            ws_max: positive(&get, "CURTAIN_WS_MAX", 20_000)? as usize,
            max_held_seats_per_ip: positive(&get, "CURTAIN_MAX_HELD_SEATS_PER_IP", 40)? as u64,
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

/// A setting that must be at least 1: zero would silently switch its feature off (a hold that
/// ends at once, a limit nobody can pass, a WebSocket cap that refuses everyone).
fn positive(get: &impl Fn(&str) -> Option<String>, key: &str, default: i64) -> anyhow::Result<i64> {
    match get(key) {
        None => Ok(default),
        Some(raw) => match raw.trim().parse::<i64>() {
            Ok(n) if n >= 1 => Ok(n),
            _ => bail!("{key} must be a whole number of at least 1, not {raw:?}"),
        },
    }
}

fn non_negative(get: &impl Fn(&str) -> Option<String>, key: &str, default: i64) -> anyhow::Result<i64> {
    match get(key) {
        None => Ok(default),
        Some(raw) => match raw.trim().parse::<i64>() {
            Ok(n) if n >= 0 => Ok(n),
            _ => bail!("{key} must be a whole number of at least 0, not {raw:?}"),
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

    const REAL: [(&str, &str); 4] = [
        ("VNPAY_TMN_CODE", "CURTAIN1"),
        ("VNPAY_HASH_SECRET", "s3cret"),
        ("VNPAY_PAYMENT_URL", "https://sandbox.vnpayment.vn/paymentv2/vpcpay.html"),
        ("VNPAY_API_URL", "https://sandbox.vnpayment.vn/merchant_webapi/api/transaction"),
    ];

    #[test]
    fn vnpay_all_or_nothing_runs() {
        let none = config(&[]).unwrap();
        assert!(!none.vnpay.simulator && none.vnpay.tmn_code.is_none());
        let real = config(&REAL).unwrap();
        assert_eq!(real.vnpay.payment_url.as_deref(), Some(REAL[2].1));
        assert!(!real.vnpay.simulator);
        let off = config(&[REAL[0], REAL[1], REAL[2], REAL[3], ("VNPAY_SIMULATOR", "off")]).unwrap();
        assert!(!off.vnpay.simulator);
    }

    #[test]
    fn a_partial_vnpay_configuration_is_refused_naming_what_is_missing() {
        // The case of the issue: code and secret but no gateway URL must not run the simulator.
        let err = config(&REAL[..2]).unwrap_err().to_string();
        assert!(err.contains("VNPAY_PAYMENT_URL, VNPAY_API_URL missing"), "{err}");
        assert!(!err.contains('\n'), "one line: {err}");
        assert!(!err.contains("s3cret"), "the secret is never printed: {err}");
        let err = config(&[REAL[0], REAL[1], REAL[2]]).unwrap_err().to_string();
        assert!(err.contains("VNPAY_API_URL missing"), "{err}");
        assert!(!err.contains("VNPAY_TMN_CODE"), "{err}");
        let err = config(&[REAL[2]]).unwrap_err().to_string();
        assert!(err.contains("VNPAY_TMN_CODE, VNPAY_HASH_SECRET, VNPAY_API_URL missing"), "{err}");
        let err = config(&[REAL[1]]).unwrap_err().to_string();
        assert!(err.contains("VNPAY_TMN_CODE, VNPAY_PAYMENT_URL, VNPAY_API_URL missing"), "{err}");
    }

    #[test]
    fn the_simulator_signs_with_a_given_code_and_secret_only_when_asked() {
        let sim = config(&[REAL[0], REAL[1], ("VNPAY_SIMULATOR", "on")]).unwrap();
        assert!(sim.vnpay.simulator);
        assert_eq!(sim.vnpay.tmn_code.as_deref(), Some("CURTAIN1"));
        assert!(config(&[REAL[1], ("VNPAY_SIMULATOR", "on")]).unwrap().vnpay.simulator);
        assert!(config(&[("VNPAY_SIMULATOR", "on")]).unwrap().vnpay.simulator);

        let err = config(&[REAL[0], REAL[1], REAL[2], ("VNPAY_SIMULATOR", "on")]).unwrap_err().to_string();
        assert!(err.contains("VNPAY_SIMULATOR=on cannot be combined with VNPAY_PAYMENT_URL"), "{err}");
        let err = config(&[REAL[2], ("VNPAY_SIMULATOR", "on")]).unwrap_err().to_string();
        assert!(err.contains("VNPAY_PAYMENT_URL"), "{err}");
        let err = config(&[REAL[0], REAL[1], REAL[3], ("VNPAY_SIMULATOR", "on")]).unwrap_err().to_string();
        assert!(err.contains("cannot be combined with VNPAY_API_URL"), "{err}");
        let err = config(&REAL.iter().copied().chain([("VNPAY_SIMULATOR", "on")]).collect::<Vec<_>>())
            .unwrap_err()
            .to_string();
        assert!(err.contains("VNPAY_SIMULATOR=on cannot be combined"), "{err}");
        let err = config(&[("VNPAY_SIMULATOR", "maybe")]).unwrap_err().to_string();
        assert!(err.contains("VNPAY_SIMULATOR must be on or off"), "{err}");
    }

    #[test]
    fn settings_that_must_be_positive_refuse_zero_in_one_line() {
        for key in [
            "CURTAIN_HOLD_MINUTES",
            "CURTAIN_LIMIT_ANONYMOUS_PER_HOUR",
            "CURTAIN_LIMIT_USER_PER_HOUR",
            "CURTAIN_LIMIT_BOOKINGS_PER_MINUTE",
            "CURTAIN_LIMIT_LOGIN_FAILURES_PER_ACCOUNT",
            "CURTAIN_LIMIT_LOGIN_FAILURES_PER_IP",
            "CURTAIN_WS_MAX_PER_IP",
            "CURTAIN_WS_MAX",
            "CURTAIN_MAX_HELD_SEATS_PER_IP",
        ] {
            for bad in ["0", "-3"] {
                let err = config(&[(key, bad)]).unwrap_err();
                let message = format!("{err:#}");
                assert!(message.contains(key) && message.contains("at least 1"), "{key}={bad}: {message}");
                assert!(!message.contains('\n'), "one line: {message}");
            }
            assert!(config(&[(key, "1")]).is_ok(), "{key}=1 is accepted");
        }
        // Zero is a real choice for the refund cut-off: refunds until the start.
        assert_eq!(config(&[("CURTAIN_REFUND_CUTOFF_HOURS", "0")]).unwrap().refund_cutoff_hours, 0);
        assert!(config(&[("CURTAIN_REFUND_CUTOFF_HOURS", "-1")]).is_err());
    }

    #[test]
    fn connection_and_hold_caps_default_to_the_spec() {
        let c = config(&[]).unwrap();
        assert_eq!((c.ws_max_per_ip, c.ws_max, c.max_held_seats_per_ip), (50, 20_000, 40));
        let c = config(&[("CURTAIN_WS_MAX", "7"), ("CURTAIN_MAX_HELD_SEATS_PER_IP", "12")]).unwrap();
        assert_eq!((c.ws_max, c.max_held_seats_per_ip), (7, 12));
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
