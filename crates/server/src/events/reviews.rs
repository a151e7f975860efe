//! Reviews of a performance: rating 1–5 and text, one per user per event, only by someone who
//! attended (a `completed` booking). The author edits or deletes their own review (deleting
//! removes it, so they may write again); staff moderate by deleting, which hides the review and
//! keeps it, so it cannot simply be posted again. Another customer's review answers 404.

use crate::db::{Reader, Writer};
use chrono::{DateTime, Utc};
use entity::{bookings, reviews, users};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::service::find_public;
use crate::{
    accounts::extract::CurrentUser,
    error::{AppError, AppResult, ErrorItem},
    http::{Page, PageRequest},
    validate::Checks,
};

pub const MAX_TEXT: usize = 4_000;

#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewOut {
    pub id: i64,
    pub event_id: i64,
    pub user_id: i64,
    /// The reviewer's full name.
    pub author_name: String,
    pub rating: i32,
    pub text: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewBody {
    /// 1 to 5.
    #[schema(minimum = 1, maximum = 5)]
    pub rating: i64,
    /// At most 4000 characters.
    #[serde(default)]
    #[schema(max_length = 4000)]
    pub text: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewPatch {
    #[schema(minimum = 1, maximum = 5)]
    pub rating: Option<i64>,
    #[schema(max_length = 4000)]
    pub text: Option<String>,
}

fn out(review: reviews::Model, author: Option<&users::Model>) -> ReviewOut {
    ReviewOut {
        author_name: author.map(|u| u.full_name.clone()).unwrap_or_default(),
        id: review.id,
        event_id: review.event_id,
        user_id: review.user_id,
        rating: review.rating,
        text: review.text,
        created_at: review.created_at,
        updated_at: review.updated_at,
    }
}

fn already_reviewed() -> AppError {
    AppError::conflict("already_reviewed", "You have already reviewed this performance.")
}

/// Visible reviews of a public performance, newest first.
pub async fn list(db: &Reader, event_id: i64, page: PageRequest) -> AppResult<Page<ReviewOut>> {
    find_public(db, event_id).await?;
    let paginator = reviews::Entity::find()
        .filter(reviews::Column::EventId.eq(event_id))
        .filter(reviews::Column::IsActive.eq(true))
        .find_also_related(users::Entity)
        .order_by_desc(reviews::Column::CreatedAt)
        .order_by_desc(reviews::Column::Id)
        .paginate(db, page.page_size);
    let total = paginator.num_items().await?;
    let rows = paginator.fetch_page(page.page - 1).await?;
    Ok(page.of(rows.into_iter().map(|(r, u)| out(r, u.as_ref())).collect(), total))
}

fn check(rating: Option<i64>, text: Option<&str>) -> AppResult<(Option<i32>, Option<String>)> {
    let mut c = Checks::new();
    if let Some(r) = rating {
        c.range("rating", r, 1, 5);
    }
    let text = text.map(|t| c.text("text", t, 0, MAX_TEXT));
    c.finish()?;
    Ok((rating.map(|r| r as i32), text))
}

pub async fn create(
    db: &Writer,
    event_id: i64,
    user: &CurrentUser,
    body: ReviewBody,
    now: DateTime<Utc>,
) -> AppResult<ReviewOut> {
    let (rating, text) = check(Some(body.rating), Some(&body.text))?;
    find_public(db, event_id).await?;
    let attended = bookings::Entity::find()
        .filter(bookings::Column::EventId.eq(event_id))
        .filter(bookings::Column::UserId.eq(user.id()))
        .filter(bookings::Column::Status.eq("completed"))
        .one(db)
        .await?
        .is_some();
    if !attended {
        return Err(AppError::denied(
            "review_not_allowed",
            "Only people who attended this performance (a completed booking) can review it.",
        ));
    }
    let txn = db.begin().await?;
    let existing = reviews::Entity::find()
        .filter(reviews::Column::EventId.eq(event_id))
        .filter(reviews::Column::UserId.eq(user.id()))
        .one(&txn)
        .await?;
    if existing.is_some() {
        return Err(already_reviewed());
    }
    let inserted = reviews::ActiveModel {
        event_id: Set(event_id),
        user_id: Set(user.id()),
        rating: Set(rating.unwrap_or(5)),
        text: Set(text.unwrap_or_default()),
        is_active: Set(true),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await;
    let review = match inserted {
        Ok(r) => r,
        Err(err) if crate::error::is_unique_violation(&err) => return Err(already_reviewed()),
        Err(err) => return Err(err.into()),
    };
    txn.commit().await?;
    Ok(out(review, Some(&user.user)))
}

/// A visible review of this event that `user` may act on: their own, or any for staff.
async fn find_for(
    db: &impl sea_orm::ConnectionTrait,
    event_id: i64,
    review_id: i64,
    user: &CurrentUser,
) -> AppResult<reviews::Model> {
    let review = reviews::Entity::find_by_id(review_id)
        .filter(reviews::Column::EventId.eq(event_id))
        .filter(reviews::Column::IsActive.eq(true))
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    if review.user_id == user.id() || user.is_staff() { Ok(review) } else { Err(AppError::NotFound) }
}

/// The author changes their review. Staff may not rewrite someone else's words: they delete.
pub async fn update(
    db: &Writer,
    event_id: i64,
    review_id: i64,
    user: &CurrentUser,
    patch: ReviewPatch,
    now: DateTime<Utc>,
) -> AppResult<ReviewOut> {
    let (rating, text) = check(patch.rating, patch.text.as_deref())?;
    let txn = db.begin().await?;
    let review = find_for(&txn, event_id, review_id, user).await?;
    if review.user_id != user.id() {
        return Err(AppError::Denied(ErrorItem::new(
            "forbidden",
            "Staff moderate reviews by deleting them; only the author edits one.",
        )));
    }
    let mut active: reviews::ActiveModel = review.into();
    if let Some(v) = rating {
        active.rating = Set(v);
    }
    if let Some(v) = text {
        active.text = Set(v);
    }
    active.updated_at = Set(now);
    let review = active.update(&txn).await?;
    txn.commit().await?;
    Ok(out(review, Some(&user.user)))
}

/// The author's deletion removes the review; a staff member's (moderation) hides it.
pub async fn delete(
    db: &Writer,
    event_id: i64,
    review_id: i64,
    user: &CurrentUser,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let txn = db.begin().await?;
    let review = find_for(&txn, event_id, review_id, user).await?;
    if review.user_id == user.id() {
        reviews::Entity::delete_by_id(review.id).exec(&txn).await?;
    } else {
        let mut active: reviews::ActiveModel = review.into();
        active.is_active = Set(false);
        active.updated_at = Set(now);
        active.update(&txn).await?;
    }
    txn.commit().await?;
    Ok(())
}
