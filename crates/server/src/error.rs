//! One error type for the whole API, turned into the response envelope of SPEC §6.
//!
//! Policy: every failure a client can cause has a stable machine `code` and the right status;
//! anything else is an `Internal` error, logged in full (inside the request's span, so with its
//! request id) and answered as a bare 500 `internal_error` that leaks nothing.

use axum::{
    extract::rejection::{JsonRejection, PathRejection, QueryRejection},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::http::envelope::Envelope;

/// One entry of the envelope's `errors` array.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct ErrorItem {
    /// Stable machine code (`validation_failed`, `not_found`, `seat_unavailable`, …).
    pub code: String,
    /// Human-readable explanation, in English.
    pub message: String,
    /// The request field the error is about, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Extra machine-readable details, e.g. `seat_ids` for `seat_unavailable`.
    #[serde(flatten, skip_serializing_if = "Map::is_empty")]
    #[schema(value_type = Object)]
    pub details: Map<String, Value>,
}

impl ErrorItem {
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        Self { code: code.to_owned(), message: message.into(), field: None, details: Map::new() }
    }

    pub fn field(field: &str, message: impl Into<String>) -> Self {
        Self { field: Some(field.to_owned()), ..Self::new("validation_failed", message) }
    }

    pub fn with_detail(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.details.insert(key.to_owned(), value.into());
        self
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// 400 `validation_failed`, one item per offending field.
    #[error("validation failed")]
    Validation(Vec<ErrorItem>),
    #[error("authentication required")]
    Unauthorized,
    #[error("invalid or expired token")]
    InvalidToken,
    /// 401 `invalid_credentials`: the same answer for an unknown email and a wrong password.
    #[error("invalid credentials")]
    Credentials,
    #[error("forbidden")]
    Forbidden,
    /// 403 with a specific code (`review_not_allowed`, …): the caller is known but may not do this.
    #[error("denied: {0:?}")]
    Denied(ErrorItem),
    #[error("not found")]
    NotFound,
    #[error("method not allowed")]
    MethodNotAllowed,
    /// 409 with a specific code (`seat_unavailable`, `invalid_transition`, `conflict`, …).
    #[error("conflict: {0:?}")]
    Conflict(ErrorItem),
    #[error("payload too large")]
    PayloadTooLarge,
    #[error("unsupported media type")]
    UnsupportedMediaType,
    #[error("rate limited")]
    RateLimited { retry_after_secs: u64 },
    /// 429 with a specific code (`held_seats_limit`, …): a cap on what one client may have at
    /// once, lifted by releasing something rather than by waiting out a window.
    #[error("over a cap: {0:?}")]
    TooMany(ErrorItem),
    /// 503: a dependency is down or a race could not be resolved by retrying.
    #[error("service unavailable: {0}")]
    Unavailable(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    /// A single-field validation error.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::Validation(vec![ErrorItem::field(field, message)])
    }

    pub fn conflict(code: &str, message: impl Into<String>) -> Self {
        Self::Conflict(ErrorItem::new(code, message))
    }

    pub fn denied(code: &str, message: impl Into<String>) -> Self {
        Self::Denied(ErrorItem::new(code, message))
    }

    /// Whether this is a database unique-index violation (a race the index decided).
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, Self::Internal(err) if err.downcast_ref::<sea_orm::DbErr>().is_some_and(is_unique_violation))
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::Validation(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized | Self::InvalidToken | Self::Credentials => StatusCode::UNAUTHORIZED,
            Self::Forbidden | Self::Denied(_) => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::RateLimited { .. } | Self::TooMany(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn items(self) -> Vec<ErrorItem> {
        match self {
            Self::Validation(items) => items,
            Self::Conflict(item) | Self::Denied(item) | Self::TooMany(item) => vec![item],
            Self::Unauthorized => vec![ErrorItem::new("unauthorized", "Authentication required.")],
            Self::InvalidToken => {
                vec![ErrorItem::new("invalid_token", "The token is invalid, revoked or expired.")]
            }
            Self::Credentials => vec![ErrorItem::new("invalid_credentials", "Wrong email or password.")],
            Self::Forbidden => {
                vec![ErrorItem::new("forbidden", "You are not allowed to do this.")]
            }
            Self::NotFound => vec![ErrorItem::new("not_found", "Not found.")],
            Self::MethodNotAllowed => {
                vec![ErrorItem::new("method_not_allowed", "This method is not allowed on this resource.")]
            }
            Self::PayloadTooLarge => {
                vec![ErrorItem::new("payload_too_large", "The request body is too large.")]
            }
            Self::UnsupportedMediaType => {
                vec![ErrorItem::new("unsupported_media_type", "Send the body as application/json.")]
            }
            Self::RateLimited { retry_after_secs } => vec![
                ErrorItem::new("rate_limited", "Too many requests; try again later.")
                    .with_detail("retry_after", retry_after_secs),
            ],
            Self::Unavailable(_) => {
                vec![ErrorItem::new("service_unavailable", "The service is busy; please retry shortly.")]
            }
            Self::Internal(_) => {
                vec![ErrorItem::new("internal_error", "Something went wrong on our side.")]
            }
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        // A busy or locked database, or a race the retries did not absorb, is a 503 the client
        // may retry: never a 500.
        let this = match self {
            Self::Internal(err)
                if err.downcast_ref::<sea_orm::DbErr>().is_some_and(crate::db::is_transient) =>
            {
                Self::Unavailable(format!("the database is busy: {err}"))
            }
            other => other,
        };
        let status = this.status();
        match &this {
            Self::Internal(err) => tracing::error!(error = ?err, "request failed"),
            Self::Unavailable(reason) => tracing::warn!(%reason, "service unavailable"),
            _ => {}
        }
        let retry_after = match &this {
            Self::RateLimited { retry_after_secs } => Some(*retry_after_secs),
            Self::Unavailable(_) => Some(1),
            _ => None,
        };
        let mut response = (status, Envelope::<()>::errors(this.items())).into_response();
        if let Some(secs) = retry_after
            && let Ok(value) = HeaderValue::from_str(&secs.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

impl From<sea_orm::DbErr> for AppError {
    fn from(err: sea_orm::DbErr) -> Self {
        Self::Internal(anyhow::Error::new(err))
    }
}

/// Whether a database error is a unique-index violation (a race the index decided).
pub fn is_unique_violation(err: &sea_orm::DbErr) -> bool {
    matches!(err.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_)))
}

impl From<sea_orm::TransactionError<AppError>> for AppError {
    fn from(err: sea_orm::TransactionError<AppError>) -> Self {
        match err {
            sea_orm::TransactionError::Connection(db) => db.into(),
            sea_orm::TransactionError::Transaction(app) => app,
        }
    }
}

impl From<JsonRejection> for AppError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::MissingJsonContentType(_) => Self::UnsupportedMediaType,
            JsonRejection::BytesRejection(_) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Self::PayloadTooLarge
            }
            JsonRejection::JsonDataError(err) => {
                // serde names the path of the offending field before a colon: "title: invalid type…".
                let detail = err.body_text();
                let message = detail
                    .strip_prefix("Failed to deserialize the JSON body into the target type: ")
                    .unwrap_or(&detail)
                    .to_owned();
                let field = field_of(&message);
                Self::Validation(vec![ErrorItem { field, ..ErrorItem::new("validation_failed", message) }])
            }
            other => Self::Validation(vec![ErrorItem {
                field: Some("body".into()),
                ..ErrorItem::new("validation_failed", format!("Malformed JSON: {}", other.body_text()))
            }]),
        }
    }
}

/// Picks the field name out of serde's messages: `missing field \`email\`` or `email: invalid …`.
fn field_of(message: &str) -> Option<String> {
    if let Some(rest) = message.split("missing field `").nth(1) {
        return rest.split('`').next().map(str::to_owned);
    }
    if let Some(rest) = message.split("unknown field `").nth(1) {
        return rest.split('`').next().map(str::to_owned);
    }
    let (head, _) = message.split_once(": ")?;
    (!head.contains(' ')).then(|| head.to_owned())
}

impl From<PathRejection> for AppError {
    /// An id that does not parse names nothing that exists: 404, as SPEC §6 asks.
    fn from(_: PathRejection) -> Self {
        Self::NotFound
    }
}

impl From<QueryRejection> for AppError {
    fn from(rejection: QueryRejection) -> Self {
        let message = rejection.body_text();
        let message =
            message.strip_prefix("Failed to deserialize query string: ").unwrap_or(&message).to_owned();
        Self::Validation(vec![ErrorItem {
            field: field_of(&message),
            ..ErrorItem::new("validation_failed", message)
        }])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_messages_name_their_field() {
        assert_eq!(field_of("missing field `email` at line 1 column 2").as_deref(), Some("email"));
        assert_eq!(field_of("title: invalid type: integer `3`, expected a string").as_deref(), Some("title"));
        assert_eq!(field_of("expected value at line 1 column 1"), None);
    }

    #[test]
    fn internal_errors_hide_their_cause() {
        let err = AppError::Internal(anyhow::anyhow!("password=secret in connection string"));
        let items = err.items();
        assert_eq!(items[0].code, "internal_error");
        assert!(!items[0].message.contains("secret"));
    }
}
