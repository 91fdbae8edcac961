//! Job files: a script that returns a table with a `schedule` is a job.
//!
//! ```lua
//! return {
//!   schedule = "0 3 * * *",        -- 5-field crontab, 6 with seconds, or @daily/@hourly/...
//!   timezone = "Asia/Shanghai",    -- IANA name; default UTC
//!   timeout = "30m",               -- default 1h
//!   overlap = "forbid",            -- forbid (default) | replace | allow
//!   args = { keep = 20 },          -- constants, seen as tcr.args (strings)
//!   dry_run = false,               -- true: never send a mutating call
//!   run = function(ctx) end,       -- ctx: job, run_id, scheduled, dry_run
//! }
//! ```
//! One validation, used by `tcrl check`, the daemon and `tcrl run` of a job file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use mlua::{Table, Value as LuaValue};

use super::schedule::Schedule;
use crate::settings::parse_duration;

/// Default wall-clock limit of a job run.
pub const DEFAULT_JOB_TIMEOUT: Duration = Duration::from_secs(3600);

const FIELDS: &[&str] = &[
    "schedule", "timezone", "timeout", "overlap", "args", "dry_run", "run",
];

/// What to do when a firing comes while the previous run is still going.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overlap {
    /// Skip the firing and record the skip.
    Forbid,
    /// Cancel the running run and start the new one.
    Replace,
    /// Run both.
    Allow,
}

/// A validated job table (the `run` function stays in its Lua state).
#[derive(Debug, Clone)]
pub struct JobSpec {
    pub name: String,
    pub path: PathBuf,
    pub schedule: Schedule,
    pub timeout: Duration,
    pub overlap: Overlap,
    pub args: BTreeMap<String, String>,
    pub dry_run: bool,
}

/// The job name of a file: its name without `.lua`.
pub fn job_name(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Read a script's return value: `Ok(None)` for a plain script (no table with a schedule).
///
/// # Errors
/// A message naming the file and the field that is wrong.
pub fn parse_job(path: &Path, value: &LuaValue) -> Result<Option<JobSpec>, String> {
    let LuaValue::Table(t) = value else {
        return Ok(None);
    };
    if t.get::<LuaValue>("schedule")
        .map(|v| v.is_nil())
        .unwrap_or(true)
    {
        if !t.get::<LuaValue>("run").map(|v| v.is_nil()).unwrap_or(true) {
            return Err(format!(
                "{}: job field 'schedule' is missing",
                path.display()
            ));
        }
        return Ok(None);
    }
    let err = |field: &str, problem: String| {
        format!("{}: job field '{field}': {problem}", path.display())
    };
    for pair in t.pairs::<LuaValue, LuaValue>() {
        let (k, _) = pair.map_err(|e| err("?", e.to_string()))?;
        let name = k
            .as_string()
            .map(|s| s.to_string_lossy())
            .unwrap_or_else(|| format!("{k:?}"));
        if !FIELDS.contains(&name.as_str()) {
            return Err(err(
                &name,
                format!("unknown field (fields: {})", FIELDS.join(", ")),
            ));
        }
    }
    let string = |field: &str| -> Result<Option<String>, String> {
        match t
            .get::<LuaValue>(field)
            .map_err(|e| err(field, e.to_string()))?
        {
            LuaValue::Nil => Ok(None),
            LuaValue::String(s) => Ok(Some(s.to_string_lossy())),
            other => Err(err(
                field,
                format!("expected a string, got {}", other.type_name()),
            )),
        }
    };
    let schedule_text = string("schedule")?.unwrap_or_default();
    let timezone = string("timezone")?;
    let schedule =
        Schedule::parse(&schedule_text, timezone.as_deref()).map_err(|e| err("schedule", e))?;
    let timeout = match t
        .get::<LuaValue>("timeout")
        .map_err(|e| err("timeout", e.to_string()))?
    {
        LuaValue::Nil => DEFAULT_JOB_TIMEOUT,
        LuaValue::Integer(i) if i > 0 => Duration::from_secs(i as u64),
        LuaValue::Number(n) if n.is_finite() && n > 0.0 => Duration::from_secs_f64(n),
        LuaValue::String(s) => {
            parse_duration(&s.to_string_lossy()).map_err(|e| err("timeout", e))?
        }
        other => {
            return Err(err(
                "timeout",
                format!(
                    "expected a duration like \"30m\" or seconds, got {}",
                    other.type_name()
                ),
            ))
        }
    };
    let overlap = match string("overlap")?.as_deref() {
        None | Some("forbid") => Overlap::Forbid,
        Some("replace") => Overlap::Replace,
        Some("allow") => Overlap::Allow,
        Some(other) => {
            return Err(err(
                "overlap",
                format!("expected \"forbid\", \"replace\" or \"allow\", got {other:?}"),
            ))
        }
    };
    let args = match t
        .get::<LuaValue>("args")
        .map_err(|e| err("args", e.to_string()))?
    {
        LuaValue::Nil => BTreeMap::new(),
        LuaValue::Table(a) => table_args(&a).map_err(|e| err("args", e))?,
        other => {
            return Err(err(
                "args",
                format!("expected a table, got {}", other.type_name()),
            ))
        }
    };
    let dry_run = match t
        .get::<LuaValue>("dry_run")
        .map_err(|e| err("dry_run", e.to_string()))?
    {
        LuaValue::Nil => false,
        LuaValue::Boolean(b) => b,
        other => {
            return Err(err(
                "dry_run",
                format!("expected a boolean, got {}", other.type_name()),
            ))
        }
    };
    match t
        .get::<LuaValue>("run")
        .map_err(|e| err("run", e.to_string()))?
    {
        LuaValue::Function(_) => {}
        LuaValue::Nil => {
            return Err(err(
                "run",
                "is missing: a job needs run = function(ctx) ... end".into(),
            ))
        }
        other => {
            return Err(err(
                "run",
                format!("expected a function, got {}", other.type_name()),
            ))
        }
    }
    Ok(Some(JobSpec {
        name: job_name(path),
        path: path.to_path_buf(),
        schedule,
        timeout,
        overlap,
        args,
        dry_run,
    }))
}

fn table_args(t: &Table) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    for pair in t.pairs::<LuaValue, LuaValue>() {
        let (k, v) = pair.map_err(|e| e.to_string())?;
        let key = match &k {
            LuaValue::String(s) => s.to_string_lossy(),
            other => return Err(format!("keys must be strings, got {}", other.type_name())),
        };
        let value = match &v {
            LuaValue::String(s) => s.to_string_lossy(),
            LuaValue::Integer(i) => i.to_string(),
            LuaValue::Number(n) => n.to_string(),
            LuaValue::Boolean(b) => b.to_string(),
            other => {
                return Err(format!(
                    "{key}: expected a string, number or boolean, got {}",
                    other.type_name()
                ))
            }
        };
        out.insert(key, value);
    }
    Ok(out)
}

/// Put the job's `args` into `tcr.args`, keeping values given on the command line.
pub fn fill_args(lua: &mlua::Lua, args: &BTreeMap<String, String>) -> mlua::Result<()> {
    let tcr: Table = lua.globals().get("tcr")?;
    let current: Table = tcr.get("args")?;
    for (k, v) in args {
        if current.get::<LuaValue>(k.as_str())?.is_nil() {
            current.set(k.as_str(), v.as_str())?;
        }
    }
    Ok(())
}

/// The `ctx` table passed to `run`.
pub fn context(
    lua: &mlua::Lua,
    job: &str,
    run_id: &str,
    scheduled: &str,
    dry_run: bool,
) -> mlua::Result<Table> {
    let ctx = lua.create_table()?;
    ctx.set("job", job)?;
    ctx.set("run_id", run_id)?;
    ctx.set("scheduled", scheduled)?;
    ctx.set("dry_run", dry_run)?;
    Ok(ctx)
}
