//! Keeping secrets out of what people read: request logs and the staff job monitor (SPEC §9:
//! secrets never in logs, job payloads or any API answer).
//!
//! Two rules, applied wherever text leaves for human eyes: query values whose name looks secret
//! (`token`, `vnp_SecureHash`, …) become `***`, and JSON fields whose name looks secret are
//! replaced whole.

use std::borrow::Cow;

use serde_json::Value;

/// What replaces a secret.
pub const MASK: &str = "***";

/// Name fragments of secret-looking query parameters and JSON fields, compared lower-cased.
/// `hash` covers VNPAY's `vnp_SecureHash`; `link` covers mailed links that carry tokens.
const SECRET_NAMES: &[&str] = &["token", "secret", "password", "hash", "signature", "link"];

/// Whether a parameter or field called `name` may hold a secret. Ids of rows that hold secrets
/// (`token_id`) are not secrets themselves.
pub fn is_secret_name(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    !name.ends_with("_id") && SECRET_NAMES.iter().any(|s| name.contains(s))
}

/// `text` (a URI, or any string that may contain one) with the values of secret-looking query
/// parameters masked: `/verify-email?token=abc&x=1` → `/verify-email?token=***&x=1`.
pub fn query_values(text: &str) -> Cow<'_, str> {
    let Some((head, query)) = text.split_once('?') else { return Cow::Borrowed(text) };
    // A fragment or anything after whitespace is not part of the query.
    let end = query.find(['#', ' ', '"', '\'', '<', '>', '\n']).unwrap_or(query.len());
    let (query, tail) = query.split_at(end);
    let mut changed = false;
    let parts: Vec<Cow<'_, str>> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, value)) if !value.is_empty() && is_secret_name(name) => {
                changed = true;
                Cow::Owned(format!("{name}={MASK}"))
            }
            _ => Cow::Borrowed(pair),
        })
        .collect();
    // The tail may hold another URI (a text with several links).
    let tail = query_values(tail);
    if !changed && matches!(tail, Cow::Borrowed(_)) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(format!("{head}?{}{tail}", parts.join("&")))
}

/// A JSON value for display: secret-looking fields replaced by [`MASK`], secret query values
/// masked inside every string.
pub fn json(value: Value) -> Value {
    match value {
        Value::Object(fields) => Value::Object(
            fields
                .into_iter()
                .map(|(name, value)| {
                    let value = if is_secret_name(&name) && !value.is_null() {
                        Value::from(MASK)
                    } else {
                        json(value)
                    };
                    (name, value)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(json).collect()),
        Value::String(text) => match query_values(&text) {
            Cow::Borrowed(_) => Value::String(text),
            Cow::Owned(masked) => Value::String(masked),
        },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn secret_query_values_are_masked() {
        assert_eq!(query_values("/verify-email?token=abc&x=1"), "/verify-email?token=***&x=1");
        assert_eq!(
            query_values("/api/payments/vnpay/return?vnp_Amount=100&vnp_SecureHash=ff00&vnp_TxnRef=7"),
            "/api/payments/vnpay/return?vnp_Amount=100&vnp_SecureHash=***&vnp_TxnRef=7"
        );
        assert_eq!(query_values("/ws/bookings?TOKEN=eyJ"), "/ws/bookings?TOKEN=***");
        assert_eq!(query_values("/api/events?q=token&page=2"), "/api/events?q=token&page=2");
        assert!(matches!(query_values("/api/events"), Cow::Borrowed(_)));
        assert!(matches!(query_values("/api/events?page=1"), Cow::Borrowed(_)));
        assert_eq!(
            query_values("open https://x/reset?token=a1 or https://x/verify?token=b2 now"),
            "open https://x/reset?token=*** or https://x/verify?token=*** now"
        );
    }

    #[test]
    fn secret_fields_are_replaced_and_links_lose_their_tokens() {
        let shown = json(json!({
            "to": "lan@example.com",
            "data": {"name": "Lan", "link": "http://x/reset-password?token=abc", "minutes": 60},
            "token_id": 12,
            "refresh_token": "r",
            "note": "see http://x/verify-email?token=def",
            "items": [{"password": "p"}, "plain"],
            "hash_secret": null,
        }));
        assert_eq!(
            shown,
            json!({
                "to": "lan@example.com",
                "data": {"name": "Lan", "link": MASK, "minutes": 60},
                "token_id": 12,
                "refresh_token": MASK,
                "note": "see http://x/verify-email?token=***",
                "items": [{"password": MASK}, "plain"],
                "hash_secret": null,
            })
        );
    }
}
