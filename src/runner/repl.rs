//! `tcrl repl`: an interactive Lua prompt with the same `tcr` runtime as `tcrl run`.
//!
//! Each input is first tried as an expression (`return <input>`), then as a statement;
//! incomplete input continues on the next line. Values print through `tcr.inspect`. Ctrl-C
//! cancels a running evaluation (the state stays usable) or clears pending input; Ctrl-D
//! exits. With stdin not a terminal, lines are read and evaluated the same way, without
//! prompts, and the exit code is 1 if any input failed.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;

use mlua::Value as LuaValue;

use super::repl_complete::ReplHelper;
use crate::api::{catalog, paginate};
use crate::error::{Error, Result};
use crate::lua::{error_message, new_state_with, Runtime, ScriptState};

/// What one input did.
enum Outcome {
    /// Printable results (possibly none).
    Done(Vec<String>),
    /// The chunk is not finished: read more lines.
    Incomplete,
    Failed(String),
    Quit,
}

/// A REPL session: one Lua state for the whole session.
pub struct Repl {
    runtime: Arc<Runtime>,
    state: ScriptState,
}

impl Repl {
    /// A session over `runtime`, with the current folder as the script folder.
    ///
    /// # Errors
    /// When the Lua state cannot be built.
    pub fn new(runtime: Arc<Runtime>) -> Result<Self> {
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        let state = new_state_with(runtime.clone(), Some(&cwd), Default::default())
            .map_err(|e| Error::Script(error_message(&e)))?;
        Ok(Repl { runtime, state })
    }

    /// Evaluate one complete or partial input.
    async fn eval(&self, input: &str) -> Outcome {
        let trimmed = input.trim();
        if let Some(command) = trimmed.strip_prefix(':') {
            return self.command(command);
        }
        if trimmed.is_empty() {
            return Outcome::Done(Vec::new());
        }
        let lua = &self.state.lua;
        // An expression list is evaluated inside the chunk (not as a tail call), so errors
        // keep their `stdin:LINE` location; a statement's own returns are packed afterwards.
        let packer = match lua
            .load(format!("return table.pack({input}\n)"))
            .set_name("=stdin")
            .into_function()
        {
            Ok(f) => f,
            Err(_) => {
                let statement = match lua.load(input).set_name("=stdin").into_function() {
                    Ok(f) => f,
                    Err(mlua::Error::SyntaxError {
                        incomplete_input: true,
                        ..
                    }) => return Outcome::Incomplete,
                    Err(e) => return Outcome::Failed(error_message(&e)),
                };
                match lua
                    .load("local f = ... return function() return table.pack(f()) end")
                    .set_name("=[repl]")
                    .call::<mlua::Function>(statement)
                {
                    Ok(p) => p,
                    Err(e) => return Outcome::Failed(error_message(&e)),
                }
            }
        };
        self.state.cancel().reset();
        let cancel = self.state.cancel();
        let watcher = tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                cancel.cancel();
            }
        });
        let result = self.state.run(packer, "stdin").await;
        watcher.abort();
        match result {
            Ok(LuaValue::Table(packed)) => {
                let n: usize = packed.get("n").unwrap_or(0);
                let inspect: mlua::Function = match lua
                    .globals()
                    .get::<mlua::Table>("tcr")
                    .and_then(|t| t.get("inspect"))
                {
                    Ok(f) => f,
                    Err(e) => return Outcome::Failed(error_message(&e)),
                };
                let mut out = Vec::with_capacity(n);
                for i in 1..=n {
                    let value: LuaValue = packed.get(i).unwrap_or(LuaValue::Nil);
                    out.push(crate::redact::redact(
                        &inspect
                            .call::<String>(value)
                            .unwrap_or_else(|e| error_message(&e)),
                    ));
                }
                Outcome::Done(out)
            }
            Ok(_) => Outcome::Done(Vec::new()),
            Err(e) => Outcome::Failed(e.to_string()),
        }
    }

    fn command(&self, command: &str) -> Outcome {
        let mut words = command.split_whitespace();
        let name = words.next().unwrap_or("");
        let arg = words.next();
        let text = match name {
            "q" | "quit" | "exit" => return Outcome::Quit,
            "help" | "h" => HELP.to_string(),
            "actions" => actions(arg),
            "describe" => match arg {
                Some(action) => match describe(action) {
                    Ok(t) => t,
                    Err(e) => return Outcome::Failed(e),
                },
                None => {
                    return Outcome::Failed(
                        ":describe needs an action name, e.g. :describe DescribeImages".into(),
                    )
                }
            },
            "region" => match arg {
                None => format!("region {}", self.runtime.region()),
                Some(r) => match self.runtime.set_region(r) {
                    Ok(()) => {
                        if let Ok(t) = self.state.lua.globals().get::<mlua::Table>("tcr") {
                            let _ = t.set("region", r);
                        }
                        format!("region {r}")
                    }
                    Err(e) => return Outcome::Failed(e.to_string()),
                },
            },
            other => return Outcome::Failed(format!("unknown command :{other} (try :help)")),
        };
        Outcome::Done(vec![text])
    }
}

const HELP: &str = "\
Lua 5.4 with the tcr module. Expressions print their values.
  tcr.call(\"DescribeInstances\")                       call an action
  tcr.collect(\"DescribeRepositories\", {RegistryId = \"tcr-xxx\"})
  for r in tcr.paginate(action, params) do ... end   iterate every page
  tcr.inspect(value)                                 the printer used here
Tab completes names, actions and parameters. Ctrl-C cancels a running call, Ctrl-D exits.
Commands:
  :actions [pattern]   actions, with how they page
  :describe ACTION     parameters with types and required flags
  :region [name]       show or switch the default region
  :quit";

/// One line per action matching `pattern` (case-insensitive substring).
fn actions(pattern: Option<&str>) -> String {
    let pattern = pattern.unwrap_or("").to_ascii_lowercase();
    let mut lines = Vec::new();
    for (name, action) in &catalog::tcr().actions {
        if !name.to_ascii_lowercase().contains(&pattern) {
            continue;
        }
        let kind = if action.read_only {
            "read-only"
        } else {
            "mutating"
        };
        let paging = match paginate::rule(name) {
            Some(r) => format!(", pages by {}", r.style.as_str().replace('_', " ")),
            None => String::new(),
        };
        let required: Vec<&str> = action
            .request
            .iter()
            .filter(|f| f.required)
            .map(|f| f.name)
            .collect();
        let needs = if required.is_empty() {
            String::new()
        } else {
            format!("; needs {}", required.join(", "))
        };
        lines.push(format!("{name:<40} {kind}{paging}{needs}"));
    }
    if lines.is_empty() {
        return format!("no action matches {pattern:?}");
    }
    lines.join("\n")
}

/// Parameters of an action with types and required flags, and its paging rule.
fn describe(action: &str) -> std::result::Result<String, String> {
    let catalog = catalog::tcr();
    let Some(a) = catalog.action(action) else {
        return Err(format!(
            "unknown action {action:?}{}",
            crate::error::DidYouMean::among(action, catalog.actions.keys().copied())
        ));
    };
    let mut lines = vec![format!(
        "{action} ({})",
        if a.read_only { "read-only" } else { "mutating" }
    )];
    lines.push("parameters:".into());
    for f in &a.request {
        let kind = if f.kind == "list" {
            format!("list of {}", f.member)
        } else if f.kind == "object" {
            f.member.to_string()
        } else {
            f.kind.to_string()
        };
        lines.push(format!(
            "  {:<28} {:<24} {}",
            f.name,
            kind,
            if f.required { "required" } else { "optional" }
        ));
    }
    match paginate::rule(action) {
        Some(r) => lines.push(format!(
            "paging: {} ({} from {}, {} up to {}), items in {}, total in {}",
            r.style.as_str(),
            r.offset_param,
            r.first,
            r.size_param,
            r.max_size
                .map(|m| m.to_string())
                .unwrap_or_else(|| "?".into()),
            r.list_field,
            r.total_field.as_deref().unwrap_or("-")
        )),
        None => lines.push("paging: none".into()),
    }
    Ok(lines.join("\n"))
}

/// Lines that must not reach the history file.
fn is_secret(line: &str) -> bool {
    let lower = line.to_ascii_lowercase();
    lower.contains("secret") || lower.contains("token") || crate::redact::redact(line) != line
}

/// The history file: `TCRL_HISTORY`, else `$XDG_STATE_HOME/tcrl/repl_history`.
fn history_path() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("TCRL_HISTORY") {
        return Some(PathBuf::from(p));
    }
    dirs::state_dir()
        .or_else(|| dirs::home_dir().map(|h| h.join(".local/state")))
        .map(|d| d.join("tcrl").join("repl_history"))
}

/// Run the REPL until Ctrl-D / `:quit` (terminal) or end of input (pipe).
///
/// # Errors
/// `Script` when piped input had failures (exit 1).
pub async fn run(runtime: Arc<Runtime>) -> Result<()> {
    let repl = Repl::new(runtime)?;
    if std::io::stdin().is_terminal() {
        interactive(&repl).await
    } else {
        piped(&repl).await
    }
}

async fn piped(repl: &Repl) -> Result<()> {
    let mut pending = String::new();
    let mut failures = 0;
    let lines: Vec<String> = std::io::stdin()
        .lock()
        .lines()
        .map_while(std::result::Result::ok)
        .collect();
    for line in lines {
        pending.push_str(&line);
        pending.push('\n');
        match repl.eval(&pending).await {
            Outcome::Incomplete => continue,
            Outcome::Done(values) => print_values(&values),
            Outcome::Failed(e) => {
                failures += 1;
                eprintln!("{}", crate::redact::redact(&e));
            }
            Outcome::Quit => return finish(failures),
        }
        pending.clear();
    }
    if !pending.trim().is_empty() {
        failures += 1;
        eprintln!("stdin: unfinished input at end of file");
    }
    finish(failures)
}

fn finish(failures: usize) -> Result<()> {
    if failures > 0 {
        return Err(Error::Script(format!("{failures} input(s) failed")));
    }
    Ok(())
}

fn print_values(values: &[String]) {
    let mut out = std::io::stdout().lock();
    for v in values {
        let _ = writeln!(out, "{v}");
    }
    let _ = out.flush();
}

async fn interactive(repl: &Repl) -> Result<()> {
    let mut editor: rustyline::Editor<ReplHelper, rustyline::history::DefaultHistory> =
        rustyline::Editor::new()
            .map_err(|e| Error::Config(format!("cannot start the line editor: {e}")))?;
    editor.set_helper(Some(ReplHelper {
        lua: repl.state.lua.clone(),
    }));
    let history = history_path();
    if let Some(path) = &history {
        let _ = editor.load_history(path);
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
    }
    println!(
        "tcrl repl (Lua 5.4): region {}. :help for a tour, Ctrl-D to exit.",
        repl.runtime.region()
    );
    let mut pending = String::new();
    loop {
        let prompt = if pending.is_empty() { "tcr> " } else { "...> " };
        let line = tokio::task::block_in_place(|| editor.readline(prompt));
        let line = match line {
            Ok(l) => l,
            Err(rustyline::error::ReadlineError::Interrupted) => {
                pending.clear();
                continue;
            }
            Err(rustyline::error::ReadlineError::Eof) => break,
            Err(e) => return Err(Error::Config(format!("line editor: {e}"))),
        };
        if !is_secret(&line) && !line.trim().is_empty() {
            let _ = editor.add_history_entry(line.as_str());
            if let Some(path) = &history {
                let _ = editor.save_history(path);
            }
        }
        pending.push_str(&line);
        pending.push('\n');
        match repl.eval(&pending).await {
            Outcome::Incomplete => continue,
            Outcome::Done(values) => print_values(&values),
            Outcome::Failed(e) => eprintln!("{}", crate::redact::redact(&e)),
            Outcome::Quit => break,
        }
        pending.clear();
    }
    Ok(())
}
