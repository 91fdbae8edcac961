//! `tcrl daemon DIR`: run the job files of a folder on their cron schedules, reload them when
//! their content changes, and keep a history of runs.
//!
//! - Every firing runs in a fresh Lua state, on the source (and `require`d modules) of the
//!   last valid version; a run that is going on when a new version arrives finishes on its
//!   old code.
//! - Reload compares file contents (hashes), so touch/chmod do nothing and any way of replacing
//!   a file works (editors' rename, Kubernetes' `..data` symlink swap). An invalid new version
//!   keeps the old one scheduled and the error is kept in the status.
//! - Missed firings (daemon down or busy) are not replayed; overlapping firings follow the
//!   job's `overlap`.
//! - The clock is tokio's, anchored to UTC at start, so tests can pause and advance time.

use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::job::{self, JobSpec, Overlap};
use crate::api::Client;
use crate::limits::Cancel;
use crate::lua::{error_message, new_state, new_state_with, Runtime};
use crate::settings::Settings;

/// Configuration of a daemon.
#[derive(Debug, Clone)]
pub struct DaemonConfig {
    pub dir: PathBuf,
    /// Where run history is kept (`history/JOB.jsonl`).
    pub state_dir: PathBuf,
    /// Runs kept per job.
    pub history: usize,
    /// How long shutdown waits for running jobs before cancelling them.
    pub grace: Duration,
    pub dry_run: bool,
}

/// One run, as logged and kept in the history.
#[derive(Debug, Clone, Serialize)]
pub struct RunRecord {
    pub job: String,
    pub run_id: String,
    pub scheduled: String,
    pub started: String,
    pub ended: String,
    /// ok, failed, timeout, cancelled, memory, skipped, missed.
    pub outcome: String,
    pub duration_ms: u64,
    pub calls: BTreeMap<String, u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A job as scheduled: its last valid version and its state.
struct Job {
    spec: JobSpec,
    source: Arc<Vec<u8>>,
    /// Modules the job `require`d from the folder, as loaded with this version.
    modules: Arc<Vec<(String, Vec<u8>)>>,
    next: Option<DateTime<Utc>>,
    running: Vec<(String, Cancel)>,
    last_outcome: Option<String>,
    last_error: Option<String>,
}

/// One firing of a job, with the job version it runs.
struct PlannedRun {
    spec: JobSpec,
    source: Arc<Vec<u8>>,
    modules: Arc<Vec<(String, Vec<u8>)>>,
    run_id: String,
    scheduled: DateTime<Utc>,
    cancel: Cancel,
}

/// Counters for `/metrics`.
#[derive(Default)]
struct Metrics {
    runs: BTreeMap<(String, String), u64>,
    duration: BTreeMap<String, (f64, u64)>,
    calls: BTreeMap<(String, String), u64>,
    reloads: BTreeMap<String, u64>,
}

/// The daemon's shared state.
pub struct Daemon {
    config: DaemonConfig,
    settings: Settings,
    client: Client,
    jobs: Mutex<BTreeMap<String, Job>>,
    /// Content hash of every `.lua` file seen, and load errors of files with no valid version.
    files: Mutex<HashMap<PathBuf, u64>>,
    broken: Mutex<BTreeMap<String, String>>,
    metrics: Mutex<Metrics>,
    tasks: Mutex<Vec<tokio::task::JoinHandle<()>>>,
    started_utc: DateTime<Utc>,
    started_at: tokio::time::Instant,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn hash_of(bytes: &[u8]) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut h);
    h.finish()
}

/// The outcome word for a run's error.
fn outcome_of(error: &crate::Error) -> &'static str {
    let text = error.to_string();
    if text.contains("timed out after") {
        "timeout"
    } else if text.ends_with(": cancelled") {
        "cancelled"
    } else if text.contains("memory limit of") {
        "memory"
    } else {
        "failed"
    }
}

impl Daemon {
    pub fn new(config: DaemonConfig, settings: Settings, client: Client) -> Arc<Self> {
        Arc::new(Daemon {
            config,
            settings,
            client,
            jobs: Mutex::default(),
            files: Mutex::default(),
            broken: Mutex::default(),
            metrics: Mutex::default(),
            tasks: Mutex::default(),
            started_utc: Utc::now(),
            started_at: tokio::time::Instant::now(),
        })
    }

    /// The daemon's clock: UTC at start plus tokio's elapsed time.
    pub fn now(&self) -> DateTime<Utc> {
        self.started_utc + chrono::Duration::from_std(self.started_at.elapsed()).unwrap_or_default()
    }

    fn instant_of(&self, at: DateTime<Utc>) -> tokio::time::Instant {
        let delta = (at - self.now()).to_std().unwrap_or_default();
        tokio::time::Instant::now() + delta
    }

    /// Schedule and run jobs until `shutdown`; then wait for running jobs up to the grace
    /// period and cancel the rest.
    pub async fn run(
        self: Arc<Self>,
        mut reloads: tokio::sync::mpsc::Receiver<()>,
        shutdown: impl std::future::Future<Output = ()>,
    ) {
        self.rescan().await;
        tokio::pin!(shutdown);
        loop {
            let next = lock(&self.jobs).values().filter_map(|j| j.next).min();
            let wake = next
                .map(|n| self.instant_of(n))
                .unwrap_or_else(|| tokio::time::Instant::now() + Duration::from_secs(3600));
            tokio::select! {
                () = tokio::time::sleep_until(wake) => self.fire_due(),
                Some(()) = reloads.recv() => {
                    while reloads.try_recv().is_ok() {}
                    self.rescan().await;
                }
                () = &mut shutdown => break,
            }
        }
        self.shutdown().await;
    }

    async fn shutdown(&self) {
        let tasks: Vec<_> = lock(&self.tasks)
            .drain(..)
            .filter(|t| !t.is_finished())
            .collect();
        tracing::info!(
            running = tasks.len(),
            grace_ms = self.config.grace.as_millis() as u64,
            "shutting down"
        );
        let all = futures_util::future::join_all(tasks);
        tokio::pin!(all);
        if tokio::time::timeout(self.config.grace, &mut all)
            .await
            .is_err()
        {
            for job in lock(&self.jobs).values() {
                for (_, cancel) in &job.running {
                    cancel.cancel();
                }
            }
            let _ = tokio::time::timeout(Duration::from_secs(5), all).await;
        }
    }

    /// Start every job whose fire time has come.
    pub fn fire_due(self: &Arc<Self>) {
        let now = self.now();
        let mut starts = Vec::new();
        {
            let mut jobs = lock(&self.jobs);
            for job in jobs.values_mut() {
                let Some(scheduled) = job.next.filter(|n| *n <= now) else {
                    continue;
                };
                // Firings between the scheduled one and now were missed: record, do not replay.
                let mut missed = 0;
                let mut t = scheduled;
                while let Some(n) = job.spec.schedule.next_after(t).filter(|n| *n <= now) {
                    missed += 1;
                    t = n;
                }
                job.next = job.spec.schedule.next_after(now);
                if missed > 0 {
                    self.record_plain(
                        &job.spec.name,
                        "missed",
                        &scheduled,
                        Some(format!("{missed} firings missed")),
                    );
                }
                job.running.retain(|(_, c)| !c.is_cancelled());
                if !job.running.is_empty() {
                    match job.spec.overlap {
                        Overlap::Forbid => {
                            self.record_plain(
                                &job.spec.name,
                                "skipped",
                                &scheduled,
                                Some("previous run still going (overlap = forbid)".into()),
                            );
                            continue;
                        }
                        Overlap::Replace => {
                            for (_, cancel) in job.running.drain(..) {
                                cancel.cancel();
                            }
                        }
                        Overlap::Allow => {}
                    }
                }
                let run_id = uuid::Uuid::new_v4().to_string();
                let cancel = Cancel::default();
                job.running.push((run_id.clone(), cancel.clone()));
                starts.push(PlannedRun {
                    spec: job.spec.clone(),
                    source: job.source.clone(),
                    modules: job.modules.clone(),
                    run_id,
                    scheduled,
                    cancel,
                });
            }
        }
        for planned in starts {
            let daemon = self.clone();
            let task = tokio::spawn(async move {
                let record = daemon.execute(planned).await;
                daemon.finish(record);
            });
            let mut tasks = lock(&self.tasks);
            tasks.retain(|t| !t.is_finished());
            tasks.push(task);
        }
    }

    /// One run in a fresh state.
    async fn execute(&self, planned: PlannedRun) -> RunRecord {
        let PlannedRun {
            spec,
            run_id,
            scheduled,
            ..
        } = &planned;
        let started = self.now();
        let started_at = tokio::time::Instant::now();
        let mut settings = self.settings.clone();
        settings.limits.timeout = Some(spec.timeout);
        let runtime = Arc::new(Runtime::new(
            settings,
            self.client.clone(),
            spec.args.clone(),
            self.config.dry_run || spec.dry_run,
        ));
        tracing::info!(job = %spec.name, run_id, scheduled = %scheduled.to_rfc3339(), "run started");
        let result = self.run_once(runtime.clone(), &planned).await;
        let mut calls = BTreeMap::new();
        for ((action, code), n) in runtime.calls_by_code() {
            *calls.entry(action.clone()).or_insert(0) += n;
            *lock(&self.metrics).calls.entry((action, code)).or_insert(0) += n;
        }
        let (outcome, error) = match &result {
            Ok(()) => ("ok".to_string(), None),
            Err(e) => (
                outcome_of(e).to_string(),
                Some(crate::redact::redact(&e.to_string())),
            ),
        };
        RunRecord {
            job: spec.name.clone(),
            run_id: run_id.to_string(),
            scheduled: scheduled.to_rfc3339(),
            started: started.to_rfc3339(),
            ended: self.now().to_rfc3339(),
            outcome,
            duration_ms: started_at.elapsed().as_millis() as u64,
            calls,
            error,
        }
    }

    /// Load the job's version into a fresh state (its timeout is in `runtime`'s settings) and
    /// call its `run`.
    async fn run_once(&self, runtime: Arc<Runtime>, planned: &PlannedRun) -> crate::Result<()> {
        let PlannedRun {
            spec,
            source,
            modules,
            run_id,
            scheduled,
            cancel,
        } = planned;
        let lua_err = |e: mlua::Error| crate::Error::Script(error_message(&e));
        let state = new_state_with(runtime.clone(), Some(&self.config.dir), cancel.clone())
            .map_err(lua_err)?;
        install_modules(&state.lua, modules).map_err(lua_err)?;
        let what = spec.path.display().to_string();
        let chunk = state
            .lua
            .load(source.as_slice())
            .set_name(format!("@{what}"))
            .into_function()
            .map_err(lua_err)?;
        let value = state.run(chunk, &what).await?;
        let table = value.as_table().cloned().ok_or_else(|| {
            crate::Error::Script(format!("{what}: no longer returns a job table"))
        })?;
        job::fill_args(&state.lua, &spec.args).map_err(lua_err)?;
        let run: mlua::Function = table.get("run").map_err(lua_err)?;
        let ctx = job::context(
            &state.lua,
            &spec.name,
            run_id,
            &scheduled.to_rfc3339(),
            runtime.is_dry_run(),
        )
        .map_err(lua_err)?;
        state
            .run_with(
                run,
                mlua::MultiValue::from_vec(vec![mlua::Value::Table(ctx)]),
                &what,
            )
            .await?;
        Ok(())
    }

    fn finish(&self, record: RunRecord) {
        {
            let mut jobs = lock(&self.jobs);
            if let Some(job) = jobs.get_mut(&record.job) {
                job.running.retain(|(id, _)| *id != record.run_id);
                job.last_outcome = Some(record.outcome.clone());
            }
        }
        {
            let mut m = lock(&self.metrics);
            let d = m.duration.entry(record.job.clone()).or_insert((0.0, 0));
            d.0 += record.duration_ms as f64 / 1000.0;
            d.1 += 1;
        }
        match &record.error {
            None => {
                tracing::info!(job = %record.job, run_id = %record.run_id, outcome = %record.outcome, duration_ms = record.duration_ms, calls = ?record.calls, "run finished")
            }
            Some(e) => {
                tracing::warn!(job = %record.job, run_id = %record.run_id, outcome = %record.outcome, duration_ms = record.duration_ms, calls = ?record.calls, error = %e, "run finished")
            }
        }
        self.append_history(&record);
    }

    fn record_plain(
        &self,
        job: &str,
        outcome: &str,
        scheduled: &DateTime<Utc>,
        error: Option<String>,
    ) {
        tracing::warn!(job, outcome, scheduled = %scheduled.to_rfc3339(), detail = error.as_deref().unwrap_or(""), "firing not run");
        let now = self.now().to_rfc3339();
        self.append_history(&RunRecord {
            job: job.to_string(),
            run_id: String::new(),
            scheduled: scheduled.to_rfc3339(),
            started: now.clone(),
            ended: now,
            outcome: outcome.to_string(),
            duration_ms: 0,
            calls: BTreeMap::new(),
            error,
        });
    }

    /// Append to `history/JOB.jsonl`, keeping the last `history` records.
    fn append_history(&self, record: &RunRecord) {
        *lock(&self.metrics)
            .runs
            .entry((record.job.clone(), record.outcome.clone()))
            .or_insert(0) += 1;
        let dir = self.config.state_dir.join("history");
        let path = dir.join(format!("{}.jsonl", record.job));
        let result = (|| -> std::io::Result<()> {
            std::fs::create_dir_all(&dir)?;
            let line = serde_json::to_string(record).expect("a run record serialises");
            let mut lines: Vec<String> = std::fs::read_to_string(&path)
                .map(|t| t.lines().map(str::to_string).collect())
                .unwrap_or_default();
            lines.push(line);
            let keep = lines.split_off(lines.len().saturating_sub(self.config.history.max(1)));
            let tmp = path.with_extension("jsonl.tmp");
            let mut f = std::fs::File::create(&tmp)?;
            for l in keep {
                writeln!(f, "{l}")?;
            }
            std::fs::rename(tmp, &path)
        })();
        if let Err(e) = result {
            tracing::error!(path = %path.display(), error = %e, "cannot write run history");
        }
    }

    /// The history of a job, oldest first.
    pub fn history(&self, job: &str) -> Vec<serde_json::Value> {
        let path = self
            .config
            .state_dir
            .join("history")
            .join(format!("{job}.jsonl"));
        std::fs::read_to_string(path)
            .map(|t| {
                t.lines()
                    .filter_map(|l| serde_json::from_str(l).ok())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Re-read the folder: load new and changed files (and jobs whose modules changed), drop
    /// deleted jobs.
    pub async fn rescan(self: &Arc<Self>) {
        let found = lua_files(&self.config.dir);
        let changed: Vec<PathBuf> = {
            let mut files = lock(&self.files);
            let changed = found
                .iter()
                .filter(|(p, h)| files.get(*p) != Some(h))
                .map(|(p, _)| p.clone())
                .collect();
            *files = found.iter().map(|(p, h)| (p.clone(), *h)).collect();
            changed
        };
        // Deleted job files: unschedule.
        let removed: Vec<String> = lock(&self.jobs)
            .values()
            .filter(|j| !found.contains_key(&j.spec.path))
            .map(|j| j.spec.name.clone())
            .collect();
        for name in removed {
            lock(&self.jobs).remove(&name);
            tracing::info!(job = %name, "job file deleted: unscheduled");
            self.count_reload("removed");
        }
        lock(&self.broken).retain(|file, _| found.keys().any(|p| p.display().to_string() == *file));
        // Jobs whose modules changed are loaded again too.
        let mut to_load: Vec<PathBuf> = changed.clone();
        for job in lock(&self.jobs).values() {
            let module_changed = job
                .modules
                .iter()
                .any(|(name, _)| changed.contains(&module_path(&self.config.dir, name)));
            if module_changed && !to_load.contains(&job.spec.path) {
                to_load.push(job.spec.path.clone());
            }
        }
        to_load.sort();
        for path in to_load {
            self.load_file(&path).await;
        }
    }

    async fn load_file(self: &Arc<Self>, path: &Path) {
        let name = job::job_name(path);
        let mut outcome = self.validate(path).await;
        let file = path.display().to_string();
        // A job file that suddenly returns no job table is most likely half written (an empty
        // file is a valid plain script): keep the job, as for any invalid version.
        if matches!(outcome, Ok(None)) && lock(&self.jobs).contains_key(&name) {
            outcome = Err(format!(
                "{file}: no longer returns a job table; delete the file to unschedule the job"
            ));
        }
        match outcome {
            Ok(None) => {
                lock(&self.broken).remove(&file);
            }
            Ok(Some((spec, source, modules))) => {
                lock(&self.broken).remove(&file);
                let next = spec.schedule.next_after(self.now());
                let mut jobs = lock(&self.jobs);
                let replaced = jobs.contains_key(&name);
                let (running, last_outcome) = jobs
                    .remove(&name)
                    .map(|j| (j.running, j.last_outcome))
                    .unwrap_or_default();
                tracing::info!(job = %name, schedule = %spec.schedule.text, next = ?next.map(|n| n.to_rfc3339()), "{}", if replaced { "job reloaded" } else { "job scheduled" });
                jobs.insert(
                    name,
                    Job {
                        spec,
                        source: Arc::new(source),
                        modules: Arc::new(modules),
                        next,
                        running,
                        last_outcome,
                        last_error: None,
                    },
                );
                drop(jobs);
                self.count_reload("ok");
            }
            Err(error) => {
                let error = crate::redact::redact(&error);
                tracing::error!(file = %file, error = %error, "invalid job file: keeping the previous version");
                if let Some(job) = lock(&self.jobs).get_mut(&name) {
                    job.last_error = Some(error.clone());
                }
                lock(&self.broken).insert(file, error);
                self.count_reload("error");
            }
        }
    }

    fn count_reload(&self, outcome: &str) {
        *lock(&self.metrics)
            .reloads
            .entry(outcome.to_string())
            .or_insert(0) += 1;
    }

    async fn validate(&self, path: &Path) -> Result<Option<LoadedJob>, String> {
        load_job(&self.settings, &self.client, &self.config.dir, path).await
    }

    /// Jobs, next fire times, last outcomes and load errors, for `/status`.
    pub fn status(&self) -> serde_json::Value {
        let jobs: Vec<serde_json::Value> = lock(&self.jobs)
            .values()
            .map(|j| {
                serde_json::json!({
                    "job": j.spec.name,
                    "file": j.spec.path.display().to_string(),
                    "schedule": j.spec.schedule.text,
                    "timezone": j.spec.schedule.timezone.name(),
                    "next": j.next.map(|n| n.with_timezone(&j.spec.schedule.timezone).to_rfc3339()),
                    "running": j.running.len(),
                    "last_outcome": j.last_outcome,
                    "last_reload_error": j.last_error,
                })
            })
            .collect();
        let broken: BTreeMap<String, String> = lock(&self.broken).clone();
        serde_json::json!({"jobs": jobs, "load_errors": broken, "dry_run": self.config.dry_run})
    }

    /// Prometheus text exposition.
    pub fn metrics(&self) -> String {
        let m = lock(&self.metrics);
        let mut out = String::new();
        out.push_str(
            "# HELP tcrl_runs_total Job runs by outcome.\n# TYPE tcrl_runs_total counter\n",
        );
        for ((job, outcome), n) in &m.runs {
            out.push_str(&format!(
                "tcrl_runs_total{{job=\"{job}\",outcome=\"{outcome}\"}} {n}\n"
            ));
        }
        out.push_str("# HELP tcrl_run_duration_seconds Duration of job runs.\n# TYPE tcrl_run_duration_seconds summary\n");
        for (job, (sum, count)) in &m.duration {
            out.push_str(&format!("tcrl_run_duration_seconds_sum{{job=\"{job}\"}} {sum}\ntcrl_run_duration_seconds_count{{job=\"{job}\"}} {count}\n"));
        }
        out.push_str("# HELP tcrl_api_calls_total API calls by action and result code.\n# TYPE tcrl_api_calls_total counter\n");
        for ((action, code), n) in &m.calls {
            out.push_str(&format!(
                "tcrl_api_calls_total{{action=\"{action}\",code=\"{code}\"}} {n}\n"
            ));
        }
        out.push_str("# HELP tcrl_reloads_total Job file loads by outcome.\n# TYPE tcrl_reloads_total counter\n");
        for (outcome, n) in &m.reloads {
            out.push_str(&format!(
                "tcrl_reloads_total{{outcome=\"{outcome}\"}} {n}\n"
            ));
        }
        out
    }

    /// The HTTP routes `/healthz`, `/status`, `/metrics`.
    pub fn router(self: &Arc<Self>) -> axum::Router {
        use axum::routing::get;
        let status = self.clone();
        let metrics = self.clone();
        axum::Router::new()
            .route("/healthz", get(|| async { "ok\n" }))
            .route(
                "/status",
                get(move || async move { axum::Json(status.status()) }),
            )
            .route("/metrics", get(move || async move { metrics.metrics() }))
    }
}

/// A valid job version: its table, source and the modules it required from the folder.
pub type LoadedJob = (JobSpec, Vec<u8>, Vec<(String, Vec<u8>)>);

/// Load a file in a fresh dry-run state (nothing mutating is sent while checking) and read its
/// job table and the modules it required. `Ok(None)` for a plain script. Shared by the daemon
/// and `tcrl check`.
///
/// # Errors
/// The load error or the job-table problem, with the file name.
pub async fn load_job(
    settings: &Settings,
    client: &Client,
    dir: &Path,
    path: &Path,
) -> Result<Option<LoadedJob>, String> {
    let source = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut settings = settings.clone();
    settings.limits.timeout = Some(Duration::from_secs(30));
    let runtime = Arc::new(Runtime::new(
        settings,
        client.clone(),
        BTreeMap::new(),
        true,
    ));
    let state = new_state(runtime, Some(dir)).map_err(|e| error_message(&e))?;
    let what = path.display().to_string();
    let chunk = state
        .lua
        .load(source.as_slice())
        .set_name(format!("@{what}"))
        .into_function()
        .map_err(|e| error_message(&e))?;
    let value = state.run(chunk, &what).await.map_err(|e| e.to_string())?;
    let Some(spec) = job::parse_job(path, &value)? else {
        return Ok(None);
    };
    let modules = required_modules(&state.lua, dir);
    Ok(Some((spec, source, modules)))
}

/// Every `.lua` file at the top of `dir` (links followed, hidden files skipped) and its hash.
fn lua_files(dir: &Path) -> BTreeMap<PathBuf, u64> {
    let mut out = BTreeMap::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || !name.ends_with(".lua") || !path.is_file() {
            continue;
        }
        if let Ok(bytes) = std::fs::read(&path) {
            out.insert(path, hash_of(&bytes));
        }
    }
    out
}

fn module_path(dir: &Path, module: &str) -> PathBuf {
    dir.join(format!("{}.lua", module.replace('.', "/")))
}

/// Modules a state loaded from the folder, with their sources.
fn required_modules(lua: &mlua::Lua, dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let Ok(loaded) = lua
        .globals()
        .get::<mlua::Table>("package")
        .and_then(|p| p.get::<mlua::Table>("loaded"))
    else {
        return out;
    };
    for (name, _) in loaded.pairs::<String, mlua::Value>().flatten() {
        let path = module_path(dir, &name);
        if let Ok(source) = std::fs::read(&path) {
            out.push((name, source));
        }
    }
    out.sort();
    out
}

/// Make `require` return the module versions loaded with the job's version.
fn install_modules(lua: &mlua::Lua, modules: &[(String, Vec<u8>)]) -> mlua::Result<()> {
    let preload: mlua::Table = lua
        .globals()
        .get::<mlua::Table>("package")?
        .get("preload")?;
    for (name, source) in modules {
        let loader = lua
            .load(source.as_slice())
            .set_name(format!("@{name}.lua"))
            .into_function()?;
        preload.set(name.as_str(), loader)?;
    }
    Ok(())
}

/// Watch `dir` (recursively, to see symlink swaps) and send a reload signal per burst of
/// changes, debounced by `debounce`.
///
/// # Errors
/// When the watcher cannot be created.
pub fn watch(
    dir: &Path,
    debounce: Duration,
    tx: tokio::sync::mpsc::Sender<()>,
) -> notify::Result<
    notify_debouncer_full::Debouncer<
        notify::RecommendedWatcher,
        notify_debouncer_full::RecommendedCache,
    >,
> {
    let mut debouncer = notify_debouncer_full::new_debouncer(
        debounce,
        None,
        move |result: notify_debouncer_full::DebounceEventResult| match result {
            Ok(events) if !events.is_empty() => {
                let _ = tx.try_send(());
            }
            Ok(_) => {}
            Err(errors) => tracing::warn!(?errors, "file watcher error"),
        },
    )?;
    debouncer.watch(dir, notify::RecursiveMode::Recursive)?;
    Ok(debouncer)
}
