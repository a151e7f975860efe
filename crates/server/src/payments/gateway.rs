//! Which VNPAY Curtain talks to — the real one (configured) or the built-in simulator — and the
//! client calls of its merchant API.

use crate::db::Writer;
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use rand::{Rng, distr::Alphanumeric};

use super::vnpay::{
    api::{self, ApiResponse, Subject},
    url::vnpay_time,
};
use crate::{
    clock::Clock,
    config::{Config, Secret},
    secrets,
};

/// Where the simulator serves its payment page and API.
pub const SIMULATOR_PAY_PATH: &str = "/sandbox/vnpay/pay";
pub const SIMULATOR_API_PATH: &str = "/sandbox/vnpay/api";
pub const RETURN_PATH: &str = "/api/payments/vnpay/return";
pub const IPN_PATH: &str = "/api/payments/vnpay/ipn";

#[derive(Clone)]
pub struct Gateway {
    pub tmn_code: String,
    pub secret: Secret,
    pub pay_url: String,
    pub api_url: String,
    pub return_url: String,
    /// True when the built-in simulator plays VNPAY (`VNPAY_PAYMENT_URL` unset).
    pub simulated: bool,
    http: reqwest::Client,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway")
            .field("tmn_code", &self.tmn_code)
            .field("pay_url", &self.pay_url)
            .field("api_url", &self.api_url)
            .field("simulated", &self.simulated)
            .finish_non_exhaustive()
    }
}

impl Gateway {
    /// Real credentials come only from configuration; the simulator uses them when set, else a
    /// code and secret generated once and kept in the database (shared by every instance).
    pub async fn from_config(config: &Config, db: &Writer, clock: &dyn Clock) -> anyhow::Result<Self> {
        let base = config.public_base_url.trim_end_matches('/');
        let simulated = config.vnpay.payment_url.is_none();
        let (tmn_code, secret) = match (&config.vnpay.tmn_code, &config.vnpay.hash_secret) {
            (Some(code), Some(secret)) => (code.clone(), secret.clone()),
            _ if !simulated => anyhow::bail!(
                "VNPAY_PAYMENT_URL is set: VNPAY_TMN_CODE and VNPAY_HASH_SECRET are required too"
            ),
            (code, secret) => {
                let code = match code {
                    Some(code) => code.clone(),
                    None => {
                        secrets::get_or_create(db, clock, "vnpay_simulator_tmn_code", 8).await?.to_uppercase()
                    }
                };
                let secret = match secret {
                    Some(secret) => secret.clone(),
                    None => Secret::new(
                        secrets::get_or_create(db, clock, "vnpay_simulator_hash_secret", 32).await?,
                    ),
                };
                (code, secret)
            }
        };
        let pay_url =
            config.vnpay.payment_url.clone().unwrap_or_else(|| format!("{base}{SIMULATOR_PAY_PATH}"));
        let api_url = match (&config.vnpay.api_url, simulated) {
            (Some(url), _) => url.clone(),
            (None, true) => format!("{base}{SIMULATOR_API_PATH}"),
            (None, false) => anyhow::bail!("VNPAY_PAYMENT_URL is set: VNPAY_API_URL is required too"),
        };
        if simulated {
            tracing::warn!(%pay_url, "VNPAY SIMULATOR in use: payments are simulated, no money moves (set VNPAY_PAYMENT_URL for the real gateway)");
        }
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .context("building the HTTP client for VNPAY")?;
        Ok(Self {
            tmn_code,
            secret,
            pay_url,
            api_url,
            return_url: format!("{base}{RETURN_PATH}"),
            simulated,
            http,
        })
    }

    /// Where the simulator delivers IPNs (VNPAY itself has this URL registered by the merchant).
    pub fn ipn_url(config: &Config) -> String {
        format!("{}{IPN_PATH}", config.public_base_url.trim_end_matches('/'))
    }

    pub async fn query(
        &self,
        txn_ref: &str,
        transaction_date: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<ApiResponse> {
        let request_id = request_id("Q");
        let create_date = vnpay_time(now);
        let subject = self.subject(txn_ref, transaction_date, &create_date, &request_id);
        let request = api::query_request(self.secret.expose(), &subject).context("signing querydr")?;
        self.post(&request).await
    }

    /// Asks for a refund. `request_id` identifies the refund (retries send the same one).
    #[allow(clippy::too_many_arguments)]
    pub async fn refund(
        &self,
        request_id: &str,
        txn_ref: &str,
        transaction_date: &str,
        amount: i64,
        paid: i64,
        transaction_no: Option<&str>,
        created_by: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<ApiResponse> {
        let create_date = vnpay_time(now);
        let subject = self.subject(txn_ref, transaction_date, &create_date, request_id);
        let request =
            api::refund_request(self.secret.expose(), &subject, amount, paid, transaction_no, created_by)
                .context("signing refund")?;
        self.post(&request).await
    }

    /// Calls a merchant's IPN URL the way VNPAY's server does (the simulator's side).
    pub async fn deliver_ipn(&self, url: &str) -> anyhow::Result<serde_json::Value> {
        let response = self.http.get(url).send().await.context("calling the IPN URL")?;
        response.json().await.context("the IPN answer is not JSON")
    }

    fn subject<'a>(
        &'a self,
        txn_ref: &'a str,
        transaction_date: &'a str,
        create_date: &'a str,
        request_id: &'a str,
    ) -> Subject<'a> {
        Subject {
            tmn_code: &self.tmn_code,
            txn_ref,
            transaction_date,
            create_date,
            ip_addr: "127.0.0.1",
            request_id,
        }
    }

    async fn post(&self, body: &impl serde::Serialize) -> anyhow::Result<ApiResponse> {
        let response =
            self.http.post(&self.api_url).json(body).send().await.context("calling the VNPAY API")?;
        let status = response.status();
        let value: serde_json::Value =
            response.json().await.with_context(|| format!("VNPAY API answered {status} without JSON"))?;
        let fields = value
            .as_object()
            .cloned()
            .with_context(|| format!("VNPAY API answered {status}: not an object"))?;
        let answer = ApiResponse(fields);
        if answer.verify(self.secret.expose()) == Some(false) {
            // VNPAY documents the response checksum in one place only: log, do not reject.
            tracing::warn!(command = answer.get("vnp_Command"), "VNPAY API answer checksum differs");
        }
        Ok(answer)
    }
}

/// A fresh `vnp_RequestId`: ≤ 32 alphanumerics, unique per day.
pub fn request_id(prefix: &str) -> String {
    let random: String = rand::rng().sample_iter(&Alphanumeric).take(20).map(char::from).collect();
    format!("{prefix}{random}")
}
