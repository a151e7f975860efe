//! Input rules for accounts: email shape and length, names, phones, and the password policy
//! (length, not the email, not among the most common passwords).

use crate::error::ErrorItem;

pub const PASSWORD_MIN: usize = 10;
pub const PASSWORD_MAX: usize = 128;

/// Most common passwords of public breach lists, lower-cased; matched case-insensitively.
const COMMON: &[&str] = &[
    "123456",
    "123456789",
    "12345678",
    "password",
    "qwerty123",
    "qwerty1",
    "111111",
    "12345",
    "secret",
    "123123",
    "1234567890",
    "1234567",
    "000000",
    "qwerty",
    "abc123",
    "password1",
    "iloveyou",
    "11111111",
    "dragon",
    "monkey",
    "123123123",
    "123321",
    "qwertyuiop",
    "00000000",
    "password123",
    "1q2w3e4r",
    "1q2w3e4r5t",
    "1qaz2wsx",
    "zaq12wsx",
    "letmein",
    "welcome",
    "welcome1",
    "admin",
    "admin123",
    "administrator",
    "passw0rd",
    "p@ssw0rd",
    "p@ssword",
    "football",
    "baseball",
    "sunshine",
    "princess",
    "master",
    "shadow",
    "superman",
    "trustno1",
    "starwars",
    "whatever",
    "michael",
    "jennifer",
    "hunter2",
    "asdfghjkl",
    "asdfgh",
    "zxcvbnm",
    "zxcvbnm123",
    "qazwsx",
    "654321",
    "987654321",
    "9876543210",
    "666666",
    "888888",
    "121212",
    "112233",
    "159753",
    "147258369",
    "1234qwer",
    "q1w2e3r4",
    "q1w2e3r4t5",
    "changeme",
    "default",
    "guest",
    "login",
    "access",
    "charlie",
    "donald",
    "freedom",
    "ginger",
    "hello123",
    "internet",
    "jordan23",
    "killer",
    "liverpool",
    "matrix",
    "mustang",
    "pokemon",
    "ranger",
    "soccer",
    "summer",
    "thomas",
    "tigger",
    "batman",
    "computer",
    "corvette",
    "cookie",
    "flower",
    "google",
    "hottie",
    "loveme",
    "maggie",
    "michelle",
    "pepper",
    "samsung",
    "silver",
    "snoopy",
    "passwordpassword",
    "password12",
    "password1234",
    "qwertyuiop123",
    "iloveyou123",
    "abcdefgh",
    "abcd1234",
    "abc12345",
    "a1b2c3d4",
    "aa123456",
    "anhyeuem",
    "matkhau",
    "matkhau123",
    "123456a",
    "123456aa",
    "1234567a",
    "12345678a",
    "curtain123",
    "theater123",
    "theatre123",
];

/// The domain of anonymized addresses of deleted accounts (`.invalid` is reserved by RFC 2606
/// and can never receive mail).
pub const DELETED_DOMAIN: &str = "deleted.invalid";

pub fn email(value: &str) -> Option<ErrorItem> {
    if value.len() > 254 {
        return Some(ErrorItem::field("email", "must be at most 254 characters"));
    }
    let valid = value.parse::<email_address::EmailAddress>().is_ok()
        && value.split_once('@').is_some_and(|(_, domain)| domain.contains('.'));
    if !valid {
        return Some(ErrorItem::field("email", "is not a valid email address"));
    }
    reserved_domain(value)
        .then(|| ErrorItem::field("email", "uses a reserved domain that cannot receive mail"))
}

/// Whether `email` is at a domain no person can own: the `.invalid` top-level domain, where
/// deleted accounts' addresses live. Nobody may register there, so deleting an account never
/// collides with someone else's address.
pub fn reserved_domain(email: &str) -> bool {
    email.rsplit_once('@').is_some_and(|(_, domain)| {
        let domain = domain.trim_end_matches('.').to_ascii_lowercase();
        domain == "invalid" || domain.ends_with(".invalid")
    })
}

pub fn full_name(value: &str) -> Option<ErrorItem> {
    let len = value.trim().chars().count();
    if len == 0 {
        Some(ErrorItem::field("full_name", "is required"))
    } else if len > 150 {
        Some(ErrorItem::field("full_name", "must be at most 150 characters"))
    } else {
        None
    }
}

pub fn phone(value: &str) -> Option<ErrorItem> {
    let ok = value.chars().count() <= 30
        && value.chars().filter(char::is_ascii_digit).count() >= 6
        && value.chars().all(|c| c.is_ascii_digit() || matches!(c, '+' | ' ' | '-' | '(' | ')' | '.'));
    (!ok).then(|| {
        ErrorItem::field("phone", "must be a phone number (digits, spaces, + - ( ) .), at most 30 characters")
    })
}

/// Why `password` is not acceptable for the account `email`, if it is not; `field` names the
/// request field (`password` or `new_password`).
pub fn password(field: &str, password: &str, email: &str) -> Option<ErrorItem> {
    let len = password.chars().count();
    if len < PASSWORD_MIN {
        return Some(ErrorItem::field(field, format!("must be at least {PASSWORD_MIN} characters")));
    }
    if len > PASSWORD_MAX {
        return Some(ErrorItem::field(field, format!("must be at most {PASSWORD_MAX} characters")));
    }
    let lower = password.to_lowercase();
    let email = email.trim().to_lowercase();
    let local = email.split('@').next().unwrap_or_default();
    if lower == email || (local.len() >= 4 && lower.contains(local)) {
        return Some(ErrorItem::field(field, "must not contain your email address"));
    }
    if COMMON.contains(&lower.as_str()) || lower.chars().all(|c| lower.starts_with(c)) {
        return Some(ErrorItem::field(field, "is too common; choose a less guessable password"));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_follow_the_policy() {
        assert!(password("password", "short", "a@b.co").is_some());
        assert!(password("password", &"x".repeat(129), "a@b.co").is_some());
        assert!(password("password", "Password123", "a@b.co").is_some(), "common");
        assert!(password("password", "aaaaaaaaaaaa", "a@b.co").is_some(), "one repeated character");
        assert!(
            password("password", "lan.nguyen-2026", "lan.nguyen@example.com").is_some(),
            "contains the email"
        );
        let ok = password("new_password", "violet-harbour-41", "lan@example.com");
        assert!(ok.is_none(), "{ok:?}");
        assert_eq!(
            password("new_password", "short", "a@b.co").unwrap().field.as_deref(),
            Some("new_password")
        );
    }

    #[test]
    fn emails_names_and_phones_are_checked() {
        assert!(email("lan@example.com").is_none());
        assert!(email("lan@example").is_some());
        assert!(email("not an email").is_some());
        assert!(email(&format!("{}@example.com", "a".repeat(250))).is_some());
        assert!(email("deleted-42@deleted.invalid").is_some(), "reserved for deleted accounts");
        assert!(email("x@Something.INVALID").is_some());
        assert!(email("lan@invalid.example.com").is_none());
        assert!(full_name("  ").is_some());
        assert!(full_name(&"n".repeat(151)).is_some());
        assert!(phone("+84 90 123 4567").is_none());
        assert!(phone("call me").is_some());
    }
}
