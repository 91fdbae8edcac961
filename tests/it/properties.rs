//! Property tests with a fixed seed (run in every `cargo test`): the emulator's request parsing
//! and signature verification, JSON <-> Lua conversion, cron normalisation, timestamp parsing.
//! Proptest stands in for cargo-fuzz, which needs a nightly toolchain this project cannot use.

use axum::http::{HeaderMap, HeaderName, HeaderValue, Method};
use mlua::Lua;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};
use serde_json::{json, Value};
use tcrl::api::client::prepare;
use tcrl::api::{CallOptions, HttpMethod};
use tcrl::credentials::Credentials;
use tcrl::emulator::auth::{authenticate, RawRequest};
use tcrl::region::{Endpoint, Scheme};
use tcrl::sign::SignMethod;

/// A fixed seed so every run is the same; `TCRL_PROPTEST_CASES` / `TCRL_PROPTEST_SEED` run
/// longer or different searches by hand.
fn config(cases: u32) -> Config {
    let env = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());
    Config {
        cases: env("TCRL_PROPTEST_CASES")
            .map(|c| c as u32)
            .unwrap_or(cases),
        rng_seed: RngSeed::Fixed(env("TCRL_PROPTEST_SEED").unwrap_or(0x7463_726c)),
        failure_persistence: None,
        ..Config::default()
    }
}

const NOW: i64 = 1_800_000_000;

fn creds() -> Credentials {
    Credentials::new("AKIDpropTEST000000", "prop-test-key-000000", None)
}

fn lookup(id: &str) -> Option<Credentials> {
    (id == "AKIDpropTEST000000").then(creds)
}

fn opts(sign: SignMethod, method: HttpMethod) -> CallOptions {
    CallOptions {
        service: "tcr".into(),
        version: "2019-09-24".into(),
        region: "ap-guangzhou".into(),
        endpoint: Endpoint {
            scheme: Scheme::Http,
            host: "127.0.0.1:9400".into(),
        },
        timeout: std::time::Duration::from_secs(1),
        sign_method: sign,
        http_method: method,
        language: None,
        retry: Default::default(),
    }
}

/// Turn a prepared request into what the emulator's handler sees.
fn check(
    method: HttpMethod,
    url: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> Result<Value, String> {
    let mut map = HeaderMap::new();
    for (k, v) in headers {
        map.insert(
            HeaderName::from_bytes(k.to_ascii_lowercase().as_bytes()).unwrap(),
            HeaderValue::from_str(v).unwrap(),
        );
    }
    map.insert("host", HeaderValue::from_static("127.0.0.1:9400"));
    let query = url.split_once('?').map(|(_, q)| q).unwrap_or("");
    let m = if method == HttpMethod::Get {
        Method::GET
    } else {
        Method::POST
    };
    let raw = RawRequest {
        method: &m,
        headers: &map,
        query,
        body,
    };
    authenticate(&raw, lookup, tcrl::api::catalog::tcr(), NOW)
        .map(|i| i.params)
        .map_err(|e| e.code)
}

fn name_strategy() -> impl Strategy<Value = String> {
    prop_oneof!["[a-z0-9/_.-]{1,20}", "\\PC{0,12}"]
}

proptest! {
    #![proptest_config(config(200))]

    /// Signed by the client, verified by the emulator, for every method and family, with any
    /// parameter text (unicode, separators): the parameters arrive intact.
    #[test]
    fn signed_requests_verify_and_round_trip(ns in name_strategy(), repo in name_strategy(), limit in 1i64..100, which in 0usize..6) {
        let (sign, method) = [
            (SignMethod::Tc3, HttpMethod::Post), (SignMethod::Tc3, HttpMethod::Get),
            (SignMethod::HmacSha256, HttpMethod::Post), (SignMethod::HmacSha256, HttpMethod::Get),
            (SignMethod::HmacSha1, HttpMethod::Post), (SignMethod::HmacSha1, HttpMethod::Get),
        ][which];
        let params = json!({"RegistryId": "tcr-x", "NamespaceName": ns, "RepositoryName": repo, "Limit": limit});
        let req = prepare("DescribeImages", &params, &opts(sign, method), &creds(), NOW, 7).unwrap();
        let got = check(method, &req.url, &req.headers, &req.body).unwrap();
        prop_assert_eq!(got, params);
    }

    /// The streamed signer the client uses gives the same header as the staged one.
    #[test]
    fn streamed_and_staged_tc3_signatures_agree(
        headers in proptest::collection::vec(("[A-Za-z-]{1,12}", "\\PC{0,20}"), 1..4),
        query in "\\PC{0,40}", payload in proptest::collection::vec(any::<u8>(), 0..300),
        key in "\\PC{1,40}", timestamp in 0i64..4_000_000_000,
    ) {
        let parts = tcrl::sign::tc3::RequestParts {
            method: "POST", path: "/", query: &query,
            headers: &headers.iter().map(|(n, v)| (n.into(), v.into())).collect::<Vec<_>>(), payload: &payload,
        };
        let staged = tcrl::sign::tc3::sign(&parts, "tcr", timestamp, "AKIDx", &key);
        let streamed = tcrl::sign::tc3::authorization(&parts, "tcr", timestamp, "AKIDx", &key);
        prop_assert_eq!(streamed, staged.authorization);
    }

    /// Any change to a signed TC3 body is caught.
    #[test]
    fn tampered_bodies_fail_verification(ns in "[a-z]{1,10}", index in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let params = json!({"RegistryId": "tcr-x", "NamespaceName": ns});
        let req = prepare("DescribeNamespaces", &params, &opts(SignMethod::Tc3, HttpMethod::Post), &creds(), NOW, 1).unwrap();
        let mut body = req.body.clone();
        let i = index.index(body.len());
        prop_assume!(body[i] != byte);
        body[i] = byte;
        let result = check(HttpMethod::Post, &req.url, &req.headers, &body);
        prop_assert!(result.is_err(), "tampered body accepted");
    }

    /// Arbitrary headers, query and body never crash the emulator's request parsing.
    #[test]
    fn garbage_requests_are_answered_with_errors(auth in "\\PC{0,80}", query in "\\PC{0,80}", body in proptest::collection::vec(any::<u8>(), 0..200), get in any::<bool>()) {
        let mut map = HeaderMap::new();
        if let Ok(v) = HeaderValue::from_str(&auth) {
            if !auth.is_empty() {
                map.insert("authorization", v);
            }
        }
        map.insert("x-tc-action", HeaderValue::from_static("DescribeInstances"));
        map.insert("x-tc-timestamp", HeaderValue::from_static("1800000000"));
        map.insert("x-tc-version", HeaderValue::from_static("2019-09-24"));
        let m = if get { Method::GET } else { Method::POST };
        let raw = RawRequest { method: &m, headers: &map, query: &query, body: &body };
        prop_assert!(authenticate(&raw, lookup, tcrl::api::catalog::tcr(), NOW).is_err());
    }
}

/// JSON values Lua can hold without loss: no empty containers (they become `{}`), no floats
/// with integral values (they become integers).
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        (-1e9f64..1e9)
            .prop_filter("not integral", |f| f.fract() != 0.0)
            .prop_map(Value::from),
        "\\PC{0,16}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 40, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 1..6).prop_map(Value::Array),
            proptest::collection::btree_map("[a-zA-Z_][a-zA-Z0-9_]{0,8}", inner, 1..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(config(300))]

    /// JSON -> Lua -> JSON is the identity (object keys come back sorted).
    #[test]
    fn json_lua_round_trip(value in json_value()) {
        let lua = Lua::new();
        let as_lua = tcrl::lua::convert::to_lua(&lua, &value).unwrap();
        let back = tcrl::lua::convert::ToJson { action: "x", catalog: None }.value(&as_lua).unwrap();
        prop_assert_eq!(back, value);
    }

    /// Any string is either a valid schedule or a clear error; never a panic.
    #[test]
    fn cron_normalisation_never_panics(text in "\\PC{0,40}") {
        let _ = tcrl::runner::schedule::normalize(&text);
    }

    /// Well-formed crontab lines (one day field restricted at most) always parse and fire.
    #[test]
    fn crontab_lines_parse(min in 0u32..60, hour in 0u32..24, dom in prop::option::of(1u32..29), dow in prop::option::of(0u32..8), step in 1u32..5) {
        let dom_field = dom.map(|d| d.to_string()).unwrap_or_else(|| "*".into());
        let dow_field = if dom.is_some() { "*".to_string() } else { dow.map(|d| format!("{d}")).unwrap_or_else(|| format!("*/{step}")) };
        let text = format!("{min} {hour} {dom_field} * {dow_field}");
        let schedule = tcrl::runner::schedule::Schedule::parse(&text, Some("Asia/Shanghai"));
        prop_assert!(schedule.is_ok(), "{}: {:?}", text, schedule.err());
    }

    /// Every TCR timestamp format parses back to the instant it was made from.
    #[test]
    fn timestamps_round_trip(ts in 0i64..4_000_000_000, style in 0usize..5) {
        let t = chrono::DateTime::from_timestamp(ts, 0).unwrap();
        let shanghai = t + chrono::Duration::hours(8);
        let text = match style {
            0 => t.format("%Y-%m-%d %H:%M:%S").to_string(),
            1 => t.format("%Y-%m-%d %H:%M:%S.123456 +0000 UTC").to_string(),
            2 => t.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            3 => shanghai.format("%Y-%m-%dT%H:%M:%S+08:00").to_string(),
            _ => shanghai.format("%Y-%m-%d %H:%M:%S +0800 CST").to_string(),
        };
        prop_assert_eq!(tcrl::lua::time::parse_timestamp(&text), Ok(ts));
    }

    /// Any string given as a timestamp is parsed or refused; never a panic.
    #[test]
    fn timestamp_parsing_never_panics(text in "\\PC{0,40}") {
        let _ = tcrl::lua::time::parse_timestamp(&text);
    }
}
