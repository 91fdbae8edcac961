//! Command-line definitions. Each `///` comment is the user's `--help` text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::logging::LogFormat;

/// Automate Tencent Container Registry (TCR) with Lua scripts.
#[derive(Debug, Parser)]
#[command(name = "tcrl", version, about, long_about = None)]
pub struct Cli {
    /// More log detail (-v: debug for tcrl, -vv: everything). RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    /// Log line format on stderr.
    #[arg(long, value_enum, default_value = "text", global = true)]
    pub log_format: LogFormat,

    /// No progress lines for long paginations and tcr.map (they are drawn only when stderr is
    /// a terminal, and never by the daemon).
    #[arg(short, long, global = true)]
    pub quiet: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a Lua script once.
    Run(RunArgs),
    /// An interactive Lua prompt with the tcr module (reads stdin when it is not a terminal).
    Repl(ReplArgs),
    /// Serve a local emulator of the TCR API (plain HTTP on loopback).
    Emulator(EmulatorArgs),
    /// Write editor stubs for the tcr module and a .luarc.json into a script folder.
    Types(TypesArgs),
    /// Run the job files of a folder on their cron schedules, reloading them when they change.
    /// Schedules are 5-field crontab (0 and 7 = Sunday), 6 fields with seconds, or @daily-style
    /// shortcuts, in the job's `timezone` (default UTC).
    Daemon(DaemonArgs),
    /// Check job files: compile, validate the job table and schedule, print the next 3 fire
    /// times. Exit 2 if any file is invalid.
    Check(CheckArgs),
}

/// Arguments of `tcrl daemon`.
#[derive(Debug, Args)]
pub struct DaemonArgs {
    /// Folder of job files (`*.lua` at its top level).
    pub dir: PathBuf,

    /// Serve /healthz, /status and /metrics on this address, e.g. 127.0.0.1:9464.
    #[arg(long, value_name = "ADDR")]
    pub http: Option<std::net::SocketAddr>,

    /// Where run history is kept (default: $XDG_STATE_HOME/tcrl or ~/.local/state/tcrl).
    #[arg(long, env = "TCRL_STATE_DIR")]
    pub state_dir: Option<PathBuf>,

    /// Runs kept in the history of each job.
    #[arg(long, default_value_t = 20)]
    pub history: usize,

    /// On SIGINT/SIGTERM, how long running jobs may finish before they are cancelled.
    #[arg(long, default_value = "30s", value_parser = crate::settings::parse_duration)]
    pub grace: std::time::Duration,

    /// Quiet period after a file change before reloading (bursts reload once).
    #[arg(long, default_value = "200ms", value_parser = crate::settings::parse_duration)]
    pub debounce: std::time::Duration,

    #[command(flatten)]
    pub session: SessionArgs,
}

/// Arguments of `tcrl check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Job files to check.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
}

/// Arguments of `tcrl repl`.
#[derive(Debug, Args)]
pub struct ReplArgs {
    /// A value for `tcr.args.KEY` (a string). Repeatable.
    #[arg(long = "arg", value_name = "KEY=VALUE", value_parser = parse_key_value)]
    pub args: Vec<(String, String)>,

    /// Stop each evaluation after this long, e.g. 30s (default: no limit; Ctrl-C cancels).
    #[arg(long, value_parser = crate::settings::parse_duration)]
    pub timeout: Option<std::time::Duration>,

    #[command(flatten)]
    pub session: SessionArgs,
}

/// Arguments of `tcrl types`.
#[derive(Debug, Args)]
pub struct TypesArgs {
    /// The folder of your scripts.
    #[arg(long, default_value = ".")]
    pub out: PathBuf,

    /// Replace an existing .luarc.json.
    #[arg(long)]
    pub force: bool,
}

/// Arguments of `tcrl emulator`.
#[derive(Debug, Args)]
pub struct EmulatorArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:9400")]
    pub listen: std::net::SocketAddr,

    /// Load the registry from a JSON fixture (the emulator's state format).
    #[arg(long, conflicts_with_all = ["demo", "generate"])]
    pub seed: Option<PathBuf>,

    /// Serve the deterministic demo registry (the default when no --seed or --generate).
    #[arg(long)]
    pub demo: bool,

    /// Serve a generated registry of REPOS repositories with TAGS tags each, e.g. 100x500.
    #[arg(long, value_name = "REPOSxTAGS", conflicts_with = "demo")]
    pub generate: Option<String>,

    /// Load state from this file if it exists, and save it there on shutdown.
    #[arg(long)]
    pub state: Option<PathBuf>,

    /// Accepted SecretId (repeatable, paired with --secret-key); the demo key if none.
    #[arg(long)]
    pub secret_id: Vec<String>,

    /// SecretKey for the --secret-id at the same position.
    #[arg(long)]
    pub secret_key: Vec<String>,

    /// Session token the accounts must present (X-TC-Token / Token).
    #[arg(long)]
    pub token: Option<String>,

    /// Added latency per request in milliseconds: a fixed value (20) or a range (10-50).
    #[arg(long, value_name = "MS|MIN-MAX")]
    pub latency: Option<String>,

    /// Probability (0 to 1) of answering a request with --fail-code instead of running it.
    #[arg(long, default_value_t = 0.0)]
    pub fail_rate: f64,

    /// Error code for --fail-rate, e.g. InternalError or RequestLimitExceeded.
    #[arg(long, default_value = "InternalError")]
    pub fail_code: String,

    /// Requests per action per second before answering RequestLimitExceeded.
    #[arg(long)]
    pub rate_limit: Option<u32>,

    /// Probability (0 to 1) of dropping the connection instead of answering.
    #[arg(long, default_value_t = 0.0)]
    pub drop_rate: f64,

    /// Append every request (action, parameters, result code) as a JSON line to FILE.
    #[arg(long, value_name = "FILE")]
    pub log: Option<PathBuf>,

    /// Seconds to add to the emulator's clock, to rehearse clock skew.
    #[arg(long, default_value_t = 0, allow_hyphen_values = true)]
    pub clock_offset: i64,

    /// Serve at most N items per page whatever the request asks, to rehearse a server whose
    /// real page-size maximum is below the documented one.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub page_size_cap: Option<u32>,

    /// Serve HTTPS with this certificate chain (PEM); needs --tls-key.
    #[arg(
        long,
        value_name = "FILE",
        requires = "tls_key",
        conflicts_with = "tls_self_signed"
    )]
    pub tls_cert: Option<PathBuf>,

    /// Private key (PEM) of --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,

    /// Serve HTTPS with a local CA and a certificate for 127.0.0.1, ::1 and localhost kept in
    /// DIR: clients trust DIR/ca.pem. Made on first use, reused afterwards.
    #[arg(long, value_name = "DIR")]
    pub tls_self_signed: Option<PathBuf>,
}

/// Arguments of `tcrl run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The Lua script to run.
    pub script: PathBuf,

    /// A value for the script, read as `tcr.args.KEY` (a string). Repeatable.
    #[arg(long = "arg", value_name = "KEY=VALUE", value_parser = parse_key_value)]
    pub args: Vec<(String, String)>,

    /// Stop the run after this long, e.g. 30s or 5m (default: no limit for `run`).
    #[arg(long, value_parser = crate::settings::parse_duration)]
    pub timeout: Option<std::time::Duration>,

    #[command(flatten)]
    pub session: SessionArgs,
}

/// What every mode that runs scripts (`run`, `repl`, `daemon`) takes alike: where calls go,
/// what scripts may use, and the two rehearsal switches.
#[derive(Debug, Args)]
pub struct SessionArgs {
    /// Start the built-in emulator with demo data and demo credentials, and send every call
    /// to it: try scripts with no account and no network.
    #[arg(long, conflicts_with_all = ["endpoint", "secret_id", "profile"])]
    pub emulator: bool,

    /// Send no mutating call: anything not known read-only (Describe*, Get*, Check*, Query*,
    /// Inquire*, List*, Validate*) is recorded, answered with DryRun = true, and summarised.
    #[arg(long)]
    pub dry_run: bool,

    #[command(flatten)]
    pub limits: ScriptArgs,

    #[command(flatten)]
    pub connect: ConnectArgs,
}

/// What a script may touch and use; shared by every mode.
#[derive(Debug, Args, Clone)]
pub struct ScriptArgs {
    /// Memory cap of a script's Lua state, e.g. 64MB.
    #[arg(long, default_value = "256MB", value_parser = crate::limits::parse_bytes)]
    pub memory_limit: usize,

    /// A folder scripts may read and write besides their own (repeatable).
    #[arg(long, value_name = "DIR")]
    pub allow_path: Vec<PathBuf>,

    /// Give scripts every Lua library unrestricted (os.execute, io.popen, debug, C modules).
    /// Only for trusted scripts.
    #[arg(long = "unsafe")]
    pub unsafe_lua: bool,

    /// Largest API response accepted, e.g. 64MB.
    #[arg(long, default_value = "64MB", value_parser = crate::limits::parse_bytes)]
    pub max_response_size: usize,
}

/// Where and as whom calls are made; shared by every mode.
#[derive(Debug, Args, Clone, Default)]
pub struct ConnectArgs {
    /// Default region of calls (also TENCENTCLOUD_REGION; ap-guangzhou if unset).
    #[arg(long, env = "TENCENTCLOUD_REGION")]
    pub region: Option<String>,

    /// Send every call to this HOST[:PORT] (private network, custom domain, emulator). Without a
    /// scheme, HTTPS; http:// only for loopback hosts unless --insecure-http.
    #[arg(long, env = "TCRL_ENDPOINT", value_name = "HOST[:PORT]")]
    pub endpoint: Option<String>,

    /// Root domain: intl.tencentcloudapi.com (default, international site) or
    /// tencentcloudapi.com (China site), or a private-network domain.
    #[arg(long, value_name = "DOMAIN")]
    pub root_domain: Option<String>,

    /// Use regional hosts (tcr.REGION.DOMAIN) instead of the nearest-access host.
    #[arg(long)]
    pub regional: bool,

    /// Allow a plain http:// endpoint on a non-loopback host (requests and tokens unencrypted).
    #[arg(long)]
    pub insecure_http: bool,

    /// Credentials profile in ~/.tencentcloud/credentials or ~/.tccli (default: "default").
    #[arg(long)]
    pub profile: Option<String>,

    /// SecretId (discouraged: visible in the process list; prefer the environment or a profile).
    #[arg(long, requires = "secret_key")]
    pub secret_id: Option<String>,

    /// SecretKey (discouraged, see --secret-id).
    #[arg(long, requires = "secret_id", hide_env_values = true)]
    pub secret_key: Option<String>,

    /// Also trust the CA certificates in this PEM file (private CA, emulator over HTTPS).
    #[arg(long, env = "TCRL_CA_CERT", value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,

    /// Connect timeout, e.g. 5s.
    #[arg(long, default_value = "10s", value_parser = crate::settings::parse_duration)]
    pub connect_timeout: std::time::Duration,

    /// Timeout of one API request, e.g. 30s.
    #[arg(long, default_value = "60s", value_parser = crate::settings::parse_duration)]
    pub request_timeout: std::time::Duration,

    /// Language of API error messages: zh-CN or en-US.
    #[arg(long)]
    pub language: Option<String>,

    /// Retries of a failed call that is safe to repeat (rate limited, or read-only and
    /// failed on the server or network); 0 turns retries off.
    #[arg(long, default_value_t = 4)]
    pub retries: u32,

    /// Base delay of the exponential backoff between retries (full jitter), e.g. 200ms.
    #[arg(long, default_value = "200ms", value_parser = crate::settings::parse_duration)]
    pub retry_base: std::time::Duration,

    /// Client-side limit in requests per second per action, shared by all concurrent calls
    /// (TCR's documented default is 20); 0 turns it off.
    #[arg(long, default_value_t = 20)]
    pub rate_limit: u32,

    /// A different limit for one action, e.g. DescribeImages=50. Repeatable.
    #[arg(long, value_name = "ACTION=N", value_parser = parse_action_limit)]
    pub action_rate_limit: Vec<(String, u32)>,
}

fn parse_action_limit(text: &str) -> Result<(String, u32), String> {
    let (action, n) = parse_key_value(text)?;
    let n = n
        .parse()
        .map_err(|_| format!("expected ACTION=N with a whole number, got {text:?}"))?;
    Ok((action, n))
}

fn parse_key_value(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(format!("expected KEY=VALUE, got {text:?}")),
    }
}
