//! VNPAY's merchant API (`querydr`, `refund`): JSON POSTs whose checksum is an HMAC-SHA512 of
//! the pipe-joined fields in the order VNPAY fixes. The same builders and checks serve the
//! client (calling VNPAY or the simulator) and the simulator (answering), so both sides agree.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{sign::api_hash, url::VERSION};

/// A `querydr` request: where does this payment stand?
#[derive(Clone, Debug, Serialize, Deserialize)]
#[allow(non_snake_case)] // VNPAY's field names, as sent on the wire.
pub struct QueryRequest {
    pub vnp_RequestId: String,
    pub vnp_Version: String,
    pub vnp_Command: String,
    pub vnp_TmnCode: String,
    pub vnp_TxnRef: String,
    pub vnp_OrderInfo: String,
    pub vnp_TransactionDate: String,
    pub vnp_CreateDate: String,
    pub vnp_IpAddr: String,
    pub vnp_SecureHash: String,
}

/// A `refund` request, full (`02`) or partial (`03`).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[allow(non_snake_case)] // VNPAY's field names, as sent on the wire.
pub struct RefundRequest {
    pub vnp_RequestId: String,
    pub vnp_Version: String,
    pub vnp_Command: String,
    pub vnp_TmnCode: String,
    pub vnp_TransactionType: String,
    pub vnp_TxnRef: String,
    pub vnp_Amount: String,
    pub vnp_OrderInfo: String,
    pub vnp_TransactionNo: String,
    pub vnp_TransactionDate: String,
    pub vnp_CreateBy: String,
    pub vnp_CreateDate: String,
    pub vnp_IpAddr: String,
    pub vnp_SecureHash: String,
}

impl QueryRequest {
    pub fn checksum_fields(&self) -> [&str; 9] {
        [
            &self.vnp_RequestId,
            &self.vnp_Version,
            &self.vnp_Command,
            &self.vnp_TmnCode,
            &self.vnp_TxnRef,
            &self.vnp_TransactionDate,
            &self.vnp_CreateDate,
            &self.vnp_IpAddr,
            &self.vnp_OrderInfo,
        ]
    }
}

impl RefundRequest {
    pub fn checksum_fields(&self) -> [&str; 13] {
        [
            &self.vnp_RequestId,
            &self.vnp_Version,
            &self.vnp_Command,
            &self.vnp_TmnCode,
            &self.vnp_TransactionType,
            &self.vnp_TxnRef,
            &self.vnp_Amount,
            &self.vnp_TransactionNo,
            &self.vnp_TransactionDate,
            &self.vnp_CreateBy,
            &self.vnp_CreateDate,
            &self.vnp_IpAddr,
            &self.vnp_OrderInfo,
        ]
    }
}

/// What the caller knows about the payment being asked about.
pub struct Subject<'a> {
    pub tmn_code: &'a str,
    pub txn_ref: &'a str,
    /// The payment's original `vnp_CreateDate`.
    pub transaction_date: &'a str,
    /// Now, in VNPAY's format.
    pub create_date: &'a str,
    pub ip_addr: &'a str,
    pub request_id: &'a str,
}

pub fn query_request(
    secret: &str,
    subject: &Subject<'_>,
) -> Result<QueryRequest, hmac::digest::InvalidLength> {
    let mut request = QueryRequest {
        vnp_RequestId: subject.request_id.to_owned(),
        vnp_Version: VERSION.to_owned(),
        vnp_Command: "querydr".to_owned(),
        vnp_TmnCode: subject.tmn_code.to_owned(),
        vnp_TxnRef: subject.txn_ref.to_owned(),
        vnp_OrderInfo: format!("Query {}", subject.txn_ref),
        vnp_TransactionDate: subject.transaction_date.to_owned(),
        vnp_CreateDate: subject.create_date.to_owned(),
        vnp_IpAddr: subject.ip_addr.to_owned(),
        vnp_SecureHash: String::new(),
    };
    request.vnp_SecureHash = api_hash(secret, &request.checksum_fields())?;
    Ok(request)
}

/// A refund of `amount_vnd` (whole dong; sent × 100) of a payment of `paid_vnd`.
pub fn refund_request(
    secret: &str,
    subject: &Subject<'_>,
    amount_vnd: i64,
    paid_vnd: i64,
    transaction_no: Option<&str>,
    created_by: &str,
) -> Result<RefundRequest, hmac::digest::InvalidLength> {
    let mut request = RefundRequest {
        vnp_RequestId: subject.request_id.to_owned(),
        vnp_Version: VERSION.to_owned(),
        vnp_Command: "refund".to_owned(),
        vnp_TmnCode: subject.tmn_code.to_owned(),
        vnp_TransactionType: if amount_vnd >= paid_vnd { "02" } else { "03" }.to_owned(),
        vnp_TxnRef: subject.txn_ref.to_owned(),
        vnp_Amount: (amount_vnd * 100).to_string(),
        vnp_OrderInfo: format!("Refund {}", subject.txn_ref),
        vnp_TransactionNo: transaction_no.unwrap_or("0").to_owned(),
        vnp_TransactionDate: subject.transaction_date.to_owned(),
        vnp_CreateBy: created_by.to_owned(),
        vnp_CreateDate: subject.create_date.to_owned(),
        vnp_IpAddr: subject.ip_addr.to_owned(),
        vnp_SecureHash: String::new(),
    };
    request.vnp_SecureHash = api_hash(secret, &request.checksum_fields())?;
    Ok(request)
}

/// The answer fields covered by the response checksum, in order; the refund answer has no
/// promotion fields.
const QUERY_RESPONSE_FIELDS: &[&str] = &[
    "vnp_ResponseId",
    "vnp_Command",
    "vnp_ResponseCode",
    "vnp_Message",
    "vnp_TmnCode",
    "vnp_TxnRef",
    "vnp_Amount",
    "vnp_BankCode",
    "vnp_PayDate",
    "vnp_TransactionNo",
    "vnp_TransactionType",
    "vnp_TransactionStatus",
    "vnp_OrderInfo",
    "vnp_PromotionCode",
    "vnp_PromotionAmount",
];

fn response_fields(command: &str) -> &'static [&'static str] {
    if command == "refund" { &QUERY_RESPONSE_FIELDS[..13] } else { QUERY_RESPONSE_FIELDS }
}

/// A JSON answer of the API as a flat map of strings.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ApiResponse(pub Map<String, Value>);

impl ApiResponse {
    pub fn get(&self, key: &str) -> &str {
        self.0.get(key).and_then(Value::as_str).unwrap_or("")
    }

    pub fn response_code(&self) -> &str {
        self.get("vnp_ResponseCode")
    }

    /// Computes and stores the checksum (the simulator's side).
    pub fn sign(&mut self, secret: &str) -> Result<(), hmac::digest::InvalidLength> {
        let hash = self.expected_hash(secret)?;
        self.0.insert("vnp_SecureHash".into(), Value::String(hash));
        Ok(())
    }

    /// Whether the checksum matches; `None` when the answer carries none.
    pub fn verify(&self, secret: &str) -> Option<bool> {
        let given = self.0.get("vnp_SecureHash").and_then(Value::as_str)?;
        let expected = self.expected_hash(secret).ok()?;
        Some(constant_time_eq(given.to_ascii_lowercase().as_bytes(), expected.as_bytes()))
    }

    fn expected_hash(&self, secret: &str) -> Result<String, hmac::digest::InvalidLength> {
        let fields: Vec<&str> =
            response_fields(self.get("vnp_Command")).iter().map(|k| self.get(k)).collect();
        api_hash(secret, &fields)
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::payments::vnpay::sign::hmac_hex;

    fn subject() -> Subject<'static> {
        Subject {
            tmn_code: "CURTAIN1",
            txn_ref: "B7X3K9",
            transaction_date: "20261126083000",
            create_date: "20261126090000",
            ip_addr: "127.0.0.1",
            request_id: "Q123",
        }
    }

    #[test]
    fn querydr_checksum_joins_the_fields_in_vnpay_order() {
        let request = query_request("s3cret", &subject()).unwrap();
        let joined =
            "Q123|2.1.0|querydr|CURTAIN1|B7X3K9|20261126083000|20261126090000|127.0.0.1|Query B7X3K9";
        assert_eq!(request.vnp_SecureHash, hmac_hex("s3cret", joined).unwrap());
    }

    #[test]
    fn refund_checksum_joins_the_fields_in_vnpay_order_and_picks_the_type() {
        let partial =
            refund_request("s3cret", &subject(), 50_000, 200_000, Some("14422574"), "staff@x").unwrap();
        assert_eq!(partial.vnp_TransactionType, "03");
        assert_eq!(partial.vnp_Amount, "5000000");
        let joined = "Q123|2.1.0|refund|CURTAIN1|03|B7X3K9|5000000|14422574|20261126083000|staff@x|20261126090000|127.0.0.1|Refund B7X3K9";
        assert_eq!(partial.vnp_SecureHash, hmac_hex("s3cret", joined).unwrap());
        let full = refund_request("s3cret", &subject(), 200_000, 200_000, None, "system").unwrap();
        assert_eq!((full.vnp_TransactionType.as_str(), full.vnp_TransactionNo.as_str()), ("02", "0"));
    }

    #[test]
    fn responses_sign_and_verify_with_missing_fields_as_empty() {
        let mut answer = ApiResponse(
            serde_json::json!({"vnp_ResponseId": "R1", "vnp_Command": "querydr", "vnp_ResponseCode": "00",
                "vnp_Message": "ok", "vnp_TxnRef": "B7X3K9", "vnp_Amount": "10000000"})
            .as_object()
            .unwrap()
            .clone(),
        );
        assert_eq!(answer.verify("s3cret"), None);
        answer.sign("s3cret").unwrap();
        assert_eq!(answer.verify("s3cret"), Some(true));
        assert_eq!(answer.verify("other"), Some(false));
        answer.0.insert("vnp_Amount".into(), "1".into());
        assert_eq!(answer.verify("s3cret"), Some(false));
    }
}
