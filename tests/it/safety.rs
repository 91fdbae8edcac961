//! Safety rails through the binary: the sandbox, run timeouts (pure Lua and waiting on HTTP),
//! the memory cap, the response size cap.

use tcrl::emulator::{demo, Options};

use crate::harness::{Env, Run, ANCHOR};

fn run_offline(env: &Env, code: &str, flags: &[&str]) -> Run {
    let path = env.script("safe.lua", code);
    Run::of(env.tcrl().arg("run").arg(&path).args(flags))
}

#[test]
fn dangerous_functions_are_absent_by_default() {
    let env = Env::offline();
    let probes = [
        ("os.execute", "os.execute('true')"),
        ("os.exit", "os.exit(3)"),
        ("io.popen", "io.popen('ls')"),
        ("io.tmpfile", "io.tmpfile()"),
        ("debug", "debug.getinfo(1)"),
        ("package.loadlib", "package.loadlib('libc.so.6', 'puts')"),
    ];
    for (name, code) in probes {
        let out = run_offline(&env, code, &[]);
        let err = out.fails(1);
        assert!(
            err.contains("safe.lua:1: attempt to") && err.contains("nil value"),
            "{name}: {err}"
        );
    }
    let out = run_offline(&env, "print(load(string.dump(function() end)))", &[]);
    assert!(
        out.ok().starts_with("nil\tattempt to load a binary chunk"),
        "{}",
        out.stdout
    );
    let out = run_offline(&env, "print(os.getenv('TENCENTCLOUD_SECRET_KEY'), os.getenv('TENCENTCLOUD_TOKEN'), os.getenv('HOME') ~= nil)", &[]);
    assert_eq!(out.ok(), "nil\tnil\ttrue\n");
    let out = run_offline(&env, "require('socket.core')", &[]);
    assert!(
        out.fails(1).contains("module 'socket.core' not found"),
        "{}",
        out.stderr
    );
}

#[test]
fn files_only_inside_the_script_folder_and_allowed_paths() {
    let env = Env::offline();
    let out = run_offline(
        &env,
        r#"
        local dir = tcr.args.dir
        local f = assert(io.open(dir .. "/out.txt", "w")) f:write("hello") f:close()
        print(io.open(dir .. "/out.txt"):read("a"))
        for line in io.lines(dir .. "/out.txt") do print(line) end
        print(pcall(io.open, "/etc/passwd"))
        print(pcall(io.open, dir .. "/../escape.txt", "w"))
        print(pcall(os.remove, "/tmp/not-mine"))
        print(os.remove(dir .. "/out.txt"))
        "#,
        &["--arg", &format!("dir={}", env.dir.path().display())],
    );
    let text = out.ok();
    assert!(text.starts_with("hello\nhello\nfalse\t"), "{text}");
    assert!(
        text.contains(
            "io.open: \"/etc/passwd\" is outside the script's folder and --allow-path folders"
        ),
        "{text}"
    );
    assert!(text.contains("escape.txt\" is outside"), "{text}");
    assert!(
        text.contains("os.remove: \"/tmp/not-mine\" is outside"),
        "{text}"
    );
    assert!(text.ends_with("true\n"), "{text}");
    let other = tempfile::tempdir().unwrap();
    std::fs::write(other.path().join("data.txt"), "allowed").unwrap();
    let code = format!(
        "print(io.open({:?}):read('a'))",
        other.path().join("data.txt").display().to_string()
    );
    assert!(run_offline(&env, &code, &[])
        .fails(1)
        .contains("outside the script's folder"));
    let allowed = run_offline(
        &env,
        &code,
        &["--allow-path", other.path().to_str().unwrap()],
    );
    assert_eq!(allowed.ok(), "allowed\n");
}

#[test]
fn require_finds_the_stdlib_and_modules_next_to_the_script_only() {
    let env = Env::offline();
    std::fs::write(env.dir.path().join("helper.lua"), "return {answer = 42}").unwrap();
    let out = run_offline(
        &env,
        "print(require('helper').answer, type(require('tcr.retention').plan))",
        &[],
    );
    assert_eq!(out.ok(), "42\tfunction\n");
    let out = run_offline(&env, "require('nowhere')", &[]);
    let err = out.fails(1);
    assert!(
        err.contains("module 'nowhere' not found")
            && err.contains(&env.dir.path().display().to_string()),
        "{err}"
    );
}

#[test]
fn unsafe_lifts_the_sandbox_and_says_so() {
    let env = Env::offline();
    let out = run_offline(
        &env,
        "print(type(os.execute), type(io.popen), type(debug))",
        &["--unsafe"],
    );
    assert_eq!(out.ok(), "function\tfunction\ttable\n");
    assert!(out.stderr.contains("--unsafe"), "{}", out.stderr);
}

#[test]
fn timeout_stops_a_pure_lua_loop_and_exits_1() {
    let env = Env::offline();
    for code in [
        "while true do end",
        "while true do pcall(function() while true do end end) end",
        "local co = coroutine.wrap(function() while true do end end) co()",
    ] {
        let started = std::time::Instant::now();
        let out = run_offline(&env, code, &["--timeout", "500ms"]);
        assert!(
            out.fails(1).contains("safe.lua: timed out after 500ms"),
            "{code}: {}",
            out.stderr
        );
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "{code}"
        );
    }
}

#[test]
fn timeout_cancels_a_call_waiting_on_http() {
    let env = Env::with(
        demo::demo(ANCHOR),
        Options {
            latency_ms: Some((5000, 5000)),
            ..Default::default()
        },
    );
    let path = env.script("slow.lua", "tcr.call('DescribeInstances')");
    let started = std::time::Instant::now();
    let out = env.run_demo(&path, &["--timeout", "300ms"]);
    assert!(
        out.fails(1).contains("timed out after 300ms"),
        "{}",
        out.stderr
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(4),
        "the 5 s request was not cancelled"
    );
}

#[test]
fn memory_cap_fails_the_run_with_a_message_that_says_memory() {
    let env = Env::offline();
    let out = run_offline(
        &env,
        "local t = {} for i = 1, 1e9 do t[i] = string.rep('x', 1000) .. i end",
        &["--memory-limit", "16MB"],
    );
    assert!(
        out.fails(1).contains("memory limit of 16 MiB exceeded"),
        "{}",
        out.stderr
    );
    let bad = run_offline(&env, "print(1)", &["--memory-limit", "lots"]);
    assert!(bad.fails(2).contains("invalid size"), "{}", bad.stderr);
}

#[test]
fn oversized_responses_are_refused() {
    let env = Env::demo();
    let path = env.script(
        "big.lua",
        "tcr.call('DescribeRepositories', {RegistryId = 'tcr-demo0001', Limit = 100})",
    );
    let out = env.run_demo(&path, &["--max-response-size", "1KB"]);
    let err = out.fails(1);
    assert!(
        err.contains("Client.ResponseTooLarge") && err.contains("exceeds the limit of 1024 bytes"),
        "{err}"
    );
    assert_eq!(env.emulator().emulator.requests().len(), 1, "not retried");
}
