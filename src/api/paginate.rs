//! How each paged action pages: one table, derived from the catalog (Tencent's parameter
//! documentation) plus the explicit corrections below. The `tcr.pages`/`tcr.paginate`/
//! `tcr.collect` helpers and the emulator both read it, so client and emulator agree.
//!
//! Styles:
//! - `page_number`: the offset parameter is a page number starting at `first` (1). This covers
//!   DescribeImages, DescribeRepositories, DescribeNamespaces, the retention describes, and the
//!   `Page`/`PageSize` actions (replication, immutable tag rules).
//! - `item_offset`: the offset parameter is the index of the first item (DescribeInstances and
//!   most others).

use super::catalog;

/// Paging style of an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    PageNumber,
    ItemOffset,
}

impl Style {
    pub fn as_str(self) -> &'static str {
        match self {
            Style::PageNumber => "page_number",
            Style::ItemOffset => "item_offset",
        }
    }
}

/// One action's paging rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PagingRule {
    pub style: Style,
    pub offset_param: String,
    pub size_param: String,
    /// First page number (page_number) or first item index (item_offset).
    pub first: i64,
    /// Documented default page size, if any.
    pub default_size: Option<i64>,
    /// Documented maximum page size, if any.
    pub max_size: Option<i64>,
    /// Dotted path of the item list in the response (`Data.TagInfo`).
    pub list_field: String,
    /// Dotted path of the total count, if the action reports one.
    pub total_field: Option<String>,
}

/// Page size used when the documentation names neither a maximum nor a default.
pub const FALLBACK_PAGE_SIZE: i64 = 20;

impl PagingRule {
    /// The page size helpers use by default: the documented maximum, else the documented
    /// default, else 20.
    pub fn preferred_size(&self) -> i64 {
        self.max_size
            .or(self.default_size)
            .unwrap_or(FALLBACK_PAGE_SIZE)
    }

    /// The size a server uses when the request names none.
    pub fn server_default_size(&self) -> i64 {
        self.default_size.unwrap_or(FALLBACK_PAGE_SIZE)
    }
}

/// Corrections to the catalog, where the documentation says more than the derived data.
fn correction(action: &str) -> Option<Option<PagingRule>> {
    match action {
        // Returns a log object, not a list of items: nothing to page through.
        "DescribeReplicationInstanceSyncStatus" => Some(None),
        _ => None,
    }
}

/// The paging rule of a TCR action, or `None` when it does not page.
pub fn rule(action: &str) -> Option<PagingRule> {
    if let Some(corrected) = correction(action) {
        return corrected;
    }
    let paging = catalog::tcr().action(action)?.paging.as_ref()?;
    Some(PagingRule {
        style: if paging.style == "page_number" {
            Style::PageNumber
        } else {
            Style::ItemOffset
        },
        offset_param: paging.offset_param.to_string(),
        size_param: paging.size_param.to_string(),
        first: paging.first,
        default_size: paging.default_size,
        max_size: paging.max_size,
        list_field: paging.list_field?.to_string(),
        total_field: paging.total_field.map(str::to_string),
    })
}

/// Every paged TCR action, for the REPL and the tests.
pub fn paged_actions() -> Vec<&'static str> {
    catalog::tcr()
        .actions
        .keys()
        .copied()
        .filter(|a| rule(a).is_some())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_knows_each_style() {
        let images = rule("DescribeImages").unwrap();
        assert_eq!(
            (images.style, images.first, images.preferred_size()),
            (Style::PageNumber, 1, 20)
        );
        let repos = rule("DescribeRepositories").unwrap();
        assert_eq!(repos.preferred_size(), 100);
        let instances = rule("DescribeInstances").unwrap();
        assert_eq!(
            (instances.style, instances.first, instances.max_size),
            (Style::ItemOffset, 0, Some(100))
        );
        let replication = rule("DescribeReplicationPolicies").unwrap();
        assert_eq!(
            (
                replication.offset_param.as_str(),
                replication.size_param.as_str()
            ),
            ("Page", "PageSize")
        );
        let personal = rule("DescribeImagePersonal").unwrap();
        assert_eq!(
            (
                personal.list_field.as_str(),
                personal.total_field.as_deref()
            ),
            ("Data.TagInfo", Some("Data.TagCount"))
        );
        assert!(rule("DescribeReplicationInstanceSyncStatus").is_none());
        assert!(rule("DeleteImage").is_none());
        // 29 paged actions in the catalog, less the sync-status one that returns no list.
        assert_eq!(paged_actions().len(), 28);
    }
}
