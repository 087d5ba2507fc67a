//! `message.key.columns`: per-table key columns overriding the primary key, in Debezium's
//! syntax `<db>.<table>:<col>[,<col>…][;<db>.<table>:<col>…]`, the table part a regular
//! expression matched against `<db>.<table>`.

use regex::{Regex, RegexBuilder};

use super::TableColumn;
use crate::error::{Error, Result};

/// The parsed `message.key.columns` setting.
#[derive(Debug, Clone, Default)]
pub struct MessageKeyColumns {
    entries: Vec<(Regex, Vec<String>)>,
}

/// Parses the setting; an empty text gives no overrides.
pub fn parse_message_key_columns(text: &str) -> Result<MessageKeyColumns> {
    let invalid = |reason: String| Error::InvalidMessageKeyColumns {
        text: text.to_owned(),
        reason,
    };
    let mut entries = Vec::new();
    for entry in text.split(';').map(str::trim).filter(|e| !e.is_empty()) {
        let (table, columns) = entry
            .rsplit_once(':')
            .ok_or_else(|| invalid(format!("`{entry}` has no `:` before its columns")))?;
        let columns: Vec<String> = columns
            .split(',')
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_owned)
            .collect();
        if columns.is_empty() {
            return Err(invalid(format!("`{entry}` names no columns")));
        }
        let table = table.trim();
        let pattern = RegexBuilder::new(&format!("^(?:{table})$"))
            .case_insensitive(true)
            .build()
            .map_err(|e| invalid(format!("`{table}` is not a valid regular expression: {e}")))?;
        entries.push((pattern, columns));
    }
    Ok(MessageKeyColumns { entries })
}

impl MessageKeyColumns {
    /// The configured key column names of `<database>.<table>`, if an entry matches.
    pub fn columns_for(&self, database: &str, table: &str) -> Option<&[String]> {
        let name = format!("{database}.{table}");
        self.entries
            .iter()
            .find(|(pattern, _)| pattern.is_match(&name))
            .map(|(_, columns)| columns.as_slice())
    }

    /// The configured key as indexes into `columns` (for [`super::TableMapping::new`]);
    /// `None` when no entry matches. A named column the table lacks is an error.
    pub fn key_indexes(
        &self,
        database: &str,
        table: &str,
        columns: &[TableColumn],
    ) -> Result<Option<Vec<usize>>> {
        let Some(names) = self.columns_for(database, table) else {
            return Ok(None);
        };
        names
            .iter()
            .map(|name| {
                columns
                    .iter()
                    .position(|c| c.name.eq_ignore_ascii_case(name))
                    .ok_or_else(|| Error::TableMapping {
                        table: format!("{database}.{table}"),
                        reason: format!(
                            "message.key.columns names the column `{name}`, which the table \
                             does not have"
                        ),
                    })
            })
            .collect::<Result<Vec<_>>>()
            .map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{ColumnType, TypeKind};

    #[test]
    fn entries_match_tables_by_regex() {
        let keys = parse_message_key_columns("inventory.customers:pk1,pk2;(.*).purchaseorders:pk3")
            .unwrap();
        assert_eq!(
            keys.columns_for("inventory", "customers").unwrap(),
            ["pk1", "pk2"]
        );
        assert_eq!(keys.columns_for("x", "purchaseorders").unwrap(), ["pk3"]);
        assert!(keys.columns_for("inventory", "orders").is_none());
        let columns = vec![
            TableColumn {
                name: "a".into(),
                ty: ColumnType::new(TypeKind::Json),
                optional: true,
            },
            TableColumn {
                name: "PK3".into(),
                ty: ColumnType::new(TypeKind::Json),
                optional: false,
            },
        ];
        assert_eq!(
            keys.key_indexes("x", "purchaseorders", &columns).unwrap(),
            Some(vec![1])
        );
        assert!(
            keys.key_indexes("inventory", "customers", &columns)
                .is_err()
        );
    }

    #[test]
    fn malformed_settings_are_explained() {
        for bad in ["inventory.customers", "a.b:", "a.(b:c"] {
            let err = parse_message_key_columns(bad).unwrap_err().to_string();
            assert!(err.contains("message.key.columns"), "{err}");
        }
        assert!(
            parse_message_key_columns("")
                .unwrap()
                .columns_for("a", "b")
                .is_none()
        );
    }
}
