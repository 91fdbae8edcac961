//! `tcr.pages` / `tcr.paginate` / `tcr.collect` / `tcr.map` through the binary against the
//! emulator: every paged action at several page sizes, stop conditions, retries, rate limits,
//! concurrency and clock skew.

use std::collections::BTreeMap;

use serde_json::Value;
use tcrl::emulator::store::Instance;
use tcrl::emulator::{demo, Options};

use crate::harness::{Env, Run, ANCHOR};

/// Run `code` against the emulator with the demo key and extra flags.
fn lua(env: &Env, code: &str, flags: &[&str]) -> Run {
    let path = env.script("p.lua", code);
    env.run_demo(&path, flags)
}

/// For each page size, `tcr.collect` the action and return the `key` field of every item.
fn collect_keys(
    env: &Env,
    action: &str,
    params: &str,
    key: &str,
    sizes: &[i64],
) -> BTreeMap<i64, Vec<String>> {
    let sizes_lua = sizes
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let code = format!(
        r#"
        local out = {{}}
        for _, size in ipairs({{{sizes_lua}}}) do
          local keys = {{}}
          for _, item in ipairs(tcr.collect("{action}", {params}, {{page_size = size}})) do
            keys[#keys + 1] = tostring(item.{key})
          end
          out[tostring(size)] = keys
        end
        print(tcr.json.encode(out))
        "#
    );
    let out = lua(env, &code, &["--rate-limit", "0"]);
    let parsed: BTreeMap<String, Vec<String>> = serde_json::from_str(out.ok().trim()).unwrap();
    parsed
        .into_iter()
        .map(|(k, v)| (k.parse().unwrap(), v))
        .collect()
}

fn requests_for(env: &Env, action: &str) -> Vec<tcrl::emulator::RequestRecord> {
    env.emulator()
        .emulator
        .requests()
        .into_iter()
        .filter(|r| r.action == action)
        .collect()
}

#[track_caller]
fn assert_same_set(got: &[String], want: &[String]) {
    let set: std::collections::BTreeSet<&String> = got.iter().collect();
    assert_eq!(set.len(), got.len(), "an item was repeated: {got:?}");
    let mut g = got.to_vec();
    let mut w = want.to_vec();
    g.sort();
    w.sort();
    assert_eq!(g, w, "items skipped or invented");
}

#[test]
fn every_paged_action_collects_exactly_the_emulator_state_at_sizes_1_7_and_max() {
    let mut store = demo::demo(ANCHOR);
    let template = store.instances[0].clone();
    for i in 1..9 {
        store.instances.push(Instance {
            id: format!("tcr-extra{i:03}"),
            name: format!("extra{i}"),
            ..template.clone()
        });
    }
    let env = Env::with(store, Options::default());
    let state = env.emulator().emulator.snapshot();
    let demo_instance = &state.instances[0];
    // Retention rules on every namespace and five executions of the sandbox rule.
    let setup = r#"
        for _, ns in ipairs(tcr.collect("DescribeNamespaces", {RegistryId = "tcr-demo0001"})) do
          tcr.call("CreateTagRetentionRule", {RegistryId = "tcr-demo0001", NamespaceId = ns.NamespaceId, CronSetting = "manual", RetentionRule = {Key = "latestPushedK", Value = 100}})
        end
        local rule
        for r in tcr.paginate("DescribeTagRetentionRules", {RegistryId = "tcr-demo0001"}) do
          if r.NamespaceName == "sandbox" then rule = r.RetentionId end
        end
        for i = 1, 5 do tcr.call("CreateTagRetentionExecution", {RegistryId = "tcr-demo0001", RetentionId = rule, DryRun = true}) end
        print(rule)
    "#;
    let rule: i64 = lua(&env, setup, &["--rate-limit", "0"])
        .ok()
        .trim()
        .parse()
        .unwrap();
    let after_setup = env.emulator().emulator.snapshot();
    let executions: Vec<String> = after_setup.instances[0]
        .executions
        .iter()
        .filter(|e| e.retention_id == rule)
        .map(|e| e.id.to_string())
        .collect();
    assert_eq!(executions.len(), 5);
    let execution = &executions[0];

    let instance_ids: Vec<String> = state.instances.iter().map(|i| i.id.clone()).collect();
    let namespaces: Vec<String> = demo_instance.namespaces.keys().cloned().collect();
    let repositories: Vec<String> = demo_instance
        .namespaces
        .iter()
        .flat_map(|(ns, n)| n.repositories.keys().map(move |r| format!("{ns}/{r}")))
        .collect();
    let web_tags: Vec<String> = demo_instance.namespaces["team-a"].repositories["web"]
        .tags
        .iter()
        .map(|t| t.name.clone())
        .collect();
    let sandbox_repos: Vec<String> = demo_instance.namespaces["sandbox"]
        .repositories
        .keys()
        .cloned()
        .collect();
    let rule_namespaces = namespaces.clone();
    let cases: Vec<(&str, String, &str, Vec<String>, i64)> = vec![
        (
            "DescribeInstances",
            "{}".into(),
            "RegistryId",
            instance_ids,
            100,
        ),
        (
            "DescribeNamespaces",
            r#"{RegistryId = "tcr-demo0001"}"#.into(),
            "Name",
            namespaces,
            20,
        ),
        (
            "DescribeRepositories",
            r#"{RegistryId = "tcr-demo0001"}"#.into(),
            "Name",
            repositories,
            100,
        ),
        (
            "DescribeImages",
            r#"{RegistryId = "tcr-demo0001", NamespaceName = "team-a", RepositoryName = "web"}"#
                .into(),
            "ImageVersion",
            web_tags.clone(),
            20,
        ),
        (
            "DescribeTagRetentionRules",
            r#"{RegistryId = "tcr-demo0001"}"#.into(),
            "NamespaceName",
            rule_namespaces,
            20,
        ),
        (
            "DescribeTagRetentionExecution",
            format!(r#"{{RegistryId = "tcr-demo0001", RetentionId = {rule}}}"#),
            "ExecutionId",
            executions.clone(),
            20,
        ),
        (
            "DescribeTagRetentionExecutionTask",
            format!(
                r#"{{RegistryId = "tcr-demo0001", RetentionId = {rule}, ExecutionId = {execution}}}"#
            ),
            "Repository",
            sandbox_repos,
            100,
        ),
        (
            "DescribeImagePersonal",
            r#"{RepoName = "team-a/web"}"#.into(),
            "TagName",
            web_tags,
            100,
        ),
    ];
    for (action, params, key, want, max) in cases {
        let rule_row = tcrl::api::paginate::rule(action).unwrap();
        assert_eq!(
            rule_row.preferred_size(),
            max,
            "{action}: documented page size"
        );
        let before = requests_for(&env, action).len();
        let got = collect_keys(&env, action, &params, key, &[1, 7, max]);
        for keys in got.values() {
            assert_same_set(keys, &want);
        }
        // Page size 1 needs one request per item: at least three pages for every action.
        let requests = requests_for(&env, action).len() - before;
        assert!(requests >= 3 + 2, "{action}: {requests} requests");
        assert!(
            requests_for(&env, action).iter().all(|r| r.code == "ok"),
            "{action}"
        );
    }
}

/// A server that serves fewer items per page than asked (while its total says more remain)
/// must not make the helpers stop after the first page or skip items: they page on with the
/// size the server uses, and say so.
#[test]
fn a_server_capping_page_size_below_the_request_loses_no_items() {
    let images =
        r#"{RegistryId = "tcr-demo0001", NamespaceName = "platform", RepositoryName = "mesh"}"#;
    let want = collect_keys(
        &Env::demo(),
        "DescribeImages",
        images,
        "ImageVersion",
        &[100],
    );
    let want = &want[&100];
    assert!(
        want.len() > 14,
        "the demo repository has enough tags to page"
    );

    let capped = Env::with(
        demo::demo(ANCHOR),
        Options {
            page_size_cap: Some(7),
            ..Default::default()
        },
    );
    for (action, params, key) in [
        ("DescribeImages", images, "ImageVersion"),
        (
            "DescribeImagePersonal",
            r#"{RepoName = "platform/mesh"}"#,
            "TagName",
        ),
    ] {
        let uncapped = collect_keys(&Env::demo(), action, params, key, &[100]);
        let got = collect_keys(&capped, action, params, key, &[20, 100]);
        for keys in got.values() {
            assert_same_set(keys, &uncapped[&100]);
        }
    }
    let out = lua(
        &capped,
        &format!(r#"print(#tcr.collect("DescribeImages", {images}, {{page_size = 20}}))"#),
        &["--rate-limit", "0"],
    );
    assert_eq!(out.ok(), format!("{}\n", want.len()));
    assert!(
        out.stderr
            .contains("DescribeImages: the server answered 7 items per page for page_size 20"),
        "{}",
        out.stderr
    );
}

#[test]
fn empty_results_and_exactly_one_full_page_stop_without_extra_requests() {
    let env = Env::demo();
    let out = lua(
        &env,
        r#"
        print(#tcr.collect("DescribeRepositories", {RegistryId = "tcr-demo0001", NamespaceName = "nothing"}))
        local pages = 0
        for page in tcr.pages("DescribeRepositories", {RegistryId = "tcr-demo0001", NamespaceName = "nothing"}) do
          pages = pages + 1
          print("total", page.TotalCount)
        end
        print("pages", pages)
        print(#tcr.collect("DescribeNamespaces", {RegistryId = "tcr-demo0001"}, {page_size = 4}))
        "#,
        &[],
    );
    assert_eq!(out.ok(), "0\ntotal\t0\npages\t1\n4\n");
    // One request each for the two empty walks, and one for the exactly-full page of 4.
    assert_eq!(requests_for(&env, "DescribeRepositories").len(), 2);
    assert_eq!(requests_for(&env, "DescribeNamespaces").len(), 1);
}

#[test]
fn max_items_and_bad_paging_options() {
    let env = Env::demo();
    let out = lua(
        &env,
        r#"
        local n = 0
        for _ in tcr.paginate("DescribeRepositories", {RegistryId = "tcr-demo0001"}, {page_size = 7, max_items = 10}) do n = n + 1 end
        print(n)
        for _, bad in ipairs({
          function() tcr.collect("DescribeRepositories", {RegistryId = "tcr-demo0001"}, {page_size = 101}) end,
          function() tcr.collect("DeleteImage", {}) end,
          function() tcr.collect(nil) end,
          function() tcr.collect("DescribeInstances", {}, {paging = {style = "sideways"}}) end,
        }) do
          local ok, err = pcall(bad)
          print(err)
        end
        "#,
        &[],
    );
    let text = out.ok();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "10");
    assert!(
        lines[1].contains("page_size must be a whole number from 1 to 100, got 101"),
        "{text}"
    );
    assert!(
        lines[2].contains("DeleteImage is not in the paging table; pass opts.paging"),
        "{text}"
    );
    assert!(
        lines[3].contains("action must be a non-empty string"),
        "{text}"
    );
    assert!(lines[4].contains("paging.style must be"), "{text}");
    assert_eq!(
        requests_for(&env, "DescribeRepositories").len(),
        2,
        "10 items at 7 per page: 2 requests"
    );
}

#[test]
fn a_server_that_ignores_the_offset_is_reported_not_looped() {
    let env = Env::demo();
    // DescribeNamespaces with All = true ignores paging: with a custom item-offset rule and no
    // total field, the second page repeats the first.
    let out = lua(
        &env,
        r#"tcr.collect("DescribeNamespaces", {RegistryId = "tcr-demo0001", All = true},
             {page_size = 2, paging = {style = "item_offset", offset_param = "Offset", size_param = "Limit", list_field = "NamespaceList", total_field = "Nope"}})"#,
        &[],
    );
    let err = out.fails(1);
    assert!(
        err.contains("Client.PagingLoop") && err.contains("page 2 repeats the previous page"),
        "{err}"
    );
    assert_eq!(requests_for(&env, "DescribeNamespaces").len(), 2);
}

#[test]
fn paginate_over_1000_items_survives_failures_and_throttling() {
    let env = Env::with(
        demo::generated(1, 1000, ANCHOR),
        Options {
            fail_rate: 0.25,
            fail_code: "InternalError".into(),
            rate_limit: Some(15),
            ..Default::default()
        },
    );
    let out = lua(
        &env,
        r#"
        local seen = {}
        local n = 0
        for tag in tcr.paginate("DescribeImages", {RegistryId = "tcr-demo0001", NamespaceName = "bench", RepositoryName = "repo-0000"}) do
          if seen[tag.ImageVersion] then error("repeated " .. tag.ImageVersion) end
          seen[tag.ImageVersion] = true
          n = n + 1
        end
        print(n)
        "#,
        &[
            "--rate-limit",
            "0",
            "--retries",
            "30",
            "--retry-base",
            "20ms",
        ],
    );
    assert_eq!(out.ok(), "1000\n");
    let codes: Vec<String> = requests_for(&env, "DescribeImages")
        .iter()
        .map(|r| r.code.clone())
        .collect();
    assert!(
        codes.iter().any(|c| c == "InternalError"),
        "no injected failure happened: {codes:?}"
    );
    assert!(
        codes.iter().any(|c| c == "RequestLimitExceeded"),
        "no throttling happened: {codes:?}"
    );
    assert_eq!(
        codes.iter().filter(|c| *c == "ok").count(),
        50,
        "1000 tags at 20 per page"
    );
}

#[test]
fn mutating_calls_are_not_retried_once_sent_but_reads_are() {
    let env = Env::with(
        demo::demo(ANCHOR),
        Options {
            fail_rate: 1.0,
            fail_code: "InternalError".into(),
            ..Default::default()
        },
    );
    let out = lua(
        &env,
        r#"
        print(pcall(tcr.call, "DeleteImage", {RegistryId = "tcr-demo0001", NamespaceName = "team-a", RepositoryName = "web", ImageVersion = "latest"}))
        local ok, err = pcall(tcr.call, "DescribeInstances", {}, {retries = 3, retry_base = 0.001})
        print(ok, err.code)
        "#,
        &["--retry-base", "1ms"],
    );
    assert!(
        out.ok().ends_with("false\tInternalError\n"),
        "{}",
        out.stdout
    );
    assert_eq!(
        requests_for(&env, "DeleteImage").len(),
        1,
        "a mutating call that reached the server is never repeated"
    );
    assert_eq!(
        requests_for(&env, "DescribeInstances").len(),
        4,
        "one try and three retries"
    );

    let dropping = Env::with(
        demo::demo(ANCHOR),
        Options {
            drop_rate: 1.0,
            ..Default::default()
        },
    );
    let out = lua(
        &dropping,
        r#"print(pcall(tcr.call, "DeleteImage", {RegistryId = "tcr-demo0001", NamespaceName = "team-a", RepositoryName = "web", ImageVersion = "latest"}))"#,
        &["--retry-base", "1ms"],
    );
    assert!(out.ok().contains("Client.Network"), "{}", out.stdout);
    assert_eq!(requests_for(&dropping, "DeleteImage").len(), 1);
}

#[test]
fn connect_failures_are_retried_even_for_mutating_calls() {
    let env = Env::offline();
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let path = env.script("c.lua", r#"tcr.call("DeleteImage", {RegistryId = "r", NamespaceName = "n", RepositoryName = "r", ImageVersion = "v"})"#);
    let out = Run::of(
        env.tcrl()
            .arg("run")
            .arg(&path)
            .args([
                "--endpoint",
                &format!("http://{closed}"),
                "--retries",
                "2",
                "--retry-base",
                "1ms",
                "-v",
            ])
            .env("TENCENTCLOUD_SECRET_ID", "id")
            .env("TENCENTCLOUD_SECRET_KEY", "key"),
    );
    let err = out.fails(1);
    assert!(
        err.contains("Client.Network") && err.contains("cannot connect"),
        "{err}"
    );
    assert_eq!(err.matches("retrying").count(), 2, "{err}");
    assert!(
        err.contains("connection failed before the request was sent"),
        "{err}"
    );
}

#[test]
fn map_overlaps_calls_up_to_its_concurrency() {
    let env = Env::with(
        demo::demo(ANCHOR),
        Options {
            latency_ms: Some((50, 50)),
            ..Default::default()
        },
    );
    let out = lua(
        &env,
        r#"
        local repos = tcr.collect("DescribeRepositories", {RegistryId = "tcr-demo0001"})
        local counts, failures = tcr.map(repos, function(r)
          local ns, name = r.Name:match("^([^/]+)/(.+)$")
          return #tcr.collect("DescribeImages", {RegistryId = "tcr-demo0001", NamespaceName = ns, RepositoryName = name})
        end, {concurrency = 16})
        local total = 0
        for i = 1, #repos do total = total + counts[i] end
        print(#repos, total, #failures)
        "#,
        &["--rate-limit", "0"],
    );
    let state = env.emulator().emulator.snapshot();
    assert_eq!(out.ok(), format!("50\t{}\t0\n", state.tag_count()));
    let max = env.emulator().emulator.max_in_flight();
    assert!(
        (10..=16).contains(&max),
        "max in flight {max}: concurrency 16 should overlap, and never exceed 16"
    );
}

#[test]
fn map_keeps_order_and_reports_each_failure() {
    let env = Env::demo();
    let out = lua(
        &env,
        r#"
        local results, failures = tcr.map({"web", "nope", "api", "missing"}, function(repo)
          return tcr.call("DescribeImages", {RegistryId = "tcr-demo0001", NamespaceName = "team-a", RepositoryName = repo, Limit = 1}).TotalCount
        end, {concurrency = 4})
        print(results[1] ~= nil, results[2], results[3] ~= nil, results[4])
        for _, f in ipairs(failures) do print(f.index, f.item, f.error.code) end
        local ok, err = pcall(tcr.map, {"nope"}, function(repo)
          return tcr.call("DescribeImages", {RegistryId = "tcr-demo0001", NamespaceName = "team-a", RepositoryName = repo})
        end, {fail_fast = true})
        print(ok, err)
        "#,
        &[],
    );
    let text = out.ok();
    assert!(text.starts_with("true\tnil\ttrue\tnil\n2\tnope\tResourceNotFound\n4\tmissing\tResourceNotFound\nfalse\t"), "{text}");
    assert!(
        text.contains("tcr.map: 1 item(s) failed: [1]") && text.contains("ResourceNotFound"),
        "{text}"
    );
}

#[test]
fn the_rate_limiter_keeps_every_second_under_the_limit() {
    let env = Env::with(
        demo::demo(ANCHOR),
        Options {
            rate_limit: Some(10),
            ..Default::default()
        },
    );
    let out = lua(
        &env,
        r#"
        local list = {}
        for i = 1, 30 do list[i] = i end
        local results, failures = tcr.map(list, function() return tcr.call("DescribeInstances").TotalCount end, {concurrency = 16})
        print(#failures)
        "#,
        &["--rate-limit", "10", "--retries", "0"],
    );
    assert_eq!(out.ok(), "0\n");
    let mut per_second: BTreeMap<i64, usize> = BTreeMap::new();
    for r in requests_for(&env, "DescribeInstances") {
        assert_eq!(r.code, "ok");
        *per_second.entry(r.time_ms / 1000).or_default() += 1;
    }
    assert!(per_second.values().all(|n| *n <= 10), "{per_second:?}");
}

#[test]
fn clock_skew_is_corrected_from_the_server_date() {
    let env = Env::with(
        demo::demo(ANCHOR),
        Options {
            clock_offset: 3600,
            ..Default::default()
        },
    );
    let out = lua(
        &env,
        r#"print(tcr.call("DescribeInstances").TotalCount) print(tcr.call("DescribeInstances").TotalCount)"#,
        &[],
    );
    assert_eq!(out.ok(), "1\n1\n");
    assert!(
        out.stderr.contains("local clock differs from the service"),
        "{}",
        out.stderr
    );
    let codes: Vec<String> = requests_for(&env, "DescribeInstances")
        .iter()
        .map(|r| r.code.clone())
        .collect();
    assert_eq!(
        codes,
        ["AuthFailure.SignatureExpire", "ok", "ok"],
        "corrected once, then remembered"
    );
}

#[test]
fn pages_expose_whole_responses() {
    let env = Env::demo();
    let out = lua(
        &env,
        r#"
        for page in tcr.pages("DescribeRepositories", {RegistryId = "tcr-demo0001"}, {page_size = 20}) do
          print(page.TotalCount, #page.RepositoryList, type(page.RequestId))
        end
        "#,
        &[],
    );
    assert_eq!(out.ok(), "50\t20\tstring\n50\t20\tstring\n50\t10\tstring\n");
    let sizes: Vec<Value> = requests_for(&env, "DescribeRepositories")
        .iter()
        .map(|r| r.params["Offset"].clone())
        .collect();
    assert_eq!(sizes, [1, 2, 3]);
}
