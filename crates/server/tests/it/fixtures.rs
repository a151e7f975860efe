//! Builders for catalog tests: a staff session, a venue with sections made through the API, a
//! published performance, and image bytes made here (a real 1×1 PNG, a JPEG header).

use curtain::accounts::roles::Role;
use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{TestApp, TestResponse};

pub fn access(session: &Value) -> String {
    session["access_token"].as_str().unwrap().to_owned()
}

pub async fn staff(app: &TestApp) -> String {
    access(&app.user_with_role("stage.manager@curtain.test", Role::Staff).await)
}

pub fn id(res: &TestResponse) -> i64 {
    res.data()["id"].as_i64().unwrap_or_else(|| panic!("no id in {}", res.text))
}

impl TestApp {
    pub async fn patch(&self, path: &str, body: &Value, token: &str) -> TestResponse {
        self.send(Method::PATCH, path, Some(body), Some(token)).await
    }

    pub async fn put(&self, path: &str, body: &Value, token: &str) -> TestResponse {
        self.send(Method::PUT, path, Some(body), Some(token)).await
    }

    pub async fn delete(&self, path: &str, token: &str) -> TestResponse {
        self.send(Method::DELETE, path, None, Some(token)).await
    }

    /// A multipart upload built by hand: the `file` field (with `filename`) and an optional caption.
    pub async fn upload(
        &self,
        path: &str,
        filename: &str,
        bytes: &[u8],
        caption: Option<&str>,
        token: &str,
    ) -> TestResponse {
        let boundary = "curtain-test-boundary-7c1f";
        let mut body = Vec::new();
        if let Some(caption) = caption {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"caption\"\r\n\r\n{caption}\r\n"
                )
                .as_bytes(),
            );
        }
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\nContent-Type: image/png\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let res = self
            .client
            .post(self.url(path))
            .bearer_auth(token)
            .header("content-type", format!("multipart/form-data; boundary={boundary}"))
            .body(body)
            .send()
            .await
            .expect("upload failed");
        TestResponse::read(res).await
    }
}

/// Creates a venue; returns its id.
pub async fn venue(app: &TestApp, token: &str, name: &str) -> i64 {
    let res = app
        .post(
            "/api/venues",
            &json!({"name": name, "address": "7 Công Trường Lam Sơn", "city": "Hồ Chí Minh", "time_zone": "Asia/Ho_Chi_Minh"}),
            Some(token),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    id(&res)
}

/// Adds a section of `rows` × `per_row` straight seats; returns its id.
pub async fn section(app: &TestApp, token: &str, venue: i64, name: &str, rows: u32, per_row: u32) -> i64 {
    let res = app
        .post(
            &format!("/api/venues/{venue}/sections"),
            &json!({"name": name, "layout": {"rows": rows, "seats_per_row": per_row}}),
            Some(token),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    id(&res)
}

/// A draft performance at `venue` starting in `days` days; returns its id.
pub async fn draft(app: &TestApp, token: &str, venue: i64, title: &str, days: i64) -> i64 {
    let start = app.clock_now() + chrono::Duration::days(days);
    let res = app
        .post(
            "/api/events",
            &json!({
                "venue_id": venue, "title": title, "description": "An evening at the theatre.",
                "start_time": start, "end_time": start + chrono::Duration::hours(2),
            }),
            Some(token),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    id(&res)
}

/// A venue with Stalls (2 × 5) and Circle (1 × 4), and a published performance priced
/// 300,000 / 150,000. Returns (venue, [stalls, circle], event).
pub async fn published_show(app: &TestApp, token: &str) -> (i64, [i64; 2], i64) {
    let venue = venue(app, token, "Nhà hát Thành phố").await;
    let stalls = section(app, token, venue, "Stalls", 2, 5).await;
    let circle = section(app, token, venue, "Circle", 1, 4).await;
    let event = draft(app, token, venue, "Hamlet", 10).await;
    let res = app
        .put(
            &format!("/api/events/{event}/prices"),
            &json!({"prices": [{"section_id": stalls, "price": 300_000}, {"section_id": circle, "price": 150_000}]}),
            token,
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let res = app.post(&format!("/api/events/{event}/publish"), &json!({}), Some(token)).await;
    assert_eq!(res.status, 200, "{}", res.text);
    (venue, [stalls, circle], event)
}

/// A real 1×1 grey PNG: signature, IHDR, a stored-deflate IDAT and IEND, with correct CRCs.
pub fn tiny_png() -> Vec<u8> {
    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for &b in bytes {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
            }
        }
        !crc
    }
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut body = kind.to_vec();
        body.extend_from_slice(data);
        out.extend_from_slice(&body);
        out.extend_from_slice(&crc32(&body).to_be_bytes());
    }
    let raw = [0u8, 0x80]; // filter byte, one grey pixel
    let adler = {
        let (mut a, mut b) = (1u32, 0u32);
        for &x in &raw {
            a = (a + u32::from(x)) % 65_521;
            b = (b + a) % 65_521;
        }
        (b << 16) | a
    };
    let mut zlib = vec![0x78, 0x01, 0x01, 0x02, 0x00, 0xFD, 0xFF];
    zlib.extend_from_slice(&raw);
    zlib.extend_from_slice(&adler.to_be_bytes());
    let mut png = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    chunk(&mut png, b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0]);
    chunk(&mut png, b"IDAT", &zlib);
    chunk(&mut png, b"IEND", &[]);
    png
}

/// The start of a JFIF file: SOI and an APP0 segment, then EOI.
pub fn tiny_jpeg() -> Vec<u8> {
    let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00, 0x01, 0x01, 0x00];
    jpeg.extend_from_slice(&[0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0xFF, 0xD9]);
    jpeg
}
