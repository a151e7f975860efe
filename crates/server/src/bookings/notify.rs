//! The emails about a booking share one set of fields (buyer, performance, venue, seats); this
//! builds them so every template reads the same names.

use entity::{bookings, events, users, venues};
use sea_orm::{ConnectionTrait, EntityTrait};
use serde_json::{Value, json};

use super::queries;
use crate::{
    error::AppResult,
    jobs::{email::EmailJob, periodic::local_time},
    mail::templates::{Locale, Template, money},
};

/// The email `template` about `booking` for its buyer, with `extra` fields (made in the buyer's
/// language) merged in; `None`
/// when the buyer's account is gone (deleted or deactivated accounts get no mail).
pub async fn booking_email<C: ConnectionTrait>(
    db: &C,
    booking: &bookings::Model,
    template: Template,
    extra: impl FnOnce(Locale) -> Value,
) -> AppResult<Option<EmailJob>> {
    let Some(user) = users::Entity::find_by_id(booking.user_id).one(db).await? else { return Ok(None) };
    if !user.is_active || user.deleted_at.is_some() {
        return Ok(None);
    }
    let locale = Locale::parse(&user.locale);
    let event = events::Entity::find_by_id(booking.event_id).one(db).await?;
    let venue = match &event {
        Some(e) => venues::Entity::find_by_id(e.venue_id).one(db).await?,
        None => None,
    };
    let shaped = queries::one(db, booking.clone()).await?;
    let (venue_name, address, tz) = venue
        .as_ref()
        .map(|v| (v.name.clone(), format!("{}, {}", v.address, v.city), v.time_zone.clone()))
        .unwrap_or_default();
    let mut data = json!({
        "name": user.full_name,
        "reference": booking.reference,
        "event_title": event.as_ref().map(|e| e.title.clone()).unwrap_or_default(),
        "venue_name": venue_name,
        "venue_address": address,
        "starts": event.as_ref().map(|e| local_time(e.start_time, &tz, locale)).unwrap_or_default(),
        "seats": shaped.seats.iter().map(|s| json!({"section": s.section_name, "row": s.row, "number": s.number, "price": money(s.price, locale)})).collect::<Vec<_>>(),
        "total": money(booking.total, locale),
    });
    if let (Some(fields), Value::Object(more)) = (data.as_object_mut(), extra(locale)) {
        fields.extend(more);
    }
    Ok(Some(EmailJob { template, locale, to: user.email, data, booking_documents: None }))
}
