//! Account rules that do not need HTTP: creating or promoting staff from the command line.

use crate::db::Writer;
use anyhow::{Context, bail};
use entity::users;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};

use super::{password, roles::Role};
use crate::clock::Clock;

/// Emails are compared case-insensitively: they are stored trimmed and lower-cased.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// Minimal shape check for the command line; the API validates more strictly.
fn looks_like_email(email: &str) -> bool {
    matches!(email.split_once('@'), Some((local, domain)) if !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.'))
}

/// Creates a user with `role`, or updates the password and role of an existing one (`create-admin`).
pub async fn upsert_with_role(
    db: &Writer,
    clock: &dyn Clock,
    email: &str,
    plain_password: &str,
    role: Role,
    full_name: &str,
) -> anyhow::Result<users::Model> {
    let email = normalize_email(email);
    if !looks_like_email(&email) {
        bail!("{email:?} is not an email address");
    }
    if super::policy::reserved_domain(&email) {
        bail!("{email:?} is at a reserved domain that cannot receive mail");
    }
    if plain_password.chars().count() < 8 {
        bail!("the password must be at least 8 characters");
    }
    let hash = password::hash(plain_password.to_owned()).await?;
    let now = clock.now();
    let existing = users::Entity::find().filter(users::Column::Email.eq(&email)).one(db).await?;
    let saved = match existing {
        Some(user) => {
            let version = user.token_version;
            let mut active: users::ActiveModel = user.into();
            active.password_hash = Set(hash);
            active.role = Set(role.as_str().to_owned());
            active.is_active = Set(true);
            // A new password or role invalidates tokens issued before it.
            active.token_version = Set(version + 1);
            active.updated_at = Set(now);
            active.update(db).await
        }
        None => {
            users::ActiveModel {
                email: Set(email.clone()),
                password_hash: Set(hash),
                full_name: Set(full_name.to_owned()),
                role: Set(role.as_str().to_owned()),
                email_verified: Set(true),
                is_active: Set(true),
                token_version: Set(0),
                locale: Set("en".into()),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(db)
            .await
        }
    };
    saved.with_context(|| format!("saving user {email}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalized_and_checked() {
        assert_eq!(normalize_email("  Ana@Example.COM "), "ana@example.com");
        assert!(looks_like_email("ana@example.com"));
        assert!(!looks_like_email("ana@example"));
        assert!(!looks_like_email("@example.com"));
    }
}

/// The user as the API shows it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct UserOut {
    pub id: i64,
    pub email: String,
    pub full_name: String,
    pub phone: Option<String>,
    pub role: Role,
    pub email_verified: bool,
    pub is_active: bool,
    /// Language of emails: `en` or `vi`.
    pub locale: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl From<users::Model> for UserOut {
    fn from(u: users::Model) -> Self {
        Self {
            role: u.role.parse().unwrap_or(Role::Customer),
            id: u.id,
            email: u.email,
            full_name: u.full_name,
            phone: u.phone,
            email_verified: u.email_verified,
            is_active: u.is_active,
            locale: u.locale,
            created_at: u.created_at,
        }
    }
}
