//! Every paged action the emulator implements pages as documented, checked over three or more
//! pages: page-number actions count pages from 1 (0 is served as the first page), item-offset
//! actions count items; no item is skipped or repeated; TotalCount is always the full count.

use serde_json::{json, Value};
use tcrl::emulator::{demo, store::Instance, Options};

use crate::harness::{Env, ANCHOR};

const REG: &str = "tcr-demo0001";

/// Walk every page with `size` and return the items, checking TotalCount on each page.
fn walk(
    env: &Env,
    action: &str,
    params: Value,
    list: &str,
    total_field: &str,
    size: i64,
) -> Vec<Value> {
    let catalog = tcrl::api::catalog::tcr();
    let rule = catalog.action(action).unwrap().paging.clone().unwrap();
    let mut items = Vec::new();
    let mut pages = 0;
    let mut expected_total = None;
    loop {
        let offset = if rule.style == "page_number" {
            pages + 1
        } else {
            pages * size
        };
        let mut p = params.clone();
        p[&rule.offset_param] = json!(offset);
        p[&rule.size_param] = json!(size);
        let r = env.call(action, p).unwrap();
        let total = pointer(&r, total_field).as_i64().unwrap();
        assert_eq!(
            *expected_total.get_or_insert(total),
            total,
            "{action}: TotalCount changed between pages"
        );
        let page = pointer(&r, list).as_array().unwrap().clone();
        assert!(page.len() as i64 <= size);
        if page.is_empty() {
            break;
        }
        items.extend(page);
        pages += 1;
        assert!(pages < 1000);
    }
    assert_eq!(
        items.len() as i64,
        expected_total.unwrap(),
        "{action}: items walked vs TotalCount"
    );
    assert!(
        pages >= 3,
        "{action}: only {pages} pages; the test needs at least 3"
    );
    items
}

fn pointer<'a>(v: &'a Value, dotted: &str) -> &'a Value {
    dotted.split('.').fold(v, |v, k| &v[k])
}

fn names(items: &[Value], field: &str) -> Vec<String> {
    items.iter().map(|i| i[field].to_string()).collect()
}

fn assert_unique(list: &[String]) {
    let set: std::collections::BTreeSet<&String> = list.iter().collect();
    assert_eq!(set.len(), list.len(), "an item was repeated: {list:?}");
}

#[test]
fn describe_instances_pages_by_item_offset() {
    let mut store = demo::demo(ANCHOR);
    let template = store.instances[0].clone();
    for i in 1..7 {
        store.instances.push(Instance {
            id: format!("tcr-extra{i:03}"),
            name: format!("extra{i}"),
            ..template.clone()
        });
    }
    let env = Env::with(store, Options::default());
    let items = walk(
        &env,
        "DescribeInstances",
        json!({}),
        "Registries",
        "TotalCount",
        2,
    );
    let ids = names(&items, "RegistryId");
    assert_unique(&ids);
    assert_eq!(ids.len(), 7);
    // Offset is an item index: Offset 1 starts at the second instance.
    let r = env
        .call("DescribeInstances", json!({"Offset": 1, "Limit": 2}))
        .unwrap();
    assert_eq!(r["Registries"][0]["RegistryId"].to_string(), ids[1]);
}

#[test]
fn describe_namespaces_pages_by_page_number_and_zero_is_the_first_page() {
    let env = Env::demo();
    let items = walk(
        &env,
        "DescribeNamespaces",
        json!({"RegistryId": REG}),
        "NamespaceList",
        "TotalCount",
        1,
    );
    let list = names(&items, "Name");
    assert_unique(&list);
    assert_eq!(list.len(), 4);
    let zero = env
        .call(
            "DescribeNamespaces",
            json!({"RegistryId": REG, "Offset": 0, "Limit": 1}),
        )
        .unwrap();
    let one = env
        .call(
            "DescribeNamespaces",
            json!({"RegistryId": REG, "Offset": 1, "Limit": 1}),
        )
        .unwrap();
    assert_eq!(zero["NamespaceList"], one["NamespaceList"]);
    let two = env
        .call(
            "DescribeNamespaces",
            json!({"RegistryId": REG, "Offset": 2, "Limit": 1}),
        )
        .unwrap();
    assert_eq!(two["NamespaceList"][0]["Name"].to_string(), list[1]);
}

#[test]
fn describe_repositories_pages_by_page_number() {
    let env = Env::demo();
    for size in [1, 7, 100] {
        let items = if size == 100 {
            let r = env
                .call(
                    "DescribeRepositories",
                    json!({"RegistryId": REG, "Limit": 100}),
                )
                .unwrap();
            r["RepositoryList"].as_array().unwrap().clone()
        } else {
            walk(
                &env,
                "DescribeRepositories",
                json!({"RegistryId": REG}),
                "RepositoryList",
                "TotalCount",
                size,
            )
        };
        let list = names(&items, "Name");
        assert_unique(&list);
        assert_eq!(list.len(), 50, "page size {size}");
    }
    let empty = env
        .call(
            "DescribeRepositories",
            json!({"RegistryId": REG, "NamespaceName": "nothing-here"}),
        )
        .unwrap();
    assert_eq!(
        (
            empty["TotalCount"].as_i64(),
            empty["RepositoryList"].as_array().map(Vec::len)
        ),
        (Some(0), Some(0))
    );
}

#[test]
fn describe_images_pages_by_page_number() {
    let env = Env::demo();
    let store = env.emulator().emulator.snapshot();
    let repo = &store.instances[0].namespaces["team-a"].repositories["web"];
    assert!(repo.tags.len() >= 7);
    let params = json!({"RegistryId": REG, "NamespaceName": "team-a", "RepositoryName": "web"});
    let items = walk(
        &env,
        "DescribeImages",
        params,
        "ImageInfoList",
        "TotalCount",
        3,
    );
    let mut got = names(&items, "ImageVersion");
    assert_unique(&got);
    let mut want: Vec<String> = repo
        .tags
        .iter()
        .map(|t| Value::String(t.name.clone()).to_string())
        .collect();
    got.sort();
    want.sort();
    assert_eq!(got, want);
}

#[test]
fn retention_describes_page_by_page_number() {
    let env = Env::demo();
    let namespaces = env
        .call("DescribeNamespaces", json!({"RegistryId": REG}))
        .unwrap();
    for ns in namespaces["NamespaceList"].as_array().unwrap() {
        env.call("CreateTagRetentionRule", json!({"RegistryId": REG, "NamespaceId": ns["NamespaceId"], "CronSetting": "manual", "RetentionRule": {"Key": "nDaysSinceLastPush", "Value": 400}})).unwrap();
    }
    let rules = walk(
        &env,
        "DescribeTagRetentionRules",
        json!({"RegistryId": REG}),
        "RetentionPolicyList",
        "TotalCount",
        1,
    );
    assert_unique(&names(&rules, "RetentionId"));
    assert_eq!(rules.len(), 4);
    let sandbox = rules
        .iter()
        .find(|r| r["NamespaceName"] == "sandbox")
        .unwrap()["RetentionId"]
        .clone();
    for _ in 0..5 {
        env.call(
            "CreateTagRetentionExecution",
            json!({"RegistryId": REG, "RetentionId": sandbox, "DryRun": true}),
        )
        .unwrap();
    }
    let execs = walk(
        &env,
        "DescribeTagRetentionExecution",
        json!({"RegistryId": REG, "RetentionId": sandbox}),
        "RetentionExecutionList",
        "TotalCount",
        2,
    );
    assert_unique(&names(&execs, "ExecutionId"));
    assert_eq!(execs.len(), 5);
    let exec = execs[0]["ExecutionId"].clone();
    let tasks = walk(
        &env,
        "DescribeTagRetentionExecutionTask",
        json!({"RegistryId": REG, "RetentionId": sandbox, "ExecutionId": exec}),
        "RetentionTaskList",
        "TotalCount",
        3,
    );
    let repos = names(&tasks, "Repository");
    assert_unique(&repos);
    assert_eq!(repos.len(), 8);
}

#[test]
fn describe_image_personal_pages_by_item_offset() {
    let env = Env::demo();
    let items = walk(
        &env,
        "DescribeImagePersonal",
        json!({"RepoName": "team-a/web"}),
        "Data.TagInfo",
        "Data.TagCount",
        3,
    );
    let list = names(&items, "TagName");
    assert_unique(&list);
    let r = env
        .call(
            "DescribeImagePersonal",
            json!({"RepoName": "team-a/web", "Offset": 1, "Limit": 1}),
        )
        .unwrap();
    assert_eq!(
        r["Data"]["TagInfo"][0]["TagName"].to_string(),
        list[1],
        "Offset counts items"
    );
}
