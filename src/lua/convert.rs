//! JSON <-> Lua, in one place, with the rules scripts rely on:
//! - JSON `null` is the sentinel `tcr.null` (Lua's `nil` cannot sit in a table);
//! - integers stay integers; a float with an exact integer value is sent as an integer;
//!   NaN and infinities are refused;
//! - a table with keys 1..n is an array, one with string keys an object, anything else (mixed,
//!   sparse, other key types) is refused with the parameter path;
//! - an empty table is `[]` when the catalog says the parameter is a list, `{}` otherwise;
//! - strings must be valid UTF-8; functions, userdata and threads are refused;
//! - cycles and nesting deeper than [`MAX_DEPTH`] are refused instead of overflowing the stack.

use mlua::{Lua, Value as LuaValue};
use serde_json::{Map, Number, Value};

use crate::api::catalog::Catalog;

/// Deepest nesting accepted when converting a Lua table.
pub const MAX_DEPTH: usize = 32;

/// What a conversion knows about where it is: action (for catalog look-ups) and path.
pub struct ToJson<'a> {
    pub action: &'a str,
    pub catalog: Option<&'a Catalog>,
}

/// A conversion failure: the parameter path (`Filters[1].Values`) and the problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConvertError {
    pub path: String,
    pub problem: String,
}

impl ToJson<'_> {
    /// Convert the parameter table of a call.
    pub fn params(&self, value: &LuaValue) -> Result<Value, ConvertError> {
        match value {
            LuaValue::Nil => Ok(Value::Object(Map::new())),
            LuaValue::Table(_) => {
                let mut seen = Vec::new();
                let v = self.convert(value, &mut Vec::new(), &mut seen)?;
                match v {
                    Value::Object(_) => Ok(v),
                    Value::Array(a) if a.is_empty() => Ok(Value::Object(Map::new())),
                    _ => Err(ConvertError {
                        path: "(params)".into(),
                        problem: "expected a table of named parameters, got a list".into(),
                    }),
                }
            }
            other => Err(ConvertError {
                path: "(params)".into(),
                problem: format!("expected a table, got {}", other.type_name()),
            }),
        }
    }

    /// Convert any value (scalars and top-level lists included), for `tcr.json.encode`.
    pub fn value(&self, value: &LuaValue) -> Result<Value, ConvertError> {
        self.convert(value, &mut Vec::new(), &mut Vec::new())
    }

    fn convert(
        &self,
        value: &LuaValue,
        path: &mut Vec<String>,
        seen: &mut Vec<*const std::ffi::c_void>,
    ) -> Result<Value, ConvertError> {
        let fail = |path: &[String], problem: String| ConvertError {
            path: display_path(path),
            problem,
        };
        match value {
            LuaValue::Nil => Ok(Value::Null),
            LuaValue::LightUserData(p) if p.0.is_null() => Ok(Value::Null),
            LuaValue::Boolean(b) => Ok(Value::Bool(*b)),
            LuaValue::Integer(i) => Ok(Value::from(*i)),
            LuaValue::Number(n) => number(*n).map_err(|p| fail(path, p)),
            LuaValue::String(s) => match s.to_str() {
                Ok(text) => Ok(Value::String(text.to_string())),
                Err(_) => Err(fail(path, "string is not valid UTF-8".into())),
            },
            LuaValue::Table(t) => {
                if path.len() >= MAX_DEPTH {
                    return Err(fail(path, format!("nested deeper than {MAX_DEPTH} levels")));
                }
                let ptr = t.to_pointer();
                if seen.contains(&ptr) {
                    return Err(fail(path, "table refers to itself (cycle)".into()));
                }
                seen.push(ptr);
                let result = self.table(t, path, seen);
                seen.pop();
                result
            }
            other => Err(fail(
                path,
                format!("cannot send a {} as a parameter", other.type_name()),
            )),
        }
    }

    fn table(
        &self,
        t: &mlua::Table,
        path: &mut Vec<String>,
        seen: &mut Vec<*const std::ffi::c_void>,
    ) -> Result<Value, ConvertError> {
        let mut string_keys = Vec::new();
        let mut int_keys = Vec::new();
        for pair in t.pairs::<LuaValue, LuaValue>() {
            let (k, v) = pair.map_err(|e| ConvertError {
                path: display_path(path),
                problem: e.to_string(),
            })?;
            match k {
                LuaValue::String(s) => match s.to_str() {
                    Ok(name) => string_keys.push((name.to_string(), v)),
                    Err(_) => {
                        return Err(ConvertError {
                            path: display_path(path),
                            problem: "a key is not valid UTF-8".into(),
                        })
                    }
                },
                LuaValue::Integer(i) => int_keys.push((i, v)),
                LuaValue::Number(n) if n.fract() == 0.0 => int_keys.push((n as i64, v)),
                other => {
                    return Err(ConvertError {
                        path: display_path(path),
                        problem: format!(
                            "table keys must be strings or 1..n, got a {}",
                            other.type_name()
                        ),
                    })
                }
            }
        }
        match (string_keys.is_empty(), int_keys.is_empty()) {
            (true, true) => Ok(if self.is_list(path) {
                Value::Array(Vec::new())
            } else {
                Value::Object(Map::new())
            }),
            (false, false) => Err(ConvertError {
                path: display_path(path),
                problem: "table mixes list items and named fields".into(),
            }),
            (false, true) => {
                // Sorted for a stable request body (and so a stable signature to debug).
                string_keys.sort_by(|a, b| a.0.cmp(&b.0));
                let mut map = Map::new();
                for (name, v) in string_keys {
                    path.push(name.clone());
                    let converted = self.convert(&v, path, seen)?;
                    path.pop();
                    map.insert(name, converted);
                }
                Ok(Value::Object(map))
            }
            (true, false) => {
                int_keys.sort_by_key(|(i, _)| *i);
                let n = int_keys.len() as i64;
                if int_keys.first().map(|(i, _)| *i) != Some(1)
                    || int_keys.last().map(|(i, _)| *i) != Some(n)
                {
                    return Err(ConvertError {
                        path: display_path(path),
                        problem: "list has holes or does not start at 1".into(),
                    });
                }
                let mut items = Vec::with_capacity(int_keys.len());
                for (i, v) in int_keys {
                    path.push(format!("[{i}]"));
                    let converted = self.convert(&v, path, seen)?;
                    path.pop();
                    items.push(converted);
                }
                Ok(Value::Array(items))
            }
        }
    }

    /// Whether the catalog says the parameter at `path` is a list.
    fn is_list(&self, path: &[String]) -> bool {
        let names: Vec<&str> = path
            .iter()
            .filter(|s| !s.starts_with('['))
            .map(String::as_str)
            .collect();
        let Some(catalog) = self.catalog else {
            return false;
        };
        match catalog.request_field(self.action, &names) {
            // A list element that is itself a list (rare) is not described; only direct fields.
            Some(field) => field.kind == "list" && !path.last().is_some_and(|s| s.starts_with('[')),
            None => false,
        }
    }
}

fn number(n: f64) -> Result<Value, String> {
    if !n.is_finite() {
        return Err(format!(
            "number {n} cannot be sent (NaN and infinities are not JSON)"
        ));
    }
    if n.fract() == 0.0 && n.abs() < 9.007_199_254_740_992e15 {
        return Ok(Value::from(n as i64));
    }
    Number::from_f64(n)
        .map(Value::Number)
        .ok_or_else(|| format!("number {n} cannot be sent"))
}

/// `Filters[1].Values` style path, `(params)` for the root.
fn display_path(path: &[String]) -> String {
    if path.is_empty() {
        return "(params)".into();
    }
    let mut out = String::new();
    for segment in path {
        if !segment.starts_with('[') && !out.is_empty() {
            out.push('.');
        }
        out.push_str(segment);
    }
    out
}

/// Convert a JSON value to Lua; `null` becomes `tcr.null`.
pub fn to_lua(lua: &Lua, value: &Value) -> mlua::Result<LuaValue> {
    Ok(match value {
        Value::Null => LuaValue::NULL,
        Value::Bool(b) => LuaValue::Boolean(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => LuaValue::Integer(i),
            None => LuaValue::Number(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => LuaValue::String(lua.create_string(s)?),
        Value::Array(items) => {
            let t = lua.create_table_with_capacity(items.len(), 0)?;
            for (i, item) in items.iter().enumerate() {
                t.raw_set(i + 1, to_lua(lua, item)?)?;
            }
            LuaValue::Table(t)
        }
        Value::Object(map) => {
            let t = lua.create_table_with_capacity(0, map.len())?;
            for (k, v) in map {
                t.raw_set(k.as_str(), to_lua(lua, v)?)?;
            }
            LuaValue::Table(t)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn convert(lua: &Lua, action: &str, code: &str) -> Result<Value, ConvertError> {
        let v: LuaValue = lua.load(code).eval().unwrap();
        ToJson {
            action,
            catalog: Some(crate::api::catalog::tcr()),
        }
        .params(&v)
    }

    #[test]
    fn tables_become_objects_and_arrays() {
        let lua = Lua::new();
        let v = convert(
            &lua,
            "DescribeInstances",
            r#"return {Limit = 10, Registryids = {"a", "b"}, AllRegion = true, Filters = {}}"#,
        )
        .unwrap();
        assert_eq!(
            v,
            json!({"AllRegion": true, "Filters": [], "Limit": 10, "Registryids": ["a", "b"]})
        );
    }

    #[test]
    fn empty_table_is_object_unless_the_catalog_says_list() {
        let lua = Lua::new();
        let v = convert(
            &lua,
            "CreateNamespace",
            r#"return {TagSpecification = {}, CVEWhitelistItems = {}}"#,
        )
        .unwrap();
        assert_eq!(v, json!({"CVEWhitelistItems": [], "TagSpecification": {}}));
    }

    #[test]
    fn bad_values_name_their_path() {
        let lua = Lua::new();
        let cases = [
            (
                r#"return {Filters = {{Name = "x", Values = {"\xff"}}}}"#,
                "Filters[1].Values[1]",
                "UTF-8",
            ),
            ("return {Limit = 0/0}", "Limit", "NaN"),
            ("return {Limit = 1/0}", "Limit", "cannot be sent"),
            ("return {F = print}", "F", "function"),
            ("return {F = coroutine.create(print)}", "F", "thread"),
            ("local t = {} t.self = t return {T = t}", "T.self", "cycle"),
            ("return {T = {1, 2, x = 3}}", "T", "mixes"),
            ("return {T = {[1] = 1, [3] = 3}}", "T", "holes"),
            ("return {T = {[true] = 1}}", "T", "keys"),
            ("return {1, 2}", "(params)", "list"),
            ("return 5", "(params)", "expected a table"),
        ];
        for (code, path, problem) in cases {
            let err = convert(&lua, "DescribeImages", code).unwrap_err();
            assert_eq!(err.path, path, "{code}");
            assert!(err.problem.contains(problem), "{code}: {}", err.problem);
        }
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        let lua = Lua::new();
        let err = convert(
            &lua,
            "X",
            "local t = {} local r = {T = t} for i = 1, 100 do t.n = {} t = t.n end return r",
        )
        .unwrap_err();
        assert!(err.problem.contains("nested deeper"), "{err:?}");
    }

    #[test]
    fn integral_floats_become_integers_and_nulls_round_trip() {
        let lua = Lua::new();
        let v = convert(&lua, "X", "return {A = 10/2, B = 2.5}").unwrap();
        assert_eq!(v, json!({"A": 5, "B": 2.5}));
        let back = to_lua(&lua, &json!({"N": null, "I": 3, "L": [1, "x"]})).unwrap();
        let t = back.as_table().unwrap();
        assert_eq!(t.get::<LuaValue>("N").unwrap(), LuaValue::NULL);
        assert_eq!(t.get::<i64>("I").unwrap(), 3);
        assert_eq!(t.get::<mlua::Table>("L").unwrap().raw_len(), 2);
    }
}
