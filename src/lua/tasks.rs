//! `tcr.map`: run a Lua function over a list with several calls in flight at once.
//!
//! Lua stays single-threaded: each item runs in its own coroutine, and the coroutines are
//! driven together as futures, so while one waits for HTTP another runs. Results keep the
//! input order; an item's error is caught and reported with its index instead of stopping the
//! others (unless `fail_fast`).

use futures_util::stream::{self, StreamExt};
use mlua::{Function, Lua, Table, Value as LuaValue};

use super::runtime_error;

/// Default number of items in flight.
pub const DEFAULT_CONCURRENCY: usize = 8;

/// `core.map(list, protected_fn, concurrency, fail_fast)` -> `results, failures`.
///
/// `protected_fn(item)` must return `ok, value_or_error` (the Lua wrapper uses `pcall`).
/// `failures` is a list of `{index =, item =, error =}` in input order. With `fail_fast`, no
/// new item starts after the first failure and the items not started are left out.
pub fn create(lua: &Lua) -> mlua::Result<Function> {
    lua.create_async_function(
        |lua, (list, f, concurrency, fail_fast): (Table, Function, Option<usize>, Option<bool>)| async move {
            let concurrency = concurrency.unwrap_or(DEFAULT_CONCURRENCY);
            if concurrency == 0 {
                return Err(runtime_error("tcr.map: concurrency must be at least 1"));
            }
            let fail_fast = fail_fast.unwrap_or(false);
            let items: Vec<LuaValue> = list.sequence_values::<LuaValue>().collect::<mlua::Result<_>>()?;
            let mut threads = Vec::with_capacity(items.len());
            for item in &items {
                let thread = lua.create_thread(f.clone())?;
                threads.push(thread.into_async::<(bool, LuaValue)>(item.clone())?);
            }
            let results = lua.create_table_with_capacity(items.len(), 0)?;
            let failures = lua.create_table()?;
            let progress = (items.len() > 1)
                .then(|| crate::progress::bar("tcr.map", Some(items.len() as u64)))
                .flatten();
            let mut outcomes = stream::iter(threads).buffered(concurrency).enumerate();
            while let Some((index, outcome)) = outcomes.next().await {
                if let Some(bar) = &progress {
                    bar.inc(1);
                }
                let failed = match outcome {
                    Ok((true, value)) => {
                        results.raw_set(index + 1, value)?;
                        false
                    }
                    Ok((false, error)) => {
                        failures.raw_push(failure(&lua, index, &items[index], error)?)?;
                        true
                    }
                    Err(e) => {
                        let message = LuaValue::String(lua.create_string(super::error_message(&e))?);
                        failures.raw_push(failure(&lua, index, &items[index], message)?)?;
                        true
                    }
                };
                if failed && fail_fast {
                    break;
                }
            }
            Ok((results, failures))
        },
    )
}

fn failure(lua: &Lua, index: usize, item: &LuaValue, error: LuaValue) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set("index", index + 1)?;
    t.set("item", item.clone())?;
    t.set("error", error)?;
    Ok(t)
}
