//! Every signing vector computed by Tencent's own Python SDK (and Tencent's documentation
//! examples), reproduced stage by stage with tcrl's signer. One test per case; the data lives in
//! `tests/data/` (copied from the project's shared data so the tests stand alone).

use std::collections::BTreeMap;

use serde_json::Value;
use tcrl::sign::{hmac_v1, sha256_hex, tc3, SignMethod};

fn load(file: &str, name: &str) -> Value {
    let path = format!("{}/tests/data/{file}", env!("CARGO_MANIFEST_DIR"));
    let data: Value = serde_json::from_str(&std::fs::read_to_string(&path).expect("vector file"))
        .expect("vector file is JSON");
    data["vectors"]
        .as_array()
        .expect("vectors list")
        .iter()
        .find(|v| v["name"] == name)
        .unwrap_or_else(|| panic!("no vector {name} in {file}"))
        .clone()
}

fn s(v: &Value) -> &str {
    v.as_str()
        .unwrap_or_else(|| panic!("expected a string, got {v}"))
}

fn string_map(v: &Value) -> BTreeMap<String, String> {
    v.as_object()
        .expect("object")
        .iter()
        .map(|(k, v)| {
            let text = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (k.clone(), text)
        })
        .collect()
}

/// A vector from `sign-vectors.json` (flat layout).
fn check_basic(name: &str) {
    let v = load("sign-vectors.json", name);
    let method: SignMethod = s(&v["sign_method"]).parse().unwrap();
    match method {
        SignMethod::Tc3 => {
            let parts = tc3::RequestParts {
                method: s(&v["http_method"]),
                path: s(&v["path"]),
                query: s(&v["query"]),
                headers: &[
                    ("content-type".into(), s(&v["content_type"]).into()),
                    ("host".into(), s(&v["host"]).into()),
                ],
                payload: s(&v["body"]).as_bytes(),
            };
            let sig = tc3::sign(
                &parts,
                s(&v["service"]),
                v["timestamp"].as_i64().unwrap(),
                s(&v["secret_id"]),
                s(&v["secret_key"]),
            );
            assert_eq!(
                sig.canonical_request.to_string(),
                s(&v["canonical_request"])
            );
            assert_eq!(sig.credential_scope, s(&v["credential_scope"]));
            assert_eq!(sig.string_to_sign.to_string(), s(&v["string_to_sign"]));
            assert_eq!(sig.signature, s(&v["signature"]));
            assert_eq!(sig.authorization, s(&v["authorization"]));
            assert_eq!(
                tc3::authorization(
                    &parts,
                    s(&v["service"]),
                    v["timestamp"].as_i64().unwrap(),
                    s(&v["secret_id"]),
                    s(&v["secret_key"]),
                ),
                sig.authorization,
                "the streamed signer agrees"
            );
            assert_eq!(sig.authorization, s(&v["headers"]["Authorization"]));
        }
        _ => {
            let params = string_map(&v["signed_params"]);
            let sts = hmac_v1::StringToSign::new(
                s(&v["http_method"]),
                s(&v["host"]),
                s(&v["path"]),
                &params,
            );
            assert_eq!(sts.to_string(), s(&v["string_to_sign"]));
            assert_eq!(
                hmac_v1::signature(method, s(&v["secret_key"]), &sts),
                s(&v["signature"])
            );
            assert_eq!(params["Signature"], s(&v["signature"]));
        }
    }
}

/// A vector from `sign-vectors-extra.json` (`inputs` / `intermediate` layout).
fn check_extra(name: &str) {
    let v = load("sign-vectors-extra.json", name);
    let (input, mid) = (&v["inputs"], &v["intermediate"]);
    let method: SignMethod = s(&input["sign_method"]).parse().unwrap();
    if method != SignMethod::Tc3 {
        let params = match mid.get("all_params_before_signature") {
            Some(p) => string_map(p),
            None => string_map(&input["params"]),
        };
        let sts = hmac_v1::StringToSign::new(
            s(&input["http_method"]),
            s(&input["host"]),
            s(&input["path"]),
            &params,
        );
        if let Some(sorted) = mid.get("sorted_param_string") {
            assert!(sts.to_string().ends_with(&format!("?{}", s(sorted))));
        }
        assert_eq!(sts.to_string(), s(&mid["string_to_sign"]));
        assert_eq!(
            hmac_v1::signature(method, s(&input["secret_key"]), &sts),
            s(&mid["signature"])
        );
        return;
    }
    let content_type = input
        .get("content_type")
        .or_else(|| mid.get("content_type"))
        .map(s)
        .expect("content type");
    let query = input
        .get("canonical_query_string")
        .or_else(|| mid.get("canonical_query_string"))
        .map(s)
        .unwrap_or("");
    let signed = input
        .get("signed_headers")
        .map(s)
        .unwrap_or("content-type;host");
    let headers = signed
        .split(';')
        .map(|h| {
            let value = match h {
                "content-type" => content_type,
                "host" => s(&input["host"]),
                "x-tc-action" => s(&input["action"]),
                other => panic!("vector signs an unexpected header {other}"),
            };
            (h.into(), value.into())
        })
        .collect::<Vec<_>>();
    let payload = s(&input["payload"]);
    let parts = tc3::RequestParts {
        method: s(&input["http_method"]),
        path: s(&input["path"]),
        query,
        headers: &headers,
        payload: payload.as_bytes(),
    };
    let timestamp = input["timestamp"].as_i64().unwrap();
    let secret_id = input.get("secret_id").map(s).unwrap_or("AKIDEXAMPLE");
    let sig = tc3::sign(
        &parts,
        s(&input["service"]),
        timestamp,
        secret_id,
        s(&input["secret_key"]),
    );
    assert_eq!(
        tc3::authorization(
            &parts,
            s(&input["service"]),
            timestamp,
            secret_id,
            s(&input["secret_key"])
        ),
        sig.authorization,
        "the streamed signer agrees"
    );
    assert_eq!(
        sha256_hex(payload.as_bytes()),
        s(&mid["hashed_request_payload"])
    );
    assert_eq!(
        sig.canonical_request.to_string(),
        s(&mid["canonical_request"])
    );
    assert_eq!(
        sha256_hex(sig.canonical_request.text.as_bytes()),
        s(&mid["hashed_canonical_request"])
    );
    assert_eq!(tc3::utc_date(timestamp), s(&mid["date"]));
    assert_eq!(sig.credential_scope, s(&mid["credential_scope"]));
    assert_eq!(sig.string_to_sign.to_string(), s(&mid["string_to_sign"]));
    assert_eq!(
        hex::encode(sig.keys.secret_date),
        s(&mid["secret_date_hex"])
    );
    assert_eq!(
        hex::encode(sig.keys.secret_service),
        s(&mid["secret_service_hex"])
    );
    assert_eq!(
        hex::encode(sig.keys.secret_signing),
        s(&mid["secret_signing_hex"])
    );
    assert_eq!(sig.signature, s(&mid["signature"]));
    if let Some(auth) = mid.get("authorization") {
        assert_eq!(sig.authorization, s(auth));
    }
}

macro_rules! vectors {
    ($check:ident: $($test:ident => $name:literal,)*) => {
        $(#[test] fn $test() { $check($name); })*
    };
}

vectors! { check_basic:
    sdk_tc3_post_json_describe_repositories => "tc3-post-json-describe-repositories",
    sdk_tc3_post_json_regional_with_token_and_unicode => "tc3-post-json-regional-with-token-and-unicode",
    sdk_tc3_post_json_nested_filters_financial => "tc3-post-json-nested-filters-financial",
    sdk_tc3_get_query => "tc3-get-query",
    sdk_tc3_post_other_service_cvm => "tc3-post-other-service-cvm",
    sdk_hmacsha256_get => "hmacsha256-get",
    sdk_hmacsha1_post_form_with_token => "hmacsha1-post-form-with-token",
    sdk_hmacsha256_post_form_nested_list => "hmacsha256-post-form-nested-list",
}

vectors! { check_extra:
    extra_tc3_post_json_tcr_describe_repositories => "tc3_post_json_tcr_describe_repositories",
    extra_tc3_post_json_with_session_token => "tc3_post_json_with_session_token",
    extra_tc3_get_query_string => "tc3_get_query_string",
    extra_v1_hmacsha256_get => "v1_hmacsha256_get",
    extra_v1_hmacsha1_post_form_with_token => "v1_hmacsha1_post_form_with_token",
    extra_tc3_post_compact_json_create_namespace => "tc3_post_compact_json_tcr_create_namespace",
    doc_v3_example_classic => "doc_signature_v3_example_classic",
    doc_v3_example_masked_key => "doc_signature_v3_example_masked_key",
    doc_v3_example_current_signs_x_tc_action => "doc_signature_v3_example_current_signs_x_tc_action",
    doc_v1_example_hmacsha1_get => "doc_signature_v1_example_hmacsha1_get",
}

#[test]
fn every_vector_in_the_files_has_a_test() {
    // Adding a vector to the data without a test above must fail here.
    let count = |file: &str| {
        let path = format!("{}/tests/data/{file}", env!("CARGO_MANIFEST_DIR"));
        let data: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        data["vectors"].as_array().unwrap().len()
    };
    assert_eq!(count("sign-vectors.json"), 8);
    assert_eq!(count("sign-vectors-extra.json"), 10);
}

/// The client's own request builder, fed the compact-JSON vector's inputs, sends exactly the
/// body and Authorization Tencent's SDK computed.
#[test]
fn client_prepare_matches_the_compact_json_vector() {
    use tcrl::api::client::prepare;
    use tcrl::api::{CallOptions, HttpMethod};
    use tcrl::credentials::Credentials;
    use tcrl::region::{Endpoint, Scheme};
    let v = load(
        "sign-vectors-extra.json",
        "tc3_post_compact_json_tcr_create_namespace",
    );
    let input = &v["inputs"];
    let params: Value = serde_json::from_str(s(&input["payload"])).unwrap();
    let opts = CallOptions {
        service: "tcr".into(),
        version: "2019-09-24".into(),
        region: "ap-guangzhou".into(),
        endpoint: Endpoint {
            scheme: Scheme::Https,
            host: s(&input["host"]).into(),
        },
        timeout: std::time::Duration::from_secs(5),
        sign_method: SignMethod::Tc3,
        http_method: HttpMethod::Post,
        language: None,
        retry: Default::default(),
    };
    let creds = Credentials::new(s(&input["secret_id"]), s(&input["secret_key"]), None);
    let req = prepare(
        "CreateNamespace",
        &params,
        &opts,
        &creds,
        input["timestamp"].as_i64().unwrap(),
        1,
    )
    .unwrap();
    assert_eq!(String::from_utf8(req.body).unwrap(), s(&input["payload"]));
    let auth = req
        .headers
        .iter()
        .find(|(n, _)| *n == "Authorization")
        .unwrap();
    assert_eq!(auth.1, s(&v["intermediate"]["authorization"]));
}
