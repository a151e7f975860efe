//! Access tokens (JWT, HS256, 15 minutes) and refresh tokens (opaque, stored hashed, rotated on
//! every use, a reused one revoking its whole family).
//!
//! Expiry is checked against the injectable clock rather than by the JWT library, so tests move
//! time instead of sleeping. Only HS256 is accepted: `alg: none` and other algorithms fail.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Duration, Utc};
use entity::{refresh_tokens, revoked_access_tokens, users};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    sea_query::{Expr, OnConflict},
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::roles::Role;
use crate::error::{AppError, AppResult};

pub const ACCESS_TTL_SECS: i64 = 15 * 60;
pub const REFRESH_TTL_DAYS: i64 = 30;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// The user id.
    pub sub: String,
    pub role: Role,
    /// Unique id of this token, so logout can revoke it.
    pub jti: String,
    pub iat: i64,
    pub exp: i64,
    /// The user's token version when issued: a password or role change bumps it.
    pub ver: i32,
}

impl Claims {
    pub fn user_id(&self) -> Option<i64> {
        self.sub.parse().ok()
    }

    pub fn expires_at(&self) -> DateTime<Utc> {
        DateTime::from_timestamp(self.exp, 0).unwrap_or_default()
    }
}

/// The signing key, from `JWT_SECRET` or generated once and shared through the database.
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl JwtKeys {
    pub fn new(secret: &[u8]) -> Self {
        Self { encoding: EncodingKey::from_secret(secret), decoding: DecodingKey::from_secret(secret) }
    }

    pub fn issue(&self, user: &users::Model, role: Role, now: DateTime<Utc>) -> AppResult<(String, Claims)> {
        let claims = Claims {
            sub: user.id.to_string(),
            role,
            jti: random_token(16),
            iat: now.timestamp(),
            exp: (now + Duration::seconds(ACCESS_TTL_SECS)).timestamp(),
            ver: user.token_version,
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| anyhow::anyhow!("signing a token: {e}"))?;
        Ok((token, claims))
    }

    /// Checks signature, algorithm and expiry; says nothing about revocation (see `extract`).
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> AppResult<Claims> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.validate_exp = false;
        validation.set_required_spec_claims(&["exp", "sub", "iat"]);
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation)
            .map_err(|_| AppError::InvalidToken)?;
        if data.claims.exp <= now.timestamp() {
            return Err(AppError::InvalidToken);
        }
        Ok(data.claims)
    }
}

/// `bytes` random bytes, URL-safe base64.
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}

/// Tokens are stored as SHA-256 hashes: a database leak does not hand out sessions.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Stores a new refresh token in `family` (a new family at login) and returns it in the clear.
pub async fn new_refresh_token<C: crate::db::Writes>(
    db: &C,
    user_id: i64,
    family: Option<String>,
    now: DateTime<Utc>,
) -> AppResult<String> {
    let token = random_token(32);
    refresh_tokens::ActiveModel {
        user_id: Set(user_id),
        family_id: Set(family.unwrap_or_else(|| random_token(12))),
        token_hash: Set(hash_token(&token)),
        expires_at: Set(now + Duration::days(REFRESH_TTL_DAYS)),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(token)
}

/// Uses a refresh token once: marks it used and returns its row. A token that was already used
/// or revoked is a theft signal — its whole family is revoked and the answer is `invalid_token`.
pub async fn consume_refresh_token<C: crate::db::Writes>(
    db: &C,
    token: &str,
    now: DateTime<Utc>,
) -> AppResult<refresh_tokens::Model> {
    let found = refresh_tokens::Entity::find()
        .filter(refresh_tokens::Column::TokenHash.eq(hash_token(token)))
        .one(db)
        .await?
        .ok_or(AppError::InvalidToken)?;
    if found.expires_at <= now {
        return Err(AppError::InvalidToken);
    }
    // Conditional update: of two requests racing with one token, exactly one wins; the other
    // is treated as a reuse.
    let claimed = refresh_tokens::Entity::update_many()
        .col_expr(refresh_tokens::Column::UsedAt, Expr::val(now))
        .col_expr(refresh_tokens::Column::UpdatedAt, Expr::val(now))
        .filter(refresh_tokens::Column::Id.eq(found.id))
        .filter(refresh_tokens::Column::UsedAt.is_null())
        .filter(refresh_tokens::Column::RevokedAt.is_null())
        .exec(db)
        .await?
        .rows_affected;
    if claimed != 1 {
        return Err(AppError::InvalidToken);
    }
    Ok(found)
}

/// Revokes every live token of a refresh family.
pub async fn revoke_family<C: crate::db::Writes>(db: &C, family: &str, now: DateTime<Utc>) -> AppResult<()> {
    refresh_tokens::Entity::update_many()
        .col_expr(refresh_tokens::Column::RevokedAt, Expr::val(now))
        .col_expr(refresh_tokens::Column::UpdatedAt, Expr::val(now))
        .filter(refresh_tokens::Column::FamilyId.eq(family))
        .filter(refresh_tokens::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// The family a refresh token belongs to, if the token exists.
pub async fn family_of<C: ConnectionTrait>(db: &C, token: &str) -> AppResult<Option<refresh_tokens::Model>> {
    Ok(refresh_tokens::Entity::find()
        .filter(refresh_tokens::Column::TokenHash.eq(hash_token(token)))
        .one(db)
        .await?)
}

/// Revokes every refresh token of a user (password or role change, account deletion).
pub async fn revoke_all_for_user<C: crate::db::Writes>(
    db: &C,
    user_id: i64,
    now: DateTime<Utc>,
) -> AppResult<()> {
    refresh_tokens::Entity::update_many()
        .col_expr(refresh_tokens::Column::RevokedAt, Expr::val(now))
        .col_expr(refresh_tokens::Column::UpdatedAt, Expr::val(now))
        .filter(refresh_tokens::Column::UserId.eq(user_id))
        .filter(refresh_tokens::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// Refuses an access token until it would have expired anyway.
pub async fn revoke_access_token<C: crate::db::Writes>(
    db: &C,
    claims: &Claims,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let row = revoked_access_tokens::ActiveModel {
        jti: Set(claims.jti.clone()),
        expires_at: Set(claims.expires_at()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    revoked_access_tokens::Entity::insert(row)
        .on_conflict(OnConflict::column(revoked_access_tokens::Column::Jti).do_nothing().to_owned())
        .exec_without_returning(db)
        .await?;
    Ok(())
}

pub async fn is_revoked<C: ConnectionTrait>(db: &C, jti: &str) -> AppResult<bool> {
    Ok(revoked_access_tokens::Entity::find()
        .filter(revoked_access_tokens::Column::Jti.eq(jti))
        .one(db)
        .await?
        .is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> users::Model {
        users::Model {
            id: 7,
            email: "a@b.co".into(),
            password_hash: String::new(),
            full_name: "A".into(),
            phone: None,
            role: "customer".into(),
            email_verified: false,
            is_active: true,
            token_version: 3,
            deleted_at: None,
            last_login_at: None,
            locale: "en".into(),
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    #[test]
    fn a_token_verifies_until_it_expires() {
        let keys = JwtKeys::new(b"secret-one");
        let now = Utc::now();
        let (token, claims) = keys.issue(&user(), Role::Customer, now).unwrap();
        assert_eq!(claims.ver, 3);
        let back = keys.verify(&token, now + Duration::minutes(14)).unwrap();
        assert_eq!(back.sub, "7");
        assert!(matches!(keys.verify(&token, now + Duration::minutes(15)), Err(AppError::InvalidToken)));
    }

    #[test]
    fn another_secret_or_a_tampered_token_is_refused() {
        let now = Utc::now();
        let (token, _) = JwtKeys::new(b"secret-one").issue(&user(), Role::Customer, now).unwrap();
        assert!(JwtKeys::new(b"secret-two").verify(&token, now).is_err());
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        let mut payload: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&parts[1]).unwrap()).unwrap();
        payload["role"] = "admin".into();
        parts[1] = URL_SAFE_NO_PAD.encode(payload.to_string());
        assert!(JwtKeys::new(b"secret-one").verify(&parts.join("."), now).is_err());
    }

    #[test]
    fn alg_none_is_refused() {
        let now = Utc::now();
        let keys = JwtKeys::new(b"secret-one");
        let (token, _) = keys.issue(&user(), Role::Customer, now).unwrap();
        let payload = token.split('.').nth(1).unwrap();
        let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
        assert!(keys.verify(&format!("{header}.{payload}."), now).is_err());
    }

    #[test]
    fn tokens_are_hashed_stably() {
        assert_eq!(hash_token("abc"), hash_token("abc"));
        assert_ne!(hash_token("abc"), hash_token("abd"));
        assert_eq!(random_token(32).len(), 43);
    }
}
