//! The reference central API server: the contract in `docs/central-api.yaml`, kept by a
//! real HTTP server over its own SQLite file, for development, tests and the demo. It is
//! not the government's system; it behaves as that system's contract says, with a
//! synthetic registry, progress that advances at a chosen pace, and faults on request.

mod db;
pub mod http;
pub mod registry;
pub mod service;

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hyper_util::rt::{TokioIo, TokioTimer};
use rusqlite::Connection;
use tokio::sync::watch;
use tower::ServiceExt;

use crate::domain::synthetic::Rng;

/// Faults to inject; all off by default.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// Probability of answering 500 or 503 instead of handling a request.
    pub fail_rate: f64,
    /// Added to every request (for submissions: while the key is claimed).
    pub latency: Duration,
    /// Probability of dropping the connection after committing a submission.
    pub drop_after_commit: f64,
    /// `Retry-After` seconds on 429 and 503.
    pub retry_after: Option<u64>,
    /// Requests handled at once beyond which the server answers 429.
    pub max_concurrent: Option<usize>,
}

/// What bounds the server's use of memory, connections and storage, whatever clients do.
#[derive(Debug, Clone)]
pub struct Limits {
    /// How long a request's body may take to arrive.
    pub body_timeout: Duration,
    /// How long a connection may take to send a request's headers (and stay idle between
    /// requests).
    pub header_timeout: Duration,
    /// Connections served at once; more wait in the listen backlog.
    pub max_connections: usize,
    /// Photo bytes one centre may keep.
    pub photo_quota: i64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            body_timeout: Duration::from_secs(120),
            header_timeout: Duration::from_secs(30),
            max_connections: 256,
            photo_quota: service::CENTRE_PHOTO_QUOTA,
        }
    }
}

/// How to run the server.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub db: PathBuf,
    /// Bearer token → service centre.
    pub tokens: Vec<(String, String)>,
    /// Time between one progress step and the next.
    pub pace: Duration,
    pub faults: Faults,
    /// Seed for the fault injector's dice (reproducible runs).
    pub seed: u64,
    pub limits: Limits,
}

/// State shared by every request.
pub struct Shared {
    db: Mutex<Connection>,
    /// SHA-256 of each token → its centre: the tokens themselves are not kept.
    tokens: HashMap<String, String>,
    faults: Faults,
    pace: Duration,
    in_flight: Arc<Mutex<HashSet<(String, String)>>>,
    dice: Mutex<Rng>,
    busy: AtomicUsize,
    /// Photo checks (decodes) running at once: each may take tens of megabytes.
    photo_checks: tokio::sync::Semaphore,
    limits: Limits,
}

/// Photos decoded at once, whatever the number of requests: bounds the server's memory.
pub const PHOTO_CHECKS_AT_ONCE: usize = 2;

/// One request's place under the concurrency limit, given back when dropped.
pub struct Slot<'a>(&'a AtomicUsize);

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Shared {
    fn centre_of(&self, token: &str) -> Option<String> {
        self.tokens
            .get(&crate::digest::sha256_hex(token.as_bytes()))
            .cloned()
    }

    fn chance(&self, p: f64) -> bool {
        let x = self
            .dice
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .next_u64();
        (x >> 11) as f64 / (1u64 << 53) as f64 <= p.clamp(0.0, 1.0) && p > 0.0
    }

    fn take_slot(&self) -> Option<Slot<'_>> {
        let now = self.busy.fetch_add(1, Ordering::SeqCst) + 1;
        let slot = Slot(&self.busy);
        match self.faults.max_concurrent {
            Some(max) if now > max => None,
            _ => Some(slot),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("无法打开中心数据库 {path}：{source}")]
    Db {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("无法监听 {addr}：{source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("{0}")]
    Other(String),
}

/// Open the server's database (creating it), seeding the registry if it is empty.
pub fn open_db(path: &Path) -> Result<Connection, ServeError> {
    let db_err = |source| ServeError::Db {
        path: path.to_owned(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| ServeError::Other(e.to_string()))?;
    }
    let mut conn = db::open(path).map_err(db_err)?;
    if registry::count(&conn).map_err(db_err)? == 0 {
        registry::seed(&mut conn, DEFAULT_REGISTRY_SIZE, DEFAULT_SEED).map_err(db_err)?;
    }
    Ok(conn)
}

/// The registry `sbk central seed` and a new database get.
pub const DEFAULT_REGISTRY_SIZE: usize = 2_000;
pub const DEFAULT_SEED: u64 = 2026;

/// (Re)create the registry in the database at `path`.
pub fn seed(path: &Path, count: usize, seed: u64) -> Result<Vec<registry::Seeded>, ServeError> {
    let db_err = |source| ServeError::Db {
        path: path.to_owned(),
        source,
    };
    let mut conn = open_db(path)?;
    registry::seed(&mut conn, count, seed).map_err(db_err)
}

/// A server running on its own threads; stopped when dropped.
pub struct Running {
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Running {
    /// Start the server on background threads and return once it is listening.
    pub fn start(config: Config) -> Result<Running, ServeError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .thread_name("sbk-central")
            .build()
            .map_err(|e| ServeError::Other(e.to_string()))?;
        let (shared, listener) = runtime.block_on(prepare(&config))?;
        let addr = listener
            .local_addr()
            .map_err(|e| ServeError::Other(e.to_string()))?;
        let (stop, stopped) = watch::channel(false);
        let thread = std::thread::Builder::new()
            .name("sbk-central".into())
            .spawn(move || {
                runtime.block_on(serve(shared, listener, stopped));
                runtime.shutdown_timeout(Duration::from_secs(5));
            })
            .map_err(|e| ServeError::Other(e.to_string()))?;
        Ok(Running {
            addr,
            stop,
            thread: Some(thread),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR`, the base URL for clients.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stop accepting, drop open connections, and wait for the threads to end.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        let _ = self.stop.send(true);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Run the server in the foreground until Ctrl-C or SIGTERM.
pub fn serve_forever(config: Config, on_ready: impl FnOnce(SocketAddr)) -> Result<(), ServeError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| ServeError::Other(e.to_string()))?;
    runtime.block_on(async {
        let (shared, listener) = prepare(&config).await?;
        on_ready(
            listener
                .local_addr()
                .map_err(|e| ServeError::Other(e.to_string()))?,
        );
        let (stop, stopped) = watch::channel(false);
        tokio::spawn(async move {
            wait_for_signal().await;
            let _ = stop.send(true);
        });
        serve(shared, listener, stopped).await;
        Ok(())
    })
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

async fn prepare(config: &Config) -> Result<(Arc<Shared>, tokio::net::TcpListener), ServeError> {
    if config.tokens.is_empty() {
        return Err(ServeError::Other(
            "至少需要一个服务网点令牌（--token-file 或 SBK_CENTRAL_TOKENS，网点编号:令牌）".into(),
        ));
    }
    let conn = open_db(&config.db)?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| ServeError::Listen {
            addr: config.listen,
            source,
        })?;
    let shared = Arc::new(Shared {
        db: Mutex::new(conn),
        tokens: config
            .tokens
            .iter()
            .map(|(token, centre)| (crate::digest::sha256_hex(token.as_bytes()), centre.clone()))
            .collect(),
        faults: config.faults.clone(),
        pace: config.pace,
        in_flight: Arc::default(),
        dice: Mutex::new(Rng::new(config.seed)),
        busy: AtomicUsize::new(0),
        photo_checks: tokio::sync::Semaphore::new(PHOTO_CHECKS_AT_ONCE),
        limits: config.limits.clone(),
    });
    Ok((shared, listener))
}

/// The error a service returns to make hyper drop the connection unanswered.
#[derive(Debug, thiserror::Error)]
#[error("connection dropped after commit (fault injection)")]
struct Dropped;

async fn serve(
    shared: Arc<Shared>,
    listener: tokio::net::TcpListener,
    mut stop: watch::Receiver<bool>,
) {
    let router = http::router(shared.clone());
    let ticker = tokio::spawn(advance_progress(shared.clone()));
    let mut connections = tokio::task::JoinSet::new();
    // At most `max_connections` at once: a connection's permit is taken before accepting it.
    let permits = Arc::new(tokio::sync::Semaphore::new(shared.limits.max_connections));
    let header_timeout = shared.limits.header_timeout;
    // Accept errors (file descriptors exhausted, say) back off instead of spinning.
    let mut backoff = Duration::from_millis(10);
    loop {
        tokio::select! {
            accepted = async {
                let permit = permits.clone().acquire_owned().await;
                (permit, listener.accept().await)
            } => {
                let (permit, accepted) = accepted;
                let (stream, permit) = match (accepted, permit) {
                    (Ok((stream, _)), Ok(permit)) => (stream, permit),
                    (Err(e), _) => {
                        tracing::warn!(error = %e, wait_ms = backoff.as_millis() as u64, "accept failed; backing off");
                        tokio::time::sleep(backoff).await;
                        backoff = (backoff * 2).min(Duration::from_secs(1));
                        continue;
                    }
                    (Ok(_), Err(_)) => break,
                };
                backoff = Duration::from_millis(10);
                let _ = stream.set_nodelay(true);
                let router = router.clone();
                let service = hyper::service::service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
                    let router = router.clone();
                    async move {
                        let response = router
                            .oneshot(request.map(axum::body::Body::new))
                            .await
                            .unwrap_or_else(|never| match never {});
                        if response.extensions().get::<http::DropConnection>().is_some() {
                            Err(Dropped)
                        } else {
                            Ok(response)
                        }
                    }
                });
                connections.spawn(async move {
                    let _permit = permit;
                    let _ = hyper::server::conn::http1::Builder::new()
                        .timer(TokioTimer::new())
                        .header_read_timeout(header_timeout)
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
            _ = stop.changed() => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    ticker.abort();
    connections.abort_all();
}

/// Move applications along their progress at the configured pace.
async fn advance_progress(shared: Arc<Shared>) {
    let tick = (shared.pace / 4).clamp(Duration::from_millis(20), Duration::from_secs(1));
    let mut interval = tokio::time::interval(tick);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut ticks: u64 = 0;
    loop {
        interval.tick().await;
        ticks += 1;
        let shared = shared.clone();
        let pace = shared.pace;
        let _ = tokio::task::spawn_blocking(move || {
            let mut conn = shared.db.lock().unwrap_or_else(|p| p.into_inner());
            let now = chrono::Utc::now();
            if let Err(e) = service::advance_due(&mut conn, now, pace) {
                tracing::warn!("progress step failed: {}", e.error.message);
            }
            if ticks % 3600 == 1 {
                let _ = service::purge_keys(&conn, now);
                match service::expire_unreferenced_photos(&conn, now) {
                    Ok(n) if n > 0 => tracing::info!(photos = n, "unreferenced photos expired"),
                    Ok(_) => {}
                    Err(e) => tracing::warn!("photo expiry failed: {}", e.error.message),
                }
            }
        })
        .await;
    }
}

/// Parse a pace such as `90s`, `2m`, `500ms`, `1h` or a number of seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("“{text}”不是时长：请写成 500ms、90s、2m 或 1h"))?;
    let seconds = match unit.trim() {
        "ms" => value / 1000.0,
        "" | "s" => value,
        "m" | "min" => value * 60.0,
        "h" => value * 3600.0,
        "d" => value * 86400.0,
        _ => return Err(format!("“{text}”的单位不认识：请用 ms、s、m、h 或 d")),
    };
    if !seconds.is_finite() || seconds < 0.0 {
        return Err(format!("“{text}”不是有效的时长"));
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// Parse `CENTRE:TOKEN` into (token, centre).
pub fn parse_token(text: &str) -> Result<(String, String), String> {
    let (centre, token) = text
        .split_once(':')
        .ok_or_else(|| "令牌应写成 网点编号:令牌，例如 110105001:s3cret".to_owned())?;
    let valid_centre = !centre.is_empty()
        && centre.len() <= 32
        && centre
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !valid_centre {
        return Err("网点编号须为 1–32 位字母、数字、- 或 _".into());
    }
    if token.len() < 8 || !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("令牌须为至少 8 个可见 ASCII 字符".into());
    }
    Ok((token.to_owned(), centre.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("3"), Ok(Duration::from_secs(3)));
        assert!(parse_duration("fast").is_err());
        assert!(parse_duration("3 weeks").is_err());
    }

    #[test]
    fn tokens_name_their_centre() {
        assert_eq!(
            parse_token("110105001:s3cret-token"),
            Ok(("s3cret-token".into(), "110105001".into()))
        );
        assert!(parse_token("no-colon").is_err());
        assert!(parse_token("c:short").is_err());
        assert!(parse_token(":longenough").is_err());
    }
}
