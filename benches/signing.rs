//! TC3-HMAC-SHA256 signatures per second on one core: the Authorization header of a typical
//! DescribeImages call, computed the way the client does it (`tc3::authorization`).
//! `cargo bench --bench signing` prints `tc3 signatures/s: N` (median of 5 one-second runs);
//! bench/run compares it with the signing function of Tencent's Python SDK.

use std::hint::black_box;
use std::time::{Duration, Instant};

use tcrl::sign::tc3::{authorization, RequestParts};

const PAYLOAD: &[u8] =
    br#"{"RegistryId":"tcr-demo0001","NamespaceName":"team-a","RepositoryName":"svc","Limit":100}"#;

fn one_signature(timestamp: i64) -> usize {
    let parts = RequestParts {
        method: "POST",
        path: "/",
        query: "",
        headers: &[
            ("content-type".into(), "application/json".into()),
            ("host".into(), "tcr.tencentcloudapi.com".into()),
        ],
        payload: black_box(PAYLOAD),
    };
    authorization(
        &parts,
        "tcr",
        timestamp,
        black_box("AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE"),
        black_box("Gu5t9xGARNpq86cd98joQYCN3EXAMPLE"),
    )
    .len()
}

/// A whole signed request as the client builds it: JSON body, headers, URL and signature (what
/// the SDK's `_build_req_with_tc3_signature` does).
fn one_request(timestamp: i64) -> usize {
    use tcrl::api::{client::prepare, CallOptions, HttpMethod};
    use tcrl::region::{Endpoint, Scheme};
    thread_local! {
        static FIXED: (CallOptions, tcrl::credentials::Credentials, serde_json::Value) = (
            CallOptions {
                service: "tcr".into(),
                version: "2019-09-24".into(),
                region: "ap-guangzhou".into(),
                endpoint: Endpoint { scheme: Scheme::Https, host: "tcr.tencentcloudapi.com".into() },
                timeout: Duration::from_secs(60),
                sign_method: tcrl::sign::SignMethod::Tc3,
                http_method: HttpMethod::Post,
                language: None,
                retry: Default::default(),
            },
            tcrl::credentials::Credentials::new(
                "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE",
                "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE",
                None,
            ),
            serde_json::json!({"RegistryId": "tcr-demo0001", "NamespaceName": "team-a",
                               "RepositoryName": "svc", "Limit": 100}),
        );
    }
    FIXED.with(|(opts, creds, params)| {
        let req = prepare(
            "DescribeImages",
            black_box(params),
            opts,
            creds,
            timestamp,
            1,
        )
        .expect("the request is within limits");
        req.headers.len() + req.body.len()
    })
}

/// Operations of `op` completed per second over `window`.
fn rate(op: fn(i64) -> usize, window: Duration) -> f64 {
    let start = Instant::now();
    let mut count = 0u64;
    let mut timestamp = 1_700_000_000;
    while start.elapsed() < window {
        for _ in 0..256 {
            black_box(op(black_box(timestamp)));
            timestamp += 1;
        }
        count += 256;
    }
    count as f64 / start.elapsed().as_secs_f64()
}

/// Median, min and max of 5 runs, after a warm-up.
fn measure(op: fn(i64) -> usize, window: Duration) -> (f64, f64, f64) {
    rate(op, window / 4);
    let mut runs: Vec<f64> = (0..5).map(|_| rate(op, window)).collect();
    runs.sort_by(f64::total_cmp);
    (runs[2], runs[0], runs[4])
}

fn main() {
    // `--count N`: N signatures and nothing else, for an instruction count under callgrind
    // (bench/signing-instructions).
    let args: Vec<String> = std::env::args().collect();
    if let Some(n) = args.iter().position(|a| a == "--count") {
        let count: i64 = args
            .get(n + 1)
            .and_then(|c| c.parse().ok())
            .expect("--count takes a number");
        let total: usize = (0..count).map(|i| one_signature(1_700_000_000 + i)).sum();
        black_box(total);
        return;
    }
    // `cargo test --all-targets` runs this binary without `--bench`: one signature, no timing.
    if !std::env::args().any(|a| a == "--bench") {
        assert!(one_signature(1_700_000_000) > 0);
        assert!(one_request(1_700_000_000) > 0);
        return;
    }
    let quick = std::env::args().any(|a| a == "--quick");
    let window = Duration::from_millis(if quick { 200 } else { 1000 });
    // `cargo bench --bench signing -- requests` runs only the workloads whose name has "requests".
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    for (name, op) in [
        ("tc3 signatures/s", one_signature as fn(i64) -> usize),
        ("tc3 signed requests/s", one_request),
    ] {
        if !only.iter().all(|word| name.contains(word.as_str())) {
            continue;
        }
        let (median, min, max) = measure(op, window);
        println!(
            "{name}: {median:.0} (min {min:.0}, max {max:.0}, 5 runs of {window:?}, one thread)"
        );
    }
}
