//! Which tables the connector captures: Debezium's `database.include.list` /
//! `database.exclude.list` and `table.include.list` / `table.exclude.list`, each a list of
//! regular expressions matched case-insensitively against the whole name (`db` or `db.table`).
//! System schemas are never captured. [`GtidSourceFilter`] does the same for
//! `gtid.source.includes` / `gtid.source.excludes`.

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

/// Which GTID sources' row events are captured (`gtid.source.includes` /
/// `gtid.source.excludes`): regular expressions, matched like the table lists, against the
/// source of each transaction's GTID — the server UUID on MySQL, `domain-server` on MariaDB
/// (as Debezium's MariaDB connector names it). Row events of other sources are skipped, but
/// their position still advances.
#[derive(Debug, Clone, Default)]
pub struct GtidSourceFilter {
    include: Vec<Regex>,
    exclude: Vec<Regex>,
}

impl GtidSourceFilter {
    /// Compiles both keys; setting both is an error, as in Debezium.
    pub fn from_props(props: &Props) -> Result<Self> {
        let include = compile(props, "gtid.source.includes")?;
        let exclude = compile(props, "gtid.source.excludes")?;
        if !include.is_empty() && !exclude.is_empty() {
            return Err(Error::config(sluice_connect::Error::InvalidConfig {
                key: "gtid.source.excludes".into(),
                value: props
                    .get("gtid.source.excludes")
                    .cloned()
                    .unwrap_or_default(),
                reason: "set gtid.source.includes or gtid.source.excludes, not both".into(),
            }));
        }
        Ok(Self { include, exclude })
    }

    /// Whether every source is captured (nothing to check per transaction).
    pub fn is_empty(&self) -> bool {
        self.include.is_empty() && self.exclude.is_empty()
    }

    /// Whether the row events of GTID source `source` are captured.
    pub fn accepts(&self, source: &str) -> bool {
        if self.include.is_empty() {
            !self.exclude.iter().any(|r| r.is_match(source))
        } else {
            self.include.iter().any(|r| r.is_match(source))
        }
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
    fn gtid_sources_are_included_or_excluded() {
        let props = |key: &str, value: &str| [(key.to_string(), value.to_string())].into();
        assert!(GtidSourceFilter::default().accepts("0-1"));
        let excluding =
            GtidSourceFilter::from_props(&props("gtid.source.excludes", "5-.*")).unwrap();
        assert!(excluding.accepts("0-1") && !excluding.accepts("5-77"));
        let including = GtidSourceFilter::from_props(&props(
            "gtid.source.includes",
            "3E11FA47-71CA-11E1-9E33-C80AA9429562",
        ))
        .unwrap();
        assert!(including.accepts("3e11fa47-71ca-11e1-9e33-c80aa9429562"));
        assert!(!including.accepts("0-1"));
        let both: Props = [
            ("gtid.source.includes".to_string(), "a".to_string()),
            ("gtid.source.excludes".to_string(), "b".to_string()),
        ]
        .into();
        let error = GtidSourceFilter::from_props(&both).unwrap_err().to_string();
        assert!(error.contains("not both"), "{error}");
    }

    #[test]
    fn bad_patterns_name_their_key() {
        let props = [("table.include.list".to_string(), "(".to_string())].into();
        let error = TableFilter::from_props(&props).unwrap_err().to_string();
        assert!(error.contains("table.include.list"), "{error}");
    }
}
