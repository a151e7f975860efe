//! Extractors whose rejections come out in the envelope with stable codes, instead of axum's
//! plain-text bodies.

use axum::extract::{FromRequest, FromRequestParts};

use serde::de::DeserializeOwned;

use crate::error::{AppError, ErrorItem};

/// A JSON body; malformed JSON, a wrong content type or an oversized body answer
/// `validation_failed`, `unsupported_media_type` or `payload_too_large`.
#[derive(Debug, Clone, Copy, Default, FromRequest)]
#[from_request(via(axum::Json), rejection(AppError))]
pub struct ApiJson<T>(pub T);

/// Path parameters; an id that does not parse is a 404, as if it did not exist.
#[derive(Debug, Clone, Copy, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(AppError))]
pub struct ApiPath<T>(pub T);

/// Query parameters decoded by serde; rejections answer `validation_failed`.
#[derive(Debug, Clone, Copy, Default, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(AppError))]
pub struct ApiQuery<T>(pub T);

/// A JSON body that may be absent (the browser sends the refresh cookie instead): empty or
/// `null` (as the document's optional body allows) means `None`; anything else must parse.
pub fn optional_json<T: DeserializeOwned>(body: &[u8]) -> Result<Option<T>, AppError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    serde_json::from_slice::<Option<T>>(body).map_err(|err| {
        AppError::Validation(vec![ErrorItem {
            field: Some("body".into()),
            ..ErrorItem::new("validation_failed", format!("Malformed JSON: {err}"))
        }])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize, PartialEq)]
    struct Body {
        reason: Option<String>,
    }

    #[test]
    fn an_optional_body_may_be_empty_or_null_but_not_malformed() {
        assert_eq!(optional_json::<Body>(b"").unwrap(), None);
        assert_eq!(optional_json::<Body>(b" null ").unwrap(), None);
        assert_eq!(optional_json::<Body>(b"{}").unwrap(), Some(Body { reason: None }));
        assert!(optional_json::<Body>(b"{").is_err());
    }
}
