//! The emulator's in-memory registry: instances, namespaces, repositories, image tags and tag
//! retention rules with their executions. Serialisable, so `--seed` and `--state` files are
//! plain JSON of this model. Times are Unix seconds (UTC); each action formats them the way
//! the real action does (see `format_*`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The whole emulated account.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Store {
    pub instances: Vec<Instance>,
    /// Next id for namespaces, retention rules, executions, tasks.
    #[serde(default = "first_id")]
    pub next_id: i64,
}

fn first_id() -> i64 {
    1000
}

/// One TCR instance (registry).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Instance {
    pub id: String,
    pub name: String,
    pub region: String,
    #[serde(default = "default_registry_type")]
    pub registry_type: String,
    pub created_at: i64,
    #[serde(default)]
    pub namespaces: BTreeMap<String, Namespace>,
    #[serde(default)]
    pub retention_rules: Vec<RetentionRule>,
    #[serde(default)]
    pub executions: Vec<RetentionExecution>,
}

fn default_registry_type() -> String {
    "premium".into()
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Namespace {
    pub id: i64,
    #[serde(default)]
    pub public: bool,
    pub created_at: i64,
    #[serde(default)]
    pub repositories: BTreeMap<String, Repository>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Repository {
    pub created_at: i64,
    pub updated_at: i64,
    #[serde(default)]
    pub brief_description: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub public: bool,
    #[serde(default)]
    pub tags: Vec<Tag>,
}

/// One image tag (TCR calls it an image version).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Tag {
    pub name: String,
    pub digest: String,
    pub size: i64,
    /// Push / update time, Unix seconds.
    pub pushed_at: i64,
    #[serde(default = "default_kind")]
    pub kind: String,
}

pub fn default_kind() -> String {
    "Artifact::application/vnd.docker.distribution.manifest.v2+json".into()
}

/// A server-side tag retention rule (one per namespace).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RetentionRule {
    pub id: i64,
    pub namespace: String,
    /// `latestPushedK` or `nDaysSinceLastPush`.
    pub key: String,
    pub value: i64,
    pub cron: String,
    pub disabled: bool,
}

/// One run of a retention rule, with a task per repository.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RetentionExecution {
    pub id: i64,
    pub retention_id: i64,
    pub started_at: i64,
    pub ended_at: i64,
    pub status: String,
    pub dry_run: bool,
    pub tasks: Vec<RetentionTask>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RetentionTask {
    pub id: i64,
    pub repository: String,
    pub total: i64,
    pub retained: i64,
    /// Tags the task deleted (or would delete, in a dry run).
    pub deleted: Vec<String>,
}

impl Store {
    /// A fresh id for any numbered object.
    pub fn next_id(&mut self) -> i64 {
        self.next_id += 1;
        self.next_id
    }

    pub fn instance(&self, id: &str) -> Option<&Instance> {
        self.instances.iter().find(|i| i.id == id)
    }

    pub fn instance_mut(&mut self, id: &str) -> Option<&mut Instance> {
        self.instances.iter_mut().find(|i| i.id == id)
    }

    /// Every tag of every repository, for tests and summaries: `(instance, ns, repo, tag)`.
    pub fn tag_count(&self) -> usize {
        self.instances
            .iter()
            .flat_map(|i| i.namespaces.values())
            .flat_map(|n| n.repositories.values())
            .map(|r| r.tags.len())
            .sum()
    }
}

fn utc(ts: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(ts, 0).unwrap_or_default()
}

/// `2022-07-19 15:16:17` (DescribeImages.UpdateTime).
pub fn format_plain(ts: i64) -> String {
    utc(ts).format("%Y-%m-%d %H:%M:%S").to_string()
}

/// `2022-07-16 10:34:42.697947 +0000 UTC` (DescribeRepositories times, Go's time.String()).
pub fn format_go(ts: i64) -> String {
    utc(ts)
        .format("%Y-%m-%d %H:%M:%S.000000 +0000 UTC")
        .to_string()
}

/// `2024-12-10T14:04:56Z` (DescribeNamespaces.CreationTime).
pub fn format_iso_z(ts: i64) -> String {
    utc(ts).format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// `2024-07-19T15:33:22+00:00` (DescribeInstances.CreatedAt).
pub fn format_iso_offset(ts: i64) -> String {
    utc(ts).format("%Y-%m-%dT%H:%M:%S+00:00").to_string()
}

/// `2025-01-02 15:14:45 +0000 UTC` (personal edition TagInfo times).
pub fn format_personal(ts: i64) -> String {
    utc(ts).format("%Y-%m-%d %H:%M:%S +0000 UTC").to_string()
}
