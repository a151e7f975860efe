//! The one way to require a signed-in user and a role: `CurrentUser`, `Staff`, `Admin` extractors
//! (and `Option<CurrentUser>` for routes that anyone may call).
//!
//! An access token is accepted only when its signature and expiry hold, its `jti` was not revoked
//! at logout, its user is still active, and the user's token version (bumped by a password or
//! role change) matches. The role applied is the user's current one, not the token's.

use axum::{
    extract::{FromRequestParts, OptionalFromRequestParts},
    http::{header::AUTHORIZATION, request::Parts},
};
use entity::users;
use sea_orm::EntityTrait;

use super::{
    roles::Role,
    tokens::{self, Claims},
};
use crate::{app::AppState, error::AppError};

#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub user: users::Model,
    pub role: Role,
    pub claims: Claims,
}

impl CurrentUser {
    pub fn id(&self) -> i64 {
        self.user.id
    }

    pub fn is_staff(&self) -> bool {
        self.role >= Role::Staff
    }

    pub fn require(self, role: Role) -> Result<Self, AppError> {
        if self.role >= role { Ok(self) } else { Err(AppError::Forbidden) }
    }
}

/// A signed-in staff member or admin.
#[derive(Debug, Clone)]
pub struct Staff(pub CurrentUser);

/// A signed-in admin.
#[derive(Debug, Clone)]
pub struct Admin(pub CurrentUser);

fn bearer(parts: &Parts) -> Result<Option<&str>, AppError> {
    let Some(value) = parts.headers.get(AUTHORIZATION) else { return Ok(None) };
    let value = value.to_str().map_err(|_| AppError::InvalidToken)?;
    match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() => {
            Ok(Some(token.trim()))
        }
        _ => Err(AppError::InvalidToken),
    }
}

pub async fn authenticate(token: &str, state: &AppState) -> Result<CurrentUser, AppError> {
    let claims = state.jwt.verify(token, state.clock.now())?;
    let user_id = claims.user_id().ok_or(AppError::InvalidToken)?;
    if tokens::is_revoked(&state.db, &claims.jti).await? {
        return Err(AppError::InvalidToken);
    }
    let user = users::Entity::find_by_id(user_id).one(&state.db).await?.ok_or(AppError::InvalidToken)?;
    if !user.is_active || user.deleted_at.is_some() || user.token_version != claims.ver {
        return Err(AppError::InvalidToken);
    }
    let role: Role = user.role.parse().map_err(|e: String| AppError::Internal(anyhow::anyhow!(e)))?;
    Ok(CurrentUser { user, role, claims })
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = bearer(parts)?.ok_or(AppError::Unauthorized)?;
        authenticate(token, state).await
    }
}

impl OptionalFromRequestParts<AppState> for CurrentUser {
    type Rejection = AppError;

    /// No token: anonymous. A token that does not verify is still refused, never silently ignored.
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Self>, Self::Rejection> {
        match bearer(parts)? {
            None => Ok(None),
            Some(token) => authenticate(token, state).await.map(Some),
        }
    }
}

impl FromRequestParts<AppState> for Staff {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let user = <CurrentUser as FromRequestParts<AppState>>::from_request_parts(parts, state).await?;
        Ok(Self(user.require(Role::Staff)?))
    }
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let user = <CurrentUser as FromRequestParts<AppState>>::from_request_parts(parts, state).await?;
        Ok(Self(user.require(Role::Admin)?))
    }
}
