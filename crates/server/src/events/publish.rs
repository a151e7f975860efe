//! Publishing a performance: its EventSeat rows are a snapshot of the venue's active seats with
//! their section prices, so later layout changes never touch a performance on sale.

use chrono::{DateTime, Utc};
use entity::{event_seats, event_section_prices, events, seats, sections};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, EntityTrait, QueryFilter,
    sea_query::{Condition, Expr, ExprTrait, Query},
};

use crate::error::{AppError, AppResult, ErrorItem};

/// Publishes a draft inside the caller's transaction. Every section with active seats needs a
/// price; the seats are copied with one `INSERT … SELECT`, whatever the venue's size (a VALUES
/// list would hit the bind-parameter limits past a few thousand seats).
pub async fn publish<C: crate::db::Writes>(
    db: &C,
    event: events::Model,
    now: DateTime<Utc>,
) -> AppResult<events::Model> {
    if event.status != super::service::DRAFT {
        return Err(AppError::Conflict(ErrorItem::new(
            "invalid_transition",
            format!("a {} event cannot be published", event.status),
        )));
    }
    let priced: Vec<i64> = event_section_prices::Entity::find()
        .filter(event_section_prices::Column::EventId.eq(event.id))
        .all(db)
        .await?
        .into_iter()
        .map(|p| p.section_id)
        .collect();
    let unpriced: Vec<String> = sections::Entity::find()
        .filter(sections::Column::VenueId.eq(event.venue_id))
        .filter(sections::Column::IsActive.eq(true))
        .filter(sections::Column::Id.is_not_in(priced))
        .filter(
            sections::Column::Id.in_subquery(
                Query::select()
                    .column(seats::Column::SectionId)
                    .from(seats::Entity)
                    .and_where(seats::Column::IsActive.eq(true))
                    .to_owned(),
            ),
        )
        .all(db)
        .await?
        .into_iter()
        .map(|s| s.name)
        .collect();
    if !unpriced.is_empty() {
        return Err(AppError::invalid(
            "prices",
            format!("set a price for every section with seats first (missing: {})", unpriced.join(", ")),
        ));
    }

    let snapshot = Query::select()
        .expr(Expr::val(event.id))
        .column((seats::Entity, seats::Column::Id))
        .column((seats::Entity, seats::Column::SectionId))
        .expr(Expr::val("available"))
        .column((event_section_prices::Entity, event_section_prices::Column::Price))
        .expr(Expr::val(0i64))
        .expr(Expr::val(now))
        .expr(Expr::val(now))
        .from(seats::Entity)
        .inner_join(
            sections::Entity,
            Expr::col((sections::Entity, sections::Column::Id))
                .equals((seats::Entity, seats::Column::SectionId)),
        )
        .inner_join(
            event_section_prices::Entity,
            Condition::all()
                .add(
                    Expr::col((event_section_prices::Entity, event_section_prices::Column::SectionId))
                        .equals((seats::Entity, seats::Column::SectionId)),
                )
                .add(
                    Expr::col((event_section_prices::Entity, event_section_prices::Column::EventId))
                        .eq(event.id),
                ),
        )
        .and_where(Expr::col((sections::Entity, sections::Column::VenueId)).eq(event.venue_id))
        .and_where(Expr::col((sections::Entity, sections::Column::IsActive)).eq(true))
        .and_where(Expr::col((seats::Entity, seats::Column::IsActive)).eq(true))
        .to_owned();
    let insert = Query::insert()
        .into_table(event_seats::Entity)
        .columns([
            event_seats::Column::EventId,
            event_seats::Column::SeatId,
            event_seats::Column::SectionId,
            event_seats::Column::Status,
            event_seats::Column::Price,
            event_seats::Column::Version,
            event_seats::Column::CreatedAt,
            event_seats::Column::UpdatedAt,
        ])
        .select_from(snapshot)
        .map_err(|e| anyhow::anyhow!("building the seat snapshot: {e}"))?
        .to_owned();
    db.execute(&insert).await?;

    let mut active: events::ActiveModel = event.into();
    active.status = Set(super::service::PUBLISHED.to_owned());
    active.published_at = Set(Some(now));
    active.updated_at = Set(now);
    Ok(active.update(db).await?)
}
