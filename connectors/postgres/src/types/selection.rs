//! Which columns go into events and which form the key, from Debezium's settings:
//! [`ColumnFilter`] (`column.include.list` / `column.exclude.list`, comma-separated regular
//! expressions matched case-insensitively against the whole `schema.table.column`) and
//! [`MessageKeyColumns`] (`message.key.columns` = `<schema.table regex>:<col>,<col>;…`).

use regex::{Regex, RegexBuilder};
use sluice_connect::config::Props;

use crate::error::{Error, Result};

pub const COLUMN_INCLUDE_LIST: &str = "column.include.list";
pub const COLUMN_EXCLUDE_LIST: &str = "column.exclude.list";
pub const MESSAGE_KEY_COLUMNS: &str = "message.key.columns";

/// A regular expression that must match a whole name, ignoring case (Debezium's filters).
fn whole_match(key: &str, pattern: &str) -> Result<Regex> {
    RegexBuilder::new(&format!("^(?:{pattern})$"))
        .case_insensitive(true)
        .build()
        .map_err(|source| Error::InvalidColumnPattern {
            key: key.to_string(),
            pattern: pattern.to_string(),
            source,
        })
}

fn patterns(key: &str, list: &str) -> Result<Vec<Regex>> {
    list.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| whole_match(key, p))
        .collect()
}

/// The column include/exclude lists.
#[derive(Debug, Clone, Default)]
pub enum ColumnFilter {
    /// Every column is captured.
    #[default]
    All,
    /// Only columns whose `schema.table.column` matches one of these.
    Include(Vec<Regex>),
    /// Every column except those matching one of these.
    Exclude(Vec<Regex>),
}

impl ColumnFilter {
    /// Reads `column.include.list` / `column.exclude.list`; setting both is an error, as in
    /// Debezium.
    pub fn from_props(props: &Props) -> Result<ColumnFilter> {
        let include = props
            .get(COLUMN_INCLUDE_LIST)
            .filter(|v| !v.trim().is_empty());
        let exclude = props
            .get(COLUMN_EXCLUDE_LIST)
            .filter(|v| !v.trim().is_empty());
        match (include, exclude) {
            (Some(_), Some(list)) => Err(Error::InvalidTypeOption {
                key: COLUMN_EXCLUDE_LIST.to_string(),
                value: list.clone(),
                reason: "column.include.list is also set; use only one of the two".to_string(),
            }),
            (Some(list), None) => Ok(ColumnFilter::Include(patterns(COLUMN_INCLUDE_LIST, list)?)),
            (None, Some(list)) => Ok(ColumnFilter::Exclude(patterns(COLUMN_EXCLUDE_LIST, list)?)),
            (None, None) => Ok(ColumnFilter::All),
        }
    }

    /// Whether `schema.table.column` is captured.
    pub fn includes(&self, schema: &str, table: &str, column: &str) -> bool {
        let matches = |list: &[Regex]| {
            let name = format!("{schema}.{table}.{column}");
            list.iter().any(|re| re.is_match(&name))
        };
        match self {
            ColumnFilter::All => true,
            ColumnFilter::Include(list) => matches(list),
            ColumnFilter::Exclude(list) => !matches(list),
        }
    }
}

/// `message.key.columns`: per table (a regular expression over `schema.table`), the columns
/// that form the event key instead of the primary key.
#[derive(Debug, Clone, Default)]
pub struct MessageKeyColumns {
    entries: Vec<(Regex, Vec<String>)>,
}

/// Parses `message.key.columns` text (`inventory.customers:pk1,pk2;(.*).orders:pk3`).
pub fn parse_message_key_columns(text: &str) -> Result<MessageKeyColumns> {
    let invalid = |reason: &str| Error::InvalidMessageKeyColumns {
        text: text.to_string(),
        reason: reason.to_string(),
    };
    let mut entries = Vec::new();
    for entry in text.split(';').map(str::trim).filter(|e| !e.is_empty()) {
        let (table, columns) = entry
            .rsplit_once(':')
            .ok_or_else(|| invalid("each entry must be `<schema>.<table>:<column>[,<column>…]`"))?;
        let table = table.trim();
        if table.is_empty() {
            return Err(invalid("an entry has no table before `:`"));
        }
        let columns: Vec<String> = columns
            .split(',')
            .map(|c| c.trim().to_string())
            .filter(|c| !c.is_empty())
            .collect();
        if columns.is_empty() {
            return Err(invalid("an entry lists no columns after `:`"));
        }
        entries.push((whole_match(MESSAGE_KEY_COLUMNS, table)?, columns));
    }
    Ok(MessageKeyColumns { entries })
}

impl MessageKeyColumns {
    pub fn from_props(props: &Props) -> Result<MessageKeyColumns> {
        match props.get(MESSAGE_KEY_COLUMNS) {
            Some(text) => parse_message_key_columns(text),
            None => Ok(MessageKeyColumns::default()),
        }
    }

    /// The key columns configured for `schema.table` (the first matching entry), if any.
    pub fn for_table(&self, schema: &str, table: &str) -> Option<&[String]> {
        let name = format!("{schema}.{table}");
        self.entries
            .iter()
            .find(|(re, _)| re.is_match(&name))
            .map(|(_, columns)| columns.as_slice())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(pairs: &[(&str, &str)]) -> Props {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn include_and_exclude_lists_match_whole_names_ignoring_case() {
        let include = ColumnFilter::from_props(&props(&[(
            COLUMN_INCLUDE_LIST,
            "public.t.id, public.t.N.*",
        )]))
        .unwrap();
        assert!(include.includes("public", "t", "id"));
        assert!(include.includes("public", "t", "name"));
        assert!(!include.includes("public", "t", "xid"));
        assert!(!include.includes("public", "t2", "id"));
        let exclude =
            ColumnFilter::from_props(&props(&[(COLUMN_EXCLUDE_LIST, "public\\..*\\.secret")]))
                .unwrap();
        assert!(!exclude.includes("public", "users", "secret"));
        assert!(exclude.includes("public", "users", "secret2"));
        assert!(
            ColumnFilter::from_props(&Props::new())
                .unwrap()
                .includes("a", "b", "c")
        );
    }

    #[test]
    fn bad_filters_are_refused_clearly() {
        let both = ColumnFilter::from_props(&props(&[
            (COLUMN_INCLUDE_LIST, "a.b.c"),
            (COLUMN_EXCLUDE_LIST, "a.b.d"),
        ]))
        .unwrap_err();
        assert!(both.to_string().contains("only one"), "{both}");
        let bad = ColumnFilter::from_props(&props(&[(COLUMN_INCLUDE_LIST, "a.(b")])).unwrap_err();
        assert!(bad.to_string().contains("column.include.list"), "{bad}");
    }

    #[test]
    fn message_key_columns() {
        let keys =
            parse_message_key_columns("inventory.customers:pk1,pk2;(.*).orders: pk3 ").unwrap();
        assert_eq!(
            keys.for_table("inventory", "customers"),
            Some(&["pk1".to_string(), "pk2".to_string()][..])
        );
        assert_eq!(
            keys.for_table("sales", "orders"),
            Some(&["pk3".to_string()][..])
        );
        assert_eq!(keys.for_table("inventory", "products"), None);
        for bad in ["customers", "a.b:", ":c", "a.(b:c"] {
            let err = parse_message_key_columns(bad).unwrap_err();
            assert!(
                err.to_string().contains("message.key.columns"),
                "{bad}: {err}"
            );
        }
        assert!(
            parse_message_key_columns("")
                .unwrap()
                .for_table("a", "b")
                .is_none()
        );
    }
}
