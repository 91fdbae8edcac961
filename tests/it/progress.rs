//! Progress lines: drawn on a terminal for long paginations and `tcr.map`, never when stderr
//! is not a terminal or with `--quiet`.

use std::time::Duration;

use expectrl::{Eof, Session};
use tcrl::emulator::{demo, Options};

use crate::harness::{Env, Run, ANCHOR};

/// Ten pages of repositories, then one DescribeImages per repository through `tcr.map`.
const SCRIPT: &str = r#"
local repos = tcr.collect("DescribeRepositories", {RegistryId = "tcr-demo0001"}, {page_size = 5})
local counts = tcr.map(repos, function(r)
  local ns, name = r.Name:match("^([^/]+)/(.+)$")
  return tcr.call("DescribeImages", {RegistryId = "tcr-demo0001", NamespaceName = ns,
    RepositoryName = name, Limit = 1}).TotalCount
end, {concurrency = 10})
print("repositories: " .. #repos .. ", counted: " .. #counts)
"#;

fn slow_env() -> Env {
    Env::with(
        demo::demo(ANCHOR),
        Options {
            latency_ms: Some((100, 100)),
            ..Default::default()
        },
    )
}

/// Run the script on a pseudo-terminal; everything the terminal showed.
fn on_terminal(env: &Env, flags: &[&str]) -> String {
    let script = env.script("progress.lua", SCRIPT);
    let mut cmd = env.tcrl();
    cmd.args(flags)
        .arg("run")
        .arg(&script)
        .args(["--endpoint", &env.endpoint()])
        .env("TENCENTCLOUD_SECRET_ID", tcrl::emulator::DEMO_SECRET_ID)
        .env("TENCENTCLOUD_SECRET_KEY", tcrl::emulator::DEMO_SECRET_KEY)
        .env("TERM", "xterm");
    let mut session = Session::spawn(cmd).expect("a pty");
    session.set_expect_timeout(Some(Duration::from_secs(30)));
    let seen = session.expect(Eof).unwrap();
    String::from_utf8_lossy(seen.as_bytes()).into_owned()
}

#[test]
fn a_terminal_shows_progress_of_paginations_and_map() {
    let env = slow_env();
    let screen = on_terminal(&env, &[]);
    assert!(screen.contains("repositories: 50, counted: 50"), "{screen}");
    assert!(
        screen.contains("DescribeRepositories [") && screen.contains("/50 items"),
        "no pagination progress line in:\n{screen}"
    );
    assert!(
        screen.contains("tcr.map ["),
        "no tcr.map progress line in:\n{screen}"
    );
}

#[test]
fn quiet_or_no_terminal_shows_no_progress() {
    let env = slow_env();
    let screen = on_terminal(&env, &["--quiet"]);
    assert!(screen.contains("repositories: 50, counted: 50"), "{screen}");
    assert!(!screen.contains(" items"), "{screen}");

    let script = env.script("progress.lua", SCRIPT);
    let piped = Run::of(
        env.tcrl()
            .arg("run")
            .arg(&script)
            .args(["--endpoint", &env.endpoint()])
            .env("TENCENTCLOUD_SECRET_ID", tcrl::emulator::DEMO_SECRET_ID)
            .env("TENCENTCLOUD_SECRET_KEY", tcrl::emulator::DEMO_SECRET_KEY),
    );
    assert_eq!(piped.ok(), "repositories: 50, counted: 50\n");
    assert!(!piped.stderr.contains(" items"), "{}", piped.stderr);
}
