//! `tcrl run` end to end: a script calls the emulator (which verifies every signature with the
//! project's signer), prints fields, handles errors; every bad input gets a precise error.

use crate::harness::Env;

#[test]
fn script_calls_an_action_and_prints_fields() {
    let env = Env::demo();
    let out = env.lua(
        r#"
        local r = tcr.call("DescribeInstances", {Limit = 10})
        print(r.TotalCount, r.Registries[1].RegistryId, r.Registries[1].RegionName, type(r.RequestId))
        "#,
    );
    assert_eq!(out.ok(), "1\ttcr-demo0001\tap-guangzhou\tstring\n");
    let seen = env.emulator().emulator.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(
        (seen[0].action.as_str(), seen[0].code.as_str()),
        ("DescribeInstances", "ok")
    );
    assert_eq!(seen[0].sign_method, "TC3-HMAC-SHA256");
}

#[test]
fn every_signature_family_and_method_reaches_the_emulator() {
    let env = Env::demo();
    let out = env.lua(
        r#"
        for _, m in ipairs({"TC3-HMAC-SHA256", "HmacSHA256", "HmacSHA1"}) do
          for _, h in ipairs({"POST", "GET"}) do
            local r = tcr.call("DescribeInstances",
              {Registryids = {"tcr-demo0001"}, Filters = {{Name = "RegistryName", Values = {"demo", "a b&c"}}}},
              {sign_method = m, http_method = h})
            print(m, h, r.TotalCount)
          end
        end
        "#,
    );
    let lines: Vec<&str> = out.ok().lines().collect();
    assert_eq!(lines.len(), 6);
    assert!(lines.iter().all(|l| l.ends_with("\t1")), "{lines:?}");
    let methods: Vec<String> = env
        .emulator()
        .emulator
        .requests()
        .iter()
        .map(|r| r.sign_method.clone())
        .collect();
    assert_eq!(
        methods,
        [
            "TC3-HMAC-SHA256",
            "TC3-HMAC-SHA256",
            "HmacSHA256",
            "HmacSHA256",
            "HmacSHA1",
            "HmacSHA1"
        ]
    );
}

#[test]
fn uncaught_api_error_shows_code_message_request_id_and_line() {
    let env = Env::demo();
    let out = env.lua(
        "\n\nlocal r = tcr.call('DescribeImages', {RegistryId = 'tcr-demo0001', NamespaceName = 'team-a', RepositoryName = 'missing'})\n",
    );
    let err = out.fails(1);
    let request_id = &env.emulator().emulator.requests()[0].request_id;
    assert!(err.contains("test.lua:3: DescribeImages: ResourceNotFound: Repository `team-a/missing` does not exist."), "{err}");
    assert!(err.contains(&format!("(request {request_id})")), "{err}");
}

#[test]
fn caught_api_error_exposes_fields() {
    let env = Env::demo();
    let out = env.lua(
        r#"
        local ok, err = pcall(tcr.call, "DeleteImage", {RegistryId = "tcr-demo0001", NamespaceName = "team-a", RepositoryName = "web", ImageVersion = "nope"})
        print(ok, err.code, err.action, err.region, #err.request_id, tcr.is_error(err))
        print(err.message)
        "#,
    );
    assert_eq!(out.ok(), "false\tResourceNotFound\tDeleteImage\tap-guangzhou\t36\ttrue\nImage version `nope` does not exist.\n");
}

#[test]
fn client_objects_bind_options_and_tcr_module_basics_work() {
    let env = Env::demo();
    let out = env.lua(
        r#"
        local c = tcr.client({region = "ap-guangzhou", sign_method = "HmacSHA256"})
        print(c:call("DescribeInstances").TotalCount)
        local same = require("tcr")
        print(same == tcr, tcr.region, tcr.endpoint("ap-guangzhou") ~= nil)
        local decoded = tcr.json.decode('{"a": null, "b": [1, 2.5, "x"], "c": {}}')
        print(decoded.a == tcr.null, decoded.b[1], decoded.b[2], math.type(decoded.b[1]))
        print(tcr.json.encode({x = {1, 2}, y = tcr.null, z = true}))
        tcr.sleep(0.01)
        "#,
    );
    assert_eq!(
        out.ok(),
        "1\ntrue\tap-guangzhou\ttrue\ntrue\t1\t2.5\tinteger\n{\"x\":[1,2],\"y\":null,\"z\":true}\n"
    );
    assert_eq!(
        env.emulator().emulator.requests()[0].sign_method,
        "HmacSHA256"
    );
}

#[test]
fn args_reach_the_script_as_strings() {
    let env = Env::demo();
    let path = env.script(
        "args.lua",
        "print(tcr.args.keep, type(tcr.args.keep), tcr.args.name, tcr.args.missing)",
    );
    let out = env.run_demo(&path, &["--arg", "keep=20", "--arg", "name=a=b"]);
    assert_eq!(out.ok(), "20\tstring\ta=b\tnil\n");
}

#[test]
fn regions_script_needs_no_network_or_credentials() {
    let env = Env::offline();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/regions.lua");
    let out = crate::harness::Run::of(env.tcrl().args(["run", script]));
    let text = out.ok();
    assert!(text.contains("ap-guangzhou"), "{text}");
    assert!(text.contains("South China (Guangzhou)"), "{text}");
    assert!(
        text.contains("tcr.ap-shenzhen-fsi.tencentcloudapi.com"),
        "{text}"
    );
    // 18 region rows plus the closing line naming the default endpoint.
    assert_eq!(text.matches("tencentcloudapi.com").count(), 19, "{text}");
}

#[test]
fn endpoint_and_regions_follow_the_documented_rules() {
    let env = Env::offline();
    let path = env.script(
        "ep.lua",
        r#"
        print(tcr.endpoint())
        print(tcr.endpoint("ap-shanghai-fsi"))
        print(tcr.endpoint("ap-tokyo", "cvm"))
        local n, fsi = 0, 0
        for _, r in ipairs(tcr.regions()) do n = n + 1 if r.financial then fsi = fsi + 1 end end
        print(n, fsi)
        "#,
    );
    let out = crate::harness::Run::of(env.tcrl().args(["run"]).arg(&path));
    assert_eq!(
        out.ok(),
        "tcr.intl.tencentcloudapi.com\ntcr.ap-shanghai-fsi.tencentcloudapi.com\ncvm.intl.tencentcloudapi.com\n18\t2\n"
    );
    let china = crate::harness::Run::of(
        env.tcrl()
            .args(["run", "--root-domain", "tencentcloudapi.com"])
            .arg(&path),
    );
    assert!(china.ok().starts_with("tcr.tencentcloudapi.com\n"));
}

/// Each bad input: the error names what is wrong and where, and nothing is sent.
#[test]
fn bad_inputs_get_precise_errors() {
    let env = Env::demo();
    let cases: &[(&str, &str)] = &[
        (r#"tcr.call("DescribeImages", {RegistryId = "\xff\xfe"})"#, "test.lua:1: DescribeImages: Client.InvalidParameter: parameter RegistryId: string is not valid UTF-8"),
        (r#"tcr.call("DescribeImages", {Limit = 0/0})"#, "parameter Limit: number"),
        (r#"tcr.call("DescribeImages", {F = print})"#, "parameter F: cannot send a function as a parameter"),
        (r#"local t = {} t[1] = t tcr.call("DescribeImages", {L = t})"#, "parameter L[1]: table refers to itself (cycle)"),
        (r#"tcr.call("DescribeImages", {L = {1, x = 2}})"#, "parameter L: table mixes list items and named fields"),
        (r#"tcr.call(42)"#, "tcr.call: Client.InvalidParameter: parameter action: expected an action name string, got integer"),
        (r#"tcr.call("DescribeRepositorys")"#, "not an action of tcr 2019-09-24 (did you mean DescribeRepositories?)"),
        (r#"tcr.call("DescribeInstances", {}, {region = "ap-guangzou"})"#, "unknown region \"ap-guangzou\" (did you mean ap-guangzhou?)"),
        (r#"tcr.call("DescribeInstances", {}, {regoin = "x"})"#, "parameter opts.regoin: unknown option (did you mean region?)"),
        (r#"tcr.call("DescribeInstances", {}, {sign_method = "MD5"})"#, "parameter opts.sign_method: unknown sign_method \"MD5\""),
        (r#"tcr.call("DescribeInstances", {}, {region = "ap-shanghai-fsi"})"#, "region ap-shanghai-fsi is a financial zone and must use its own domain"),
        (r#"tcr.call("DescribeInstances", {}, {endpoint = "http://10.1.2.3"})"#, "plain http is only allowed for loopback addresses"),
        (r#"tcr.call("CreateNamespace", {RegistryId = string.rep("x", 1100000)}, {sign_method = "HmacSHA256"})"#, "exceeds the 1048576 byte limit for HmacSHA1/HmacSHA256 POST"),
        (r#"tcr.call("DescribeImages", {RegistryId = string.rep("x", 40000)}, {http_method = "GET"})"#, "exceeds the 32768 byte limit for GET requests"),
        (r#"tcr.call("CreateNamespace", {RegistryId = string.rep("x", 11 * 1024 * 1024)})"#, "exceeds the 10485760 byte limit for TC3-HMAC-SHA256 POST"),
        (r#"tcr.call("DescribeInstances", {}, {service = "cvm"})"#, "service cvm needs a version too"),
        ("local x = 1\nerror({})", "test.lua:2: (error object is a table value)"),
        ("error(nil)", "test.lua:1: (error object is a nil value)"),
    ];
    for (code, expected) in cases {
        let out = env.lua(code);
        let err = out.fails(1);
        assert!(
            err.contains(expected),
            "script {code}\nexpected {expected:?} in:\n{err}"
        );
        assert!(!err.contains("panicked"), "{err}");
    }
    assert!(
        env.emulator().emulator.requests().is_empty(),
        "a bad input reached the server"
    );
}

#[test]
fn response_that_is_not_json_is_quoted() {
    let env = Env::offline();
    // A plain HTTP server that answers every request with HTML.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        use std::io::{Read, Write};
        for stream in listener.incoming().take(1) {
            let mut s = stream.unwrap();
            let mut buf = [0u8; 65536];
            let _ = s.read(&mut buf);
            let body = "<html>502 Bad Gateway</html>";
            let _ = write!(
                s,
                "HTTP/1.1 502 Bad Gateway\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    let path = env.script("t.lua", r#"tcr.call("DescribeInstances")"#);
    let out = crate::harness::Run::of(
        env.tcrl()
            .args(["run"])
            .arg(&path)
            .args(["--endpoint", &format!("http://{addr}"), "--retries", "0"])
            .env("TENCENTCLOUD_SECRET_ID", "id")
            .env("TENCENTCLOUD_SECRET_KEY", "key"),
    );
    let err = out.fails(1);
    assert!(
        err.contains("Client.BadResponse")
            && err.contains("HTTP 502")
            && err.contains("<html>502 Bad Gateway</html>"),
        "{err}"
    );
}

#[test]
fn usage_and_configuration_errors_exit_2() {
    let env = Env::offline();
    let path = env.script("t.lua", "print(1)");
    let run = |args: &[&str]| crate::harness::Run::of(env.tcrl().arg("run").arg(&path).args(args));
    assert!(run(&["--region", "mars-1"])
        .fails(2)
        .contains("unknown region \"mars-1\""));
    assert!(run(&["--endpoint", "http://192.0.2.1"])
        .fails(2)
        .contains("--insecure-http"));
    run(&["--endpoint", "http://192.0.2.1", "--insecure-http"]).ok();
    assert!(run(&["--arg", "novalue"])
        .fails(2)
        .contains("expected KEY=VALUE"));
    assert!(
        crate::harness::Run::of(env.tcrl().args(["run", "missing.lua"]))
            .fails(1)
            .contains("missing.lua")
    );
}

#[test]
fn syntax_and_runtime_errors_carry_file_and_line() {
    let env = Env::offline();
    let bad = env.script("bad.lua", "local x = \nprint(");
    let out = crate::harness::Run::of(env.tcrl().arg("run").arg(&bad));
    assert!(out.fails(1).contains("bad.lua:2:"), "{}", out.stderr);
    let boom = env.script("boom.lua", "local t = nil\nprint(t.x)");
    let out = crate::harness::Run::of(env.tcrl().arg("run").arg(&boom));
    assert!(
        out.fails(1)
            .contains("boom.lua:2: attempt to index a nil value"),
        "{}",
        out.stderr
    );
}

#[test]
fn json_log_format_writes_json_lines() {
    let env = Env::demo();
    let path = env.script(
        "log.lua",
        r#"tcr.log.info("hello", {n = 1}) tcr.call("DescribeInstances")"#,
    );
    let out = env.run_demo(&path, &["--log-format", "json", "-v"]);
    out.ok();
    let lines: Vec<serde_json::Value> = out
        .stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not JSON: {l}")))
        .collect();
    assert!(
        lines.iter().any(|l| l["fields"]["message"] == "hello"),
        "{}",
        out.stderr
    );
    assert!(
        lines
            .iter()
            .any(|l| l["fields"]["action"] == "DescribeInstances"),
        "{}",
        out.stderr
    );
}

#[test]
fn sign_returns_a_request_that_works_when_sent_by_another_client() {
    let env = Env::demo();
    let out = env.lua(
        r#"
        local req = tcr.sign({action = "DescribeNamespaces", params = {RegistryId = "tcr-demo0001"}})
        print(req.method) print(req.url) print(req.body)
        for _, k in ipairs({"Authorization", "Host", "X-TC-Action", "X-TC-Timestamp", "X-TC-Version", "X-TC-Region", "Content-Type"}) do
          print(k .. ": " .. req.headers[k])
        end
        "#,
    );
    let text = out.ok().to_string();
    let mut lines = text.lines();
    let (method, url, body) = (
        lines.next().unwrap(),
        lines.next().unwrap(),
        lines.next().unwrap(),
    );
    assert_eq!(method, "POST");
    let headers: Vec<(String, String)> = lines
        .map(|l| {
            let (k, v) = l.split_once(": ").unwrap();
            (k.to_string(), v.to_string())
        })
        .collect();
    let response: serde_json::Value = env.rt.block_on(async {
        let mut req = tcrl::http_client_builder()
            .build()
            .unwrap()
            .post(url)
            .body(body.to_string());
        for (k, v) in &headers {
            req = req.header(k, v);
        }
        req.send().await.unwrap().json().await.unwrap()
    });
    assert_eq!(response["Response"]["TotalCount"], 4, "{response}");
}
