//! Tab completion and hints for the REPL: globals and table members (`tcr.`), action names
//! inside the first string argument of `tcr.call`/`paginate`/`collect`/`pages`, parameter
//! names inside the parameter table, and a greyed hint with an action's required parameters.

use std::borrow::Cow;

use mlua::{Lua, Table, Value as LuaValue};
use rustyline::completion::{Completer, Pair};
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::validate::Validator;
use rustyline::{Context, Helper};

use crate::api::catalog;

const CALLERS: &[&str] = &["tcr.call", "tcr.paginate", "tcr.collect", "tcr.pages"];

/// The REPL's helper; reads names from the live Lua state.
pub struct ReplHelper {
    pub lua: Lua,
}

/// Where the cursor is, as far as completion cares.
#[derive(Debug, PartialEq, Eq)]
enum Spot<'a> {
    /// Typing an action name: the partial name.
    Action(&'a str),
    /// Inside the parameter table of an action: the action and the partial name.
    Param(&'a str, &'a str),
    /// Typing an expression such as `tcr.co`.
    Name(&'a str),
}

fn spot(before: &str) -> Spot<'_> {
    for caller in CALLERS {
        let Some(at) = before.rfind(&format!("{caller}(")) else {
            continue;
        };
        let rest = before[at + caller.len() + 1..].trim_start();
        let Some(quoted) = rest.strip_prefix('"').or_else(|| rest.strip_prefix('\'')) else {
            continue;
        };
        match quoted.find(['"', '\'']) {
            None => return Spot::Action(quoted),
            Some(end) => {
                let action = &quoted[..end];
                let after = &quoted[end + 1..];
                if let Some(brace) = after.find('{') {
                    if !after[brace..].contains('}') {
                        let inside = &after[brace + 1..];
                        let partial_start = inside
                            .rfind(|c: char| !(c.is_alphanumeric() || c == '_'))
                            .map(|i| i + 1)
                            .unwrap_or(0);
                        let partial = &inside[partial_start..];
                        // After `=`, a value is being typed, not a name.
                        let before_partial = inside[..partial_start].trim_end();
                        if before_partial.is_empty()
                            || before_partial.ends_with(',')
                            || before_partial.ends_with('{')
                        {
                            return Spot::Param(action, partial);
                        }
                    }
                }
            }
        }
    }
    let start = before
        .rfind(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.' || c == ':'))
        .map(|i| i + 1)
        .unwrap_or(0);
    Spot::Name(&before[start..])
}

impl ReplHelper {
    fn names(&self, partial: &str) -> (usize, Vec<String>) {
        if let Some(cmd) = partial.strip_prefix(':') {
            let list = ["help", "actions", "describe", "region", "quit"];
            return (
                1,
                list.iter()
                    .filter(|c| c.starts_with(cmd))
                    .map(|c| c.to_string())
                    .collect(),
            );
        }
        let (path, last) = match partial.rfind(['.', ':']) {
            Some(i) => (&partial[..i], &partial[i + 1..]),
            None => ("", partial),
        };
        let mut table: Table = self.lua.globals();
        if !path.is_empty() {
            for part in path.split(['.', ':']) {
                match table.get::<LuaValue>(part) {
                    Ok(LuaValue::Table(t)) => table = t,
                    _ => return (0, Vec::new()),
                }
            }
        }
        let mut out: Vec<String> = table
            .pairs::<LuaValue, LuaValue>()
            .flatten()
            .filter_map(|(k, _)| k.as_string().map(|s| s.to_string_lossy()))
            .filter(|k| k.starts_with(last) && !k.starts_with("__"))
            .collect();
        out.sort();
        (partial.len() - last.len(), out)
    }
}

impl Completer for ReplHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let before = &line[..pos];
        let pair = |s: String| Pair {
            display: s.clone(),
            replacement: s,
        };
        match spot(before) {
            Spot::Action(partial) => {
                let list = catalog::tcr()
                    .actions
                    .keys()
                    .filter(|a| a.starts_with(partial))
                    .map(|a| pair(a.to_string()))
                    .collect();
                Ok((pos - partial.len(), list))
            }
            Spot::Param(action, partial) => {
                let list = catalog::tcr()
                    .action(action)
                    .map(|a| {
                        a.request
                            .iter()
                            .filter(|f| f.name.starts_with(partial))
                            .map(|f| pair(format!("{} = ", f.name)))
                            .collect()
                    })
                    .unwrap_or_default();
                Ok((pos - partial.len(), list))
            }
            Spot::Name(partial) => {
                let (offset, names) = self.names(partial);
                let start = pos - partial.len() + offset;
                Ok((start, names.into_iter().map(pair).collect()))
            }
        }
    }
}

impl Hinter for ReplHelper {
    type Hint = String;

    fn hint(&self, line: &str, pos: usize, _ctx: &Context<'_>) -> Option<String> {
        if pos != line.len() {
            return None;
        }
        let Spot::Param(action, _) = spot(line) else {
            return None;
        };
        let required: Vec<&str> = catalog::tcr()
            .action(action)?
            .request
            .iter()
            .filter(|f| f.required)
            .map(|f| f.name)
            .collect();
        if required.is_empty() {
            return None;
        }
        Some(format!("  -- requires {}", required.join(", ")))
    }
}

impl Highlighter for ReplHelper {
    fn highlight_hint<'h>(&self, hint: &'h str) -> Cow<'h, str> {
        Cow::Owned(format!("\x1b[2m{hint}\x1b[0m"))
    }
}

impl Validator for ReplHelper {}

impl Helper for ReplHelper {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cursor_spot_is_recognised() {
        assert_eq!(spot(r#"tcr.call("DescribeIm"#), Spot::Action("DescribeIm"));
        assert_eq!(spot(r#"x = tcr.collect('Desc"#), Spot::Action("Desc"));
        assert_eq!(
            spot(r#"tcr.call("DescribeImages", {Reg"#),
            Spot::Param("DescribeImages", "Reg")
        );
        assert_eq!(
            spot(r#"tcr.call("DescribeImages", {RegistryId = "x", Na"#),
            Spot::Param("DescribeImages", "Na")
        );
        assert_eq!(
            spot(r#"tcr.call("DescribeImages", {RegistryId = "#),
            Spot::Name("")
        );
        assert_eq!(spot("print(tcr.co"), Spot::Name("tcr.co"));
    }
}
