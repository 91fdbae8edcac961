//! Editor support: the `---@meta` stubs shipped in the binary, and `tcrl types --out DIR`, which
//! writes them and a `.luarc.json` into a user's script folder so lua-language-server completes
//! and checks the `tcr` module there.

use std::path::Path;

use crate::error::{Error, Result};

/// The stub files, by path relative to the types folder.
pub const STUBS: &[(&str, &str)] = &[
    ("tcr.lua", include_str!("../stdlib/meta/tcr.lua")),
    (
        "tcr/retention.lua",
        include_str!("../stdlib/meta/tcr/retention.lua"),
    ),
];

/// Where the stubs go inside the user's folder.
pub const TYPES_DIR: &str = ".tcrl/types";

/// Write the stubs under `DIR/.tcrl/types` and `DIR/.luarc.json` pointing at them. An existing
/// `.luarc.json` is kept unless `force`.
///
/// # Errors
/// `Io` when a file cannot be written; `Config` when `.luarc.json` exists and `force` is off.
pub fn write_types(dir: &Path, force: bool) -> Result<Vec<String>> {
    let io = |path: &Path| {
        let path = path.display().to_string();
        move |source| Error::Io { path, source }
    };
    let luarc = dir.join(".luarc.json");
    if luarc.exists() && !force {
        return Err(Error::Config(format!(
            "{} exists; add \"{TYPES_DIR}\" to its workspace.library, or pass --force to replace it",
            luarc.display()
        )));
    }
    let mut written = Vec::new();
    for (name, text) in STUBS {
        let path = dir.join(TYPES_DIR).join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io(parent))?;
        }
        std::fs::write(&path, text).map_err(io(&path))?;
        written.push(path.display().to_string());
    }
    let config = serde_json::json!({
        "runtime.version": "Lua 5.4",
        "workspace.library": [TYPES_DIR],
        "diagnostics.globals": ["tcr"],
    });
    let text = serde_json::to_string_pretty(&config).expect("static JSON serialises");
    std::fs::write(&luarc, text + "\n").map_err(io(&luarc))?;
    written.push(luarc.display().to_string());
    Ok(written)
}
