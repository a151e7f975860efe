//! Staff management of performances: create a draft, edit it, publish it, cancel it, delete it
//! (softly), and the staff list that shows every status.
//!
//! Status moves only forward: draft → published → cancelled, or draft → cancelled. A published
//! performance keeps its venue (its seats were copied from that venue at publish); a cancelled
//! one is read-only. Refunds on cancellation belong to the payments area.

use crate::db::{Reader, Writer};
use std::str::FromStr;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use entity::{categories, event_tags, events, tags, venues};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
    sea_query::{Expr, ExprTrait, LikeExpr},
};
use serde::{Deserialize, Deserializer};
use utoipa::ToSchema;

use super::service::{self, CANCELLED, DRAFT, EventSummary, PUBLISHED};
use crate::{
    error::{AppError, AppResult, ErrorItem},
    http::{Page, PageRequest},
    slugs,
    validate::Checks,
};

/// A category or tag, by id or by slug.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum IdOrSlug {
    Id(i64),
    Slug(String),
}

/// Create (and `PUT`) body of a performance. On `PUT`, absent optional fields are cleared.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventBody {
    #[schema(minimum = 1)]
    pub venue_id: i64,
    #[schema(min_length = 1, max_length = 200, pattern = "\\S")]
    pub title: String,
    #[schema(max_length = 20000)]
    pub description: String,
    pub category: Option<IdOrSlug>,
    #[schema(max_items = 30)]
    pub tags: Option<Vec<IdOrSlug>>,
    pub start_time: DateTime<Utc>,
    pub end_time: DateTime<Utc>,
    /// When sales open; open from publication when absent.
    pub sales_start: Option<DateTime<Utc>>,
    /// When sales close; at the start when absent.
    pub sales_end: Option<DateTime<Utc>>,
    pub is_featured: Option<bool>,
    /// Generated from the title and the local date when absent.
    #[schema(pattern = "^[a-z0-9]+(-[a-z0-9]+)*$", max_length = 100)]
    pub slug: Option<String>,
}

/// `PATCH` body: only the fields present change; `null` clears `category`, `sales_start`, `sales_end`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventPatch {
    #[schema(minimum = 1)]
    pub venue_id: Option<i64>,
    #[schema(min_length = 1, max_length = 200, pattern = "\\S")]
    pub title: Option<String>,
    #[schema(max_length = 20000)]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<IdOrSlug>)]
    pub category: Option<Option<IdOrSlug>>,
    #[schema(max_items = 30)]
    pub tags: Option<Vec<IdOrSlug>>,
    pub start_time: Option<DateTime<Utc>>,
    pub end_time: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub sales_start: Option<Option<DateTime<Utc>>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub sales_end: Option<Option<DateTime<Utc>>>,
    pub is_featured: Option<bool>,
    #[schema(pattern = "^[a-z0-9]+(-[a-z0-9]+)*$", max_length = 100)]
    pub slug: Option<String>,
}

/// A field that is present (even as `null`) becomes `Some(value)`; an absent one stays `None`.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelBody {
    /// Why the performance is cancelled; shown to buyers.
    #[schema(min_length = 1, max_length = 1000, pattern = "\\S")]
    pub reason: String,
}

impl From<EventBody> for EventPatch {
    fn from(b: EventBody) -> Self {
        Self {
            venue_id: Some(b.venue_id),
            title: Some(b.title),
            description: Some(b.description),
            category: Some(b.category),
            tags: Some(b.tags.unwrap_or_default()),
            start_time: Some(b.start_time),
            end_time: Some(b.end_time),
            sales_start: Some(b.sales_start),
            sales_end: Some(b.sales_end),
            is_featured: Some(b.is_featured.unwrap_or(false)),
            slug: b.slug,
        }
    }
}

fn slug_taken() -> AppError {
    AppError::Conflict(
        ErrorItem::new("slug_taken", "Another event already uses this slug.").with_detail("field", "slug"),
    )
}

pub fn invalid_transition(message: impl Into<String>) -> AppError {
    AppError::Conflict(ErrorItem::new("invalid_transition", message))
}

/// The event locked for writing (`FOR UPDATE` on PostgreSQL; SQLite's write transaction already
/// excludes other writers), or 404.
pub async fn lock(txn: &DatabaseTransaction, id: i64) -> AppResult<events::Model> {
    events::Entity::find_by_id(id)
        .filter(events::Column::IsActive.eq(true))
        .lock_exclusive()
        .one(txn)
        .await?
        .ok_or(AppError::NotFound)
}

async fn resolve_category(
    db: &impl ConnectionTrait,
    c: &mut Checks,
    value: &IdOrSlug,
) -> AppResult<Option<i64>> {
    let cond = match value {
        IdOrSlug::Id(id) => Condition::all().add(categories::Column::Id.eq(*id)),
        IdOrSlug::Slug(slug) => Condition::all().add(categories::Column::Slug.eq(slug.trim().to_lowercase())),
    };
    let found =
        categories::Entity::find().filter(cond).filter(categories::Column::IsActive.eq(true)).one(db).await?;
    if found.is_none() {
        c.fail("category", "no such category");
    }
    Ok(found.map(|cat| cat.id))
}

async fn resolve_tags(db: &impl ConnectionTrait, c: &mut Checks, values: &[IdOrSlug]) -> AppResult<Vec<i64>> {
    if values.len() > 30 {
        c.fail("tags", "at most 30 tags");
        return Ok(Vec::new());
    }
    let active = tags::Entity::find().filter(tags::Column::IsActive.eq(true)).all(db).await?;
    let mut ids = Vec::new();
    for (i, value) in values.iter().enumerate() {
        let found = active.iter().find(|t| match value {
            IdOrSlug::Id(id) => t.id == *id,
            IdOrSlug::Slug(slug) => t.slug == slug.trim().to_lowercase(),
        });
        match found {
            Some(tag) if !ids.contains(&tag.id) => ids.push(tag.id),
            Some(_) => {}
            None => c.fail(&format!("tags[{i}]"), "no such tag"),
        }
    }
    Ok(ids)
}

/// Checks the times a performance would have after a change.
fn check_times(c: &mut Checks, e: &events::ActiveModel, now: DateTime<Utc>, start_changed: bool) {
    let (Some(start), Some(end)) = (e.start_time.try_as_ref(), e.end_time.try_as_ref()) else { return };
    if start_changed && *start <= now {
        c.fail("start_time", "must be in the future");
    }
    if end <= start {
        c.fail("end_time", "must be after start_time");
    }
    let sales_start = e.sales_start.try_as_ref().copied().flatten();
    let sales_end = e.sales_end.try_as_ref().copied().flatten();
    if let (Some(from), Some(to)) = (sales_start, sales_end)
        && to <= from
    {
        c.fail("sales_end", "must be after sales_start");
    }
    if let Some(to) = sales_end
        && to > *end
    {
        c.fail("sales_end", "must not be after end_time");
    }
    if let Some(from) = sales_start
        && from >= *end
    {
        c.fail("sales_start", "must be before end_time");
    }
}

/// Applies `patch` to `active` (a new or an existing event), checking every field; returns the
/// tag ids to link when the tags change.
async fn apply(
    txn: &DatabaseTransaction,
    active: &mut events::ActiveModel,
    patch: EventPatch,
    now: DateTime<Utc>,
) -> AppResult<Option<Vec<i64>>> {
    let mut c = Checks::new();
    let title = patch.title.map(|v| c.text("title", &v, 1, 200));
    let description = patch.description.map(|v| c.text("description", &v, 0, 20_000));
    if let Some(venue_id) = patch.venue_id {
        let venue =
            venues::Entity::find_by_id(venue_id).filter(venues::Column::IsActive.eq(true)).one(txn).await?;
        if venue.is_none() {
            c.fail("venue_id", "no such venue");
        }
        active.venue_id = Set(venue_id);
    }
    if let Some(category) = patch.category {
        let id = match category {
            Some(value) => resolve_category(txn, &mut c, &value).await?,
            None => None,
        };
        active.category_id = Set(id);
    }
    let tag_ids = match patch.tags {
        Some(values) => Some(resolve_tags(txn, &mut c, &values).await?),
        None => None,
    };
    if let Some(slug) = &patch.slug
        && !slugs::is_valid(slug.trim())
    {
        c.fail("slug", "must be 1–100 lower-case letters, digits and single dashes");
    }
    let start_changed = patch.start_time.is_some_and(|t| active.start_time.try_as_ref() != Some(&t));
    if let Some(v) = patch.start_time {
        active.start_time = Set(v);
    }
    if let Some(v) = patch.end_time {
        active.end_time = Set(v);
    }
    if let Some(v) = patch.sales_start {
        active.sales_start = Set(v);
    }
    if let Some(v) = patch.sales_end {
        active.sales_end = Set(v);
    }
    if let Some(v) = patch.is_featured {
        active.is_featured = Set(v);
    }
    check_times(&mut c, active, now, start_changed);
    c.finish()?;

    if let Some(v) = title {
        active.title = Set(v);
    }
    if let Some(v) = description {
        active.description = Set(v);
    }
    if let (Some(title), Some(description)) = (active.title.try_as_ref(), active.description.try_as_ref()) {
        active.search_text = Set(service::search_text(title, description));
    }
    if let Some(slug) = patch.slug {
        let slug = slug.trim().to_owned();
        let mut clash = events::Entity::find().filter(events::Column::Slug.eq(&slug));
        if let Some(id) = active.id.try_as_ref() {
            clash = clash.filter(events::Column::Id.ne(*id));
        }
        if clash.one(txn).await?.is_some() {
            return Err(slug_taken());
        }
        active.slug = Set(slug);
    }
    active.updated_at = Set(now);
    Ok(tag_ids)
}

async fn link_tags(
    txn: &DatabaseTransaction,
    event_id: i64,
    tag_ids: Vec<i64>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    event_tags::Entity::delete_many().filter(event_tags::Column::EventId.eq(event_id)).exec(txn).await?;
    if tag_ids.is_empty() {
        return Ok(());
    }
    let rows = tag_ids.into_iter().map(|tag_id| event_tags::ActiveModel {
        event_id: Set(event_id),
        tag_id: Set(tag_id),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    });
    event_tags::Entity::insert_many(rows).exec_without_returning(txn).await?;
    Ok(())
}

/// `<title>-<local date>`, suffixed when taken.
async fn generated_slug(txn: &DatabaseTransaction, e: &events::ActiveModel) -> AppResult<String> {
    let title = e.title.try_as_ref().map(String::as_str).unwrap_or_default();
    let venue_id = e.venue_id.try_as_ref().copied().unwrap_or_default();
    let tz = venues::Entity::find_by_id(venue_id)
        .one(txn)
        .await?
        .and_then(|v| Tz::from_str(&v.time_zone).ok())
        .unwrap_or(chrono_tz::Asia::Ho_Chi_Minh);
    let date = e.start_time.try_as_ref().map(|t| t.with_timezone(&tz).format("%Y-%m-%d").to_string());
    let base = slugs::base(&format!("{title} {}", date.unwrap_or_default()), "event");
    slugs::free::<events::Entity, _>(txn, events::Column::Slug, &base).await
}

/// A new draft.
pub async fn create(db: &Writer, body: EventBody, now: DateTime<Utc>) -> AppResult<events::Model> {
    let txn = db.begin().await?;
    let mut active = events::ActiveModel {
        status: Set(DRAFT.to_owned()),
        seats_version: Set(0),
        is_active: Set(true),
        created_at: Set(now),
        ..Default::default()
    };
    let tag_ids = apply(&txn, &mut active, body.into(), now).await?;
    if active.slug.try_as_ref().is_none() {
        active.slug = Set(generated_slug(&txn, &active).await?);
    }
    let event = match active.insert(&txn).await {
        Ok(e) => e,
        Err(err) if crate::error::is_unique_violation(&err) => return Err(slug_taken()),
        Err(err) => return Err(err.into()),
    };
    link_tags(&txn, event.id, tag_ids.unwrap_or_default(), now).await?;
    txn.commit().await?;
    Ok(event)
}

/// Changes an event: `PUT` passes every field, `PATCH` the ones present. Returns the event as it
/// was and as it is now. When a published performance moves in time or place, a job to tell
/// its ticket holders is queued in the same transaction (an end time alone moving tells nobody
/// by mail: when to arrive and where stay the same).
pub async fn update(
    db: &Writer,
    id: i64,
    patch: EventPatch,
    now: DateTime<Utc>,
) -> AppResult<(events::Model, events::Model)> {
    let txn = db.begin().await?;
    let event = lock(&txn, id).await?;
    let before = event.clone();
    if event.status == CANCELLED {
        return Err(invalid_transition("a cancelled event cannot be changed"));
    }
    if event.status == PUBLISHED && patch.venue_id.is_some_and(|v| v != event.venue_id) {
        return Err(AppError::Conflict(
            ErrorItem::new(
                "venue_change_not_allowed",
                "A published event keeps its venue: its seats were taken from it. Cancel it and create another.",
            )
            .with_detail("field", "venue_id"),
        ));
    }
    let mut active: events::ActiveModel = event.into();
    let tag_ids = apply(&txn, &mut active, patch, now).await?;
    let event = match active.update(&txn).await {
        Ok(e) => e,
        Err(err) if crate::error::is_unique_violation(&err) => return Err(slug_taken()),
        Err(err) => return Err(err.into()),
    };
    if let Some(tag_ids) = tag_ids {
        link_tags(&txn, id, tag_ids, now).await?;
    }
    let moved = before.start_time != event.start_time || before.venue_id != event.venue_id;
    if before.status == PUBLISHED && moved {
        let change = crate::bookings::notify::EventChanged {
            event_id: id,
            previous_start: (before.start_time != event.start_time).then_some(before.start_time),
            previous_venue_id: (before.venue_id != event.venue_id).then_some(before.venue_id),
        };
        crate::jobs::queue::enqueue(&txn, crate::jobs::kind::EVENT_CHANGED, &change, now, None, now).await?;
    }
    txn.commit().await?;
    Ok((before, event))
}

/// Soft delete: the performance leaves every list; its bookings stay readable. A performance
/// with live (pending or confirmed) bookings is refused with 409 `has_bookings`: deleting it
/// would strand paid buyers (their booking could no longer be cancelled nor refunded through the
/// performance); cancelling it first ends every booking properly.
pub async fn delete(db: &Writer, id: i64, now: DateTime<Utc>) -> AppResult<()> {
    let txn = db.begin().await?;
    // Under the event's lock: a hold or a payment that confirms takes the same lock first
    // (`next_version`), so no booking can become live between this count and the delete.
    let event = lock(&txn, id).await?;
    let live = entity::bookings::Entity::find()
        .filter(entity::bookings::Column::EventId.eq(id))
        .filter(entity::bookings::Column::Status.is_in([
            crate::bookings::status::BookingStatus::Pending.as_str(),
            crate::bookings::status::BookingStatus::Confirmed.as_str(),
        ]))
        .count(&txn)
        .await?;
    if live > 0 {
        return Err(AppError::Conflict(
            ErrorItem::new(
                "has_bookings",
                format!(
                    "This performance has {live} pending or confirmed bookings: cancel it first (its bookings are cancelled and refunded), then delete it."
                ),
            )
            .with_detail("bookings", live),
        ));
    }
    let mut active: events::ActiveModel = event.into();
    active.is_active = Set(false);
    active.updated_at = Set(now);
    active.update(&txn).await?;
    txn.commit().await?;
    Ok(())
}

/// Publishes a draft: its seats are copied from the venue with their section prices.
pub async fn publish(db: &Writer, id: i64, now: DateTime<Utc>) -> AppResult<events::Model> {
    let txn = db.begin().await?;
    let event = lock(&txn, id).await?;
    if event.status == DRAFT && event.start_time <= now {
        return Err(invalid_transition("the performance has already started"));
    }
    let venue_active = venues::Entity::find_by_id(event.venue_id)
        .filter(venues::Column::IsActive.eq(true))
        .one(&txn)
        .await?
        .is_some();
    if !venue_active {
        return Err(invalid_transition("the venue has been deleted"));
    }
    let event = super::publish::publish(&txn, event, now).await?;
    txn.commit().await?;
    Ok(event)
}

/// Cancels a draft or a published performance: sales stop at once and the reason is kept. Its
/// bookings are ended afterwards, in bounded batches (`bookings::service::finish_cancelled_event`):
/// the job queued here in the same transaction guarantees they all are, even if the process
/// stops half-way; the caller usually runs the batches at once too.
pub async fn cancel(
    db: &Writer,
    id: i64,
    body: CancelBody,
    actor: crate::bookings::status::Actor,
    now: DateTime<Utc>,
) -> AppResult<events::Model> {
    let mut c = Checks::new();
    let reason = c.text("reason", &body.reason, 1, 1_000);
    c.finish()?;
    let txn = db.begin().await?;
    let event = lock(&txn, id).await?;
    if event.status == CANCELLED {
        return Err(invalid_transition("the event is already cancelled"));
    }
    let mut active: events::ActiveModel = event.into();
    active.status = Set(CANCELLED.to_owned());
    active.cancel_reason = Set(Some(reason));
    active.updated_at = Set(now);
    let event = active.update(&txn).await?;
    let job = crate::bookings::service::CancelEventBookings { event_id: id, actor: actor.0 };
    crate::jobs::queue::enqueue(
        &txn,
        crate::jobs::kind::CANCEL_EVENT_BOOKINGS,
        &job,
        now,
        Some(format!("cancel-event-bookings:{id}")),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(event)
}

/// The filters of the staff list.
#[derive(Debug, Default)]
pub struct AdminFilter {
    pub status: Option<&'static str>,
    pub venue: Option<i64>,
    pub q: Option<String>,
    pub page: PageRequest,
}

/// Every performance that has not been deleted, any status, past ones included, latest start first.
pub async fn list(db: &Reader, filter: &AdminFilter) -> AppResult<Page<EventSummary>> {
    let mut query = events::Entity::find().filter(events::Column::IsActive.eq(true));
    if let Some(status) = filter.status {
        query = query.filter(events::Column::Status.eq(status));
    }
    if let Some(venue) = filter.venue {
        query = query.filter(events::Column::VenueId.eq(venue));
    }
    if let Some(q) = &filter.q {
        let pattern = super::service::like_contains(&q.to_lowercase());
        query = query.filter(
            Expr::col((events::Entity, events::Column::SearchText)).like(LikeExpr::new(pattern).escape('\\')),
        );
    }
    let paginator = query
        .order_by_desc(events::Column::StartTime)
        .order_by_desc(events::Column::Id)
        .paginate(db, filter.page.page_size);
    let total = paginator.num_items().await?;
    let rows = paginator.fetch_page(filter.page.page - 1).await?;
    Ok(filter.page.of(service::summaries(db, rows).await?, total))
}
