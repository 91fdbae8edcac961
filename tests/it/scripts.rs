//! Every example script in `scripts/` runs against the emulator with asserted output, and the
//! dry-run proof: with `--dry-run` no mutating request reaches the emulator, whatever the
//! script's arguments say; with `apply=true` the emulator loses exactly the planned tags.

use std::collections::BTreeSet;

use serde_json::Value;
use tcrl::emulator::store::Store;

use crate::harness::{Env, Run};

fn script(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scripts")
        .join(name)
}

/// The demo registry anchored at today's midnight, as `--emulator` serves it.
fn today() -> Env {
    Env::with(
        tcrl::emulator::demo::demo(tcrl::emulator::demo::today_anchor()),
        Default::default(),
    )
}

fn mutating(env: &Env) -> Vec<String> {
    env.emulator()
        .emulator
        .requests()
        .into_iter()
        .filter(|r| r.mutating)
        .map(|r| r.action)
        .collect()
}

fn all_tags(store: &Store) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (ns, n) in &store.instances[0].namespaces {
        for (repo, r) in &n.repositories {
            for t in &r.tags {
                out.insert(format!("{ns}/{repo}:{}", t.name));
            }
        }
    }
    out
}

#[test]
fn readme_main_command_plans_a_cleanup_against_the_builtin_emulator() {
    let env = Env::offline();
    let out = Run::of(
        env.tcrl()
            .args(["run"])
            .arg(script("cleanup-old-tags.lua"))
            .arg("--emulator"),
    );
    let text = out.ok();
    let last = text.lines().rev().nth(1).unwrap();
    assert!(
        last.starts_with("dry run: would delete ") && last.contains(" in tcr-demo0001"),
        "{text}"
    );
    let count: usize = last["dry run: would delete ".len()..]
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(count > 0, "{text}");
    assert_eq!(
        text.matches("\n  delete ").count() + usize::from(text.starts_with("  delete ")),
        count,
        "{text}"
    );
    assert!(
        text.ends_with("run again with --arg apply=true to delete them\n"),
        "{text}"
    );
}

#[test]
fn cleanup_dry_run_sends_nothing_and_apply_deletes_exactly_the_plan() {
    let env = today();
    let before = env.emulator().emulator.snapshot();
    // Default run (no apply), and --dry-run with apply=true: no mutating request either way.
    let plan_out = env.run_demo(&script("cleanup-old-tags.lua"), &["--arg", "format=json"]);
    let planned: Vec<Value> = serde_json::from_str(plan_out.ok().lines().next().unwrap()).unwrap();
    let dry = env.run_demo(
        &script("cleanup-old-tags.lua"),
        &["--dry-run", "--arg", "apply=true"],
    );
    assert!(dry.ok().contains("dry run: would delete"), "{}", dry.stdout);
    assert!(
        dry.stderr.contains("DeleteImage") && dry.stderr.contains("not sent"),
        "{}",
        dry.stderr
    );
    assert!(
        mutating(&env).is_empty(),
        "mutating requests in a dry run: {:?}",
        mutating(&env)
    );

    let mut expected_gone = BTreeSet::new();
    for plan in &planned {
        for row in plan["delete"].as_array().unwrap() {
            let tag = row["tag"].as_str().unwrap();
            assert_ne!(tag, "latest");
            assert!(
                tcrl::lua::text::parse_version(tag).is_none_or(|v| !v.pre.is_empty()),
                "release tag {tag} planned for deletion"
            );
            assert!(row["age"].as_i64().unwrap() >= 30 * 86_400, "{row}");
            expected_gone.insert(format!(
                "{}/{}:{tag}",
                row["namespace"].as_str().unwrap(),
                row["repository"].as_str().unwrap()
            ));
        }
    }
    assert!(!expected_gone.is_empty());
    let applied = env.run_demo(&script("cleanup-old-tags.lua"), &["--arg", "apply=true"]);
    let text = applied.ok();
    assert!(
        text.contains(&format!("deleted {} tags", expected_gone.len()))
            && text.contains("; 0 failed"),
        "{text}"
    );
    let after = env.emulator().emulator.snapshot();
    let gone: BTreeSet<String> = all_tags(&before)
        .difference(&all_tags(&after))
        .cloned()
        .collect();
    assert_eq!(
        gone, expected_gone,
        "the emulator lost exactly the planned tags"
    );
}

#[test]
fn inventory_counts_every_tag() {
    let env = today();
    let store = env.emulator().emulator.snapshot();
    let out = env.run_demo(&script("inventory.lua"), &["--arg", "format=json"]);
    let report: Value = serde_json::from_str(out.ok().trim()).unwrap();
    assert_eq!(report["registry"], "tcr-demo0001");
    assert_eq!(report["total"]["repositories"], 50);
    assert_eq!(
        report["total"]["tags"].as_u64().unwrap() as usize,
        store.tag_count()
    );
    let bytes: i64 = store.instances[0]
        .namespaces
        .values()
        .flat_map(|n| n.repositories.values())
        .flat_map(|r| &r.tags)
        .map(|t| t.size)
        .sum();
    assert_eq!(report["total"]["bytes"].as_i64().unwrap(), bytes);
    assert_eq!(report["namespaces"].as_array().unwrap().len(), 4);
    let table = env.run_demo(&script("inventory.lua"), &[]);
    assert!(
        table
            .ok()
            .starts_with("NAMESPACE        REPOSITORIES     TAGS         SIZE\nplatform "),
        "{}",
        table.stdout
    );
    assert!(
        table.stdout.contains(&format!(
            "TOTAL                      50 {:>8}",
            store.tag_count()
        )),
        "{}",
        table.stdout
    );
}

#[test]
fn stale_repositories_lists_repositories_without_recent_pushes() {
    let env = today();
    let store = env.emulator().emulator.snapshot();
    let now = chrono::Utc::now().timestamp();
    let expected = store.instances[0]
        .namespaces
        .values()
        .flat_map(|n| n.repositories.values())
        .filter(|r| (now - r.updated_at) / 86_400 >= 60)
        .count();
    let out = env.run_demo(&script("stale-repositories.lua"), &["--arg", "days=60"]);
    let text = out.ok();
    assert!(
        text.starts_with(&format!(
            "{expected} repositories in tcr-demo0001 without a push for 60 days or more\n"
        )),
        "{text}"
    );
    assert_eq!(text.lines().count(), expected + 1);
    assert!(env
        .run_demo(&script("stale-repositories.lua"), &["--arg", "days=soon"])
        .fails(1)
        .contains("days must be a whole number"));
}

#[test]
fn retention_rules_compares_server_and_local_plans() {
    let env = today();
    let out = env.run_demo(
        &script("retention-rules.lua"),
        &["--arg", "create=sandbox:3"],
    );
    let text = out.ok();
    assert!(text.contains("on sandbox: latestPushedK = 3"), "{text}");
    assert_eq!(text.matches("differs").count(), 0, "{text}");
    assert!(text.ends_with("server and local plans agree\n"), "{text}");
    assert_eq!(
        text.lines().filter(|l| l.contains(" of ")).count(),
        8,
        "{text}"
    );
}

#[test]
fn every_example_script_sends_nothing_mutating_under_dry_run() {
    let env = today();
    for name in [
        "cleanup-old-tags.lua",
        "inventory.lua",
        "stale-repositories.lua",
        "retention-rules.lua",
        "regions.lua",
    ] {
        let out = env.run_demo(
            &script(name),
            &[
                "--dry-run",
                "--arg",
                "apply=true",
                "--arg",
                "create=sandbox:3",
            ],
        );
        out.ok();
    }
    let path = env.script(
        "retention-functions.lua",
        r#"
        local retention = require("tcr.retention")
        local repo = {RegistryId = "tcr-demo0001", NamespaceName = "team-a", RepositoryName = "web"}
        local plan = retention.plan(tcr.collect("DescribeImages", repo), {keep_last = 1}, repo)
        local outcomes = retention.apply(plan)
        for _, o in ipairs(outcomes) do assert(o.status == "dry-run", o.status) end
        print(#outcomes, #tcr.planned(), tcr.dry_run)
        "#,
    );
    let out = env.run_demo(&path, &["--dry-run"]);
    let fields: Vec<String> = out.ok().trim().split('\t').map(str::to_string).collect();
    assert_eq!(fields[2], "true");
    assert!(fields[0].parse::<usize>().unwrap() >= fields[1].parse::<usize>().unwrap());
    assert!(fields[1].parse::<usize>().unwrap() > 0);
    assert!(mutating(&env).is_empty(), "{:?}", mutating(&env));
}

#[test]
fn every_script_in_the_folder_is_covered() {
    let mut names: Vec<String> = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".lua"))
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "cleanup-old-tags.lua",
            "inventory.lua",
            "regions.lua",
            "retention-rules.lua",
            "stale-repositories.lua"
        ]
    );
    for name in &names {
        let text = std::fs::read_to_string(script(name)).unwrap();
        for header in ["Schedule:", "Args:", "Needs:"] {
            assert!(
                text.lines()
                    .take(30)
                    .any(|l| l.starts_with("-- ") && l.contains(header)),
                "{name} lacks {header}"
            );
        }
    }
}
