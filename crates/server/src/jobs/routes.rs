//! The staff job monitor: list jobs, see counts and recent errors, retry or discard a job.

use std::collections::HashMap;

use axum::extract::State;
use chrono::{DateTime, Utc};
use entity::jobs;
use sea_orm::{
    ColumnTrait, EntityTrait, FromQueryResult, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::Expr,
};
use serde::Serialize;
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::queue::JobStatus;
use crate::{
    accounts::extract::Staff,
    app::AppState,
    error::{AppError, AppResult},
    http::{
        ApiPath, ApiResponse, PageRequest, Params,
        envelope::{Envelope, ErrorEnvelope},
        extract::ApiQuery,
    },
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_jobs))
        .routes(routes!(job_summary))
        .routes(routes!(retry_job))
        .routes(routes!(discard_job))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct JobOut {
    pub id: i64,
    pub kind: String,
    /// `queued`, `running`, `done` or `dead`.
    pub status: String,
    /// The job's input, with secret-looking fields (`token`, `link`, `secret`, …) replaced by `***`.
    #[schema(value_type = Object)]
    pub payload: Value,
    pub attempts: i32,
    pub max_attempts: i32,
    pub run_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub locked_by: Option<String>,
    pub finished_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl From<jobs::Model> for JobOut {
    fn from(j: jobs::Model) -> Self {
        Self {
            id: j.id,
            kind: j.kind,
            status: j.status,
            // Staff see what a job is about, never a secret it might hold (SPEC §9).
            payload: crate::redact::json(j.payload),
            attempts: j.attempts,
            max_attempts: j.max_attempts,
            run_at: j.run_at,
            last_error: j.last_error.map(|e| crate::redact::query_values(&e).into_owned()),
            locked_by: j.locked_by,
            finished_at: j.finished_at,
            created_at: j.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct JobSummary {
    /// Jobs per status.
    pub counts: HashMap<String, i64>,
    /// Queued jobs already due: how far behind the workers are.
    pub due: u64,
    /// The most recent failures (dead jobs, or queued ones waiting for a retry).
    pub recent_errors: Vec<JobOut>,
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // Documents the query string; it is read through `Params`.
pub struct JobListQuery {
    /// `queued`, `running`, `done` or `dead`.
    #[param(pattern = "^(queued|running|done|dead)$")]
    status: Option<String>,
    #[param(max_length = 50)]
    kind: Option<String>,
    #[param(minimum = 1, maximum = 1000000)]
    page: Option<u64>,
    #[param(minimum = 1, maximum = 100)]
    page_size: Option<u64>,
}

/// Jobs, newest first (staff).
#[utoipa::path(get, path = "/api/admin/jobs", tag = "admin", params(JobListQuery), security(("bearer" = ["staff"])),
    responses((status = 200, body = Envelope<Vec<JobOut>>), (status = 403, body = ErrorEnvelope)))]
async fn list_jobs(
    State(state): State<AppState>,
    _staff: Staff,
    ApiQuery(raw): ApiQuery<HashMap<String, String>>,
) -> AppResult<ApiResponse<Vec<JobOut>>> {
    let mut params = Params::new(raw);
    let statuses: Vec<&str> = JobStatus::ALL.iter().map(|s| s.as_str()).collect();
    let status = params.choice("status", &statuses);
    let kind = params.string("kind", 50);
    let page = PageRequest::read(&mut params);
    params.finish()?;
    let mut query = jobs::Entity::find();
    if let Some(status) = status {
        query = query.filter(jobs::Column::Status.eq(status));
    }
    if let Some(kind) = kind {
        query = query.filter(jobs::Column::Kind.eq(kind));
    }
    let paginator = query.order_by_desc(jobs::Column::Id).paginate(&state.db, page.page_size);
    let total = paginator.num_items().await?;
    let rows = paginator.fetch_page(page.page - 1).await?;
    Ok(ApiResponse::<JobOut>::page(page.of(rows.into_iter().map(JobOut::from).collect(), total)))
}

#[derive(Debug, FromQueryResult)]
struct Count {
    status: String,
    n: i64,
}

/// Counts per status, the backlog, and the latest errors (staff).
#[utoipa::path(get, path = "/api/admin/jobs/summary", tag = "admin", security(("bearer" = ["staff"])),
    responses((status = 200, body = Envelope<JobSummary>), (status = 403, body = ErrorEnvelope)))]
async fn job_summary(State(state): State<AppState>, _staff: Staff) -> AppResult<ApiResponse<JobSummary>> {
    let counts: HashMap<String, i64> = jobs::Entity::find()
        .select_only()
        .column(jobs::Column::Status)
        .column_as(jobs::Column::Id.count(), "n")
        .group_by(jobs::Column::Status)
        .into_model::<Count>()
        .all(&state.db)
        .await?
        .into_iter()
        .map(|c| (c.status, c.n))
        .collect();
    let counts = JobStatus::ALL
        .iter()
        .map(|s| (s.as_str().to_owned(), counts.get(s.as_str()).copied().unwrap_or(0)))
        .collect();
    let now = state.clock.now();
    let due = jobs::Entity::find()
        .filter(jobs::Column::Status.eq(JobStatus::Queued.as_str()))
        .filter(jobs::Column::RunAt.lte(now))
        .count(&state.db)
        .await?;
    let recent_errors = jobs::Entity::find()
        .filter(jobs::Column::LastError.is_not_null())
        .filter(jobs::Column::Status.is_in([JobStatus::Dead.as_str(), JobStatus::Queued.as_str()]))
        .order_by_desc(jobs::Column::UpdatedAt)
        .limit(20)
        .all(&state.db)
        .await?
        .into_iter()
        .map(JobOut::from)
        .collect();
    Ok(ApiResponse::ok(JobSummary { counts, due, recent_errors }))
}

/// Puts a dead (or waiting) job back in the queue to run now, with a fresh set of attempts.
#[utoipa::path(post, path = "/api/admin/jobs/{id}/retry", tag = "admin", params(("id" = i64, Path)), security(("bearer" = ["staff"])),
    responses((status = 200, body = Envelope<JobOut>), (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
async fn retry_job(
    State(state): State<AppState>,
    _staff: Staff,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<ApiResponse<JobOut>> {
    let now = state.clock.now();
    change(&state, id, &[JobStatus::Dead, JobStatus::Queued], |update| {
        update
            .col_expr(jobs::Column::Status, Expr::val(JobStatus::Queued.as_str()))
            .col_expr(jobs::Column::RunAt, Expr::val(now))
            .col_expr(jobs::Column::Attempts, Expr::val(0))
            .col_expr(jobs::Column::FinishedAt, Expr::val(None::<DateTime<Utc>>))
            .col_expr(jobs::Column::UpdatedAt, Expr::val(now))
    })
    .await
}

/// Gives up on a queued or dead job: it is marked done without running, and the note says so.
#[utoipa::path(post, path = "/api/admin/jobs/{id}/discard", tag = "admin", params(("id" = i64, Path)), security(("bearer" = ["staff"])),
    responses((status = 200, body = Envelope<JobOut>), (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
async fn discard_job(
    State(state): State<AppState>,
    Staff(staff): Staff,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<ApiResponse<JobOut>> {
    let now = state.clock.now();
    let note = format!("discarded by staff user {}", staff.id());
    change(&state, id, &[JobStatus::Dead, JobStatus::Queued], |update| {
        update
            .col_expr(jobs::Column::Status, Expr::val(JobStatus::Done.as_str()))
            .col_expr(jobs::Column::LastError, Expr::val(note.clone()))
            .col_expr(jobs::Column::FinishedAt, Expr::val(now))
            .col_expr(jobs::Column::UpdatedAt, Expr::val(now))
    })
    .await
}

/// Applies `update` to job `id` only while it is in one of `from` (never to a running job).
async fn change(
    state: &AppState,
    id: i64,
    from: &[JobStatus],
    update: impl FnOnce(sea_orm::UpdateMany<jobs::Entity>) -> sea_orm::UpdateMany<jobs::Entity>,
) -> AppResult<ApiResponse<JobOut>> {
    let job = jobs::Entity::find_by_id(id).one(&state.db).await?.ok_or(AppError::NotFound)?;
    let allowed: Vec<&str> = from.iter().map(|s| s.as_str()).collect();
    let changed = update(jobs::Entity::update_many())
        .filter(jobs::Column::Id.eq(id))
        .filter(jobs::Column::Status.is_in(allowed))
        .exec(&state.writer)
        .await?
        .rows_affected;
    if changed != 1 {
        return Err(AppError::conflict(
            "invalid_transition",
            format!("A {} job cannot be changed.", job.status),
        ));
    }
    let job = jobs::Entity::find_by_id(id).one(&state.db).await?.ok_or(AppError::NotFound)?;
    Ok(ApiResponse::ok(job.into()))
}
