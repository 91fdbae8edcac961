//! Limits of one script run, enforced the same way by `run`, `repl` and the daemon:
//! a wall-clock timeout and a memory cap per Lua state.
//!
//! The run's future is dropped at the deadline, which cancels in-flight HTTP. Pure-Lua loops
//! never return to the executor on their own, so a watchdog hook runs every [`HOOK_INSTRUCTIONS`] instructions in every thread (coroutines inherit it):
//! once the run is past its deadline or cancelled, the hook raises an error that `pcall`,
//! `xpcall` and `coroutine.resume` cannot swallow, and the run ends with a timeout or
//! cancellation error.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::{Duration, Instant};

use mlua::{HookTriggers, Lua, VmState};

use crate::error::Error;

/// Instructions between two watchdog checks.
pub const HOOK_INSTRUCTIONS: u32 = 10_000;

/// The error the watchdog raises where it cannot yield.
const STOPPED: &str = "run stopped (timeout or cancellation)";

/// Default memory cap of a Lua state: 256 MiB.
pub const DEFAULT_MEMORY_LIMIT: usize = 256 * 1024 * 1024;

/// Limits of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub timeout: Option<Duration>,
    /// Bytes; 0 means no cap.
    pub memory: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            timeout: None,
            memory: DEFAULT_MEMORY_LIMIT,
        }
    }
}

/// Lets another task stop a run (REPL Ctrl-C, the daemon's `replace` overlap and shutdown).
#[derive(Debug, Clone, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
    pub fn reset(&self) {
        self.0.store(false, Ordering::SeqCst);
    }
}

/// The watchdog of one Lua state.
#[derive(Clone, Default)]
pub struct Watchdog {
    deadline: Arc<Mutex<Option<Instant>>>,
    cancel: Cancel,
}

impl Watchdog {
    /// Install the memory cap and the watchdog hook on `lua`.
    ///
    /// # Errors
    /// When the memory limit cannot be set (never for states tcrl creates).
    pub fn install(lua: &Lua, limits: &Limits, cancel: Cancel) -> mlua::Result<Self> {
        if limits.memory > 0 {
            lua.set_memory_limit(limits.memory)?;
        }
        let dog = Watchdog {
            cancel,
            ..Default::default()
        };
        let hook = dog.clone();
        lua.set_global_hook(
            HookTriggers::new().every_nth_instruction(HOOK_INSTRUCTIONS),
            move |_, _| {
                if !hook.must_stop() {
                    return Ok(VmState::Continue);
                }
                // Raise in whatever runs; pcall, xpcall and coroutine.resume pass it on (see
                // make_stop_uncatchable). Yielding instead would also yield a script's own
                // coroutine back to its caller, which would carry on as if it had finished.
                Err(mlua::Error::RuntimeError(STOPPED.into()))
            },
        )?;
        dog.make_stop_uncatchable(lua)?;
        Ok(dog)
    }

    /// Once the run must stop, `pcall`, `xpcall` and `coroutine.resume` pass errors on instead
    /// of catching them, so `while true do pcall(f) end` cannot outlive its deadline.
    fn make_stop_uncatchable(&self, lua: &Lua) -> mlua::Result<()> {
        let dog = self.clone();
        let stopping = lua.create_function(move |_, ()| Ok(dog.must_stop()))?;
        lua.load(
            r#"
            local stopping, pcall_, xpcall_, resume_, pack, unpack = ...
            local function checked(results)
              if not results[1] and stopping() then error(results[2], 0) end
              return unpack(results, 1, results.n)
            end
            pcall = function(...) return checked(pack(pcall_(...))) end
            xpcall = function(...) return checked(pack(xpcall_(...))) end
            if coroutine then
              coroutine.resume = function(...) return checked(pack(resume_(...))) end
            end
            "#,
        )
        .set_name("=[watchdog]")
        .call::<()>((
            stopping,
            lua.globals().get::<mlua::Function>("pcall")?,
            lua.globals().get::<mlua::Function>("xpcall")?,
            lua.globals()
                .get::<Option<mlua::Table>>("coroutine")?
                .map(|c| c.get::<mlua::Function>("resume"))
                .transpose()?,
            lua.globals()
                .get::<mlua::Table>("table")?
                .get::<mlua::Function>("pack")?,
            lua.globals()
                .get::<mlua::Table>("table")?
                .get::<mlua::Function>("unpack")?,
        ))
    }

    /// The cancellation handle of this state's runs.
    pub fn cancel_handle(&self) -> Cancel {
        self.cancel.clone()
    }

    fn must_stop(&self) -> bool {
        if self.cancel.is_cancelled() {
            return true;
        }
        let deadline = *self.deadline.lock().unwrap_or_else(|e| e.into_inner());
        deadline.is_some_and(|d| Instant::now() >= d)
    }

    /// Run `future` under the limits: `Script` errors say "timed out" or "cancelled".
    ///
    /// # Errors
    /// The run's own error, or the timeout/cancellation.
    pub async fn run<T>(
        &self,
        limits: &Limits,
        what: &str,
        future: impl Future<Output = crate::Result<T>>,
    ) -> crate::Result<T> {
        let deadline = limits.timeout.map(|t| Instant::now() + t);
        *self.deadline.lock().unwrap_or_else(|e| e.into_inner()) = deadline;
        let stopped = || -> Option<Error> {
            if self.cancel.is_cancelled() {
                return Some(Error::Script(format!("{what}: cancelled")));
            }
            match (deadline, limits.timeout) {
                (Some(d), Some(t)) if Instant::now() >= d => Some(Error::Script(format!(
                    "{what}: timed out after {}",
                    crate::settings::format_duration(t)
                ))),
                _ => None,
            }
        };
        // Our own deadline check rather than tokio's timer: a Lua loop yielding from the hook
        // wakes itself at once, and the check must not wait for the timer driver.
        let mut future = std::pin::pin!(future);
        let mut ticker = tokio::time::interval(Duration::from_millis(25));
        let result = std::future::poll_fn(|cx| {
            if let Poll::Ready(r) = future.as_mut().poll(cx) {
                return Poll::Ready(match r {
                    Err(e) => Err(stopped().unwrap_or(e)),
                    ok => ok,
                });
            }
            // Wake up now and then while waiting (e.g. on HTTP) to notice a deadline or cancel.
            while ticker.poll_tick(cx).is_ready() {}
            match stopped() {
                Some(e) => Poll::Ready(Err(e)),
                None => Poll::Pending,
            }
        })
        .await;
        *self.deadline.lock().unwrap_or_else(|e| e.into_inner()) = None;
        result.map_err(|e| match e {
            Error::Script(m) if m.contains("not enough memory") => Error::Script(format!(
                "{what}: memory limit of {} exceeded",
                format_bytes(limits.memory)
            )),
            other => other,
        })
    }
}

/// `64 MiB`, `512 KiB`.
pub fn format_bytes(bytes: usize) -> String {
    const MIB: usize = 1024 * 1024;
    if bytes >= MIB && bytes % MIB == 0 {
        format!("{} MiB", bytes / MIB)
    } else if bytes >= 1024 {
        format!("{} KiB", bytes / 1024)
    } else {
        format!("{bytes} bytes")
    }
}

/// Parse `64MB`, `256MiB`, `512K`, `1G` or a number of bytes. Binary units either way.
///
/// # Errors
/// A message naming the value.
pub fn parse_bytes(text: &str) -> Result<usize, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let n: usize = number
        .parse()
        .map_err(|_| format!("invalid size {text:?} (expected e.g. 64MB)"))?;
    let factor = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "K" | "KB" | "KIB" => 1024,
        "M" | "MB" | "MIB" => 1024 * 1024,
        "G" | "GB" | "GIB" => 1024 * 1024 * 1024,
        _ => return Err(format!("invalid size {text:?}: unknown unit {unit:?}")),
    };
    n.checked_mul(factor)
        .ok_or_else(|| format!("size {text:?} is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_bytes("64MB"), Ok(64 * 1024 * 1024));
        assert_eq!(parse_bytes("512k"), Ok(512 * 1024));
        assert_eq!(parse_bytes("100"), Ok(100));
        assert!(parse_bytes("lots").is_err());
        assert_eq!(format_bytes(64 * 1024 * 1024), "64 MiB");
    }

    #[tokio::test]
    async fn an_infinite_lua_loop_is_stopped_by_the_timeout() {
        let lua = Lua::new();
        let limits = Limits {
            timeout: Some(Duration::from_millis(200)),
            memory: 0,
        };
        let dog = Watchdog::install(&lua, &limits, Cancel::default()).unwrap();
        let f = lua.load("while true do end").into_function().unwrap();
        let err = dog
            .run(&limits, "loop.lua", async {
                f.call_async::<()>(()).await.map_err(crate::Error::from)
            })
            .await
            .unwrap_err();
        assert_eq!(err.to_string(), "loop.lua: timed out after 200ms");
    }

    #[tokio::test]
    async fn a_loop_that_catches_errors_is_still_stopped() {
        let lua = Lua::new();
        let limits = Limits {
            timeout: Some(Duration::from_millis(200)),
            memory: 0,
        };
        let dog = Watchdog::install(&lua, &limits, Cancel::default()).unwrap();
        let f = lua
            .load("while true do pcall(function() while true do table.sort({3, 2, 1}, function(a, b) while true do end end) end end) end")
            .into_function()
            .unwrap();
        let err = dog
            .run(&limits, "x", async {
                f.call_async::<()>(()).await.map_err(crate::Error::from)
            })
            .await
            .unwrap_err();
        assert!(err.to_string().contains("timed out"), "{err}");
    }

    #[tokio::test]
    async fn memory_cap_fails_the_run() {
        let lua = Lua::new();
        let limits = Limits {
            timeout: None,
            memory: 8 * 1024 * 1024,
        };
        let dog = Watchdog::install(&lua, &limits, Cancel::default()).unwrap();
        let f = lua
            .load("local t = {} for i = 1, 1e9 do t[i] = ('x'):rep(100) .. i end")
            .into_function()
            .unwrap();
        let err = dog
            .run(&limits, "mem.lua", async {
                f.call_async::<()>(()).await.map_err(crate::Error::from)
            })
            .await
            .unwrap_err();
        assert_eq!(err.to_string(), "mem.lua: memory limit of 8 MiB exceeded");
        // The state is still usable after the failure.
        assert_eq!(lua.load("return 1 + 1").eval::<i32>().unwrap(), 2);
    }
}
