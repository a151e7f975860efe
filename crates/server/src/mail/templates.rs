//! Email templates (HTML and plain text, English and Vietnamese), compiled into the binary and
//! rendered with minijinja (HTML parts autoescaped).

use std::sync::OnceLock;

use minijinja::{AutoEscape, Environment, Value, context};

use super::Email;

/// What an email is about; each has a subject and both parts in every language.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Template {
    Welcome,
    PasswordReset,
    BookingConfirmed,
    BookingCancelled,
    Refund,
    Reminder,
    /// A performance the buyer holds tickets for moved in time or place.
    EventChanged,
}

impl Template {
    pub const ALL: [Self; 7] = [
        Self::Welcome,
        Self::PasswordReset,
        Self::BookingConfirmed,
        Self::BookingCancelled,
        Self::Refund,
        Self::Reminder,
        Self::EventChanged,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::Welcome => "welcome",
            Self::PasswordReset => "password_reset",
            Self::BookingConfirmed => "booking_confirmed",
            Self::BookingCancelled => "booking_cancelled",
            Self::Refund => "refund",
            Self::Reminder => "reminder",
            Self::EventChanged => "event_changed",
        }
    }

    fn subject(self, locale: Locale) -> &'static str {
        match (self, locale) {
            (Self::Welcome, Locale::En) => "Welcome to Curtain — please confirm your email",
            (Self::Welcome, Locale::Vi) => "Chào mừng đến với Curtain — vui lòng xác nhận email",
            (Self::PasswordReset, Locale::En) => "Reset your Curtain password",
            (Self::PasswordReset, Locale::Vi) => "Đặt lại mật khẩu Curtain",
            (Self::BookingConfirmed, Locale::En) => "Your tickets for {{ event_title }} ({{ reference }})",
            (Self::BookingConfirmed, Locale::Vi) => "Vé của bạn cho {{ event_title }} ({{ reference }})",
            (Self::BookingCancelled, Locale::En) => "Booking {{ reference }} cancelled",
            (Self::BookingCancelled, Locale::Vi) => "Đặt chỗ {{ reference }} đã bị hủy",
            (Self::Refund, Locale::En) => "Refund for booking {{ reference }}",
            (Self::Refund, Locale::Vi) => "Hoàn tiền cho đặt chỗ {{ reference }}",
            (Self::Reminder, Locale::En) => "Tomorrow: {{ event_title }}",
            (Self::Reminder, Locale::Vi) => "Ngày mai: {{ event_title }}",
            (Self::EventChanged, Locale::En) => "{{ event_title }} has changed (booking {{ reference }})",
            (Self::EventChanged, Locale::Vi) => "{{ event_title }} có thay đổi (đặt chỗ {{ reference }})",
        }
    }
}

#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Locale {
    #[default]
    En,
    Vi,
}

impl Locale {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::Vi => "vi",
        }
    }

    /// A stored locale; anything unknown reads as English.
    pub fn parse(value: &str) -> Self {
        if value == "vi" { Self::Vi } else { Self::En }
    }
}

macro_rules! mail_templates {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../../templates/mail/", $name)))),*]
    };
}

const SOURCES: &[(&str, &str)] = mail_templates![
    "base.html",
    "seats.html",
    "welcome.en.txt",
    "welcome.en.html",
    "welcome.vi.txt",
    "welcome.vi.html",
    "password_reset.en.txt",
    "password_reset.en.html",
    "password_reset.vi.txt",
    "password_reset.vi.html",
    "booking_confirmed.en.txt",
    "booking_confirmed.en.html",
    "booking_confirmed.vi.txt",
    "booking_confirmed.vi.html",
    "booking_cancelled.en.txt",
    "booking_cancelled.en.html",
    "booking_cancelled.vi.txt",
    "booking_cancelled.vi.html",
    "refund.en.txt",
    "refund.en.html",
    "refund.vi.txt",
    "refund.vi.html",
    "reminder.en.txt",
    "reminder.en.html",
    "reminder.vi.txt",
    "reminder.vi.html",
    "event_changed.en.txt",
    "event_changed.en.html",
    "event_changed.vi.txt",
    "event_changed.vi.html",
];

fn environment() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        env.set_auto_escape_callback(|name| {
            if name.ends_with(".html") { AutoEscape::Html } else { AutoEscape::None }
        });
        for (name, source) in SOURCES {
            // The sources are compiled in and covered by tests; a broken one is a build defect.
            if let Err(err) = env.add_template(name, source) {
                tracing::error!(template = name, error = %err, "mail template does not parse");
            }
        }
        env
    })
}

/// Renders `template` for `to` in `locale` with `data` (an object of the template's fields).
pub fn render(
    template: Template,
    locale: Locale,
    to: &str,
    data: &serde_json::Value,
) -> anyhow::Result<Email> {
    let env = environment();
    let data = Value::from(minijinja::value::Serde(data));
    let subject_ctx = context! { locale => locale.as_str(), ..data.clone() };
    let subject = env.render_str(template.subject(locale), &subject_ctx)?;
    let ctx = context! { locale => locale.as_str(), subject => subject.clone(), ..data };
    let name = template.name();
    let text = env.get_template(&format!("{name}.{}.txt", locale.as_str()))?.render(&ctx)?;
    let html = env.get_template(&format!("{name}.{}.html", locale.as_str()))?.render(&ctx)?;
    Ok(Email { to: to.to_owned(), subject, text, html, attachments: Vec::new() })
}

/// Money for people: `1.650.000 ₫` in Vietnamese, `1,650,000 VND` in English.
pub fn money(amount: i64, locale: Locale) -> String {
    let digits = amount.unsigned_abs().to_string();
    let sep = if locale == Locale::Vi { '.' } else { ',' };
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(sep);
        }
        out.push(c);
    }
    let sign = if amount < 0 { "-" } else { "" };
    match locale {
        Locale::Vi => format!("{sign}{out} ₫"),
        Locale::En => format!("{sign}{out} VND"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> serde_json::Value {
        json!({
            "name": "Lan <b>", "link": "https://t.example/x?token=abc", "hours": 48, "minutes": 60,
            "reference": "CUR-7K3Q9X", "event_title": "Tấm Cám", "venue_name": "Sen Vàng",
            "venue_address": "12 Đồng Khởi", "starts": "19:30 27/11/2026",
            "seats": [{"section": "Orchestra", "row": "A", "number": 5, "price": "550,000 VND"}],
            "total": "550,000 VND", "refund": "550,000 VND", "amount": "550,000 VND", "reason": "illness",
            "previous_starts": "19:30 26/11/2026", "previous_venue": "Nhà hát Lớn",
        })
    }

    #[test]
    fn every_template_renders_in_both_languages_with_both_parts() {
        for template in Template::ALL {
            for locale in [Locale::En, Locale::Vi] {
                let email = render(template, locale, "lan@example.com", &sample()).unwrap();
                assert!(
                    !email.subject.is_empty() && !email.subject.contains("{{"),
                    "{template:?} {locale:?}"
                );
                assert!(email.text.contains("Lan <b>"), "plain text is not escaped: {template:?} {locale:?}");
                assert!(email.html.contains("Lan &lt;b&gt;"), "HTML is escaped: {template:?} {locale:?}");
                assert!(email.html.contains(&format!("lang=\"{}\"", locale.as_str())));
            }
        }
        let vi = render(Template::BookingConfirmed, Locale::Vi, "a@b.co", &sample()).unwrap();
        assert_eq!(vi.subject, "Vé của bạn cho Tấm Cám (CUR-7K3Q9X)");
        assert!(vi.text.contains("hàng A, ghế 5"));
        let moved = render(Template::EventChanged, Locale::Vi, "a@b.co", &sample()).unwrap();
        assert_eq!(moved.subject, "Tấm Cám có thay đổi (đặt chỗ CUR-7K3Q9X)");
        assert!(moved.text.contains("Thời gian mới: 19:30 27/11/2026 (trước đây là 19:30 26/11/2026)"));
        let moved = render(Template::EventChanged, Locale::En, "a@b.co", &sample()).unwrap();
        assert!(
            moved.text.contains("New place: Sen Vàng, 12 Đồng Khởi (it was Nhà hát Lớn)"),
            "{}",
            moved.text
        );
    }

    #[test]
    fn money_reads_naturally() {
        assert_eq!(money(1_650_000, Locale::En), "1,650,000 VND");
        assert_eq!(money(1_650_000, Locale::Vi), "1.650.000 ₫");
        assert_eq!(money(500, Locale::En), "500 VND");
    }
}
