//! The outbox and its worker (SPEC §8): transactional enqueue, exactly-once runs with competing
//! workers, retries with backoff, the dead state, leases, periodic slots, and mail over SMTP.

use chrono::Duration;
use curtain::{
    accounts::roles::Role,
    jobs::{
        email::{self, EmailJob},
        kind, periodic, queue,
    },
    mail::{
        Attachment, Email,
        templates::{Locale, Template},
    },
};
use entity::{jobs, sent_mails};
use mail_parser::{MessageParser, MimeHeaders};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;

use crate::{harness::TestApp, smtp_sink::SmtpSink};

fn welcome(to: &str) -> EmailJob {
    EmailJob {
        template: Template::Welcome,
        locale: Locale::En,
        to: to.to_owned(),
        data: json!({"name": "Lan", "link": "http://x/verify-email?token=t", "hours": 48}),
        booking_documents: None,
    }
}

async fn job_rows(app: &TestApp) -> Vec<jobs::Model> {
    jobs::Entity::find().filter(jobs::Column::Kind.eq(kind::SEND_EMAIL)).all(app.db()).await.unwrap()
}

#[tokio::test]
async fn a_job_of_a_rolled_back_transaction_never_runs() {
    let app = TestApp::spawn().await;
    let now = app.clock_now();
    let txn = app.state.begin_write().await.unwrap();
    email::enqueue(&txn, &welcome("ghost@example.com"), now).await.unwrap();
    txn.rollback().await.unwrap();
    let txn = app.state.begin_write().await.unwrap();
    email::enqueue(&txn, &welcome("real@example.com"), now).await.unwrap();
    txn.commit().await.unwrap();
    assert_eq!(app.drain_jobs().await, 1);
    let mails = app.mails().await;
    assert_eq!(mails.len(), 1);
    assert!(mails[0].contains("To: real@example.com"));
}

#[tokio::test]
async fn two_workers_run_each_committed_job_exactly_once() {
    let app = TestApp::spawn().await;
    let other = app.second_instance().await;
    let now = app.clock_now();
    let txn = app.state.begin_write().await.unwrap();
    for i in 0..30 {
        email::enqueue(&txn, &welcome(&format!("fan{i}@example.com")), now).await.unwrap();
    }
    txn.commit().await.unwrap();
    let (a, b) = tokio::join!(
        curtain::jobs::runner::drain(&app.state, "worker-a"),
        curtain::jobs::runner::drain(&other.state, "worker-b")
    );
    assert_eq!(a + b, 30, "a={a} b={b}");
    assert!(job_rows(&app).await.iter().all(|j| j.status == "done" && j.attempts == 1));
    assert_eq!(sent_mails::Entity::find().count(app.db()).await.unwrap(), 30);
    assert_eq!(app.mails().await.len(), 30);
}

#[tokio::test]
async fn a_failing_job_backs_off_then_dies_with_its_error_and_staff_can_retry_it() {
    let app = TestApp::builder().env("SMTP_URL", "smtp://127.0.0.1:1").spawn().await;
    let now = app.clock_now();
    let txn = app.state.begin_write().await.unwrap();
    email::enqueue(&txn, &welcome("unreachable@example.com"), now).await.unwrap();
    txn.commit().await.unwrap();

    let mut previous_run_at = now;
    for attempt in 1..=queue::MAX_ATTEMPTS {
        assert_eq!(app.drain_jobs().await, 1, "attempt {attempt}");
        let job = job_rows(&app).await.pop().unwrap();
        assert_eq!(job.attempts, attempt);
        assert!(job.last_error.as_deref().unwrap_or_default().contains("SMTP"), "{:?}", job.last_error);
        if attempt < queue::MAX_ATTEMPTS {
            assert_eq!(job.status, "queued");
            let wait = job.run_at - app.clock_now();
            assert!(
                wait >= Duration::seconds(2i64.pow(attempt as u32).min(3600)),
                "attempt {attempt}: waits {wait}"
            );
            assert!(job.run_at > previous_run_at);
            previous_run_at = job.run_at;
            // Not due yet: nothing runs.
            assert_eq!(app.drain_jobs().await, 0);
            app.clock.set(job.run_at);
        } else {
            assert_eq!(job.status, "dead", "after {attempt} attempts");
        }
    }

    let (_, staff) = app.quick_user("ops@example.com", Role::Staff).await;
    let (_, customer) = app.quick_user("c@example.com", Role::Customer).await;
    assert_eq!(app.get_as("/api/admin/jobs", &customer).await.status, 403);
    let summary = app.get_as("/api/admin/jobs/summary", &staff).await;
    assert_eq!(summary.status, 200, "{}", summary.text);
    assert_eq!(summary.data()["counts"]["dead"], 1);
    assert!(summary.data()["recent_errors"][0]["last_error"].as_str().unwrap().contains("SMTP"));
    let dead = app.get_as("/api/admin/jobs?status=dead&kind=send_email", &staff).await;
    assert_eq!(dead.total(), 1);
    let id = dead.data()[0]["id"].as_i64().unwrap();
    let retried = app.post(&format!("/api/admin/jobs/{id}/retry"), &json!({}), Some(&staff)).await;
    assert_eq!(retried.status, 200, "{}", retried.text);
    assert_eq!(retried.data()["status"], "queued");
    assert_eq!(retried.data()["attempts"], 0);
    let discarded = app.post(&format!("/api/admin/jobs/{id}/discard"), &json!({}), Some(&staff)).await;
    assert_eq!(discarded.data()["status"], "done");
    assert!(discarded.data()["last_error"].as_str().unwrap().contains("discarded"));
    assert_eq!(app.post(&format!("/api/admin/jobs/{id}/retry"), &json!({}), Some(&staff)).await.status, 409);
    assert_eq!(app.get_as("/api/admin/jobs?status=nope", &staff).await.error_fields(), ["status"]);
}

#[tokio::test]
async fn a_payload_that_no_longer_parses_goes_dead_at_once() {
    let app = TestApp::spawn().await;
    let now = app.clock_now();
    for (kind, payload) in [
        (kind::SEND_EMAIL, json!({"template": "welcome", "recipient": "old-format"})),
        ("retired_kind", json!({})),
    ] {
        jobs::ActiveModel {
            kind: Set(kind.into()),
            payload: Set(payload),
            status: Set("queued".into()),
            run_at: Set(now),
            attempts: Set(0),
            max_attempts: Set(8),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(app.writer())
        .await
        .unwrap();
    }
    assert_eq!(app.drain_jobs().await, 2);
    let rows = jobs::Entity::find().all(app.db()).await.unwrap();
    assert!(rows.iter().all(|j| j.status == "dead" && j.attempts == 1), "{rows:?}");
    assert!(rows[0].last_error.as_deref().unwrap().contains("does not parse"));
    assert!(rows[1].last_error.as_deref().unwrap().contains("unknown job kind"));
}

#[tokio::test]
async fn a_job_whose_worker_died_is_finished_by_another_after_the_lease() {
    let app = TestApp::spawn().await;
    let now = app.clock_now();
    let txn = app.state.begin_write().await.unwrap();
    email::enqueue(&txn, &welcome("lease@example.com"), now).await.unwrap();
    txn.commit().await.unwrap();
    // A worker claims it and dies without a word.
    assert_eq!(queue::claim(app.writer(), "ghost", 10, now).await.unwrap().len(), 1);
    assert_eq!(app.drain_jobs().await, 0, "the lease still holds");
    app.clock.advance(queue::LEASE + Duration::seconds(1));
    assert_eq!(app.drain_jobs().await, 1);
    let job = job_rows(&app).await.pop().unwrap();
    assert_eq!((job.status.as_str(), job.attempts), ("done", 2));
    assert_eq!(app.mails().await.len(), 1);
}

#[tokio::test]
async fn an_email_sent_before_a_crash_is_not_sent_again() {
    let app = TestApp::spawn().await;
    let now = app.clock_now();
    let txn = app.state.begin_write().await.unwrap();
    email::enqueue(&txn, &welcome("once@example.com"), now).await.unwrap();
    txn.commit().await.unwrap();
    app.drain_jobs().await;
    // The worker sent and recorded the mail but died before acknowledging the job.
    let job = job_rows(&app).await.pop().unwrap();
    let mut back: jobs::ActiveModel = job.into();
    back.status = Set("queued".into());
    back.update(app.writer()).await.unwrap();
    assert_eq!(app.drain_jobs().await, 1);
    assert_eq!(app.mails().await.len(), 1, "no second mail");
    assert_eq!(job_rows(&app).await.pop().unwrap().status, "done");
}

#[tokio::test]
async fn a_periodic_duty_gets_one_job_per_slot_whatever_the_workers() {
    let app = TestApp::spawn().await;
    let other = app.second_instance().await;
    let now = app.clock_now();
    let (a, b) = tokio::join!(periodic::tick(app.writer(), now), periodic::tick(other.writer(), now));
    assert_eq!(a.unwrap() + b.unwrap(), periodic::SCHEDULE.len());
    assert_eq!(periodic::tick(app.writer(), now).await.unwrap(), 0);
    let expiries = || async {
        jobs::Entity::find().filter(jobs::Column::Kind.eq(kind::EXPIRE_HOLDS)).count(app.db()).await.unwrap()
    };
    assert_eq!(expiries().await, 1);
    app.clock.advance(Duration::seconds(15));
    periodic::tick(app.writer(), app.clock_now()).await.unwrap();
    assert_eq!(expiries().await, 2, "the next slot");
    // (The 15 s step may also start a new slot of a slower duty.)
    let queued = jobs::Entity::find().count(app.db()).await.unwrap() as usize;
    assert!(queued > periodic::SCHEDULE.len());
    let (x, y) = tokio::join!(
        curtain::jobs::runner::drain(&app.state, "a"),
        curtain::jobs::runner::drain(&other.state, "b")
    );
    assert_eq!(x + y, queued, "every job ran once, on one worker or the other");
    let all = jobs::Entity::find().all(app.db()).await.unwrap();
    assert!(all.iter().all(|j| j.status == "done"), "{all:?}");
}

#[tokio::test]
async fn mail_goes_over_a_real_smtp_conversation_with_both_parts_and_attachments() {
    let sink = SmtpSink::start().await;
    let app = TestApp::builder()
        .env("SMTP_URL", &sink.url)
        .env("MAIL_FROM", "Curtain Box Office <box@curtain.test>")
        .spawn()
        .await;
    let res = app
        .post("/api/auth/register", &json!({"email": "hoa@example.com", "password": crate::harness::PASSWORD, "full_name": "Trần Thị Hoa", "locale": "vi"}), None)
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    assert_eq!(res.data()["locale"], "vi");
    assert!(sink.messages().is_empty(), "nothing leaves before the worker runs");
    app.drain_jobs().await;
    let messages = sink.messages();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].from, "box@curtain.test");
    assert_eq!(messages[0].to, ["hoa@example.com"]);
    let parsed = MessageParser::default().parse(messages[0].data.as_bytes()).unwrap();
    assert_eq!(parsed.subject(), Some("Chào mừng đến với Curtain — vui lòng xác nhận email"));
    assert!(parsed.body_text(0).unwrap().contains("Xin chào Trần Thị Hoa"));
    assert!(parsed.body_html(0).unwrap().contains("Xác nhận email"));

    // Attachments travel too (tickets and receipts use this path).
    // Binary, as a real PDF is (the binary marker line), so it travels base64-encoded and intact.
    let mut pdf = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n".to_vec();
    pdf.extend((0u8..=255).cycle().take(3000));
    let mut email = curtain::mail::templates::render(
        Template::Refund,
        Locale::En,
        "hoa@example.com",
        &json!({"name": "Hoa", "reference": "CUR-ABCDEF", "amount": "1 VND", "event_title": "X"}),
    )
    .unwrap();
    email.attachments.push(Attachment {
        filename: "receipt.pdf".into(),
        content_type: "application/pdf".into(),
        bytes: pdf.clone(),
    });
    let _: &Email = &email;
    app.state.mailer.send(&email).await.unwrap();
    let messages = sink.messages();
    let parsed = MessageParser::default().parse(messages[1].data.as_bytes()).unwrap();
    assert_eq!(parsed.subject(), Some("Refund for booking CUR-ABCDEF"));
    assert!(parsed.body_text(0).unwrap().contains("We have refunded 1 VND"));
    assert!(parsed.body_html(0).is_some());
    let attachment = parsed.attachment(0).expect("an attachment");
    assert_eq!(attachment.attachment_name(), Some("receipt.pdf"));
    assert_eq!(attachment.contents(), pdf.as_slice());
}

#[tokio::test]
async fn the_day_before_each_confirmed_buyer_gets_one_reminder() {
    let app = TestApp::with_demo().await;
    let (_, token) = app.quick_user("fan@example.com", Role::Customer).await;
    let (event, seats) = app.demo_event(0).await;
    let res =
        app.post("/api/bookings", &json!({"event_id": event, "seat_ids": &seats[..2]}), Some(&token)).await;
    let id = res.data()["id"].as_i64().unwrap();
    let booking = entity::bookings::Entity::find_by_id(id).one(app.db()).await.unwrap().unwrap();
    let txn = app.state.begin_write().await.unwrap();
    use curtain::bookings::status::{Actor, BookingStatus, transition};
    transition(&txn, &booking, BookingStatus::Confirmed, Actor(None), None, app.clock_now()).await.unwrap();
    txn.commit().await.unwrap();
    // Two days ahead: too early.
    periodic::send_reminders(&app.state).await.unwrap();
    assert!(app.mails().await.iter().all(|m| !m.contains("Tomorrow")));

    let start = entity::events::Entity::find_by_id(event).one(app.db()).await.unwrap().unwrap().start_time;
    app.clock.set(start - Duration::hours(20));
    periodic::send_reminders(&app.state).await.unwrap();
    periodic::send_reminders(&app.state).await.unwrap();
    let reminders: Vec<String> = app.mails().await.into_iter().filter(|m| m.contains("Tomorrow")).collect();
    assert_eq!(reminders.len(), 1, "once, however often the duty runs");
    // Later runs do not even read the booking again.
    assert_eq!(periodic::queue_reminders(&app.state).await.unwrap(), 0);
    let booking = entity::bookings::Entity::find_by_id(id).one(app.db()).await.unwrap().unwrap();
    assert_eq!(booking.reminded_at, Some(start - Duration::hours(20)));
    assert!(reminders[0].contains("To: fan@example.com"));
    assert!(
        reminders[0].contains("Subject: Tomorrow: =?utf-8?") || reminders[0].contains("Subject: Tomorrow:")
    );
}
