//! The response envelope of SPEC §6: `{"data", "meta": {"pagination"?, "timestamp", "version"},
//! "errors"}` — one shape for every JSON answer under `/api/`.

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::ErrorItem;

pub const API_VERSION: &str = env!("CARGO_PKG_VERSION");

#[derive(Debug, Serialize, ToSchema)]
pub struct Envelope<T> {
    pub data: Option<T>,
    pub meta: Meta,
    pub errors: Vec<ErrorItem>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Meta {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pagination: Option<Pagination>,
    pub timestamp: DateTime<Utc>,
    /// Version of the server that answered.
    pub version: &'static str,
}

#[derive(Clone, Copy, Debug, Serialize, serde::Deserialize, ToSchema)]
pub struct Pagination {
    pub page: u64,
    pub page_size: u64,
    pub total: u64,
}

impl<T> Envelope<T> {
    fn meta(pagination: Option<Pagination>) -> Meta {
        Meta { pagination, timestamp: Utc::now(), version: API_VERSION }
    }

    pub fn data(data: T, pagination: Option<Pagination>) -> Self {
        Self { data: Some(data), meta: Self::meta(pagination), errors: Vec::new() }
    }

    pub fn errors(errors: Vec<ErrorItem>) -> Self {
        Self { data: None, meta: Self::meta(None), errors }
    }
}

impl<T: Serialize> IntoResponse for Envelope<T> {
    fn into_response(self) -> Response {
        Json(self).into_response()
    }
}

/// A successful answer: the status (200 unless said) and its data, enveloped.
pub struct ApiResponse<T> {
    status: StatusCode,
    envelope: Envelope<T>,
}

impl<T: Serialize> ApiResponse<T> {
    /// Data with its pagination, as a cached answer carries them.
    pub fn with_pagination(data: T, pagination: Option<Pagination>) -> Self {
        Self { status: StatusCode::OK, envelope: Envelope::data(data, pagination) }
    }

    pub fn ok(data: T) -> Self {
        Self { status: StatusCode::OK, envelope: Envelope::data(data, None) }
    }

    pub fn accepted(data: T) -> Self {
        Self { status: StatusCode::ACCEPTED, envelope: Envelope::data(data, None) }
    }

    pub fn created(data: T) -> Self {
        Self { status: StatusCode::CREATED, envelope: Envelope::data(data, None) }
    }

    pub fn page(page: crate::http::Page<T>) -> ApiResponse<Vec<T>> {
        ApiResponse { status: StatusCode::OK, envelope: Envelope::data(page.items, Some(page.pagination)) }
    }
}

impl<T> ApiResponse<T> {
    pub fn data(&self) -> Option<&T> {
        self.envelope.data.as_ref()
    }
}

impl<T: Serialize> IntoResponse for ApiResponse<T> {
    fn into_response(self) -> Response {
        (self.status, self.envelope).into_response()
    }
}

/// The envelope of an error answer, for the OpenAPI document.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorEnvelope {
    /// Always null on errors.
    #[schema(value_type = Option<Object>)]
    pub data: Option<serde_json::Value>,
    pub meta: Meta,
    pub errors: Vec<ErrorItem>,
}
