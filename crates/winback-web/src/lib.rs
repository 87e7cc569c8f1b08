//! # winback-web
//!
//! `winback serve`: the pages customers open from their emails (the exit
//! survey, the unsubscribe page) and the signed-in app for the shop's staff.
//! Handlers parse, call the application layer on a pooled store off the async
//! threads, and render server-side templates; every page works without
//! JavaScript.
//!
//! Security, in one place: security headers on every response
//! ([`security::headers`]), a cross-site check on every state-changing request
//! plus a per-session form token on signed-in forms, rate limits per address
//! (and per account on sign-in), request size and time limits, and nothing
//! changes on a GET.

mod auth;
mod campaign_pages;
mod dashboard;
mod data;
mod jobs;
mod pages;
mod public;
mod security;
mod settings;
pub mod svg;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use winback_app::config::Config;
use winback_app::AppError;
use winback_store::{Pool, Store};

pub use security::Limits;

/// The cached assessment's counts, with the fingerprint they belong to.
type CountsCache = Option<(String, Arc<winback_app::assess::Counts>)>;

type ReportCache = std::collections::HashMap<(String, String), Arc<winback_app::outcomes::CampaignReport>>;

/// A form that carries only the session's token (sign-out, send, pause…).
#[derive(serde::Deserialize)]
pub(crate) struct CsrfForm {
    #[serde(default)]
    pub csrf: String,
}

/// Largest request body accepted (a survey answer is a few KiB).
pub const MAX_BODY: usize = 64 * 1024;

/// How the server is reached and how strict it is.
#[derive(Debug, Clone)]
pub struct Options {
    /// The address customers' links point at, e.g. `https://shop.example/winback`
    /// (no trailing slash). `https` makes cookies Secure and turns on HSTS.
    pub public_url: String,
    pub limits: Limits,
    /// The mail server campaigns are sent through (`smtp://…`); none: no sending from the web.
    pub smtp: Option<String>,
    /// Where the task lists of phone, SMS and mail contacts are written.
    pub tasks_dir: std::path::PathBuf,
    /// The playbook file new campaigns use (the default playbook while it does not exist).
    pub playbook: std::path::PathBuf,
    /// The config file an owner's thresholds are saved to (`winback.toml`).
    pub config_file: std::path::PathBuf,
}

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pool: Pool,
    /// Swapped whole when an owner saves new thresholds (`settings`).
    config: Arc<std::sync::RwLock<Arc<Config>>>,
    public_url: Arc<str>,
    secure: bool,
    limiter: Arc<security::Limiter>,
    pages: Arc<pages::Pages>,
    /// The overview and causes, for the store's current fingerprint.
    knowledge: Arc<tokio::sync::Mutex<Option<Arc<dashboard::Knowledge>>>>,
    /// Campaign reports by (fingerprint, campaign).
    reports: Arc<tokio::sync::Mutex<ReportCache>>,
    /// One recomputation of the cached assessment at a time.
    recompute: Arc<std::sync::Mutex<()>>,
    jobs: Arc<jobs::Jobs>,
    uploads: Arc<data::Uploads>,
    /// The cached assessment's counts, by its fingerprint.
    counts: Arc<std::sync::Mutex<CountsCache>>,
    smtp: Option<String>,
    tasks_dir: std::path::PathBuf,
    playbook: std::path::PathBuf,
    config_file: std::path::PathBuf,
}

impl AppState {
    pub fn new(pool: Pool, config: Config, opts: &Options) -> AppState {
        let public_url: Arc<str> = opts.public_url.trim_end_matches('/').into();
        AppState {
            pool,
            config: Arc::new(std::sync::RwLock::new(Arc::new(config))),
            secure: public_url.starts_with("https://"),
            public_url,
            limiter: Arc::new(security::Limiter::new(opts.limits.clone())),
            pages: Arc::new(pages::Pages::new()),
            knowledge: Arc::default(),
            reports: Arc::default(),
            jobs: Arc::default(),
            uploads: Arc::default(),
            counts: Arc::default(),
            smtp: opts.smtp.clone(),
            tasks_dir: opts.tasks_dir.clone(),
            playbook: opts.playbook.clone(),
            config_file: opts.config_file.clone(),
            recompute: Arc::default(),
        }
    }

    /// Where customers' links point.
    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    /// The config as it is now (an owner may have saved new thresholds).
    pub(crate) fn config(&self) -> Arc<Config> {
        self.config.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// Run `f` on every customer assessed (seconds on a large store), on a
    /// connection of its own and a blocking thread, so the pool stays free
    /// for other requests.
    async fn with_world<T, F>(&self, f: F) -> Result<T, Failure>
    where
        T: Send + 'static,
        F: FnOnce(&mut winback_app::assess::World) -> winback_app::Result<T> + Send + 'static,
    {
        let (url, config) = (self.pool.url().to_string(), self.config());
        tokio::task::spawn_blocking(move || {
            let mut w = winback_app::assess::load(winback_store::open(&url)?, (*config).clone())?;
            f(&mut w)
        })
        .await
        .map_err(|e| Failure::Internal(format!("task failed: {e}")))?
        .map_err(Failure::from)
    }

    /// Run `f` on a pooled store on a blocking thread: a request that meets a
    /// busy store waits for it and is answered.
    async fn with_store<T, F>(&self, f: F) -> Result<T, Failure>
    where
        T: Send + 'static,
        F: FnOnce(&mut dyn Store, &Config) -> winback_app::Result<T> + Send + 'static,
    {
        let (pool, config) = (self.pool.clone(), self.config());
        tokio::task::spawn_blocking(move || {
            let mut store = pool.get().map_err(AppError::from)?;
            f(&mut *store, &config)
        })
        .await
        .map_err(|e| Failure::Internal(format!("task failed: {e}")))?
        .map_err(Failure::from)
    }
}

/// A request that could not be served, rendered as a page.
#[derive(Debug)]
enum Failure {
    NotFound,
    Invalid(String),
    Forbidden(&'static str),
    TooMany,
    Busy,
    Internal(String),
}

impl From<AppError> for Failure {
    fn from(e: AppError) -> Self {
        match e {
            AppError::NotFound(_) | AppError::Store(winback_store::StoreError::NotFound(_)) => Failure::NotFound,
            AppError::Invalid(m) => Failure::Invalid(m),
            AppError::Store(winback_store::StoreError::Busy(_)) => Failure::Busy,
            other => Failure::Internal(other.to_string()),
        }
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let (status, title, text) = match self {
            Failure::NotFound => (
                StatusCode::NOT_FOUND,
                "Page not found",
                "This link is not known. It may have been mistyped.".to_string(),
            ),
            Failure::Invalid(m) => (StatusCode::BAD_REQUEST, "Please check your answer", m),
            Failure::Forbidden(m) => (StatusCode::FORBIDDEN, "Not allowed", m.to_string()),
            Failure::TooMany => {
                (StatusCode::TOO_MANY_REQUESTS, "Too many requests", "Please wait a minute and try again.".to_string())
            }
            Failure::Busy => (
                StatusCode::SERVICE_UNAVAILABLE,
                "Busy",
                "The server is busy right now. Please try again in a moment.".to_string(),
            ),
            Failure::Internal(m) => {
                tracing::error!("request failed: {m}");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong",
                    "Sorry, something went wrong on our side. Please try again later.".to_string(),
                )
            }
        };
        let body = pages::render_error(title, &text);
        (status, body).into_response()
    }
}

/// Every route, with the security layers around them.
pub fn router(state: AppState) -> Router {
    let secure = state.secure;
    // uploads stream to disk under their own, larger limit and no timeout
    let uploads = Router::new()
        .route("/data/upload", post(data::upload))
        .layer(DefaultBodyLimit::max(data::MAX_UPLOAD))
        .layer(RequestBodyLimitLayer::new(data::MAX_UPLOAD));
    Router::new()
        .route("/health", get(|| async { "ok" }))
        .route("/static/style.css", get(pages::style))
        .route("/s/{token}", get(public::survey_page).post(public::survey_submit))
        .route("/u/{token}", get(public::unsubscribe_page).post(public::unsubscribe))
        // links in emails sent before the short form
        .route("/unsubscribe/{token}", get(public::unsubscribe_page).post(public::unsubscribe))
        .route("/", get(dashboard::overview))
        .route("/customers", get(dashboard::customers))
        .route("/customers.csv", get(dashboard::customers_csv))
        .route("/customers/{id}", get(dashboard::customer))
        .route("/customers/{id}/reasons", post(dashboard::add_reason))
        .route("/customers/{id}/survey-link", post(dashboard::survey_link))
        .route("/customers/{id}/do-not-contact", post(dashboard::do_not_contact))
        .route("/users/add", post(auth::add_user))
        .route("/settings/playbook", get(settings::playbook).post(settings::save_playbook))
        .route("/settings/thresholds", get(settings::thresholds).post(settings::save_thresholds))
        .route("/causes", get(dashboard::causes_page).post(dashboard::add_cause))
        .route("/causes/{id}/close", post(dashboard::close_cause))
        .route("/causes/{id}", post(dashboard::update_cause))
        .route("/campaigns", get(dashboard::campaigns))
        .route("/reports", get(dashboard::reports))
        .route("/reports/backtest", get(dashboard::backtest))
        .route("/followups", post(dashboard::record_followup))
        .route("/campaigns/new", get(campaign_pages::new_page).post(campaign_pages::create))
        .route("/campaigns/{name}", get(dashboard::campaign))
        .route("/campaigns/{name}/send", post(campaign_pages::send))
        .route("/campaigns/{name}/preview", get(dashboard::campaign_preview))
        .route("/jobs/{id}", get(jobs::page))
        .route("/jobs/{id}/pause", post(jobs::pause))
        .route("/data", get(data::page))
        .route("/data/analyze", post(data::analyze))
        .route("/data/{id}", get(data::preview))
        .route("/data/{id}/import", post(data::import))
        .route("/data/{id}/rejects", get(data::rejects))
        .route("/login", get(auth::login_page).post(auth::login))
        .route("/logout", post(auth::logout))
        .route("/logout/everywhere", post(auth::logout_everywhere))
        .route("/users", get(auth::users_page))
        .route("/users/disable", post(auth::disable_user))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(RequestBodyLimitLayer::new(MAX_BODY))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, Duration::from_secs(30)))
        .merge(uploads)
        .fallback(|| async { Failure::NotFound })
        .layer(axum::middleware::from_fn(security::cross_site))
        .layer(axum::middleware::from_fn(security::access_log))
        .layer(axum::middleware::from_fn(move |req, next| security::headers(secure, req, next)))
        .with_state(state)
}

/// Serve until `shutdown` resolves, then finish the requests in flight.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await
}

/// Bind `listen` and serve until SIGTERM or Ctrl-C, on a runtime of its own
/// (the command line stays synchronous). `ready` hears the bound address.
pub fn run(listen: &str, state: AppState, ready: impl FnOnce(SocketAddr)) -> std::io::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(listen).await?;
        ready(listener.local_addr()?);
        serve(listener, state, shutdown_signal()).await
    })
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: finishing the requests in flight");
}

/// Seconds since the epoch.
fn now() -> i64 {
    chrono::Utc::now().timestamp()
}
