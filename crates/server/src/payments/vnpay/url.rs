//! The payment URL a buyer is sent to (SPEC §5): every required `vnp_*` parameter, amounts in
//! VND × 100, dates as `yyyyMMddHHmmss` in GMT+7, signed; the query string is exactly the signed
//! string plus `vnp_SecureHash`.

use chrono::{DateTime, Duration, Utc};

use super::sign::{hmac_hex, signed_query};
use crate::slugs::ascii_fold;

pub const VERSION: &str = "2.1.0";

/// One payment attempt.
#[derive(Clone, Debug)]
pub struct PaymentRequest {
    pub tmn_code: String,
    /// In whole dong (VND has no minor unit); VNPAY wants it × 100.
    pub amount_vnd: i64,
    /// New for every attempt.
    pub txn_ref: String,
    pub order_info: String,
    /// `vn` or `en`.
    pub locale: &'static str,
    pub return_url: String,
    pub ip_addr: String,
    pub created: DateTime<Utc>,
    pub expires: DateTime<Utc>,
    pub bank_code: Option<String>,
}

/// `yyyyMMddHHmmss` in Vietnam's time (UTC+7, no daylight saving; beware `Etc/GMT+7`, which
/// is UTC−7).
pub fn vnpay_time(at: DateTime<Utc>) -> String {
    (at + Duration::hours(7)).format("%Y%m%d%H%M%S").to_string()
}

/// The signed payment URL under `base` (the gateway's, or the simulator's).
pub fn payment_url(
    base: &str,
    secret: &str,
    request: &PaymentRequest,
) -> Result<String, hmac::digest::InvalidLength> {
    let amount = (request.amount_vnd * 100).to_string();
    let created = vnpay_time(request.created);
    let expires = vnpay_time(request.expires);
    // ASCII only, and only characters VNPAY accepts in order info.
    let info: String = ascii_fold(&request.order_info)
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || " -_.:#/".contains(*c))
        .take(255)
        .collect();
    let mut params: Vec<(&str, &str)> = vec![
        ("vnp_Version", VERSION),
        ("vnp_Command", "pay"),
        ("vnp_TmnCode", &request.tmn_code),
        ("vnp_Amount", &amount),
        ("vnp_CurrCode", "VND"),
        ("vnp_TxnRef", &request.txn_ref),
        ("vnp_OrderInfo", &info),
        ("vnp_OrderType", "other"),
        ("vnp_Locale", request.locale),
        ("vnp_ReturnUrl", &request.return_url),
        ("vnp_IpAddr", &request.ip_addr),
        ("vnp_CreateDate", &created),
        ("vnp_ExpireDate", &expires),
    ];
    if let Some(bank) = request.bank_code.as_deref().filter(|b| !b.is_empty()) {
        params.push(("vnp_BankCode", bank));
    }
    let query = signed_query(params);
    let hash = hmac_hex(secret, &query)?;
    Ok(format!("{base}?{query}&vnp_SecureHash={hash}"))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::payments::vnpay::sign::verify;

    #[test]
    fn the_url_carries_every_parameter_signed_in_gmt7() {
        let created = Utc.with_ymd_and_hms(2026, 11, 25, 17, 30, 5).unwrap();
        let request = PaymentRequest {
            tmn_code: "CURTAIN1".into(),
            amount_vnd: 1_100_000,
            txn_ref: "B42A1".into(),
            order_info: "Thanh toán CUR-7K3Q9X: Hồn Trương Ba!".into(),
            locale: "vn",
            return_url: "http://127.0.0.1:8000/api/payments/vnpay/return".into(),
            ip_addr: "203.0.113.9".into(),
            created,
            expires: created + Duration::minutes(10),
            bank_code: None,
        };
        let url = payment_url("https://sandbox.example/pay", "s3cret", &request).unwrap();
        let (base, _) = url.split_once('?').unwrap();
        assert_eq!(base, "https://sandbox.example/pay");
        // What VNPAY receives, form-decoded.
        let parsed = reqwest::Url::parse(&url).unwrap();
        let pairs: Vec<(String, String)> =
            parsed.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
        let get = |k: &str| pairs.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
        assert_eq!(get("vnp_Amount"), Some("110000000"));
        assert_eq!(get("vnp_CreateDate"), Some("20261126003005"), "17:30 UTC is 00:30 the next day in Hanoi");
        assert_eq!(get("vnp_ExpireDate"), Some("20261126004005"));
        assert_eq!(get("vnp_OrderInfo"), Some("Thanh toan CUR-7K3Q9X: Hon Truong Ba"));
        assert_eq!(get("vnp_BankCode"), None, "omitted, never empty");
        for key in [
            "vnp_Version",
            "vnp_Command",
            "vnp_TmnCode",
            "vnp_CurrCode",
            "vnp_TxnRef",
            "vnp_OrderType",
            "vnp_Locale",
            "vnp_ReturnUrl",
            "vnp_IpAddr",
        ] {
            assert!(get(key).is_some(), "{key}");
        }
        // It verifies with the same secret, and the hash comes last.
        assert_eq!(pairs.last().unwrap().0, "vnp_SecureHash");
        assert!(verify("s3cret", pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))));
    }
}
