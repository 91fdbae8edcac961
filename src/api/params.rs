//! Parameter encodings that are not plain JSON: the flattened `Filters.0.Name=value` form used
//! by GET query strings and form bodies, and its reverse for servers (the emulator).

use serde_json::{Map, Value};

use super::catalog::Catalog;

/// Flatten JSON parameters the way Tencent's SDKs do: objects join keys with `.`, lists use the
/// index, `null` is left out, booleans are `true`/`false`. Order follows the input.
pub fn flatten(params: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    flatten_into(None, params, &mut out);
    out
}

fn flatten_into(prefix: Option<&str>, value: &Value, out: &mut Vec<(String, String)>) {
    let key = |k: &str| match prefix {
        Some(p) => format!("{p}.{k}"),
        None => k.to_string(),
    };
    match value {
        Value::Null => {}
        Value::Object(map) => {
            for (k, v) in map {
                flatten_into(Some(&key(k)), v, out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                flatten_into(Some(&key(&i.to_string())), v, out);
            }
        }
        Value::String(s) => out.push((prefix.unwrap_or_default().to_string(), s.clone())),
        Value::Bool(b) => out.push((prefix.unwrap_or_default().to_string(), b.to_string())),
        Value::Number(n) => out.push((prefix.unwrap_or_default().to_string(), n.to_string())),
    }
}

/// Rebuild JSON parameters from flattened pairs, using the catalog's types for `action` to turn
/// `"20"` into `20` and `"true"` into `true`, and numeric segments into list indices.
///
/// Unknown parameters stay strings; the caller validates names separately.
pub fn unflatten(pairs: &[(String, String)], catalog: &Catalog, action: &str) -> Value {
    let mut root = Value::Object(Map::new());
    for (key, raw) in pairs {
        let segments: Vec<&str> = key.split('.').collect();
        let names: Vec<&str> = segments
            .iter()
            .copied()
            .filter(|s| s.parse::<usize>().is_err())
            .collect();
        let field = catalog.request_field(action, &names);
        let scalar_kind = field.map(|f| if f.kind == "list" { f.member } else { f.kind });
        let value = typed_scalar(raw, scalar_kind);
        insert_path(&mut root, &segments, value);
    }
    root
}

fn typed_scalar(raw: &str, kind: Option<&str>) -> Value {
    match kind {
        Some("int" | "int64" | "uint64") => raw
            .parse::<i64>()
            .map(Value::from)
            .unwrap_or_else(|_| Value::String(raw.to_string())),
        Some("bool") => match raw {
            "true" | "True" | "TRUE" | "1" => Value::Bool(true),
            "false" | "False" | "FALSE" | "0" => Value::Bool(false),
            _ => Value::String(raw.to_string()),
        },
        _ => Value::String(raw.to_string()),
    }
}

fn insert_path(node: &mut Value, segments: &[&str], value: Value) {
    let Some((head, rest)) = segments.split_first() else {
        *node = value;
        return;
    };
    if let Ok(index) = head.parse::<usize>() {
        if !node.is_array() {
            *node = Value::Array(Vec::new());
        }
        let items = node.as_array_mut().expect("just made an array");
        // Indices may arrive in any order; pad with nulls and fill in.
        if items.len() <= index {
            items.resize(index + 1, Value::Null);
        }
        insert_path(&mut items[index], rest, value);
    } else {
        if !node.is_object() {
            *node = Value::Object(Map::new());
        }
        let map = node.as_object_mut().expect("just made an object");
        let child = map.entry(head.to_string()).or_insert(Value::Null);
        insert_path(child, rest, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn flatten_nested_lists_like_the_sdk() {
        let params = json!({
            "Registryids": ["tcr-1", "tcr-2"],
            "Filters": [{"Name": "RegistryName", "Values": ["x", "y z"]}],
            "AllRegion": true,
            "Skip": null,
            "Limit": 7
        });
        let flat = flatten(&params);
        let expect = [
            ("Registryids.0", "tcr-1"),
            ("Registryids.1", "tcr-2"),
            ("Filters.0.Name", "RegistryName"),
            ("Filters.0.Values.0", "x"),
            ("Filters.0.Values.1", "y z"),
            ("AllRegion", "true"),
            ("Limit", "7"),
        ];
        let got: Vec<(&str, &str)> = flat.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(got, expect);
    }

    #[test]
    fn unflatten_restores_types_from_the_catalog() {
        let pairs: Vec<(String, String)> = [
            ("Registryids.0", "tcr-1"),
            ("Filters.0.Name", "RegistryName"),
            ("Filters.0.Values.1", "b"),
            ("Filters.0.Values.0", "a"),
            ("Limit", "20"),
            ("AllRegion", "true"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let v = unflatten(&pairs, super::super::catalog::tcr(), "DescribeInstances");
        assert_eq!(
            v,
            json!({
                "Registryids": ["tcr-1"],
                "Filters": [{"Name": "RegistryName", "Values": ["a", "b"]}],
                "Limit": 20,
                "AllRegion": true
            })
        );
    }
}
