//! Which tables the connector captures: [`TableFilter`] (Debezium's schema/table include and
//! exclude lists, regular expressions matched against the whole name) and
//! [`discover_tables`], the filtered list of ordinary and partitioned tables in the database,
//! in a stable order (schema, then name) the snapshot relies on.

use regex::Regex;
use tokio_postgres::Client;

use crate::config::PostgresConfig;
use crate::error::{Error, Result};

/// Schema and table include/exclude lists.
#[derive(Debug, Clone, Default)]
pub struct TableFilter {
    schema_include: Vec<Regex>,
    schema_exclude: Vec<Regex>,
    table_include: Vec<Regex>,
    table_exclude: Vec<Regex>,
}

/// System schemas never captured.
const SYSTEM_SCHEMAS: &[&str] = &["pg_catalog", "information_schema", "pg_toast"];

impl TableFilter {
    pub fn from_config(config: &PostgresConfig) -> Result<Self> {
        let compile = |key: &str, patterns: &[String]| -> Result<Vec<Regex>> {
            patterns
                .iter()
                .map(|pattern| {
                    Regex::new(&format!("^(?:{pattern})$")).map_err(|error| Error::Table {
                        table: pattern.clone(),
                        reason: format!("{key} holds an invalid regular expression: {error}"),
                    })
                })
                .collect()
        };
        Ok(Self {
            schema_include: compile("schema.include.list", &config.schema_include)?,
            schema_exclude: compile("schema.exclude.list", &config.schema_exclude)?,
            table_include: compile("table.include.list", &config.table_include)?,
            table_exclude: compile("table.exclude.list", &config.table_exclude)?,
        })
    }

    /// Whether `schema.table` is captured.
    pub fn captures(&self, schema: &str, table: &str) -> bool {
        if SYSTEM_SCHEMAS.contains(&schema) || schema.starts_with("pg_temp") {
            return false;
        }
        let any = |list: &[Regex], text: &str| list.iter().any(|re| re.is_match(text));
        if !self.schema_include.is_empty() && !any(&self.schema_include, schema) {
            return false;
        }
        if any(&self.schema_exclude, schema) {
            return false;
        }
        let qualified = format!("{schema}.{table}");
        if !self.table_include.is_empty() && !any(&self.table_include, &qualified) {
            return false;
        }
        !any(&self.table_exclude, &qualified)
    }

    /// The `table.include.list` patterns that match none of `tables`.
    pub fn unmatched_includes<'a>(&'a self, tables: &[CapturedTable]) -> Vec<&'a str> {
        self.table_include
            .iter()
            .filter(|re| !tables.iter().any(|t| re.is_match(&t.qualified_name())))
            .map(|re| {
                let text = re.as_str();
                &text[4..text.len() - 2]
            })
            .collect()
    }
}

/// A captured table as the catalog describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapturedTable {
    pub oid: u32,
    pub schema: String,
    pub name: String,
    pub has_primary_key: bool,
    /// `pg_class.relreplident`: `d`, `n`, `f` or `i`.
    pub replica_identity: char,
    /// Whether REPLICA IDENTITY USING INDEX names an index that exists.
    pub has_identity_index: bool,
    /// The planner's row estimate (`reltuples`), when the table was ever analysed.
    pub estimated_rows: Option<u64>,
}

impl CapturedTable {
    pub fn qualified_name(&self) -> String {
        format!("{}.{}", self.schema, self.name)
    }

    /// Whether updates and deletes of this table carry an old key, so the server accepts them
    /// in a publication that publishes updates and deletes.
    pub fn has_usable_replica_identity(&self) -> bool {
        match self.replica_identity {
            'f' => true,
            'd' => self.has_primary_key,
            'i' => self.has_identity_index,
            _ => false,
        }
    }
}

/// Every captured table of the connected database, ordered by schema then name.
pub async fn discover_tables(client: &Client, filter: &TableFilter) -> Result<Vec<CapturedTable>> {
    let rows = client
        .query(
            "SELECT c.oid, n.nspname::text, c.relname::text,
                    EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary),
                    c.relreplident::text,
                    EXISTS (SELECT 1 FROM pg_index i
                            WHERE i.indrelid = c.oid AND i.indisreplident),
                    c.reltuples::float8
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
             ORDER BY n.nspname, c.relname",
            &[],
        )
        .await
        .map_err(|source| Error::postgres("list the tables of the database", source))?;
    let mut tables = Vec::new();
    for row in rows {
        let schema: String = row.get(1);
        let name: String = row.get(2);
        if !filter.captures(&schema, &name) {
            continue;
        }
        let identity: String = row.get(4);
        let reltuples: f64 = row.get(6);
        tables.push(CapturedTable {
            oid: row.get(0),
            schema,
            name,
            has_primary_key: row.get(3),
            replica_identity: identity.chars().next().unwrap_or('d'),
            has_identity_index: row.get(5),
            estimated_rows: (reltuples >= 0.0).then_some(reltuples as u64),
        });
    }
    Ok(tables)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(schemas: &[&str], tables: &[&str], excluded: &[&str]) -> TableFilter {
        let own = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let config = PostgresConfig {
            schema_include: own(schemas),
            table_include: own(tables),
            table_exclude: own(excluded),
            ..crate::config::tests_support::minimal()
        };
        TableFilter::from_config(&config).unwrap()
    }

    #[test]
    fn lists_match_whole_names() {
        let f = filter(&[], &["inventory\\.cust.*"], &[]);
        assert!(f.captures("inventory", "customers"));
        assert!(!f.captures("inventory", "orders"));
        assert!(!f.captures("xinventory", "customers"));
        let f = filter(&["inventory"], &[], &[]);
        assert!(f.captures("inventory", "orders"));
        assert!(!f.captures("public", "orders"));
        let f = filter(&[], &[], &["public\\.skip"]);
        assert!(f.captures("public", "keep"));
        assert!(!f.captures("public", "skip"));
        assert!(!f.captures("pg_catalog", "pg_class"));
    }

    #[test]
    fn unmatched_includes_are_reported() {
        let f = filter(&[], &["public\\.a", "public\\.missing"], &[]);
        let tables = vec![CapturedTable {
            oid: 1,
            schema: "public".into(),
            name: "a".into(),
            has_primary_key: true,
            replica_identity: 'd',
            has_identity_index: false,
            estimated_rows: None,
        }];
        assert_eq!(f.unmatched_includes(&tables), vec!["public\\.missing"]);
        assert!(tables[0].has_usable_replica_identity());
    }
}
