//! `tcr.retention` edge cases, table-driven: each case is a list of tags, a policy and the
//! tags that must be deleted. Plans are pure, so these run with no emulator and a pinned clock.

use crate::harness::{Env, Run};

const DAY: i64 = 86_400;
const NOW: i64 = 1_800_000_000;

/// `(name, images, policy, expected deletions in plan order or an error fragment)`.
struct Case {
    name: &'static str,
    /// `(tag, digest, age in days)`
    tags: Vec<(&'static str, &'static str, i64)>,
    policy: &'static str,
    expect: Result<&'static str, &'static str>,
}

fn case(
    name: &'static str,
    tags: Vec<(&'static str, &'static str, i64)>,
    policy: &'static str,
    expect: Result<&'static str, &'static str>,
) -> Case {
    Case {
        name,
        tags,
        policy,
        expect,
    }
}

fn format_time(ts: i64, style: usize) -> String {
    let t = chrono::DateTime::from_timestamp(ts, 0).unwrap();
    // Every timestamp format TCR returns, in turn.
    match style % 5 {
        0 => t.format("%Y-%m-%d %H:%M:%S").to_string(),
        1 => t.format("%Y-%m-%d %H:%M:%S.000000 +0000 UTC").to_string(),
        2 => t.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        3 => (t + chrono::Duration::hours(8))
            .format("%Y-%m-%dT%H:%M:%S+08:00")
            .to_string(),
        _ => (t + chrono::Duration::hours(8))
            .format("%Y-%m-%d %H:%M:%S +0800 CST")
            .to_string(),
    }
}

#[test]
fn plan_edge_cases() {
    let cases = vec![
        case(
            "keep_last keeps the newest",
            vec![("a", "d1", 1), ("b", "d2", 2), ("c", "d3", 3)],
            "{keep_last = 2}",
            Ok("c"),
        ),
        case(
            "ties in time are broken by tag name",
            vec![("b", "d1", 5), ("a", "d2", 5), ("c", "d3", 5)],
            "{keep_last = 1}",
            Ok("b,c"),
        ),
        case(
            "older_than spares younger tags",
            vec![("a", "d1", 40), ("b", "d2", 10), ("c", "d3", 31)],
            "{older_than = \"30d\"}",
            Ok("c,a"),
        ),
        case(
            "keep_last and older_than combine",
            vec![
                ("a", "d1", 40),
                ("b", "d2", 35),
                ("c", "d3", 10),
                ("d", "d4", 50),
            ],
            "{keep_last = 1, older_than = \"30d\"}",
            Ok("b,a,d"),
        ),
        case(
            "grace beats keep_last",
            vec![("new1", "d1", 0), ("new2", "d2", 0), ("old", "d3", 100)],
            "{keep_last = 0, grace = \"2d\"}",
            Ok("old"),
        ),
        case(
            "protect beats everything",
            vec![("latest", "d1", 400), ("v1", "d2", 300)],
            "{keep_last = 0, protect = {\"latest\"}}",
            Ok("v1"),
        ),
        case(
            "protect patterns are full matches",
            vec![("release-1", "d1", 10), ("pre-release-1", "d2", 11)],
            "{keep_last = 0, protect = {[[release-\\d+]]}}",
            Ok("pre-release-1"),
        ),
        case(
            "lua patterns with a prefix",
            vec![("keep-me", "d1", 10), ("drop", "d2", 11)],
            "{keep_last = 0, protect = {\"lua:keep%-%a+\"}}",
            Ok("drop"),
        ),
        case(
            "include and exclude together",
            vec![
                ("main-1", "d1", 10),
                ("main-2", "d2", 11),
                ("main-keep", "d3", 12),
                ("dev-1", "d4", 13),
            ],
            "{keep_last = 0, include = {[[main-.*]]}, exclude = {[[.*-keep]]}}",
            Ok("main-1,main-2"),
        ),
        case(
            "groups keep the newest per group",
            vec![
                ("main-3", "d1", 1),
                ("dev-2", "d2", 2),
                ("main-2", "d3", 3),
                ("dev-1", "d4", 4),
                ("main-1", "d5", 5),
            ],
            "{keep_last = 1, group_by = \"^(%a+)-\"}",
            Ok("main-2,dev-1,main-1"),
        ),
        case(
            "group_by can be a function",
            vec![("a1", "d1", 1), ("b1", "d2", 2), ("a2", "d3", 3)],
            "{keep_last = 1, group_by = function(tag) return tag:sub(1, 1) end}",
            Ok("a2"),
        ),
        case(
            "keep_semver keeps the newest per minor line, not pre-releases",
            vec![
                ("v1.2.3", "d1", 30),
                ("v1.2.10", "d2", 40),
                ("v1.3.0-rc.1", "d3", 5),
                ("v1.3.0", "d4", 20),
                ("v1.2.9", "d5", 50),
            ],
            "{keep_last = 0, keep_semver = 1}",
            Ok("v1.3.0-rc.1,v1.2.3,v1.2.9"),
        ),
        case(
            "keep_semver per major with pre-releases",
            vec![
                ("v2.0.0-rc.1", "d1", 1),
                ("v1.9.0", "d2", 2),
                ("v1.8.0", "d3", 3),
            ],
            "{keep_last = 0, keep_semver = {count = 1, per = \"major\", prerelease = true}}",
            Ok("v1.8.0"),
        ),
        case(
            "shared digests are never deleted",
            vec![
                ("latest", "same", 100),
                ("build-9", "same", 100),
                ("build-8", "other", 101),
            ],
            "{keep_last = 0, protect = {\"latest\"}}",
            Ok("build-8"),
        ),
        case(
            "untagged images",
            vec![("", "d1", 10), ("v1", "d2", 11), ("", "d3", 12)],
            "{untagged = true}",
            Ok(","),
        ),
        case("empty repository", vec![], "{keep_last = 3}", Ok("")),
        case(
            "max_delete refuses a count",
            vec![("a", "d1", 1), ("b", "d2", 2), ("c", "d3", 3)],
            "{keep_last = 0, max_delete = 2}",
            Err("refusing to delete 3 of 3 tags in ns/repo: max_delete is 2"),
        ),
        case(
            "max_delete refuses a percentage",
            vec![
                ("a", "d1", 1),
                ("b", "d2", 2),
                ("c", "d3", 3),
                ("d", "d4", 4),
            ],
            "{keep_last = 2, max_delete = \"25%\"}",
            Err("refusing to delete 2 of 4 tags"),
        ),
        case(
            "max_delete allows up to the limit",
            vec![("a", "d1", 1), ("b", "d2", 2)],
            "{keep_last = 1, max_delete = \"50%\"}",
            Ok("b"),
        ),
        case(
            "a policy that deletes nothing is an error",
            vec![("a", "d1", 1)],
            "{protect = {\"a\"}}",
            Err("the policy deletes nothing"),
        ),
        case(
            "unknown fields are named",
            vec![("a", "d1", 1)],
            "{keep_lst = 1}",
            Err("unknown policy field 'keep_lst'"),
        ),
        case(
            "bad durations are named",
            vec![("a", "d1", 1)],
            "{older_than = \"soon\"}",
            Err("older_than: tcr.time.duration: invalid duration \"soon\""),
        ),
        case(
            "bad patterns are named",
            vec![("a", "d1", 1)],
            "{keep_last = 1, protect = {\"(\"}}",
            Err("protect: tcr.regex.full_match: invalid regular expression \"(\": unclosed group"),
        ),
    ];
    let mut lua = String::from("local retention = require('tcr.retention')\nlocal results = {}\n");
    for (i, c) in cases.iter().enumerate() {
        let images: Vec<String> = c
            .tags
            .iter()
            .enumerate()
            .map(|(j, (tag, digest, age))| {
                format!("{{ImageVersion = {tag:?}, Digest = {digest:?}, Size = 1000000, UpdateTime = {:?}}}", format_time(NOW - age * DAY, i + j))
            })
            .collect();
        lua.push_str(&format!(
            "do\n  local policy = {}\n  policy.now = {NOW}\n  local ok, plan = pcall(retention.plan, {{{}}}, policy, {{RegistryId = 'r', NamespaceName = 'ns', RepositoryName = 'repo'}})\n  local out\n  if ok then\n    local tags = {{}}\n    for _, row in ipairs(plan.delete) do tags[#tags + 1] = row.tag end\n    assert(#plan.keep + #plan.delete == plan.total)\n    out = 'ok:' .. table.concat(tags, ',')\n  else\n    out = 'error:' .. tostring(plan)\n  end\n  print({i} .. '\\t' .. out)\nend\n",
            c.policy,
            images.join(", ")
        ));
    }
    let env = Env::offline();
    let path = env.script("cases.lua", &lua);
    let out = Run::of(env.tcrl().arg("run").arg(&path));
    let stdout = out.ok().to_string();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), cases.len(), "{stdout}");
    assert!(
        !stdout.contains("stack traceback") && !stdout.contains("runtime error"),
        "{stdout}"
    );
    for (i, c) in cases.iter().enumerate() {
        let got = lines[i].split_once('\t').unwrap().1;
        match c.expect {
            Ok(tags) => assert_eq!(got, format!("ok:{tags}"), "case {:?}", c.name),
            Err(fragment) => assert!(
                got.starts_with("error:") && got.contains(fragment),
                "case {:?}: {got}",
                c.name
            ),
        }
    }
}

#[test]
fn plan_rows_explain_every_decision_and_reports_render() {
    let env = Env::offline();
    let path = env.script(
        "report.lua",
        r#"
        local retention = require("tcr.retention")
        local now = 1800000000
        local images = {
          {ImageVersion = "latest", Digest = "sha256:a", Size = 2000000, UpdateTime = "2027-01-14 00:00:00"},
          {ImageVersion = "v1.0.0", Digest = "sha256:a", Size = 2000000, UpdateTime = "2027-01-14 00:00:00"},
          {ImageVersion = "old, \"quoted\"", Digest = "sha256:b", Size = 3000000, UpdateTime = "2026-01-01 00:00:00"},
        }
        local plan = retention.plan(images, {keep_last = 1, protect = {"latest"}, now = now}, {RegistryId = "r", NamespaceName = "ns", RepositoryName = "app"})
        for _, row in ipairs(plan.keep) do print("keep", row.tag, row.reason) end
        for _, row in ipairs(plan.delete) do print("delete", row.tag, row.reason, row.age // 86400) end
        print(retention.report(plan))
        print(retention.report({plan}, "csv"))
        local decoded = tcr.json.decode(retention.report(plan, "json"))
        print(decoded[1].repository, #decoded[1].delete)
        print(pcall(retention.report, plan, "xml"))
        "#,
    );
    let out = Run::of(env.tcrl().arg("run").arg(&path));
    let text = out.ok();
    let expected_start = "keep\tlatest\tprotected by 'latest'\nkeep\tv1.0.0\tkeep_last: #1 newest\ndelete\told, \"quoted\"\tnot among the 1 newest\t379\n";
    assert!(text.starts_with(expected_start), "{text}");
    assert!(
        text.contains("ns/app: keep 2, delete 1 of 3\n  delete old, \"quoted\""),
        "{text}"
    );
    assert!(text.contains("action,registry,namespace,repository,tag,digest,age_days,size,reason\ndelete,r,ns,app,\"old, \"\"quoted\"\"\",sha256:b,379,3000000,not among the 1 newest"), "{text}");
    assert!(text.contains("ns/app\t1\n"), "{text}");
    assert!(
        text.contains("format must be \"table\", \"json\" or \"csv\""),
        "{text}"
    );
}
