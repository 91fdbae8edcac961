//! How each emulated `Describe*` action pages.
//!
//! The rules come from the paging table the client uses too (`api::paginate`, derived from
//! Tencent's parameter documentation): `page_number` actions (DescribeImages,
//! DescribeRepositories, DescribeNamespaces, the retention describes) read `Offset` as a page
//! number starting at 1,
//! and serve page 0 as the first page because the documentation's own examples send 0;
//! `item_offset` actions (DescribeInstances, the personal-edition describes) read `Offset` as
//! the index of the first item. The page size defaults to the documented default (20 where the
//! documentation gives none) and may not exceed the documented maximum.

use serde_json::Value;

use super::ApiError;
use crate::api::paginate::{self, Style};

/// The window of items one request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub start: usize,
    pub size: usize,
}

impl Window {
    /// The items of `all` inside this window.
    pub fn apply<T: Clone>(&self, all: &[T]) -> Vec<T> {
        all.iter()
            .skip(self.start)
            .take(self.size)
            .cloned()
            .collect()
    }
}

/// Read the offset and size parameters of `params` under the action's rule. With `cap`, pages
/// hold at most that many items whatever the request asks (a server whose real maximum is
/// below the documented one), and page numbers count pages of that size.
///
/// # Errors
/// `InvalidParameterValue` for a negative offset, a size below 1 or above the maximum.
pub fn window(action: &str, params: &Value, cap: Option<usize>) -> Result<Window, ApiError> {
    let rule = paginate::rule(action).expect("only paged actions ask for a window");
    let size = params
        .get(&rule.size_param)
        .and_then(Value::as_i64)
        .unwrap_or(rule.server_default_size());
    let max = rule.max_size.unwrap_or(i64::MAX);
    if size < 1 || size > max {
        let range = match rule.max_size {
            Some(m) => format!("between 1 and {m}"),
            None => "at least 1".to_string(),
        };
        return Err(ApiError::new(
            "InvalidParameterValue",
            format!(
                "The value of parameter `{}` must be {range}, got {size}.",
                rule.size_param
            ),
        ));
    }
    let offset = params
        .get(&rule.offset_param)
        .and_then(Value::as_i64)
        .unwrap_or(rule.first);
    if offset < 0 {
        return Err(ApiError::new(
            "InvalidParameterValue",
            format!(
                "The value of parameter `{}` must not be negative.",
                rule.offset_param
            ),
        ));
    }
    let size = cap.map_or(size, |cap| size.min(cap as i64));
    let start = match rule.style {
        Style::PageNumber => (offset.max(1) - 1).saturating_mul(size),
        Style::ItemOffset => offset,
    };
    Ok(Window {
        start: usize::try_from(start).unwrap_or(usize::MAX),
        size: size as usize,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn w(action: &str, params: Value) -> Result<Window, ApiError> {
        window(action, &params, None)
    }

    #[test]
    fn page_number_actions_count_pages_from_one_and_serve_zero_as_first() {
        assert_eq!(
            w("DescribeImages", json!({"Limit": 7, "Offset": 3})).unwrap(),
            Window { start: 14, size: 7 }
        );
        assert_eq!(
            w("DescribeImages", json!({"Limit": 7, "Offset": 1}))
                .unwrap()
                .start,
            0
        );
        assert_eq!(
            w("DescribeImages", json!({"Limit": 7, "Offset": 0}))
                .unwrap()
                .start,
            0
        );
        assert_eq!(
            w("DescribeImages", json!({})).unwrap(),
            Window { start: 0, size: 20 }
        );
    }

    #[test]
    fn a_page_size_cap_shrinks_pages_and_page_numbers_count_capped_pages() {
        let capped = |params: Value| window("DescribeImages", &params, Some(5)).unwrap();
        assert_eq!(
            capped(json!({"Limit": 7, "Offset": 2})),
            Window { start: 5, size: 5 }
        );
        assert_eq!(
            capped(json!({"Limit": 3, "Offset": 2})),
            Window { start: 3, size: 3 },
            "a smaller request is served as asked"
        );
    }

    #[test]
    fn item_offset_actions_count_items() {
        assert_eq!(
            w("DescribeInstances", json!({"Limit": 5, "Offset": 3})).unwrap(),
            Window { start: 3, size: 5 }
        );
        assert_eq!(
            w("DescribeImagePersonal", json!({"Offset": 40})).unwrap(),
            Window {
                start: 40,
                size: 20
            }
        );
    }

    #[test]
    fn sizes_outside_the_documented_range_are_refused() {
        let err = w("DescribeRepositories", json!({"Limit": 101})).unwrap_err();
        assert_eq!(err.code, "InvalidParameterValue");
        assert!(err.message.contains("between 1 and 100"), "{}", err.message);
        assert!(w("DescribeImages", json!({"Limit": 0})).is_err());
        assert!(w("DescribeImages", json!({"Offset": -1})).is_err());
        assert!(w("DescribeImages", json!({"Limit": 1000})).is_ok());
    }
}
