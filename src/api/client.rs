//! The API client: build a request, sign it, send it, decode the answer.
//!
//! [`prepare`] is pure (time and nonce are inputs), so `tcr.sign` and the tests see exactly the
//! request that [`Client::call`] would send. Size limits are enforced before anything is sent.
//! Retries, rate limits and pagination live above this layer.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use super::params::flatten;
use super::ratelimit::RateLimits;
use super::retry::{reason_to_retry, RetryPolicy};
use crate::credentials::{CredentialProvider, Credentials};
use crate::error::{Error, Result};
use crate::region::Endpoint;
use crate::sign::{hmac_v1, tc3, SignMethod};

/// Documented request size limits.
pub const MAX_GET_BYTES: usize = 32 * 1024;
pub const MAX_V1_POST_BYTES: usize = 1024 * 1024;
pub const MAX_TC3_POST_BYTES: usize = 10 * 1024 * 1024;

/// How much of an unexpected response body an error quotes.
const QUOTE_BYTES: usize = 200;

/// GET or POST.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpMethod {
    Get,
    Post,
}

impl HttpMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Get => "GET",
            HttpMethod::Post => "POST",
        }
    }
}

impl std::str::FromStr for HttpMethod {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.to_ascii_uppercase().as_str() {
            "GET" => Ok(HttpMethod::Get),
            "POST" => Ok(HttpMethod::Post),
            _ => Err(format!("unknown http_method {s:?} (expected GET or POST)")),
        }
    }
}

/// Fully resolved options of one call.
#[derive(Debug, Clone)]
pub struct CallOptions {
    pub service: String,
    pub version: String,
    pub region: String,
    pub endpoint: Endpoint,
    pub timeout: Duration,
    pub sign_method: SignMethod,
    pub http_method: HttpMethod,
    /// `X-TC-Language` / `Language` (`zh-CN` or `en-US`), when set.
    pub language: Option<String>,
    pub retry: RetryPolicy,
}

/// A signed request, ready to send. Holds the session token in a header but never the key.
#[derive(Clone)]
pub struct PreparedRequest {
    pub method: HttpMethod,
    pub url: String,
    /// Names are fixed by the protocol; values are per call.
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

impl std::fmt::Debug for PreparedRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PreparedRequest")
            .field("method", &self.method)
            .field("url", &"** REDACTED **")
            .finish_non_exhaustive()
    }
}

/// Build and sign a request for `action` with `params` (a JSON object).
///
/// # Errors
/// `RequestTooLarge` when the request exceeds the documented limit for its kind.
pub fn prepare(
    action: &str,
    params: &Value,
    opts: &CallOptions,
    credentials: &Credentials,
    timestamp: i64,
    nonce: u32,
) -> Result<PreparedRequest> {
    match opts.sign_method {
        SignMethod::Tc3 => prepare_tc3(action, params, opts, credentials, timestamp),
        method => prepare_v1(action, params, opts, credentials, timestamp, nonce, method),
    }
}

fn prepare_tc3(
    action: &str,
    params: &Value,
    opts: &CallOptions,
    credentials: &Credentials,
    timestamp: i64,
) -> Result<PreparedRequest> {
    let host = opts.endpoint.host.clone();
    let (content_type, query, body) = match opts.http_method {
        HttpMethod::Post => (
            "application/json",
            String::new(),
            serde_json::to_vec(params).expect("a JSON value always serialises"),
        ),
        HttpMethod::Get => (
            "application/x-www-form-urlencoded",
            encode_pairs(&flatten(params)),
            Vec::new(),
        ),
    };
    check_size(action, opts, query.len(), body.len())?;
    let parts = tc3::RequestParts {
        method: opts.http_method.as_str(),
        path: "/",
        query: &query,
        headers: &[
            ("content-type".into(), content_type.into()),
            ("host".into(), host.as_str().into()),
        ],
        payload: &body,
    };
    let authorization = tc3::authorization(
        &parts,
        &opts.service,
        timestamp,
        &credentials.secret_id,
        credentials.secret_key.expose(),
    );
    // Room for the optional token and language: no reallocation on the signing path.
    let mut headers = Vec::with_capacity(9);
    headers.extend([
        ("Authorization", authorization),
        ("Content-Type", content_type.to_string()),
        ("Host", host),
        ("X-TC-Action", action.to_string()),
        ("X-TC-Timestamp", timestamp.to_string()),
        ("X-TC-Version", opts.version.clone()),
        ("X-TC-Region", opts.region.clone()),
    ]);
    if let Some(token) = &credentials.token {
        headers.push(("X-TC-Token", token.expose().to_string()));
    }
    if let Some(language) = &opts.language {
        headers.push(("X-TC-Language", language.clone()));
    }
    let mut url = opts.endpoint.url();
    if !query.is_empty() {
        url = format!("{url}?{query}");
    }
    Ok(PreparedRequest {
        method: opts.http_method,
        url,
        headers,
        body,
    })
}

fn prepare_v1(
    action: &str,
    params: &Value,
    opts: &CallOptions,
    credentials: &Credentials,
    timestamp: i64,
    nonce: u32,
    method: SignMethod,
) -> Result<PreparedRequest> {
    let mut pairs = flatten(params);
    pairs.push(("Action".into(), action.into()));
    pairs.push(("Nonce".into(), nonce.to_string()));
    pairs.push(("Timestamp".into(), timestamp.to_string()));
    pairs.push(("Version".into(), opts.version.clone()));
    pairs.push(("Region".into(), opts.region.clone()));
    if let Some(token) = &credentials.token {
        pairs.push(("Token".into(), token.expose().to_string()));
    }
    pairs.push(("SecretId".into(), credentials.secret_id.clone()));
    pairs.push(("SignatureMethod".into(), method.as_str().into()));
    if let Some(language) = &opts.language {
        pairs.push(("Language".into(), language.clone()));
    }
    let sorted = pairs.iter().cloned().collect();
    let sts =
        hmac_v1::StringToSign::new(opts.http_method.as_str(), &opts.endpoint.host, "/", &sorted);
    pairs.push((
        "Signature".into(),
        hmac_v1::signature(method, credentials.secret_key.expose(), &sts),
    ));
    let encoded = encode_pairs(&pairs);
    let headers = vec![
        (
            "Content-Type",
            "application/x-www-form-urlencoded".to_string(),
        ),
        ("Host", opts.endpoint.host.clone()),
    ];
    let (url, body) = match opts.http_method {
        HttpMethod::Get => {
            check_size(action, opts, encoded.len(), 0)?;
            (format!("{}?{encoded}", opts.endpoint.url()), Vec::new())
        }
        HttpMethod::Post => {
            check_size(action, opts, 0, encoded.len())?;
            (opts.endpoint.url(), encoded.into_bytes())
        }
    };
    Ok(PreparedRequest {
        method: opts.http_method,
        url,
        headers,
        body,
    })
}

fn encode_pairs(pairs: &[(String, String)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

fn check_size(action: &str, opts: &CallOptions, query: usize, body: usize) -> Result<()> {
    let (size, limit, kind) = match (opts.http_method, opts.sign_method) {
        (HttpMethod::Get, _) => (query, MAX_GET_BYTES, "GET requests"),
        (HttpMethod::Post, SignMethod::Tc3) => (body, MAX_TC3_POST_BYTES, "TC3-HMAC-SHA256 POST"),
        (HttpMethod::Post, _) => (body, MAX_V1_POST_BYTES, "HmacSHA1/HmacSHA256 POST"),
    };
    if size > limit {
        return Err(Error::RequestTooLarge {
            action: action.to_string(),
            size,
            limit,
            kind,
        });
    }
    Ok(())
}

/// Turn an HTTP answer into the `Response` object, or the error it carries.
///
/// # Errors
/// `Api` for `Response.Error`; `BadResponse` for anything that is not an API envelope.
pub fn decode_response(
    action: &str,
    opts: &CallOptions,
    status: u16,
    body: &[u8],
) -> Result<Value> {
    let bad = |detail: String| Error::BadResponse {
        action: action.to_string(),
        endpoint: opts.endpoint.host.clone(),
        status,
        detail,
    };
    let parsed: Value =
        serde_json::from_slice(body).map_err(|_| bad(format!("not JSON: {}", quote(body))))?;
    let Some(Value::Object(response)) = parsed.get("Response") else {
        return Err(bad(format!("no Response object: {}", quote(body))));
    };
    if let Some(error) = response.get("Error") {
        let field = |name: &str| {
            error
                .get(name)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        return Err(Error::Api {
            action: action.to_string(),
            code: field("Code"),
            message: field("Message"),
            request_id: response
                .get("RequestId")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            region: opts.region.clone(),
        });
    }
    if !(200..300).contains(&status) {
        return Err(bad(format!(
            "HTTP error without an API error: {}",
            quote(body)
        )));
    }
    Ok(Value::Object(response.clone()))
}

/// The first bytes of a body, printable, for error messages.
fn quote(body: &[u8]) -> String {
    let cut = &body[..body.len().min(QUOTE_BYTES)];
    let text = String::from_utf8_lossy(cut);
    let more = if body.len() > QUOTE_BYTES { "..." } else { "" };
    if body.is_empty() {
        "empty body".to_string()
    } else {
        format!("{:?}{more}", text)
    }
}

/// Sends signed requests; cheap to clone, shares one connection pool, one set of rate
/// limiters and one clock-skew correction.
#[derive(Clone)]
pub struct Client {
    /// Built on first use; holds the build error, if any, as text.
    http: Arc<std::sync::OnceLock<std::result::Result<reqwest::Client, String>>>,
    /// The certificates trusted: the system store (loaded when first needed) and `--ca-cert`.
    trust: Arc<super::tls::Trust>,
    credentials: Arc<CredentialProvider>,
    limits: Arc<RateLimits>,
    /// Seconds to add to the local clock, learnt from `AuthFailure.SignatureExpire`.
    clock_offset: Arc<AtomicI64>,
    max_response_bytes: usize,
    connect_timeout: Duration,
}

/// What came back over HTTP, before decoding.
struct RawResponse {
    status: u16,
    /// The server's `Date` header, as Unix seconds.
    date: Option<i64>,
    body: Vec<u8>,
}

impl Client {
    /// A client with the given connect timeout and rate limits.
    ///
    /// # Errors
    /// None today (the HTTP stack is set up on first use); kept for callers' `?`.
    pub fn new(
        credentials: Arc<CredentialProvider>,
        connect_timeout: Duration,
        limits: RateLimits,
    ) -> Result<Self> {
        Ok(Client {
            http: Arc::default(),
            trust: Arc::new(super::tls::Trust::new(Vec::new()).map_err(Error::Config)?),
            connect_timeout,
            credentials,
            limits: Arc::new(limits),
            clock_offset: Arc::new(AtomicI64::new(0)),
            max_response_bytes: 64 * 1024 * 1024,
        })
    }

    /// Also trust the CA certificates of the PEM file at `path` (private CA, emulator on HTTPS).
    ///
    /// # Errors
    /// `Io` when the file cannot be read, `Config` when it holds no PEM certificate.
    pub fn with_ca_cert(mut self, path: &std::path::Path) -> Result<Self> {
        let pem = std::fs::read(path).map_err(|source| Error::Io {
            path: path.display().to_string(),
            source,
        })?;
        let not_pem = |e: &dyn std::fmt::Display| {
            Error::Config(format!(
                "--ca-cert {}: not a PEM certificate file: {e}",
                path.display()
            ))
        };
        use rustls::pki_types::{pem::PemObject, CertificateDer};
        let certs = CertificateDer::pem_slice_iter(&pem)
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| not_pem(&e))?;
        if certs.is_empty() {
            return Err(not_pem(&"no certificate in it"));
        }
        let trust = super::tls::Trust::new(certs)
            .map_err(|e| Error::Config(format!("--ca-cert {}: {e}", path.display())))?;
        self.trust = Arc::new(trust);
        self.http = Arc::default();
        Ok(self)
    }

    /// The HTTP client, built once and shared by every clone. A caller that arrives while
    /// another thread builds it waits for that build instead of starting a second one.
    fn http(&self) -> Result<&reqwest::Client> {
        let built = self.http.get_or_init(|| {
            let tls = self.trust.client_config()?;
            crate::http_client_builder()
                .connect_timeout(self.connect_timeout)
                .tls_backend_preconfigured(tls)
                .build()
                .map_err(|e| format!("cannot set up the HTTP client: {e}"))
        });
        built.as_ref().map_err(|e| Error::Config(e.clone()))
    }

    /// Load the system trust store now, for a caller that has a spare thread before the first
    /// call. Skipped with `--ca-cert`, whose servers are verified without the system store.
    pub fn load_trust_store(&self) {
        if !self.trust.has_extra_roots() {
            let _ = self.trust.system();
        }
    }

    /// Refuse response bodies larger than `bytes`.
    pub fn with_max_response(mut self, bytes: usize) -> Self {
        self.max_response_bytes = bytes;
        self
    }

    /// The current credentials (resolving the chain lazily).
    ///
    /// # Errors
    /// `NoCredentials` when no source has a key.
    pub async fn credentials(&self) -> Result<Credentials> {
        self.credentials.get(self.http()?).await
    }

    /// The local clock corrected by any skew learnt from the service.
    pub fn now(&self) -> i64 {
        chrono::Utc::now().timestamp() + self.clock_offset.load(Ordering::Relaxed)
    }

    /// Call `action` and return its `Response` object (with `RequestId`), waiting for the rate
    /// limiter, retrying what is safe to retry, and correcting clock skew once.
    ///
    /// # Errors
    /// Every failure as a typed [`Error`]: local validation, transport, API error.
    pub async fn call(&self, action: &str, params: &Value, opts: &CallOptions) -> Result<Value> {
        let mut attempt = 0;
        let mut skew_corrected = false;
        loop {
            let (result, server_date) = self.call_once(action, params, opts).await;
            let error = match result {
                Ok(response) => return Ok(response),
                Err(e) => e,
            };
            if let (Error::Api { code, .. }, Some(date), false) =
                (&error, server_date, skew_corrected)
            {
                if code == "AuthFailure.SignatureExpire" {
                    let skew = date - chrono::Utc::now().timestamp();
                    self.clock_offset.store(skew, Ordering::Relaxed);
                    skew_corrected = true;
                    tracing::warn!(
                        action,
                        skew_seconds = skew,
                        "local clock differs from the service; re-signing with the service's time"
                    );
                    continue;
                }
            }
            let Some(reason) = reason_to_retry(action, params, &error) else {
                return Err(error);
            };
            if attempt >= opts.retry.retries {
                return Err(error);
            }
            let delay = opts.retry.delay(attempt, rand::random::<f64>());
            attempt += 1;
            tracing::debug!(action, attempt, delay_ms = delay.as_millis() as u64, reason, error = %error.code(), "retrying");
            tokio::time::sleep(delay).await;
        }
    }

    /// One signed request, after the rate limiter; also returns the server's `Date`.
    async fn call_once(
        &self,
        action: &str,
        params: &Value,
        opts: &CallOptions,
    ) -> (Result<Value>, Option<i64>) {
        let credentials = match self.credentials().await {
            Ok(c) => c,
            Err(e) => return (Err(e), None),
        };
        self.limits.wait(&opts.service, action).await;
        let request = match prepare(
            action,
            params,
            opts,
            &credentials,
            self.now(),
            rand::random(),
        ) {
            Ok(r) => r,
            Err(e) => return (Err(e), None),
        };
        tracing::debug!(
            action,
            region = %opts.region,
            endpoint = %opts.endpoint.host,
            sign_method = %opts.sign_method,
            "sending request"
        );
        let started = std::time::Instant::now();
        let raw = match self.send(action, opts, request).await {
            Ok(raw) => raw,
            Err(e) => return (Err(e), None),
        };
        let result = decode_response(action, opts, raw.status, &raw.body);
        tracing::debug!(
            action,
            status = raw.status,
            elapsed_ms = started.elapsed().as_millis() as u64,
            outcome = match &result {
                Ok(_) => "ok".to_string(),
                Err(e) => e.code(),
            },
            "received response"
        );
        (result, raw.date)
    }

    async fn send(
        &self,
        action: &str,
        opts: &CallOptions,
        request: PreparedRequest,
    ) -> Result<RawResponse> {
        let method = match request.method {
            HttpMethod::Get => reqwest::Method::GET,
            HttpMethod::Post => reqwest::Method::POST,
        };
        let mut builder = self
            .http()?
            .request(method, &request.url)
            .timeout(opts.timeout);
        for (name, value) in &request.headers {
            builder = builder.header(*name, value);
        }
        let transport = |e: reqwest::Error| Error::Transport {
            action: action.to_string(),
            endpoint: opts.endpoint.host.clone(),
            detail: describe_transport_error(&e, opts.timeout),
            not_sent: e.is_connect(),
            timed_out: e.is_timeout(),
        };
        let mut response = builder.body(request.body).send().await.map_err(transport)?;
        let status = response.status().as_u16();
        let date = response
            .headers()
            .get(reqwest::header::DATE)
            .and_then(|d| d.to_str().ok())
            .and_then(|d| chrono::DateTime::parse_from_rfc2822(d).ok())
            .map(|d| d.timestamp());
        let too_large = |size: usize| Error::ResponseTooLarge {
            action: action.to_string(),
            endpoint: opts.endpoint.host.clone(),
            size,
            limit: self.max_response_bytes,
        };
        if let Some(len) = response
            .content_length()
            .filter(|l| *l as usize > self.max_response_bytes)
        {
            return Err(too_large(len as usize));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(transport)? {
            body.extend_from_slice(&chunk);
            if body.len() > self.max_response_bytes {
                return Err(too_large(body.len()));
            }
        }
        Ok(RawResponse { status, date, body })
    }
}

/// A transport error in words, without the URL (which may carry a token in a GET query).
fn describe_transport_error(e: &reqwest::Error, timeout: Duration) -> String {
    use std::error::Error as _;
    if e.is_timeout() {
        return format!("timed out after {}", humantime_secs(timeout));
    }
    let mut cause = e.source();
    let mut innermost = None;
    while let Some(c) = cause {
        innermost = Some(c.to_string());
        cause = c.source();
    }
    let what = if e.is_connect() {
        "cannot connect"
    } else if e.is_body() || e.is_decode() {
        "connection failed while reading the response"
    } else {
        "request failed"
    };
    match innermost {
        Some(c) if c.contains("UnknownIssuer") => format!(
            "{what}: {c} (the server's certificate is signed by a CA this machine does not \
             trust; for a private CA or the emulator, pass --ca-cert FILE)"
        ),
        Some(c) => format!("{what}: {c}"),
        None => what.to_string(),
    }
}

fn humantime_secs(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::region::Scheme;
    use serde_json::json;

    fn opts(method: HttpMethod, sign: SignMethod) -> CallOptions {
        CallOptions {
            service: "tcr".into(),
            version: "2019-09-24".into(),
            region: "ap-guangzhou".into(),
            endpoint: Endpoint {
                scheme: Scheme::Https,
                host: "tcr.tencentcloudapi.com".into(),
            },
            timeout: Duration::from_secs(5),
            sign_method: sign,
            http_method: method,
            language: None,
            retry: RetryPolicy::default(),
        }
    }

    #[test]
    fn oversized_requests_are_refused_before_sending() {
        let creds = Credentials::new("id", "key", None);
        let big = json!({"Description": "x".repeat(MAX_V1_POST_BYTES + 1)});
        let err = prepare(
            "CreateNamespace",
            &big,
            &opts(HttpMethod::Post, SignMethod::HmacSha256),
            &creds,
            0,
            1,
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("exceeds the 1048576 byte limit"),
            "{err}"
        );
        assert!(prepare(
            "CreateNamespace",
            &big,
            &opts(HttpMethod::Post, SignMethod::Tc3),
            &creds,
            0,
            1
        )
        .is_ok());
        let get = json!({"Description": "x".repeat(MAX_GET_BYTES)});
        let err = prepare(
            "DescribeX",
            &get,
            &opts(HttpMethod::Get, SignMethod::Tc3),
            &creds,
            0,
            1,
        )
        .unwrap_err();
        assert!(err.to_string().contains("GET requests"), "{err}");
    }

    #[test]
    fn api_errors_keep_code_message_and_request_id() {
        let body = br#"{"Response":{"Error":{"Code":"ResourceNotFound","Message":"no such repo"},"RequestId":"req-1"}}"#;
        let err = decode_response(
            "DescribeImages",
            &opts(HttpMethod::Post, SignMethod::Tc3),
            200,
            body,
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "DescribeImages: ResourceNotFound: no such repo (request req-1)"
        );
    }

    #[test]
    fn non_api_answers_are_quoted() {
        let o = opts(HttpMethod::Post, SignMethod::Tc3);
        let err =
            decode_response("DescribeImages", &o, 502, b"<html>bad gateway</html>").unwrap_err();
        assert!(
            err.to_string().contains("HTTP 502") && err.to_string().contains("<html>bad gateway"),
            "{err}"
        );
        let err = decode_response("DescribeImages", &o, 200, br#"{"Foo": 1}"#).unwrap_err();
        assert!(err.to_string().contains("no Response object"), "{err}");
        let err = decode_response("DescribeImages", &o, 200, b"").unwrap_err();
        assert!(err.to_string().contains("empty body"), "{err}");
    }
}
