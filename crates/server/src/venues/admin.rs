//! Staff management of venues: create, update, soft-delete. Capacity is never written here: it
//! is derived from the seats (`service::refresh_capacity`).

use crate::db::Writer;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use entity::venues;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use serde::Deserialize;
use utoipa::ToSchema;

use super::service::{VenueOut, find_active};
use crate::{
    error::{AppError, AppResult, ErrorItem, is_unique_violation},
    slugs,
    validate::Checks,
};

/// Create (and `PUT`) body of a venue. On `PUT`, an absent `slug` keeps the current one and
/// absent `description`/`amenities` are emptied.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VenueBody {
    #[schema(min_length = 1, max_length = 200, pattern = "\\S")]
    pub name: String,
    #[schema(min_length = 1, max_length = 300, pattern = "\\S")]
    pub address: String,
    #[schema(min_length = 1, max_length = 100, pattern = "\\S")]
    pub city: String,
    /// IANA time zone, e.g. `Asia/Ho_Chi_Minh`.
    #[schema(schema_with = crate::openapi::fields::time_zone)]
    pub time_zone: String,
    /// Lower-case letters, digits and dashes; generated from the name when absent.
    #[schema(pattern = "^[a-z0-9]+(-[a-z0-9]+)*$", max_length = 100)]
    pub slug: Option<String>,
    #[schema(max_length = 10000)]
    pub description: Option<String>,
    /// Free labels such as `parking`, `wheelchair_access`, `hearing_loop`, `bar`, `cloakroom`.
    #[schema(schema_with = crate::openapi::fields::amenities)]
    pub amenities: Option<Vec<String>>,
}

/// `PATCH` body: only the fields present change.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VenuePatch {
    #[schema(min_length = 1, max_length = 200, pattern = "\\S")]
    pub name: Option<String>,
    #[schema(min_length = 1, max_length = 300, pattern = "\\S")]
    pub address: Option<String>,
    #[schema(min_length = 1, max_length = 100, pattern = "\\S")]
    pub city: Option<String>,
    #[schema(schema_with = crate::openapi::fields::time_zone)]
    pub time_zone: Option<String>,
    #[schema(pattern = "^[a-z0-9]+(-[a-z0-9]+)*$", max_length = 100)]
    pub slug: Option<String>,
    #[schema(max_length = 10000)]
    pub description: Option<String>,
    #[schema(schema_with = crate::openapi::fields::amenities)]
    pub amenities: Option<Vec<String>>,
}

/// Checked, normalized venue fields; `None` leaves a field as it is.
#[derive(Debug, Default)]
struct VenueFields {
    name: Option<String>,
    address: Option<String>,
    city: Option<String>,
    time_zone: Option<String>,
    slug: Option<String>,
    description: Option<String>,
    amenities: Option<Vec<String>>,
}

impl VenueFields {
    fn check(patch: VenuePatch) -> AppResult<Self> {
        let mut c = Checks::new();
        let fields = Self {
            name: patch.name.map(|v| c.text("name", &v, 1, 200)),
            address: patch.address.map(|v| c.text("address", &v, 1, 300)),
            city: patch.city.map(|v| c.text("city", &v, 1, 100)),
            time_zone: patch.time_zone.map(|v| {
                let v = v.trim().to_owned();
                if chrono_tz::Tz::from_str(&v).is_err() {
                    c.fail("time_zone", "must be an IANA time zone such as Asia/Ho_Chi_Minh");
                }
                v
            }),
            slug: patch.slug.map(|v| {
                let v = v.trim().to_owned();
                if !slugs::is_valid(&v) {
                    c.fail("slug", "must be 1–100 lower-case letters, digits and single dashes");
                }
                v
            }),
            description: patch.description.map(|v| c.text("description", &v, 0, 10_000)),
            amenities: patch.amenities.map(|list| amenities(&mut c, list)),
        };
        c.finish()?;
        Ok(fields)
    }
}

fn amenities(c: &mut Checks, list: Vec<String>) -> Vec<String> {
    if list.len() > 30 {
        c.fail("amenities", "at most 30 amenities");
    }
    let mut out: Vec<String> = Vec::with_capacity(list.len());
    for (i, a) in list.iter().enumerate() {
        let a = c.text(&format!("amenities[{i}]"), a, 1, 50);
        if !out.contains(&a) {
            out.push(a);
        }
    }
    out
}

fn slug_taken() -> AppError {
    AppError::Conflict(
        ErrorItem::new("slug_taken", "Another venue already uses this slug.").with_detail("field", "slug"),
    )
}

async fn ensure_slug_free(
    db: &impl sea_orm::ConnectionTrait,
    slug: &str,
    except: Option<i64>,
) -> AppResult<()> {
    let mut query = venues::Entity::find().filter(venues::Column::Slug.eq(slug));
    if let Some(id) = except {
        query = query.filter(venues::Column::Id.ne(id));
    }
    if query.one(db).await?.is_some() { Err(slug_taken()) } else { Ok(()) }
}

pub async fn create(db: &Writer, body: VenueBody, now: DateTime<Utc>) -> AppResult<VenueOut> {
    let fields = VenueFields::check(VenuePatch {
        name: Some(body.name),
        address: Some(body.address),
        city: Some(body.city),
        time_zone: Some(body.time_zone),
        slug: body.slug,
        description: Some(body.description.unwrap_or_default()),
        amenities: Some(body.amenities.unwrap_or_default()),
    })?;
    let name = fields.name.unwrap_or_default();
    let txn = db.begin().await?;
    let slug = match fields.slug {
        Some(slug) => {
            ensure_slug_free(&txn, &slug, None).await?;
            slug
        }
        None => {
            slugs::free::<venues::Entity, _>(&txn, venues::Column::Slug, &slugs::base(&name, "venue")).await?
        }
    };
    let inserted = venues::ActiveModel {
        name: Set(name),
        slug: Set(slug),
        address: Set(fields.address.unwrap_or_default()),
        city: Set(fields.city.unwrap_or_default()),
        time_zone: Set(fields.time_zone.unwrap_or_default()),
        capacity: Set(0),
        description: Set(fields.description.unwrap_or_default()),
        amenities: Set(serde_json::json!(fields.amenities.unwrap_or_default())),
        is_active: Set(true),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await;
    let venue = match inserted {
        Ok(v) => v,
        Err(err) if is_unique_violation(&err) => return Err(slug_taken()),
        Err(err) => return Err(err.into()),
    };
    txn.commit().await?;
    Ok(venue.into())
}

/// `PUT`: every field replaced (an absent slug is kept).
pub async fn replace(db: &Writer, id: i64, body: VenueBody, now: DateTime<Utc>) -> AppResult<VenueOut> {
    let patch = VenuePatch {
        name: Some(body.name),
        address: Some(body.address),
        city: Some(body.city),
        time_zone: Some(body.time_zone),
        slug: body.slug,
        description: Some(body.description.unwrap_or_default()),
        amenities: Some(body.amenities.unwrap_or_default()),
    };
    update(db, id, patch, now).await
}

/// `PATCH`: the fields present change.
pub async fn update(db: &Writer, id: i64, patch: VenuePatch, now: DateTime<Utc>) -> AppResult<VenueOut> {
    let fields = VenueFields::check(patch)?;
    let venue = find_active(db, id).await?;
    let txn = db.begin().await?;
    if let Some(slug) = &fields.slug {
        ensure_slug_free(&txn, slug, Some(id)).await?;
    }
    let mut active: venues::ActiveModel = venue.into();
    if let Some(v) = fields.name {
        active.name = Set(v);
    }
    if let Some(v) = fields.address {
        active.address = Set(v);
    }
    if let Some(v) = fields.city {
        active.city = Set(v);
    }
    if let Some(v) = fields.time_zone {
        active.time_zone = Set(v);
    }
    if let Some(v) = fields.slug {
        active.slug = Set(v);
    }
    if let Some(v) = fields.description {
        active.description = Set(v);
    }
    if let Some(v) = fields.amenities {
        active.amenities = Set(serde_json::json!(v));
    }
    active.updated_at = Set(now);
    let venue = match active.update(&txn).await {
        Ok(v) => v,
        Err(err) if is_unique_violation(&err) => return Err(slug_taken()),
        Err(err) => return Err(err.into()),
    };
    txn.commit().await?;
    Ok(venue.into())
}

/// Soft delete: the venue and its performances leave the public catalog; sold history stays.
pub async fn delete(db: &Writer, id: i64, now: DateTime<Utc>) -> AppResult<()> {
    let venue = find_active(db, id).await?;
    let txn = db.begin().await?;
    let mut active: venues::ActiveModel = venue.into();
    active.is_active = Set(false);
    active.updated_at = Set(now);
    active.update(&txn).await?;
    txn.commit().await?;
    Ok(())
}
