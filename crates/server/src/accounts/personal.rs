//! Personal data: an export of everything held about the signed-in user, and account deletion
//! that anonymizes the person while keeping sales records whole.

use axum::{extract::State, http::StatusCode};
use entity::{booking_seats, bookings, payments, refresh_tokens, reviews, users};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
    sea_query::Expr,
};
use serde_json::{Value, json};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{extract::CurrentUser, policy, service::UserOut, tokens};
use crate::{
    app::AppState,
    error::AppResult,
    http::{
        ApiResponse,
        envelope::{Envelope, ErrorEnvelope},
    },
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(export_me)).routes(routes!(delete_me))
}

/// Everything Curtain holds about the signed-in user, as JSON: profile, bookings with their seats,
/// payments, reviews and sessions (never password or token hashes).
#[utoipa::path(get, path = "/api/me/export", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = Envelope<Value>), (status = 401, body = ErrorEnvelope)))]
async fn export_me(State(state): State<AppState>, user: CurrentUser) -> AppResult<ApiResponse<Value>> {
    let db = &state.db;
    let id = user.id();
    let bookings = bookings::Entity::find()
        .filter(bookings::Column::UserId.eq(id))
        .order_by_asc(bookings::Column::Id)
        .all(db)
        .await?;
    let booking_ids: Vec<i64> = bookings.iter().map(|b| b.id).collect();
    let seats = booking_seats::Entity::find()
        .filter(booking_seats::Column::BookingId.is_in(booking_ids.clone()))
        .order_by_asc(booking_seats::Column::Id)
        .all(db)
        .await?;
    let payments = payments::Entity::find()
        .filter(payments::Column::BookingId.is_in(booking_ids))
        .order_by_asc(payments::Column::Id)
        .all(db)
        .await?;
    let reviews = reviews::Entity::find().filter(reviews::Column::UserId.eq(id)).all(db).await?;
    let sessions: Vec<Value> = refresh_tokens::Entity::find()
        .filter(refresh_tokens::Column::UserId.eq(id))
        .order_by_asc(refresh_tokens::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|t| {
            json!({"created_at": t.created_at, "expires_at": t.expires_at, "used_at": t.used_at,
                   "revoked_at": t.revoked_at, "user_agent": t.user_agent})
        })
        .collect();
    let bookings: Vec<Value> = bookings
        .into_iter()
        .map(|b| {
            let mine: Vec<&booking_seats::Model> = seats.iter().filter(|s| s.booking_id == b.id).collect();
            json!({"booking": b, "seats": mine})
        })
        .collect();
    let last_login_at = user.user.last_login_at;
    Ok(ApiResponse::ok(json!({
        "exported_at": state.clock.now(),
        "user": UserOut::from(user.user),
        "last_login_at": last_login_at,
        "bookings": bookings,
        "payments": payments,
        "reviews": reviews,
        "sessions": sessions,
    })))
}

/// Deletes the account: the person's data is anonymized (email, name, phone, password), reviews
/// are withdrawn, every session ends. Bookings and payments stay, attached to the anonymous
/// account, so sales records and reports remain consistent.
#[utoipa::path(delete, path = "/api/me", tag = "auth", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ErrorEnvelope)))]
async fn delete_me(State(state): State<AppState>, user: CurrentUser) -> AppResult<StatusCode> {
    let now = state.clock.now();
    let id = user.id();
    let txn = state.begin_write().await?;
    let version = user.user.token_version + 1;
    let mut active: users::ActiveModel = user.user.clone().into_active_model();
    // Registration refuses the reserved domain, and the random part keeps even an older row
    // at this address from blocking the deletion.
    active.email =
        Set(format!("deleted-{id}-{}@{}", tokens::random_token(6).to_lowercase(), policy::DELETED_DOMAIN));
    active.full_name = Set("Deleted user".into());
    active.phone = Set(None);
    // Not a valid PHC string: no password can ever match.
    active.password_hash = Set("!deleted".into());
    active.is_active = Set(false);
    active.email_verified = Set(false);
    active.token_version = Set(version);
    active.deleted_at = Set(Some(now));
    active.updated_at = Set(now);
    active.update(&txn).await?;
    reviews::Entity::update_many()
        .col_expr(reviews::Column::IsActive, Expr::val(false))
        .col_expr(reviews::Column::Text, Expr::val(""))
        .col_expr(reviews::Column::UpdatedAt, Expr::val(now))
        .filter(reviews::Column::UserId.eq(id))
        .exec(&txn)
        .await?;
    tokens::revoke_all_for_user(&txn, id, now).await?;
    tokens::revoke_access_token(&txn, &user.claims, now).await?;
    txn.commit().await?;
    tracing::info!(user_id = id, "account deleted and anonymized");
    Ok(StatusCode::NO_CONTENT)
}
