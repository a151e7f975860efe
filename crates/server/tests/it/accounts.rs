//! Accounts, tokens and roles (SPEC §6 auth routes, §9).

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::Duration;
use curtain::accounts::roles::Role;
use entity::users;
use reqwest::Method;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

use crate::harness::{PASSWORD, TestApp};

fn token(session: &Value, key: &str) -> String {
    session[key].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn register_then_login_then_me() {
    let app = TestApp::spawn().await;
    let res = app
        .post("/api/auth/register", &json!({"email": " Lan@Example.COM ", "password": PASSWORD, "full_name": "Lê Thị Lan", "phone": "+84 90 123 4567"}), None)
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    let user = res.data();
    assert_eq!(user["email"], "lan@example.com");
    assert_eq!(user["role"], "customer");
    assert_eq!(user["email_verified"], false);
    assert!(user.get("password_hash").is_none());

    let session = app.login("LAN@example.com", PASSWORD).await;
    assert_eq!(session["token_type"], "Bearer");
    assert_eq!(session["expires_in"], 900);
    assert_eq!(session["user"]["full_name"], "Lê Thị Lan");
    let me = app.get_as("/api/auth/me", &token(&session, "access_token")).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.data()["email"], "lan@example.com");
}

#[tokio::test]
async fn an_email_registers_once_whatever_its_case() {
    let app = TestApp::spawn().await;
    app.customer("dup@example.com").await;
    let res = app
        .post(
            "/api/auth/register",
            &json!({"email": "DUP@example.com", "password": PASSWORD, "full_name": "X"}),
            None,
        )
        .await;
    assert_eq!(res.status, 409);
    assert_eq!(res.error_code(), "email_taken");
}

#[tokio::test]
async fn bad_registrations_name_the_field_and_create_nothing() {
    let app = TestApp::spawn().await;
    let cases = [
        (json!({"email": "not-an-email", "password": PASSWORD, "full_name": "A"}), "email"),
        (json!({"email": "a@example.com", "password": "short", "full_name": "A"}), "password"),
        (json!({"email": "a@example.com", "password": "password123", "full_name": "A"}), "password"),
        (json!({"email": "a@example.com", "password": PASSWORD, "full_name": "n".repeat(151)}), "full_name"),
        (
            json!({"email": "a@example.com", "password": PASSWORD, "full_name": "A", "phone": "call me"}),
            "phone",
        ),
        (json!({"email": "a@example.com", "password": PASSWORD}), "full_name"),
        (
            json!({"email": format!("{}@example.com", "a".repeat(260)), "password": PASSWORD, "full_name": "A"}),
            "email",
        ),
    ];
    for (body, field) in cases {
        let res = app.post("/api/auth/register", &body, None).await;
        assert_eq!(res.status, 400, "{body}: {}", res.text);
        assert_eq!(res.error_code(), "validation_failed");
        assert!(res.error_fields().contains(&field.to_owned()), "{body}: {:?}", res.error_fields());
    }
    let malformed = app
        .client
        .post(app.url("/api/auth/register"))
        .header("content-type", "application/json")
        .body("{\"email\": ")
        .send()
        .await
        .unwrap();
    let malformed = crate::harness::TestResponse::read(malformed).await;
    assert_eq!(malformed.status, 400);
    assert_eq!(malformed.error_code(), "validation_failed");
    let no_type = app.client.post(app.url("/api/auth/register")).body("{}").send().await.unwrap();
    assert_eq!(no_type.status(), 415);
    assert_eq!(users::Entity::find().count(app.db()).await.unwrap(), 0, "nothing half-created");
}

#[tokio::test]
async fn a_json_body_over_the_limit_is_payload_too_large() {
    let app = TestApp::spawn().await;
    let body =
        json!({"email": "a@example.com", "password": PASSWORD, "full_name": "x".repeat(2 * 1024 * 1024)});
    let res = app.post("/api/auth/register", &body, None).await;
    assert_eq!(res.status, 413);
    assert_eq!(res.error_code(), "payload_too_large");
}

#[tokio::test]
async fn wrong_passwords_and_unknown_emails_get_the_same_answer() {
    let app = TestApp::spawn().await;
    app.customer("known@example.com").await;
    for (email, password) in [("known@example.com", "wrong-password-1"), ("nobody@example.com", PASSWORD)] {
        let res = app.post("/api/auth/login", &json!({"email": email, "password": password}), None).await;
        assert_eq!(res.status, 401);
        assert_eq!(res.error_code(), "invalid_credentials");
    }
}

#[tokio::test]
async fn bad_tokens_are_refused() {
    let app = TestApp::spawn().await;
    let session = app.customer("t@example.com").await;
    let access = token(&session, "access_token");
    assert_eq!(app.get("/api/auth/me").await.error_code(), "unauthorized");

    let parts: Vec<&str> = access.split('.').collect();
    let mut payload: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    payload["role"] = "admin".into();
    let tampered = format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode(payload.to_string()), parts[2]);
    let alg_none = format!("{}.{}.", URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#), parts[1]);
    let other_secret = {
        let keys = curtain::accounts::tokens::JwtKeys::new(b"not-the-server-secret");
        let user = users::Entity::find().one(app.db()).await.unwrap().unwrap();
        keys.issue(&user, Role::Admin, app.clock_now()).unwrap().0
    };
    for bad in [tampered.as_str(), alg_none.as_str(), other_secret.as_str(), "garbage"] {
        let res = app.get_as("/api/auth/me", bad).await;
        assert_eq!(res.status, 401, "{bad}");
        assert_eq!(res.error_code(), "invalid_token");
    }
    // Fifteen minutes later the access token has expired.
    assert_eq!(app.get_as("/api/auth/me", &access).await.status, 200);
    app.clock.advance(Duration::minutes(15));
    assert_eq!(app.get_as("/api/auth/me", &access).await.error_code(), "invalid_token");
}

#[tokio::test]
async fn refresh_rotates_and_a_reused_token_revokes_its_family() {
    let app = TestApp::spawn().await;
    let first = app.customer("r@example.com").await;
    let old = token(&first, "refresh_token");
    let second = app.post("/api/auth/refresh", &json!({"refresh_token": old}), None).await;
    assert_eq!(second.status, 200, "{}", second.text);
    let newer = token(second.data(), "refresh_token");
    assert_ne!(newer, old);

    // The spent token comes back: theft. Both it and its successor stop working.
    let reuse = app.post("/api/auth/refresh", &json!({"refresh_token": old}), None).await;
    assert_eq!(reuse.status, 401);
    assert_eq!(reuse.error_code(), "invalid_token");
    let after = app.post("/api/auth/refresh", &json!({"refresh_token": newer}), None).await;
    assert_eq!(after.error_code(), "invalid_token");
    assert_eq!(app.post("/api/auth/refresh", &json!({"refresh_token": "made-up"}), None).await.status, 401);
}

#[tokio::test]
async fn the_browser_refreshes_with_its_httponly_cookie() {
    let app = TestApp::spawn().await;
    app.customer("c@example.com").await;
    let res = app
        .client
        .post(app.url("/api/auth/login"))
        .json(&json!({"email": "c@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let cookie = res.headers().get("set-cookie").unwrap().to_str().unwrap().to_owned();
    assert!(cookie.starts_with("curtain_refresh="), "{cookie}");
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/api/auth/"] {
        assert!(cookie.contains(attr), "{cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain http: no Secure flag");
    let pair = cookie.split(';').next().unwrap().to_owned();
    let refreshed =
        app.client.post(app.url("/api/auth/refresh")).header("cookie", pair).send().await.unwrap();
    assert_eq!(refreshed.status(), 200);
}

#[tokio::test]
async fn logout_revokes_the_access_token_and_the_refresh_family() {
    let app = TestApp::spawn().await;
    let session = app.customer("out@example.com").await;
    let access = token(&session, "access_token");
    let res = app
        .post("/api/auth/logout", &json!({"refresh_token": token(&session, "refresh_token")}), Some(&access))
        .await;
    assert_eq!(res.status, 204);
    assert_eq!(app.get_as("/api/auth/me", &access).await.error_code(), "invalid_token");
    let refresh = app
        .post("/api/auth/refresh", &json!({"refresh_token": token(&session, "refresh_token")}), None)
        .await;
    assert_eq!(refresh.status, 401);
}

#[tokio::test]
async fn a_password_change_ends_other_sessions() {
    let app = TestApp::spawn().await;
    let other_device = app.customer("pw@example.com").await;
    let this_device = app.login("pw@example.com", PASSWORD).await;
    let wrong = app
        .post(
            "/api/auth/password",
            &json!({"current_password": "nope-nope-nope", "new_password": "a-brand-new-pass"}),
            Some(&token(&this_device, "access_token")),
        )
        .await;
    assert_eq!(wrong.error_fields(), ["current_password"]);
    let weak = app
        .post(
            "/api/auth/password",
            &json!({"current_password": PASSWORD, "new_password": "12345678"}),
            Some(&token(&this_device, "access_token")),
        )
        .await;
    assert_eq!(weak.error_fields(), ["new_password"]);
    let changed = app
        .post(
            "/api/auth/password",
            &json!({"current_password": PASSWORD, "new_password": "a-brand-new-pass"}),
            Some(&token(&this_device, "access_token")),
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.text);
    assert_eq!(app.get_as("/api/auth/me", &token(&changed.data().clone(), "access_token")).await.status, 200);
    assert_eq!(app.get_as("/api/auth/me", &token(&other_device, "access_token")).await.status, 401);
    let old_refresh = app
        .post("/api/auth/refresh", &json!({"refresh_token": token(&other_device, "refresh_token")}), None)
        .await;
    assert_eq!(old_refresh.status, 401);
    app.login("pw@example.com", "a-brand-new-pass").await;
}

#[tokio::test]
async fn only_admins_manage_users_and_a_role_change_ends_sessions() {
    let app = TestApp::spawn().await;
    let customer = app.customer("cust@example.com").await;
    let staff = app.user_with_role("staff@example.com", Role::Staff).await;
    let admin = app.user_with_role("admin@example.com", Role::Admin).await;
    assert_eq!(app.get("/api/admin/users").await.status, 401);
    assert_eq!(app.get_as("/api/admin/users", &token(&customer, "access_token")).await.status, 403);
    let as_staff = app.get_as("/api/admin/users", &token(&staff, "access_token")).await;
    assert_eq!(as_staff.status, 403);
    assert_eq!(as_staff.error_code(), "forbidden");

    let admin_token = token(&admin, "access_token");
    let list = app.get_as("/api/admin/users?role=customer", &admin_token).await;
    assert_eq!(list.status, 200);
    assert_eq!(list.total(), 1);
    assert_eq!(app.get_as("/api/admin/users?q=STAFF%40", &admin_token).await.total(), 1);

    let id = customer["user"]["id"].as_i64().unwrap();
    let promoted = app
        .send(
            Method::PATCH,
            &format!("/api/admin/users/{id}"),
            Some(&json!({"role": "staff"})),
            Some(&admin_token),
        )
        .await;
    assert_eq!(promoted.status, 200, "{}", promoted.text);
    assert_eq!(promoted.data()["role"], "staff");
    assert_eq!(
        app.get_as("/api/auth/me", &token(&customer, "access_token")).await.status,
        401,
        "old token revoked"
    );
    let again = app.login("cust@example.com", PASSWORD).await;
    assert_eq!(again["user"]["role"], "staff");

    let admin_id = admin["user"]["id"].as_i64().unwrap();
    let demote_self = app
        .send(
            Method::PATCH,
            &format!("/api/admin/users/{admin_id}"),
            Some(&json!({"role": "customer"})),
            Some(&admin_token),
        )
        .await;
    assert_eq!(demote_self.status, 409);
    let bad_role = app
        .send(
            Method::PATCH,
            &format!("/api/admin/users/{id}"),
            Some(&json!({"role": "root"})),
            Some(&admin_token),
        )
        .await;
    assert_eq!(bad_role.status, 400);
    let missing = app
        .send(
            Method::PATCH,
            "/api/admin/users/999999",
            Some(&json!({"is_active": false})),
            Some(&admin_token),
        )
        .await;
    assert_eq!(missing.status, 404);

    let deactivated = app
        .send(
            Method::PATCH,
            &format!("/api/admin/users/{id}"),
            Some(&json!({"is_active": false})),
            Some(&admin_token),
        )
        .await;
    assert_eq!(deactivated.status, 200);
    let login =
        app.post("/api/auth/login", &json!({"email": "cust@example.com", "password": PASSWORD}), None).await;
    assert_eq!(login.status, 401);
}

#[tokio::test]
async fn security_headers_and_cors_for_configured_origins_only() {
    let app = TestApp::builder().env("CURTAIN_CORS_ORIGINS", "https://tickets.example.com").spawn().await;
    let res = app.get("/api/events").await;
    assert_eq!(res.headers["x-content-type-options"], "nosniff");
    assert_eq!(res.headers["x-frame-options"], "DENY");
    assert!(res.headers["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"));
    assert!(res.headers.get("referrer-policy").is_some());
    assert!(res.headers.get("strict-transport-security").is_none(), "no HSTS on plain http");

    let allowed = app
        .client
        .get(app.url("/api/events"))
        .header("origin", "https://tickets.example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(allowed.headers()["access-control-allow-origin"], "https://tickets.example.com");
    let other =
        app.client.get(app.url("/api/events")).header("origin", "https://evil.example").send().await.unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());

    let https = TestApp::builder().env("PUBLIC_BASE_URL", "https://tickets.example.com").spawn().await;
    let res = https.get("/api/events").await;
    assert!(res.headers.get("strict-transport-security").is_some());
}

#[tokio::test]
async fn the_welcome_mail_verifies_the_email_once() {
    let app = TestApp::spawn().await;
    let session = app.customer("v@example.com").await;
    assert_eq!(session["user"]["email_verified"], false);
    let mails = app.mails().await;
    assert_eq!(mails.len(), 1);
    assert!(mails[0].contains("Subject: Welcome to Curtain"), "{}", mails[0]);
    let token = app.mailed_token("v@example.com", "/verify-email").await;
    let res = app.post("/api/auth/verify-email", &json!({"token": token}), None).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.data()["email_verified"], true);
    let again = app.post("/api/auth/verify-email", &json!({"token": token}), None).await;
    assert_eq!(again.status, 400);
    assert_eq!(again.error_fields(), ["token"]);
    let bogus = app.post("/api/auth/verify-email", &json!({"token": "bogus"}), None).await;
    assert_eq!(bogus.error_fields(), ["token"]);
}

#[tokio::test]
async fn a_verification_link_expires_after_48_hours() {
    let app = TestApp::spawn().await;
    app.customer("late@example.com").await;
    let token = app.mailed_token("late@example.com", "/verify-email").await;
    app.clock.advance(Duration::hours(48));
    let res = app.post("/api/auth/verify-email", &json!({"token": token}), None).await;
    assert_eq!(res.error_fields(), ["token"]);
}

#[tokio::test]
async fn password_reset_by_email_is_single_use_and_ends_sessions() {
    let app = TestApp::spawn().await;
    let session = app.customer("forgot@example.com").await;
    // Unknown accounts get the same answer and no mail.
    let unknown =
        app.post("/api/auth/password-reset/request", &json!({"email": "nobody@example.com"}), None).await;
    assert_eq!(unknown.status, 202);
    let res =
        app.post("/api/auth/password-reset/request", &json!({"email": "FORGOT@example.com"}), None).await;
    assert_eq!(res.status, 202);
    assert_eq!(app.mails().await.len(), 2, "welcome + reset only");
    let token = app.mailed_token("forgot@example.com", "/reset-password").await;

    let weak = app
        .post("/api/auth/password-reset/confirm", &json!({"token": token, "new_password": "123456789"}), None)
        .await;
    assert_eq!(weak.error_fields(), ["new_password"]);
    let ok = app
        .post(
            "/api/auth/password-reset/confirm",
            &json!({"token": token, "new_password": "a-fresh-start-77"}),
            None,
        )
        .await;
    assert_eq!(ok.status, 204, "{}", ok.text);
    let reused = app
        .post(
            "/api/auth/password-reset/confirm",
            &json!({"token": token, "new_password": "another-start-78"}),
            None,
        )
        .await;
    assert_eq!(reused.error_fields(), ["token"]);

    assert_eq!(app.get_as("/api/auth/me", &token_of(&session)).await.status, 401, "old sessions end");
    let fresh = app.login("forgot@example.com", "a-fresh-start-77").await;
    assert_eq!(fresh["user"]["email_verified"], true);
}

#[tokio::test]
async fn only_the_newest_reset_link_works_and_only_for_an_hour() {
    let app = TestApp::spawn().await;
    app.customer("twice@example.com").await;
    app.post("/api/auth/password-reset/request", &json!({"email": "twice@example.com"}), None).await;
    let first = app.mailed_token("twice@example.com", "/reset-password").await;
    app.post("/api/auth/password-reset/request", &json!({"email": "twice@example.com"}), None).await;
    let second = app.mailed_token("twice@example.com", "/reset-password").await;
    assert_ne!(first, second);
    let old = app
        .post(
            "/api/auth/password-reset/confirm",
            &json!({"token": first, "new_password": "a-fresh-start-77"}),
            None,
        )
        .await;
    assert_eq!(old.error_fields(), ["token"]);
    app.clock.advance(Duration::minutes(61));
    let late = app
        .post(
            "/api/auth/password-reset/confirm",
            &json!({"token": second, "new_password": "a-fresh-start-77"}),
            None,
        )
        .await;
    assert_eq!(late.error_fields(), ["token"]);
}

fn token_of(session: &Value) -> String {
    token(session, "access_token")
}

#[tokio::test]
async fn the_export_holds_everything_about_me_and_no_secrets() {
    let app = TestApp::spawn().await;
    let session = app.customer("mine@example.com").await;
    let res = app.get_as("/api/me/export", &token_of(&session)).await;
    assert_eq!(res.status, 200, "{}", res.text);
    let data = res.data();
    assert_eq!(data["user"]["email"], "mine@example.com");
    assert_eq!(data["sessions"].as_array().unwrap().len(), 1);
    assert_eq!(data["bookings"], json!([]));
    assert_eq!(data["payments"], json!([]));
    assert!(!res.text.contains("argon2"), "no password hash");
    assert!(!res.text.contains("token_hash"));
    assert_eq!(app.get("/api/me/export").await.status, 401);
}

#[tokio::test]
async fn deleting_my_account_anonymizes_it_and_ends_every_session() {
    let app = TestApp::spawn().await;
    let session = app.customer("gone@example.com").await;
    let other_device = app.login("gone@example.com", PASSWORD).await;
    let res = app.send(Method::DELETE, "/api/me", None, Some(&token_of(&session))).await;
    assert_eq!(res.status, 204, "{}", res.text);
    assert_eq!(app.get_as("/api/auth/me", &token_of(&session)).await.status, 401);
    assert_eq!(app.get_as("/api/auth/me", &token_of(&other_device)).await.status, 401);
    let refresh = app
        .post("/api/auth/refresh", &json!({"refresh_token": token(&other_device, "refresh_token")}), None)
        .await;
    assert_eq!(refresh.status, 401);
    let login =
        app.post("/api/auth/login", &json!({"email": "gone@example.com", "password": PASSWORD}), None).await;
    assert_eq!(login.status, 401);

    let id = session["user"]["id"].as_i64().unwrap();
    let row =
        users::Entity::find_by_id(id).one(app.db()).await.unwrap().expect("the row stays for sales records");
    assert!(row.email.starts_with(&format!("deleted-{id}-")), "{}", row.email);
    assert!(row.email.ends_with("@deleted.invalid"), "{}", row.email);
    assert_eq!(row.full_name, "Deleted user");
    assert!(row.phone.is_none() && !row.is_active && row.deleted_at.is_some());
    // The address is free again.
    app.customer("gone@example.com").await;
}

#[tokio::test]
async fn nobody_registers_at_the_deleted_accounts_domain_and_deletion_never_fails() {
    let app = TestApp::spawn().await;
    let victim = app.customer("victim@example.com").await;
    let id = victim["user"]["id"].as_i64().unwrap();
    let squatted = format!("deleted-{id}@deleted.invalid");
    let res = app
        .post(
            "/api/auth/register",
            &json!({"email": squatted, "password": PASSWORD, "full_name": "Squatter"}),
            None,
        )
        .await;
    assert_eq!(res.status, 400, "{}", res.text);
    assert_eq!(res.error_fields(), ["email"]);
    // Even a row already at that address (written before the rule) cannot block the deletion.
    app.quick_user(&squatted, Role::Customer).await;
    let deleted = app.send(Method::DELETE, "/api/me", None, Some(&token_of(&victim))).await;
    assert_eq!(deleted.status, 204, "{}", deleted.text);
    let row = users::Entity::find_by_id(id).one(app.db()).await.unwrap().unwrap();
    assert!(row.deleted_at.is_some() && row.email != squatted, "{}", row.email);
}

/// A staff member asks a reset for the admin's address and reads the job monitor in every state:
/// no token, no link with a token. The admin's mailed link works, once.
#[tokio::test]
async fn the_job_monitor_never_shows_a_reset_token() {
    use entity::jobs;
    let app = TestApp::spawn().await;
    app.user_with_role("boss@example.com", Role::Admin).await;
    let staff = token_of(&app.user_with_role("desk@example.com", Role::Staff).await);
    // A mail job as an older version wrote it, link and all: the monitor masks it too.
    let legacy = curtain::jobs::email::EmailJob {
        template: curtain::mail::templates::Template::PasswordReset,
        locale: curtain::mail::templates::Locale::En,
        to: "old@example.com".into(),
        data: json!({"name": "Old", "link": "http://x/reset-password?token=legacy-secret-1", "minutes": 60}),
        booking_documents: None,
    };
    let txn = app.state.begin_write().await.unwrap();
    curtain::jobs::email::enqueue(&txn, &legacy, app.clock_now()).await.unwrap();
    txn.commit().await.unwrap();

    let res = app
        .post("/api/auth/password-reset/request", &json!({"email": "boss@example.com"}), Some(&staff))
        .await;
    assert_eq!(res.status, 202);
    let queued = app.get_as("/api/admin/jobs?status=queued", &staff).await;
    assert_eq!(queued.total(), 2, "{}", queued.text);
    let reset_job = &queued.data()[0];
    assert_eq!(reset_job["kind"], "send_link_email");
    assert_eq!(reset_job["payload"].as_object().unwrap().keys().collect::<Vec<_>>(), ["token_id"]);
    assert!(!queued.text.contains("legacy-secret-1"), "{}", queued.text);

    let token = app.mailed_token("boss@example.com", "/reset-password").await;
    let mut seen = 0;
    for query in ["", "?status=queued", "?status=running", "?status=done", "?status=dead", "/summary"] {
        let list = app.get_as(&format!("/api/admin/jobs{query}"), &staff).await;
        assert_eq!(list.status, 200, "{query}: {}", list.text);
        assert!(!list.text.contains(&token), "{query}: {}", list.text);
        assert!(!list.text.contains("token=") || list.text.contains("token=***"), "{query}: {}", list.text);
        assert!(!list.text.contains("legacy-secret-1"), "{query}: {}", list.text);
        seen += list.data().as_array().map_or(0, Vec::len);
    }
    assert!(seen >= 4, "the jobs were listed (all and done)");
    // Not in the table either: there is nothing to read in a backup.
    for job in jobs::Entity::find().all(app.db()).await.unwrap() {
        assert!(!job.payload.to_string().contains(&token), "{:?}", job.payload);
    }

    let new_password = "amber-lantern-chosen-91";
    let confirm = json!({"token": token, "new_password": new_password});
    let used = app.post("/api/auth/password-reset/confirm", &confirm, None).await;
    assert_eq!(used.status, 204, "{}", used.text);
    let again = app.post("/api/auth/password-reset/confirm", &confirm, None).await;
    assert_eq!(again.error_fields(), ["token"]);
    app.login("boss@example.com", new_password).await;
}

#[tokio::test]
async fn demo_accounts_get_fresh_random_passwords_stored_only_hashed() {
    let a = TestApp::spawn().await;
    let b = TestApp::spawn().await;
    let first = curtain::demo::seed(a.writer(), &a.clock).await.unwrap().expect("seeded");
    let second = curtain::demo::seed(b.writer(), &b.clock).await.unwrap().expect("seeded");
    let published = [
        (Role::Admin, "admin@curtain.test", "curtain-admin-demo"),
        (Role::Staff, "staff@curtain.test", "curtain-staff-demo"),
        (Role::Customer, "buyer@curtain.test", "curtain-buyer-demo"),
    ];
    for (role, email, old) in published {
        let password = first.password(role).unwrap();
        assert!(password.len() >= 16, "{password}");
        assert_ne!(Some(password), second.password(role), "each seeding draws new passwords");
        let session = a.login(email, password).await;
        assert_eq!(session["user"]["role"], role.as_str());
        let refused = a.post("/api/auth/login", &json!({"email": email, "password": old}), None).await;
        assert_eq!(refused.status, 401, "the once-published password is gone");
        let row =
            users::Entity::find().filter(users::Column::Email.eq(email)).one(a.db()).await.unwrap().unwrap();
        assert!(row.password_hash.starts_with("$argon2id$") && !row.password_hash.contains(password));
    }
    assert!(curtain::demo::seed(a.writer(), &a.clock).await.unwrap().is_none(), "loaded once, printed once");
}

/// An install seeded by an earlier version still had the published demo passwords: they are
/// replaced (the new ones returned to be printed once) and the old ones stop working; an account
/// whose owner changed its password is left alone.
#[tokio::test]
async fn published_demo_passwords_of_earlier_versions_are_retired_at_start() {
    let app = TestApp::spawn().await;
    let upsert = |email: &'static str, password: &'static str, role: Role| {
        curtain::accounts::service::upsert_with_role(
            app.writer(),
            &app.clock,
            email,
            password,
            role,
            "Old Demo",
        )
    };
    upsert("admin@curtain.test", "curtain-admin-demo", Role::Admin).await.unwrap();
    upsert("staff@curtain.test", "a-password-of-my-own", Role::Staff).await.unwrap();
    let old_session = app.login("admin@curtain.test", "curtain-admin-demo").await;

    let replaced =
        curtain::demo::retire_published_passwords(app.writer(), &app.clock).await.unwrap().unwrap();
    let fresh = replaced.password(Role::Admin).unwrap();
    assert!(replaced.password(Role::Staff).is_none(), "a changed password is not touched");
    let refused = app
        .post(
            "/api/auth/login",
            &json!({"email": "admin@curtain.test", "password": "curtain-admin-demo"}),
            None,
        )
        .await;
    assert_eq!(refused.status, 401);
    app.login("admin@curtain.test", fresh).await;
    app.login("staff@curtain.test", "a-password-of-my-own").await;
    let me = app.get_as("/api/auth/me", &token(&old_session, "access_token")).await;
    assert_eq!(me.status, 401, "sessions of the old password end");
    assert!(curtain::demo::retire_published_passwords(app.writer(), &app.clock).await.unwrap().is_none());
}

#[tokio::test]
async fn auto_demo_loads_only_into_an_embedded_database_without_users_or_payments() {
    use curtain::{
        app::AppState,
        config::{Config, DemoMode},
    };
    use entity::venues;
    let embedded = crate::harness::postgres_admin_url().is_none();
    let fresh = TestApp::builder().env("CURTAIN_DEMO", "auto").spawn().await;
    let loaded = venues::Entity::find().count(fresh.db()).await.unwrap();
    assert_eq!(loaded, u64::from(embedded), "auto loads only an embedded database");

    // An operator ran create-admin on the database first: auto leaves it alone.
    let owned = TestApp::spawn().await;
    owned.user_with_role("owner@example.com", Role::Admin).await;
    let config = Config { demo: DemoMode::Auto, ..owned.state.config.clone() };
    AppState::start(config, std::sync::Arc::new(owned.clock.clone())).await.unwrap();
    assert_eq!(venues::Entity::find().count(owned.db()).await.unwrap(), 0);
    assert_eq!(users::Entity::find().count(owned.db()).await.unwrap(), 1, "no demo accounts");

    // The real gateway configured: no demo either, even on an empty database.
    let paying = TestApp::builder()
        .env("CURTAIN_DEMO", "auto")
        .env("VNPAY_TMN_CODE", "CURTAIN1")
        .env("VNPAY_HASH_SECRET", "a-real-merchant-secret-0123456789")
        .env("VNPAY_PAYMENT_URL", "https://sandbox.vnpayment.vn/paymentv2/vpcpay.html")
        .env("VNPAY_API_URL", "https://sandbox.vnpayment.vn/merchant_webapi/api/transaction")
        .spawn()
        .await;
    assert_eq!(venues::Entity::find().count(paying.db()).await.unwrap(), 0);
    assert_eq!(users::Entity::find().count(paying.db()).await.unwrap(), 0);
}
