//! Reading performances: the public list with its filters, and one performance in detail.

use crate::db::Reader;
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{
    categories, event_images, event_section_prices, event_tags, events, reviews, sections, tags, venues,
};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, Order, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
    sea_query::{Expr, ExprTrait, LikeExpr, Query, SimpleExpr},
};
use serde::Serialize;
use utoipa::ToSchema;

use crate::{
    catalog::service::{CategoryOut, TagOut},
    error::{AppError, AppResult},
    http::{Page, PageRequest, Params},
};

/// Status values of an event (the database keeps them as text with a CHECK).
pub const DRAFT: &str = "draft";
pub const PUBLISHED: &str = "published";
pub const CANCELLED: &str = "cancelled";

pub const ORDERINGS: &[&str] =
    &["start_time", "-start_time", "price", "-price", "rating", "-rating", "title", "-title"];

/// The filters of `GET /api/events/`.
#[derive(Debug, Default)]
pub struct EventFilter {
    pub q: Option<String>,
    pub category: Option<String>,
    pub tag: Option<String>,
    pub venue: Option<i64>,
    pub date_from: Option<DateTime<Utc>>,
    pub date_to: Option<DateTime<Utc>>,
    pub featured: Option<bool>,
    pub ordering: &'static str,
    pub page: PageRequest,
}

impl EventFilter {
    pub fn read(params: &mut Params) -> Self {
        let filter = Self {
            q: params.string("q", 200),
            category: params.string("category", 100),
            tag: params.string("tag", 100),
            venue: params.id("venue"),
            date_from: params.datetime("date_from", false),
            date_to: params.datetime("date_to", true),
            featured: params.bool("featured"),
            ordering: params.choice("ordering", ORDERINGS).unwrap_or("start_time"),
            page: PageRequest::read(params),
        };
        if let (Some(from), Some(to)) = (filter.date_from, filter.date_to)
            && to < from
        {
            params.fail("date_to", "must not be before date_from");
        }
        filter
    }

    /// The filter in one canonical form, for cache keys: two filters that select the same page
    /// give the same key (values as `list` reads them: `q` lower-cased, a category or tag as the
    /// id or lower-cased slug it matches, times in UTC). Bounded in size by `read`'s limits.
    pub fn cache_key(&self) -> String {
        let id_or_slug = |v: &Option<String>| {
            v.as_deref().map(|v| match v.parse::<i64>() {
                Ok(id) => format!("id:{id}"),
                Err(_) => format!("slug:{}", v.to_lowercase()),
            })
        };
        serde_json::json!([
            self.q.as_deref().map(str::to_lowercase),
            id_or_slug(&self.category),
            id_or_slug(&self.tag),
            self.venue,
            self.date_from.map(|t| t.to_rfc3339()),
            self.date_to.map(|t| t.to_rfc3339()),
            self.featured,
            self.ordering,
            self.page.page,
            self.page.page_size,
        ])
        .to_string()
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VenueRef {
    pub id: i64,
    pub name: String,
    pub city: String,
    pub time_zone: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventSummary {
    pub id: i64,
    pub title: String,
    pub slug: String,
    pub description: String,
    pub venue: VenueRef,
    pub category: Option<CategoryOut>,
    pub tags: Vec<TagOut>,
    pub start_time: DateTime<Utc>,
    pub end_time: DateTime<Utc>,
    /// `draft`, `published` or `cancelled`.
    pub status: String,
    pub is_featured: bool,
    pub sales_start: Option<DateTime<Utc>>,
    pub sales_end: Option<DateTime<Utc>>,
    /// Lowest section price, in the currency's minor unit (VND: whole dong).
    pub min_price: Option<i64>,
    pub currency: String,
    pub rating_avg: Option<f64>,
    pub rating_count: i64,
    pub poster_url: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SectionPrice {
    pub section_id: i64,
    pub section_name: String,
    pub color: String,
    pub price: i64,
    pub currency: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ImageOut {
    pub id: i64,
    pub url: String,
    pub caption: String,
    pub position: i32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventDetail {
    #[serde(flatten)]
    pub summary: EventSummary,
    pub prices: Vec<SectionPrice>,
    pub images: Vec<ImageOut>,
    pub cancel_reason: Option<String>,
}

/// The lowest section price of `events.id`, as an SQL expression for ordering.
fn min_price_expr() -> SimpleExpr {
    Expr::cust("(SELECT MIN(p.price) FROM event_section_prices p WHERE p.event_id = events.id)")
}

/// The average rating (0 without reviews) of `events.id`, for ordering.
fn rating_expr() -> SimpleExpr {
    Expr::cust(
        "COALESCE((SELECT AVG(r.rating * 1.0) FROM reviews r WHERE r.event_id = events.id AND r.is_active = TRUE), 0)",
    )
}

/// Escapes `%`, `_` and `\` so user text matches literally in a `LIKE … ESCAPE '\'`.
pub fn like_contains(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// Lower-cased title and description: what `q` searches, the same on both databases (SQLite's
/// `lower()` only knows ASCII, so the app folds case once, when the event is written).
pub fn search_text(title: &str, description: &str) -> String {
    format!("{}\n{}", title.to_lowercase(), description.to_lowercase())
}

/// Published, upcoming, active performances matching `filter`, one page.
pub async fn list(db: &Reader, now: DateTime<Utc>, filter: &EventFilter) -> AppResult<Page<EventSummary>> {
    let mut query = events::Entity::find()
        .filter(events::Column::Status.eq(PUBLISHED))
        .filter(events::Column::IsActive.eq(true))
        .filter(events::Column::StartTime.gt(now))
        .filter(
            events::Column::VenueId.in_subquery(
                Query::select()
                    .column(venues::Column::Id)
                    .from(venues::Entity)
                    .and_where(venues::Column::IsActive.eq(true))
                    .to_owned(),
            ),
        );
    if let Some(q) = &filter.q {
        let pattern = like_contains(&q.to_lowercase());
        query = query.filter(
            Expr::col((events::Entity, events::Column::SearchText)).like(LikeExpr::new(pattern).escape('\\')),
        );
    }
    if let Some(category) = &filter.category {
        query = query.filter(
            events::Column::CategoryId.in_subquery(
                Query::select()
                    .column(categories::Column::Id)
                    .from(categories::Entity)
                    .cond_where(id_or_slug(category, categories::Column::Id, categories::Column::Slug))
                    .to_owned(),
            ),
        );
    }
    if let Some(tag) = &filter.tag {
        query = query.filter(
            events::Column::Id.in_subquery(
                Query::select()
                    .column(event_tags::Column::EventId)
                    .from(event_tags::Entity)
                    .and_where(
                        event_tags::Column::TagId.in_subquery(
                            Query::select()
                                .column(tags::Column::Id)
                                .from(tags::Entity)
                                .cond_where(id_or_slug(tag, tags::Column::Id, tags::Column::Slug))
                                .to_owned(),
                        ),
                    )
                    .to_owned(),
            ),
        );
    }
    if let Some(venue) = filter.venue {
        query = query.filter(events::Column::VenueId.eq(venue));
    }
    if let Some(from) = filter.date_from {
        query = query.filter(events::Column::StartTime.gte(from));
    }
    if let Some(to) = filter.date_to {
        query = query.filter(events::Column::StartTime.lte(to));
    }
    if let Some(featured) = filter.featured {
        query = query.filter(events::Column::IsFeatured.eq(featured));
    }
    let (key, order) = match filter.ordering.strip_prefix('-') {
        Some(key) => (key, Order::Desc),
        None => (filter.ordering, Order::Asc),
    };
    query = match key {
        "price" => query.order_by(min_price_expr(), order),
        "rating" => query.order_by(rating_expr(), order),
        "title" => query.order_by(events::Column::Title, order),
        _ => query.order_by(events::Column::StartTime, order),
    };
    let query = query.order_by_asc(events::Column::StartTime).order_by_asc(events::Column::Id);

    let page = filter.page;
    let paginator = query.paginate(db, page.page_size);
    let total = paginator.num_items().await?;
    let rows = paginator.fetch_page(page.page - 1).await?;
    Ok(page.of(summaries(db, rows).await?, total))
}

/// Matches a numeric id or a slug.
fn id_or_slug(value: &str, id: impl ColumnTrait, slug: impl ColumnTrait) -> Condition {
    match value.parse::<i64>() {
        Ok(n) => Condition::all().add(id.eq(n)),
        Err(_) => Condition::all().add(slug.eq(value.to_lowercase())),
    }
}

/// Enriches events with their venue, category, tags, lowest price and rating, in a fixed number
/// of queries whatever the page size.
pub async fn summaries(db: &Reader, rows: Vec<events::Model>) -> AppResult<Vec<EventSummary>> {
    let ids: Vec<i64> = rows.iter().map(|e| e.id).collect();
    let venue_ids: Vec<i64> = rows.iter().map(|e| e.venue_id).collect();
    let category_ids: Vec<i64> = rows.iter().filter_map(|e| e.category_id).collect();

    let venues: HashMap<i64, venues::Model> = venues::Entity::find()
        .filter(venues::Column::Id.is_in(venue_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|v| (v.id, v))
        .collect();
    let categories: HashMap<i64, categories::Model> = categories::Entity::find()
        .filter(categories::Column::Id.is_in(category_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
    let links =
        event_tags::Entity::find().filter(event_tags::Column::EventId.is_in(ids.clone())).all(db).await?;
    let tags: HashMap<i64, tags::Model> = tags::Entity::find()
        .filter(tags::Column::Id.is_in(links.iter().map(|l| l.tag_id)))
        .filter(tags::Column::IsActive.eq(true))
        .order_by_asc(tags::Column::Name)
        .all(db)
        .await?
        .into_iter()
        .map(|t| (t.id, t))
        .collect();
    let mut tags_of: HashMap<i64, Vec<TagOut>> = HashMap::new();
    for link in links {
        if let Some(tag) = tags.get(&link.tag_id) {
            tags_of.entry(link.event_id).or_default().push(TagOut::from(tag.clone()));
        }
    }
    let min_prices: HashMap<i64, (i64, String)> = event_section_prices::Entity::find()
        .filter(event_section_prices::Column::EventId.is_in(ids.clone()))
        .all(db)
        .await?
        .into_iter()
        .fold(HashMap::new(), |mut acc, p| {
            let entry = acc.entry(p.event_id).or_insert((p.price, p.currency.clone()));
            if p.price < entry.0 {
                *entry = (p.price, p.currency);
            }
            acc
        });
    let ratings = ratings(db, &ids).await?;
    let posters = poster_urls(db, &rows).await?;

    let mut out = Vec::with_capacity(rows.len());
    for e in rows {
        let venue = venues.get(&e.venue_id).ok_or_else(|| anyhow::anyhow!("event {} has no venue", e.id))?;
        let (rating_avg, rating_count) =
            ratings.get(&e.id).copied().map_or((None, 0), |(avg, n)| (Some(avg), n));
        let (min_price, currency) = match min_prices.get(&e.id) {
            Some((price, currency)) => (Some(*price), currency.clone()),
            None => (None, "VND".to_owned()),
        };
        let mut tags = tags_of.remove(&e.id).unwrap_or_default();
        tags.sort_by(|a, b| a.name.cmp(&b.name));
        out.push(EventSummary {
            venue: VenueRef {
                id: venue.id,
                name: venue.name.clone(),
                city: venue.city.clone(),
                time_zone: venue.time_zone.clone(),
            },
            category: e.category_id.and_then(|c| categories.get(&c)).cloned().map(CategoryOut::from),
            tags,
            min_price,
            currency,
            rating_avg,
            rating_count,
            poster_url: posters.get(&e.id).cloned(),
            id: e.id,
            title: e.title,
            slug: e.slug,
            description: e.description,
            start_time: e.start_time,
            end_time: e.end_time,
            status: e.status,
            is_featured: e.is_featured,
            sales_start: e.sales_start,
            sales_end: e.sales_end,
        });
    }
    Ok(out)
}

/// Average (two decimals) and count of active reviews per event.
async fn ratings(db: &Reader, ids: &[i64]) -> AppResult<HashMap<i64, (f64, i64)>> {
    let rows: Vec<(i64, i64, i64)> = reviews::Entity::find()
        .select_only()
        .column(reviews::Column::EventId)
        .column_as(Expr::col(reviews::Column::Rating).sum().cast_as("BIGINT"), "total")
        .column_as(reviews::Column::Id.count(), "n")
        .filter(reviews::Column::EventId.is_in(ids.iter().copied()))
        .filter(reviews::Column::IsActive.eq(true))
        .group_by(reviews::Column::EventId)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter(|(_, _, n)| *n > 0)
        .map(|(id, total, n)| (id, ((total as f64 / n as f64) * 100.0).round() / 100.0, n))
        .map(|(id, avg, n)| (id, (avg, n)))
        .collect())
}

pub fn image_url(image_id: i64) -> String {
    format!("/media/images/{image_id}")
}

async fn poster_urls(db: &Reader, rows: &[events::Model]) -> AppResult<HashMap<i64, String>> {
    let poster_ids: Vec<i64> = rows.iter().filter_map(|e| e.poster_image_id).collect();
    if poster_ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(event_images::Entity::find()
        .filter(event_images::Column::Id.is_in(poster_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|img| (img.event_id, image_url(img.id)))
        .collect())
}

/// A performance the public may see: active, and published or cancelled (never a draft).
pub async fn find_public(db: &impl ConnectionTrait, id: i64) -> AppResult<events::Model> {
    events::Entity::find_by_id(id)
        .filter(events::Column::IsActive.eq(true))
        .filter(events::Column::Status.ne(DRAFT))
        .one(db)
        .await?
        .ok_or(AppError::NotFound)
}

pub async fn detail(db: &Reader, id: i64) -> AppResult<EventDetail> {
    detail_of(db, find_public(db, id).await?).await
}

/// An event that has not been deleted, whatever its status (staff see drafts), or 404.
pub async fn find_active(db: &impl sea_orm::ConnectionTrait, id: i64) -> AppResult<events::Model> {
    events::Entity::find_by_id(id)
        .filter(events::Column::IsActive.eq(true))
        .one(db)
        .await?
        .ok_or(AppError::NotFound)
}

/// The detail of `event`, whatever its status: callers decide who may see it.
pub async fn detail_of(db: &Reader, event: events::Model) -> AppResult<EventDetail> {
    let id = event.id;
    let cancel_reason = event.cancel_reason.clone();
    let prices = event_section_prices::Entity::find()
        .filter(event_section_prices::Column::EventId.eq(id))
        .find_also_related(sections::Entity)
        .order_by_asc(event_section_prices::Column::Id)
        .all(db)
        .await?;
    let mut prices: Vec<(i32, SectionPrice)> = prices
        .into_iter()
        .filter_map(|(p, s)| {
            let s = s?;
            Some((
                s.display_order,
                SectionPrice {
                    section_id: s.id,
                    section_name: s.name,
                    color: s.color,
                    price: p.price,
                    currency: p.currency,
                },
            ))
        })
        .collect();
    prices.sort_by_key(|(order, p)| (*order, p.section_id));
    let images = event_images::Entity::find()
        .filter(event_images::Column::EventId.eq(id))
        .order_by_asc(event_images::Column::Position)
        .order_by_asc(event_images::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|img| ImageOut {
            url: image_url(img.id),
            id: img.id,
            caption: img.caption,
            position: img.position,
        })
        .collect();
    let summary = summaries(db, vec![event]).await?.pop().ok_or(AppError::NotFound)?;
    Ok(EventDetail { summary, prices: prices.into_iter().map(|(_, p)| p).collect(), images, cancel_reason })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter_of(query: &[(&str, &str)]) -> EventFilter {
        let mut params = Params::new(query.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect());
        let filter = EventFilter::read(&mut params);
        assert!(params.finish().is_ok());
        filter
    }

    #[test]
    fn cache_keys_depend_on_what_the_list_selects_only() {
        let plain = filter_of(&[]).cache_key();
        let noisy = filter_of(&[
            ("utm_source", "newsletter"),
            ("page", "01"),
            ("page_size", "20"),
            ("ordering", "start_time"),
            ("q", "  "),
            ("junk", &"x".repeat(10_000)),
        ]);
        assert_eq!(noisy.cache_key(), plain);
        assert_eq!(
            filter_of(&[("q", "HAMLET"), ("category", "Drama"), ("date_from", "2026-12-01")]).cache_key(),
            filter_of(&[("date_from", "2026-12-01T07:00:00+07:00"), ("category", "drama"), ("q", "hamlet")])
                .cache_key()
        );
        assert_eq!(filter_of(&[("tag", "007")]).cache_key(), filter_of(&[("tag", "7")]).cache_key());
        assert_ne!(filter_of(&[("page", "2")]).cache_key(), plain);
        assert_ne!(
            filter_of(&[("q", "a&page=2")]).cache_key(),
            filter_of(&[("q", "a"), ("page", "2")]).cache_key()
        );
    }

    #[test]
    fn like_patterns_match_wildcards_literally() {
        assert_eq!(like_contains("50%_off\\"), "%50\\%\\_off\\\\%");
    }

    #[test]
    fn search_text_folds_vietnamese_capitals() {
        assert_eq!(search_text("HỒN TRƯƠNG BA", "Da Hàng Thịt"), "hồn trương ba\nda hàng thịt");
    }
}
