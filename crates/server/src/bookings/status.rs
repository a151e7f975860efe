//! The booking state machine of SPEC §4, in one place. Every transition goes through
//! `transition`, which checks it is legal and writes its BookingHistory row in the caller's
//! transaction.

use std::{fmt, str::FromStr};

use chrono::{DateTime, Utc};
use entity::{booking_history, bookings};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{AppError, AppResult, ErrorItem};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum BookingStatus {
    /// Seats held until `expires_at`, awaiting payment.
    Pending,
    /// Paid; seats sold.
    Confirmed,
    /// The performance is over.
    Completed,
    /// The hold ran out before payment.
    Expired,
    /// Let go by the buyer (or the performance was cancelled).
    Cancelled,
    /// Money returned by staff.
    Refunded,
}

impl BookingStatus {
    pub const ALL: [Self; 6] =
        [Self::Pending, Self::Confirmed, Self::Completed, Self::Expired, Self::Cancelled, Self::Refunded];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Confirmed => "confirmed",
            Self::Completed => "completed",
            Self::Expired => "expired",
            Self::Cancelled => "cancelled",
            Self::Refunded => "refunded",
        }
    }

    /// The legal moves. `Expired → Confirmed` is a payment that arrived late while every seat
    /// was still free (the seats are held again first).
    pub fn can_become(self, next: Self) -> bool {
        use BookingStatus::*;
        matches!(
            (self, next),
            (Pending, Confirmed | Expired | Cancelled)
                | (Expired, Confirmed)
                | (Confirmed, Completed | Cancelled | Refunded)
        )
    }
}

impl fmt::Display for BookingStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for BookingStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| format!("unknown booking status {s:?}"))
    }
}

pub fn status_of(booking: &bookings::Model) -> AppResult<BookingStatus> {
    booking.status.parse().map_err(|e: String| AppError::Internal(anyhow::anyhow!(e)))
}

pub fn invalid_transition(from: BookingStatus, to: BookingStatus) -> AppError {
    AppError::Conflict(
        ErrorItem::new("invalid_transition", format!("A {from} booking cannot become {to}."))
            .with_detail("status", from.as_str()),
    )
}

/// Who caused a change: a user, or the system (expiry sweep, payment callbacks).
#[derive(Clone, Copy, Debug)]
pub struct Actor(pub Option<i64>);

/// Moves `booking` to `next` if it is still in the status it was read in (a conditional update,
/// so two racing changes cannot both apply), and records the history row.
pub async fn transition<C: crate::db::Writes>(
    db: &C,
    booking: &bookings::Model,
    next: BookingStatus,
    actor: Actor,
    reason: Option<String>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let current = status_of(booking)?;
    if !current.can_become(next) {
        return Err(invalid_transition(current, next));
    }
    let mut update = bookings::Entity::update_many()
        .col_expr(bookings::Column::Status, Expr::val(next.as_str()))
        .col_expr(bookings::Column::UpdatedAt, Expr::val(now))
        .filter(bookings::Column::Id.eq(booking.id))
        .filter(bookings::Column::Status.eq(current.as_str()));
    if next == BookingStatus::Cancelled {
        update = update.col_expr(bookings::Column::CancelReason, Expr::val(reason.clone()));
    }
    if update.exec(db).await?.rows_affected != 1 {
        // Someone else changed it first.
        return Err(invalid_transition(current, next));
    }
    record(db, booking.id, Some(current), next, actor, reason, now).await
}

/// Appends a history row (also used at creation and for seat changes of a pending booking).
pub async fn record<C: crate::db::Writes>(
    db: &C,
    booking_id: i64,
    from: Option<BookingStatus>,
    to: BookingStatus,
    actor: Actor,
    reason: Option<String>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    booking_history::ActiveModel {
        booking_id: Set(booking_id),
        from_status: Set(from.map(|s| s.as_str().to_owned())),
        to_status: Set(to.as_str().to_owned()),
        actor_user_id: Set(actor.0),
        reason: Set(reason),
        at: Set(now),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::BookingStatus::{self, *};

    #[test]
    fn only_the_lifecycle_of_spec_4_is_allowed() {
        let allowed: Vec<(BookingStatus, BookingStatus)> = BookingStatus::ALL
            .into_iter()
            .flat_map(|a| BookingStatus::ALL.into_iter().map(move |b| (a, b)))
            .filter(|(a, b)| a.can_become(*b))
            .collect();
        assert_eq!(
            allowed,
            [
                (Pending, Confirmed),
                (Pending, Expired),
                (Pending, Cancelled),
                (Confirmed, Completed),
                (Confirmed, Cancelled),
                (Confirmed, Refunded),
                (Expired, Confirmed),
            ]
        );
    }

    #[test]
    fn statuses_round_trip_as_text() {
        for s in BookingStatus::ALL {
            assert_eq!(s.as_str().parse::<BookingStatus>(), Ok(s));
        }
    }
}
