//! What VNPAY tells us about a payment — through the IPN, the return URL or a `querydr` answer —
//! read into one shape, checked in the order SPEC §5 fixes.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use serde_json::Value;

/// Longest query string read from a callback; anything longer is not VNPAY.
pub const MAX_QUERY: usize = 8 * 1024;

/// The parsed `vnp_*` parameters of a callback (first value of each key).
#[derive(Clone, Debug, Default)]
pub struct Params(pub BTreeMap<String, String>);

impl Params {
    /// Reads a raw query string; never fails (bad encodings become replacement characters,
    /// which then fail the signature).
    pub fn parse(query: &str) -> Self {
        let mut map = BTreeMap::new();
        for (k, v) in form_urlencoded::parse(query.as_bytes()) {
            map.entry(k.into_owned()).or_insert_with(|| v.into_owned());
        }
        Self(map)
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> + Clone {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The `vnp_*` parameters as JSON, kept with the payment for audits.
    pub fn to_json(&self) -> Value {
        Value::Object(
            self.0
                .iter()
                .filter(|(k, _)| k.starts_with("vnp_") && *k != "vnp_SecureHash")
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect(),
        )
    }
}

/// A settled result as the gateway reports it.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub paid: bool,
    pub response_code: String,
    pub transaction_status: String,
    pub transaction_no: Option<String>,
    pub bank_code: Option<String>,
    pub paid_at: Option<DateTime<Utc>>,
    pub raw: Value,
}

/// Why a callback is refused, each with its IPN answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    Signature,
    NotFound,
    Amount,
    AlreadySettled,
    Malformed,
}

impl Refusal {
    pub fn rsp_code(self) -> (&'static str, &'static str) {
        match self {
            Self::Signature => ("97", "Invalid signature"),
            Self::NotFound => ("01", "Order not found"),
            Self::Amount => ("04", "Invalid amount"),
            Self::AlreadySettled => ("02", "Order already confirmed"),
            Self::Malformed => ("99", "Unknown error"),
        }
    }
}

fn two_digits(value: Option<&str>) -> Option<String> {
    value.filter(|v| v.len() == 2 && v.bytes().all(|b| b.is_ascii_digit())).map(str::to_owned)
}

fn short(value: Option<&str>, max: usize) -> Option<String> {
    value.filter(|v| !v.is_empty() && v.len() <= max).map(str::to_owned)
}

/// Parses `vnp_Amount` (VND × 100) into whole dong; `None` if it is not exactly that.
pub fn amount_vnd(value: Option<&str>) -> Option<i64> {
    let value = value?;
    if value.is_empty() || value.len() > 18 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let cents: i64 = value.parse().ok()?;
    (cents % 100 == 0).then_some(cents / 100)
}

/// `yyyyMMddHHmmss` in GMT+7 → UTC.
pub fn parse_vnpay_time(value: &str) -> Option<DateTime<Utc>> {
    let naive = NaiveDateTime::parse_from_str(value, "%Y%m%d%H%M%S").ok()?;
    let offset = chrono::FixedOffset::east_opt(7 * 3600)?;
    offset.from_local_datetime(&naive).single().map(|t| t.with_timezone(&Utc))
}

/// The result fields of a verified callback. Missing or malformed status codes are refused
/// (`Malformed`), never guessed.
pub fn outcome(params: &Params) -> Result<Outcome, Refusal> {
    let response_code = two_digits(params.get("vnp_ResponseCode")).ok_or(Refusal::Malformed)?;
    let transaction_status = two_digits(params.get("vnp_TransactionStatus")).ok_or(Refusal::Malformed)?;
    Ok(Outcome {
        paid: response_code == "00" && transaction_status == "00",
        transaction_no: short(params.get("vnp_TransactionNo"), 32).filter(|n| n != "0"),
        bank_code: short(params.get("vnp_BankCode"), 20),
        paid_at: params.get("vnp_PayDate").and_then(parse_vnpay_time),
        response_code,
        transaction_status,
        raw: params.to_json(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_must_be_whole_dong_digits() {
        assert_eq!(amount_vnd(Some("10000000")), Some(100_000));
        for bad in ["", "12a", "-100", "100.00", "1050", "99999999999999999999999", " 100"] {
            assert_eq!(amount_vnd(Some(bad)), None, "{bad:?}");
        }
        assert_eq!(amount_vnd(None), None);
    }

    #[test]
    fn pay_dates_are_gmt_plus_7() {
        let t = parse_vnpay_time("20240521091806").unwrap_or_default();
        assert_eq!(t.to_rfc3339(), "2024-05-21T02:18:06+00:00");
        assert!(parse_vnpay_time("2024-05-21").is_none());
    }

    #[test]
    fn parsing_keeps_the_first_value_and_tolerates_garbage() {
        let p = Params::parse("vnp_TxnRef=A1&vnp_TxnRef=B2&vnp_OrderInfo=Thanh+toan%20x&bad=%ZZ&=");
        assert_eq!(p.get("vnp_TxnRef"), Some("A1"));
        assert_eq!(p.get("vnp_OrderInfo"), Some("Thanh toan x"));
        let missing = outcome(&Params::parse("vnp_ResponseCode=00"));
        assert_eq!(missing.err(), Some(Refusal::Malformed));
        let paid =
            outcome(&Params::parse("vnp_ResponseCode=00&vnp_TransactionStatus=00&vnp_TransactionNo=123"));
        assert!(paid.map(|o| o.paid && o.transaction_no.as_deref() == Some("123")).unwrap_or(false));
    }
}
