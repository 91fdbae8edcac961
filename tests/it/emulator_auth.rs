//! The emulator authenticates like the service: every AuthFailure path, request limits, UTF-8,
//! the financial-zone rule, unusual Host headers, any SignedHeaders list, and the exact
//! `application/json` content type on errors.

use serde_json::{json, Value};
use tcrl::api::client::prepare;
use tcrl::api::HttpMethod;
use tcrl::credentials::Credentials;
use tcrl::emulator::{demo, Options};
use tcrl::sign::{tc3, SignMethod};

use crate::harness::{Env, ANCHOR};

/// Send raw bytes with raw headers; return the content type and the JSON answer.
fn send(
    env: &Env,
    method: &str,
    query: &str,
    headers: &[(String, String)],
    body: Vec<u8>,
) -> (String, Value) {
    env.rt.block_on(async {
        let url = format!(
            "{}/{}{query}",
            env.endpoint(),
            if query.is_empty() { "" } else { "?" }
        );
        let client = tcrl::http_client_builder().build().unwrap();
        let mut req = client.request(method.parse().unwrap(), url).body(body);
        for (k, v) in headers {
            req = req.header(k, v);
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), 200);
        let ct = resp.headers()["content-type"].to_str().unwrap().to_string();
        (ct, resp.json().await.unwrap())
    })
}

fn code(answer: &Value) -> &str {
    answer["Response"]["Error"]["Code"].as_str().unwrap_or("ok")
}

/// A correctly signed TC3 request as the project's client would send it, for tampering.
fn signed(
    env: &Env,
    action: &str,
    params: Value,
    creds: &Credentials,
    timestamp: i64,
) -> (Vec<(String, String)>, Vec<u8>) {
    let opts = env.call_options(SignMethod::Tc3, HttpMethod::Post);
    let req = prepare(action, &params, &opts, creds, timestamp, 1).unwrap();
    let headers = req.headers.into_iter().map(|(n, v)| (n.to_string(), v));
    (headers.collect(), req.body)
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

#[test]
fn auth_failures_have_the_service_codes() {
    let env = Env::demo();
    let demo = tcrl::emulator::demo_credentials();
    let params = json!({"Limit": 1});
    let (headers, body) = signed(&env, "DescribeInstances", params.clone(), &demo, now());
    let (ct, ok) = send(&env, "POST", "", &headers, body.clone());
    assert_eq!((code(&ok), ct.as_str()), ("ok", "application/json"));

    let unknown = Credentials::new("AKIDnobody000000", "whatever-key", None);
    let (h, b) = signed(&env, "DescribeInstances", params.clone(), &unknown, now());
    assert_eq!(
        code(&send(&env, "POST", "", &h, b).1),
        "AuthFailure.SecretIdNotFound"
    );

    let wrong_key = Credentials::new(tcrl::emulator::DEMO_SECRET_ID, "wrong-key-000000", None);
    let (h, b) = signed(&env, "DescribeInstances", params.clone(), &wrong_key, now());
    let (ct, answer) = send(&env, "POST", "", &h, b);
    assert_eq!(
        (code(&answer), ct.as_str()),
        ("AuthFailure.SignatureFailure", "application/json")
    );
    assert!(answer["Response"]["RequestId"].as_str().unwrap().len() == 36);

    // A body changed after signing.
    let (ct, answer) = send(&env, "POST", "", &headers, br#"{"Limit":2}"#.to_vec());
    assert_eq!(
        (code(&answer), ct.as_str()),
        ("AuthFailure.SignatureFailure", "application/json")
    );

    let (h, b) = signed(
        &env,
        "DescribeInstances",
        params.clone(),
        &demo,
        now() - 301,
    );
    assert_eq!(
        code(&send(&env, "POST", "", &h, b).1),
        "AuthFailure.SignatureExpire"
    );
    let (h, b) = signed(
        &env,
        "DescribeInstances",
        params.clone(),
        &demo,
        now() + 3600,
    );
    assert_eq!(
        code(&send(&env, "POST", "", &h, b).1),
        "AuthFailure.SignatureExpire"
    );

    for garbled in [
        "Bearer abc",
        "TC3-HMAC-SHA256 Credential=x",
        "TC3-HMAC-SHA256 Credential=a/b/c/tc3_request, SignedHeaders=host, Signature=zz",
    ] {
        let mut h = headers.clone();
        h.retain(|(k, _)| k != "Authorization");
        h.push(("Authorization".into(), garbled.into()));
        assert_eq!(
            code(&send(&env, "POST", "", &h, body.clone()).1),
            "AuthFailure.InvalidAuthorization",
            "{garbled}"
        );
    }
    // No Authorization header and no v1 Signature at all.
    let bare: Vec<(String, String)> = vec![("Content-Type".into(), "application/json".into())];
    assert_eq!(
        code(&send(&env, "POST", "", &bare, b"{}".to_vec()).1),
        "AuthFailure.InvalidAuthorization"
    );
}

#[test]
fn session_tokens_are_checked_when_configured() {
    let with_token = Credentials::new(
        "AKIDtoken0000000",
        "token-key-00000",
        Some("the-session-token"),
    );
    let env = Env::with(
        demo::demo(ANCHOR),
        Options {
            accounts: vec![with_token.clone()],
            ..Default::default()
        },
    );
    let (h, b) = signed(&env, "DescribeInstances", json!({}), &with_token, now());
    assert_eq!(code(&send(&env, "POST", "", &h, b).1), "ok");
    let no_token = Credentials::new("AKIDtoken0000000", "token-key-00000", None);
    let (h, b) = signed(&env, "DescribeInstances", json!({}), &no_token, now());
    assert_eq!(
        code(&send(&env, "POST", "", &h, b).1),
        "AuthFailure.TokenFailure"
    );
}

#[test]
fn action_version_region_and_parameter_errors() {
    let env = Env::demo();
    assert_eq!(
        env.error_code("DescribeNothing", json!({})).0,
        "InvalidAction"
    );
    assert_eq!(
        env.error_code(
            "CreateInstance",
            json!({"RegistryName": "x", "RegistryType": "basic"})
        )
        .0,
        "UnsupportedOperation"
    );
    let (c, m) = env.error_code(
        "DescribeImages",
        json!({"RegistryId": "tcr-demo0001", "NamespaceName": "team-a"}),
    );
    assert_eq!(
        (c.as_str(), m.as_str()),
        (
            "MissingParameter",
            "The request is missing a required parameter `RepositoryName`."
        )
    );
    let (c, m) = env.error_code("DescribeInstances", json!({"Limit": "ten"}));
    assert_eq!(c, "InvalidParameter");
    assert!(m.contains("`Limit`"), "{m}");
    let (c, m) = env.error_code(
        "DescribeInstances",
        json!({"Filters": [{"Name": "RegistryName", "Values": "demo"}]}),
    );
    assert_eq!(c, "InvalidParameter");
    assert!(m.contains("`Filters.0.Values`"), "{m}");
    assert_eq!(
        env.error_code("DescribeInstances", json!({"Bogus": 1})).0,
        "UnknownParameter"
    );
    assert_eq!(
        env.error_code(
            "DescribeRepositories",
            json!({"RegistryId": "tcr-demo0001", "Limit": 101})
        )
        .0,
        "InvalidParameterValue"
    );

    let demo = tcrl::emulator::demo_credentials();
    let (mut h, b) = signed(&env, "DescribeInstances", json!({}), &demo, now());
    for (k, v) in h.iter_mut() {
        if k == "X-TC-Version" {
            *v = "2017-03-12".into();
        }
    }
    // The version header is not signed, so the signature still verifies.
    assert_eq!(
        code(&send(&env, "POST", "", &h, b.clone()).1),
        "NoSuchVersion"
    );
    let (mut h, b) = signed(&env, "DescribeInstances", json!({}), &demo, now());
    for (k, v) in h.iter_mut() {
        if k == "X-TC-Region" {
            *v = "mars-north-1".into();
        }
    }
    assert_eq!(code(&send(&env, "POST", "", &h, b).1), "UnsupportedRegion");
}

#[test]
fn financial_region_is_refused_unless_it_arrives_on_its_own_domain() {
    let env = Env::demo();
    let demo = tcrl::emulator::demo_credentials();
    let addr = env.emulator().addr;
    let ask = |host: &str| -> Value {
        let mut opts = env.call_options(SignMethod::Tc3, HttpMethod::Post);
        opts.region = "ap-shanghai-fsi".into();
        opts.endpoint = tcrl::region::Endpoint {
            scheme: tcrl::region::Scheme::Http,
            host: host.into(),
        };
        let req = prepare("DescribeInstances", &json!({}), &opts, &demo, now(), 1).unwrap();
        env.rt.block_on(async {
            let name = host.split(':').next().unwrap();
            let client = tcrl::http_client_builder()
                .resolve(name, addr)
                .build()
                .unwrap();
            let mut r = client.post(format!("http://{host}/")).body(req.body);
            for (k, v) in &req.headers {
                r = r.header(*k, v);
            }
            r.send().await.unwrap().json().await.unwrap()
        })
    };
    let port = addr.port();
    assert_eq!(
        code(&ask(&format!(
            "tcr.ap-shanghai-fsi.tencentcloudapi.com:{port}"
        ))),
        "ok"
    );
    let refused = ask(&format!("tcr.tencentcloudapi.com:{port}"));
    assert_eq!(code(&refused), "UnsupportedRegion");
    assert!(refused["Response"]["Error"]["Message"]
        .as_str()
        .unwrap()
        .contains("financial"));
}

#[test]
fn size_limits_and_utf8_are_enforced_before_authentication() {
    let env = Env::demo();
    let ct = |v: &str| vec![("Content-Type".to_string(), v.to_string())];
    let big_query = format!("Action=DescribeInstances&X={}", "a".repeat(33 * 1024));
    assert_eq!(
        code(&send(&env, "GET", &big_query, &[], vec![]).1),
        "RequestSizeLimitExceeded"
    );
    let big_form =
        format!("Action=DescribeInstances&X={}", "a".repeat(1024 * 1024 + 1)).into_bytes();
    assert_eq!(
        code(
            &send(
                &env,
                "POST",
                "",
                &ct("application/x-www-form-urlencoded"),
                big_form
            )
            .1
        ),
        "RequestSizeLimitExceeded"
    );
    let mut tc3_headers = ct("application/json");
    tc3_headers.push((
        "Authorization".into(),
        "TC3-HMAC-SHA256 Credential=a/b/c/tc3_request, SignedHeaders=host, Signature=ab".into(),
    ));
    let big_json = vec![b' '; 10 * 1024 * 1024 + 1];
    assert_eq!(
        code(&send(&env, "POST", "", &tc3_headers, big_json).1),
        "RequestSizeLimitExceeded"
    );
    // Just under the v1 limit is fine as far as size goes (it fails on the signature instead).
    let near = format!("Action=DescribeInstances&X={}", "a".repeat(1000 * 1000)).into_bytes();
    assert_ne!(
        code(
            &send(
                &env,
                "POST",
                "",
                &ct("application/x-www-form-urlencoded"),
                near
            )
            .1
        ),
        "RequestSizeLimitExceeded"
    );
    let (_, answer) = send(
        &env,
        "POST",
        "",
        &tc3_headers,
        b"{\"X\": \"\xff\"}".to_vec(),
    );
    assert_eq!(code(&answer), "InvalidParameter");
    assert!(answer["Response"]["Error"]["Message"]
        .as_str()
        .unwrap()
        .contains("UTF-8"));
}

#[test]
fn host_header_is_verified_exactly_as_received() {
    let env = Env::demo();
    let demo = tcrl::emulator::demo_credentials();
    // A client that puts a scheme in Host (seen in the wild) and signs that value.
    let host = format!("http://{}", env.emulator().addr);
    let body = br#"{"Limit":1}"#.to_vec();
    let ts = now();
    let parts = tc3::RequestParts {
        method: "POST",
        path: "/",
        query: "",
        headers: &[
            ("content-type".into(), "application/json".into()),
            ("host".into(), host.as_str().into()),
        ],
        payload: &body,
    };
    let canonical = tc3::CanonicalRequest::build(&parts, false);
    let sig = tc3::sign_canonical(
        canonical,
        "tcr",
        ts,
        &demo.secret_id,
        demo.secret_key.expose(),
    );
    let headers = vec![
        ("Authorization".to_string(), sig.authorization),
        ("Content-Type".to_string(), "application/json".to_string()),
        ("Host".to_string(), host),
        ("X-TC-Action".to_string(), "DescribeInstances".to_string()),
        ("X-TC-Timestamp".to_string(), ts.to_string()),
        ("X-TC-Version".to_string(), "2019-09-24".to_string()),
        ("X-TC-Region".to_string(), "ap-guangzhou".to_string()),
    ];
    assert_eq!(code(&send(&env, "POST", "", &headers, body).1), "ok");
}

#[test]
fn any_signed_headers_list_is_verified() {
    let env = Env::demo();
    let demo = tcrl::emulator::demo_credentials();
    let host = env.emulator().addr.to_string();
    let body = br#"{}"#.to_vec();
    let ts = now();
    // Tencent's current documentation: x-tc-action signed too, its value lowercased.
    let parts = tc3::RequestParts {
        method: "POST",
        path: "/",
        query: "",
        headers: &[
            (
                "content-type".into(),
                "application/json; charset=utf-8".into(),
            ),
            ("host".into(), host.as_str().into()),
            ("x-tc-action".into(), "DescribeInstances".into()),
        ],
        payload: &body,
    };
    let sig = tc3::sign(&parts, "tcr", ts, &demo.secret_id, demo.secret_key.expose());
    assert!(sig
        .authorization
        .contains("SignedHeaders=content-type;host;x-tc-action"));
    let headers = vec![
        ("Authorization".to_string(), sig.authorization),
        (
            "Content-Type".to_string(),
            "application/json; charset=utf-8".to_string(),
        ),
        ("X-TC-Action".to_string(), "DescribeInstances".to_string()),
        ("X-TC-Timestamp".to_string(), ts.to_string()),
        ("X-TC-Version".to_string(), "2019-09-24".to_string()),
        ("X-TC-Region".to_string(), "ap-guangzhou".to_string()),
    ];
    assert_eq!(code(&send(&env, "POST", "", &headers, body).1), "ok");
}

#[test]
fn v1_without_signature_method_means_hmacsha1() {
    let env = Env::demo();
    let demo = tcrl::emulator::demo_credentials();
    let host = env.emulator().addr.to_string();
    let mut params: std::collections::BTreeMap<String, String> = [
        ("Action", "DescribeInstances"),
        ("Region", "ap-guangzhou"),
        ("Version", "2019-09-24"),
        ("Nonce", "11886"),
        ("SecretId", tcrl::emulator::DEMO_SECRET_ID),
        ("Registryids.0", "tcr-demo0001"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    params.insert("Timestamp".into(), now().to_string());
    let sts = tcrl::sign::hmac_v1::StringToSign::new("GET", &host, "/", &params);
    params.insert(
        "Signature".into(),
        tcrl::sign::hmac_v1::signature(SignMethod::HmacSha1, demo.secret_key.expose(), &sts),
    );
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&params)
        .finish();
    let (_, answer) = send(&env, "GET", &query, &[], vec![]);
    assert_eq!(answer["Response"]["TotalCount"], 1, "{answer}");
}
