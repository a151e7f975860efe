//! Reading categories and tags.

use crate::db::Reader;
use entity::{categories, tags};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::AppResult;

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct CategoryOut {
    pub id: i64,
    pub name: String,
    pub slug: String,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct TagOut {
    pub id: i64,
    pub name: String,
    pub slug: String,
}

impl From<categories::Model> for CategoryOut {
    fn from(c: categories::Model) -> Self {
        Self { id: c.id, name: c.name, slug: c.slug }
    }
}

impl From<tags::Model> for TagOut {
    fn from(t: tags::Model) -> Self {
        Self { id: t.id, name: t.name, slug: t.slug }
    }
}

pub async fn categories(db: &Reader) -> AppResult<Vec<CategoryOut>> {
    Ok(categories::Entity::find()
        .filter(categories::Column::IsActive.eq(true))
        .order_by_asc(categories::Column::Name)
        .all(db)
        .await?
        .into_iter()
        .map(CategoryOut::from)
        .collect())
}

pub async fn tags(db: &Reader) -> AppResult<Vec<TagOut>> {
    Ok(tags::Entity::find()
        .filter(tags::Column::IsActive.eq(true))
        .order_by_asc(tags::Column::Name)
        .all(db)
        .await?
        .into_iter()
        .map(TagOut::from)
        .collect())
}
