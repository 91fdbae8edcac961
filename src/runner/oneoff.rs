//! `tcrl run SCRIPT`: load one script in a fresh state, run it to the end, report the outcome.

use std::path::Path;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::lua::{error_message, new_state, run_chunk, set_module_dir, Runtime};

/// Run the script at `path`.
///
/// # Errors
/// `Io` when the file cannot be read; `Script` with `file:line` when it fails to load or run.
pub async fn run_file(runtime: Arc<Runtime>, path: &Path) -> Result<()> {
    let source = std::fs::read(path).map_err(|source| Error::Io {
        path: path.display().to_string(),
        source,
    })?;
    let lua = new_state(runtime).map_err(|e| Error::Script(error_message(&e)))?;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    set_module_dir(&lua, dir).map_err(|e| Error::Script(error_message(&e)))?;
    let chunk = lua
        .load(source)
        .set_name(format!("@{}", path.display()))
        .into_function()
        .map_err(|e| Error::Script(error_message(&e)))?;
    run_chunk(&lua, chunk).await
}
