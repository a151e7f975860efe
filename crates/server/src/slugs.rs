//! Slugs for venues and events: generated from a name (Vietnamese folded to ASCII), or given by
//! staff and then checked.

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use crate::error::AppResult;

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

/// ASCII slug: Vietnamese letters lose their marks (đ → d), everything else becomes dashes.
pub fn slugify(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars().flat_map(fold_vietnamese) {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_owned()
}

fn fold_vietnamese(c: char) -> Option<char> {
    const GROUPS: &[(&str, char)] = &[
        ("àáảãạăằắẳẵặâầấẩẫậ", 'a'),
        ("ÀÁẢÃẠĂẰẮẲẴẶÂẦẤẨẪẬ", 'A'),
        ("èéẻẽẹêềếểễệ", 'e'),
        ("ÈÉẺẼẸÊỀẾỂỄỆ", 'E'),
        ("ìíỉĩị", 'i'),
        ("ÌÍỈĨỊ", 'I'),
        ("òóỏõọôồốổỗộơờớởỡợ", 'o'),
        ("ÒÓỎÕỌÔỒỐỔỖỘƠỜỚỞỠỢ", 'O'),
        ("ùúủũụưừứửữự", 'u'),
        ("ÙÚỦŨỤƯỪỨỬỮỰ", 'U'),
        ("ỳýỷỹỵ", 'y'),
        ("ỲÝỶỸỴ", 'Y'),
        ("đ", 'd'),
        ("Đ", 'D'),
    ];
    if c.is_ascii() {
        return Some(c);
    }
    Some(GROUPS.iter().find(|(set, _)| set.contains(c)).map_or(' ', |(_, base)| *base))
}

/// Vietnamese (and any other) text as plain ASCII: marks dropped (`đ` → `d`), other non-ASCII
/// characters as spaces. For places that accept ASCII only, such as VNPAY's order info.
pub fn ascii_fold(text: &str) -> String {
    text.chars().filter_map(fold_vietnamese).collect()
}

#[cfg(test)]
mod fold_tests {
    use super::*;

    #[test]
    fn slugs_fold_vietnamese() {
        assert_eq!(slugify("Hồn Trương Ba, Da Hàng Thịt"), "hon-truong-ba-da-hang-thit");
        assert_eq!(slugify("Tấm Cám — A Folk Musical"), "tam-cam-a-folk-musical");
        assert_eq!(slugify("Đêm nhạc"), "dem-nhac");
    }

    #[test]
    fn text_folds_to_ascii() {
        assert_eq!(ascii_fold("Thanh toán vé Hồn Trương Ba"), "Thanh toan ve Hon Truong Ba");
        assert!(ascii_fold("Đêm nhạc ♫").is_ascii());
    }
}
