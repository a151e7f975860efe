//! The `curtain` binary itself: start-up errors are one line and a non-zero exit, never a panic.

use std::process::Command;

fn curtain(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_curtain"));
    cmd.args(args).current_dir(dir.path()).env_clear().env("PATH", std::env::var("PATH").unwrap_or_default());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

#[test]
fn an_unknown_database_scheme_is_a_one_line_error() {
    let out = curtain(&["migrate"], &[("DATABASE_URL", "mysql://root@127.0.0.1/curtain")]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("not supported"), "{stderr}");
    assert!(!stderr.contains("panicked"));
}

#[test]
fn an_unreachable_database_is_a_one_line_error() {
    let out = curtain(&["migrate"], &[("DATABASE_URL", "postgres://curtain:secret@127.0.0.1:1/curtain")]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("cannot connect to PostgreSQL"), "{stderr}");
    assert!(!stderr.contains("secret"), "the password must not be printed: {stderr}");
}

#[test]
fn migrate_seed_and_create_admin_work_on_the_default_database() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_curtain"))
            .args(args)
            .current_dir(dir.path())
            .env_remove("DATABASE_URL")
            .env_remove("CURTAIN_DATA_DIR")
            .output()
            .unwrap()
    };
    assert!(run(&["migrate"]).status.success());
    assert!(dir.path().join("data/curtain.db").exists());
    let seeded = run(&["seed-demo"]);
    assert!(String::from_utf8_lossy(&seeded.stdout).contains("staff@curtain.test"));
    let again = run(&["seed-demo"]);
    assert!(String::from_utf8_lossy(&again.stdout).contains("already there"));
    let admin = run(&["create-admin", "--email", "Boss@Example.com", "--password", "a-long-password"]);
    assert!(admin.status.success(), "{}", String::from_utf8_lossy(&admin.stderr));
    assert!(String::from_utf8_lossy(&admin.stdout).contains("boss@example.com is now admin"));
    let staff = run(&[
        "create-admin",
        "--email",
        "boss@example.com",
        "--password",
        "another-password",
        "--role",
        "staff",
    ]);
    assert!(String::from_utf8_lossy(&staff.stdout).contains("boss@example.com is now staff"));
}

/// The same binary migrates an empty PostgreSQL database and serves the same API from it.
#[test]
fn the_binary_migrates_and_seeds_an_empty_postgres_database() {
    let Some(admin) = crate::harness::postgres_admin_url() else { return };
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let url = rt.block_on(crate::harness::empty_postgres_database(&admin));
    let out = curtain(&["migrate"], &[("DATABASE_URL", &url)]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = curtain(&["seed-demo"], &[("DATABASE_URL", &url)]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("staff@curtain.test"));
    let count: i64 = rt.block_on(async {
        let db = curtain::db::connect_reader(&url).await.unwrap();
        use sea_orm::{EntityTrait, PaginatorTrait};
        let n = entity::events::Entity::find().count(&db).await.unwrap() as i64;
        db.close().await.unwrap();
        n
    });
    assert_eq!(count, 7);
    rt.block_on(crate::harness::drop_postgres_database(&admin, &url));
}

#[test]
fn a_zero_for_a_setting_that_must_be_positive_stops_the_start_in_one_line() {
    for key in [
        "CURTAIN_HOLD_MINUTES",
        "CURTAIN_WS_MAX",
        "CURTAIN_MAX_HELD_SEATS_PER_IP",
        "CURTAIN_LIMIT_BOOKINGS_PER_MINUTE",
    ] {
        let out = curtain(&["migrate"], &[(key, "0")]);
        assert!(!out.status.success(), "{key}=0 is refused");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
        assert!(stderr.contains(key) && stderr.contains("at least 1"), "{stderr}");
    }
}

/// A half-configured gateway never falls back to the simulator (which would give tickets away):
/// the binary refuses to start, in one line that names what is missing and never the secret.
#[test]
fn a_partial_vnpay_configuration_refuses_to_start() {
    let partial = [("VNPAY_TMN_CODE", "CURTAIN1"), ("VNPAY_HASH_SECRET", "hush-hush-secret")];
    let out = curtain(&["migrate"], &partial);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("VNPAY_PAYMENT_URL, VNPAY_API_URL missing"), "{stderr}");
    assert!(!stderr.contains("hush-hush-secret"), "{stderr}");

    let simulated_with_a_gateway_url = [
        ("VNPAY_SIMULATOR", "on"),
        ("VNPAY_TMN_CODE", "CURTAIN1"),
        ("VNPAY_HASH_SECRET", "hush-hush-secret"),
        ("VNPAY_PAYMENT_URL", "https://sandbox.vnpayment.vn/paymentv2/vpcpay.html"),
    ];
    let out = curtain(&["migrate"], &simulated_with_a_gateway_url);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("VNPAY_SIMULATOR=on cannot be combined with VNPAY_PAYMENT_URL"), "{stderr}");
}

/// Runs `curtain serve` in `dir` until a line containing `until` appears on its output (or a
/// minute passes), then stops it; returns the lines read.
fn serve_until(dir: &std::path::Path, until: &str) -> Vec<String> {
    use std::io::{BufRead, BufReader};
    let mut child = Command::new(env!("CARGO_BIN_EXE_curtain"))
        .arg("serve")
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("CURTAIN_ADDR", "127.0.0.1:0")
        .env("CURTAIN_LOG_FORMAT", "json")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut lines = Vec::new();
    while let Ok(line) = rx.recv_timeout(std::time::Duration::from_secs(60)) {
        let done = line.contains(until);
        lines.push(line);
        if done {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    lines
}

/// On an empty embedded database `serve` says first that the demo is on and prints the demo
/// logins with passwords drawn for it, once; on the next start (users exist) it loads nothing.
#[test]
fn serve_announces_the_demo_first_and_prints_fresh_passwords_once() {
    let dir = tempfile::tempdir().unwrap();
    let lines = serve_until(dir.path(), "buyer@curtain.test");
    assert!(lines.first().is_some_and(|l| l.contains("DEMO MODE")), "{lines:#?}");
    let password_of = |email: &str| {
        let line = lines.iter().find(|l| l.contains(email)).unwrap_or_else(|| panic!("{email}: {lines:#?}"));
        line.split_whitespace().last().unwrap().to_owned()
    };
    let passwords: Vec<String> =
        ["admin@curtain.test", "staff@curtain.test", "buyer@curtain.test"].map(password_of).into();
    for (password, published) in
        passwords.iter().zip(["curtain-admin-demo", "curtain-staff-demo", "curtain-buyer-demo"])
    {
        assert!(password.len() >= 16 && password != published, "{password}");
    }
    let again = serve_until(dir.path(), "listening");
    assert!(again.iter().any(|l| l.contains("listening")), "{again:#?}");
    let printed = again.join("\n");
    assert!(!printed.contains("DEMO MODE") && !printed.contains("curtain.test"), "{printed}");
    assert!(passwords.iter().all(|p| !printed.contains(p.as_str())));
}
