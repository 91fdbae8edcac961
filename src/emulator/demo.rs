//! Deterministic fixtures: the `--demo` registry (one instance, four namespaces, 50
//! repositories, about 600 tags with push times spread over a year: semver releases and
//! pre-releases, branch-style and commit-hash tags, `latest` in most repositories sharing the
//! digest of the newest build) and `--generate RxT` fixtures for benchmarks.
//!
//! Times are relative to an anchor (by default today's UTC midnight), so ages look the same
//! whenever the demo runs, and the same anchor always yields the same registry.

use std::collections::BTreeMap;

use super::store::{default_kind, Instance, Namespace, Repository, Store, Tag};

/// The demo instance's id, name and region.
pub const DEMO_INSTANCE: &str = "tcr-demo0001";
pub const DEMO_INSTANCE_NAME: &str = "demo";
pub const DEMO_REGION: &str = "ap-guangzhou";

const DAY: i64 = 86_400;

/// splitmix64: a tiny, fully specified generator, so fixtures never change with a crate
/// version (rand's StdRng makes no such promise).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn hex(&mut self, len: usize) -> String {
        let mut s = String::with_capacity(len);
        while s.len() < len {
            s.push_str(&format!("{:016x}", self.next()));
        }
        s.truncate(len);
        s
    }
}

/// Today's UTC midnight, the default anchor.
pub fn today_anchor() -> i64 {
    let now = chrono::Utc::now().timestamp();
    now - now.rem_euclid(DAY)
}

const NAMESPACES: &[(&str, &[&str])] = &[
    (
        "team-a",
        &[
            "web",
            "api",
            "worker",
            "billing",
            "auth",
            "gateway",
            "search",
            "notifier",
            "frontend/admin",
            "frontend/shop",
            "jobs/cron",
            "jobs/etl",
            "reports",
            "cache-warmer",
            "mailer",
        ],
    ),
    (
        "team-b",
        &[
            "ingest",
            "stream",
            "analytics",
            "ml/trainer",
            "ml/serving",
            "dashboard",
            "exporter",
            "scheduler",
            "sync",
            "archiver",
            "profiles",
            "ledger",
        ],
    ),
    (
        "platform",
        &[
            "base/alpine",
            "base/debian",
            "base/python",
            "base/node",
            "base/golang",
            "ci/runner",
            "ci/builder",
            "ingress",
            "logging",
            "monitoring",
            "vault-agent",
            "backup",
            "dns",
            "proxy",
            "mesh",
        ],
    ),
    (
        "sandbox",
        &[
            "hello",
            "test-app",
            "demo",
            "scratch",
            "playground",
            "spike",
            "poc",
            "tmp",
        ],
    ),
];

/// The demo registry, anchored at `anchor` (Unix seconds).
pub fn demo(anchor: i64) -> Store {
    let mut rng = Rng(0x7463_726c_6465_6d6f); // "tcrldemo"
    let mut store = Store {
        instances: Vec::new(),
        next_id: 1000,
    };
    let mut namespaces = BTreeMap::new();
    for (ns_index, (ns, repos)) in NAMESPACES.iter().enumerate() {
        let mut repositories = BTreeMap::new();
        for repo in repos.iter() {
            let tag_count = 4 + rng.below(17) as usize;
            let tags = demo_tags(&mut rng, anchor, tag_count);
            let created_at = tags.iter().map(|t| t.pushed_at).min().unwrap_or(anchor) - DAY;
            let updated_at = tags.iter().map(|t| t.pushed_at).max().unwrap_or(created_at);
            repositories.insert(
                repo.to_string(),
                Repository {
                    created_at,
                    updated_at,
                    brief_description: format!("{repo} image"),
                    description: String::new(),
                    public: *ns == "platform",
                    tags,
                },
            );
        }
        namespaces.insert(
            ns.to_string(),
            Namespace {
                id: 10 + ns_index as i64,
                public: *ns == "platform",
                created_at: anchor - 400 * DAY,
                repositories,
            },
        );
    }
    store.instances.push(demo_instance(anchor, namespaces));
    store
}

/// The one instance of the demo and generated registries.
fn demo_instance(anchor: i64, namespaces: BTreeMap<String, Namespace>) -> Instance {
    Instance {
        id: DEMO_INSTANCE.into(),
        name: DEMO_INSTANCE_NAME.into(),
        region: DEMO_REGION.into(),
        registry_type: "premium".into(),
        created_at: anchor - 420 * DAY,
        namespaces,
        retention_rules: Vec::new(),
        executions: Vec::new(),
    }
}

/// Tags of one demo repository: a release line, builds, and usually `latest`.
fn demo_tags(rng: &mut Rng, anchor: i64, count: usize) -> Vec<Tag> {
    let mut tags: Vec<Tag> = Vec::with_capacity(count + 1);
    let (mut major, mut minor, mut patch) = (1 + rng.below(2), rng.below(5), 0u64);
    // Push times spread over the last year (never in the last hour), oldest first.
    let mut times: Vec<i64> = (0..count)
        .map(|_| anchor - 365 * DAY + rng.below((365 * DAY - 3600) as u64) as i64)
        .collect();
    times.sort_unstable();
    for pushed_at in times {
        let name = match rng.below(10) {
            0..=3 => {
                patch += 1;
                if rng.below(8) == 0 {
                    minor += 1;
                    patch = 0;
                }
                if rng.below(20) == 0 {
                    major += 1;
                    minor = 0;
                    patch = 0;
                }
                format!("v{major}.{minor}.{patch}")
            }
            4 => format!("v{major}.{minor}.{}-rc.{}", patch + 1, 1 + rng.below(3)),
            5 | 6 => format!("main-{}", rng.hex(7)),
            7 => format!(
                "feature-{}-{}",
                ["login", "cache", "search", "retry"][rng.below(4) as usize],
                rng.below(200)
            ),
            _ => {
                let len = if rng.below(2) == 0 { 7 } else { 40 };
                rng.hex(len)
            }
        };
        if tags.iter().any(|t| t.name == name) {
            continue;
        }
        tags.push(Tag {
            name,
            digest: format!("sha256:{}", rng.hex(64)),
            size: 5_000_000 + rng.below(400_000_000) as i64,
            pushed_at,
            kind: default_kind(),
        });
    }
    if rng.below(7) != 0 {
        if let Some(newest) = tags.iter().max_by_key(|t| t.pushed_at).cloned() {
            tags.push(Tag {
                name: "latest".into(),
                pushed_at: newest.pushed_at,
                ..newest
            });
        }
    }
    tags
}

/// A large fixture for benchmarks: `repos` repositories with `tags` tags each, one namespace.
pub fn generated(repos: usize, tags: usize, anchor: i64) -> Store {
    let mut rng = Rng(0x6265_6e63_6831);
    let mut repositories = BTreeMap::new();
    for r in 0..repos {
        let tag_list = (0..tags)
            .map(|t| Tag {
                name: format!("build-{t:05}"),
                digest: format!("sha256:{}", rng.hex(64)),
                size: 10_000_000 + rng.below(100_000_000) as i64,
                pushed_at: anchor - ((tags - t) as i64) * 3600,
                kind: default_kind(),
            })
            .collect();
        repositories.insert(
            format!("repo-{r:04}"),
            Repository {
                created_at: anchor - 400 * DAY,
                updated_at: anchor - 3600,
                brief_description: String::new(),
                description: String::new(),
                public: false,
                tags: tag_list,
            },
        );
    }
    let mut namespaces = BTreeMap::new();
    namespaces.insert(
        "bench".to_string(),
        Namespace {
            id: 10,
            public: false,
            created_at: anchor - 400 * DAY,
            repositories,
        },
    );
    Store {
        instances: vec![demo_instance(anchor, namespaces)],
        next_id: 1000,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_is_deterministic_and_realistic() {
        let a = demo(1_800_000_000);
        let b = demo(1_800_000_000);
        assert_eq!(
            serde_json::to_string(&a).unwrap(),
            serde_json::to_string(&b).unwrap()
        );
        let instance = &a.instances[0];
        let repos: usize = instance
            .namespaces
            .values()
            .map(|n| n.repositories.len())
            .sum();
        assert_eq!(repos, 50);
        let tags = a.tag_count();
        assert!((300..=1000).contains(&tags), "{tags} tags");
        let all: Vec<&Tag> = instance
            .namespaces
            .values()
            .flat_map(|n| n.repositories.values())
            .flat_map(|r| &r.tags)
            .collect();
        assert!(all
            .iter()
            .any(|t| t.name.starts_with('v') && t.name.contains("-rc.")));
        assert!(all.iter().any(|t| t.name.starts_with("main-")));
        assert!(all.iter().any(|t| t.name.len() == 40));
        let with_latest = instance
            .namespaces
            .values()
            .flat_map(|n| n.repositories.values())
            .filter(|r| r.tags.iter().any(|t| t.name == "latest"))
            .count();
        assert!(
            with_latest > 30 && with_latest < 50,
            "{with_latest} repositories with latest"
        );
        let oldest = all.iter().map(|t| t.pushed_at).min().unwrap();
        assert!(1_800_000_000 - oldest > 300 * DAY);
    }

    #[test]
    fn generated_fixture_has_the_requested_size() {
        let s = generated(3, 7, 1_800_000_000);
        assert_eq!(s.tag_count(), 21);
    }
}
