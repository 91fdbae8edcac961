//! tcrl: automate Tencent Container Registry (TCR) with Lua scripts.
//!
//! # Layout
//! - `cli`: clap definitions (the user's `--help`).
//! - `app`: turns parsed arguments into settings and runs a command.
//! - `settings`: resolved defaults (region, endpoint, timeouts) and per-call overrides.
//! - `error`: the crate's error enum, exit codes.
//! - `credentials`: the credential chain; secrets never print.
//! - `redact`: the one place secrets are masked in any output.
//! - `logging`: tracing set-up on stderr, text or JSON.
//! - `region`: region table and endpoint resolution.
//! - `sign`: TC3-HMAC-SHA256 and HmacSHA1/HmacSHA256, pure functions.
//! - `api`: catalog, parameter encoding, and the HTTP client.
//! - `limits`: timeouts, memory caps and cancellation of a run (one mechanism for all modes).
//! - `lua`: Lua states, the `tcr` module, JSON <-> Lua conversion.
//! - `runtime`: what one run shares; the choke point of every call (dry runs).
//! - `runner`: run modes (`run`).
//! - `emulator`: the local TCR emulator.
//! - `editor`: `---@meta` stubs and `tcrl types`.

pub mod api;
pub mod app;
pub mod cli;
pub mod credentials;
pub mod editor;
pub mod emulator;
pub mod error;
pub mod limits;
pub mod logging;
pub mod lua;
pub mod progress;
pub mod redact;
pub mod region;
pub mod runner;
pub mod runtime;
pub mod settings;
pub mod sign;

pub use error::{Error, Result};

/// A reqwest client builder with the process's TLS crypto provider installed.
///
/// tcrl uses rustls with the `ring` provider (no C build of another crypto library); rustls
/// needs it installed once per process before the first TLS configuration is built.
pub fn http_client_builder() -> reqwest::ClientBuilder {
    install_crypto_provider();
    reqwest::Client::builder()
}

/// Install rustls's `ring` provider for this process (idempotent); TLS servers need it too.
pub fn install_crypto_provider() {
    static INSTALL: std::sync::Once = std::sync::Once::new();
    INSTALL.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}
