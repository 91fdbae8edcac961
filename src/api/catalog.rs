//! The TCR 2019-09-24 action catalog: each action's request and response fields, whether it
//! is read-only, and how it pages.
//!
//! The data is Tencent's own API description (names, types, required flags), copied into
//! `data/tcr-actions.json` and embedded in the binary. The client uses it to encode empty tables
//! as `[]` where a parameter is a list; the emulator uses it to validate parameters; the REPL
//! and pagination helpers read the paging rules from it.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde::Deserialize;

/// The whole catalog for one service version. Its texts borrow from the embedded JSON, so
/// loading it allocates little (it is read on the path of a one-off script's first call).
#[derive(Debug, Deserialize)]
pub struct Catalog {
    pub service: &'static str,
    pub version: &'static str,
    pub actions: BTreeMap<&'static str, Action>,
    /// Structure types referenced by `member`, with their fields.
    pub objects: BTreeMap<&'static str, Vec<Field>>,
}

/// One API action.
#[derive(Debug, Deserialize)]
#[serde(bound(deserialize = "'de: 'static"))]
pub struct Action {
    pub read_only: bool,
    pub request: Vec<Field>,
    pub response: Vec<Field>,
    pub paging: Option<Paging>,
}

/// One field of a request, response or structure.
#[derive(Debug, Deserialize, Clone)]
pub struct Field {
    pub name: &'static str,
    /// `string`, `int`, `bool`, `float`, `list`, `object`, ...
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// For lists and objects, the element or structure type (`string`, `int64`, `Filter`).
    pub member: &'static str,
    pub required: bool,
}

/// How a `Describe*` action pages, as documented.
#[derive(Debug, Deserialize, Clone)]
pub struct Paging {
    /// `page_number` or `item_offset`.
    pub style: &'static str,
    pub offset_param: &'static str,
    pub size_param: &'static str,
    /// First page number (page_number style) or first offset (item_offset).
    pub first: i64,
    pub default_size: Option<i64>,
    pub max_size: Option<i64>,
    /// Dotted path of the item list in the response (`Data.TagInfo`).
    pub list_field: Option<&'static str>,
    /// Dotted path of the total count in the response.
    pub total_field: Option<&'static str>,
}

static TCR: LazyLock<Catalog> = LazyLock::new(|| {
    serde_json::from_str(include_str!("../../data/tcr-actions.json"))
        .expect("the embedded catalog is valid JSON checked by the tests")
});

/// The embedded TCR catalog.
pub fn tcr() -> &'static Catalog {
    &TCR
}

/// Read-only by name, for actions of any service: the prefixes Tencent uses for queries.
pub fn is_read_only_name(action: &str) -> bool {
    const READ_ONLY: &[&str] = &[
        "Describe", "Get", "Check", "Query", "Inquire", "List", "Validate",
    ];
    READ_ONLY.iter().any(|p| action.starts_with(p))
}

impl Catalog {
    pub fn action(&self, name: &str) -> Option<&Action> {
        self.actions.get(name)
    }

    /// The field type at a parameter path such as `["Filters", "Values"]` (list indices left
    /// out), following structure types through `objects`.
    pub fn request_field(&self, action: &str, path: &[&str]) -> Option<&Field> {
        let (first, rest) = path.split_first()?;
        let mut field = self
            .action(action)?
            .request
            .iter()
            .find(|f| f.name == *first)?;
        for name in rest {
            field = self
                .objects
                .get(&field.member)?
                .iter()
                .find(|f| f.name == *name)?;
        }
        Some(field)
    }

    /// The fields of a structure type, if it is one.
    pub fn object(&self, member: &str) -> Option<&[Field]> {
        self.objects.get(member).map(Vec::as_slice)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_loads_with_every_action() {
        let c = tcr();
        assert_eq!(c.service, "tcr");
        assert_eq!(c.version, "2019-09-24");
        assert_eq!(c.actions.len(), 127);
        let paging = c.action("DescribeImages").unwrap().paging.as_ref().unwrap();
        assert_eq!(paging.style, "page_number");
        assert_eq!(paging.list_field, Some("ImageInfoList"));
    }

    #[test]
    fn nested_field_types_follow_structures() {
        let c = tcr();
        let f = c
            .request_field("DescribeInstances", &["Filters", "Values"])
            .unwrap();
        assert_eq!(f.kind, "list");
        assert_eq!(
            c.request_field("DescribeInstances", &["Registryids"])
                .unwrap()
                .kind,
            "list"
        );
        assert!(c.request_field("DescribeInstances", &["Nope"]).is_none());
    }

    #[test]
    fn read_only_by_name() {
        assert!(is_read_only_name("DescribeImages"));
        assert!(is_read_only_name("ListSkills"));
        assert!(!is_read_only_name("DeleteImage"));
    }
}
