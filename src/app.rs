//! From parsed arguments to a running command: settings, credentials, runtime, exit code.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::api::ratelimit::RateLimits;
use crate::api::Client;
use crate::cli::{
    CheckArgs, Cli, Command, ConnectArgs, DaemonArgs, EmulatorArgs, RunArgs, SessionArgs,
};
use crate::credentials::{ChainInputs, CredentialProvider, Credentials};
use crate::emulator::{self, demo, store::Store, Emulator, RunningEmulator};
use crate::error::{Error, Result};
use crate::lua::Runtime;
use crate::region::{self, Endpoint, EndpointPolicy};
use crate::settings::Settings;

/// Run the parsed command line to completion.
///
/// # Errors
/// Whatever the command fails with; `Error::exit_code` maps it to the process exit code.
pub async fn run(cli: Cli) -> Result<()> {
    let unattended = matches!(cli.command, Command::Daemon(_) | Command::Emulator(_));
    crate::progress::init(cli.quiet || unattended);
    match cli.command {
        Command::Run(args) => run_script(args).await,
        Command::Emulator(args) => run_emulator(args).await,
        Command::Daemon(args) => run_daemon(args).await,
        Command::Repl(args) => {
            let (runtime, embedded) =
                script_runtime(&args.session, args.timeout, args.args.into_iter().collect())
                    .await?;
            let outcome = crate::runner::repl::run(runtime).await;
            if let Some(e) = embedded {
                e.stop().await;
            }
            outcome
        }
        Command::Check(args) => check(args).await,
        Command::Types(args) => {
            for path in crate::editor::write_types(&args.out, args.force)? {
                println!("wrote {path}");
            }
            Ok(())
        }
    }
}

/// The runtime of `run`, `repl` or `daemon`, and the embedded emulator when `--emulator` asks
/// for one (the caller stops it when done).
async fn script_runtime(
    session: &SessionArgs,
    timeout: Option<std::time::Duration>,
    args: BTreeMap<String, String>,
) -> Result<(Arc<Runtime>, Option<RunningEmulator>)> {
    let embedded = if session.emulator {
        Some(start_embedded_emulator().await?)
    } else {
        None
    };
    let mut settings = settings_from(&session.connect)?;
    apply_script_args(&mut settings, &session.limits);
    settings.limits.timeout = timeout;
    let runtime = build_runtime(
        settings,
        &session.connect,
        args,
        embedded.as_ref(),
        session.dry_run,
    )?;
    Ok((runtime, embedded))
}

/// Do what a one-off script's first call needs (the action catalog, the system trust store:
/// about 4 ms together) on another thread while the script loads. A script that never calls
/// does not wait for it.
fn warm_up_in_background(runtime: &Runtime) {
    let client = runtime.client.clone();
    let _ = std::thread::Builder::new()
        .name("tcrl-warm-up".into())
        .spawn(move || {
            crate::api::catalog::tcr();
            client.load_trust_store();
        });
}

async fn run_script(args: RunArgs) -> Result<()> {
    let (runtime, embedded) =
        script_runtime(&args.session, args.timeout, args.args.into_iter().collect()).await?;
    warm_up_in_background(&runtime);
    let outcome = crate::runner::oneoff::run_file(runtime.clone(), &args.script).await;
    let summary = runtime.summary();
    if !summary.is_empty() {
        tracing::info!("{summary}");
    }
    if let Some(e) = embedded {
        e.stop().await;
    }
    outcome
}

/// The in-process emulator behind `--emulator`: demo data, demo credentials.
async fn start_embedded_emulator() -> Result<RunningEmulator> {
    let running = RunningEmulator::start(demo::demo(demo::today_anchor()), Default::default())
        .await
        .map_err(|e| Error::Config(format!("cannot start the built-in emulator: {e}")))?;
    tracing::info!(endpoint = %running.endpoint(), instance = demo::DEMO_INSTANCE, "using the built-in emulator with demo data");
    Ok(running)
}

/// Settings from the connection flags (and their environment variables).
///
/// # Errors
/// `UnknownRegion`, or `Config` for a bad endpoint.
pub fn settings_from(connect: &ConnectArgs) -> Result<Settings> {
    let mut settings = Settings::default();
    if let Some(r) = &connect.region {
        region::lookup(r)?;
        settings.region = r.clone();
    }
    settings.insecure_http = connect.insecure_http;
    settings.ca_cert = connect.ca_cert.clone();
    if let Some(e) = &connect.endpoint {
        settings.endpoint = Some(Endpoint::parse(e, connect.insecure_http)?);
    }
    settings.policy = EndpointPolicy {
        root_domain: connect
            .root_domain
            .clone()
            .unwrap_or_else(|| region::DEFAULT_ROOT_DOMAIN.to_string()),
        regional: connect.regional,
    };
    settings.retry.retries = connect.retries;
    settings.retry.base_delay = connect.retry_base;
    settings.rate_limit = connect.rate_limit;
    settings.action_rate_limits = connect.action_rate_limit.iter().cloned().collect();
    settings.connect_timeout = connect.connect_timeout;
    settings.request_timeout = connect.request_timeout;
    if let Some(lang) = &connect.language {
        if lang != "zh-CN" && lang != "en-US" {
            return Err(Error::Config(format!(
                "--language {lang:?}: expected zh-CN or en-US"
            )));
        }
        settings.language = Some(lang.clone());
    }
    Ok(settings)
}

/// Sandbox, memory and response limits from the script flags.
pub fn apply_script_args(settings: &mut Settings, script: &crate::cli::ScriptArgs) {
    settings.limits.memory = script.memory_limit;
    settings.sandbox.unsafe_lua = script.unsafe_lua;
    for dir in &script.allow_path {
        settings.sandbox.allow(dir);
    }
    settings.max_response_bytes = script.max_response_size;
}

fn build_runtime(
    mut settings: Settings,
    connect: &ConnectArgs,
    args: BTreeMap<String, String>,
    embedded: Option<&RunningEmulator>,
    dry_run: bool,
) -> Result<Arc<Runtime>> {
    let credentials = match embedded {
        Some(e) => {
            settings.endpoint = Some(Endpoint::parse(&e.endpoint(), false)?);
            CredentialProvider::fixed(
                emulator::demo_credentials(),
                "the built-in emulator's demo key",
            )
        }
        None => CredentialProvider::from_chain(&ChainInputs::from_process(
            connect.secret_id.clone(),
            connect.secret_key.clone(),
            connect.profile.clone(),
        ))?,
    };
    tracing::debug!(?credentials, region = %settings.region, "runtime ready");
    let limits = RateLimits::new(settings.rate_limit, settings.action_rate_limits.clone());
    let mut client = Client::new(Arc::new(credentials), settings.connect_timeout, limits)?
        .with_max_response(settings.max_response_bytes);
    if let Some(path) = &settings.ca_cert {
        client = client.with_ca_cert(path)?;
    }
    Ok(Arc::new(Runtime::new(settings, client, args, dry_run)))
}

async fn run_emulator(args: EmulatorArgs) -> Result<()> {
    let store = initial_store(&args)?;
    let options = emulator_options(&args)?;
    let emulator = Emulator::new(store, options).map_err(|e| Error::Io {
        path: args
            .log
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default(),
        source: e,
    })?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| Error::Config(format!("cannot listen on {}: {e}", args.listen)))?;
    let addr = listener
        .local_addr()
        .map_err(|e| Error::Config(e.to_string()))?;
    let accounts = emulator.secret_ids();
    let tls = emulator_tls(&args)?;
    let tls_config = match &tls {
        Some(files) => Some(
            emulator::tls::server_config(files)
                .await
                .map_err(Error::Config)?,
        ),
        None => None,
    };
    let scheme = if tls.is_some() { "https" } else { "http" };
    let snapshot = emulator.snapshot();
    println!("tcrl emulator listening on {scheme}://{addr}");
    let mut trust = String::new();
    if let Some(ca) = tls.as_ref().and_then(|f| f.ca.as_ref()) {
        println!("  clients trust the CA certificate {}", ca.display());
        trust = format!(" --ca-cert {}", ca.display());
    }
    for instance in &snapshot.instances {
        println!(
            "  instance {} ({}, {}): {} namespaces, {} tags",
            instance.id,
            instance.name,
            instance.region,
            instance.namespaces.len(),
            instance
                .namespaces
                .values()
                .flat_map(|n| n.repositories.values())
                .map(|r| r.tags.len())
                .sum::<usize>()
        );
    }
    if accounts.iter().any(|id| id == emulator::DEMO_SECRET_ID) {
        println!(
            "  demo credentials: TENCENTCLOUD_SECRET_ID={} TENCENTCLOUD_SECRET_KEY={}",
            emulator::DEMO_SECRET_ID,
            emulator::DEMO_SECRET_KEY
        );
    } else {
        println!(
            "  accepting SecretId {}",
            accounts
                .iter()
                .map(|a| crate::credentials::secret_id_prefix(a))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    println!("  try: tcrl run scripts/inventory.lua --endpoint {scheme}://{addr}{trust}");
    let interrupted = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let served = match tls_config {
        Some(config) => {
            emulator
                .clone()
                .serve_tls(listener, config, interrupted)
                .await
        }
        None => emulator.clone().serve(listener, interrupted).await,
    };
    served.map_err(|e| Error::Config(format!("emulator stopped: {e}")))?;
    if let Some(path) = &args.state {
        let text =
            serde_json::to_string_pretty(&emulator.snapshot()).expect("the store serialises");
        std::fs::write(path, text).map_err(|source| Error::Io {
            path: path.display().to_string(),
            source,
        })?;
        println!("state saved to {}", path.display());
    }
    Ok(())
}

/// The certificate files to serve HTTPS with, if the flags ask for it.
fn emulator_tls(args: &EmulatorArgs) -> Result<Option<emulator::tls::TlsFiles>> {
    if let Some(dir) = &args.tls_self_signed {
        return emulator::tls::self_signed(dir)
            .map(Some)
            .map_err(|e| Error::Config(format!("--tls-self-signed: {e}")));
    }
    Ok(match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(emulator::tls::TlsFiles {
            cert: cert.clone(),
            key: key.clone(),
            ca: None,
        }),
        _ => None,
    })
}

fn initial_store(args: &EmulatorArgs) -> Result<Store> {
    let read = |path: &std::path::Path| -> Result<Store> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.display().to_string(),
            source,
        })?;
        serde_json::from_str(&text).map_err(|e| {
            Error::Config(format!(
                "{}: not an emulator state file: {e}",
                path.display()
            ))
        })
    };
    if let Some(path) = args.state.as_ref().filter(|p| p.exists()) {
        return read(path);
    }
    if let Some(path) = &args.seed {
        return read(path);
    }
    if let Some(spec) = &args.generate {
        let parsed = spec
            .split_once('x')
            .and_then(|(r, t)| Some((r.parse::<usize>().ok()?, t.parse::<usize>().ok()?)));
        let Some((repos, tags)) = parsed else {
            return Err(Error::Config(format!(
                "--generate {spec:?}: expected REPOSxTAGS, e.g. 100x500"
            )));
        };
        return Ok(demo::generated(repos, tags, demo::today_anchor()));
    }
    Ok(demo::demo(demo::today_anchor()))
}

fn emulator_options(args: &EmulatorArgs) -> Result<emulator::Options> {
    if args.secret_id.len() != args.secret_key.len() {
        return Err(Error::Config(
            "every --secret-id needs a --secret-key at the same position".into(),
        ));
    }
    let accounts = args
        .secret_id
        .iter()
        .zip(&args.secret_key)
        .map(|(id, key)| Credentials::new(id, key, args.token.as_deref()))
        .collect();
    let latency_ms = match &args.latency {
        None => None,
        Some(text) => {
            let parse = |s: &str| {
                s.trim().parse::<u64>().map_err(|_| {
                    Error::Config(format!("--latency {text:?}: expected MS or MIN-MAX"))
                })
            };
            Some(match text.split_once('-') {
                Some((a, b)) => (parse(a)?, parse(b)?),
                None => (parse(text)?, parse(text)?),
            })
        }
    };
    for (name, p) in [
        ("--fail-rate", args.fail_rate),
        ("--drop-rate", args.drop_rate),
    ] {
        if !(0.0..=1.0).contains(&p) {
            return Err(Error::Config(format!(
                "{name} {p}: expected a probability from 0 to 1"
            )));
        }
    }
    Ok(emulator::Options {
        accounts,
        latency_ms,
        fail_rate: args.fail_rate,
        fail_code: args.fail_code.clone(),
        rate_limit: args.rate_limit,
        drop_rate: args.drop_rate,
        log_file: args.log.clone(),
        clock_offset: args.clock_offset,
        page_size_cap: args.page_size_cap.map(|n| n as usize),
    })
}

async fn run_daemon(args: DaemonArgs) -> Result<()> {
    use crate::runner::daemon::{self, Daemon, DaemonConfig};
    if !args.dir.is_dir() {
        return Err(Error::Config(format!(
            "{}: not a folder",
            args.dir.display()
        )));
    }
    let (runtime, embedded) = script_runtime(&args.session, None, BTreeMap::new()).await?;
    let state_dir = args.state_dir.clone().unwrap_or_else(|| {
        dirs::state_dir()
            .or_else(|| dirs::home_dir().map(|h| h.join(".local/state")))
            .unwrap_or_else(|| std::path::PathBuf::from("."))
            .join("tcrl")
    });
    let dir = args.dir.canonicalize().map_err(|source| Error::Io {
        path: args.dir.display().to_string(),
        source,
    })?;
    let config = DaemonConfig {
        dir: dir.clone(),
        state_dir,
        history: args.history,
        grace: args.grace,
        dry_run: args.session.dry_run,
    };
    let daemon = Daemon::new(config, runtime.settings.clone(), runtime.client.clone());
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    let _watcher = daemon::watch(&dir, args.debounce, tx)
        .map_err(|e| Error::Config(format!("cannot watch {}: {e}", dir.display())))?;
    if let Some(addr) = args.http {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| Error::Config(format!("cannot listen on {addr}: {e}")))?;
        let router = daemon.router();
        tracing::info!(addr = %listener.local_addr().map(|a| a.to_string()).unwrap_or_default(), "serving /healthz, /status, /metrics");
        tokio::spawn(async move { axum::serve(listener, router).await });
    }
    tracing::info!(dir = %dir.display(), "daemon started");
    daemon.run(rx, shutdown_signal()).await;
    if let Some(e) = embedded {
        e.stop().await;
    }
    Ok(())
}

/// SIGINT or SIGTERM.
async fn shutdown_signal() {
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
        () = ctrl_c => {}
        () = term => {}
    }
}

async fn check(args: CheckArgs) -> Result<()> {
    let settings = Settings::default();
    let credentials = CredentialProvider::fixed(
        Credentials::new("check", "check-only-not-a-key", None),
        "tcrl check",
    );
    let client = Client::new(
        Arc::new(credentials),
        settings.connect_timeout,
        RateLimits::new(0, Default::default()),
    )?;
    let mut invalid = 0;
    for file in &args.files {
        let dir = file
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(std::path::Path::new("."));
        match crate::runner::daemon::load_job(&settings, &client, dir, file).await {
            Ok(Some((spec, _, _))) => {
                println!(
                    "{}: job {} ({}, {})",
                    file.display(),
                    spec.name,
                    spec.schedule.text,
                    spec.schedule.timezone.name()
                );
                for t in spec.schedule.upcoming(chrono::Utc::now(), 3) {
                    println!("  next: {}", t.format("%a %Y-%m-%d %H:%M:%S %Z"));
                }
            }
            Ok(None) => println!(
                "{}: a plain script, not a job (returns no table with a schedule)",
                file.display()
            ),
            Err(e) => {
                invalid += 1;
                eprintln!("{}", crate::redact::redact(&e));
            }
        }
    }
    if invalid > 0 {
        return Err(Error::Config(format!(
            "{invalid} of {} files are invalid",
            args.files.len()
        )));
    }
    Ok(())
}
