//! The daemon: overlap, missed firings, limits, reload (change, create, delete, symlink swap,
//! broken save), shutdown, and the real binary end to end. Scheduling tests run in-process on
//! tokio's paused clock; file-event and HTTP tests use real time, briefly.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tcrl::api::ratelimit::RateLimits;
use tcrl::api::Client;
use tcrl::credentials::CredentialProvider;
use tcrl::runner::daemon::{Daemon, DaemonConfig};
use tcrl::settings::Settings;

use crate::harness::{Env, Run};

fn daemon(dir: &Path, state: &Path, endpoint: Option<String>) -> Arc<Daemon> {
    let mut settings = Settings {
        endpoint: endpoint.map(|e| tcrl::region::Endpoint::parse(&e, false).unwrap()),
        ..Settings::default()
    };
    settings.retry.retries = 0;
    settings.sandbox.allow(dir);
    // A small cap so the unbounded-allocation job hits it quickly.
    settings.limits.memory = 32 * 1024 * 1024;
    let provider = CredentialProvider::fixed(tcrl::emulator::demo_credentials(), "test");
    let client = Client::new(
        Arc::new(provider),
        Duration::from_secs(5),
        RateLimits::new(0, Default::default()),
    )
    .unwrap();
    let config = DaemonConfig {
        dir: dir.to_path_buf(),
        state_dir: state.to_path_buf(),
        history: 50,
        grace: Duration::from_secs(30),
        dry_run: false,
    };
    Daemon::new(config, settings, client)
}

fn outcomes(d: &Daemon, job: &str) -> Vec<String> {
    d.history(job)
        .iter()
        .map(|r| r["outcome"].as_str().unwrap().to_string())
        .collect()
}

/// Run the daemon for `secs` of (paused) time, then shut it down.
async fn run_for(d: &Arc<Daemon>, secs: f64) {
    let (_tx, rx) = tokio::sync::mpsc::channel(1);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(d.clone().run(rx, async {
        let _ = stopped.await;
    }));
    tokio::time::sleep(Duration::from_secs_f64(secs)).await;
    let _ = stop.send(());
    task.await.unwrap();
}

fn job(dir: &Path, name: &str, body: &str) {
    std::fs::write(dir.join(name), body).unwrap();
}

#[tokio::test(start_paused = true)]
async fn overlap_forbid_skips_replace_cancels_allow_runs_both() {
    let dir = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    for mode in ["forbid", "replace", "allow"] {
        job(dir.path(), &format!("{mode}.lua"), &format!(
            "return {{schedule = '* * * * * *', overlap = '{mode}', run = function() tcr.sleep(2.5) end}}"
        ));
    }
    let d = daemon(dir.path(), state.path(), None);
    run_for(&d, 6.2).await;
    let forbid = outcomes(&d, "forbid");
    assert!(
        forbid.iter().filter(|o| *o == "skipped").count() >= 3,
        "{forbid:?}"
    );
    assert!(
        forbid.iter().filter(|o| *o == "ok").count() >= 1,
        "{forbid:?}"
    );
    assert!(!forbid.contains(&"cancelled".to_string()), "{forbid:?}");
    let replace = outcomes(&d, "replace");
    assert!(
        replace.iter().filter(|o| *o == "cancelled").count() >= 4,
        "{replace:?}"
    );
    assert!(!replace.contains(&"skipped".to_string()), "{replace:?}");
    let allow = outcomes(&d, "allow");
    assert!(
        allow.iter().filter(|o| *o == "ok").count() >= 4,
        "{allow:?}"
    );
    assert!(allow.iter().all(|o| o == "ok"), "{allow:?}");
}

#[tokio::test(start_paused = true)]
async fn missed_firings_are_recorded_not_replayed() {
    let dir = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    job(
        dir.path(),
        "count.lua",
        "return {schedule = '* * * * * *', run = function() end}",
    );
    let d = daemon(dir.path(), state.path(), None);
    d.rescan().await;
    // The daemon is busy (not scheduling) for five seconds.
    tokio::time::advance(Duration::from_millis(5500)).await;
    d.fire_due();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let history = d.history("count");
    let kinds: Vec<&str> = history
        .iter()
        .map(|r| r["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["missed", "ok"],
        "one run for the late firing, the others recorded as missed"
    );
    // 5.5 s from a start at some fraction of a second: five or six firings came due.
    let missed = history[0]["error"].as_str().unwrap();
    assert!(
        missed == "4 firings missed" || missed == "5 firings missed",
        "{missed}"
    );
}

#[tokio::test(start_paused = true)]
async fn shutdown_waits_for_a_running_job() {
    let dir = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    job(
        dir.path(),
        "slow.lua",
        "return {schedule = '*/10 * * * * *', run = function() tcr.sleep(5) end}",
    );
    let d = daemon(dir.path(), state.path(), None);
    d.rescan().await;
    // Stop while the first run (started at the next 10-second mark) is sleeping.
    let first = d.status()["jobs"][0]["next"].as_str().unwrap().to_string();
    let until_first = (chrono::DateTime::parse_from_rfc3339(&first)
        .unwrap()
        .with_timezone(&chrono::Utc)
        - d.now())
    .num_milliseconds() as f64
        / 1000.0;
    run_for(&d, until_first + 1.0).await;
    assert_eq!(
        outcomes(&d, "slow"),
        ["ok"],
        "the run finished before shutdown returned"
    );
}

#[test]
fn the_daemon_survives_bad_jobs_and_runs_their_next_firing() {
    let env = Env::with(
        tcrl::emulator::demo::demo(crate::harness::ANCHOR),
        tcrl::emulator::Options {
            latency_ms: Some((3000, 3000)),
            ..Default::default()
        },
    );
    let dir = env.dir.path().join("jobs");
    std::fs::create_dir_all(&dir).unwrap();
    let state = env.dir.path().join("state");
    let every = "schedule = '* * * * * *', overlap = 'allow', timeout = '400ms'";
    job(
        &dir,
        "forever.lua",
        &format!("return {{{every}, run = function() while true do end end}}"),
    );
    job(
        &dir,
        "http.lua",
        &format!("return {{{every}, run = function() tcr.call('DescribeInstances') end}}"),
    );
    // Its own timeout: under load a slow debug build must still reach the memory cap first.
    job(&dir, "memory.lua", "return {schedule = '* * * * * *', overlap = 'allow', timeout = '20s', run = function() local t = {} for i = 1, 1e9 do t[i] = string.rep('x', 10000) .. i end end}");
    job(
        &dir,
        "exit.lua",
        &format!("return {{{every}, run = function() os.exit(1) end}}"),
    );
    job(
        &dir,
        "fails.lua",
        &format!("return {{{every}, run = function() error('always') end}}"),
    );
    let d = env.rt.block_on(async {
        let d = daemon(&dir, &state, Some(env.endpoint()));
        run_for(&d, 3.2).await;
        d
    });
    for (name, outcome, fragment) in [
        ("forever", "timeout", "timed out after 400ms"),
        ("http", "timeout", "timed out after 400ms"),
        (
            "exit",
            "failed",
            "attempt to call a nil value (field 'exit')",
        ),
        ("fails", "failed", "always"),
    ] {
        let history = d.history(name);
        assert!(history.len() >= 2, "{name}: {history:?}");
        assert!(
            history.iter().all(|r| r["outcome"] == outcome),
            "{name}: {history:?}"
        );
        assert!(
            history[0]["error"].as_str().unwrap().contains(fragment),
            "{name}: {history:?}"
        );
    }
    let memory = d.history("memory");
    assert!(memory.len() >= 2, "{memory:?}");
    assert!(
        memory.iter().all(|r| r["outcome"] == "memory"),
        "{memory:?}"
    );
    assert!(
        memory[0]["error"]
            .as_str()
            .unwrap()
            .contains("memory limit of 32 MiB exceeded"),
        "{memory:?}"
    );
}

fn wait_for(what: &str, mut check: impl FnMut() -> bool) {
    for _ in 0..100 {
        if check() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("timed out waiting for {what}");
}

/// A daemon with a real file watcher, on a real clock.
struct LiveDaemon {
    rt: tokio::runtime::Runtime,
    daemon: Arc<Daemon>,
    _watcher: Box<dyn std::any::Any>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl LiveDaemon {
    fn start(dir: &Path, state: &Path) -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let (d, watcher, stop) = rt.block_on(async {
            let d = daemon(dir, state, None);
            let (tx, rx) = tokio::sync::mpsc::channel(16);
            let watcher = tcrl::runner::daemon::watch(dir, Duration::from_millis(100), tx).unwrap();
            let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
            tokio::spawn(d.clone().run(rx, async {
                let _ = stopped.await;
            }));
            (d, watcher, stop)
        });
        LiveDaemon {
            rt,
            daemon: d,
            _watcher: Box::new(watcher),
            stop: Some(stop),
        }
    }

    fn jobs(&self) -> Vec<(String, String)> {
        self.daemon.status()["jobs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|j| {
                (
                    j["job"].as_str().unwrap().to_string(),
                    j["schedule"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }
}

impl Drop for LiveDaemon {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = &self.rt;
    }
}

#[test]
fn reload_on_create_change_delete_and_broken_saves() {
    let dir = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    job(
        dir.path(),
        "a.lua",
        "return {schedule = '0 3 * * *', run = function() end}",
    );
    let live = LiveDaemon::start(dir.path(), state.path());
    wait_for("a scheduled", || {
        live.jobs() == [("a".into(), "0 3 * * *".into())]
    });
    job(
        dir.path(),
        "b.lua",
        "return {schedule = '0 4 * * *', run = function() end}",
    );
    wait_for("b created", || live.jobs().len() == 2);
    job(
        dir.path(),
        "a.lua",
        "return {schedule = '0 5 * * *', run = function() end}",
    );
    wait_for("a changed", || live.jobs()[0].1 == "0 5 * * *");
    // A broken save keeps the old version and shows the error; a fixed save recovers.
    job(
        dir.path(),
        "a.lua",
        "return {schedule = '0 6 * * *', run = function() end",
    );
    wait_for("error shown", || {
        live.daemon.status()["jobs"][0]["last_reload_error"].is_string()
    });
    let error = live.daemon.status()["jobs"][0]["last_reload_error"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(error.contains("a.lua:1:"), "{error}");
    assert_eq!(live.jobs()[0].1, "0 5 * * *");
    job(
        dir.path(),
        "a.lua",
        "return {schedule = '0 7 * * 8', run = function() end}",
    );
    wait_for("bad schedule shown", || {
        live.daemon.status()["jobs"][0]["last_reload_error"]
            .as_str()
            .is_some_and(|e| e.contains("8 is not a weekday"))
    });
    assert_eq!(live.jobs()[0].1, "0 5 * * *");
    job(
        dir.path(),
        "a.lua",
        "return {schedule = '0 7 * * *', run = function() end}",
    );
    wait_for("recovered", || {
        live.jobs()[0].1 == "0 7 * * *"
            && live.daemon.status()["jobs"][0]["last_reload_error"].is_null()
    });
    // Emptied (half-written) job files keep their job; deleting the file unschedules it.
    job(dir.path(), "b.lua", "");
    wait_for("empty file kept", || {
        live.daemon.status()["jobs"][1]["last_reload_error"]
            .as_str()
            .is_some_and(|e| e.contains("no longer returns a job table"))
    });
    std::fs::remove_file(dir.path().join("b.lua")).unwrap();
    wait_for("b deleted", || live.jobs().len() == 1);
    // A touch without a change does not reload.
    let reloads = |m: String| {
        m.lines()
            .find(|l| l.starts_with("tcrl_reloads_total{outcome=\"ok\"}"))
            .map(str::to_string)
    };
    let before = reloads(live.daemon.metrics());
    let f = std::fs::OpenOptions::new()
        .append(true)
        .open(dir.path().join("a.lua"))
        .unwrap();
    f.set_modified(std::time::SystemTime::now()).unwrap();
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(reloads(live.daemon.metrics()), before);
}

#[test]
fn a_module_change_reloads_the_jobs_that_use_it() {
    let dir = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    job(
        dir.path(),
        "settings.lua",
        "return {schedule = '0 1 * * *'}",
    );
    job(
        dir.path(),
        "uses.lua",
        "local s = require('settings') return {schedule = s.schedule, run = function() end}",
    );
    let live = LiveDaemon::start(dir.path(), state.path());
    wait_for("job", || {
        live.jobs() == [("uses".into(), "0 1 * * *".into())]
    });
    job(
        dir.path(),
        "settings.lua",
        "return {schedule = '0 2 * * *'}",
    );
    wait_for("module change", || {
        live.jobs() == [("uses".into(), "0 2 * * *".into())]
    });
}

#[test]
fn a_configmap_symlink_swap_reloads() {
    let dir = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    let root = dir.path();
    // Kubernetes ConfigMap layout: job.lua -> ..data/job.lua, ..data -> ..2026_01.
    std::fs::create_dir(root.join("..2026_01")).unwrap();
    job(
        &root.join("..2026_01"),
        "job.lua",
        "return {schedule = '0 1 * * *', run = function() end}",
    );
    std::os::unix::fs::symlink("..2026_01", root.join("..data")).unwrap();
    std::os::unix::fs::symlink("..data/job.lua", root.join("job.lua")).unwrap();
    let live = LiveDaemon::start(root, state.path());
    wait_for("job", || {
        live.jobs() == [("job".into(), "0 1 * * *".into())]
    });
    std::fs::create_dir(root.join("..2026_02")).unwrap();
    job(
        &root.join("..2026_02"),
        "job.lua",
        "return {schedule = '0 2 * * *', run = function() end}",
    );
    std::os::unix::fs::symlink("..2026_02", root.join("..data_tmp")).unwrap();
    std::fs::rename(root.join("..data_tmp"), root.join("..data")).unwrap();
    std::fs::remove_dir_all(root.join("..2026_01")).unwrap();
    wait_for("swap", || {
        live.jobs() == [("job".into(), "0 2 * * *".into())]
    });
}

#[test]
fn check_validates_job_files_and_prints_next_fire_times() {
    let env = Env::offline();
    let good = env.script(
        "good.lua",
        "return {schedule = '0 3 * * 1-5', timezone = 'Asia/Shanghai', run = function() end}",
    );
    let out = Run::of(env.tcrl().arg("check").arg(&good));
    let text = out.ok();
    assert!(
        text.starts_with(&format!(
            "{}: job good (0 3 * * 1-5, Asia/Shanghai)\n",
            good.display()
        )),
        "{text}"
    );
    assert_eq!(text.matches("  next: ").count(), 3);
    assert!(
        text.lines()
            .skip(1)
            .all(|l| l.contains(" 03:00:00 CST") && !l.contains("Sat") && !l.contains("Sun")),
        "{text}"
    );
    let cases = [
        (
            "return {schedule = 5, run = function() end}",
            "job field 'schedule': expected a string, got integer",
        ),
        (
            "return {schedule = '* * *', run = function() end}",
            "has 3 fields",
        ),
        (
            "return {schedule = '0 3 * * *', run = 'x'}",
            "job field 'run': expected a function, got string",
        ),
        (
            "return {schedule = '0 3 * * *'}",
            "job field 'run': is missing",
        ),
        (
            "return {run = function() end}",
            "job field 'schedule' is missing",
        ),
        (
            "return {schedule = '0 3 * * *', overlap = 'sometimes', run = function() end}",
            "expected \"forbid\", \"replace\" or \"allow\"",
        ),
        (
            "return {schedule = '0 3 * * *', timeout = true, run = function() end}",
            "job field 'timeout'",
        ),
        (
            "return {schedule = '0 3 * * *', args = {x = {}}, run = function() end}",
            "job field 'args': x: expected a string, number or boolean",
        ),
        (
            "return {schedule = '0 3 * * *', retries = 3, run = function() end}",
            "job field 'retries': unknown field",
        ),
        (
            "return {schedule = '0 0 31 2 *', run = function() end}",
            "never fires",
        ),
        (
            "return {schedule = '0 3 * * *', timezone = 'Nowhere/City', run = function() end}",
            "unknown time zone",
        ),
        (
            "return {schedule = '0 3 * * *' run = function() end}",
            "bad.lua:1:",
        ),
    ];
    for (code, fragment) in cases {
        let bad = env.script("bad.lua", code);
        let out = Run::of(env.tcrl().arg("check").arg(&good).arg(&bad));
        let err = out.fails(2);
        assert!(err.contains(fragment), "{code}: {err}");
        assert!(err.contains("1 of 2 files are invalid"), "{err}");
    }
}

#[test]
fn tcrl_run_runs_a_job_once_with_its_args() {
    let env = Env::demo();
    let path = env.script(
        "job.lua",
        "return {schedule = '0 3 * * *', args = {keep = 5, name = 'x'}, run = function(ctx) print(ctx.job, tcr.args.keep, tcr.args.name, ctx.dry_run, tcr.call('DescribeInstances').TotalCount) end}",
    );
    assert_eq!(
        env.run_demo(&path, &["--arg", "name=cli"]).ok(),
        "job\t5\tcli\tfalse\t1\n"
    );
}

#[test]
fn end_to_end_daemon_binary_picks_up_an_edit() {
    let env = Env::demo();
    let dir = env.dir.path().join("jobs");
    std::fs::create_dir_all(&dir).unwrap();
    job(&dir, "tick.lua", "return {schedule = '* * * * * *', run = function() print('version one', tcr.call('DescribeInstances').TotalCount) end}");
    let http = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .to_string();
    let mut child = env
        .tcrl()
        .args(["daemon"])
        .arg(&dir)
        .args(["--endpoint", &env.endpoint(), "--state-dir"])
        .arg(env.dir.path().join("state"))
        .args(["--http", &http, "--debounce", "50ms"])
        .env("TENCENTCLOUD_SECRET_ID", tcrl::emulator::DEMO_SECRET_ID)
        .env("TENCENTCLOUD_SECRET_KEY", tcrl::emulator::DEMO_SECRET_KEY)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(line);
        }
    });
    let next_line = || {
        rx.recv_timeout(Duration::from_secs(10))
            .expect("a line from the daemon")
    };
    assert_eq!(next_line(), "version one\t1");
    job(
        &dir,
        "tick.lua",
        "return {schedule = '* * * * * *', run = function() print('version two') end}",
    );
    let mut seen = Vec::new();
    while !seen.iter().any(|l: &String| l == "version two") {
        seen.push(next_line());
        assert!(seen.len() < 20, "{seen:?}");
    }
    let get = |path: &str| -> String {
        env.rt.block_on(async {
            tcrl::http_client_builder()
                .build()
                .unwrap()
                .get(format!("http://{http}{path}"))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        })
    };
    assert_eq!(get("/healthz"), "ok\n");
    let status: Value = serde_json::from_str(&get("/status")).unwrap();
    assert_eq!(status["jobs"][0]["job"], "tick");
    assert!(status["jobs"][0]["next"].is_string());
    let metrics = get("/metrics");
    assert!(
        metrics.contains("tcrl_runs_total{job=\"tick\",outcome=\"ok\"}"),
        "{metrics}"
    );
    assert!(
        metrics.contains("tcrl_api_calls_total{action=\"DescribeInstances\",code=\"ok\"}"),
        "{metrics}"
    );
    assert!(
        metrics.contains("tcrl_reloads_total{outcome=\"ok\"} 2"),
        "{metrics}"
    );
    std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    let history = std::fs::read_to_string(env.dir.path().join("state/history/tick.jsonl")).unwrap();
    let records: Vec<Value> = history
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(records.iter().all(|r| r["outcome"] == "ok"), "{history}");
    assert_eq!(records[0]["calls"]["DescribeInstances"], 1);
}
