//! Parameter validation against the action catalog, with the service's error codes:
//! `MissingParameter` for a required parameter left out, `UnknownParameter` for a name the
//! action does not have, `InvalidParameter` for a value of the wrong type.

use serde_json::Value;

use super::ApiError;
use crate::api::catalog::{Catalog, Field};

/// Check `params` of `action` against its request fields.
///
/// # Errors
/// The first problem found, naming the parameter path (`Filters.0.Values`).
pub fn check(catalog: &Catalog, action: &str, params: &Value) -> Result<(), ApiError> {
    let fields = &catalog
        .action(action)
        .expect("the caller checked the action exists")
        .request;
    check_object(catalog, fields, params, "")
}

fn check_object(
    catalog: &Catalog,
    fields: &[Field],
    value: &Value,
    prefix: &str,
) -> Result<(), ApiError> {
    let Some(map) = value.as_object() else {
        return Err(invalid(prefix.trim_end_matches('.'), "object"));
    };
    for field in fields {
        let present = map.get(field.name).filter(|v| !v.is_null());
        if field.required && present.is_none() {
            return Err(ApiError::new(
                "MissingParameter",
                format!(
                    "The request is missing a required parameter `{prefix}{}`.",
                    field.name
                ),
            ));
        }
    }
    for (name, v) in map {
        let path = format!("{prefix}{name}");
        let Some(field) = fields.iter().find(|f| f.name == *name) else {
            return Err(ApiError::new(
                "UnknownParameter",
                format!("The parameter `{path}` is not recognized."),
            ));
        };
        if v.is_null() {
            continue;
        }
        check_value(catalog, field, v, &path)?;
    }
    Ok(())
}

fn check_value(catalog: &Catalog, field: &Field, v: &Value, path: &str) -> Result<(), ApiError> {
    match field.kind {
        "list" => {
            let Some(items) = v.as_array() else {
                return Err(invalid(path, "list"));
            };
            for (i, item) in items.iter().enumerate() {
                check_member(catalog, field.member, item, &format!("{path}.{i}"))?;
            }
            Ok(())
        }
        "object" => check_member(catalog, field.member, v, path),
        scalar => check_scalar(scalar, v, path),
    }
}

fn check_member(catalog: &Catalog, member: &str, v: &Value, path: &str) -> Result<(), ApiError> {
    match catalog.object(member) {
        Some(fields) => check_object(catalog, fields, v, &format!("{path}.")),
        None => check_scalar(member, v, path),
    }
}

fn check_scalar(kind: &str, v: &Value, path: &str) -> Result<(), ApiError> {
    let ok = match kind {
        "string" => v.is_string(),
        "int" | "int64" => v.is_i64(),
        "uint64" => v.is_u64(),
        "bool" => v.is_boolean(),
        "float" | "double" => v.is_number(),
        _ => true,
    };
    if ok {
        Ok(())
    } else {
        Err(invalid(path, kind))
    }
}

fn invalid(path: &str, kind: &str) -> ApiError {
    let kind = match kind {
        "int64" | "uint64" => "int",
        other => other,
    };
    ApiError::new(
        "InvalidParameter",
        format!("The value type of parameter `{path}` is not valid: expected {kind}."),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(action: &str, params: Value) -> Result<(), ApiError> {
        check(crate::api::catalog::tcr(), action, &params)
    }

    #[test]
    fn valid_parameters_pass() {
        run(
            "DescribeInstances",
            json!({"Limit": 5, "Filters": [{"Name": "RegistryName", "Values": ["a"]}]}),
        )
        .unwrap();
    }

    #[test]
    fn each_problem_has_its_code_and_names_the_parameter() {
        let cases = [
            (
                "DescribeImages",
                json!({"RegistryId": "r", "NamespaceName": "n"}),
                "MissingParameter",
                "`RepositoryName`",
            ),
            (
                "DescribeInstances",
                json!({"Limitt": 5}),
                "UnknownParameter",
                "`Limitt`",
            ),
            (
                "DescribeInstances",
                json!({"Limit": "5"}),
                "InvalidParameter",
                "`Limit`",
            ),
            (
                "DescribeInstances",
                json!({"Filters": [{"Name": "x", "Values": [1]}]}),
                "InvalidParameter",
                "`Filters.0.Values.0`",
            ),
            (
                "DescribeInstances",
                json!({"Filters": [{"Values": ["x"]}]}),
                "MissingParameter",
                "`Filters.0.Name`",
            ),
        ];
        for (action, params, code, needle) in cases {
            let err = run(action, params.clone()).unwrap_err();
            assert_eq!(err.code, code, "{params}");
            assert!(err.message.contains(needle), "{params}: {}", err.message);
        }
    }
}
