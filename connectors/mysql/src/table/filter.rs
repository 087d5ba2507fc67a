//! `column.include.list` / `column.exclude.list`: comma-separated regular expressions matched
//! (whole, case-insensitively, as Debezium does) against `<db>.<table>.<column>`.

use regex::{Regex, RegexBuilder};
use sluice_connect::config::Props;

use crate::error::{Error, Result};

pub const COLUMN_INCLUDE_LIST: &str = "column.include.list";
pub const COLUMN_EXCLUDE_LIST: &str = "column.exclude.list";

/// Which columns are captured.
#[derive(Debug, Clone, Default)]
pub enum ColumnFilter {
    /// Every column (neither list set).
    #[default]
    All,
    /// Only columns matching one of the patterns.
    Include(Vec<Regex>),
    /// Every column except those matching one of the patterns.
    Exclude(Vec<Regex>),
}

fn compile(key: &'static str, raw: &str) -> Result<Vec<Regex>> {
    raw.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|pattern| {
            RegexBuilder::new(&format!("^(?:{pattern})$"))
                .case_insensitive(true)
                .build()
                .map_err(|source| Error::InvalidPattern {
                    key,
                    pattern: pattern.to_owned(),
                    source,
                })
        })
        .collect()
}

impl ColumnFilter {
    /// Reads the two keys; setting both is an error (Debezium allows only one).
    pub fn from_props(props: &Props) -> Result<Self> {
        let include = props
            .get(COLUMN_INCLUDE_LIST)
            .filter(|v| !v.trim().is_empty());
        let exclude = props
            .get(COLUMN_EXCLUDE_LIST)
            .filter(|v| !v.trim().is_empty());
        match (include, exclude) {
            (Some(_), Some(_)) => Err(Error::InvalidOption {
                key: COLUMN_EXCLUDE_LIST,
                value: "(set together with column.include.list)".into(),
                allowed: "only one of column.include.list and column.exclude.list".into(),
            }),
            (Some(list), None) => Ok(ColumnFilter::Include(compile(COLUMN_INCLUDE_LIST, list)?)),
            (None, Some(list)) => Ok(ColumnFilter::Exclude(compile(COLUMN_EXCLUDE_LIST, list)?)),
            (None, None) => Ok(ColumnFilter::All),
        }
    }

    /// Whether `<database>.<table>.<column>` is captured.
    pub fn includes(&self, database: &str, table: &str, column: &str) -> bool {
        let matches = |patterns: &[Regex]| {
            let name = format!("{database}.{table}.{column}");
            patterns.iter().any(|p| p.is_match(&name))
        };
        match self {
            ColumnFilter::All => true,
            ColumnFilter::Include(patterns) => matches(patterns),
            ColumnFilter::Exclude(patterns) => !matches(patterns),
        }
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
    fn include_and_exclude_match_whole_names() {
        let include =
            ColumnFilter::from_props(&props(&[("column.include.list", "db.t.id, db\\.t\\.NA.*")]))
                .unwrap();
        assert!(include.includes("db", "t", "id"));
        assert!(include.includes("db", "t", "name"));
        assert!(!include.includes("db", "t", "idx"));
        let exclude =
            ColumnFilter::from_props(&props(&[("column.exclude.list", "db.t.secret")])).unwrap();
        assert!(!exclude.includes("db", "t", "secret"));
        assert!(exclude.includes("db", "t2", "secret"));
        assert!(
            ColumnFilter::from_props(&Props::new())
                .unwrap()
                .includes("a", "b", "c")
        );
    }

    #[test]
    fn bad_filters_are_errors_naming_the_key() {
        let err = ColumnFilter::from_props(&props(&[("column.include.list", "db.t.(")]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("column.include.list") && err.contains("db.t.("),
            "{err}"
        );
        let both = ColumnFilter::from_props(&props(&[
            ("column.include.list", "a.b.c"),
            ("column.exclude.list", "a.b.d"),
        ]));
        assert!(both.unwrap_err().to_string().contains("only one of"));
    }
}
