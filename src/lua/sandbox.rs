//! The default Lua environment for scripts written by many hands and run unattended.
//!
//! Loaded: base, string, table, math, utf8, coroutine, and restricted `os`, `io` and `package`:
//! - `os`: only `time`, `date`, `clock`, `getenv` (secret variables read as nil), and
//!   `remove`/`rename` inside allowed folders;
//! - `io`: `open`, `lines`, `input`, `output` only on files inside allowed folders (the script's
//!   folder and each `--allow-path`); no `popen`, no `tmpfile`;
//! - `load`, `loadfile`, `dofile`: text chunks only (no binary bytecode), files only inside
//!   allowed folders;
//! - `require`: the embedded stdlib and modules next to the script; no C modules, no `loadlib`;
//! - no `debug`, no `os.execute`, no `os.exit`.
//!
//! `--unsafe` loads every standard library unrestricted (and says so in the log).

use std::path::{Path, PathBuf};

use mlua::{Function, Lua, LuaOptions, StdLib, Table, Value as LuaValue};

use super::runtime_error;

/// Environment variables scripts cannot read: credentials stay with the host.
pub const HIDDEN_ENV: &[&str] = &[
    "TENCENTCLOUD_SECRET_ID",
    "TENCENTCLOUD_SECRET_KEY",
    "TENCENTCLOUD_TOKEN",
];

/// What a script may touch.
#[derive(Debug, Clone, Default)]
pub struct Sandbox {
    /// Load every standard library, unrestricted.
    pub unsafe_lua: bool,
    /// Folders whose files the script may read and write (canonical paths).
    pub allowed: Vec<PathBuf>,
}

impl Sandbox {
    /// Allow a folder (made absolute and canonical; a missing folder is kept as given).
    pub fn allow(&mut self, dir: &Path) {
        let canonical = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
        if !self.allowed.contains(&canonical) {
            self.allowed.push(canonical);
        }
    }

    /// Whether `path` (which may not exist yet) lies inside an allowed folder.
    pub fn permits(&self, path: &Path) -> bool {
        let absolute = if path.is_absolute() {
            path.to_path_buf()
        } else {
            std::env::current_dir().unwrap_or_default().join(path)
        };
        // Canonicalise the deepest existing ancestor so `..` and links cannot step outside.
        let mut existing = absolute.as_path();
        let mut rest = Vec::new();
        while !existing.exists() {
            match (existing.parent(), existing.file_name()) {
                (Some(parent), Some(name)) => {
                    rest.push(name.to_os_string());
                    existing = parent;
                }
                _ => return false,
            }
        }
        let Ok(mut resolved) = existing.canonicalize() else {
            return false;
        };
        for name in rest.iter().rev() {
            if name == ".." {
                return false;
            }
            resolved.push(name);
        }
        self.allowed.iter().any(|root| resolved.starts_with(root))
    }

    /// A new Lua state with this sandbox's libraries.
    ///
    /// # Errors
    /// Only if a standard library fails to load.
    pub fn new_lua(&self) -> mlua::Result<Lua> {
        if self.unsafe_lua {
            tracing::warn!("--unsafe: scripts have every Lua library, unrestricted (os.execute, io.popen, debug, C modules)");
            // SAFETY: the user asked for the unrestricted environment with --unsafe.
            return Ok(unsafe {
                Lua::unsafe_new_with(StdLib::ALL_SAFE | StdLib::DEBUG, LuaOptions::default())
            });
        }
        let libs = StdLib::COROUTINE
            | StdLib::TABLE
            | StdLib::IO
            | StdLib::OS
            | StdLib::STRING
            | StdLib::UTF8
            | StdLib::MATH
            | StdLib::PACKAGE;
        let lua = Lua::new_with(libs, LuaOptions::default())?;
        self.restrict(&lua)?;
        Ok(lua)
    }

    fn restrict(&self, lua: &Lua) -> mlua::Result<()> {
        let globals = lua.globals();
        self.restrict_os(lua, &globals)?;
        self.restrict_io(lua, &globals)?;
        self.restrict_loading(lua, &globals)?;
        let package: Table = globals.get("package")?;
        package.set("loadlib", LuaValue::Nil)?;
        package.set("cpath", "")?;
        // Keep the preload and Lua-file searchers; drop the two C-library searchers.
        let searchers: Table = package.get("searchers")?;
        let kept = lua
            .create_sequence_from([searchers.get::<Function>(1)?, searchers.get::<Function>(2)?])?;
        package.set("searchers", kept)?;
        Ok(())
    }

    fn checked_path(&self, fname: &'static str, path: &str) -> mlua::Result<()> {
        if self.permits(Path::new(path)) {
            Ok(())
        } else {
            Err(runtime_error(format!(
                "{fname}: {path:?} is outside the script's folder and --allow-path folders"
            )))
        }
    }

    fn restrict_os(&self, lua: &Lua, globals: &Table) -> mlua::Result<()> {
        let full: Table = globals.get("os")?;
        let os = lua.create_table()?;
        for name in ["time", "date", "clock", "difftime"] {
            os.set(name, full.get::<Function>(name)?)?;
        }
        os.set(
            "getenv",
            lua.create_function(|_, name: String| {
                Ok((!HIDDEN_ENV.contains(&name.as_str()))
                    .then(|| std::env::var(&name).ok())
                    .flatten())
            })?,
        )?;
        for (name, arity) in [("remove", 1), ("rename", 2)] {
            let original: Function = full.get(name)?;
            let sandbox = self.clone();
            let fname: &'static str = if name == "remove" {
                "os.remove"
            } else {
                "os.rename"
            };
            os.set(
                name,
                lua.create_function(move |_, args: mlua::MultiValue| {
                    for arg in args.iter().take(arity) {
                        let path = arg
                            .as_string()
                            .map(|s| s.to_string_lossy())
                            .unwrap_or_default();
                        sandbox.checked_path(fname, &path)?;
                    }
                    original.call::<mlua::MultiValue>(args)
                })?,
            )?;
        }
        globals.set("os", os)
    }

    fn restrict_io(&self, lua: &Lua, globals: &Table) -> mlua::Result<()> {
        let io: Table = globals.get("io")?;
        io.set("popen", LuaValue::Nil)?;
        io.set("tmpfile", LuaValue::Nil)?;
        for (name, fname) in [
            ("open", "io.open"),
            ("lines", "io.lines"),
            ("input", "io.input"),
            ("output", "io.output"),
        ] {
            let original: Function = io.get(name)?;
            let sandbox = self.clone();
            io.set(
                name,
                lua.create_function(move |_, args: mlua::MultiValue| {
                    // A file name as first argument is checked; handles and no argument pass.
                    if let Some(LuaValue::String(path)) = args.front() {
                        sandbox.checked_path(fname, &path.to_string_lossy())?;
                    }
                    original.call::<mlua::MultiValue>(args)
                })?,
            )?;
        }
        Ok(())
    }

    fn restrict_loading(&self, lua: &Lua, globals: &Table) -> mlua::Result<()> {
        let load: Function = globals.get("load")?;
        let text_only = load.clone();
        globals.set(
            "load",
            lua.create_function(
                move |_, (chunk, name, _mode, env): (LuaValue, LuaValue, LuaValue, LuaValue)| {
                    // Binary chunks can crash the VM: text only, whatever mode the script asks for.
                    if env.is_nil() {
                        text_only.call::<mlua::MultiValue>((chunk, name, "t"))
                    } else {
                        text_only.call::<mlua::MultiValue>((chunk, name, "t", env))
                    }
                },
            )?,
        )?;
        for (name, fname) in [("loadfile", "loadfile"), ("dofile", "dofile")] {
            let sandbox = self.clone();
            let load = load.clone();
            let is_dofile = name == "dofile";
            globals.set(
                name,
                lua.create_function(move |lua, path: String| {
                    sandbox.checked_path(fname, &path)?;
                    let source = std::fs::read(&path)
                        .map_err(|e| runtime_error(format!("{fname}: {path}: {e}")))?;
                    let chunk: mlua::MultiValue =
                        load.call((lua.create_string(&source)?, format!("@{path}"), "t"))?;
                    let f = match chunk.front() {
                        Some(LuaValue::Function(f)) => f.clone(),
                        _ => {
                            let message = chunk
                                .get(1)
                                .map(|m| super::lua_tostring(lua, m.clone()))
                                .unwrap_or_default();
                            return Err(runtime_error(format!("{fname}: {message}")));
                        }
                    };
                    if is_dofile {
                        f.call::<mlua::MultiValue>(())
                    } else {
                        Ok(mlua::MultiValue::from_vec(vec![LuaValue::Function(f)]))
                    }
                })?,
            )?;
        }
        Ok(())
    }
}
