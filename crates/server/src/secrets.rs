//! Secrets generated once and shared through the database by every instance (JWT signing, ticket
//! codes, the VNPAY simulator) unless the configuration sets them.

use crate::db::Writer;
use anyhow::Context;
use entity::app_secrets;
use rand::{Rng, distr::Alphanumeric};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, sea_query::OnConflict,
};

use crate::clock::Clock;

/// Returns the secret stored under `name`, creating a random one on first use. Two instances
/// racing here both end up with the first one written.
pub async fn get_or_create(
    db: &Writer,
    clock: &dyn Clock,
    name: &str,
    length: usize,
) -> anyhow::Result<String> {
    if let Some(found) = find(db, name).await? {
        return Ok(found);
    }
    let value: String = rand::rng().sample_iter(&Alphanumeric).take(length).map(char::from).collect();
    let now = clock.now();
    let row = app_secrets::ActiveModel {
        name: Set(name.to_owned()),
        value: Set(value),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    app_secrets::Entity::insert(row)
        .on_conflict(OnConflict::column(app_secrets::Column::Name).do_nothing().to_owned())
        .exec_without_returning(db)
        .await
        .with_context(|| format!("storing the generated secret {name}"))?;
    find(db, name).await?.with_context(|| format!("secret {name} vanished after insert"))
}

async fn find(db: &impl ConnectionTrait, name: &str) -> anyhow::Result<Option<String>> {
    Ok(app_secrets::Entity::find()
        .filter(app_secrets::Column::Name.eq(name))
        .one(db)
        .await
        .with_context(|| format!("reading secret {name}"))?
        .map(|row| row.value))
}
