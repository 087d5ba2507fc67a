//! Which tables the connector captures: Debezium's `database.include.list` /
//! `database.exclude.list` and `table.include.list` / `table.exclude.list`, each a list of
//! regular expressions matched case-insensitively against the whole name (`db` or `db.table`).
//! System schemas are never captured.

use regex::{Regex, RegexBuilder};
use sluice_connect::config::Props;

use crate::error::{Error, Result};

/// Schemas that hold the server's own tables.
const SYSTEM_DATABASES: &[&str] = &["mysql", "information_schema", "performance_schema", "sys"];

/// The compiled table filter.
#[derive(Debug, Clone, Default)]
pub struct TableFilter {
    database_include: Vec<Regex>,
    database_exclude: Vec<Regex>,
    table_include: Vec<Regex>,
    table_exclude: Vec<Regex>,
}

fn compile(props: &Props, key: &str) -> Result<Vec<Regex>> {
    let Some(raw) = props.get(key) else {
        return Ok(Vec::new());
    };
    sluice_connect::config::def::split_list(raw)
        .iter()
        .map(|pattern| {
            RegexBuilder::new(&format!("^(?:{pattern})$"))
                .case_insensitive(true)
                .build()
                .map_err(|error| {
                    Error::config(sluice_connect::Error::InvalidConfig {
                        key: key.to_owned(),
                        value: pattern.clone(),
                        reason: format!("not a regular expression: {error}"),
                    })
                })
        })
        .collect()
}

impl TableFilter {
    /// Compiles the four list keys of `props`; a bad pattern names its key.
    pub fn from_props(props: &Props) -> Result<Self> {
        Ok(Self {
            database_include: compile(props, "database.include.list")?,
            database_exclude: compile(props, "database.exclude.list")?,
            table_include: compile(props, "table.include.list")?,
            table_exclude: compile(props, "table.exclude.list")?,
        })
    }

    /// Whether any table of `db` may be captured.
    pub fn includes_database(&self, db: &str) -> bool {
        if SYSTEM_DATABASES.iter().any(|s| s.eq_ignore_ascii_case(db)) {
            return false;
        }
        let included = self.database_include.is_empty()
            || self.database_include.iter().any(|r| r.is_match(db));
        included && !self.database_exclude.iter().any(|r| r.is_match(db))
    }

    /// Whether `db.table` is captured.
    pub fn includes_table(&self, db: &str, table: &str) -> bool {
        if !self.includes_database(db) {
            return false;
        }
        let full = format!("{db}.{table}");
        let included =
            self.table_include.is_empty() || self.table_include.iter().any(|r| r.is_match(&full));
        included && !self.table_exclude.iter().any(|r| r.is_match(&full))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(pairs: &[(&str, &str)]) -> TableFilter {
        let props = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        TableFilter::from_props(&props).unwrap()
    }

    #[test]
    fn everything_but_system_schemas_by_default() {
        let all = filter(&[]);
        assert!(all.includes_table("inventory", "customers"));
        assert!(!all.includes_table("mysql", "user"));
    }

    #[test]
    fn lists_match_whole_names_ignoring_case() {
        let f = filter(&[
            ("database.include.list", "inventory"),
            ("table.exclude.list", "inventory\\.audit.*"),
        ]);
        assert!(f.includes_table("Inventory", "customers"));
        assert!(!f.includes_table("inventory2", "customers"));
        assert!(!f.includes_table("inventory", "audit_log"));
        let f = filter(&[("table.include.list", "shop.orders, shop.items")]);
        assert!(f.includes_table("shop", "items"));
        assert!(!f.includes_table("shop", "users"));
    }

    #[test]
    fn bad_patterns_name_their_key() {
        let props = [("table.include.list".to_string(), "(".to_string())].into();
        let error = TableFilter::from_props(&props).unwrap_err().to_string();
        assert!(error.contains("table.include.list"), "{error}");
    }
}
