//! Builds the [`TableMapping`] of a captured table from what the catalog (snapshot) or a
//! Relation message (stream) says about its columns, with the connector's type options,
//! column filter, `message.key.columns` and placeholder.

use sluice_connect::config::Props;
use sluice_schemas::SchemaRef;
use tokio_postgres::Client;

use crate::catalog::ColumnFacts;
use crate::config::PostgresConfig;
use crate::error::Result;
use crate::table::{TableColumn, TableMapping, apply_message_key_columns};
use crate::types::{ColumnFilter, MessageKeyColumns, TypeCatalog, TypeOptions};

/// Everything needed to map tables, shared by the snapshot and the stream.
#[derive(Debug, Clone)]
pub struct MappingContext {
    prefix: String,
    placeholder: String,
    options: TypeOptions,
    filter: ColumnFilter,
    keys: MessageKeyColumns,
    source_schema: SchemaRef,
    catalog: TypeCatalog,
}

/// A column as a Relation message describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelationColumnFacts {
    pub name: String,
    pub type_oid: u32,
    pub type_modifier: i32,
}

impl MappingContext {
    pub async fn new(
        config: &PostgresConfig,
        props: &Props,
        source_schema: SchemaRef,
        client: &Client,
    ) -> Result<Self> {
        Ok(Self {
            prefix: config.topic_prefix.clone(),
            placeholder: config.unavailable_value_placeholder.clone(),
            options: TypeOptions::from_props(props)?,
            filter: ColumnFilter::from_props(props)?,
            keys: MessageKeyColumns::from_props(props)?,
            source_schema,
            catalog: TypeCatalog::load(client).await?,
        })
    }

    /// The mapping of `schema.table` from catalog facts (the snapshot's view).
    pub async fn from_catalog(
        &mut self,
        client: &Client,
        schema: &str,
        table: &str,
        facts: &[ColumnFacts],
    ) -> Result<TableMapping> {
        let oids: Vec<u32> = facts.iter().map(|f| f.type_oid).collect();
        self.catalog.ensure(client, &oids).await?;
        let columns = facts
            .iter()
            .map(|fact| {
                fact.to_table_column(self.catalog.resolve(fact.type_oid, fact.type_modifier))
            })
            .collect();
        self.build(schema, table, columns)
    }

    /// The mapping of `schema.table` from a Relation message's columns, with nullability and
    /// key membership and defaults taken from the catalog by column name (`catalog_facts`).
    pub async fn from_relation(
        &mut self,
        client: &Client,
        schema: &str,
        table: &str,
        relation: &[RelationColumnFacts],
        catalog_facts: &[ColumnFacts],
    ) -> Result<TableMapping> {
        let oids: Vec<u32> = relation.iter().map(|c| c.type_oid).collect();
        self.catalog.refresh_unknown(client, &oids).await?;
        let columns = relation
            .iter()
            .map(|column| {
                let ty = self.catalog.resolve(column.type_oid, column.type_modifier);
                match catalog_facts.iter().find(|f| f.name == column.name) {
                    Some(fact) => fact.to_table_column(ty),
                    // Not in the catalog read (added since): nullable, not a key.
                    None => TableColumn {
                        name: column.name.clone(),
                        ty,
                        optional: true,
                        key: false,
                    },
                }
            })
            .collect();
        self.build(schema, table, columns)
    }

    fn build(
        &self,
        schema: &str,
        table: &str,
        mut columns: Vec<TableColumn>,
    ) -> Result<TableMapping> {
        apply_message_key_columns(&self.keys, schema, table, &mut columns)?;
        TableMapping::new(
            &self.prefix,
            schema,
            table,
            columns,
            &self.options,
            &self.filter,
            &self.placeholder,
            self.source_schema.clone(),
        )
    }
}

/// Re-reading types a Relation message names, so an enum altered mid-stream is seen anew.
trait RefreshUnknown {
    async fn refresh_unknown(&mut self, client: &Client, oids: &[u32]) -> Result<()>;
}

impl RefreshUnknown for TypeCatalog {
    async fn refresh_unknown(&mut self, client: &Client, oids: &[u32]) -> Result<()> {
        // Built-in OIDs are below FirstNormalObjectId (16384) and never change.
        let user_types: Vec<u32> = oids.iter().copied().filter(|oid| *oid >= 16_384).collect();
        if user_types.is_empty() {
            return Ok(());
        }
        self.refresh(client, &user_types).await
    }
}
