//! Building a Lua state for a script: the standard libraries, the `tcr` module, and `print`
//! routed through the redaction layer. One function builds a complete state from a
//! [`Runtime`]; every run gets a fresh state so runs stay independent.

pub mod convert;
pub mod tcr_module;

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Arc;

use mlua::{Lua, Value as LuaValue};

use crate::api::Client;
use crate::settings::Settings;

/// What every Lua state of a process shares: settings, the client (one connection pool) and
/// the script arguments.
pub struct Runtime {
    pub settings: Settings,
    pub client: Client,
    pub args: BTreeMap<String, String>,
}

/// A fresh Lua state with `tcr` available as a global and through `require("tcr")`.
///
/// # Errors
/// Only if the embedded Lua code fails to load, which the tests rule out.
pub fn new_state(runtime: Arc<Runtime>) -> mlua::Result<Lua> {
    let lua = Lua::new();
    install_print(&lua)?;
    let tcr = tcr_module::create(&lua, runtime)?;
    lua.globals().set("tcr", tcr.clone())?;
    let loaded: mlua::Table = lua.globals().get::<mlua::Table>("package")?.get("loaded")?;
    loaded.set("tcr", tcr)?;
    Ok(lua)
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
        let mut out = std::io::stdout().lock();
        // A closed stdout (e.g. `| head`) must not turn into a script error.
        let _ = writeln!(out, "{line}");
        Ok(())
    })?;
    lua.globals().set("print", print)
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
