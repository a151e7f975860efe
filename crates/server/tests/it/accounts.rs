//! Accounts, tokens and roles (SPEC §6 auth routes, §9).

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::Duration;
use curtain::accounts::roles::Role;
use entity::users;
use reqwest::Method;
use sea_orm::{EntityTrait, PaginatorTrait};
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
    assert_eq!(row.email, format!("deleted-{id}@deleted.invalid"));
    assert_eq!(row.full_name, "Deleted user");
    assert!(row.phone.is_none() && !row.is_active && row.deleted_at.is_some());
    // The address is free again.
    app.customer("gone@example.com").await;
}
