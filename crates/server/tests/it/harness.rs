//! The test harness: `TestApp::spawn()` gives a running server on its own database.

use std::{collections::HashMap, sync::Arc};

use chrono::Utc;
use curtain::{
    app::{self, AppState},
    clock::ManualClock,
    config::Config,
};
use reqwest::{Method, StatusCode};
use sea_orm::sqlx::{Connection, Executor, postgres::PgConnection};
use serde_json::Value;
use tokio::sync::oneshot;

/// Which database this test run uses: `TEST_DATABASE_URL` (PostgreSQL) or SQLite.
pub fn postgres_admin_url() -> Option<String> {
    std::env::var("TEST_DATABASE_URL").ok().filter(|u| u.starts_with("postgres"))
}

/// The password every test account uses.
pub const PASSWORD: &str = "violet-harbour-41";

pub struct TestApp {
    pub base: String,
    pub state: AppState,
    pub clock: ManualClock,
    pub client: reqwest::Client,
    _db: TestDb,
    _shutdown: oneshot::Sender<()>,
}

pub struct TestBuilder {
    demo: bool,
    env: HashMap<String, String>,
}

impl TestApp {
    /// An empty database.
    pub async fn spawn() -> Self {
        Self::builder().spawn().await
    }

    /// The demo theater and its week of performances.
    pub async fn with_demo() -> Self {
        Self::builder().demo().spawn().await
    }

    pub fn builder() -> TestBuilder {
        TestBuilder { demo: false, env: HashMap::new() }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn get(&self, path: &str) -> TestResponse {
        self.request(Method::GET, path, None).await
    }

    pub async fn request(&self, method: Method, path: &str, body: Option<&Value>) -> TestResponse {
        self.send(method, path, body, None).await
    }

    /// A request with an optional JSON body and bearer token.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        token: Option<&str>,
    ) -> TestResponse {
        let mut req = self.client.request(method, self.url(path));
        if let Some(body) = body {
            req = req.json(body);
        }
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        TestResponse::read(req.send().await.expect("request failed")).await
    }

    pub async fn post(&self, path: &str, body: &Value, token: Option<&str>) -> TestResponse {
        self.send(Method::POST, path, Some(body), token).await
    }

    pub async fn get_as(&self, path: &str, token: &str) -> TestResponse {
        self.send(Method::GET, path, None, Some(token)).await
    }

    /// Registers a customer and signs in; returns the login answer's `data`.
    pub async fn customer(&self, email: &str) -> Value {
        let res = self
            .post(
                "/api/auth/register",
                &serde_json::json!({"email": email, "password": PASSWORD, "full_name": "Test Buyer"}),
                None,
            )
            .await;
        assert_eq!(res.status, 201, "{}", res.text);
        self.login(email, PASSWORD).await
    }

    /// Creates (or promotes) a user with `role` and signs in.
    pub async fn user_with_role(&self, email: &str, role: curtain::accounts::roles::Role) -> Value {
        curtain::accounts::service::upsert_with_role(
            self.writer(),
            &self.clock,
            email,
            PASSWORD,
            role,
            "Staff Member",
        )
        .await
        .unwrap();
        self.login(email, PASSWORD).await
    }

    pub async fn login(&self, email: &str, password: &str) -> Value {
        let res = self
            .post("/api/auth/login", &serde_json::json!({"email": email, "password": password}), None)
            .await;
        assert_eq!(res.status, 200, "{}", res.text);
        res.data().clone()
    }

    /// The read handle (refuses writes).
    pub fn db(&self) -> &curtain::db::Reader {
        &self.state.db
    }

    /// The write handle, for fixtures that write behind the API's back.
    pub fn writer(&self) -> &curtain::db::Writer {
        &self.state.writer
    }

    pub fn clock_now(&self) -> chrono::DateTime<chrono::Utc> {
        use curtain::clock::Clock;
        self.clock.now()
    }
}

impl TestBuilder {
    pub fn demo(mut self) -> Self {
        self.demo = true;
        self
    }

    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.insert(key.to_owned(), value.to_owned());
        self
    }

    pub async fn spawn(self) -> TestApp {
        let db = TestDb::create().await;
        let data_dir = db.data_dir();
        let mut env = self.env;
        env.insert("DATABASE_URL".into(), db.url.clone());
        env.insert("CURTAIN_DATA_DIR".into(), data_dir.display().to_string());
        env.entry("CURTAIN_DEMO".into()).or_insert_with(|| if self.demo { "on" } else { "off" }.into());
        env.entry("CURTAIN_RATE_LIMITS".into()).or_insert_with(|| "off".into());
        // Bound first, so the public base URL (return URL, the simulator's IPN calls) is this server.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        env.entry("PUBLIC_BASE_URL".into()).or_insert_with(|| format!("http://{addr}"));
        let config = Config::from_lookup(|k| env.get(k).cloned()).expect("test config");
        let clock = ManualClock::new(Utc::now());
        let state = AppState::start(config, Arc::new(clock.clone())).await.expect("app start");
        TestApp::serve_on(listener, state, clock, db).await
    }
}

pub struct TestResponse {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
    pub body: Value,
}

impl TestResponse {
    pub async fn read(res: reqwest::Response) -> Self {
        let status = res.status();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Self { status, headers, text, body }
    }

    pub fn data(&self) -> &Value {
        &self.body["data"]
    }

    /// The first error's code, for refusals.
    pub fn error_code(&self) -> &str {
        self.body["errors"][0]["code"].as_str().unwrap_or_default()
    }

    pub fn error_fields(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| e["field"].as_str().map(str::to_owned))
            .collect()
    }

    pub fn total(&self) -> u64 {
        self.body["meta"]["pagination"]["total"].as_u64().expect("pagination total")
    }
}

/// A database for one test, dropped when the test ends.
struct TestDb {
    url: String,
    dir: tempfile::TempDir,
    postgres: Option<(String, String)>,
}

impl TestDb {
    async fn create() -> Self {
        let dir = tempfile::tempdir().unwrap();
        match postgres_admin_url() {
            None => {
                Self { url: format!("sqlite://{}/curtain.db", dir.path().display()), dir, postgres: None }
            }
            Some(admin) => {
                let name = format!("curtain_test_{}", uuid_like());
                let template = ensure_template(&admin).await;
                let mut conn = PgConnection::connect(&admin).await.expect("connect to TEST_DATABASE_URL");
                run_sql(&mut conn, format!("CREATE DATABASE {name} TEMPLATE {template}"))
                    .await
                    .expect("create test database");
                let _ = conn.close().await;
                Self { url: with_database(&admin, &name), dir, postgres: Some((admin, name)) }
            }
        }
    }

    fn data_dir(&self) -> std::path::PathBuf {
        self.dir.path().join("data")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((admin, name)) = self.postgres.take() else { return };
        // Drop runs outside async: use a short-lived runtime on its own thread.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async {
                if let Ok(mut conn) = PgConnection::connect(&admin).await {
                    let _ = run_sql(&mut conn, format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await;
                    let _ = conn.close().await;
                }
            });
        })
        .join();
    }
}

/// A migrated template database, built once per set of migrations and cloned for each test.
async fn ensure_template(admin: &str) -> String {
    use migration::MigratorTrait;
    let names: Vec<String> = migration::Migrator::migrations().iter().map(|m| m.name().to_owned()).collect();
    let digest = names.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, n| {
        n.bytes().fold(h, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
    });
    let template = format!("curtain_tmpl_{digest:016x}");
    let mut conn = PgConnection::connect(admin).await.expect("connect to TEST_DATABASE_URL");
    conn.execute("SELECT pg_advisory_lock(727274)").await.unwrap();
    let exists: Option<(i32,)> = sea_orm::sqlx::query_as("SELECT 1 FROM pg_database WHERE datname = $1")
        .bind(&template)
        .fetch_optional(&mut conn)
        .await
        .unwrap();
    if exists.is_none() {
        let building = format!("{template}_building");
        run_sql(&mut conn, format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)")).await.unwrap();
        run_sql(&mut conn, format!("CREATE DATABASE {building}")).await.unwrap();
        let url = with_database(admin, &building);
        let db = curtain::db::connect_writer(&url).await.unwrap();
        curtain::db::migrate(&db, &url).await.unwrap();
        db.close().await.unwrap();
        run_sql(&mut conn, format!("ALTER DATABASE {building} RENAME TO {template}")).await.unwrap();
    }
    conn.execute("SELECT pg_advisory_unlock(727274)").await.unwrap();
    let _ = conn.close().await;
    template
}

fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let root = match base.rfind('/') {
        Some(i) if i > base.find("://").map_or(0, |s| s + 2) => &base[..i],
        _ => base,
    };
    match query {
        Some(q) => format!("{root}/{name}?{q}"),
        None => format!("{root}/{name}"),
    }
}

fn uuid_like() -> String {
    use rand::Rng;
    let n: u64 = rand::rng().random();
    format!("{n:016x}")
}

async fn run_sql(conn: &mut PgConnection, sql: String) -> Result<(), sea_orm::sqlx::Error> {
    sea_orm::sqlx::raw_sql(sea_orm::sqlx::AssertSqlSafe(sql)).execute(conn).await.map(|_| ())
}

/// A new, empty (unmigrated) PostgreSQL database; returns its URL.
pub async fn empty_postgres_database(admin: &str) -> String {
    let name = format!("curtain_test_{}", uuid_like());
    let mut conn = PgConnection::connect(admin).await.unwrap();
    run_sql(&mut conn, format!("CREATE DATABASE {name}")).await.unwrap();
    let _ = conn.close().await;
    with_database(admin, &name)
}

pub async fn drop_postgres_database(admin: &str, url: &str) {
    let name = url.rsplit('/').next().unwrap_or_default().split('?').next().unwrap_or_default().to_owned();
    let mut conn = PgConnection::connect(admin).await.unwrap();
    run_sql(&mut conn, format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await.unwrap();
    let _ = conn.close().await;
}

/// Redis for the tests of the scaled-out seams: `TEST_REDIS_URL`, or a server answering on
/// 127.0.0.1:6379. `CURTAIN_REQUIRE_REDIS=1` (set by CI) makes its absence a failure.
pub fn redis_url() -> Option<String> {
    let url = std::env::var("TEST_REDIS_URL").ok().or_else(|| {
        std::net::TcpStream::connect_timeout(
            &"127.0.0.1:6379".parse().unwrap(),
            std::time::Duration::from_millis(300),
        )
        .ok()
        .map(|_| "redis://127.0.0.1:6379".to_owned())
    });
    if url.is_none() && std::env::var("CURTAIN_REQUIRE_REDIS").as_deref() == Ok("1") {
        panic!("CURTAIN_REQUIRE_REDIS=1 but no Redis is reachable");
    }
    url
}

/// The backends a test of a shared-state seam runs against: in-process always, Redis when
/// available. Each Redis run gets its own key prefix.
pub fn backends() -> Vec<Option<(String, String)>> {
    let mut out = vec![None];
    if let Some(url) = redis_url() {
        out.push(Some((url, format!("curtain-test-{}:", uuid_like()))));
    }
    out
}

impl TestBuilder {
    /// Points the app at Redis (or leaves it in-process for `None`).
    pub fn backend(self, backend: &Option<(String, String)>) -> Self {
        match backend {
            Some((url, prefix)) => self.env("REDIS_URL", url).env("CURTAIN_REDIS_PREFIX", prefix),
            None => self,
        }
    }
}

impl TestApp {
    /// Runs every due job now, as a worker would.
    pub async fn drain_jobs(&self) -> usize {
        curtain::jobs::runner::drain(&self.state, "test-worker").await
    }

    /// Every message the file mailer wrote, decoded enough to read links (quoted-printable soft
    /// breaks removed, `=3D` back to `=`), oldest first.
    pub async fn mails(&self) -> Vec<String> {
        self.drain_jobs().await;
        let dir = self.state.config.data_dir.join("mail");
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
            .unwrap_or_default();
        files.sort_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok());
        files
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "eml"))
            .map(|p| std::fs::read_to_string(p).unwrap().replace("=\r\n", "").replace("=3D", "="))
            .collect()
    }

    /// The token of the last link to `path` mailed to `to`.
    pub async fn mailed_token(&self, to: &str, path: &str) -> String {
        let needle = format!("{path}?token=");
        self.mails()
            .await
            .iter()
            .rev()
            .filter(|m| m.contains(&format!("To: {to}")))
            .find_map(|m| {
                let start = m.find(&needle)? + needle.len();
                Some(
                    m[start..]
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                        .collect(),
                )
            })
            .unwrap_or_else(|| panic!("no {path} link mailed to {to}"))
    }
}

impl TestApp {
    /// A user inserted directly with a token issued directly: for tests that need many buyers
    /// (no password hashing). Returns (user id, access token).
    pub async fn quick_user(&self, email: &str, role: curtain::accounts::roles::Role) -> (i64, String) {
        use sea_orm::{ActiveModelTrait, ActiveValue::Set};
        let now = self.clock_now();
        let user = entity::users::ActiveModel {
            email: Set(email.to_owned()),
            password_hash: Set("!test".into()),
            full_name: Set(format!("Buyer {email}")),
            role: Set(role.as_str().to_owned()),
            email_verified: Set(true),
            is_active: Set(true),
            token_version: Set(0),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(self.writer())
        .await
        .unwrap();
        let (token, _) = self.state.jwt.issue(&user, role, now).unwrap();
        (user.id, token)
    }

    /// The demo performances, soonest first: (event id, its seat ids in seat-map order).
    pub async fn demo_event(&self, index: usize) -> (i64, Vec<i64>) {
        let list = self.get("/api/events/").await;
        let id = list.data()[index]["id"].as_i64().unwrap();
        (id, self.seat_ids(id).await)
    }

    pub async fn seat_ids(&self, event_id: i64) -> Vec<i64> {
        let map = self.get(&format!("/api/events/{event_id}/seats")).await;
        map.data()["sections"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|s| s["seats"].as_array().unwrap().iter().map(|seat| seat["id"].as_i64().unwrap()))
            .collect()
    }

    /// Seat id → status as the public seat map shows it.
    pub async fn seat_statuses(&self, event_id: i64) -> HashMap<i64, String> {
        let map = self.get(&format!("/api/events/{event_id}/seats")).await;
        map.data()["sections"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|s| s["seats"].as_array().unwrap().iter())
            .map(|seat| (seat["id"].as_i64().unwrap(), seat["status"].as_str().unwrap().to_owned()))
            .collect()
    }

    /// Another server instance on the same database (as behind a load balancer).
    pub async fn second_instance(&self) -> TestApp {
        let config = self.state.config.clone();
        let clock = self.clock.clone();
        let state = AppState::start(config, Arc::new(clock.clone())).await.expect("second instance");
        TestApp::serve(state, clock, TestDb::borrowed()).await
    }

    /// Serves `state` on a free port until the returned app is dropped.
    async fn serve(state: AppState, clock: ManualClock, db: TestDb) -> TestApp {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        Self::serve_on(listener, state, clock, db).await
    }

    async fn serve_on(
        listener: tokio::net::TcpListener,
        state: AppState,
        clock: ManualClock,
        db: TestDb,
    ) -> TestApp {
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = oneshot::channel::<()>();
        let served = state.clone();
        tokio::spawn(async move {
            let _ = app::serve(listener, served, async {
                let _ = rx.await;
            })
            .await;
        });
        TestApp {
            base: format!("http://{addr}"),
            state,
            clock,
            client: reqwest::Client::builder().build().unwrap(),
            _db: db,
            _shutdown: tx,
        }
    }
}

impl TestDb {
    /// A handle that owns nothing: the first instance's database outlives it.
    fn borrowed() -> Self {
        Self { url: String::new(), dir: tempfile::tempdir().unwrap(), postgres: None }
    }
}
