//! Slugs for venues and events: generated from a name (Vietnamese folded to ASCII), or given by
//! staff and then checked.

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use crate::{demo::slugify, error::AppResult};

pub const MAX_LEN: usize = 100;

/// Whether `slug` is lower-case ASCII letters, digits and single inner dashes.
pub fn is_valid(slug: &str) -> bool {
    !slug.is_empty()
        && slug.len() <= MAX_LEN
        && slug.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !slug.starts_with('-')
        && !slug.ends_with('-')
        && !slug.contains("--")
}

/// The slug of `text`, or `fallback` when nothing sluggable is left, cut to fit.
pub fn base(text: &str, fallback: &str) -> String {
    let mut slug = slugify(text);
    if slug.is_empty() {
        slug = fallback.to_owned();
    }
    // Leave room for a `-NNN` suffix.
    slug.truncate(MAX_LEN - 8);
    slug.trim_end_matches('-').to_owned()
}

/// `base` itself when no row of `E` uses it in `column`, else the first free `base-2`, `base-3`….
pub async fn free<E, C>(db: &impl ConnectionTrait, column: C, base: &str) -> AppResult<String>
where
    E: EntityTrait,
    C: ColumnTrait,
{
    let taken: Vec<String> =
        E::find().select_only().column(column).filter(column.starts_with(base)).into_tuple().all(db).await?;
    if !taken.iter().any(|s| s == base) {
        return Ok(base.to_owned());
    }
    let mut n = 2u64;
    loop {
        let candidate = format!("{base}-{n}");
        if !taken.contains(&candidate) {
            return Ok(candidate);
        }
        n += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_checked_and_generated() {
        assert!(is_valid("nha-hat-lon-2"));
        assert!(!is_valid("Nha-Hat"));
        assert!(!is_valid("-x"));
        assert!(!is_valid("a--b"));
        assert!(!is_valid(""));
        assert_eq!(base("Nhà hát Lớn Hà Nội", "venue"), "nha-hat-lon-ha-noi");
        assert_eq!(base("!!!", "venue"), "venue");
        assert!(base(&"x".repeat(300), "venue").len() <= MAX_LEN - 8);
    }
}
