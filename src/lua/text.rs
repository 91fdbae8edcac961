//! `tcr.regex` (Rust's `regex` crate, compiled once and cached) and `tcr.semver` (the `semver`
//! crate, accepting a leading `v` as image tags usually carry one).

use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use mlua::{Lua, Table, Value as LuaValue};

use super::runtime_error;

/// Compiled patterns kept per state; cleared when it grows past this many.
const CACHE_LIMIT: usize = 512;

type Cache = Arc<Mutex<HashMap<String, regex::Regex>>>;

fn compiled(cache: &Cache, fname: &str, pattern: &str) -> mlua::Result<regex::Regex> {
    let mut cache = cache.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(re) = cache.get(pattern) {
        return Ok(re.clone());
    }
    let re = regex::Regex::new(pattern).map_err(|e| {
        // Syntax errors span several lines (pattern, caret, reason): keep the reason.
        let text = e.to_string();
        let reason = text
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("")
            .trim();
        let reason = reason.strip_prefix("error: ").unwrap_or(reason);
        runtime_error(format!(
            "{fname}: invalid regular expression {pattern:?}: {reason}"
        ))
    })?;
    if cache.len() >= CACHE_LIMIT {
        cache.clear();
    }
    cache.insert(pattern.to_string(), re.clone());
    Ok(re)
}

/// Build `tcr.regex`: `is_match(p, s)`, `full_match(p, s)`, `match(p, s)` (captures like
/// `string.match`: the groups, or the whole match when there are none).
pub fn regex_module(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    let cache: Cache = Arc::default();
    let c = cache.clone();
    t.set(
        "is_match",
        lua.create_function(move |_, (pattern, text): (String, String)| {
            Ok(compiled(&c, "tcr.regex.is_match", &pattern)?.is_match(&text))
        })?,
    )?;
    let c = cache.clone();
    t.set(
        "full_match",
        lua.create_function(move |_, (pattern, text): (String, String)| {
            // Check the pattern as written first, so errors quote what the user wrote.
            compiled(&c, "tcr.regex.full_match", &pattern)?;
            let anchored = format!("^(?:{pattern})$");
            Ok(compiled(&c, "tcr.regex.full_match", &anchored)?.is_match(&text))
        })?,
    )?;
    let c = cache;
    t.set(
        "match",
        lua.create_function(move |lua, (pattern, text): (String, String)| {
            let re = compiled(&c, "tcr.regex.match", &pattern)?;
            let Some(caps) = re.captures(&text) else {
                return Ok(mlua::MultiValue::from_vec(vec![LuaValue::Nil]));
            };
            let mut out = Vec::new();
            if caps.len() == 1 {
                out.push(LuaValue::String(lua.create_string(&caps[0])?));
            } else {
                for group in caps.iter().skip(1) {
                    out.push(match group {
                        Some(m) => LuaValue::String(lua.create_string(m.as_str())?),
                        None => LuaValue::Nil,
                    });
                }
            }
            Ok(mlua::MultiValue::from_vec(out))
        })?,
    )?;
    Ok(t)
}

/// Parse a version tag, allowing a leading `v`/`V`.
pub fn parse_version(text: &str) -> Option<semver::Version> {
    let t = text
        .strip_prefix('v')
        .or_else(|| text.strip_prefix('V'))
        .unwrap_or(text);
    semver::Version::parse(t).ok()
}

/// Build `tcr.semver`: `parse(s)` -> `{major, minor, patch, prerelease, build}` or nil, and
/// `compare(a, b)` -> -1, 0 or 1 by semver precedence.
pub fn semver_module(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set(
        "parse",
        lua.create_function(|lua, text: String| {
            let Some(v) = parse_version(&text) else {
                return Ok(None);
            };
            let row = lua.create_table()?;
            row.set("major", v.major)?;
            row.set("minor", v.minor)?;
            row.set("patch", v.patch)?;
            row.set("prerelease", (!v.pre.is_empty()).then(|| v.pre.to_string()))?;
            row.set("build", (!v.build.is_empty()).then(|| v.build.to_string()))?;
            Ok(Some(row))
        })?,
    )?;
    t.set(
        "compare",
        lua.create_function(|_, (a, b): (String, String)| {
            let parse = |s: &str| {
                parse_version(s).ok_or_else(|| {
                    runtime_error(format!(
                        "tcr.semver.compare: {s:?} is not a semantic version"
                    ))
                })
            };
            Ok(match parse(&a)?.cmp_precedence(&parse(&b)?) {
                Ordering::Less => -1,
                Ordering::Equal => 0,
                Ordering::Greater => 1,
            })
        })?,
    )?;
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_with_and_without_v() {
        assert_eq!(parse_version("v1.2.3").unwrap().minor, 2);
        assert_eq!(parse_version("1.2.3-rc.1").unwrap().pre.as_str(), "rc.1");
        assert!(parse_version("latest").is_none());
        assert!(parse_version("1.2").is_none());
    }

    #[test]
    fn lua_functions() {
        let lua = Lua::new();
        lua.globals()
            .set("re", regex_module(&lua).unwrap())
            .unwrap();
        lua.globals()
            .set("sv", semver_module(&lua).unwrap())
            .unwrap();
        let out: String = lua
            .load(
                r#"
                local a, b = re.match("^(\\w+)-(\\d+)$", "main-42")
                return table.concat({a, b, tostring(re.full_match("v\\d+", "v12")), tostring(re.full_match("v\\d+", "xv12")),
                  tostring(re.is_match("v\\d+", "xv12")), re.match("\\d+", "ab12cd"), tostring(re.match("z", "abc")),
                  sv.compare("v1.10.0", "v1.9.0"), sv.compare("1.0.0-rc.1", "1.0.0"), sv.parse("v2.1.0-beta").prerelease}, ",")
                "#,
            )
            .eval()
            .unwrap();
        assert_eq!(out, "main,42,true,false,true,12,nil,1,-1,beta");
        let err = lua.load(r#"re.is_match("(", "x")"#).exec().unwrap_err();
        assert!(
            err.to_string().contains("invalid regular expression"),
            "{err}"
        );
    }
}
