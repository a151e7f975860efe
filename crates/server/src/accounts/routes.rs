//! Authentication routes: register, login, me, refresh, logout, password change.

use axum::{
    body::Bytes,
    extract::{ConnectInfo, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use std::net::SocketAddr;

use chrono::{DateTime, Duration, Utc};
use cookie::{Cookie, SameSite};
use entity::users;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    extract::CurrentUser,
    password, policy,
    recovery::{self, Purpose, VERIFY_TTL_HOURS},
    roles::Role,
    service::{UserOut, normalize_email},
    tokens::{self, ACCESS_TTL_SECS, REFRESH_TTL_DAYS},
};
use crate::{
    app::AppState,
    error::{AppError, AppResult, ErrorItem},
    http::{
        ApiJson, ApiResponse,
        envelope::{Envelope, ErrorEnvelope},
        extract::optional_json,
    },
    limits::client_ip,
    mail::templates::Locale,
};

pub const REFRESH_COOKIE: &str = "curtain_refresh";

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register))
        .routes(routes!(login))
        .routes(routes!(me))
        .routes(routes!(refresh))
        .routes(routes!(logout))
        .routes(routes!(change_password))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RegisterBody {
    #[schema(format = Email, max_length = 254, pattern = "^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$")]
    pub email: String,
    #[schema(format = Password, min_length = 10, max_length = 128)]
    pub password: String,
    #[schema(min_length = 1, max_length = 150, pattern = "\\S")]
    pub full_name: String,
    #[schema(max_length = 30, pattern = "^[-+ ().]*([0-9][-+ ().]*){6,}$")]
    pub phone: Option<String>,
    /// Language of emails: `en` (default) or `vi`.
    pub locale: Option<Locale>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginBody {
    pub email: String,
    #[schema(format = Password)]
    pub password: String,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct RefreshBody {
    /// The refresh token; may be omitted when the browser sends the refresh cookie.
    pub refresh_token: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PasswordBody {
    #[schema(format = Password)]
    pub current_password: String,
    #[schema(format = Password, min_length = 10, max_length = 128)]
    pub new_password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Session {
    pub access_token: String,
    pub refresh_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    pub user: UserOut,
}

/// A new account (role customer). Unverified users can sign in and book.
#[utoipa::path(post, path = "/api/auth/register", tag = "auth", request_body = RegisterBody,
    responses((status = 201, body = Envelope<UserOut>), (status = 400, body = ErrorEnvelope),
              (status = 409, description = "`email_taken`", body = ErrorEnvelope),
              (status = 429, description = "`rate_limited`, per client address", body = ErrorEnvelope),
              (status = 503, description = "`service_unavailable`: too many passwords being hashed", body = ErrorEnvelope)))]
async fn register(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<RegisterBody>,
) -> AppResult<Response> {
    let email = normalize_email(&body.email);
    let phone = body.phone.as_deref().map(str::trim).filter(|p| !p.is_empty()).map(str::to_owned);
    let errors: Vec<ErrorItem> = [
        policy::email(&email),
        policy::full_name(&body.full_name),
        phone.as_deref().and_then(policy::phone),
        policy::password("password", &body.password, &email),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    if find_by_email(&state, &email).await?.is_some() {
        return Err(email_taken());
    }
    let hash = password::hash(body.password).await?;
    let now = state.clock.now();
    let txn = state.begin_write().await?;
    let inserted = users::ActiveModel {
        email: Set(email),
        password_hash: Set(hash),
        full_name: Set(body.full_name.trim().to_owned()),
        phone: Set(phone),
        locale: Set(body.locale.unwrap_or_default().as_str().to_owned()),
        role: Set(Role::Customer.as_str().to_owned()),
        email_verified: Set(false),
        is_active: Set(true),
        token_version: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await;
    // Two registrations racing for one email: the unique index decides, the loser gets 409.
    let user = match inserted {
        Ok(user) => user,
        Err(err) if crate::error::is_unique_violation(&err) => {
            return Err(email_taken());
        }
        Err(err) => return Err(err.into()),
    };
    recovery::issue_and_mail(&txn, user.id, Purpose::EmailVerify, Duration::hours(VERIFY_TTL_HOURS), now)
        .await?;
    txn.commit().await?;
    Ok(ApiResponse::created(UserOut::from(user)).into_response())
}

fn email_taken() -> AppError {
    AppError::Conflict(
        ErrorItem::new("email_taken", "An account with this email exists; sign in or reset the password.")
            .with_detail("field", "email"),
    )
}

async fn find_by_email(state: &AppState, email: &str) -> AppResult<Option<users::Model>> {
    Ok(users::Entity::find().filter(users::Column::Email.eq(email)).one(&state.db).await?)
}

/// Signs in with email and password; answers tokens and sets the refresh cookie.
#[utoipa::path(post, path = "/api/auth/login", tag = "auth", request_body = LoginBody,
    responses((status = 200, body = Envelope<Session>), (status = 401, description = "`invalid_credentials`", body = ErrorEnvelope),
              (status = 429, description = "`rate_limited`: too many attempts for this account or client address", body = ErrorEnvelope),
              (status = 503, description = "`service_unavailable`: too many passwords being checked", body = ErrorEnvelope)))]
async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<LoginBody>,
) -> AppResult<Response> {
    let email = normalize_email(&body.email);
    let ip =
        crate::limits::client_key(client_ip(peer.ip(), &headers, &state.config.trusted_proxies)).to_string();
    let limits = &state.limits;
    // Every attempt is counted before the password is checked, in one atomic step per counter: a
    // burst of parallel guesses cannot all see an empty count. A success takes its count back.
    limits.hit("login-account", &email, limits.settings.login_account).await?;
    limits.hit("login-ip", &ip, limits.settings.login_ip).await?;
    let user = find_by_email(&state, &email).await?.filter(|u| u.is_active && u.deleted_at.is_none());
    // Verify against a fixed hash when there is no such user, so timing does not reveal accounts.
    let stored = match &user {
        Some(u) => u.password_hash.clone(),
        None => dummy_hash().await?,
    };
    let matches = password::verify(body.password, stored).await?;
    let user = match (user, matches) {
        (Some(user), true) => user,
        _ => return Err(AppError::Credentials),
    };
    limits.reset("login-account", &email, limits.settings.login_account).await?;
    limits.forgive("login-ip", &ip, limits.settings.login_ip).await?;
    let now = state.clock.now();
    let mut active = user.clone().into_active_model();
    active.last_login_at = Set(Some(now));
    let user = active.update(&state.writer).await?;
    let session = open_session(&state, user, None, now).await?;
    Ok(with_refresh_cookie(&state, ApiResponse::ok(session)))
}

/// A hash of a random string, verified when the email is unknown so both cases cost the same.
static DUMMY_HASH: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();

async fn dummy_hash() -> AppResult<String> {
    Ok(DUMMY_HASH.get_or_try_init(|| password::hash(tokens::random_token(16))).await?.clone())
}

/// Issues an access token and a refresh token (in `family`, or a new one).
pub async fn open_session(
    state: &AppState,
    user: users::Model,
    family: Option<String>,
    now: DateTime<Utc>,
) -> AppResult<Session> {
    let role: Role = user.role.parse().map_err(|e: String| AppError::Internal(anyhow::anyhow!(e)))?;
    let (access_token, _) = state.jwt.issue(&user, role, now)?;
    let refresh_token = tokens::new_refresh_token(&state.writer, user.id, family, now).await?;
    Ok(Session {
        access_token,
        refresh_token,
        token_type: "Bearer",
        expires_in: ACCESS_TTL_SECS,
        user: user.into(),
    })
}

fn refresh_cookie(state: &AppState, value: String, max_age_days: i64) -> Option<HeaderValue> {
    let cookie = Cookie::build((REFRESH_COOKIE, value))
        .path("/api/auth/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.config.public_base_url.starts_with("https://"))
        .max_age(cookie::time::Duration::days(max_age_days))
        .build();
    HeaderValue::from_str(&cookie.to_string()).ok()
}

fn with_refresh_cookie(state: &AppState, response: ApiResponse<Session>) -> Response {
    let token = response.data().map(|s| s.refresh_token.clone()).unwrap_or_default();
    let mut response = response.into_response();
    if let Some(value) = refresh_cookie(state, token, REFRESH_TTL_DAYS) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

fn cookie_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == REFRESH_COOKIE)
        .map(|c| c.value().to_owned())
}

/// The signed-in user.
#[utoipa::path(get, path = "/api/auth/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = Envelope<UserOut>), (status = 401, body = ErrorEnvelope)))]
async fn me(user: CurrentUser) -> ApiResponse<UserOut> {
    ApiResponse::ok(user.user.into())
}

/// Trades a refresh token (body or cookie) for a new pair. The old refresh token is spent; using
/// it again revokes every token of its family.
#[utoipa::path(post, path = "/api/auth/refresh", tag = "auth", request_body = Option<RefreshBody>,
    responses((status = 200, body = Envelope<Session>), (status = 401, description = "`invalid_token`", body = ErrorEnvelope)))]
async fn refresh(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> AppResult<Response> {
    let token = optional_json::<RefreshBody>(&body)?
        .and_then(|b| b.refresh_token)
        .or_else(|| cookie_token(&headers))
        .ok_or(AppError::InvalidToken)?;
    let now = state.clock.now();
    let txn = state.begin_write().await?;
    let spent = match tokens::consume_refresh_token(&txn, &token, now).await {
        Ok(spent) => spent,
        Err(AppError::InvalidToken) => {
            // Reuse of a spent or revoked token: someone else may hold it. Revoke the family.
            if let Some(row) = tokens::family_of(&txn, &token).await? {
                tokens::revoke_family(&txn, &row.family_id, now).await?;
                tracing::warn!(user_id = row.user_id, "refresh token reused: family revoked");
            }
            txn.commit().await?;
            return Err(AppError::InvalidToken);
        }
        Err(other) => return Err(other),
    };
    txn.commit().await?;
    let user = users::Entity::find_by_id(spent.user_id)
        .one(&state.db)
        .await?
        .filter(|u| u.is_active && u.deleted_at.is_none())
        .ok_or(AppError::InvalidToken)?;
    let session = open_session(&state, user, Some(spent.family_id), now).await?;
    Ok(with_refresh_cookie(&state, ApiResponse::ok(session)))
}

/// Ends the session: the refresh family and this access token are revoked.
#[utoipa::path(post, path = "/api/auth/logout", tag = "auth", security(("bearer" = [])), request_body = Option<RefreshBody>,
    responses((status = 204), (status = 401, body = ErrorEnvelope)))]
async fn logout(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Response> {
    let now = state.clock.now();
    let refresh =
        optional_json::<RefreshBody>(&body)?.and_then(|b| b.refresh_token).or_else(|| cookie_token(&headers));
    let txn = state.begin_write().await?;
    if let Some(token) = refresh
        && let Some(row) = tokens::family_of(&txn, &token).await?
        && row.user_id == user.id()
    {
        tokens::revoke_family(&txn, &row.family_id, now).await?;
    }
    tokens::revoke_access_token(&txn, &user.claims, now).await?;
    txn.commit().await?;
    // Live sessions using this token (booking WebSockets) close now, on every instance.
    state.hub.signed_out(user.id(), &user.claims.jti).await;
    let mut response = StatusCode::NO_CONTENT.into_response();
    if let Some(value) = refresh_cookie(&state, String::new(), 0) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    Ok(response)
}

/// Changes the password; every other session ends, and this one continues with the new tokens.
#[utoipa::path(post, path = "/api/auth/password", tag = "auth", security(("bearer" = [])), request_body = PasswordBody,
    responses((status = 200, body = Envelope<Session>), (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope),
              (status = 503, description = "`service_unavailable`: too many passwords being hashed", body = ErrorEnvelope)))]
async fn change_password(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiJson(body): ApiJson<PasswordBody>,
) -> AppResult<Response> {
    if !password::verify(body.current_password, user.user.password_hash.clone()).await? {
        return Err(AppError::invalid("current_password", "is not your current password"));
    }
    if let Some(err) = policy::password("new_password", &body.new_password, &user.user.email) {
        return Err(AppError::Validation(vec![err]));
    }
    let hash = password::hash(body.new_password).await?;
    let now = state.clock.now();
    let txn = state.begin_write().await?;
    let version = user.user.token_version + 1;
    let mut active = user.user.into_active_model();
    active.password_hash = Set(hash);
    active.token_version = Set(version);
    active.updated_at = Set(now);
    let updated = active.update(&txn).await?;
    tokens::revoke_all_for_user(&txn, updated.id, now).await?;
    txn.commit().await?;
    let session = open_session(&state, updated, None, now).await?;
    Ok(with_refresh_cookie(&state, ApiResponse::ok(session)))
}
