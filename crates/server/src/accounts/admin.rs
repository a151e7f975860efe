//! Admin routes: list users, change a user's role or deactivate them.

use std::collections::HashMap;

use axum::extract::State;
use entity::users;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, EntityTrait, IntoActiveModel, PaginatorTrait,
    QueryFilter, QueryOrder,
};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{extract::Admin, roles::Role, service::UserOut, tokens};
use crate::{
    app::AppState,
    error::{AppError, AppResult},
    http::{
        ApiJson, ApiPath, ApiResponse, PageRequest, Params,
        envelope::{Envelope, ErrorEnvelope},
        extract::ApiQuery,
    },
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_users)).routes(routes!(update_user))
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // Documents the query string; it is read through `Params`.
pub struct UserListQuery {
    /// `customer`, `staff` or `admin`.
    #[param(pattern = "^(customer|staff|admin)$")]
    role: Option<String>,
    /// Substring of the email or name.
    #[param(max_length = 200)]
    q: Option<String>,
    is_active: Option<bool>,
    #[param(minimum = 1, maximum = 1000000)]
    page: Option<u64>,
    #[param(minimum = 1, maximum = 100)]
    page_size: Option<u64>,
}

/// Every user, newest first (admin).
#[utoipa::path(get, path = "/api/admin/users", tag = "admin", params(UserListQuery), security(("bearer" = ["admin"])),
    responses((status = 200, body = Envelope<Vec<UserOut>>), (status = 403, body = ErrorEnvelope)))]
async fn list_users(
    State(state): State<AppState>,
    _admin: Admin,
    ApiQuery(raw): ApiQuery<HashMap<String, String>>,
) -> AppResult<ApiResponse<Vec<UserOut>>> {
    let mut params = Params::new(raw);
    let page = PageRequest::read(&mut params);
    let role = params.choice("role", &["customer", "staff", "admin"]);
    let q = params.string("q", 200);
    let is_active = params.bool("is_active");
    params.finish()?;
    let mut query = users::Entity::find();
    if let Some(role) = role {
        query = query.filter(users::Column::Role.eq(role));
    }
    if let Some(active) = is_active {
        query = query.filter(users::Column::IsActive.eq(active));
    }
    if let Some(q) = q {
        // Emails are stored lower-cased; names are matched as typed.
        query = query.filter(
            Condition::any()
                .add(users::Column::Email.contains(q.to_lowercase()))
                .add(users::Column::FullName.contains(q)),
        );
    }
    let paginator = query.order_by_desc(users::Column::Id).paginate(&state.db, page.page_size);
    let total = paginator.num_items().await?;
    let rows = paginator.fetch_page(page.page - 1).await?;
    Ok(ApiResponse::<UserOut>::page(page.of(rows.into_iter().map(UserOut::from).collect(), total)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserUpdate {
    pub role: Option<Role>,
    pub is_active: Option<bool>,
}

/// Changes a user's role or active flag (admin). Either change ends the user's sessions.
#[utoipa::path(patch, path = "/api/admin/users/{id}", tag = "admin", params(("id" = i64, Path)), request_body = UserUpdate,
    security(("bearer" = ["admin"])),
    responses((status = 200, body = Envelope<UserOut>), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
              (status = 409, description = "`cannot_demote_self`", body = ErrorEnvelope)))]
async fn update_user(
    State(state): State<AppState>,
    Admin(admin): Admin,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<UserUpdate>,
) -> AppResult<ApiResponse<UserOut>> {
    let user = users::Entity::find_by_id(id).one(&state.db).await?.ok_or(AppError::NotFound)?;
    if user.id == admin.id() && (body.role.is_some_and(|r| r != Role::Admin) || body.is_active == Some(false))
    {
        return Err(AppError::conflict(
            "cannot_demote_self",
            "Admins cannot demote or deactivate themselves.",
        ));
    }
    let role_changes = body.role.is_some_and(|r| r.as_str() != user.role);
    let deactivates = body.is_active.is_some_and(|a| a != user.is_active);
    let now = state.clock.now();
    let txn = state.begin_write().await?;
    let version = user.token_version;
    let mut active = user.into_active_model();
    if let Some(role) = body.role {
        active.role = Set(role.as_str().to_owned());
    }
    if let Some(is_active) = body.is_active {
        active.is_active = Set(is_active);
    }
    if role_changes || deactivates {
        active.token_version = Set(version + 1);
        tokens::revoke_all_for_user(&txn, id, now).await?;
    }
    active.updated_at = Set(now);
    let updated = active.update(&txn).await?;
    txn.commit().await?;
    Ok(ApiResponse::ok(updated.into()))
}
