//! The credential chain through the real binary: INI profile, tccli file, CVM instance role
//! (served locally), and the error listing every place looked.

use std::sync::{Arc, Mutex};

use tcrl::credentials::Credentials;
use tcrl::emulator::{demo, Options};

use crate::harness::{Env, Run, ANCHOR};

fn env_accepting(creds: Vec<Credentials>) -> Env {
    Env::with(
        demo::demo(ANCHOR),
        Options {
            accounts: creds,
            ..Default::default()
        },
    )
}

fn run(env: &Env, extra: &[&str]) -> Run {
    let path = env.script("c.lua", "print(tcr.call('DescribeInstances').TotalCount)");
    Run::of(
        env.tcrl()
            .arg("run")
            .arg(&path)
            .args(["--endpoint", &env.endpoint()])
            .args(extra),
    )
}

#[test]
fn ini_profiles_and_tccli_files_are_read() {
    let env = env_accepting(vec![
        Credentials::new("AKIDini00000000", "ini-key-000000", None),
        Credentials::new("AKIDprod0000000", "prod-key-00000", Some("prod-token-0000")),
        Credentials::new("AKIDtccli000000", "tccli-key-0000", None),
    ]);
    let home = env.home();
    std::fs::create_dir_all(home.join(".tccli")).unwrap();
    std::fs::write(
        home.join(".tccli/default.credential"),
        r#"{"secretId": "AKIDtccli000000", "secretKey": "tccli-key-0000"}"#,
    )
    .unwrap();
    assert_eq!(run(&env, &[]).ok(), "1\n");
    std::fs::create_dir_all(home.join(".tencentcloud")).unwrap();
    std::fs::write(
        home.join(".tencentcloud/credentials"),
        "[default]\nsecret_id = AKIDini00000000\nsecret_key = ini-key-000000\n\n[prod]\nsecret_id = AKIDprod0000000\nsecret_key = prod-key-00000\ntoken = prod-token-0000\n",
    )
    .unwrap();
    assert_eq!(run(&env, &[]).ok(), "1\n");
    assert_eq!(run(&env, &["--profile", "prod"]).ok(), "1\n");
    let seen: Vec<String> = env
        .emulator()
        .emulator
        .requests()
        .iter()
        .map(|r| r.code.clone())
        .collect();
    assert_eq!(seen, ["ok", "ok", "ok"]);
}

#[test]
fn no_credentials_lists_every_place_looked() {
    let env = env_accepting(vec![]);
    let err = run(&env, &[]).fails(2).to_string();
    for place in [
        "--secret-id/--secret-key flags",
        "TENCENTCLOUD_SECRET_ID",
        ".tencentcloud/credentials [default]",
        "/etc/tencentcloud/credentials [default]",
        ".tccli/default.credential",
        "CVM instance role at http://127.0.0.1:9",
    ] {
        assert!(err.contains(place), "{place} missing:\n{err}");
    }
    assert!(env.emulator().emulator.requests().is_empty());
}

/// A local metadata service: the role name, then temporary credentials; counts requests.
async fn metadata_server(expires_in: i64) -> (String, Arc<Mutex<u32>>) {
    use axum::routing::get;
    let hits = Arc::new(Mutex::new(0u32));
    let counter = hits.clone();
    let app = axum::Router::new()
        .route("/latest/meta-data/cam/security-credentials/", get(|| async { "tcrl-role\n" }))
        .route(
            "/latest/meta-data/cam/security-credentials/tcrl-role",
            get(move || {
                let counter = counter.clone();
                async move {
                    *counter.lock().unwrap() += 1;
                    let expires = chrono::Utc::now().timestamp() + expires_in;
                    format!(r#"{{"TmpSecretId": "AKIDrole0000000", "TmpSecretKey": "role-key-00000", "Token": "role-token-000", "ExpiredTime": {expires}, "Code": "Success"}}"#)
                }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), hits)
}

#[test]
fn cvm_instance_role_is_used_last_and_refreshed_before_expiry() {
    let env = env_accepting(vec![Credentials::new(
        "AKIDrole0000000",
        "role-key-00000",
        Some("role-token-000"),
    )]);
    // Credentials valid for one hour: fetched once for three calls.
    let (endpoint, hits) = env.rt.block_on(metadata_server(3600));
    let path = env.script(
        "r.lua",
        "for i = 1, 3 do tcr.call('DescribeInstances') end print('ok')",
    );
    let out = Run::of(
        env.tcrl()
            .arg("run")
            .arg(&path)
            .args(["--endpoint", &env.endpoint()])
            .env("TCRL_METADATA_ENDPOINT", &endpoint),
    );
    assert_eq!(out.ok(), "ok\n");
    assert_eq!(*hits.lock().unwrap(), 1);
    // Credentials about to expire (inside the refresh margin): fetched again for each call.
    let (endpoint, hits) = env.rt.block_on(metadata_server(60));
    let out = Run::of(
        env.tcrl()
            .arg("run")
            .arg(&path)
            .args(["--endpoint", &env.endpoint()])
            .env("TCRL_METADATA_ENDPOINT", &endpoint),
    );
    assert_eq!(out.ok(), "ok\n");
    assert_eq!(*hits.lock().unwrap(), 3);
}
