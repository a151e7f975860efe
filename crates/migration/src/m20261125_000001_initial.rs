//! The initial schema of Curtain: every table, constraint and index.
//!
//! Runs unchanged on SQLite (3.35+) and PostgreSQL 15. All constraints are part of
//! `CREATE TABLE` because SQLite cannot add them later. Unique constraints are unique
//! indexes named as the server expects; checks are named `<table>_<column>_check` on both
//! databases (SQLite reports that name in "CHECK constraint failed: …"). Foreign keys are
//! named `<table>_<column>_fkey` on PostgreSQL (sea-query leaves the name out on SQLite,
//! whose errors never name a foreign key or a unique index anyway).

use sea_orm_migration::{
    prelude::{
        ForeignKeyAction::{Cascade, Restrict, SetNull},
        *,
    },
    schema::*,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The tables in creation (dependency) order; `down` drops them in reverse.
pub const TABLES: [&str; 26] = [
    "users",
    "app_secrets",
    "refresh_tokens",
    "revoked_access_tokens",
    "user_tokens",
    "venues",
    "venue_images",
    "sections",
    "seats",
    "categories",
    "tags",
    "events",
    "event_tags",
    "event_section_prices",
    "event_images",
    "reviews",
    "bookings",
    "event_seats",
    "booking_seats",
    "booking_history",
    "payments",
    "refunds",
    "invoice_counters",
    "invoices",
    "tickets",
    "jobs",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// One transaction on every backend (SQLite too), so a failed migration leaves nothing.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, indexes) in tables() {
            manager.create_table(table).await?;
            for index in indexes {
                manager.create_index(index).await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in TABLES.iter().rev() {
            manager.drop_table(Table::drop().table(*table).to_owned()).await?;
        }
        Ok(())
    }
}

/// A table and the indexes created right after it.
type TableDef = (TableCreateStatement, Vec<IndexCreateStatement>);

/// Every table with its indexes, in the order of [`TABLES`].
pub fn tables() -> Vec<TableDef> {
    vec![
        users(),
        app_secrets(),
        refresh_tokens(),
        revoked_access_tokens(),
        user_tokens(),
        venues(),
        venue_images(),
        sections(),
        seats(),
        categories(),
        tags(),
        events(),
        event_tags(),
        event_section_prices(),
        event_images(),
        reviews(),
        bookings(),
        event_seats(),
        booking_seats(),
        booking_history(),
        payments(),
        refunds(),
        invoice_counters(),
        invoices(),
        tickets(),
        jobs(),
    ]
}

/// `CREATE TABLE` with the `id` primary key (a rowid alias on SQLite).
fn table(name: &'static str) -> TableCreateStatement {
    Table::create().table(name).col(big_pk_auto("id")).to_owned()
}

/// Adds `created_at` and `updated_at` (set by the application, never by the database).
fn timestamps(table: &mut TableCreateStatement) -> TableCreateStatement {
    table.col(timestamp_with_time_zone("created_at")).col(timestamp_with_time_zone("updated_at")).to_owned()
}

/// A check named `<table>_<column>_check`.
fn check(table: &str, column: &str, expr: Expr) -> Check {
    Check::named(format!("{table}_{column}_check"), expr)
}

/// A foreign key `<table>_<column>_fkey` to `<parent>.id`.
fn fk(
    table: &'static str,
    column: &'static str,
    parent: &'static str,
    on_delete: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("{table}_{column}_fkey"))
        .from(table, column)
        .to(parent, "id")
        .on_delete(on_delete)
        .to_owned()
}

/// A unique index with the constraint name the server maps violations by.
fn unique(name: &'static str, table: &'static str, columns: &[&'static str]) -> IndexCreateStatement {
    let mut index = Index::create();
    index.name(name).table(table).unique();
    for column in columns {
        index.col(*column);
    }
    index.to_owned()
}

/// A plain index named `idx_<table>_<columns>`.
fn index(table: &'static str, columns: &[&'static str]) -> IndexCreateStatement {
    let mut index = Index::create();
    index.name(format!("idx_{table}_{}", columns.join("_"))).table(table);
    for column in columns {
        index.col(*column);
    }
    index.to_owned()
}

fn users() -> TableDef {
    let table = timestamps(
        table("users")
            .col(string("email"))
            .col(string("password_hash"))
            .col(string("full_name"))
            .col(string_null("phone"))
            .col(string("role").default("customer").check(check(
                "users",
                "role",
                Expr::col("role").is_in(["customer", "staff", "admin"]),
            )))
            .col(boolean("email_verified").default(false))
            .col(boolean("is_active").default(true))
            .col(integer("token_version").default(0))
            .col(timestamp_with_time_zone_null("deleted_at"))
            .col(timestamp_with_time_zone_null("last_login_at")),
    );
    let indexes = vec![unique("users_email_key", "users", &["email"])];
    (table, indexes)
}

fn app_secrets() -> TableDef {
    let table = timestamps(table("app_secrets").col(string("name")).col(string("value")));
    let indexes = vec![unique("app_secrets_name_key", "app_secrets", &["name"])];
    (table, indexes)
}

fn refresh_tokens() -> TableDef {
    let table = timestamps(
        table("refresh_tokens")
            .col(big_integer("user_id"))
            .col(string("family_id"))
            .col(string("token_hash"))
            .col(timestamp_with_time_zone("expires_at"))
            .col(timestamp_with_time_zone_null("used_at"))
            .col(timestamp_with_time_zone_null("revoked_at"))
            .col(string_null("user_agent"))
            .foreign_key(&mut fk("refresh_tokens", "user_id", "users", Cascade)),
    );
    let indexes = vec![
        unique("refresh_tokens_hash_key", "refresh_tokens", &["token_hash"]),
        index("refresh_tokens", &["user_id"]),
        index("refresh_tokens", &["family_id"]),
    ];
    (table, indexes)
}

fn revoked_access_tokens() -> TableDef {
    let table = timestamps(
        table("revoked_access_tokens").col(string("jti")).col(timestamp_with_time_zone("expires_at")),
    );
    let indexes = vec![
        unique("revoked_access_tokens_jti_key", "revoked_access_tokens", &["jti"]),
        index("revoked_access_tokens", &["expires_at"]),
    ];
    (table, indexes)
}

fn user_tokens() -> TableDef {
    let table = timestamps(
        table("user_tokens")
            .col(big_integer("user_id"))
            .col(string("purpose").check(check(
                "user_tokens",
                "purpose",
                Expr::col("purpose").is_in(["password_reset", "email_verify"]),
            )))
            .col(string("token_hash"))
            .col(timestamp_with_time_zone("expires_at"))
            .col(timestamp_with_time_zone_null("used_at"))
            .foreign_key(&mut fk("user_tokens", "user_id", "users", Cascade)),
    );
    let indexes = vec![
        unique("user_tokens_hash_key", "user_tokens", &["token_hash"]),
        index("user_tokens", &["user_id"]),
    ];
    (table, indexes)
}

fn venues() -> TableDef {
    let table = timestamps(
        table("venues")
            .col(string("name"))
            .col(string("slug"))
            .col(string("address"))
            .col(string("city"))
            .col(string("time_zone").default("Asia/Ho_Chi_Minh"))
            .col(integer("capacity").default(0).check(check(
                "venues",
                "capacity",
                Expr::col("capacity").gte(0),
            )))
            .col(string("description").default(""))
            .col(json_binary("amenities"))
            .col(boolean("is_active").default(true)),
    );
    let indexes = vec![unique("venues_slug_key", "venues", &["slug"])];
    (table, indexes)
}

fn venue_images() -> TableDef {
    let table = timestamps(
        table("venue_images")
            .col(big_integer("venue_id"))
            .col(string("file_path"))
            .col(string("content_type"))
            .col(big_integer("size_bytes").check(check(
                "venue_images",
                "size_bytes",
                Expr::col("size_bytes").gte(0),
            )))
            .col(string("caption").default(""))
            .col(integer("position").default(0))
            .foreign_key(&mut fk("venue_images", "venue_id", "venues", Cascade)),
    );
    let indexes = vec![index("venue_images", &["venue_id"])];
    (table, indexes)
}

fn sections() -> TableDef {
    let table = timestamps(
        table("sections")
            .col(big_integer("venue_id"))
            .col(string("name"))
            .col(integer("display_order").default(0))
            .col(string("color").default("#888888"))
            .col(boolean("is_active").default(true))
            .foreign_key(&mut fk("sections", "venue_id", "venues", Cascade)),
    );
    let indexes = vec![unique("sections_venue_name_key", "sections", &["venue_id", "name"])];
    (table, indexes)
}

fn seats() -> TableDef {
    let table = timestamps(
        table("seats")
            .col(big_integer("section_id"))
            .col(string("row_label"))
            .col(integer("number"))
            .col(integer("row_index"))
            .col(integer("position"))
            .col(double("x"))
            .col(double("y"))
            .col(string("kind").default("standard").check(check(
                "seats",
                "kind",
                Expr::col("kind").is_in(["standard", "wheelchair", "companion", "restricted_view"]),
            )))
            .col(boolean("is_active").default(true))
            .foreign_key(&mut fk("seats", "section_id", "sections", Cascade)),
    );
    let indexes = vec![
        unique("seats_section_row_number_key", "seats", &["section_id", "row_label", "number"]),
        unique("seats_section_row_position_key", "seats", &["section_id", "row_index", "position"]),
    ];
    (table, indexes)
}

fn categories() -> TableDef {
    let table = timestamps(
        table("categories").col(string("name")).col(string("slug")).col(boolean("is_active").default(true)),
    );
    let indexes = vec![
        unique("categories_name_key", "categories", &["name"]),
        unique("categories_slug_key", "categories", &["slug"]),
    ];
    (table, indexes)
}

fn tags() -> TableDef {
    let table = timestamps(
        table("tags").col(string("name")).col(string("slug")).col(boolean("is_active").default(true)),
    );
    let indexes =
        vec![unique("tags_name_key", "tags", &["name"]), unique("tags_slug_key", "tags", &["slug"])];
    (table, indexes)
}

fn events() -> TableDef {
    let table = timestamps(
        table("events")
            .col(big_integer("venue_id"))
            .col(big_integer_null("category_id"))
            .col(string("title"))
            .col(string("slug"))
            .col(string("description").default(""))
            .col(string("search_text").default(""))
            .col(timestamp_with_time_zone("start_time"))
            .col(timestamp_with_time_zone("end_time"))
            .col(string("status").default("draft").check(check(
                "events",
                "status",
                Expr::col("status").is_in(["draft", "published", "cancelled"]),
            )))
            .col(boolean("is_featured").default(false))
            .col(timestamp_with_time_zone_null("sales_start"))
            .col(timestamp_with_time_zone_null("sales_end"))
            .col(big_integer_null("poster_image_id"))
            .col(string_null("cancel_reason"))
            .col(timestamp_with_time_zone_null("published_at"))
            .col(big_integer("seats_version").default(0i64))
            .col(boolean("is_active").default(true))
            .check(Check::named("events_time_range_check", Expr::col("end_time").gt(Expr::col("start_time"))))
            .foreign_key(&mut fk("events", "venue_id", "venues", Restrict))
            .foreign_key(&mut fk("events", "category_id", "categories", SetNull)),
    );
    let indexes = vec![
        unique("events_slug_key", "events", &["slug"]),
        index("events", &["status", "start_time"]),
        index("events", &["venue_id"]),
        index("events", &["category_id"]),
    ];
    (table, indexes)
}

fn event_tags() -> TableDef {
    let table = timestamps(
        table("event_tags")
            .col(big_integer("event_id"))
            .col(big_integer("tag_id"))
            .foreign_key(&mut fk("event_tags", "event_id", "events", Cascade))
            .foreign_key(&mut fk("event_tags", "tag_id", "tags", Cascade)),
    );
    let indexes = vec![
        unique("event_tags_event_tag_key", "event_tags", &["event_id", "tag_id"]),
        index("event_tags", &["tag_id"]),
    ];
    (table, indexes)
}

fn event_section_prices() -> TableDef {
    let table = timestamps(
        table("event_section_prices")
            .col(big_integer("event_id"))
            .col(big_integer("section_id"))
            .col(big_integer("price").check(check(
                "event_section_prices",
                "price",
                Expr::col("price").gte(0),
            )))
            .col(string("currency").default("VND"))
            .foreign_key(&mut fk("event_section_prices", "event_id", "events", Cascade))
            .foreign_key(&mut fk("event_section_prices", "section_id", "sections", Restrict)),
    );
    let indexes = vec![
        unique("event_section_prices_event_section_key", "event_section_prices", &["event_id", "section_id"]),
        index("event_section_prices", &["section_id"]),
    ];
    (table, indexes)
}

fn event_images() -> TableDef {
    let table = timestamps(
        table("event_images")
            .col(big_integer("event_id"))
            .col(string("file_path"))
            .col(string("content_type"))
            .col(big_integer("size_bytes").check(check(
                "event_images",
                "size_bytes",
                Expr::col("size_bytes").gte(0),
            )))
            .col(integer_null("width"))
            .col(integer_null("height"))
            .col(string("caption").default(""))
            .col(integer("position").default(0))
            .foreign_key(&mut fk("event_images", "event_id", "events", Cascade)),
    );
    let indexes = vec![index("event_images", &["event_id"])];
    (table, indexes)
}

fn reviews() -> TableDef {
    let table = timestamps(
        table("reviews")
            .col(big_integer("event_id"))
            .col(big_integer("user_id"))
            .col(integer("rating").check(check("reviews", "rating", Expr::col("rating").between(1, 5))))
            .col(string("text").default(""))
            .col(boolean("is_active").default(true))
            .foreign_key(&mut fk("reviews", "event_id", "events", Cascade))
            .foreign_key(&mut fk("reviews", "user_id", "users", Cascade)),
    );
    let indexes = vec![
        unique("reviews_event_user_key", "reviews", &["event_id", "user_id"]),
        index("reviews", &["user_id"]),
    ];
    (table, indexes)
}

fn bookings() -> TableDef {
    let table = timestamps(
        table("bookings")
            .col(big_integer("user_id"))
            .col(big_integer("event_id"))
            .col(string("status").check(check(
                "bookings",
                "status",
                Expr::col("status").is_in([
                    "pending",
                    "confirmed",
                    "completed",
                    "expired",
                    "cancelled",
                    "refunded",
                ]),
            )))
            .col(big_integer("total").check(check("bookings", "total", Expr::col("total").gte(0))))
            .col(string("currency").default("VND"))
            .col(timestamp_with_time_zone_null("expires_at"))
            .col(string("reference"))
            .col(string_null("cancel_reason"))
            .foreign_key(&mut fk("bookings", "user_id", "users", Restrict))
            .foreign_key(&mut fk("bookings", "event_id", "events", Restrict)),
    );
    let indexes = vec![
        unique("bookings_reference_key", "bookings", &["reference"]),
        index("bookings", &["user_id", "event_id", "status"]),
        index("bookings", &["status", "expires_at"]),
        index("bookings", &["event_id"]),
    ];
    (table, indexes)
}

fn event_seats() -> TableDef {
    let table = timestamps(
        table("event_seats")
            .col(big_integer("event_id"))
            .col(big_integer("seat_id"))
            .col(big_integer("section_id"))
            .col(string("status").default("available").check(check(
                "event_seats",
                "status",
                Expr::col("status").is_in(["available", "held", "sold", "blocked"]),
            )))
            .col(big_integer("price").check(check("event_seats", "price", Expr::col("price").gte(0))))
            .col(big_integer_null("hold_id"))
            .col(timestamp_with_time_zone_null("held_until"))
            .col(big_integer_null("booking_id"))
            .col(string_null("block_reason"))
            .col(big_integer("version").default(0i64))
            .foreign_key(&mut fk("event_seats", "event_id", "events", Cascade))
            .foreign_key(&mut fk("event_seats", "seat_id", "seats", Restrict))
            .foreign_key(&mut fk("event_seats", "section_id", "sections", Restrict))
            .foreign_key(&mut fk("event_seats", "booking_id", "bookings", SetNull)),
    );
    let indexes = vec![
        unique("event_seats_event_seat_key", "event_seats", &["event_id", "seat_id"]),
        index("event_seats", &["event_id", "status"]),
        index("event_seats", &["event_id", "section_id"]),
        index("event_seats", &["booking_id"]),
        index("event_seats", &["seat_id"]),
    ];
    (table, indexes)
}

fn booking_seats() -> TableDef {
    let table = timestamps(
        table("booking_seats")
            .col(big_integer("booking_id"))
            .col(big_integer("event_seat_id"))
            .col(big_integer("seat_id"))
            .col(big_integer("price").check(check("booking_seats", "price", Expr::col("price").gte(0))))
            .foreign_key(&mut fk("booking_seats", "booking_id", "bookings", Cascade))
            .foreign_key(&mut fk("booking_seats", "event_seat_id", "event_seats", Restrict))
            .foreign_key(&mut fk("booking_seats", "seat_id", "seats", Restrict)),
    );
    let indexes = vec![
        unique("booking_seats_booking_seat_key", "booking_seats", &["booking_id", "event_seat_id"]),
        index("booking_seats", &["event_seat_id"]),
        index("booking_seats", &["seat_id"]),
    ];
    (table, indexes)
}

fn booking_history() -> TableDef {
    let table = timestamps(
        table("booking_history")
            .col(big_integer("booking_id"))
            .col(string_null("from_status"))
            .col(string("to_status"))
            .col(big_integer_null("actor_user_id"))
            .col(string_null("reason"))
            .col(timestamp_with_time_zone("at"))
            .foreign_key(&mut fk("booking_history", "booking_id", "bookings", Cascade))
            .foreign_key(&mut fk("booking_history", "actor_user_id", "users", SetNull)),
    );
    let indexes =
        vec![index("booking_history", &["booking_id"]), index("booking_history", &["actor_user_id"])];
    (table, indexes)
}

fn payments() -> TableDef {
    let table = timestamps(
        table("payments")
            .col(big_integer("booking_id"))
            .col(string("gateway").default("vnpay"))
            .col(string("txn_ref"))
            .col(big_integer("amount").check(check("payments", "amount", Expr::col("amount").gte(0))))
            .col(string("currency").default("VND"))
            .col(string("status").default("initiated").check(check(
                "payments",
                "status",
                Expr::col("status").is_in([
                    "initiated",
                    "succeeded",
                    "failed",
                    "refunded",
                    "partially_refunded",
                ]),
            )))
            .col(big_integer("refunded_amount").default(0i64).check(check(
                "payments",
                "refunded_amount",
                Expr::col("refunded_amount").gte(0),
            )))
            .col(string_null("gateway_transaction_no"))
            .col(string_null("bank_code"))
            .col(string_null("response_code"))
            .col(string_null("transaction_status"))
            .col(json_binary_null("raw_callback"))
            .col(string_null("create_date"))
            .col(timestamp_with_time_zone_null("expires_at"))
            .col(timestamp_with_time_zone_null("paid_at"))
            .col(timestamp_with_time_zone_null("settled_at"))
            .foreign_key(&mut fk("payments", "booking_id", "bookings", Restrict)),
    );
    let indexes = vec![
        unique("payments_txn_ref_key", "payments", &["txn_ref"]),
        index("payments", &["booking_id"]),
        index("payments", &["status", "expires_at"]),
    ];
    (table, indexes)
}

fn refunds() -> TableDef {
    let table = timestamps(
        table("refunds")
            .col(big_integer("payment_id"))
            .col(big_integer("amount").check(check("refunds", "amount", Expr::col("amount").gt(0))))
            .col(string("status").default("pending").check(check(
                "refunds",
                "status",
                Expr::col("status").is_in(["pending", "succeeded", "failed"]),
            )))
            .col(string("reason").default(""))
            .col(string_null("gateway_reference"))
            .col(big_integer_null("requested_by"))
            .col(json_binary_null("raw_response"))
            .foreign_key(&mut fk("refunds", "payment_id", "payments", Restrict))
            .foreign_key(&mut fk("refunds", "requested_by", "users", SetNull)),
    );
    let indexes = vec![index("refunds", &["payment_id"]), index("refunds", &["requested_by"])];
    (table, indexes)
}

fn invoice_counters() -> TableDef {
    let table =
        timestamps(table("invoice_counters").col(integer("year")).col(integer("last_number").default(0)));
    let indexes = vec![unique("invoice_counters_year_key", "invoice_counters", &["year"])];
    (table, indexes)
}

fn invoices() -> TableDef {
    let table = timestamps(
        table("invoices")
            .col(big_integer("booking_id"))
            .col(integer("year"))
            .col(integer("seq"))
            .col(string("number"))
            .col(timestamp_with_time_zone("issued_at"))
            .foreign_key(&mut fk("invoices", "booking_id", "bookings", Restrict)),
    );
    let indexes = vec![
        unique("invoices_booking_key", "invoices", &["booking_id"]),
        unique("invoices_number_key", "invoices", &["number"]),
        unique("invoices_year_seq_key", "invoices", &["year", "seq"]),
    ];
    (table, indexes)
}

fn tickets() -> TableDef {
    let table = timestamps(
        table("tickets")
            .col(big_integer("booking_seat_id"))
            .col(big_integer("booking_id"))
            .col(big_integer("event_id"))
            .col(string("code"))
            .col(string("status").default("valid").check(check(
                "tickets",
                "status",
                Expr::col("status").is_in(["valid", "void"]),
            )))
            .col(timestamp_with_time_zone_null("checked_in_at"))
            .col(big_integer_null("checked_in_by"))
            .foreign_key(&mut fk("tickets", "booking_seat_id", "booking_seats", Restrict))
            .foreign_key(&mut fk("tickets", "booking_id", "bookings", Restrict))
            .foreign_key(&mut fk("tickets", "event_id", "events", Restrict))
            .foreign_key(&mut fk("tickets", "checked_in_by", "users", SetNull)),
    );
    let indexes = vec![
        unique("tickets_booking_seat_key", "tickets", &["booking_seat_id"]),
        unique("tickets_code_key", "tickets", &["code"]),
        index("tickets", &["booking_id"]),
        index("tickets", &["event_id"]),
        index("tickets", &["checked_in_by"]),
    ];
    (table, indexes)
}

fn jobs() -> TableDef {
    let table = timestamps(
        table("jobs")
            .col(string("kind"))
            .col(json_binary("payload"))
            .col(string("status").default("queued").check(check(
                "jobs",
                "status",
                Expr::col("status").is_in(["queued", "running", "done", "dead"]),
            )))
            .col(timestamp_with_time_zone("run_at"))
            .col(integer("attempts").default(0))
            .col(integer("max_attempts").default(8))
            .col(string_null("last_error"))
            .col(string_null("locked_by"))
            .col(timestamp_with_time_zone_null("locked_until"))
            .col(string_null("dedupe_key"))
            .col(timestamp_with_time_zone_null("finished_at")),
    );
    let indexes =
        vec![unique("jobs_dedupe_key", "jobs", &["dedupe_key"]), index("jobs", &["status", "run_at"])];
    (table, indexes)
}
