//! VNPAY's checksums. Payment URLs and callbacks: the `vnp_*` parameters except the hash fields,
//! empty values dropped, sorted by key bytes, keys and values encoded like PHP's `urlencode`,
//! joined `k=v&…`, HMAC-SHA512 with the hash secret, lower-case hex. The query/refund API signs
//! its fields joined with `|`, without encoding.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha512;

type HmacSha512 = Hmac<Sha512>;

/// PHP `urlencode`: `A-Z a-z 0-9 - _ .` kept, space → `+`, every other byte `%XX` upper-case
/// (unlike `application/x-www-form-urlencoded` serializers, `*` and `~` are encoded too).
pub fn php_urlencode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => out.push(char::from(byte)),
            b' ' => out.push('+'),
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

/// The string VNPAY signs for these parameters (only `vnp_*`, hash fields and empty values out).
pub fn signed_query<'a>(params: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut fields: Vec<(&str, &str)> = params
        .into_iter()
        .filter(|(k, v)| {
            k.starts_with("vnp_") && *k != "vnp_SecureHash" && *k != "vnp_SecureHashType" && !v.is_empty()
        })
        .collect();
    fields.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", php_urlencode(k), php_urlencode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// HMAC-SHA512 of `data`, lower-case hex. (HMAC accepts keys of any length; the error exists
/// only in the generic API.)
pub fn hmac_hex(secret: &str, data: &str) -> Result<String, hmac::digest::InvalidLength> {
    let mut mac = HmacSha512::new_from_slice(secret.as_bytes())?;
    mac.update(data.as_bytes());
    Ok(hex::encode(mac.finalize().into_bytes()))
}

/// The `vnp_SecureHash` for these parameters.
pub fn secure_hash<'a>(
    secret: &str,
    params: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<String, hmac::digest::InvalidLength> {
    hmac_hex(secret, &signed_query(params))
}

/// Checks a callback's `vnp_SecureHash` in constant time (case-insensitive hex).
pub fn verify<'a>(secret: &str, params: impl IntoIterator<Item = (&'a str, &'a str)> + Clone) -> bool {
    let Some(given) = params.clone().into_iter().find(|(k, _)| *k == "vnp_SecureHash").map(|(_, v)| v) else {
        return false;
    };
    let Ok(given) = hex::decode(given.to_ascii_lowercase()) else { return false };
    let mut mac = match HmacSha512::new_from_slice(secret.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => return false,
    };
    mac.update(signed_query(params).as_bytes());
    mac.verify_slice(&given).is_ok()
}

/// The checksum of the query/refund API: fields joined with `|`.
pub fn api_hash(secret: &str, fields: &[&str]) -> Result<String, hmac::digest::InvalidLength> {
    hmac_hex(secret, &fields.join("|"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SPEC §5's test vector.
    const PARAMS: &[(&str, &str)] = &[
        ("vnp_Amount", "1000000"),
        ("vnp_BankCode", "NCB"),
        ("vnp_BankTranNo", "VNP14422574"),
        ("vnp_CardType", "ATM"),
        ("vnp_OrderInfo", "Thanh toan don hang 2024-05-21T02:17:31.249Z"),
        ("vnp_PayDate", "20240521091806"),
        ("vnp_ResponseCode", "00"),
        ("vnp_TmnCode", "TEST_TMN_CODE"),
        ("vnp_TransactionNo", "14422574"),
        ("vnp_TransactionStatus", "00"),
        ("vnp_TxnRef", "1716257871703"),
    ];
    const EXPECTED: &str = "649982421beb422556a1374713c74e58e716ecbd05007c0c0e1f7effdfaf361dbf146889ca446139afe11b9954c4d5c486e99e3b86fcfab6957f29eb0be72895";

    #[test]
    fn the_spec_vector_signs_exactly() {
        let mut shuffled: Vec<(&str, &str)> = PARAMS.iter().rev().copied().collect();
        shuffled.push(("vnp_SecureHashType", "HmacSHA512"));
        shuffled.push(("vnp_Empty", ""));
        shuffled.push(("utm_source", "mail"));
        assert_eq!(
            signed_query(shuffled.clone()),
            "vnp_Amount=1000000&vnp_BankCode=NCB&vnp_BankTranNo=VNP14422574&vnp_CardType=ATM&vnp_OrderInfo=Thanh+toan+don+hang+2024-05-21T02%3A17%3A31.249Z&vnp_PayDate=20240521091806&vnp_ResponseCode=00&vnp_TmnCode=TEST_TMN_CODE&vnp_TransactionNo=14422574&vnp_TransactionStatus=00&vnp_TxnRef=1716257871703"
        );
        assert_eq!(secure_hash("test_secret", shuffled).unwrap(), EXPECTED);
    }

    #[test]
    fn callbacks_verify_only_with_the_right_hash_and_secret() {
        let mut signed: Vec<(&str, &str)> = PARAMS.to_vec();
        let upper = EXPECTED.to_uppercase();
        signed.push(("vnp_SecureHash", &upper));
        assert!(verify("test_secret", signed.clone()));
        assert!(!verify("other_secret", signed.clone()));
        let mut tampered = signed.clone();
        tampered[0] = ("vnp_Amount", "2000000");
        assert!(!verify("test_secret", tampered));
        assert!(!verify("test_secret", PARAMS.to_vec()), "no hash at all");
    }

    #[test]
    fn php_urlencode_encodes_what_php_does() {
        assert_eq!(php_urlencode("a b*~é/:"), "a+b%2A%7E%C3%A9%2F%3A");
        assert_eq!(php_urlencode("AZaz09-_."), "AZaz09-_.");
    }
}
