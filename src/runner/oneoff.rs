//! `tcrl run SCRIPT`: load one script in a fresh state, run it to the end, report the outcome.

use std::path::Path;
use std::sync::Arc;

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
    let state = new_state(runtime, Some(dir)).map_err(|e| Error::Script(error_message(&e)))?;
    let chunk = state
        .lua
        .load(source)
        .set_name(format!("@{}", path.display()))
        .into_function()
        .map_err(|e| Error::Script(error_message(&e)))?;
    state.run(chunk, &path.display().to_string()).await
}
