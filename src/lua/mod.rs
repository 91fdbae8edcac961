//! Building a Lua state for a script: the standard libraries, the `tcr` module, and `print`
//! routed through the redaction layer. One function builds a complete state from a
//! [`Runtime`]; every run gets a fresh state so runs stay independent.

pub mod convert;
pub mod sandbox;
pub mod tasks;
pub mod tcr_module;
pub mod text;
pub mod time;

use std::io::Write;
use std::sync::Arc;

use mlua::{Lua, Value as LuaValue};

use crate::limits::{Cancel, Limits, Watchdog};
pub use crate::runtime::Runtime;

/// A fresh Lua state with `tcr` available as a global and through `require("tcr")`.
///
/// # Errors
/// Only if the embedded Lua code fails to load, which the tests rule out.
pub fn new_state(
    runtime: Arc<Runtime>,
    script_dir: Option<&std::path::Path>,
) -> mlua::Result<ScriptState> {
    new_state_with(runtime, script_dir, Cancel::default())
}

/// A fresh state whose runs `cancel` can stop (REPL Ctrl-C, the daemon's overlap and shutdown).
pub fn new_state_with(
    runtime: Arc<Runtime>,
    script_dir: Option<&std::path::Path>,
    cancel: Cancel,
) -> mlua::Result<ScriptState> {
    let mut sandbox = runtime.settings.sandbox.clone();
    if let Some(dir) = script_dir {
        sandbox.allow(dir);
    }
    let lua = sandbox.new_lua()?;
    let limits = runtime.settings.limits;
    let watchdog = Watchdog::install(&lua, &limits, cancel)?;
    install_print(&lua)?;
    let tcr = tcr_module::create(&lua, runtime)?;
    lua.globals().set("tcr", tcr.clone())?;
    let package: mlua::Table = lua.globals().get("package")?;
    package.get::<mlua::Table>("loaded")?.set("tcr", tcr)?;
    let preload: mlua::Table = package.get("preload")?;
    // Compiled when first required, not for every state: most scripts use few of them.
    for (name, source) in STDLIB {
        let loader = lua.create_function(move |lua, args: mlua::MultiValue| {
            lua.load(*source)
                .set_name(format!("@stdlib/{}.lua", name.replace('.', "/")))
                .call::<mlua::MultiValue>(args)
        })?;
        preload.set(*name, loader)?;
    }
    match script_dir {
        Some(dir) => set_module_dir(&lua, dir)?,
        None => package.set("path", "")?,
    }
    Ok(ScriptState {
        lua,
        watchdog,
        limits,
    })
}

/// A Lua state ready to run scripts under the runtime's limits.
pub struct ScriptState {
    pub lua: Lua,
    pub watchdog: Watchdog,
    pub limits: Limits,
}

impl ScriptState {
    /// Run a loaded chunk under the limits (timeout, memory, cancellation).
    ///
    /// # Errors
    /// As [`run_chunk`], plus `Script` errors for a timeout, cancellation or the memory cap.
    pub async fn run(&self, chunk: mlua::Function, what: &str) -> crate::Result<LuaValue> {
        self.run_with(chunk, mlua::MultiValue::new(), what).await
    }

    /// Run a function with arguments under the limits; returns its first result.
    ///
    /// # Errors
    /// As [`ScriptState::run`].
    pub async fn run_with(
        &self,
        f: mlua::Function,
        args: mlua::MultiValue,
        what: &str,
    ) -> crate::Result<LuaValue> {
        self.watchdog
            .run(&self.limits, what, run_chunk(&self.lua, f, args))
            .await
    }

    /// The handle that cancels the current run.
    pub fn cancel(&self) -> Cancel {
        self.watchdog.cancel_handle()
    }
}

/// Lua modules shipped inside the binary, found by `require` before anything on disk.
pub const STDLIB: &[(&str, &str)] = &[(
    "tcr.retention",
    include_str!("../../stdlib/tcr/retention.lua"),
)];

/// Let `require` find modules next to the script (`DIR/?.lua`, `DIR/?/init.lua`) and nowhere
/// else on disk.
pub fn set_module_dir(lua: &Lua, dir: &std::path::Path) -> mlua::Result<()> {
    let dir = dir.display().to_string();
    let package: mlua::Table = lua.globals().get("package")?;
    package.set("path", format!("{dir}/?.lua;{dir}/?/init.lua"))?;
    package.set("cpath", "")
}

/// `print` as in Lua, but every line passes through the redaction layer.
fn install_print(lua: &Lua) -> mlua::Result<()> {
    let print = lua.create_function(|lua, args: mlua::MultiValue| {
        let tostring: mlua::Function = lua.globals().get("tostring")?;
        let mut parts = Vec::with_capacity(args.len());
        for arg in args {
            parts.push(tostring.call::<String>(arg)?);
        }
        let line = crate::redact::redact(&parts.join("\t"));
        crate::progress::suspend(|| {
            let mut out = std::io::stdout().lock();
            // A closed stdout (e.g. `| head`) must not turn into a script error.
            let _ = writeln!(out, "{line}");
        });
        Ok(())
    })?;
    lua.globals().set("print", print)?;
    // io.write to standard output shares print's buffer (and redaction), so output keeps its
    // order; io.stdout:write and files are left to the io library.
    let write = lua.create_function(|lua, args: mlua::MultiValue| {
        let mut text = String::new();
        for arg in args {
            match arg {
                LuaValue::String(s) => text.push_str(&s.to_string_lossy()),
                LuaValue::Integer(_) | LuaValue::Number(_) => {
                    text.push_str(&lua_tostring(lua, arg))
                }
                other => {
                    return Err(runtime_error(format!(
                        "bad argument to 'write' (string expected, got {})",
                        other.type_name()
                    )))
                }
            }
        }
        crate::progress::suspend(|| {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(crate::redact::redact(&text).as_bytes());
            let _ = out.flush();
        });
        Ok(())
    })?;
    let io: mlua::Table = lua.globals().get("io")?;
    io.set("write", write)
}

/// The message of a Lua error as a person should read it: the error value's own text
/// (respecting `__tostring`), without mlua's wrapping, redacted.
pub fn error_message(err: &mlua::Error) -> String {
    let text = match err {
        mlua::Error::CallbackError { cause, .. } => return error_message(cause),
        mlua::Error::RuntimeError(msg) | mlua::Error::SyntaxError { message: msg, .. } => {
            // The traceback mlua appends goes to the debug log; the message stays one line.
            match msg.split_once("\nstack traceback:") {
                Some((head, trace)) => {
                    tracing::debug!("stack traceback:{trace}");
                    head.to_string()
                }
                None => msg.clone(),
            }
        }
        mlua::Error::ExternalError(e) => e.to_string(),
        mlua::Error::WithContext { context, cause } => {
            format!("{context}: {}", error_message(cause))
        }
        other => other.to_string(),
    };
    crate::redact::redact(&text)
}

/// Run a loaded chunk to the end, turning whatever it raises into one readable message.
///
/// The chunk runs under `xpcall` so the message handler sees the stack where the error was
/// raised: a non-string error value (`error({})`) still gets the `file:line` of the `error`
/// call, and the traceback goes to the debug log.
///
/// # Errors
/// `Script` with the message, or `ScriptConfig` when the script stopped because no
/// credentials were found (a configuration problem, exit code 2).
pub async fn run_chunk(
    lua: &Lua,
    chunk: mlua::Function,
    args: mlua::MultiValue,
) -> crate::Result<LuaValue> {
    let describe = lua.create_function(|lua, err: LuaValue| {
        let message = describe_error(lua, &err);
        if let Ok(trace) = lua.traceback(None, 2) {
            tracing::debug!("{}", trace.to_string_lossy());
        }
        let code = match &err {
            LuaValue::Table(t) => t.get::<Option<String>>("code").ok().flatten(),
            _ => None,
        };
        // A message handler returns one value: pack message and code in a list.
        lua.create_sequence_from([Some(message), code])
    })?;
    let runner: mlua::Function = lua
        .load(
            "local chunk, describe, args = ...\n\
             local ok, failure = xpcall(chunk, describe, table.unpack(args, 1, args.n))\n\
             if ok then return true, nil, nil, failure end\n\
             if type(failure) ~= 'table' then return false, tostring(failure) end\n\
             return false, failure[1], failure[2]",
        )
        .set_name("=[tcrl]")
        .into_function()?;
    let packed = lua.create_sequence_from(args.iter().cloned())?;
    packed.set("n", args.len())?;
    let (ok, message, code, value): (bool, Option<String>, Option<String>, LuaValue) = runner
        .call_async((chunk, describe, packed))
        .await
        .map_err(|e| crate::Error::Script(error_message(&e)))?;
    if ok {
        return Ok(value);
    }
    let message = crate::redact::redact(&message.unwrap_or_else(|| "unknown error".into()));
    match code.as_deref() {
        Some("Client.NoCredentials") => Err(crate::Error::ScriptConfig(message)),
        _ => Err(crate::Error::Script(message)),
    }
}

/// The text of an error value, with the raising line for values that carry none.
fn describe_error(lua: &Lua, err: &LuaValue) -> String {
    match err {
        LuaValue::String(s) => s.to_string_lossy(),
        LuaValue::Table(t)
            if t.metatable()
                .and_then(|m| m.get::<LuaValue>("__tostring").ok())
                .is_some_and(|f| !f.is_nil()) =>
        {
            lua_tostring(lua, err.clone())
        }
        LuaValue::UserData(_) | LuaValue::Error(_) => lua_tostring(lua, err.clone()),
        other => {
            let what = format!("(error object is a {} value)", other.type_name());
            match raising_location(lua) {
                Some(at) => format!("{at}: {what}"),
                None => what,
            }
        }
    }
}

/// `file:line` of the innermost Lua frame below the message handler.
fn raising_location(lua: &Lua) -> Option<String> {
    // Level 0 is the handler itself (a Rust function); search up for the first Lua frame.
    (1..64).find_map(|level| {
        lua.inspect_stack(level, |d| {
            let line = d.current_line()?;
            let src = d.source().short_src?.to_string();
            (src != "[C]").then(|| format!("{src}:{line}"))
        })
        .flatten()
    })
}

/// Convenience for host functions: a Lua runtime error with a message.
pub(crate) fn runtime_error(message: impl Into<String>) -> mlua::Error {
    mlua::Error::RuntimeError(message.into())
}

/// `tostring` of any Lua value, through Lua's own `tostring` (respects `__tostring`).
pub fn lua_tostring(lua: &Lua, value: LuaValue) -> String {
    lua.globals()
        .get::<mlua::Function>("tostring")
        .and_then(|f| f.call::<String>(value))
        .unwrap_or_else(|_| "(unprintable value)".to_string())
}
