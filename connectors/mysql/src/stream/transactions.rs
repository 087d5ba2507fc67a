//! Transaction metadata (`provide.transaction.metadata=true`) as Debezium writes it: a BEGIN
//! record on `<prefix>.transaction` before the first change event of a transaction, an END
//! record with the number of events per table after its last one, and a `transaction` block
//! `{id, total_order, data_collection_order}` in every change event in between. The id is the
//! GTID (MariaDB `domain-server-seq`, MySQL `uuid:n`), else `file=<binlog>,pos=<BEGIN pos>`.
//!
//! Transactions without a captured change produce nothing. A transaction is numbered from
//! its group's start, counting also the rows a restart skips, so a group re-read after a
//! crash numbers its events, BEGIN and END exactly as before (the runtime then drops the
//! replayed ones by position). Tombstones carry no block and are not counted.

use std::sync::Arc;

use sluice_connect::api::{OffsetMap, SharedOffsetMap, SourceRecord};
use sluice_schemas::records::{KeyedRecord, TransactionSchemas};
use sluice_schemas::{Struct, Value};

use crate::error::{Error, Result};
use crate::offset::{RowKey, stream_position};
use crate::records::keyed_parts;

/// The transaction topic and its record schemas, built once per task.
#[derive(Debug, Clone)]
pub struct TransactionTopic {
    schemas: TransactionSchemas,
    topic: Arc<str>,
}

impl TransactionTopic {
    pub fn new(topic_prefix: &str) -> Self {
        Self {
            schemas: TransactionSchemas::new(),
            topic: format!("{topic_prefix}.transaction").into(),
        }
    }

    pub fn topic(&self) -> &str {
        &self.topic
    }

    fn record(
        &self,
        keyed: std::result::Result<KeyedRecord, sluice_schemas::Error>,
        partition: &SharedOffsetMap,
        offset: OffsetMap,
        at: RowKey,
        ts_ms: i64,
    ) -> Result<SourceRecord> {
        let keyed = keyed.map_err(|source| Error::Schema {
            table: self.topic.to_string(),
            source,
        })?;
        let (key, value) = keyed_parts(keyed);
        Ok(
            SourceRecord::new(partition.clone(), offset, self.topic.clone(), key, value)
                .with_position(stream_position(at, 0))
                .with_timestamp_ms(ts_ms),
        )
    }
}

/// Whether the BEGIN record of a transaction was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Opened {
    Pending,
    Written,
}

/// The transaction of the event group being read.
#[derive(Debug, Clone)]
pub struct OpenTransaction {
    id: String,
    /// Server time of the transaction's first event, for BEGIN.
    begin_ts_ms: i64,
    /// The group's first row key: BEGIN's position (END's is the group's last).
    group: RowKey,
    opened: Opened,
    total: i64,
    /// Events per `db.table`, in the order the tables were first changed.
    per_table: Vec<(String, i64)>,
}

impl OpenTransaction {
    pub fn new(id: String, begin_ts_ms: i64, group: RowKey) -> Self {
        Self {
            id,
            begin_ts_ms,
            group,
            opened: Opened::Pending,
            total: 0,
            per_table: Vec::new(),
        }
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// Whether BEGIN is still to be written.
    pub fn is_pending(&self) -> bool {
        self.opened == Opened::Pending
    }

    /// The BEGIN record, the first time the transaction has a change event (`offset`: the
    /// group's start, so a restart re-reads the whole group).
    pub fn begin_if_pending(
        &mut self,
        topic: &TransactionTopic,
        partition: &SharedOffsetMap,
        offset: OffsetMap,
    ) -> Result<Option<SourceRecord>> {
        if self.opened == Opened::Written {
            return Ok(None);
        }
        self.opened = Opened::Written;
        let keyed = topic.schemas.begin(&self.id, self.begin_ts_ms);
        topic
            .record(keyed, partition, offset, self.group, self.begin_ts_ms)
            .map(Some)
    }

    /// The END record (`None` when the transaction had no change event); `offset` is the
    /// position after the group.
    pub fn end(
        self,
        topic: &TransactionTopic,
        partition: &SharedOffsetMap,
        offset: OffsetMap,
        ts_ms: i64,
    ) -> Result<Option<SourceRecord>> {
        if self.opened == Opened::Pending {
            return Ok(None);
        }
        let keyed = topic.schemas.end(&self.id, &self.per_table, ts_ms);
        let at = RowKey {
            event: u64::MAX,
            ..self.group
        };
        topic.record(keyed, partition, offset, at, ts_ms).map(Some)
    }

    /// Counts the change events among `records` (all of table `db`.`table`) and puts the
    /// `transaction` block into each; tombstones are left alone.
    pub fn stamp(&mut self, records: &mut [SourceRecord], db: &str, table: &str) -> Result<()> {
        for record in records {
            let Value::Struct(envelope) = &mut record.value.value else {
                continue;
            };
            self.total += 1;
            let data_collection_order = self.count(db, table);
            let block = envelope
                .schema()
                .field("transaction")
                .map(|field| {
                    Struct::from_values(
                        field.schema().clone(),
                        vec![
                            Value::String(self.id.as_str().into()),
                            Value::Int64(self.total),
                            Value::Int64(data_collection_order),
                        ],
                    )
                })
                .transpose()
                .and_then(|block| match block {
                    Some(block) => envelope.put("transaction", Value::Struct(block)).map(drop),
                    None => Ok(()),
                });
            block.map_err(|source| Error::Schema {
                table: record.topic.to_string(),
                source,
            })?;
        }
        Ok(())
    }

    /// Counts one more event of `db`.`table`, returning its order within the table.
    fn count(&mut self, db: &str, table: &str) -> i64 {
        let is_table = |name: &str| {
            name.strip_prefix(db)
                .and_then(|rest| rest.strip_prefix('.'))
                == Some(table)
        };
        match self.per_table.iter_mut().find(|(name, _)| is_table(name)) {
            Some((_, count)) => {
                *count += 1;
                *count
            }
            None => {
                self.per_table.push((format!("{db}.{table}"), 1));
                1
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_table_in_first_seen_order() {
        let group = RowKey {
            file_number: 3,
            group_pos: 400,
            event: 0,
            row: 0,
        };
        let mut tx = OpenTransaction::new("0-1-7".into(), 1_000, group);
        assert_eq!(tx.count("inventory", "orders"), 1);
        assert_eq!(tx.count("inventory", "items"), 1);
        assert_eq!(tx.count("inventory", "orders"), 2);
        // `inventory.orders` must not match a table named `orders` in `inv`.
        assert_eq!(tx.count("inv", "entory.orders"), 1);
        assert_eq!(
            tx.per_table,
            [
                ("inventory.orders".to_owned(), 2),
                ("inventory.items".to_owned(), 1),
                ("inv.entory.orders".to_owned(), 1)
            ]
        );
    }

    #[test]
    fn begin_once_end_only_after_begin() {
        let topic = TransactionTopic::new("dbserver1");
        assert_eq!(topic.topic(), "dbserver1.transaction");
        let partition = SharedOffsetMap::empty();
        let group = RowKey::default();
        let quiet = OpenTransaction::new("0-1-8".into(), 0, group);
        assert!(
            quiet
                .end(&topic, &partition, OffsetMap::new(), 0)
                .unwrap()
                .is_none()
        );
        let mut tx = OpenTransaction::new("0-1-9".into(), 5_000, group);
        let begin = tx
            .begin_if_pending(&topic, &partition, OffsetMap::new())
            .unwrap()
            .unwrap();
        assert!(
            tx.begin_if_pending(&topic, &partition, OffsetMap::new())
                .unwrap()
                .is_none()
        );
        tx.count("db", "t");
        let end = tx
            .end(&topic, &partition, OffsetMap::new(), 6_000)
            .unwrap()
            .unwrap();
        assert!(begin.position < end.position);
        let Value::Struct(value) = &end.value.value else {
            panic!("END has a struct value");
        };
        assert_eq!(value.get("status"), Some(&Value::String("END".into())));
        assert_eq!(value.get("event_count"), Some(&Value::Int64(1)));
    }
}
