//! Every implemented action, called with the project's client over HTTP, changes and reports
//! the emulator's state as the real action does.

use serde_json::{json, Value};

use crate::harness::Env;

const REG: &str = "tcr-demo0001";

fn tags(env: &Env, ns: &str, repo: &str) -> Vec<String> {
    let r = env
        .call(
            "DescribeImages",
            json!({"RegistryId": REG, "NamespaceName": ns, "RepositoryName": repo, "Limit": 1000}),
        )
        .unwrap();
    r["ImageInfoList"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["ImageVersion"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn instances_are_described_with_filters() {
    let env = Env::demo();
    let r = env.call("DescribeInstances", json!({})).unwrap();
    assert_eq!(r["TotalCount"], 1);
    let reg = &r["Registries"][0];
    assert_eq!(
        (
            reg["RegistryId"].as_str(),
            reg["RegionName"].as_str(),
            reg["Status"].as_str()
        ),
        (Some(REG), Some("ap-guangzhou"), Some("Running"))
    );
    assert!(chrono::DateTime::parse_from_rfc3339(reg["CreatedAt"].as_str().unwrap()).is_ok());
    assert_eq!(
        env.call("DescribeInstances", json!({"Registryids": ["tcr-other"]}))
            .unwrap()["TotalCount"],
        0
    );
    let by_name = json!({"Filters": [{"Name": "RegistryName", "Values": ["demo"]}]});
    assert_eq!(
        env.call("DescribeInstances", by_name).unwrap()["TotalCount"],
        1
    );
}

#[test]
fn namespaces_lifecycle() {
    let env = Env::demo();
    env.call(
        "CreateNamespace",
        json!({"RegistryId": REG, "NamespaceName": "new-ns", "IsPublic": true}),
    )
    .unwrap();
    let r = env
        .call(
            "DescribeNamespaces",
            json!({"RegistryId": REG, "NamespaceName": "new-ns"}),
        )
        .unwrap();
    assert_eq!(r["TotalCount"], 1);
    let ns = &r["NamespaceList"][0];
    assert_eq!(
        (ns["Name"].as_str(), ns["Public"].as_bool()),
        (Some("new-ns"), Some(true))
    );
    assert!(ns["CreationTime"].as_str().unwrap().ends_with('Z'));
    let dup = env.error_code(
        "CreateNamespace",
        json!({"RegistryId": REG, "NamespaceName": "new-ns", "IsPublic": false}),
    );
    assert_eq!(dup.0, "ResourceInUse");
    let bad = env.error_code(
        "CreateNamespace",
        json!({"RegistryId": REG, "NamespaceName": "Bad Name", "IsPublic": false}),
    );
    assert_eq!(bad.0, "InvalidParameterValue");
    assert_eq!(
        env.error_code(
            "DeleteNamespace",
            json!({"RegistryId": REG, "NamespaceName": "team-a"})
        )
        .0,
        "FailedOperation"
    );
    env.call(
        "DeleteNamespace",
        json!({"RegistryId": REG, "NamespaceName": "new-ns"}),
    )
    .unwrap();
    assert_eq!(
        env.call("DescribeNamespaces", json!({"RegistryId": REG}))
            .unwrap()["TotalCount"],
        4
    );
    assert_eq!(
        env.error_code("DescribeNamespaces", json!({"RegistryId": "tcr-nope"}))
            .0,
        "ResourceNotFound"
    );
}

#[test]
fn repositories_lifecycle_and_force_delete_default() {
    let env = Env::demo();
    let create = json!({"RegistryId": REG, "NamespaceName": "sandbox", "RepositoryName": "tools/new", "BriefDescription": "b"});
    env.call("CreateRepository", create.clone()).unwrap();
    assert_eq!(
        env.error_code("CreateRepository", create).0,
        "ResourceInUse"
    );
    let r = env
        .call(
            "DescribeRepositories",
            json!({"RegistryId": REG, "NamespaceName": "sandbox", "RepositoryName": "tools/"}),
        )
        .unwrap();
    assert_eq!(r["TotalCount"], 1);
    let repo = &r["RepositoryList"][0];
    assert_eq!(
        (
            repo["Name"].as_str(),
            repo["Namespace"].as_str(),
            repo["BriefDescription"].as_str()
        ),
        (Some("sandbox/tools/new"), Some("sandbox"), Some("b"))
    );
    assert!(repo["CreationTime"]
        .as_str()
        .unwrap()
        .ends_with(" +0000 UTC"));
    // ForceDelete false refuses a repository with tags; the default (true) deletes it.
    let keep = json!({"RegistryId": REG, "NamespaceName": "team-a", "RepositoryName": "web", "ForceDelete": false});
    assert_eq!(
        env.error_code("DeleteRepository", keep).0,
        "FailedOperation"
    );
    env.call(
        "DeleteRepository",
        json!({"RegistryId": REG, "NamespaceName": "team-a", "RepositoryName": "web"}),
    )
    .unwrap();
    env.call("DeleteRepository", json!({"RegistryId": REG, "NamespaceName": "sandbox", "RepositoryName": "tools/new", "ForceDelete": false})).unwrap();
    assert_eq!(
        env.call("DescribeRepositories", json!({"RegistryId": REG}))
            .unwrap()["TotalCount"],
        49
    );
    let sorted = env
        .call(
            "DescribeRepositories",
            json!({"RegistryId": REG, "SortBy": "-update_time", "Limit": 100}),
        )
        .unwrap();
    let times: Vec<&str> = sorted["RepositoryList"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["UpdateTime"].as_str().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "{times:?}");
}

#[test]
fn images_fuzzy_and_exact_match_and_digest_filter() {
    let env = Env::demo();
    let store = env.emulator().emulator.snapshot();
    let repo = &store.instances[0].namespaces["team-a"].repositories["web"];
    let base = json!({"RegistryId": REG, "NamespaceName": "team-a", "RepositoryName": "web", "Limit": 100});
    let all = env.call("DescribeImages", base.clone()).unwrap();
    assert_eq!(all["TotalCount"], repo.tags.len());
    let first = &all["ImageInfoList"][0];
    assert!(chrono::NaiveDateTime::parse_from_str(
        first["UpdateTime"].as_str().unwrap(),
        "%Y-%m-%d %H:%M:%S"
    )
    .is_ok());
    let times: Vec<&str> = all["ImageInfoList"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["UpdateTime"].as_str().unwrap())
        .collect();
    assert!(
        times.windows(2).all(|w| w[0] >= w[1]),
        "newest first: {times:?}"
    );
    let with = |extra: Value| {
        let mut p = base.clone();
        p.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        env.call("DescribeImages", p).unwrap()
    };
    let fuzzy_count = repo.tags.iter().filter(|t| t.name.contains("v1")).count();
    assert_eq!(
        with(json!({"ImageVersion": "v1"}))["TotalCount"],
        fuzzy_count
    );
    let exact = &repo.tags[0].name;
    assert_eq!(
        with(json!({"ImageVersion": exact, "ExactMatch": true}))["TotalCount"],
        1
    );
    let digest = &repo.tags[0].digest;
    let same_digest = repo.tags.iter().filter(|t| &t.digest == digest).count();
    assert_eq!(with(json!({"Digest": digest}))["TotalCount"], same_digest);
}

#[test]
fn deleting_an_image_removes_its_artifact() {
    let env = Env::demo();
    let store = env.emulator().emulator.snapshot();
    // Find a repository whose latest tag shares its digest with a build tag.
    let (ns, name, repo) = store.instances[0]
        .namespaces
        .iter()
        .flat_map(|(ns, n)| {
            n.repositories
                .iter()
                .map(move |(name, r)| (ns.clone(), name.clone(), r.clone()))
        })
        .find(|(_, _, r)| r.tags.iter().any(|t| t.name == "latest"))
        .unwrap();
    let latest = repo.tags.iter().find(|t| t.name == "latest").unwrap();
    let twin = repo
        .tags
        .iter()
        .find(|t| t.digest == latest.digest && t.name != "latest")
        .unwrap()
        .name
        .clone();
    let before = tags(&env, &ns, &name);
    env.call("DeleteImage", json!({"RegistryId": REG, "NamespaceName": ns, "RepositoryName": name, "ImageVersion": twin})).unwrap();
    let after = tags(&env, &ns, &name);
    assert_eq!(
        after.len(),
        before.len() - 2,
        "the tag and latest (same digest) are gone"
    );
    assert!(!after.contains(&"latest".to_string()));
    let again = env.error_code("DeleteImage", json!({"RegistryId": REG, "NamespaceName": ns, "RepositoryName": name, "ImageVersion": twin}));
    assert_eq!(again.0, "ResourceNotFound");
}

#[test]
fn image_manifest_is_a_json_document() {
    let env = Env::demo();
    let tag = tags(&env, "team-a", "web")[0].clone();
    let r = env.call("DescribeImageManifests", json!({"RegistryId": REG, "NamespaceName": "team-a", "RepositoryName": "web", "ImageVersion": tag})).unwrap();
    let manifest: Value = serde_json::from_str(r["Manifest"].as_str().unwrap()).unwrap();
    assert_eq!(manifest["schemaVersion"], 2);
    let config: Value = serde_json::from_str(r["Config"].as_str().unwrap()).unwrap();
    assert_eq!(config["os"], "linux");
    assert!(r["Size"].as_i64().unwrap() > 0);
}

#[test]
fn retention_rules_and_executions() {
    let env = Env::demo();
    let ns_id = env
        .call(
            "DescribeNamespaces",
            json!({"RegistryId": REG, "NamespaceName": "sandbox"}),
        )
        .unwrap()["NamespaceList"][0]["NamespaceId"]
        .clone();
    let rule = json!({"RegistryId": REG, "NamespaceId": ns_id, "CronSetting": "manual", "RetentionRule": {"Key": "latestPushedK", "Value": 3}});
    env.call("CreateTagRetentionRule", rule.clone()).unwrap();
    assert_eq!(
        env.error_code("CreateTagRetentionRule", rule).0,
        "ResourceInUse"
    );
    let rules = env
        .call("DescribeTagRetentionRules", json!({"RegistryId": REG}))
        .unwrap();
    assert_eq!(rules["TotalCount"], 1);
    let policy = &rules["RetentionPolicyList"][0];
    assert_eq!(
        policy["RetentionRuleList"][0],
        json!({"Key": "latestPushedK", "Value": 3})
    );
    let id = policy["RetentionId"].clone();
    env.call("ModifyTagRetentionRule", json!({"RegistryId": REG, "NamespaceId": ns_id, "CronSetting": "daily", "RetentionId": id, "RetentionRule": {"Key": "latestPushedK", "Value": 2}})).unwrap();
    assert_eq!(
        env.call("DescribeTagRetentionRules", json!({"RegistryId": REG}))
            .unwrap()["RetentionPolicyList"][0]["CronSetting"],
        "daily"
    );

    let before = env.emulator().emulator.snapshot();
    env.call(
        "CreateTagRetentionExecution",
        json!({"RegistryId": REG, "RetentionId": id, "DryRun": true}),
    )
    .unwrap();
    assert_eq!(
        env.emulator().emulator.snapshot().tag_count(),
        before.tag_count(),
        "a dry run deletes nothing"
    );
    env.call(
        "CreateTagRetentionExecution",
        json!({"RegistryId": REG, "RetentionId": id}),
    )
    .unwrap();
    let after = env.emulator().emulator.snapshot();
    for (name, repo) in &after.instances[0].namespaces["sandbox"].repositories {
        let distinct: std::collections::BTreeSet<&str> =
            repo.tags.iter().map(|t| t.digest.as_str()).collect();
        assert!(
            distinct.len() <= 2,
            "{name} keeps at most 2 artifacts, has {:?}",
            repo.tags
        );
    }
    assert_eq!(
        after.instances[0].namespaces["team-a"].repositories.len(),
        15,
        "other namespaces untouched"
    );
    assert_eq!(
        after.instances[0].namespaces["team-a"]
            .repositories
            .values()
            .map(|r| r.tags.len())
            .sum::<usize>(),
        before.instances[0].namespaces["team-a"]
            .repositories
            .values()
            .map(|r| r.tags.len())
            .sum::<usize>()
    );
    let execs = env
        .call(
            "DescribeTagRetentionExecution",
            json!({"RegistryId": REG, "RetentionId": id}),
        )
        .unwrap();
    assert_eq!(execs["TotalCount"], 2);
    let exec_id = execs["RetentionExecutionList"][0]["ExecutionId"].clone();
    assert_eq!(execs["RetentionExecutionList"][0]["Status"], "Succeed");
    let tasks = env
        .call(
            "DescribeTagRetentionExecutionTask",
            json!({"RegistryId": REG, "RetentionId": id, "ExecutionId": exec_id}),
        )
        .unwrap();
    assert_eq!(tasks["TotalCount"], 8);
    assert!(
        tasks["RetentionTaskList"][0]["Retained"].as_i64().unwrap()
            <= tasks["RetentionTaskList"][0]["Total"].as_i64().unwrap()
    );
    env.call(
        "DeleteTagRetentionRule",
        json!({"RegistryId": REG, "RetentionId": id}),
    )
    .unwrap();
    assert_eq!(
        env.call("DescribeTagRetentionRules", json!({"RegistryId": REG}))
            .unwrap()["TotalCount"],
        0
    );
    assert_eq!(
        env.error_code(
            "DeleteTagRetentionRule",
            json!({"RegistryId": REG, "RetentionId": id})
        )
        .0,
        "ResourceNotFound"
    );
}

#[test]
fn personal_edition_images() {
    let env = Env::demo();
    let r = env
        .call("DescribeImagePersonal", json!({"RepoName": "team-a/web"}))
        .unwrap();
    let count = r["Data"]["TagCount"].as_i64().unwrap();
    assert_eq!(count as usize, tags(&env, "team-a", "web").len());
    assert!(r["Data"]["TagInfo"][0]["PushTime"]
        .as_str()
        .unwrap()
        .ends_with("+0000 UTC"));
    let victim = r["Data"]["TagInfo"][count as usize - 1]["TagName"]
        .as_str()
        .unwrap()
        .to_string();
    env.call(
        "DeleteImagePersonal",
        json!({"RepoName": "team-a/web", "Tag": victim}),
    )
    .unwrap();
    assert!(!tags(&env, "team-a", "web").contains(&victim));
    assert_eq!(
        env.error_code("DescribeImagePersonal", json!({"RepoName": "noslash"}))
            .0,
        "InvalidParameterValue"
    );
}
