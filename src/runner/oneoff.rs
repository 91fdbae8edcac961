//! `tcrl run SCRIPT`: load one script in a fresh state and run it to the end. A job file (one
//! that returns a job table) has its `run(ctx)` called once, with the job's args and timeout.

use std::path::Path;
use std::sync::Arc;

use super::job::{self, parse_job};
use crate::error::{Error, Result};
use crate::lua::{error_message, new_state, Runtime};

/// Run the script at `path`.
///
/// # Errors
/// `Io` when the file cannot be read; `Script` with `file:line` when it fails to load or run.
pub async fn run_file(runtime: Arc<Runtime>, path: &Path) -> Result<()> {
    let source = std::fs::read(path).map_err(|source| Error::Io {
        path: path.display().to_string(),
        source,
    })?;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let state =
        new_state(runtime.clone(), Some(dir)).map_err(|e| Error::Script(error_message(&e)))?;
    let script = lua_err(
        state
            .lua
            .load(source)
            .set_name(format!("@{}", path.display()))
            .into_function(),
    )?;
    let what = path.display().to_string();
    let value = state.run(script, &what).await?;
    let Some(spec) = parse_job(path, &value).map_err(Error::Config)? else {
        return Ok(());
    };
    let table = value.as_table().expect("a job is a table");
    lua_err(job::fill_args(&state.lua, &spec.args))?;
    if spec.dry_run {
        runtime.enable_dry_run();
        lua_err(
            state
                .lua
                .globals()
                .get::<mlua::Table>("tcr")
                .and_then(|t| t.set("dry_run", true)),
        )?;
    }
    let run: mlua::Function = lua_err(table.get("run"))?;
    let run_id = uuid::Uuid::new_v4().to_string();
    let now = chrono::Utc::now().to_rfc3339();
    let ctx = lua_err(job::context(
        &state.lua,
        &spec.name,
        &run_id,
        &now,
        runtime.is_dry_run(),
    ))?;
    let mut limits = state.limits;
    limits.timeout = runtime.settings.limits.timeout.or(Some(spec.timeout));
    state
        .watchdog
        .run(
            &limits,
            &what,
            crate::lua::run_chunk(
                &state.lua,
                run,
                mlua::MultiValue::from_vec(vec![mlua::Value::Table(ctx)]),
            ),
        )
        .await?;
    Ok(())
}

fn lua_err<T>(r: mlua::Result<T>) -> Result<T> {
    r.map_err(|e| Error::Script(error_message(&e)))
}
