//! What every Lua state of one run shares: settings, the client, script arguments, the dry-run
//! switch and the ledger of calls.
//!
//! [`Runtime::call`] is the one path from a script to the API (`tcr.call`, the pagination
//! helpers and `tcr.map` all end here), which makes it the choke point for dry runs: a
//! mutating action (anything not known read-only by name) is recorded and answered locally
//! with `DryRun = true`, never sent.

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde_json::{json, Value};

use crate::api::catalog::is_read_only_name;
use crate::api::{CallOptions, Client};
use crate::error::Result;
use crate::settings::Settings;

/// A call a dry run did not send.
#[derive(Debug, Clone)]
pub struct PlannedCall {
    pub action: String,
    pub params: Value,
    pub region: String,
}

/// Per-action counts of one run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActionCount {
    pub ok: u64,
    pub failed: u64,
    /// Mutating calls held back by the dry run.
    pub planned: u64,
}

#[derive(Debug, Default)]
struct Ledger {
    counts: BTreeMap<String, ActionCount>,
    /// (action, result code) -> calls; the code is `ok`, Tencent's code, or `DryRun`.
    codes: BTreeMap<(String, String), u64>,
    planned: Vec<PlannedCall>,
}

/// Shared state of one run.
pub struct Runtime {
    pub settings: Settings,
    pub client: Client,
    pub args: BTreeMap<String, String>,
    dry_run: std::sync::atomic::AtomicBool,
    /// The default region when switched at run time (the REPL's `:region`).
    region: Mutex<Option<String>>,
    ledger: Mutex<Ledger>,
}

impl Runtime {
    pub fn new(
        settings: Settings,
        client: Client,
        args: BTreeMap<String, String>,
        dry_run: bool,
    ) -> Self {
        Runtime {
            settings,
            client,
            args,
            dry_run: std::sync::atomic::AtomicBool::new(dry_run),
            region: Mutex::new(None),
            ledger: Mutex::new(Ledger::default()),
        }
    }

    /// The default region of calls.
    pub fn region(&self) -> String {
        self.region
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .unwrap_or_else(|| self.settings.region.clone())
    }

    /// Switch the default region.
    ///
    /// # Errors
    /// `UnknownRegion` for a name not in the table.
    pub fn set_region(&self, name: &str) -> Result<()> {
        crate::region::lookup(name)?;
        *self.region.lock().unwrap_or_else(|e| e.into_inner()) = Some(name.to_string());
        Ok(())
    }

    /// Whether mutating calls are held back.
    pub fn is_dry_run(&self) -> bool {
        self.dry_run.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Hold back mutating calls from now on (a job table with `dry_run = true`). There is no
    /// way back: a dry run never turns into a real one.
    pub fn enable_dry_run(&self) {
        self.dry_run
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }

    fn ledger(&self) -> std::sync::MutexGuard<'_, Ledger> {
        self.ledger.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Call an action, or in a dry run record a mutating one without sending it.
    ///
    /// # Errors
    /// Whatever the client returns.
    pub async fn call(&self, action: &str, params: &Value, opts: &CallOptions) -> Result<Value> {
        if self.is_dry_run() && !is_read_only_name(action) {
            let mut ledger = self.ledger();
            ledger.counts.entry(action.to_string()).or_default().planned += 1;
            *ledger
                .codes
                .entry((action.to_string(), "DryRun".to_string()))
                .or_default() += 1;
            ledger.planned.push(PlannedCall {
                action: action.to_string(),
                params: params.clone(),
                region: opts.region.clone(),
            });
            tracing::debug!(action, "dry run: not sent");
            return Ok(json!({"DryRun": true, "Action": action, "RequestId": ""}));
        }
        let result = self.client.call(action, params, opts).await;
        let mut ledger = self.ledger();
        let count = ledger.counts.entry(action.to_string()).or_default();
        let code = match &result {
            Ok(_) => {
                count.ok += 1;
                "ok".to_string()
            }
            Err(e) => {
                count.failed += 1;
                e.code()
            }
        };
        *ledger.codes.entry((action.to_string(), code)).or_default() += 1;
        result
    }

    /// The calls a dry run held back, in order.
    pub fn planned(&self) -> Vec<PlannedCall> {
        self.ledger().planned.clone()
    }

    /// Calls per action and result code so far.
    pub fn calls_by_code(&self) -> BTreeMap<(String, String), u64> {
        self.ledger().codes.clone()
    }

    /// Calls per action so far.
    pub fn counts(&self) -> BTreeMap<String, ActionCount> {
        self.ledger().counts.clone()
    }

    /// One line per action, for the end-of-run summary; empty when no call was made.
    pub fn summary(&self) -> String {
        let counts = self.counts();
        if counts.is_empty() {
            return String::new();
        }
        let mut out = String::from(if self.is_dry_run() {
            "calls (dry run):"
        } else {
            "calls:"
        });
        for (action, c) in &counts {
            let mut parts = Vec::new();
            if c.ok > 0 {
                parts.push(format!("{} ok", c.ok));
            }
            if c.failed > 0 {
                parts.push(format!("{} failed", c.failed));
            }
            if c.planned > 0 {
                parts.push(format!("{} not sent", c.planned));
            }
            out.push_str(&format!("\n  {action:<32} {}", parts.join(", ")));
        }
        out
    }
}
