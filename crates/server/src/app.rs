//! Application state, router assembly, start-up and graceful shutdown.

use std::{net::SocketAddr, ops::Deref, sync::Arc, time::Duration};

use anyhow::Context;
use axum::{
    Router,
    extract::{DefaultBodyLimit, Request},
    http::{HeaderName, Uri},
    middleware::map_request,
    response::IntoResponse,
};
use sea_orm::{EntityTrait, PaginatorTrait};
use tokio::net::TcpListener;
use tower::{Layer, ServiceBuilder};
use tower_http::{
    catch_panic::CatchPanicLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    trace::TraceLayer,
};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_swagger_ui::SwaggerUi;

use crate::{
    accounts::tokens::JwtKeys,
    cache::Cache,
    clock::{Clock, SystemClock},
    config::Config,
    db::{self, Reader, Writer},
    demo,
    error::AppError,
    health,
    limits::{self, Limiter},
    mail::Mailer,
    openapi,
    payments::Gateway,
    realtime::{hub::Hub, ws::WsLimits},
    redis::{self, Redis},
    secrets, security,
    tickets::codes::TicketSigner,
};

/// Largest JSON body accepted; image uploads set their own limit.
pub const JSON_BODY_LIMIT: usize = 1024 * 1024;

/// Everything a request handler may need; cheap to clone, usable directly as an extractor.
#[derive(Clone)]
pub struct AppState(Arc<App>);

pub struct App {
    pub config: Config,
    /// Reads: a pool that refuses writes (see `db::Reader`).
    pub db: Reader,
    /// Every write (see `db::Writer`).
    pub writer: Writer,
    pub clock: Arc<dyn Clock>,
    pub jwt: JwtKeys,
    pub mailer: Mailer,
    pub redis: Option<Redis>,
    pub limits: Limiter,
    pub hub: Hub,
    pub cache: Cache,
    pub ws: WsLimits,
    /// VNPAY, or the built-in simulator.
    pub gateway: Gateway,
    /// The simulator's memory of its transactions (used only when `gateway.simulated`).
    pub simulator: crate::payments::simulator::Ledger,
    /// Signs and checks ticket codes.
    pub tickets: TicketSigner,
    /// Flips to true when the server shuts down; WebSocket sessions close themselves on it.
    pub shutdown: tokio::sync::watch::Sender<bool>,
}

impl Deref for AppState {
    type Target = App;
    fn deref(&self) -> &App {
        &self.0
    }
}

impl App {
    /// Begins a write transaction on the writer connection (IMMEDIATE on SQLite).
    pub async fn begin_write(&self) -> Result<sea_orm::DatabaseTransaction, sea_orm::DbErr> {
        self.writer.begin().await
    }
}

impl AppState {
    /// Connects, migrates and (as `CURTAIN_DEMO` says) loads demo data: after this the state is
    /// ready to serve.
    pub async fn start(config: Config, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        crate::telemetry::init();
        let writer = db::connect_writer(&config.database_url).await?;
        // Decided before migrating, so the console's first lines say the demo is on.
        let demo = demo::wanted(&config, &writer).await?;
        if demo {
            demo::announce(config.demo);
        }
        db::migrate(&writer, &config.database_url).await?;
        if let Some(replaced) = demo::retire_published_passwords(&writer, clock.as_ref()).await? {
            replaced.print_replaced();
        }
        let db = db::connect_reader(&config.database_url).await?;
        let jwt_secret = match &config.jwt_secret {
            Some(secret) => secret.expose().to_owned(),
            None => secrets::get_or_create(&writer, clock.as_ref(), "jwt_secret", 64).await?,
        };
        let jwt = JwtKeys::new(jwt_secret.as_bytes());
        let mailer = Mailer::from_config(&config)?;
        let redis = match &config.redis_url {
            Some(url) => Some(redis::connect(url).await?),
            None => None,
        };
        let limits = Limiter::new(
            redis.clone().map(|r| (r, config.redis_prefix.clone())),
            clock.clone(),
            config.rate_limits,
            config.limits,
        );
        let hub = match &redis {
            Some(client) => Hub::redis(client.clone(), &config.redis_prefix).await?,
            None => Hub::local(),
        };
        let cache = match &redis {
            Some(client) => Cache::redis(client.clone(), &config.redis_prefix),
            None => Cache::memory(),
        };
        let ws = WsLimits::new(config.ws_max_per_ip, config.ws_max);
        let gateway = Gateway::from_config(&config, &writer, clock.as_ref()).await?;
        let tickets = TicketSigner::new(
            secrets::get_or_create(&writer, clock.as_ref(), "ticket_signing_key", 64).await?.as_bytes(),
        );
        let (shutdown, _) = tokio::sync::watch::channel(false);
        let state = Self(Arc::new(App {
            config,
            db,
            writer,
            clock,
            jwt,
            mailer,
            redis,
            limits,
            hub,
            cache,
            ws,
            gateway,
            simulator: Default::default(),
            tickets,
            shutdown,
        }));
        if demo {
            state.load_demo().await?;
        }
        Ok(state)
    }

    pub async fn start_default(config: Config) -> anyhow::Result<Self> {
        Self::start(config, Arc::new(SystemClock)).await
    }

    /// Loads the demo into a catalog that is still empty, and prints its logins once.
    async fn load_demo(&self) -> anyhow::Result<()> {
        let empty = entity::venues::Entity::find().count(&self.db).await? == 0
            && entity::events::Entity::find().count(&self.db).await? == 0;
        let loaded = if empty { demo::seed(&self.writer, self.clock.as_ref()).await? } else { None };
        match loaded {
            Some(login) => login.print(),
            None => println!(
                "The catalog is not empty: no demo data loaded. Demo accounts created earlier keep the \
                 passwords printed then (`curtain create-admin --email … --password …` sets a new one)."
            ),
        }
        Ok(())
    }
}

/// The whole HTTP surface: the documented API, health, the OpenAPI viewer and the site root.
pub fn router(state: AppState) -> Router {
    let (api, openapi) = api_document();
    let api = api
        .layer(axum::middleware::from_fn_with_state(state.clone(), invalidate_cache))
        .layer(axum::middleware::from_fn_with_state(state.clone(), limits::limit_requests));
    let https = state.config.public_base_url.starts_with("https://");
    let router = Router::new()
        .merge(api)
        .merge(health::router())
        .merge(crate::media::router())
        .route("/", axum::routing::get(crate::site::index))
        .route("/payments/result", axum::routing::get(crate::payments::result::page))
        .merge(crate::payments::simulator::router())
        .merge(crate::realtime::ws::router())
        .route("/metrics", axum::routing::get(crate::telemetry::render))
        // The strict CSP covers the API and the site; the docs viewer (merged after) has its own page.
        .layer(security::content_security_policy())
        .merge(SwaggerUi::new("/api/docs").url("/api/openapi.json", openapi))
        .fallback(fallback)
        .method_not_allowed_fallback(|| async { AppError::MethodNotAllowed })
        .layer(DefaultBodyLimit::max(JSON_BODY_LIMIT))
        .route_layer(axum::middleware::from_fn(crate::telemetry::track));
    security::with_headers(router, https)
        .layer(security::cors(&state.config.cors_origins))
        .layer(CatchPanicLayer::custom(|_| {
            tracing::error!("handler panicked");
            AppError::Internal(anyhow::anyhow!("handler panicked")).into_response()
        }))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(REQUEST_ID.clone(), MakeRequestUuid))
                .layer(TraceLayer::new_for_http().make_span_with(crate::telemetry::request_span))
                .layer(PropagateRequestIdLayer::new(REQUEST_ID.clone())),
        )
        .with_state(state)
}

/// The API routes and their finished OpenAPI document.
pub fn api_document() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (api, mut openapi) = api_router().split_for_parts();
    openapi::complete(&mut openapi);
    (api, openapi)
}

/// The API routes with their OpenAPI descriptions; also used to check the document's coverage.
pub fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .merge(crate::venues::routes::router())
        .merge(crate::venues::admin_routes::router())
        .merge(crate::events::routes::router())
        .merge(crate::events::admin_routes::router())
        .merge(crate::events::image_routes::router())
        .merge(crate::events::review_routes::router())
        .merge(crate::catalog::routes::router())
        .merge(crate::accounts::routes::router())
        .merge(crate::accounts::admin::router())
        .merge(crate::accounts::recovery::router())
        .merge(crate::accounts::personal::router())
        .merge(crate::bookings::routes::router())
        .merge(crate::inventory::blocking::router())
        .merge(crate::jobs::routes::router())
        .merge(crate::realtime::notices::router())
        .merge(crate::payments::routes::router())
        .merge(crate::tickets::routes::router())
}

/// After a successful catalog write, drops the cached answers it affects.
async fn invalidate_cache(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let writes = !matches!(
        *request.method(),
        axum::http::Method::GET | axum::http::Method::HEAD | axum::http::Method::OPTIONS
    );
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    if writes && response.status().is_success() {
        crate::cache::invalidate_for(&state.cache, &path).await;
    }
    response
}

static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

async fn fallback(uri: Uri) -> axum::response::Response {
    if uri.path().starts_with("/api/") || uri.path() == "/api" {
        AppError::NotFound.into_response()
    } else {
        crate::site::not_found().await.into_response()
    }
}

/// Serves every path with and without its trailing slash, by trimming it before routing (no
/// redirect, so a client's POST is never lost). The docs viewer keeps its own paths.
async fn trim_trailing_slash(mut req: Request) -> Request {
    let path = req.uri().path();
    if path.len() > 1 && path.ends_with('/') && !path.starts_with("/api/docs") {
        let trimmed = path.trim_end_matches('/');
        let new = match req.uri().query() {
            Some(q) => format!("{trimmed}?{q}"),
            None => trimmed.to_owned(),
        };
        if let Ok(uri) = new.parse::<Uri>() {
            *req.uri_mut() = uri;
        }
    }
    req
}

/// Serves on `listener` until `shutdown` resolves, then finishes in-flight requests.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let closing = state.clone();
    let shutdown = async move {
        shutdown.await;
        // WebSockets outlive graceful shutdown unless told: close them with a reason first.
        let _ = closing.shutdown.send(true);
    };
    let app = map_request(trim_trailing_slash).layer(router(state));
    axum::serve(listener, axum::ServiceExt::<Request>::into_make_service_with_connect_info::<SocketAddr>(app))
        .with_graceful_shutdown(shutdown)
        .await
        .context("HTTP server failed")
}

/// Binds the configured address and serves until SIGINT/SIGTERM.
pub async fn run(state: AppState) -> anyhow::Result<()> {
    let addr = state.config.addr;
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr} (is another server running there?)"))?;
    tracing::info!("Curtain listening on http://{addr}");
    let (signalled, mut on_signal) = tokio::sync::watch::channel(false);
    let serving = serve(listener, state, async move {
        shutdown_signal().await;
        let _ = signalled.send(true);
    });
    // In-flight requests get a bounded time once the signal came; then the server stops anyway.
    let grace = async move {
        let _ = on_signal.wait_for(|stopping| *stopping).await;
        tokio::time::sleep(SHUTDOWN_GRACE).await;
    };
    tokio::select! {
        served = serving => served,
        () = grace => {
            tracing::warn!("shutdown grace period over; dropping the remaining connections");
            Ok(())
        }
    }
}

/// How long in-flight requests may take to finish after SIGINT/SIGTERM.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}
