//! Demo data: a named theater with three sections, categories, tags, a week of published
//! evening performances on sale from now, and demo staff, admin and buyer accounts.

use crate::db::Writer;
use anyhow::Context;
use chrono::{DateTime, Duration, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use entity::{categories, event_section_prices, event_tags, events, sections, tags, users, venues};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait,
    QueryFilter, Statement,
};
use serde_json::json;

use crate::{
    accounts::{roles::Role, service::upsert_with_role, tokens::random_token},
    clock::Clock,
    config::{Config, DemoMode},
    events::{publish::publish, service::search_text},
    slugs::slugify,
    venues::{
        layout::{LayoutSpec, Numbering, Point},
        service::{insert_seats, refresh_capacity},
    },
};

pub const VENUE_SLUG: &str = "golden-lotus-theatre";
const TIME_ZONE: Tz = chrono_tz::Asia::Ho_Chi_Minh;

/// One demo account and the password it was given at seeding.
pub struct DemoAccount {
    pub role: Role,
    pub email: &'static str,
    /// Random, generated at seeding; only its hash is stored.
    pub password: String,
}

/// The demo accounts with their fresh passwords, printed once at seeding so a newcomer can sign
/// in. Never hard-coded: a published password would open every demo that reaches a network.
pub struct DemoLogin {
    pub accounts: Vec<DemoAccount>,
}

/// The demo accounts: (role, email, full name).
const ACCOUNTS: [(Role, &str, &str); 3] = [
    (Role::Admin, "admin@curtain.test", "Demo Admin"),
    (Role::Staff, "staff@curtain.test", "Demo Staff"),
    (Role::Customer, "buyer@curtain.test", "Nguyễn Văn An"),
];

impl DemoLogin {
    /// The password of the demo account with `role`.
    pub fn password(&self, role: Role) -> Option<&str> {
        self.accounts.iter().find(|a| a.role == role).map(|a| a.password.as_str())
    }

    pub fn print(&self) {
        self.print_under(
            "Demo data loaded. Sign in with these demo accounts (passwords generated just now, shown only this once):",
        );
    }

    /// Printed when demo accounts of an earlier version lost their published passwords.
    pub fn print_replaced(&self) {
        self.print_under(
            "These demo accounts still had the passwords earlier versions published; they now have new ones \
             (shown only this once):",
        );
    }

    fn print_under(&self, heading: &str) {
        println!("{heading}");
        for account in &self.accounts {
            let role = match account.role {
                Role::Customer => "buyer",
                other => other.as_str(),
            };
            println!("  {role:<6} {:<20} {}", account.email, account.password);
        }
    }
}

/// Whether start-up loads the demo (SPEC §2). `on` always; `auto` only into an embedded (SQLite)
/// database that has no users at all — not one an operator already ran `create-admin` on — and
/// only while no VNPAY setting is configured (real payments mean a real deployment). Asked
/// before migrating, so a missing `users` table counts as no users.
pub async fn wanted(config: &Config, db: &Writer) -> anyhow::Result<bool> {
    Ok(match config.demo {
        DemoMode::Off => false,
        DemoMode::On => true,
        DemoMode::Auto => {
            let vnpay = &config.vnpay;
            let payments_configured = vnpay.tmn_code.is_some()
                || vnpay.hash_secret.is_some()
                || vnpay.payment_url.is_some()
                || vnpay.api_url.is_some();
            db.get_database_backend() == DbBackend::Sqlite && !payments_configured && !has_users(db).await?
        }
    })
}

async fn has_users(db: &impl ConnectionTrait) -> anyhow::Result<bool> {
    let table = db
        .query_one_raw(Statement::from_string(
            DbBackend::Sqlite,
            "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'users'",
        ))
        .await?
        .map(|row| row.try_get::<i64>("", "n"))
        .transpose()?
        .unwrap_or(0);
    if table == 0 {
        return Ok(false);
    }
    Ok(users::Entity::find().count(db).await? > 0)
}

/// The first lines of the console when the demo is on: nobody should run it for real by mistake.
pub fn announce(mode: DemoMode) {
    let why = match mode {
        DemoMode::On => "CURTAIN_DEMO=on",
        _ => "CURTAIN_DEMO=auto and an empty embedded database",
    };
    println!("*** Curtain DEMO MODE ({why}): demo theater, performances and accounts @curtain.test. ***");
    println!(
        "*** Not for real sales: set CURTAIN_DEMO=off and create your own admin with `curtain create-admin`. ***"
    );
}

struct Show {
    title: &'static str,
    description: &'static str,
    category: &'static str,
    tags: &'static [&'static str],
    featured: bool,
    /// Orchestra, Mezzanine, Balcony, in VND.
    prices: [i64; 3],
}

const CATEGORIES: &[(&str, &str)] = &[
    ("Drama", "drama"),
    ("Musical", "musical"),
    ("Opera", "opera"),
    ("Ballet", "ballet"),
    ("Comedy", "comedy"),
    ("Concert", "concert"),
];

const TAGS: &[(&str, &str)] = &[
    ("Family", "family"),
    ("Vietnamese", "vietnamese"),
    ("Classic", "classic"),
    ("Premiere", "premiere"),
    ("English subtitles", "english-subtitles"),
];

const SHOWS: &[Show] = &[
    Show {
        title: "Hồn Trương Ba, Da Hàng Thịt",
        description: "Lưu Quang Vũ's beloved fable of a gardener's soul trapped in a butcher's body — a question of who we are when we cannot be ourselves.",
        category: "drama",
        tags: &["vietnamese", "classic", "english-subtitles"],
        featured: true,
        prices: [550_000, 400_000, 250_000],
    },
    Show {
        title: "The Nutcracker",
        description: "Tchaikovsky's Christmas ballet with the Golden Lotus Youth Ballet and a live orchestra.",
        category: "ballet",
        tags: &["family", "classic"],
        featured: true,
        prices: [750_000, 550_000, 300_000],
    },
    Show {
        title: "Tấm Cám — A Folk Musical",
        description: "The Vietnamese Cinderella retold with đàn bầu, drums and a chorus of thirty. World premiere.",
        category: "musical",
        tags: &["family", "vietnamese", "premiere"],
        featured: false,
        prices: [600_000, 450_000, 250_000],
    },
    Show {
        title: "La Traviata",
        description: "Verdi's opera of love and sacrifice in a new staging, sung in Italian with Vietnamese and English surtitles.",
        category: "opera",
        tags: &["classic", "english-subtitles"],
        featured: false,
        prices: [900_000, 650_000, 350_000],
    },
    Show {
        title: "Romeo and Juliet",
        description: "Shakespeare's tragedy performed by the Saigon Repertory Company.",
        category: "drama",
        tags: &["classic", "english-subtitles"],
        featured: false,
        prices: [500_000, 380_000, 220_000],
    },
    Show {
        title: "Tiếu Lâm Night: Vietnamese Comedy",
        description: "Stand-up and sketch comedy from five of Saigon's funniest voices. In Vietnamese.",
        category: "comedy",
        tags: &["vietnamese"],
        featured: false,
        prices: [400_000, 300_000, 180_000],
    },
    Show {
        title: "Saigon Philharmonic: Beethoven Nine",
        description: "The Ninth Symphony with a massed choir, closing the season.",
        category: "concert",
        tags: &["classic"],
        featured: false,
        prices: [800_000, 600_000, 320_000],
    },
];

/// The passwords versions before 0.1 gave the demo accounts, published in their README.
const PUBLISHED: [(&str, &str); 3] = [
    ("admin@curtain.test", "curtain-admin-demo"),
    ("staff@curtain.test", "curtain-staff-demo"),
    ("buyer@curtain.test", "curtain-buyer-demo"),
];

/// Demo accounts seeded by earlier versions still open with the passwords their README
/// published. Each one that does gets a fresh random password (returned to be printed once) and
/// loses its sessions; an account whose owner changed the password is left alone.
pub async fn retire_published_passwords(db: &Writer, clock: &dyn Clock) -> anyhow::Result<Option<DemoLogin>> {
    let mut accounts = Vec::new();
    for ((role, email, name), (_, published)) in ACCOUNTS.into_iter().zip(PUBLISHED) {
        let Some(user) = users::Entity::find().filter(users::Column::Email.eq(email)).one(db).await? else {
            continue;
        };
        if !crate::accounts::password::verify(published.to_owned(), user.password_hash.clone()).await? {
            continue;
        }
        let role = user.role.parse().unwrap_or(role);
        let password = random_token(12);
        upsert_with_role(db, clock, email, &password, role, name).await?;
        accounts.push(DemoAccount { role, email, password });
    }
    Ok((!accounts.is_empty()).then_some(DemoLogin { accounts }))
}

/// Loads the demo data unless the demo theater exists already. Returns the demo logins, with
/// their freshly generated passwords, when it loaded something. Everything is written in one transaction: all or nothing.
pub async fn seed(db: &Writer, clock: &dyn Clock) -> anyhow::Result<Option<DemoLogin>> {
    let now = clock.now();
    if venues::Entity::find().filter(venues::Column::Slug.eq(VENUE_SLUG)).one(db).await?.is_some() {
        return Ok(None);
    }
    let mut accounts = Vec::with_capacity(ACCOUNTS.len());
    for (role, email, name) in ACCOUNTS {
        let password = random_token(12);
        upsert_with_role(db, clock, email, &password, role, name).await?;
        accounts.push(DemoAccount { role, email, password });
    }

    let txn = db.begin().await?;
    let exists = venues::Entity::find().filter(venues::Column::Slug.eq(VENUE_SLUG)).one(&txn).await?;
    if exists.is_some() {
        txn.rollback().await?;
        return Ok(None);
    }
    let venue = venues::ActiveModel {
        name: Set("Nhà hát Sen Vàng — Golden Lotus Theatre".into()),
        slug: Set(VENUE_SLUG.into()),
        address: Set("12 Đồng Khởi, Bến Nghé, Quận 1".into()),
        city: Set("Ho Chi Minh City".into()),
        time_zone: Set(TIME_ZONE.name().into()),
        capacity: Set(0),
        description: Set("A 1920s playhouse restored in 2019: a curved orchestra, a mezzanine and a steep balcony with a clear view of the stage.".into()),
        amenities: Set(json!(["wheelchair_access", "hearing_loop", "bar", "cloakroom", "parking"])),
        is_active: Set(true),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;

    let layouts = [
        (
            "Orchestra",
            "#c0392b",
            LayoutSpec {
                rows: Some(12),
                seats_per_row: Some(20),
                aisles_after: Some(vec![5, 15]),
                curve_degrees: Some(20.0),
                origin: Some(Point { x: 0.0, y: 100.0 }),
                ..Default::default()
            },
        ),
        (
            "Mezzanine",
            "#2980b9",
            LayoutSpec {
                row_lengths: Some(vec![22, 22, 24, 24, 26]),
                numbering: Some(Numbering::OddEven),
                curve_degrees: Some(30.0),
                origin: Some(Point { x: -15.0, y: 600.0 }),
                ..Default::default()
            },
        ),
        (
            "Balcony",
            "#27ae60",
            LayoutSpec {
                rows: Some(4),
                seats_per_row: Some(26),
                curve_degrees: Some(35.0),
                origin: Some(Point { x: -15.0, y: 850.0 }),
                ..Default::default()
            },
        ),
    ];
    let mut section_ids = Vec::new();
    for (order, (name, color, layout)) in layouts.into_iter().enumerate() {
        let section = sections::ActiveModel {
            venue_id: Set(venue.id),
            name: Set(name.into()),
            display_order: Set(order as i32),
            color: Set(color.into()),
            is_active: Set(true),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        let generated = layout.generate().map_err(|e| anyhow::anyhow!("demo layout {name}: {e:?}"))?;
        let last_row = generated.iter().map(|s| s.row_index).max().unwrap_or(0);
        let kind = |s: &crate::venues::layout::GeneratedSeat| match name {
            // Wheelchair places with a companion seat beside each pair, at both ends of the back row.
            "Orchestra" if s.row_index == last_row && matches!(s.number, 1 | 2 | 19 | 20) => "wheelchair",
            "Orchestra" if s.row_index == last_row && matches!(s.number, 3 | 18) => "companion",
            // The balcony's end seats look past a pillar.
            "Balcony" if matches!(s.number, 1 | 26) => "restricted_view",
            _ => "standard",
        };
        insert_seats(&txn, section.id, &generated, kind, now).await?;
        section_ids.push(section.id);
    }
    refresh_capacity(&txn, venue.id, now).await?;

    let mut category_ids = std::collections::HashMap::new();
    for (name, slug) in CATEGORIES {
        let id = categories::ActiveModel {
            name: Set((*name).into()),
            slug: Set((*slug).into()),
            is_active: Set(true),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?
        .id;
        category_ids.insert(*slug, id);
    }
    let mut tag_ids = std::collections::HashMap::new();
    for (name, slug) in TAGS {
        let id = tags::ActiveModel {
            name: Set((*name).into()),
            slug: Set((*slug).into()),
            is_active: Set(true),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?
        .id;
        tag_ids.insert(*slug, id);
    }

    let first = first_evening(now);
    for (day, show) in SHOWS.iter().enumerate() {
        let start = first + Duration::days(day as i64);
        let slug = format!("{}-{}", slugify(show.title), start.with_timezone(&TIME_ZONE).format("%Y-%m-%d"));
        let event = events::ActiveModel {
            venue_id: Set(venue.id),
            category_id: Set(category_ids.get(show.category).copied()),
            title: Set(show.title.into()),
            slug: Set(slug),
            description: Set(show.description.into()),
            search_text: Set(search_text(show.title, show.description)),
            start_time: Set(start),
            end_time: Set(start + Duration::minutes(150)),
            status: Set("draft".into()),
            is_featured: Set(show.featured),
            sales_start: Set(Some(now)),
            sales_end: Set(Some(start)),
            seats_version: Set(0),
            is_active: Set(true),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        for (section_id, price) in section_ids.iter().zip(show.prices) {
            event_section_prices::ActiveModel {
                event_id: Set(event.id),
                section_id: Set(*section_id),
                price: Set(price),
                currency: Set("VND".into()),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
        }
        for tag in show.tags {
            let tag_id = *tag_ids.get(tag).context("demo tag missing")?;
            event_tags::ActiveModel {
                event_id: Set(event.id),
                tag_id: Set(tag_id),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
        }
        publish(&txn, event, now).await.map_err(|e| anyhow::anyhow!("publishing demo event: {e:?}"))?;
    }
    txn.commit().await?;
    Ok(Some(DemoLogin { accounts }))
}

/// 19:30 in the theater's time zone on the first day after `now` that is at least 25 hours away.
pub fn first_evening(now: DateTime<Utc>) -> DateTime<Utc> {
    let local_today = now.with_timezone(&TIME_ZONE).date_naive();
    let curtain_up = NaiveTime::from_hms_opt(19, 30, 0).unwrap_or_default();
    (1..=3)
        .filter_map(|days| {
            let date = local_today + Duration::days(days);
            TIME_ZONE.from_local_datetime(&date.and_time(curtain_up)).single()
        })
        .map(|t| t.with_timezone(&Utc))
        .find(|t| *t - now >= Duration::hours(25))
        .unwrap_or(now + Duration::hours(48))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_show_is_an_evening_at_least_25_hours_away() {
        for hour in [0, 6, 12, 13, 18, 23] {
            let now = Utc.with_ymd_and_hms(2026, 11, 25, hour, 17, 0).unwrap();
            let first = first_evening(now);
            assert!(first - now >= Duration::hours(25), "{now} → {first}");
            assert!(first - now < Duration::hours(25 + 24), "{now} → {first}");
            assert_eq!(first.with_timezone(&TIME_ZONE).format("%H:%M").to_string(), "19:30");
        }
    }
}
