//! Extractors whose rejections come out in the envelope with stable codes, instead of axum's
//! plain-text bodies.

use axum::extract::{FromRequest, FromRequestParts};

use crate::error::AppError;

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
