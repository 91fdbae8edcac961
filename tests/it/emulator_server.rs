//! The `tcrl emulator` command and the emulator's faults and observation: request log file,
//! state persistence, latency, injected failures, rate limit, dropped connections.

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};

use serde_json::json;
use tcrl::emulator::{demo, Options};

use crate::harness::{Env, Run, ANCHOR};

/// Start `tcrl emulator` on a free port; return the child and its address.
fn spawn_emulator(env: &Env, args: &[&str]) -> (Child, String) {
    let mut child = env
        .tcrl()
        .args(["emulator", "--listen", "127.0.0.1:0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let first = lines.next().unwrap().unwrap();
    let addr = first.rsplit("://").next().unwrap().trim().to_string();
    let mut banner = vec![first];
    while !banner.last().unwrap().contains("try: ") {
        banner.push(lines.next().unwrap().unwrap());
    }
    let text = banner.join("\n");
    if args.contains(&"--secret-id") {
        assert!(text.contains("accepting SecretId AKID"), "{text}");
    } else {
        assert!(
            text.contains(&format!(
                "TENCENTCLOUD_SECRET_ID={}",
                tcrl::emulator::DEMO_SECRET_ID
            )),
            "{text}"
        );
    }
    std::thread::spawn(move || for _ in lines {});
    (child, addr)
}

fn interrupt(child: &mut Child) {
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    assert!(exit.success(), "emulator exit {exit:?}");
}

#[test]
fn emulator_command_serves_scripts_logs_requests_and_persists_state() {
    let env = Env::offline();
    let state = env.dir.path().join("state.json");
    let log = env.dir.path().join("requests.jsonl");
    let (mut child, addr) = spawn_emulator(
        &env,
        &[
            "--state",
            state.to_str().unwrap(),
            "--log",
            log.to_str().unwrap(),
        ],
    );
    let script = env.script(
        "s.lua",
        r#"tcr.call("CreateNamespace", {RegistryId = "tcr-demo0001", NamespaceName = "added", IsPublic = false})
           print(tcr.call("DescribeNamespaces", {RegistryId = "tcr-demo0001"}).TotalCount)"#,
    );
    let run = |cmd: &mut std::process::Command| {
        Run::of(
            cmd.env("TENCENTCLOUD_SECRET_ID", tcrl::emulator::DEMO_SECRET_ID)
                .env("TENCENTCLOUD_SECRET_KEY", tcrl::emulator::DEMO_SECRET_KEY),
        )
    };
    assert_eq!(
        run(env
            .tcrl()
            .arg("run")
            .arg(&script)
            .args(["--endpoint", &format!("http://{addr}")]))
        .ok(),
        "5\n"
    );
    interrupt(&mut child);
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(
        (
            lines[0]["action"].as_str(),
            lines[0]["code"].as_str(),
            lines[0]["mutating"].as_bool()
        ),
        (Some("CreateNamespace"), Some("ok"), Some(true))
    );
    assert_eq!(lines[0]["params"]["NamespaceName"], "added");
    assert_eq!(lines[1]["mutating"], false);
    // Restarting with the same --state keeps the change.
    let (mut child, addr) = spawn_emulator(&env, &["--state", state.to_str().unwrap()]);
    let check = env.script("c.lua", r#"print(tcr.call("DescribeNamespaces", {RegistryId = "tcr-demo0001", NamespaceName = "added"}).TotalCount)"#);
    assert_eq!(
        run(env
            .tcrl()
            .arg("run")
            .arg(&check)
            .args(["--endpoint", &format!("http://{addr}")]))
        .ok(),
        "1\n"
    );
    interrupt(&mut child);
}

#[test]
fn emulator_command_accepts_given_keys_only_and_rejects_bad_options() {
    let env = Env::offline();
    let (mut child, addr) = spawn_emulator(
        &env,
        &[
            "--secret-id",
            "AKIDmine000000",
            "--secret-key",
            "my-key-0000000",
            "--generate",
            "3x4",
            "--page-size-cap",
            "2",
        ],
    );
    let script = env.script(
        "s.lua",
        r#"print(tcr.call("DescribeRepositories", {RegistryId = "tcr-demo0001"}).TotalCount)"#,
    );
    let capped = env.script(
        "capped.lua",
        r#"local page = tcr.call("DescribeRepositories", {RegistryId = "tcr-demo0001", Limit = 10})
           print(#page.RepositoryList, #tcr.collect("DescribeRepositories", {RegistryId = "tcr-demo0001"}))"#,
    );
    let with = |id: &str, key: &str| {
        Run::of(
            env.tcrl()
                .arg("run")
                .arg(&script)
                .args(["--endpoint", &format!("http://{addr}")])
                .env("TENCENTCLOUD_SECRET_ID", id)
                .env("TENCENTCLOUD_SECRET_KEY", key),
        )
    };
    assert_eq!(with("AKIDmine000000", "my-key-0000000").ok(), "3\n");
    let run = Run::of(
        env.tcrl()
            .arg("run")
            .arg(&capped)
            .args(["--endpoint", &format!("http://{addr}")])
            .env("TENCENTCLOUD_SECRET_ID", "AKIDmine000000")
            .env("TENCENTCLOUD_SECRET_KEY", "my-key-0000000"),
    );
    assert_eq!(run.ok(), "2\t3\n", "--page-size-cap 2 serves pages of 2");
    assert!(with(
        tcrl::emulator::DEMO_SECRET_ID,
        tcrl::emulator::DEMO_SECRET_KEY
    )
    .fails(1)
    .contains("AuthFailure.SecretIdNotFound"));
    assert!(with("AKIDmine000000", "wrong-key-00000")
        .fails(1)
        .contains("AuthFailure.SignatureFailure"));
    interrupt(&mut child);
    let bad = Run::of(env.tcrl().args(["emulator", "--generate", "lots"]));
    assert!(bad.fails(2).contains("expected REPOSxTAGS"));
    let bad = Run::of(env.tcrl().args(["emulator", "--fail-rate", "2"]));
    assert!(bad.fails(2).contains("probability"));
    let bad = Run::of(env.tcrl().args(["emulator", "--page-size-cap", "0"]));
    assert!(bad.fails(2).contains("--page-size-cap"), "{}", bad.stderr);
}

#[test]
fn injected_failures_and_rate_limits_answer_like_the_service() {
    let env = Env::with(
        demo::demo(ANCHOR),
        Options {
            fail_rate: 1.0,
            fail_code: "InternalError".into(),
            ..Default::default()
        },
    );
    assert_eq!(
        env.error_code("DescribeInstances", json!({})).0,
        "InternalError"
    );
    let env = Env::with(
        demo::demo(ANCHOR),
        Options {
            rate_limit: Some(3),
            ..Default::default()
        },
    );
    let codes: Vec<String> = (0..8)
        .map(|_| match env.call("DescribeInstances", json!({})) {
            Ok(_) => "ok".to_string(),
            Err(tcrl::Error::Api { code, .. }) => code,
            Err(e) => panic!("{e}"),
        })
        .collect();
    let limited = codes
        .iter()
        .filter(|c| *c == "RequestLimitExceeded")
        .count();
    // 8 calls take far less than 3 seconds: at most 3 per second pass, the rest are limited.
    assert!(limited >= 2, "{codes:?}");
    assert!(
        codes.iter().filter(|c| *c == "ok").count() <= 6,
        "{codes:?}"
    );
}

#[test]
fn dropped_connections_surface_as_network_errors() {
    let env = Env::with(
        demo::demo(ANCHOR),
        Options {
            drop_rate: 1.0,
            ..Default::default()
        },
    );
    match env.call("DescribeInstances", json!({})) {
        Err(e @ tcrl::Error::Transport { .. }) => assert_eq!(e.code(), "Client.Network"),
        other => panic!("expected a transport error, got {other:?}"),
    }
    assert_eq!(
        env.emulator().emulator.requests().len(),
        1,
        "the request arrived before the drop"
    );
}

#[test]
fn latency_is_added_and_concurrent_requests_are_observed() {
    let env = Env::with(
        demo::demo(ANCHOR),
        Options {
            latency_ms: Some((200, 200)),
            ..Default::default()
        },
    );
    let script = env.script("p.lua", "print(tcr.call('DescribeInstances').TotalCount)");
    let started = std::time::Instant::now();
    let children: Vec<_> = (0..3)
        .map(|_| {
            env.tcrl()
                .arg("run")
                .arg(&script)
                .args(["--endpoint", &env.endpoint()])
                .env("TENCENTCLOUD_SECRET_ID", tcrl::emulator::DEMO_SECRET_ID)
                .env("TENCENTCLOUD_SECRET_KEY", tcrl::emulator::DEMO_SECRET_KEY)
                .stdout(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        assert!(c.wait_with_output().unwrap().status.success());
    }
    assert!(started.elapsed() >= std::time::Duration::from_millis(200));
    assert!(
        env.emulator().emulator.max_in_flight() >= 2,
        "three processes waiting 200 ms overlap"
    );
}

#[test]
fn emulator_serves_https_with_a_generated_ca_or_given_certificate() {
    let env = Env::offline();
    let tls_dir = env.dir.path().join("tls");
    let tls = tls_dir.to_str().unwrap();
    let ca = tls_dir.join("ca.pem");
    let script = env.script(
        "s.lua",
        r#"print(tcr.call("DescribeInstances").TotalCount)"#,
    );
    let run = |endpoint: &str, ca_cert: Option<&std::path::Path>| {
        let mut cmd = env.tcrl();
        cmd.arg("run")
            .arg(&script)
            .args(["--endpoint", endpoint, "--retries", "0"])
            .env("TENCENTCLOUD_SECRET_ID", tcrl::emulator::DEMO_SECRET_ID)
            .env("TENCENTCLOUD_SECRET_KEY", tcrl::emulator::DEMO_SECRET_KEY);
        if let Some(path) = ca_cert {
            cmd.arg("--ca-cert").arg(path);
        }
        Run::of(&mut cmd)
    };

    let (mut child, addr) = spawn_emulator(&env, &["--tls-self-signed", tls]);
    assert_eq!(run(&format!("https://{addr}"), Some(&ca)).ok(), "1\n");
    let port = addr.rsplit(':').next().unwrap();
    assert_eq!(
        run(&format!("https://localhost:{port}"), Some(&ca)).ok(),
        "1\n",
        "the certificate names localhost too"
    );
    let untrusted = run(&format!("https://{addr}"), None);
    assert!(
        untrusted.fails(1).contains("UnknownIssuer") && untrusted.stderr.contains("--ca-cert"),
        "{}",
        untrusted.stderr
    );
    interrupt(&mut child);

    // A second start reuses the CA clients were told to trust.
    let ca_before = std::fs::read(&ca).unwrap();
    let (mut child, addr) = spawn_emulator(&env, &["--tls-self-signed", tls]);
    assert_eq!(std::fs::read(&ca).unwrap(), ca_before);
    assert_eq!(run(&format!("https://{addr}"), Some(&ca)).ok(), "1\n");
    interrupt(&mut child);

    // A certificate the user brings.
    let cert = tls_dir.join("cert.pem");
    let key = tls_dir.join("key.pem");
    let (mut child, addr) = spawn_emulator(
        &env,
        &[
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ],
    );
    assert_eq!(run(&format!("https://{addr}"), Some(&ca)).ok(), "1\n");
    interrupt(&mut child);

    let bad = Run::of(env.tcrl().args([
        "emulator",
        "--tls-cert",
        script.to_str().unwrap(),
        "--tls-key",
        key.to_str().unwrap(),
    ]));
    assert!(
        bad.fails(2).contains("not a PEM certificate"),
        "{}",
        bad.stderr
    );
    let bad = run("https://127.0.0.1:1", Some(&script));
    assert!(bad.fails(2).contains("not a PEM certificate file"));
}

/// `--ca-cert` adds a CA to the system's trust store: servers signed by either are accepted,
/// others are not. The "system store" here is a second generated CA, given the way the system
/// store can be given: `SSL_CERT_FILE` (with `SSL_CERT_DIR` pointing nowhere).
#[test]
fn ca_cert_adds_to_the_system_trust_store() {
    let env = Env::offline();
    let dirs = ["system", "private", "stranger"].map(|name| env.dir.path().join(name));
    let emulators: Vec<(Child, String)> = dirs
        .iter()
        .map(|dir| spawn_emulator(&env, &["--tls-self-signed", dir.to_str().unwrap()]))
        .collect();
    let script = env.script(
        "s.lua",
        r#"print(tcr.call("DescribeInstances").TotalCount)"#,
    );
    let run = |addr: &str| {
        Run::of(
            env.tcrl()
                .arg("run")
                .arg(&script)
                .args(["--endpoint", &format!("https://{addr}"), "--retries", "0"])
                .arg("--ca-cert")
                .arg(dirs[1].join("ca.pem"))
                .env("SSL_CERT_FILE", dirs[0].join("ca.pem"))
                .env("SSL_CERT_DIR", env.dir.path().join("no-such-dir"))
                .env("TENCENTCLOUD_SECRET_ID", tcrl::emulator::DEMO_SECRET_ID)
                .env("TENCENTCLOUD_SECRET_KEY", tcrl::emulator::DEMO_SECRET_KEY),
        )
    };
    assert_eq!(
        run(&emulators[0].1).ok(),
        "1\n",
        "signed by the system's CA"
    );
    assert_eq!(
        run(&emulators[1].1).ok(),
        "1\n",
        "signed by the --ca-cert CA"
    );
    let stranger = run(&emulators[2].1);
    assert!(
        stranger.fails(1).contains("UnknownIssuer"),
        "{}",
        stranger.stderr
    );
    for (mut child, _) in emulators {
        interrupt(&mut child);
    }
}

#[test]
fn http2_requests_verify_with_the_authority_as_host() {
    // HTTP/2 has no Host header; clients sign the `:authority` (curl over HTTPS negotiates h2).
    let env = Env::demo();
    let opts = env.call_options(tcrl::sign::SignMethod::Tc3, tcrl::api::HttpMethod::Post);
    let req = tcrl::api::client::prepare(
        "DescribeInstances",
        &json!({}),
        &opts,
        &tcrl::emulator::demo_credentials(),
        chrono::Utc::now().timestamp(),
        1,
    )
    .unwrap();
    let client = tcrl::http_client_builder()
        .http2_prior_knowledge()
        .build()
        .unwrap();
    let mut builder = client.post(&req.url).body(req.body.clone());
    for (name, value) in &req.headers {
        if !name.eq_ignore_ascii_case("host") {
            builder = builder.header(*name, value);
        }
    }
    let response = env.rt.block_on(async {
        let resp = builder.send().await.unwrap();
        assert_eq!(resp.version(), reqwest::Version::HTTP_2);
        resp.json::<serde_json::Value>().await.unwrap()
    });
    assert_eq!(response["Response"]["TotalCount"], 1, "{response}");
}
