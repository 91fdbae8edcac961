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

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a Lua script once.
    Run(RunArgs),
}

/// Arguments of `tcrl run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The Lua script to run.
    pub script: PathBuf,

    /// A value for the script, read as `tcr.args.KEY` (a string). Repeatable.
    #[arg(long = "arg", value_name = "KEY=VALUE", value_parser = parse_key_value)]
    pub args: Vec<(String, String)>,

    #[command(flatten)]
    pub connect: ConnectArgs,
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

    /// Connect timeout, e.g. 5s.
    #[arg(long, default_value = "10s", value_parser = crate::settings::parse_duration)]
    pub connect_timeout: std::time::Duration,

    /// Timeout of one API request, e.g. 30s.
    #[arg(long, default_value = "60s", value_parser = crate::settings::parse_duration)]
    pub request_timeout: std::time::Duration,

    /// Language of API error messages: zh-CN or en-US.
    #[arg(long)]
    pub language: Option<String>,
}

fn parse_key_value(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(format!("expected KEY=VALUE, got {text:?}")),
    }
}
