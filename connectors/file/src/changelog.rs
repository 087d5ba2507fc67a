//! Changelog mode for one topic partition: every change event becomes a row of the open
//! file; the file is committed (renamed to `<topic>+<partition>+<first>-<last>.<ext>`) when it
//! holds `flush.size` records, reaches `file.size.max.bytes`, has been open for
//! `rotate.interval.ms`, or the next record needs another file (a new row schema — never a
//! silently wrong column — or another `dt=` directory).
//!
//! Progress is derived from the committed files: [`recover`] finds the last offset they
//! hold, and [`ChangelogPartition::committable`] never reports past the open file's first
//! offset, so the consumer group's offset is at most what the files hold.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use sluice_broker::Offset;
use sluice_schemas::SchemaRef;

use crate::columns::Layout;
use crate::config::{FileSinkConfig, Mode, PartitionBy};
use crate::durable::{PendingFile, file_names, remove_temporaries};
use crate::error::Result;
use crate::event::Change;
use crate::format::FileSpec;
use crate::naming::{OffsetRange, committed_name, data_dirs, date_dir, parse_committed, topic_dir};

/// The file currently being written for a partition.
#[derive(Debug)]
struct OpenFile {
    pending: PendingFile,
    row_schema: Option<SchemaRef>,
    first: Offset,
    last: Offset,
    records: u64,
    opened_at: Instant,
}

/// The changelog writer of one topic partition.
#[derive(Debug)]
pub struct ChangelogPartition {
    topic: String,
    partition: i32,
    open: Option<OpenFile>,
    /// Files committed since the last [`ChangelogPartition::take_committed`].
    committed: Vec<PathBuf>,
}

/// What a restarted partition finds on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recovered {
    /// The offset after the last committed file, if there is one.
    pub next: Option<Offset>,
    pub temporaries_removed: usize,
}

/// Scans the committed files of a topic partition and removes its temporary files.
pub fn recover(config: &FileSinkConfig, topic: &str, partition: i32) -> Result<Recovered> {
    let dirs = data_dirs(&topic_dir(&config.path, topic))?;
    let temporaries_removed = remove_temporaries(&dirs, topic, partition)?;
    let ext = config.format.extension();
    let mut next: Option<Offset> = None;
    for dir in &dirs {
        for name in file_names(dir)? {
            if let Some(range) = parse_committed(&name, topic, partition, ext) {
                let after = Offset(range.last.0 + 1);
                next = Some(next.map_or(after, |n| n.max(after)));
            }
        }
    }
    Ok(Recovered {
        next,
        temporaries_removed,
    })
}

impl ChangelogPartition {
    pub fn new(topic: &str, partition: i32) -> Self {
        Self {
            topic: topic.to_string(),
            partition,
            open: None,
            committed: Vec::new(),
        }
    }

    /// Appends one change, rolling files as the configuration says.
    pub fn append(&mut self, config: &FileSinkConfig, change: &Change<'_>) -> Result<()> {
        let record = change.record;
        let dir = self.dir_for(config, record.timestamp_ms);
        let row_schema = change.row_schema;
        if let Some(open) = &self.open {
            let same_schema = match (&open.row_schema, row_schema) {
                (Some(a), Some(b)) => Arc::ptr_eq(a, b) || **a == **b,
                (None, None) => true,
                _ => false,
            };
            if !same_schema || open.pending.dir() != dir {
                self.commit_open(config)?;
            }
        }
        let open = match &mut self.open {
            Some(open) => open,
            None => {
                let name = format!(
                    "{}+{}+{:020}.{}",
                    self.topic,
                    self.partition,
                    record.offset.0,
                    config.format.extension()
                );
                let spec = FileSpec {
                    format: config.format,
                    compression: config.compression,
                    mode: Mode::Changelog,
                };
                let layout = row_schema.map(|schema| Layout::new(schema.clone(), Mode::Changelog));
                let pending = PendingFile::create(&dir, &name, spec, layout)?;
                self.open.insert(OpenFile {
                    pending,
                    row_schema: row_schema.cloned(),
                    first: record.offset,
                    last: record.offset,
                    records: 0,
                    opened_at: Instant::now(),
                })
            }
        };
        open.pending.writer().append(change)?;
        open.last = record.offset;
        open.records += 1;
        let full = open.records >= config.flush_size
            || open.pending.writer().bytes_written() >= config.file_size_max_bytes;
        if full {
            self.commit_open(config)?;
        }
        Ok(())
    }

    fn dir_for(&self, config: &FileSinkConfig, timestamp_ms: i64) -> PathBuf {
        let base = topic_dir(&config.path, &self.topic);
        match config.partition_by {
            PartitionBy::None => base,
            PartitionBy::Date => base.join(date_dir(timestamp_ms, config.timezone)),
        }
    }

    /// Commits the open file when it has been open for `rotate.interval.ms`.
    pub fn rotate_if_due(&mut self, config: &FileSinkConfig) -> Result<()> {
        let due = self
            .open
            .as_ref()
            .is_some_and(|open| open.opened_at.elapsed() >= config.rotate_interval);
        if due {
            self.commit_open(config)?;
        }
        Ok(())
    }

    fn commit_open(&mut self, config: &FileSinkConfig) -> Result<()> {
        let Some(open) = self.open.take() else {
            return Ok(());
        };
        let range = OffsetRange {
            first: open.first,
            last: open.last,
        };
        let name = committed_name(
            &self.topic,
            self.partition,
            range,
            config.format.extension(),
        );
        let path = open.pending.commit(&name)?;
        tracing::debug!(path = %path.display(), records = open.records, "file committed");
        self.committed.push(path);
        Ok(())
    }

    /// The offset that may be committed to the group given what was consumed: everything
    /// before the open file is in committed files (or was skipped).
    pub fn committable(&self, consumed: Offset) -> Offset {
        self.open.as_ref().map_or(consumed, |open| open.first)
    }

    /// Files committed since the last call.
    pub fn take_committed(&mut self) -> Vec<PathBuf> {
        std::mem::take(&mut self.committed)
    }

    /// Drops the open file unseen; its records are delivered again after the recovery.
    pub fn abandon(&mut self) {
        if let Some(open) = self.open.take() {
            open.pending.abandon();
        }
    }

    pub fn topic_dir(&self, root: &Path) -> PathBuf {
        topic_dir(root, &self.topic)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::config::{Compression, Format};
    use crate::event::tests::{customers, pg_event};
    use crate::naming::UtcOffset;
    use sluice_schemas::envelope::Op;
    use std::time::Duration;

    pub fn config(dir: &Path, format: Format, flush_size: u64) -> FileSinkConfig {
        FileSinkConfig {
            path: dir.to_path_buf(),
            format,
            mode: Mode::Changelog,
            flush_size,
            rotate_interval: Duration::from_secs(3600),
            file_size_max_bytes: u64::MAX,
            partition_by: PartitionBy::None,
            timezone: UtcOffset::default(),
            compression: Compression::None,
        }
    }

    #[test]
    fn files_roll_by_count_and_recovery_finds_the_next_offset() {
        let dir = tempfile::tempdir().unwrap();
        let config = config(dir.path(), Format::JsonLines, 3);
        let table = customers();
        let mut partition = ChangelogPartition::new("db.inv.customers", 0);
        for offset in 0..7 {
            let record = pg_event(&table, offset, Op::Create, offset as i32, "x");
            partition
                .append(&config, &Change::of(&record).unwrap())
                .unwrap();
        }
        assert_eq!(partition.take_committed().len(), 2);
        assert_eq!(partition.committable(Offset(7)), Offset(6));
        let recovered = recover(&config, "db.inv.customers", 0).unwrap();
        // The open file (offset 6) is still a temporary: removed, and not counted.
        assert_eq!(recovered.next, Some(Offset(6)));
        assert_eq!(recovered.temporaries_removed, 1);
        let names = file_names(&dir.path().join("db.inv.customers")).unwrap();
        assert_eq!(names.len(), 2, "{names:?}");
        partition.abandon();
        assert_eq!(recover(&config, "db.inv.customers", 1).unwrap().next, None);
    }

    #[test]
    fn a_new_row_schema_starts_a_new_file() {
        let dir = tempfile::tempdir().unwrap();
        let config = config(dir.path(), Format::Parquet, 100);
        let mut partition = ChangelogPartition::new("db.inv.customers", 0);
        let old = customers();
        let first = pg_event(&old, 0, Op::Create, 1, "x");
        partition
            .append(&config, &Change::of(&first).unwrap())
            .unwrap();
        let widened = sluice_schemas::envelope::TableEnvelope::new(
            "db.inv.customers",
            &[("id".into(), sluice_schemas::schema::INT32_SCHEMA.clone())],
            &[
                ("id".into(), sluice_schemas::schema::INT32_SCHEMA.clone()),
                (
                    "email".into(),
                    sluice_schemas::schema::OPTIONAL_STRING_SCHEMA.clone(),
                ),
                (
                    "age".into(),
                    sluice_schemas::schema::OPTIONAL_INT32_SCHEMA.clone(),
                ),
            ],
            sluice_schemas::source::SourceSchemaBuilder::postgres(),
        );
        let row = widened.row(vec![2.into(), "y".into(), 30.into()]).unwrap();
        let mut second = first.clone();
        second.offset = Offset(1);
        let Some(sluice_schemas::Value::Struct(envelope)) = Some(first.value.value.clone()) else {
            panic!()
        };
        let source = envelope
            .get("source")
            .and_then(|s| s.as_struct())
            .unwrap()
            .clone();
        let value = widened
            .value(
                Op::Create,
                None,
                Some(row),
                source,
                sluice_schemas::envelope::EpochNanos(0),
                None,
            )
            .unwrap();
        second.value = sluice_connect::api::SchemaAndValue::with_schema(
            widened.envelope_schema().clone(),
            value,
        );
        partition
            .append(&config, &Change::of(&second).unwrap())
            .unwrap();
        assert_eq!(partition.take_committed().len(), 1);
        partition
            .rotate_if_due(&FileSinkConfig {
                rotate_interval: Duration::ZERO,
                ..config.clone()
            })
            .unwrap();
        let committed = partition.take_committed();
        assert_eq!(committed.len(), 1);
        assert!(
            committed[0]
                .to_string_lossy()
                .ends_with("+00000000000000000001-00000000000000000001.parquet")
        );
    }
}
