//! The emulated TCR actions. Each handler reads validated parameters, changes or reads the
//! [`Store`], and returns the `Response` fields (without `RequestId`, added by the server).
//!
//! Deleting a tag removes the artifact, as Harbor (which TCR runs on) does: every tag that
//! shares the deleted tag's digest goes with it. Cleanup code must therefore protect digests,
//! not just tag names, and the emulator makes that mistake visible.

use serde_json::{json, Value};

use super::paging::window;
use super::store::{
    format_go, format_iso_offset, format_iso_z, format_personal, format_plain, Namespace,
    Repository, RetentionExecution, RetentionRule, RetentionTask, Store, Tag,
};
use super::ApiError;

/// Actions the emulator implements; any other catalogued action is `UnsupportedOperation`.
pub const IMPLEMENTED: &[&str] = &[
    "DescribeInstances",
    "CreateNamespace",
    "DeleteNamespace",
    "DescribeNamespaces",
    "CreateRepository",
    "DeleteRepository",
    "DescribeRepositories",
    "DescribeImages",
    "DeleteImage",
    "DescribeImageManifests",
    "CreateTagRetentionRule",
    "DescribeTagRetentionRules",
    "ModifyTagRetentionRule",
    "DeleteTagRetentionRule",
    "CreateTagRetentionExecution",
    "DescribeTagRetentionExecution",
    "DescribeTagRetentionExecutionTask",
    "DescribeImagePersonal",
    "DeleteImagePersonal",
];

/// Everything a handler may use.
pub struct Ctx<'a> {
    pub store: &'a mut Store,
    pub params: &'a Value,
    pub action: &'a str,
    pub now: i64,
    /// Most items one page may hold, below the documented maximum (`--page-size-cap`).
    pub page_size_cap: Option<usize>,
}

/// Run `action`.
///
/// # Errors
/// The API error the service would answer with.
pub fn dispatch(ctx: &mut Ctx<'_>) -> Result<Value, ApiError> {
    match ctx.action {
        "DescribeInstances" => describe_instances(ctx),
        "CreateNamespace" => create_namespace(ctx),
        "DeleteNamespace" => delete_namespace(ctx),
        "DescribeNamespaces" => describe_namespaces(ctx),
        "CreateRepository" => create_repository(ctx),
        "DeleteRepository" => delete_repository(ctx),
        "DescribeRepositories" => describe_repositories(ctx),
        "DescribeImages" => describe_images(ctx),
        "DeleteImage" => delete_image(ctx),
        "DescribeImageManifests" => describe_image_manifests(ctx),
        "CreateTagRetentionRule" => create_retention_rule(ctx),
        "DescribeTagRetentionRules" => describe_retention_rules(ctx),
        "ModifyTagRetentionRule" => modify_retention_rule(ctx),
        "DeleteTagRetentionRule" => delete_retention_rule(ctx),
        "CreateTagRetentionExecution" => create_retention_execution(ctx),
        "DescribeTagRetentionExecution" => describe_retention_executions(ctx),
        "DescribeTagRetentionExecutionTask" => describe_retention_tasks(ctx),
        "DescribeImagePersonal" => describe_image_personal(ctx),
        "DeleteImagePersonal" => delete_image_personal(ctx),
        other => Err(ApiError::new(
            "UnsupportedOperation",
            format!("The emulator does not implement `{other}`."),
        )),
    }
}

fn str_param<'a>(params: &'a Value, name: &str) -> &'a str {
    params.get(name).and_then(Value::as_str).unwrap_or("")
}

/// An integer parameter, 0 when absent (validation has already checked its type).
fn int_param(params: &Value, name: &str) -> i64 {
    params.get(name).and_then(Value::as_i64).unwrap_or(0)
}

fn opt_str<'a>(params: &'a Value, name: &str) -> Option<&'a str> {
    params
        .get(name)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

fn not_found(what: String) -> ApiError {
    ApiError::new("ResourceNotFound", format!("{what} does not exist."))
}

fn instance<'a>(ctx: &'a mut Ctx<'_>) -> Result<&'a mut super::store::Instance, ApiError> {
    let id = str_param(ctx.params, "RegistryId").to_string();
    ctx.store
        .instance_mut(&id)
        .ok_or_else(|| not_found(format!("Instance `{id}`")))
}

fn namespace<'a>(ctx: &'a mut Ctx<'_>) -> Result<&'a mut Namespace, ApiError> {
    let ns = str_param(ctx.params, "NamespaceName").to_string();
    instance(ctx)?
        .namespaces
        .get_mut(&ns)
        .ok_or_else(|| not_found(format!("Namespace `{ns}`")))
}

fn repository<'a>(ctx: &'a mut Ctx<'_>) -> Result<&'a mut Repository, ApiError> {
    let repo = str_param(ctx.params, "RepositoryName").to_string();
    let ns = str_param(ctx.params, "NamespaceName").to_string();
    namespace(ctx)?
        .repositories
        .get_mut(&repo)
        .ok_or_else(|| not_found(format!("Repository `{ns}/{repo}`")))
}

fn page<T: Clone>(ctx: &Ctx<'_>, items: &[T]) -> Result<Vec<T>, ApiError> {
    Ok(window(ctx.action, ctx.params, ctx.page_size_cap)?.apply(items))
}

fn describe_instances(ctx: &mut Ctx<'_>) -> Result<Value, ApiError> {
    let ids: Vec<&str> = ctx
        .params
        .get("Registryids")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let name_filter: Vec<String> = ctx
        .params
        .get("Filters")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|f| f.get("Name").and_then(Value::as_str) == Some("RegistryName"))
        .flat_map(|f| {
            f.get("Values")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        })
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    let matching: Vec<Value> = ctx
        .store
        .instances
        .iter()
        .filter(|i| ids.is_empty() || ids.contains(&i.id.as_str()))
        .filter(|i| name_filter.is_empty() || name_filter.contains(&i.name))
        .map(|i| {
            json!({
                "RegistryId": i.id,
                "RegistryName": i.name,
                "RegistryType": i.registry_type,
                "Status": "Running",
                "PublicDomain": format!("{}.tencentcloudcr.com", i.name),
                "CreatedAt": format_iso_offset(i.created_at),
                "RegionName": i.region,
                "RegionId": 1,
                "EnableAnonymous": false,
                "TokenValidTime": 87600,
                "InternalEndpoint": "10.0.0.10",
                "TagSpecification": {"ResourceType": "instance", "Tags": []},
                "ExpiredAt": "",
                "PayMod": 0,
                "RenewFlag": 0,
                "DeletionProtection": false,
                "EnableCosMAZ": false,
                "EnableCosVersioning": false,
            })
        })
        .collect();
    let total = matching.len();
    Ok(json!({"TotalCount": total, "Registries": page(ctx, &matching)?}))
}

/// Namespace names: 2-30 lowercase letters, digits, `-` and `_`.
fn valid_namespace_name(name: &str) -> bool {
    (2..=30).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

fn create_namespace(ctx: &mut Ctx<'_>) -> Result<Value, ApiError> {
    let name = str_param(ctx.params, "NamespaceName").to_string();
    if !valid_namespace_name(&name) {
        return Err(ApiError::new(
            "InvalidParameterValue",
            format!("The value `{name}` of parameter `NamespaceName` is not valid: 2-30 lowercase letters, digits, - or _."),
        ));
    }
    let public = ctx
        .params
        .get("IsPublic")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let (now, id) = (ctx.now, ctx.store.next_id());
    let instance = instance(ctx)?;
    if instance.namespaces.contains_key(&name) {
        return Err(ApiError::new(
            "ResourceInUse",
            format!("Namespace `{name}` already exists."),
        ));
    }
    instance.namespaces.insert(
        name,
        Namespace {
            id,
            public,
            created_at: now,
            repositories: Default::default(),
        },
    );
    Ok(json!({}))
}

fn delete_namespace(ctx: &mut Ctx<'_>) -> Result<Value, ApiError> {
    let name = str_param(ctx.params, "NamespaceName").to_string();
    let ns = namespace(ctx)?;
    if !ns.repositories.is_empty() {
        return Err(ApiError::new(
            "FailedOperation",
            format!(
                "Namespace `{name}` still has {} repositories; delete them first.",
                ns.repositories.len()
            ),
        ));
    }
    let instance = instance(ctx)?;
    instance.namespaces.remove(&name);
    instance.retention_rules.retain(|r| r.namespace != name);
    Ok(json!({}))
}

fn describe_namespaces(ctx: &mut Ctx<'_>) -> Result<Value, ApiError> {
    let filter = opt_str(ctx.params, "NamespaceName").map(str::to_string);
    let instance = instance(ctx)?;
    let list: Vec<Value> = instance
        .namespaces
        .iter()
        .filter(|(name, _)| filter.as_deref().is_none_or(|f| name.contains(f)))
        .map(|(name, ns)| {
            json!({
                "Name": name,
                "CreationTime": format_iso_z(ns.created_at),
                "Public": ns.public,
                "NamespaceId": ns.id,
                "TagSpecification": {"ResourceType": "namespace", "Tags": []},
                "Metadata": [],
                "CVEWhitelistItems": [],
                "AutoScan": false,
                "PreventVUL": false,
                "Severity": "",
            })
        })
        .collect();
    let all = ctx
        .params
        .get("All")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let total = list.len();
    let items = if all { list } else { page(ctx, &list)? };
    Ok(json!({"NamespaceList": items, "TotalCount": total}))
}

/// Repository names: 2-245 characters of lowercase letters, digits, `.`, `_`, `-`, and `/`
/// between path components.
fn valid_repository_name(name: &str) -> bool {
    (2..245).contains(&name.len())
        && name.split('/').all(|part| {
            !part.is_empty()
                && part.bytes().all(|b| {
                    b.is_ascii_lowercase()
                        || b.is_ascii_digit()
                        || b == b'.'
                        || b == b'_'
                        || b == b'-'
                })
        })
}

fn create_repository(ctx: &mut Ctx<'_>) -> Result<Value, ApiError> {
    let name = str_param(ctx.params, "RepositoryName").to_string();
    if !valid_repository_name(&name) {
        return Err(ApiError::new(
            "InvalidParameterValue",
            format!("The value `{name}` of parameter `RepositoryName` is not valid: 2-244 lowercase letters, digits, . _ - and /."),
        ));
    }
    let brief = str_param(ctx.params, "BriefDescription").to_string();
    let description = str_param(ctx.params, "Description").to_string();
    let now = ctx.now;
    let ns = namespace(ctx)?;
    if ns.repositories.contains_key(&name) {
        return Err(ApiError::new(
            "ResourceInUse",
            format!("Repository `{name}` already exists."),
        ));
    }
    ns.repositories.insert(
        name,
        Repository {
            created_at: now,
            updated_at: now,
            brief_description: brief,
            description,
            public: ns.public,
            tags: Vec::new(),
        },
    );
    Ok(json!({}))
}

fn delete_repository(ctx: &mut Ctx<'_>) -> Result<Value, ApiError> {
    // ForceDelete defaults to true in the real API: a repository with tags is deleted anyway.
    let force = ctx
        .params
        .get("ForceDelete")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    let name = str_param(ctx.params, "RepositoryName").to_string();
    let repo = repository(ctx)?;
    if !force && !repo.tags.is_empty() {
        return Err(ApiError::new(
            "FailedOperation",
            format!(
                "Repository `{name}` still has {} tags and ForceDelete is false.",
                repo.tags.len()
            ),
        ));
    }
    namespace(ctx)?.repositories.remove(&name);
    Ok(json!({}))
}

fn describe_repositories(ctx: &mut Ctx<'_>) -> Result<Value, ApiError> {
    let ns_filter = opt_str(ctx.params, "NamespaceName").map(str::to_string);
    let name_filter = opt_str(ctx.params, "RepositoryName").map(str::to_string);
    let sort = opt_str(ctx.params, "SortBy").unwrap_or("").to_string();
    let instance = instance(ctx)?;
    let mut rows: Vec<(String, &String, &Repository)> = instance
        .namespaces
        .iter()
        .filter(|(ns, _)| ns_filter.as_deref().is_none_or(|f| *ns == f))
        .flat_map(|(ns, n)| {
            n.repositories
                .iter()
                .map(move |(name, r)| (ns.clone(), name, r))
        })
        .filter(|(_, name, _)| name_filter.as_deref().is_none_or(|f| name.contains(f)))
        .collect();
    match sort.as_str() {
        "-creation_time" => rows.sort_by_key(|(_, _, r)| std::cmp::Reverse(r.created_at)),
        "creation_time" => rows.sort_by_key(|(_, _, r)| r.created_at),
        "-update_time" => rows.sort_by_key(|(_, _, r)| std::cmp::Reverse(r.updated_at)),
        "update_time" => rows.sort_by_key(|(_, _, r)| r.updated_at),
        "-name" => rows.sort_by(|a, b| (&b.0, b.1).cmp(&(&a.0, a.1))),
        _ => {}
    }
    let list: Vec<Value> = rows
        .iter()
        .map(|(ns, name, r)| {
            json!({
                "Name": format!("{ns}/{name}"),
                "Namespace": ns,
                "CreationTime": format_go(r.created_at),
                "Public": r.public,
                "Description": r.description,
                "BriefDescription": r.brief_description,
                "UpdateTime": format_go(r.updated_at),
            })
        })
        .collect();
    let total = list.len();
    Ok(json!({"RepositoryList": page(ctx, &list)?, "TotalCount": total}))
}

/// Tags newest first, ties by name, the order the console shows.
fn newest_first(tags: &[Tag]) -> Vec<&Tag> {
    let mut sorted: Vec<&Tag> = tags.iter().collect();
    sorted.sort_by(|a, b| b.pushed_at.cmp(&a.pushed_at).then(a.name.cmp(&b.name)));
    sorted
}

fn describe_images(ctx: &mut Ctx<'_>) -> Result<Value, ApiError> {
    let version = opt_str(ctx.params, "ImageVersion").map(str::to_string);
    let digest = opt_str(ctx.params, "Digest").map(str::to_string);
    let exact = ctx
        .params
        .get("ExactMatch")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let repo = repository(ctx)?;
    let list: Vec<Value> = newest_first(&repo.tags)
        .into_iter()
        .filter(|t| match &version {
            Some(v) if exact => t.name == *v,
            Some(v) => t.name.contains(v.as_str()),
            None => true,
        })
        .filter(|t| digest.as_deref().is_none_or(|d| t.digest == d))
        .map(|t| {
            json!({
                "Digest": t.digest,
                "Size": t.size,
                "ImageVersion": t.name,
                "UpdateTime": format_plain(t.pushed_at),
                "Kind": t.kind,
                "KmsSignature": "",
            })
        })
        .collect();
    let total = list.len();
    Ok(json!({"ImageInfoList": page(ctx, &list)?, "TotalCount": total}))
}

/// Remove a tag and, as Harbor does, every tag of the same artifact (digest).
fn remove_artifact(repo: &mut Repository, tag: &str) -> Option<Vec<String>> {
    let digest = repo.tags.iter().find(|t| t.name == tag)?.digest.clone();
    let removed = repo
        .tags
        .iter()
        .filter(|t| t.digest == digest)
        .map(|t| t.name.clone())
        .collect();
    repo.tags.retain(|t| t.digest != digest);
    Some(removed)
}

fn delete_image(ctx: &mut Ctx<'_>) -> Result<Value, ApiError> {
    let version = str_param(ctx.params, "ImageVersion").to_string();
    let now = ctx.now;
    let repo = repository(ctx)?;
    remove_artifact(repo, &version)
        .ok_or_else(|| not_found(format!("Image version `{version}`")))?;
    repo.updated_at = now;
    Ok(json!({}))
}

fn describe_image_manifests(ctx: &mut Ctx<'_>) -> Result<Value, ApiError> {
    let version = str_param(ctx.params, "ImageVersion").to_string();
    let repo = repository(ctx)?;
    let tag = repo
        .tags
        .iter()
        .find(|t| t.name == version)
        .ok_or_else(|| not_found(format!("Image version `{version}`")))?;
    let config_digest = format!("sha256:{}", &super::sha256_of(&tag.digest));
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 1469, "digest": config_digest},
        "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": tag.size, "digest": tag.digest}],
    });
    let config = json!({"architecture": "amd64", "os": "linux", "created": format_iso_z(tag.pushed_at), "config": {"Labels": {}}});
    Ok(json!({
        "Manifest": manifest.to_string(),
        "Config": config.to_string(),
        "Labels": [],
        "Size": tag.size,
    }))
}

fn retention_rule_value(params: &Value) -> Result<(String, i64), ApiError> {
    let rule = params.get("RetentionRule").ok_or_else(|| {
        ApiError::new(
            "MissingParameter",
            "The request is missing a required parameter `RetentionRule`.",
        )
    })?;
    let key = str_param(rule, "Key").to_string();
    let value = rule.get("Value").and_then(Value::as_i64).unwrap_or(0);
    if key != "latestPushedK" && key != "nDaysSinceLastPush" {
        return Err(ApiError::new(
            "InvalidParameterValue",
            format!("The value `{key}` of parameter `RetentionRule.Key` is not valid: latestPushedK or nDaysSinceLastPush."),
        ));
    }
    if value < 0 {
        return Err(ApiError::new(
            "InvalidParameterValue",
            "The value of parameter `RetentionRule.Value` must not be negative.",
        ));
    }
    Ok((key, value))
}

fn cron_setting(params: &Value) -> Result<String, ApiError> {
    let cron = str_param(params, "CronSetting").to_string();
    if !["manual", "daily", "weekly", "monthly"].contains(&cron.as_str()) {
        return Err(ApiError::new(
            "InvalidParameterValue",
            format!("The value `{cron}` of parameter `CronSetting` is not valid: manual, daily, weekly or monthly."),
        ));
    }
    Ok(cron)
}

fn namespace_by_id(instance: &super::store::Instance, id: i64) -> Result<String, ApiError> {
    instance
        .namespaces
        .iter()
        .find(|(_, ns)| ns.id == id)
        .map(|(name, _)| name.clone())
        .ok_or_else(|| not_found(format!("Namespace with id {id}")))
}

fn create_retention_rule(ctx: &mut Ctx<'_>) -> Result<Value, ApiError> {
    let (key, value) = retention_rule_value(ctx.params)?;
    let cron = cron_setting(ctx.params)?;
    let disabled = ctx
        .params
        .get("Disabled")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let ns_id = int_param(ctx.params, "NamespaceId");
    let id = ctx.store.next_id();
    let instance = instance(ctx)?;
    let namespace = namespace_by_id(instance, ns_id)?;
    if instance
        .retention_rules
        .iter()
        .any(|r| r.namespace == namespace)
    {
        return Err(ApiError::new(
            "ResourceInUse",
            format!("Namespace `{namespace}` already has a tag retention rule."),
        ));
    }
    instance.retention_rules.push(RetentionRule {
        id,
        namespace,
        key,
        value,
        cron,
        disabled,
    });
    Ok(json!({}))
}

fn retention_rule_json(r: &RetentionRule) -> Value {
    json!({
        "RetentionId": r.id,
        "NamespaceName": r.namespace,
        "RetentionRuleList": [{"Key": r.key, "Value": r.value}],
        "AdvancedRuleItems": [],
        "CronSetting": r.cron,
        "Disabled": r.disabled,
        "NextExecutionTime": "",
    })
}

fn describe_retention_rules(ctx: &mut Ctx<'_>) -> Result<Value, ApiError> {
    let filter = opt_str(ctx.params, "NamespaceName").map(str::to_string);
    let instance = instance(ctx)?;
    let list: Vec<Value> = instance
        .retention_rules
        .iter()
        .filter(|r| filter.as_deref().is_none_or(|f| r.namespace == f))
        .map(retention_rule_json)
        .collect();
    let total = list.len();
    Ok(json!({"RetentionPolicyList": page(ctx, &list)?, "TotalCount": total}))
}

fn rule_index(instance: &super::store::Instance, id: i64) -> Result<usize, ApiError> {
    instance
        .retention_rules
        .iter()
        .position(|r| r.id == id)
        .ok_or_else(|| not_found(format!("Tag retention rule {id}")))
}

fn modify_retention_rule(ctx: &mut Ctx<'_>) -> Result<Value, ApiError> {
    let (key, value) = retention_rule_value(ctx.params)?;
    let cron = cron_setting(ctx.params)?;
    let disabled = ctx.params.get("Disabled").and_then(Value::as_bool);
    let id = int_param(ctx.params, "RetentionId");
    let ns_id = int_param(ctx.params, "NamespaceId");
    let instance = instance(ctx)?;
    let namespace = namespace_by_id(instance, ns_id)?;
    let index = rule_index(instance, id)?;
    let rule = &mut instance.retention_rules[index];
    if rule.namespace != namespace {
        return Err(ApiError::new(
            "InvalidParameterValue",
            format!(
                "Tag retention rule {id} belongs to namespace `{}`, not `{namespace}`.",
                rule.namespace
            ),
        ));
    }
    rule.key = key;
    rule.value = value;
    rule.cron = cron;
    if let Some(d) = disabled {
        rule.disabled = d;
    }
    Ok(json!({}))
}

fn delete_retention_rule(ctx: &mut Ctx<'_>) -> Result<Value, ApiError> {
    let id = int_param(ctx.params, "RetentionId");
    let instance = instance(ctx)?;
    let index = rule_index(instance, id)?;
    instance.retention_rules.remove(index);
    Ok(json!({}))
}

/// Tags a retention rule keeps in one repository: the `value` most recently pushed
/// (`latestPushedK`) or those pushed within `value` days (`nDaysSinceLastPush`).
fn retained(rule: &RetentionRule, tags: &[Tag], now: i64) -> Vec<String> {
    let sorted = newest_first(tags);
    match rule.key.as_str() {
        "latestPushedK" => sorted
            .iter()
            .take(rule.value as usize)
            .map(|t| t.name.clone())
            .collect(),
        _ => sorted
            .iter()
            .filter(|t| now - t.pushed_at <= rule.value * 86_400)
            .map(|t| t.name.clone())
            .collect(),
    }
}

fn create_retention_execution(ctx: &mut Ctx<'_>) -> Result<Value, ApiError> {
    let id = int_param(ctx.params, "RetentionId");
    let dry_run = ctx
        .params
        .get("DryRun")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let now = ctx.now;
    let execution_id = ctx.store.next_id();
    let first_task_id = ctx.store.next_id;
    let instance = instance(ctx)?;
    let rule = instance.retention_rules[rule_index(instance, id)?].clone();
    let mut tasks = Vec::new();
    if let Some(ns) = instance.namespaces.get_mut(&rule.namespace) {
        for (name, repo) in ns.repositories.iter_mut() {
            let keep = retained(&rule, &repo.tags, now);
            // A kept tag protects its digest: deleting another tag of it would delete it too.
            let kept_digests: Vec<String> = repo
                .tags
                .iter()
                .filter(|t| keep.contains(&t.name))
                .map(|t| t.digest.clone())
                .collect();
            let doomed: Vec<String> = repo
                .tags
                .iter()
                .filter(|t| !keep.contains(&t.name) && !kept_digests.contains(&t.digest))
                .map(|t| t.name.clone())
                .collect();
            let total = repo.tags.len() as i64;
            if !dry_run {
                repo.tags.retain(|t| !doomed.contains(&t.name));
            }
            tasks.push(RetentionTask {
                id: first_task_id + 1 + tasks.len() as i64,
                repository: name.clone(),
                total,
                retained: total - doomed.len() as i64,
                deleted: doomed,
            });
        }
    }
    let task_count = tasks.len() as i64;
    instance.executions.push(RetentionExecution {
        id: execution_id,
        retention_id: id,
        started_at: now,
        ended_at: now,
        status: "Succeed".into(),
        dry_run,
        tasks,
    });
    ctx.store.next_id += task_count;
    Ok(json!({}))
}

fn describe_retention_executions(ctx: &mut Ctx<'_>) -> Result<Value, ApiError> {
    let id = int_param(ctx.params, "RetentionId");
    let instance = instance(ctx)?;
    rule_index(instance, id)?;
    let mut list: Vec<Value> = instance
        .executions
        .iter()
        .filter(|e| e.retention_id == id)
        .map(|e| {
            json!({
                "ExecutionId": e.id,
                "RetentionId": e.retention_id,
                "StartTime": format_plain(e.started_at),
                "EndTime": format_plain(e.ended_at),
                "Status": e.status,
            })
        })
        .collect();
    list.reverse();
    let total = list.len();
    Ok(json!({"RetentionExecutionList": page(ctx, &list)?, "TotalCount": total}))
}

fn describe_retention_tasks(ctx: &mut Ctx<'_>) -> Result<Value, ApiError> {
    let execution_id = int_param(ctx.params, "ExecutionId");
    let instance = instance(ctx)?;
    let execution = instance
        .executions
        .iter()
        .find(|e| e.id == execution_id)
        .ok_or_else(|| not_found(format!("Tag retention execution {execution_id}")))?;
    let list: Vec<Value> = execution
        .tasks
        .iter()
        .map(|t| {
            json!({
                "TaskId": t.id,
                "ExecutionId": execution.id,
                "StartTime": format_plain(execution.started_at),
                "EndTime": format_plain(execution.ended_at),
                "Status": execution.status,
                "Total": t.total,
                "Retained": t.retained,
                "Repository": t.repository,
            })
        })
        .collect();
    let total = list.len();
    Ok(json!({"RetentionTaskList": page(ctx, &list)?, "TotalCount": total}))
}

/// The personal edition addresses repositories as `namespace/repo`; the emulator serves them
/// from the first instance.
fn personal_repo<'a>(ctx: &'a mut Ctx<'_>) -> Result<&'a mut Repository, ApiError> {
    let full = str_param(ctx.params, "RepoName").to_string();
    let (ns, repo) = full.split_once('/').ok_or_else(|| {
        ApiError::new(
            "InvalidParameterValue",
            format!("The value `{full}` of parameter `RepoName` is not namespace/repository."),
        )
    })?;
    ctx.store
        .instances
        .first_mut()
        .and_then(|i| i.namespaces.get_mut(ns))
        .and_then(|n| n.repositories.get_mut(repo))
        .ok_or_else(|| not_found(format!("Repository `{full}`")))
}

fn describe_image_personal(ctx: &mut Ctx<'_>) -> Result<Value, ApiError> {
    let filter = opt_str(ctx.params, "Tag").map(str::to_string);
    let full = str_param(ctx.params, "RepoName").to_string();
    let repo = personal_repo(ctx)?;
    let list: Vec<Value> = newest_first(&repo.tags)
        .into_iter()
        .filter(|t| filter.as_deref().is_none_or(|f| t.name.contains(f)))
        .enumerate()
        .map(|(i, t)| {
            json!({
                "TagName": t.name,
                "TagId": t.digest,
                "ImageId": t.digest,
                "Size": format!("{} MB", t.size / 1_000_000),
                "CreationTime": format_personal(t.pushed_at),
                "DurationDays": "",
                "Author": "",
                "Architecture": "amd64",
                "DockerVersion": "",
                "OS": "linux",
                "SizeByte": t.size,
                "Id": i + 1,
                "UpdateTime": format_personal(t.pushed_at),
                "PushTime": format_personal(t.pushed_at),
                "Kind": t.kind,
            })
        })
        .collect();
    let total = list.len();
    Ok(json!({"Data": {
        "TagCount": total,
        "TagInfo": page(ctx, &list)?,
        "Server": "ccr.ccs.tencentyun.com",
        "RepoName": full,
    }}))
}

fn delete_image_personal(ctx: &mut Ctx<'_>) -> Result<Value, ApiError> {
    let tag = str_param(ctx.params, "Tag").to_string();
    let repo = personal_repo(ctx)?;
    remove_artifact(repo, &tag).ok_or_else(|| not_found(format!("Tag `{tag}`")))?;
    Ok(json!({}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_documented_rules() {
        assert!(valid_namespace_name("team-a"));
        assert!(!valid_namespace_name("Team"));
        assert!(!valid_namespace_name("a"));
        assert!(valid_repository_name("frontend/admin"));
        assert!(!valid_repository_name("bad//name"));
        assert!(!valid_repository_name("UPPER"));
    }

    #[test]
    fn deleting_a_tag_removes_every_tag_of_its_digest() {
        let tag = |name: &str, digest: &str| Tag {
            name: name.into(),
            digest: digest.into(),
            size: 1,
            pushed_at: 0,
            kind: String::new(),
        };
        let mut repo = Repository {
            created_at: 0,
            updated_at: 0,
            brief_description: String::new(),
            description: String::new(),
            public: false,
            tags: vec![tag("v1", "d1"), tag("latest", "d1"), tag("v0", "d0")],
        };
        assert_eq!(
            remove_artifact(&mut repo, "v1").unwrap(),
            vec!["v1", "latest"]
        );
        assert_eq!(repo.tags.len(), 1);
        assert!(remove_artifact(&mut repo, "nope").is_none());
    }
}
