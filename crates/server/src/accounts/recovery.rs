//! Email verification and password reset: single-use, expiring tokens sent by email.

use axum::{extract::State, http::StatusCode, response::IntoResponse};
use chrono::{DateTime, Duration, Utc};
use entity::{user_tokens, users};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter,
    sea_query::Expr,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    password, policy,
    service::{UserOut, normalize_email},
    tokens::{self, hash_token, random_token},
};
use crate::{
    app::AppState,
    error::{AppError, AppResult},
    http::{
        ApiJson, ApiResponse,
        envelope::{Envelope, ErrorEnvelope},
    },
    jobs::{
        JobError,
        email::{self, EmailJob},
        kind, queue,
    },
    mail::templates::{Locale, Template},
};

pub const VERIFY_TTL_HOURS: i64 = 48;
pub const RESET_TTL_MINUTES: i64 = 60;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    EmailVerify,
    PasswordReset,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Self::EmailVerify => "email_verify",
            Self::PasswordReset => "password_reset",
        }
    }
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(verify_email))
        .routes(routes!(request_reset))
        .routes(routes!(confirm_reset))
}

/// Stores a new single-use token for `user_id` and returns its row id. Its value is known to
/// nobody yet: the mail job chooses it when it sends the link (`link_email`), so no token ever
/// sits in a job payload where staff (the job monitor) or a database backup could read it.
pub async fn issue<C: crate::db::Writes>(
    db: &C,
    user_id: i64,
    purpose: Purpose,
    ttl: Duration,
    now: DateTime<Utc>,
) -> AppResult<i64> {
    // A placeholder nobody knows, until the mail is sent.
    let unknowable = random_token(32);
    let row = user_tokens::ActiveModel {
        user_id: Set(user_id),
        purpose: Set(purpose.as_str().to_owned()),
        token_hash: Set(hash_token(&unknowable)),
        expires_at: Set(now + ttl),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(row.id)
}

/// The job that mails the link of token row `token_id`: the row's id, never the token.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkEmailJob {
    pub token_id: i64,
}

/// Issues a token and queues its email in the caller's transaction.
pub async fn issue_and_mail<C: crate::db::Writes>(
    db: &C,
    user_id: i64,
    purpose: Purpose,
    ttl: Duration,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let token_id = issue(db, user_id, purpose, ttl, now).await?;
    queue::enqueue(db, kind::SEND_LINK_EMAIL, &LinkEmailJob { token_id }, now, None, now).await?;
    Ok(())
}

/// The `send_link_email` job: gives the token row a fresh value, known only to this mail, and
/// sends it. A link that can no longer be used (spent, replaced by a newer one, expired, account
/// gone) is not mailed. Sending again after a failure chooses another value, so only the last
/// mail's link works.
pub async fn send_link_email(state: &AppState, job_id: i64, job: LinkEmailJob) -> Result<(), JobError> {
    if email::already_sent(state, job_id).await? {
        return Ok(());
    }
    match link_email(state, job.token_id).await? {
        Some(mail) => email::deliver(state, job_id, mail).await,
        None => {
            tracing::info!(job_id, token_id = job.token_id, "link no longer usable; mail not sent");
            Ok(())
        }
    }
}

async fn link_email(state: &AppState, token_id: i64) -> AppResult<Option<EmailJob>> {
    let now = state.clock.now();
    let Some(row) = user_tokens::Entity::find_by_id(token_id).one(&state.db).await? else { return Ok(None) };
    let purpose = match row.purpose.as_str() {
        "email_verify" => Purpose::EmailVerify,
        "password_reset" => Purpose::PasswordReset,
        _ => return Ok(None),
    };
    let user = users::Entity::find_by_id(row.user_id)
        .one(&state.db)
        .await?
        .filter(|u| u.is_active && u.deleted_at.is_none());
    let Some(user) = user else { return Ok(None) };
    let token = random_token(32);
    let minted = user_tokens::Entity::update_many()
        .col_expr(user_tokens::Column::TokenHash, Expr::val(hash_token(&token)))
        .col_expr(user_tokens::Column::UpdatedAt, Expr::val(now))
        .filter(user_tokens::Column::Id.eq(token_id))
        .filter(user_tokens::Column::UsedAt.is_null())
        .filter(user_tokens::Column::ExpiresAt.gt(now))
        .exec(&state.writer)
        .await?
        .rows_affected;
    if minted != 1 {
        return Ok(None);
    }
    Ok(Some(match purpose {
        Purpose::EmailVerify => verification_email(state, &user, &token),
        Purpose::PasswordReset => reset_email(state, &user, &token),
    }))
}

/// Spends a token: returns its user when it exists, has this purpose, has not expired and was not
/// used (a conditional update, so two concurrent uses cannot both succeed).
async fn consume<C: crate::db::Writes>(
    db: &C,
    token: &str,
    purpose: Purpose,
    now: DateTime<Utc>,
) -> AppResult<i64> {
    let invalid = || AppError::invalid("token", "is invalid, used or expired; ask for a new link");
    let row = user_tokens::Entity::find()
        .filter(user_tokens::Column::TokenHash.eq(hash_token(token)))
        .filter(user_tokens::Column::Purpose.eq(purpose.as_str()))
        .one(db)
        .await?
        .ok_or_else(invalid)?;
    if row.expires_at <= now {
        return Err(invalid());
    }
    let spent = user_tokens::Entity::update_many()
        .col_expr(user_tokens::Column::UsedAt, Expr::val(now))
        .col_expr(user_tokens::Column::UpdatedAt, Expr::val(now))
        .filter(user_tokens::Column::Id.eq(row.id))
        .filter(user_tokens::Column::UsedAt.is_null())
        .exec(db)
        .await?
        .rows_affected;
    if spent != 1 {
        return Err(invalid());
    }
    Ok(row.user_id)
}

/// The welcome email with the verification link (built when it is sent).
fn verification_email(state: &AppState, user: &users::Model, token: &str) -> EmailJob {
    EmailJob {
        template: Template::Welcome,
        locale: Locale::parse(&user.locale),
        to: user.email.clone(),
        data: json!({
            "name": user.full_name,
            "link": format!("{}/verify-email?token={token}", state.config.public_base_url),
            "hours": VERIFY_TTL_HOURS,
        }),
        booking_documents: None,
    }
}

fn reset_email(state: &AppState, user: &users::Model, token: &str) -> EmailJob {
    EmailJob {
        template: Template::PasswordReset,
        locale: Locale::parse(&user.locale),
        to: user.email.clone(),
        data: json!({
            "name": user.full_name,
            "link": format!("{}/reset-password?token={token}", state.config.public_base_url),
            "minutes": RESET_TTL_MINUTES,
        }),
        booking_documents: None,
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct TokenBody {
    pub token: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ResetRequestBody {
    #[schema(format = Email, max_length = 254)]
    pub email: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ResetConfirmBody {
    pub token: String,
    #[schema(format = Password, min_length = 10, max_length = 128)]
    pub new_password: String,
}

/// Confirms the email address with the token from the welcome email.
#[utoipa::path(post, path = "/api/auth/verify-email", tag = "auth", request_body = TokenBody,
    responses((status = 200, body = Envelope<UserOut>), (status = 400, description = "`validation_failed` on `token`", body = ErrorEnvelope)))]
async fn verify_email(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<TokenBody>,
) -> AppResult<ApiResponse<UserOut>> {
    let now = state.clock.now();
    let txn = state.begin_write().await?;
    let user_id = consume(&txn, &body.token, Purpose::EmailVerify, now).await?;
    let user = users::Entity::find_by_id(user_id).one(&txn).await?.ok_or(AppError::NotFound)?;
    let mut active = user.into_active_model();
    active.email_verified = Set(true);
    active.updated_at = Set(now);
    let user = active.update(&txn).await?;
    txn.commit().await?;
    Ok(ApiResponse::ok(user.into()))
}

/// Sends a reset link if the account exists. Always 202, so the answer reveals no accounts.
#[utoipa::path(post, path = "/api/auth/password-reset/request", tag = "auth", request_body = ResetRequestBody,
    responses((status = 202, description = "Accepted, whether or not the account exists")))]
async fn request_reset(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<ResetRequestBody>,
) -> AppResult<StatusCode> {
    let email = normalize_email(&body.email);
    if policy::email(&email).is_some() {
        return Err(AppError::invalid("email", "is not a valid email address"));
    }
    let user = users::Entity::find()
        .filter(users::Column::Email.eq(&email))
        .one(&state.db)
        .await?
        .filter(|u| u.is_active && u.deleted_at.is_none());
    if let Some(user) = user {
        let now = state.clock.now();
        let txn = state.begin_write().await?;
        // Only the newest link works.
        user_tokens::Entity::update_many()
            .col_expr(user_tokens::Column::UsedAt, Expr::val(now))
            .filter(user_tokens::Column::UserId.eq(user.id))
            .filter(user_tokens::Column::Purpose.eq(Purpose::PasswordReset.as_str()))
            .filter(user_tokens::Column::UsedAt.is_null())
            .exec(&txn)
            .await?;
        issue_and_mail(&txn, user.id, Purpose::PasswordReset, Duration::minutes(RESET_TTL_MINUTES), now)
            .await?;
        txn.commit().await?;
    }
    Ok(StatusCode::ACCEPTED)
}

/// Sets a new password with the token from the reset email; every session of the account ends.
#[utoipa::path(post, path = "/api/auth/password-reset/confirm", tag = "auth", request_body = ResetConfirmBody,
    responses((status = 204), (status = 400, body = ErrorEnvelope),
              (status = 503, description = "`service_unavailable`: too many passwords being hashed", body = ErrorEnvelope)))]
async fn confirm_reset(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<ResetConfirmBody>,
) -> AppResult<impl IntoResponse> {
    let now = state.clock.now();
    let hash = password::hash(body.new_password.clone()).await?;
    let txn = state.begin_write().await?;
    let user_id = consume(&txn, &body.token, Purpose::PasswordReset, now).await?;
    let user = users::Entity::find_by_id(user_id).one(&txn).await?.ok_or(AppError::NotFound)?;
    if let Some(err) = policy::password("new_password", &body.new_password, &user.email) {
        // Dropping the transaction rolls back: the token stays usable for a better password.
        return Err(AppError::Validation(vec![err]));
    }
    let version = user.token_version + 1;
    let mut active = user.into_active_model();
    active.password_hash = Set(hash);
    active.token_version = Set(version);
    // Whoever reads the mailbox owns the address.
    active.email_verified = Set(true);
    active.updated_at = Set(now);
    active.update(&txn).await?;
    tokens::revoke_all_for_user(&txn, user_id, now).await?;
    txn.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
