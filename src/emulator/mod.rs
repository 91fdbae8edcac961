//! `tcrl emulator`: a local Tencent Cloud API endpoint for TCR that authenticates requests like
//! the real service, keeps namespaces, repositories and tags in memory, and can inject latency,
//! failures, rate limits and dropped connections.
//!
//! Layout: `auth` (read and verify a request), `validate` (parameters against the catalog),
//! `paging` (how each action pages), `actions` (the handlers), `store` (the model), `demo`
//! (fixtures). This file holds the server: one handler for every request, the request log and
//! the fault injection; `tls` adds HTTPS (a user's certificate or a generated local CA).

pub mod actions;
pub mod auth;
pub mod demo;
pub mod paging;
pub mod store;
pub mod tls;
pub mod validate;

use std::collections::HashMap;
use std::future::Future;
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::Response;
use serde::Serialize;
use serde_json::{json, Value};

use crate::api::catalog::{self, is_read_only_name, Catalog};
use crate::credentials::Credentials;
use store::Store;

/// An API error as the service reports it: `Response.Error.Code` and `.Message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub code: String,
    pub message: String,
}

impl ApiError {
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        ApiError {
            code: code.to_string(),
            message: message.into(),
        }
    }
}

/// The SecretId the emulator accepts by default. Not a secret: printed at start-up.
pub const DEMO_SECRET_ID: &str = "AKIDtcrlEMULATOR0000000000000000demo";
/// The SecretKey matching [`DEMO_SECRET_ID`].
pub const DEMO_SECRET_KEY: &str = "tcrlEmulatorDemoKey000000000000";

/// The demo credentials, for `--emulator` and for users trying the emulator by hand.
pub fn demo_credentials() -> Credentials {
    Credentials::new(DEMO_SECRET_ID, DEMO_SECRET_KEY, None)
}

/// Faults and behaviour knobs.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Accepted credentials; the demo credentials when empty.
    pub accounts: Vec<Credentials>,
    /// Added latency per request, a range in milliseconds (`min == max` for a fixed value).
    pub latency_ms: Option<(u64, u64)>,
    /// Probability (0..1) of answering with `fail_code` instead of running the action.
    pub fail_rate: f64,
    pub fail_code: String,
    /// Requests per action per second before `RequestLimitExceeded`.
    pub rate_limit: Option<u32>,
    /// Probability (0..1) of dropping the connection instead of answering.
    pub drop_rate: f64,
    /// Append every request as a JSON line to this file.
    pub log_file: Option<PathBuf>,
    /// Seconds added to the server clock (to rehearse clock skew).
    pub clock_offset: i64,
    /// Serve at most this many items per page, whatever the request asks.
    pub page_size_cap: Option<usize>,
}

/// One request as the emulator saw it, for tests and `--log`.
#[derive(Debug, Clone, Serialize)]
pub struct RequestRecord {
    /// Milliseconds since the Unix epoch.
    pub time_ms: i64,
    pub action: String,
    pub params: Value,
    /// `ok` or the error code answered.
    pub code: String,
    pub request_id: String,
    /// False for read-only actions (`Describe*`, ...).
    pub mutating: bool,
    pub sign_method: String,
}

/// The emulator: state, options and what it observed.
pub struct Emulator {
    store: Mutex<Store>,
    options: Options,
    catalog: &'static Catalog,
    log: Mutex<Vec<RequestRecord>>,
    log_file: Option<Mutex<std::fs::File>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    rate: Mutex<HashMap<String, (i64, u32)>>,
}

impl Emulator {
    /// An emulator over `store`.
    ///
    /// # Errors
    /// When the `--log` file cannot be opened.
    pub fn new(store: Store, mut options: Options) -> std::io::Result<Arc<Self>> {
        if options.accounts.is_empty() {
            options.accounts.push(demo_credentials());
        }
        if options.fail_code.is_empty() {
            options.fail_code = "InternalError".into();
        }
        let log_file = match &options.log_file {
            Some(path) => Some(Mutex::new(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)?,
            )),
            None => None,
        };
        Ok(Arc::new(Emulator {
            store: Mutex::new(store),
            options,
            catalog: catalog::tcr(),
            log: Mutex::new(Vec::new()),
            log_file,
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
            rate: Mutex::new(HashMap::new()),
        }))
    }

    /// The HTTP routes: every path and method reaches the one API handler.
    pub fn router(self: &Arc<Self>) -> axum::Router {
        axum::Router::new()
            .fallback(handle)
            .layer(axum::extract::DefaultBodyLimit::max(16 * 1024 * 1024))
            .with_state(self.clone())
    }

    /// Serve on `listener` until `shutdown` completes.
    ///
    /// # Errors
    /// I/O errors of the listener.
    pub async fn serve(
        self: Arc<Self>,
        listener: tokio::net::TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        use axum::serve::ListenerExt;
        // Small answers go out at once instead of waiting on the peer's delayed ACK (Nagle).
        let listener = listener.tap_io(|stream| {
            let _ = stream.set_nodelay(true);
        });
        axum::serve(listener, self.router())
            .with_graceful_shutdown(shutdown)
            .await
    }

    /// Serve HTTPS on `listener` with `config` until `shutdown` completes.
    ///
    /// # Errors
    /// I/O errors of the listener.
    pub async fn serve_tls(
        self: Arc<Self>,
        listener: tokio::net::TcpListener,
        config: axum_server::tls_rustls::RustlsConfig,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        tls::serve(listener, config, self.router(), shutdown).await
    }

    /// The SecretIds it accepts (the demo one when none was configured).
    pub fn secret_ids(&self) -> Vec<String> {
        self.options
            .accounts
            .iter()
            .map(|c| c.secret_id.clone())
            .collect()
    }

    /// Every request seen so far, oldest first.
    pub fn requests(&self) -> Vec<RequestRecord> {
        lock(&self.log).clone()
    }

    /// A copy of the current state.
    pub fn snapshot(&self) -> Store {
        lock(&self.store).clone()
    }

    /// The most requests that were being handled at the same moment.
    pub fn max_in_flight(&self) -> usize {
        self.max_in_flight.load(Ordering::SeqCst)
    }

    fn now(&self) -> i64 {
        chrono::Utc::now().timestamp() + self.options.clock_offset
    }

    fn lookup(&self, secret_id: &str) -> Option<Credentials> {
        self.options
            .accounts
            .iter()
            .find(|c| c.secret_id == secret_id)
            .cloned()
    }

    /// Authenticate, check and run one request.
    fn process(
        &self,
        raw: &auth::RawRequest<'_>,
    ) -> (Option<auth::Incoming>, Result<Value, ApiError>) {
        let incoming = match auth::authenticate(raw, |id| self.lookup(id), self.catalog, self.now())
        {
            Ok(i) => i,
            Err(e) => return (None, Err(e)),
        };
        let result = self.run_action(&incoming);
        (Some(incoming), result)
    }

    fn run_action(&self, incoming: &auth::Incoming) -> Result<Value, ApiError> {
        if incoming.version != self.catalog.version {
            return Err(ApiError::new(
                "NoSuchVersion",
                format!(
                    "The API version `{}` does not exist; TCR is `{}`.",
                    incoming.version, self.catalog.version
                ),
            ));
        }
        if self.catalog.action(&incoming.action).is_none() {
            return Err(ApiError::new(
                "InvalidAction",
                format!("The action `{}` does not exist.", incoming.action),
            ));
        }
        check_region(incoming)?;
        self.check_rate(&incoming.action)?;
        if self.options.fail_rate > 0.0 && rand::random::<f64>() < self.options.fail_rate {
            return Err(ApiError::new(
                &self.options.fail_code,
                "Injected failure (--fail-rate).",
            ));
        }
        if !actions::IMPLEMENTED.contains(&incoming.action.as_str()) {
            return Err(ApiError::new(
                "UnsupportedOperation",
                format!("The emulator does not implement `{}`.", incoming.action),
            ));
        }
        validate::check(self.catalog, &incoming.action, &incoming.params)?;
        let mut store = lock(&self.store);
        actions::dispatch(&mut actions::Ctx {
            store: &mut store,
            params: &incoming.params,
            action: &incoming.action,
            now: self.now(),
            page_size_cap: self.options.page_size_cap,
        })
    }

    fn check_rate(&self, action: &str) -> Result<(), ApiError> {
        let Some(limit) = self.options.rate_limit else {
            return Ok(());
        };
        let second = chrono::Utc::now().timestamp();
        let mut rate = lock(&self.rate);
        let entry = rate.entry(action.to_string()).or_insert((second, 0));
        if entry.0 != second {
            *entry = (second, 0);
        }
        entry.1 += 1;
        if entry.1 > limit {
            return Err(ApiError::new(
                "RequestLimitExceeded",
                format!("Your current request times equals to `{}` in a second, which exceeds the frequency limit `{limit}` for a second. Please reduce the frequency of calls.", entry.1),
            ));
        }
        Ok(())
    }

    fn record(&self, record: RequestRecord) {
        if let Some(file) = &self.log_file {
            if let Ok(line) = serde_json::to_string(&record) {
                let _ = writeln!(lock(file), "{line}");
            }
        }
        lock(&self.log).push(record);
    }
}

/// An emulator serving on a loopback port in this process (`--emulator`, Rust tests).
pub struct RunningEmulator {
    pub emulator: Arc<Emulator>,
    pub addr: std::net::SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl RunningEmulator {
    /// Bind `127.0.0.1:0` and serve `store` in the background.
    ///
    /// # Errors
    /// When the port cannot be bound or the log file opened.
    pub async fn start(store: Store, options: Options) -> std::io::Result<Self> {
        let emulator = Emulator::new(store, options)?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(emulator.clone().serve(listener, async {
            let _ = stopped.await;
        }));
        Ok(RunningEmulator {
            emulator,
            addr,
            stop: Some(stop),
            task,
        })
    }

    /// `http://127.0.0.1:PORT`, for `--endpoint`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stop serving and wait for open connections to finish.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Region must be known; a financial region must arrive on its own financial domain.
fn check_region(incoming: &auth::Incoming) -> Result<(), ApiError> {
    if incoming.region.is_empty() {
        return Err(ApiError::new(
            "MissingParameter",
            "The request is missing a required parameter `Region`.",
        ));
    }
    let region = crate::region::lookup(&incoming.region).map_err(|_| {
        ApiError::new(
            "UnsupportedRegion",
            format!("The region `{}` is not supported.", incoming.region),
        )
    })?;
    if region.financial && !incoming.host.contains(region.name) {
        return Err(ApiError::new(
            "UnsupportedRegion",
            format!(
                "The financial region `{}` must be requested through its own domain, not `{}`.",
                region.name, incoming.host
            ),
        ));
    }
    Ok(())
}

/// Lowercase hex SHA-256 of a string (stable fake digests for manifests).
pub(crate) fn sha256_of(text: &str) -> String {
    crate::sign::sha256_hex(text.as_bytes())
}

/// Decrements the in-flight counter however the handler ends.
struct InFlight<'a>(&'a AtomicUsize);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn handle(
    State(emu): State<Arc<Emulator>>,
    method: Method,
    uri: axum::http::Uri,
    mut headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    // HTTP/2 carries the host as the `:authority` pseudo-header, not a Host header (RFC 9113
    // section 8.3.1); it is what the client signed as `host`.
    if !headers.contains_key(header::HOST) {
        if let Some(value) = uri
            .authority()
            .and_then(|a| axum::http::HeaderValue::from_str(a.as_str()).ok())
        {
            headers.insert(header::HOST, value);
        }
    }
    let now_in_flight = emu.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    let _guard = InFlight(&emu.in_flight);
    emu.max_in_flight.fetch_max(now_in_flight, Ordering::SeqCst);
    if let Some((min, max)) = emu.options.latency_ms {
        let ms = if max > min {
            min + rand::random::<u64>() % (max - min + 1)
        } else {
            min
        };
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    let query = query.unwrap_or_default();
    let raw = auth::RawRequest {
        method: &method,
        headers: &headers,
        query: &query,
        body: &body,
    };
    let request_id = uuid::Uuid::new_v4().to_string();
    let (incoming, result) = emu.process(&raw);
    let action = incoming
        .as_ref()
        .map(|i| i.action.clone())
        .unwrap_or_else(|| auth::peek_action(&raw));
    emu.record(RequestRecord {
        time_ms: chrono::Utc::now().timestamp_millis(),
        mutating: !is_read_only_name(&action),
        action,
        params: incoming
            .as_ref()
            .map(|i| i.params.clone())
            .unwrap_or(Value::Null),
        code: match &result {
            Ok(_) => "ok".into(),
            Err(e) => e.code.clone(),
        },
        request_id: request_id.clone(),
        sign_method: incoming
            .as_ref()
            .map(|i| i.sign_method.to_string())
            .unwrap_or_default(),
    });
    if emu.options.drop_rate > 0.0 && rand::random::<f64>() < emu.options.drop_rate {
        return dropped_connection();
    }
    let envelope = match result {
        Ok(Value::Object(mut fields)) => {
            fields.insert("RequestId".into(), Value::String(request_id));
            json!({"Response": fields})
        }
        Ok(_) => json!({"Response": {"RequestId": request_id}}),
        Err(e) => {
            json!({"Response": {"Error": {"Code": e.code, "Message": e.message}, "RequestId": request_id}})
        }
    };
    // Exactly `application/json`: Tencent's SDK and CLI only treat an error response with this
    // exact content type as an error.
    let date = chrono::DateTime::from_timestamp(emu.now(), 0)
        .unwrap_or_default()
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string();
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::DATE, date)
        .body(Body::from(envelope.to_string()))
        .expect("static status and header are valid")
}

/// A response whose body fails after the headers: the client sees the connection drop.
fn dropped_connection() -> Response {
    let stream = futures_util::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "dropped (--drop-rate)",
        ))
    });
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from_stream(stream))
        .expect("static status and header are valid")
}
