//! The REPL: piped stdin through the real binary, and a real pseudo-terminal for completion,
//! hints, continuation prompts, Ctrl-C and the history file.

use std::io::Write;
use std::process::Stdio;
use std::time::Duration;

use expectrl::{Eof, Regex, Session};
use tcrl::emulator::{demo, Options};

use crate::harness::{Env, Run, ANCHOR, FAKE_SECRET_KEY};

fn piped(env: &Env, input: &str, flags: &[&str]) -> Run {
    let mut child = env
        .tcrl()
        .arg("repl")
        .args(flags)
        .env("TCRL_HISTORY", env.dir.path().join("history"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn piped_expressions_statements_multiline_and_errors() {
    let env = Env::offline();
    let out = piped(
        &env,
        "print(tcr.endpoint('ap-guangzhou'))\n1 + 1, 'two', nil\nlocal x = 5\nfunction double(x)\n  return x * 2\nend\ndouble(21)\nnil + 1\n{b = 2, a = {1, tcr.null}}\ndouble(2)\n",
        &[],
    );
    assert_eq!(
        out.stdout,
        "tcr.intl.tencentcloudapi.com\n2\n\"two\"\nnil\n42\n{\n  a = {\n    1,\n    null\n  },\n  b = 2\n}\n4\n"
    );
    assert!(
        out.stderr
            .contains("stdin:1: attempt to perform arithmetic on a nil value"),
        "{}",
        out.stderr
    );
    assert!(
        !out.stderr.contains("panicked") && !out.stderr.contains("stack traceback"),
        "{}",
        out.stderr
    );
    assert_eq!(out.code, 1, "a failed input makes the exit code 1");
}

#[test]
fn piped_commands() {
    let env = Env::offline();
    let out = piped(&env, ":describe DescribeImages\n:actions TagRetentionRule\n:region ap-tokyo\ntcr.region\n:describe DescribeImagez\n", &[]);
    let text = &out.stdout;
    assert!(
        text.starts_with("DescribeImages (read-only)\nparameters:\n  RegistryId "),
        "{text}"
    );
    assert!(
        text.contains("paging: page_number (Offset from 1"),
        "{text}"
    );
    assert!(
        text.contains("CreateTagRetentionRule")
            && text.contains("DescribeTagRetentionRules")
            && text.contains("pages by page number"),
        "{text}"
    );
    assert!(text.contains("region ap-tokyo\n\"ap-tokyo\"\n"), "{text}");
    assert!(
        out.stderr
            .contains("unknown action \"DescribeImagez\" (did you mean DescribeImages?)"),
        "{}",
        out.stderr
    );
}

#[test]
fn piped_calls_against_the_emulator() {
    let env = Env::offline();
    let out = piped(&env, "#tcr.collect('DescribeRepositories', {RegistryId = 'tcr-demo0001'})\ntcr.call('DescribeImages', {RegistryId = 'tcr-demo0001', NamespaceName = 'team-a', RepositoryName = 'nope'})\n", &["--emulator"]);
    assert_eq!(out.stdout, "50\n");
    assert!(out.stderr.contains("stdin:1: DescribeImages: ResourceNotFound: Repository `team-a/nope` does not exist. (request "), "{}", out.stderr);
}

fn spawn_tty(env: &Env, flags: &[&str]) -> Session {
    let mut cmd = env.tcrl();
    cmd.arg("repl")
        .args(["--endpoint", &env.endpoint()])
        .args(flags)
        .env("TENCENTCLOUD_SECRET_ID", tcrl::emulator::DEMO_SECRET_ID)
        .env("TENCENTCLOUD_SECRET_KEY", tcrl::emulator::DEMO_SECRET_KEY)
        .env("TCRL_HISTORY", env.dir.path().join("history"))
        .env("TERM", "xterm");
    let mut session = Session::spawn(cmd).expect("a pty");
    session.set_expect_timeout(Some(Duration::from_secs(15)));
    session.expect("tcr> ").unwrap();
    session
}

#[test]
fn terminal_completion_hints_and_continuation() {
    let env = Env::demo();
    let mut s = spawn_tty(&env, &[]);
    // Completion of a member, an action name and a parameter name.
    s.send("#tcr.colle").unwrap();
    s.send("\t").unwrap();
    s.expect("tcr.collect").unwrap();
    s.send("(\"DescribeReposit").unwrap();
    s.send("\t").unwrap();
    s.expect("DescribeRepositories").unwrap();
    s.send("\", {Regist").unwrap();
    s.expect("-- requires RegistryId").unwrap();
    s.send("\t").unwrap();
    s.expect("RegistryId = ").unwrap();
    s.send("\"tcr-demo0001\"})\r").unwrap();
    s.expect(Regex("\r\n50\r\n")).unwrap();
    // A function over several lines uses the continuation prompt.
    s.send("function g()\r").unwrap();
    s.expect("...> ").unwrap();
    s.send("return 5 end\r").unwrap();
    s.expect("tcr> ").unwrap();
    s.send("g() + 1\r").unwrap();
    s.expect(Regex("\r\n6\r\n")).unwrap();
    s.send("\x04").unwrap();
    s.expect(Eof).unwrap();
}

#[test]
fn terminal_ctrl_c_cancels_a_slow_call_and_the_repl_goes_on() {
    let env = Env::with(
        demo::demo(ANCHOR),
        Options {
            latency_ms: Some((5000, 5000)),
            ..Default::default()
        },
    );
    let mut s = spawn_tty(&env, &[]);
    s.send("tcr.call(\"DescribeInstances\")\r").unwrap();
    std::thread::sleep(Duration::from_millis(700));
    let started = std::time::Instant::now();
    s.send("\x03").unwrap();
    s.expect("stdin: cancelled").unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "cancelled before the 5 s answer"
    );
    s.expect("tcr> ").unwrap();
    s.send("1 + 41\r").unwrap();
    s.expect(Regex("\r\n42\r\n")).unwrap();
    // Ctrl-C at the prompt clears pending input.
    s.send("function h()\r").unwrap();
    s.expect("...> ").unwrap();
    s.send("\x03").unwrap();
    s.expect("tcr> ").unwrap();
    s.send("\x04").unwrap();
    s.expect(Eof).unwrap();
}

#[test]
fn history_is_kept_without_secrets() {
    let env = Env::demo();
    let mut s = spawn_tty(&env, &[]);
    s.send("kept = 1\r").unwrap();
    s.expect("tcr> ").unwrap();
    s.send(format!("key = \"{FAKE_SECRET_KEY}\"\r")).unwrap();
    s.expect("tcr> ").unwrap();
    s.send("\x04").unwrap();
    s.expect(Eof).unwrap();
    let history = std::fs::read_to_string(env.dir.path().join("history")).unwrap();
    assert!(history.contains("kept = 1"), "{history}");
    assert!(!history.contains(FAKE_SECRET_KEY), "{history}");
    // The next session sees the saved history (Up arrow recalls it).
    let mut s = spawn_tty(&env, &[]);
    s.send("\x1b[A").unwrap();
    s.expect("kept = 1").unwrap();
    s.send("\r").unwrap();
    s.expect("tcr> ").unwrap();
    s.send("\x04").unwrap();
    s.expect(Eof).unwrap();
}
