//! Rate limits of SPEC §9, hit exactly at their bounds, in-process and through Redis; windows are
//! crossed by moving the clock.

use chrono::Duration;
use serde_json::json;

use curtain::accounts::roles::Role;

use crate::harness::{PASSWORD, TestApp, backends};

#[tokio::test]
async fn anonymous_callers_get_100_requests_an_hour() {
    for backend in backends() {
        let app = TestApp::builder().env("CURTAIN_RATE_LIMITS", "on").backend(&backend).spawn().await;
        // Start at the top of a window so the hour cannot roll over mid-test.
        let now = app.clock_now();
        app.clock.set(now - Duration::seconds(now.timestamp().rem_euclid(3600)));
        for i in 0..100 {
            let res = app.get("/api/categories").await;
            assert_eq!(res.status, 200, "request {} ({backend:?})", i + 1);
        }
        let refused = app.get("/api/categories").await;
        assert_eq!(refused.status, 429, "{backend:?}");
        assert_eq!(refused.error_code(), "rate_limited");
        assert_eq!(refused.headers["retry-after"], "3600");
        // Health checks are never limited.
        assert_eq!(app.get("/health/ready").await.status, 200);
        app.clock.advance(Duration::minutes(60));
        assert_eq!(app.get("/api/categories").await.status, 200, "a new hour ({backend:?})");
    }
}

#[tokio::test]
async fn signed_in_users_have_their_own_larger_allowance() {
    for backend in backends() {
        let app = TestApp::builder()
            .env("CURTAIN_RATE_LIMITS", "on")
            .env("CURTAIN_LIMIT_USER_PER_HOUR", "30")
            .env("CURTAIN_LIMIT_ANONYMOUS_PER_HOUR", "1000")
            .backend(&backend)
            .spawn()
            .await;
        let now = app.clock_now();
        app.clock.set(now - Duration::seconds(now.timestamp().rem_euclid(3600)));
        let session = app.customer("busy@example.com").await;
        let token = session["access_token"].as_str().unwrap();
        for i in 0..30 {
            assert_eq!(
                app.get_as("/api/auth/me", token).await.status,
                200,
                "request {} ({backend:?})",
                i + 1
            );
        }
        assert_eq!(app.get_as("/api/auth/me", token).await.status, 429, "{backend:?}");
        // Another user is counted apart.
        let other = app.customer("calm@example.com").await;
        assert_eq!(app.get_as("/api/auth/me", other["access_token"].as_str().unwrap()).await.status, 200);
    }
}

#[tokio::test]
async fn five_failed_logins_lock_the_account_for_fifteen_minutes() {
    for backend in backends() {
        let app = TestApp::builder().env("CURTAIN_RATE_LIMITS", "on").backend(&backend).spawn().await;
        let now = app.clock_now();
        app.clock.set(now - Duration::seconds(now.timestamp().rem_euclid(900)));
        app.customer("target@example.com").await;
        let attempt = |password: &'static str| {
            let app = &app;
            async move {
                app.post(
                    "/api/auth/login",
                    &json!({"email": "target@example.com", "password": password}),
                    None,
                )
                .await
            }
        };
        for _ in 0..5 {
            assert_eq!(attempt("wrong-password-x").await.status, 401);
        }
        let locked = attempt(PASSWORD).await;
        assert_eq!(locked.status, 429, "even the right password waits ({backend:?})");
        assert_eq!(locked.error_code(), "rate_limited");
        assert!(locked.headers.get("retry-after").is_some());
        app.clock.advance(Duration::minutes(15));
        assert_eq!(attempt(PASSWORD).await.status, 200, "{backend:?}");
    }
}

#[tokio::test]
async fn twenty_failed_logins_from_one_address_block_it() {
    for backend in backends() {
        let app = TestApp::builder().env("CURTAIN_RATE_LIMITS", "on").backend(&backend).spawn().await;
        let now = app.clock_now();
        app.clock.set(now - Duration::seconds(now.timestamp().rem_euclid(900)));
        for i in 0..20 {
            let res = app
                .post(
                    "/api/auth/login",
                    &json!({"email": format!("guess{i}@example.com"), "password": "nope-nope-nope"}),
                    None,
                )
                .await;
            assert_eq!(res.status, 401, "attempt {} ({backend:?})", i + 1);
        }
        let res = app
            .post(
                "/api/auth/login",
                &json!({"email": "guess99@example.com", "password": "nope-nope-nope"}),
                None,
            )
            .await;
        assert_eq!(res.status, 429, "{backend:?}");
    }
}

#[tokio::test]
async fn forwarded_for_counts_only_behind_a_trusted_proxy() {
    for trusted in [false, true] {
        let mut builder =
            TestApp::builder().env("CURTAIN_RATE_LIMITS", "on").env("CURTAIN_LIMIT_ANONYMOUS_PER_HOUR", "3");
        if trusted {
            builder = builder.env("CURTAIN_TRUSTED_PROXIES", "127.0.0.1");
        }
        let app = builder.spawn().await;
        let now = app.clock_now();
        app.clock.set(now - Duration::seconds(now.timestamp().rem_euclid(3600)));
        let mut statuses = Vec::new();
        for i in 0..4 {
            let res = app
                .client
                .get(app.url("/api/tags"))
                .header("x-forwarded-for", format!("203.0.113.{i}"))
                .send()
                .await
                .unwrap();
            statuses.push(res.status().as_u16());
        }
        if trusted {
            assert_eq!(statuses, [200, 200, 200, 200], "four clients behind the proxy");
        } else {
            assert_eq!(statuses, [200, 200, 200, 429], "a spoofed header changes nothing");
        }
    }
}

#[tokio::test]
async fn two_instances_share_their_counts_through_redis() {
    let Some(redis) = backends().into_iter().flatten().next() else { return };
    let backend = Some(redis);
    let a = TestApp::builder()
        .env("CURTAIN_RATE_LIMITS", "on")
        .env("CURTAIN_LIMIT_ANONYMOUS_PER_HOUR", "4")
        .backend(&backend)
        .spawn()
        .await;
    let b = TestApp::builder()
        .env("CURTAIN_RATE_LIMITS", "on")
        .env("CURTAIN_LIMIT_ANONYMOUS_PER_HOUR", "4")
        .backend(&backend)
        .spawn()
        .await;
    let now = a.clock_now();
    let top = now - Duration::seconds(now.timestamp().rem_euclid(3600));
    a.clock.set(top);
    b.clock.set(top);
    for _ in 0..2 {
        assert_eq!(a.get("/api/tags").await.status, 200);
        assert_eq!(b.get("/api/tags").await.status, 200);
    }
    assert_eq!(a.get("/api/tags").await.status, 429);
    assert_eq!(b.get("/api/tags").await.status, 429);
    assert_eq!(b.get("/health/ready").await.body["checks"]["redis"], "ok");
}

/// Login counts each attempt before checking the password: a burst of parallel guesses gets no
/// more answers than the limit allows, then 429 — even for the right password.
#[tokio::test]
async fn a_burst_of_parallel_wrong_passwords_gets_only_the_allowed_tries() {
    for backend in backends() {
        let app = TestApp::builder().env("CURTAIN_RATE_LIMITS", "on").backend(&backend).spawn().await;
        let now = app.clock_now();
        app.clock.set(now - Duration::seconds(now.timestamp().rem_euclid(3600)));
        app.customer("burst@example.com").await;
        let wrong = json!({"email": "burst@example.com", "password": "wrong-password-x"});
        let statuses: Vec<u16> = futures_util::future::join_all(
            (0..40).map(|_| async { app.post("/api/auth/login", &wrong, None).await.status.as_u16() }),
        )
        .await;
        let failures = statuses.iter().filter(|s| **s == 401).count();
        let limited = statuses.iter().filter(|s| **s == 429).count();
        assert!((1..=5).contains(&failures), "{failures} wrong passwords were checked ({backend:?})");
        assert_eq!(failures + limited, 40, "{statuses:?}");
        let locked = app
            .post("/api/auth/login", &json!({"email": "burst@example.com", "password": PASSWORD}), None)
            .await;
        assert_eq!(locked.status, 429, "{backend:?}");
    }
}

/// A successful login does not use up the address's allowance of failures.
#[tokio::test]
async fn successful_logins_do_not_count_as_failures_from_the_address() {
    for backend in backends() {
        let app = TestApp::builder()
            .env("CURTAIN_RATE_LIMITS", "on")
            .env("CURTAIN_LIMIT_LOGIN_FAILURES_PER_IP", "3")
            .backend(&backend)
            .spawn()
            .await;
        let now = app.clock_now();
        app.clock.set(now - Duration::seconds(now.timestamp().rem_euclid(3600)));
        app.customer("office@example.com").await;
        for _ in 0..5 {
            app.login("office@example.com", PASSWORD).await;
        }
        let wrong = json!({"email": "office@example.com", "password": "wrong-password-x"});
        for _ in 0..3 {
            assert_eq!(app.post("/api/auth/login", &wrong, None).await.status, 401, "{backend:?}");
        }
        assert_eq!(app.post("/api/auth/login", &wrong, None).await.status, 429, "{backend:?}");
    }
}

/// Sign-up, sign-in and mailed-link routes count the client address even when the request
/// carries a valid token: a throwaway account does not lift the per-address cap.
#[tokio::test]
async fn a_token_does_not_lift_the_per_address_cap_on_account_routes() {
    for backend in backends() {
        let app = TestApp::builder()
            .env("CURTAIN_RATE_LIMITS", "on")
            .env("CURTAIN_LIMIT_ANONYMOUS_PER_HOUR", "3")
            .backend(&backend)
            .spawn()
            .await;
        let now = app.clock_now();
        app.clock.set(now - Duration::seconds(now.timestamp().rem_euclid(3600)));
        let (_, token) = app.quick_user("throwaway@example.com", Role::Customer).await;
        let body = json!({"email": "victim@example.com"});
        for i in 0..3 {
            let res = app.post("/api/auth/password-reset/request", &body, Some(&token)).await;
            assert_eq!(res.status, 202, "request {} ({backend:?})", i + 1);
        }
        let refused = app.post("/api/auth/password-reset/request", &body, Some(&token)).await;
        assert_eq!(refused.status, 429, "{backend:?}");
        let register = json!({"email": "new@example.com", "password": PASSWORD, "full_name": "N"});
        assert_eq!(app.post("/api/auth/register", &register, Some(&token)).await.status, 429, "{backend:?}");
        // Elsewhere the token still counts for its user, apart from the address.
        assert_eq!(app.get_as("/api/auth/me", &token).await.status, 200, "{backend:?}");
    }
}
