//! Avro object container files. The schema is a record of nullable fields derived from the
//! file's [`Layout`] (decimal, date, timestamp and time logical types included) and checked by
//! `apache-avro`'s parser; blocks are compressed with `apache-avro`'s codecs (null, deflate,
//! snappy). Rows are encoded straight from the borrowed cells into the block buffer, so
//! appending a change allocates nothing.

use std::collections::hash_map::RandomState;
use std::fs::File;
use std::hash::{BuildHasher, Hasher};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use apache_avro::{Codec, DeflateSettings};
use serde_json::{Value as Json, json};
use sluice_schemas::Value;
use sluice_schemas::avro::names::scrub_name;

use crate::cell::{Cell, cell};
use crate::columns::{ColumnKind, Layout, TimeUnit, Zone};
use crate::config::Compression;
use crate::error::{Error, Result};
use crate::event::Change;
use crate::format::FormatWriter;
use crate::json::write_value;

/// Uncompressed bytes per block.
const BLOCK_BYTES: usize = 256 * 1024;

#[derive(Debug)]
pub struct AvroWriter {
    out: BufWriter<File>,
    path: PathBuf,
    layout: Layout,
    codec: Codec,
    sync: [u8; 16],
    block: Vec<u8>,
    block_rows: u64,
    scratch: Vec<u8>,
    file_bytes: u64,
}

impl AvroWriter {
    pub fn new(file: File, path: &Path, layout: Layout, compression: Compression) -> Result<Self> {
        let avro_error = |source| Error::Avro {
            path: path.to_path_buf(),
            source: Box::new(source),
        };
        let schema_text = avro_schema(&layout).to_string();
        apache_avro::Schema::parse_str(&schema_text).map_err(avro_error)?;
        let codec = match compression {
            Compression::Deflate => Codec::Deflate(DeflateSettings::default()),
            Compression::Snappy => Codec::Snappy,
            Compression::None | Compression::Zstd => Codec::Null,
        };
        let mut writer = Self {
            out: BufWriter::with_capacity(BLOCK_BYTES, file),
            path: path.to_path_buf(),
            layout,
            codec,
            sync: sync_marker(),
            block: Vec::with_capacity(BLOCK_BYTES + 4096),
            block_rows: 0,
            scratch: Vec::new(),
            file_bytes: 0,
        };
        let mut header = Vec::with_capacity(schema_text.len() + 64);
        header.extend_from_slice(b"Obj\x01");
        write_long(&mut header, 2);
        write_bytes(&mut header, b"avro.schema");
        write_bytes(&mut header, schema_text.as_bytes());
        write_bytes(&mut header, b"avro.codec");
        write_bytes(&mut header, <&str>::from(codec).as_bytes());
        write_long(&mut header, 0);
        header.extend_from_slice(&writer.sync);
        writer.write_out(&header)?;
        Ok(writer)
    }

    fn write_out(&mut self, bytes: &[u8]) -> Result<()> {
        self.out
            .write_all(bytes)
            .map_err(|e| Error::io(format!("cannot write {}", self.path.display()), e))?;
        self.file_bytes += bytes.len() as u64;
        Ok(())
    }

    fn flush_block(&mut self) -> Result<()> {
        if self.block_rows == 0 {
            return Ok(());
        }
        self.codec
            .compress(&mut self.block)
            .map_err(|source| Error::Avro {
                path: self.path.clone(),
                source: Box::new(source),
            })?;
        let mut head = Vec::with_capacity(20);
        write_long(&mut head, self.block_rows as i64);
        write_long(&mut head, self.block.len() as i64);
        self.write_out(&head)?;
        let block = std::mem::take(&mut self.block);
        self.write_out(&block)?;
        let sync = self.sync;
        self.write_out(&sync)?;
        self.block = block;
        self.block.clear();
        self.block_rows = 0;
        Ok(())
    }
}

impl FormatWriter for AvroWriter {
    fn append(&mut self, change: &Change<'_>) -> Result<()> {
        for column in &self.layout.columns {
            encode_cell(
                &mut self.block,
                &mut self.scratch,
                column.kind,
                cell(change, column),
            );
        }
        self.block_rows += 1;
        if self.block.len() >= BLOCK_BYTES {
            self.flush_block()?;
        }
        Ok(())
    }

    fn bytes_written(&self) -> u64 {
        self.file_bytes + self.block.len() as u64
    }

    fn finish(mut self: Box<Self>) -> Result<()> {
        self.flush_block()?;
        let path = self.path.clone();
        self.out
            .flush()
            .map_err(|e| Error::io(format!("cannot write {}", path.display()), e))
    }
}

/// 16 random bytes separating blocks.
fn sync_marker() -> [u8; 16] {
    let mut marker = [0u8; 16];
    for half in marker.chunks_mut(8) {
        let mut hasher = RandomState::new().build_hasher();
        hasher.write_u64(0x5eed);
        half.copy_from_slice(&hasher.finish().to_le_bytes());
    }
    marker
}

/// The Avro record schema of a layout: every field a `["null", T]` union defaulting to null.
pub fn avro_schema(layout: &Layout) -> Json {
    let full = layout.row_schema.name().unwrap_or("Row");
    let (namespace, name) = match full.rfind('.') {
        Some(dot) => (Some(&full[..dot]), &full[dot + 1..]),
        None => (None, full),
    };
    let fields: Vec<Json> = layout
        .columns
        .iter()
        .map(|column| {
            json!({
                "name": scrub_name(&column.name),
                "type": ["null", avro_type(column.kind)],
                "default": null,
            })
        })
        .collect();
    let mut record = json!({"type": "record", "name": scrub_name(name), "fields": fields});
    if let Some(namespace) = namespace {
        let scrubbed: Vec<String> = namespace
            .split('.')
            .map(|part| scrub_name(part).into_owned())
            .collect();
        record["namespace"] = Json::String(scrubbed.join("."));
    }
    record
}

fn avro_type(kind: ColumnKind) -> Json {
    let logical = |base: &str, logical: &str| json!({"type": base, "logicalType": logical});
    match kind {
        ColumnKind::Boolean => json!("boolean"),
        ColumnKind::Int8 | ColumnKind::Int16 | ColumnKind::Int32 => json!("int"),
        ColumnKind::Int64 => json!("long"),
        ColumnKind::Float32 => json!("float"),
        ColumnKind::Float64 => json!("double"),
        ColumnKind::String | ColumnKind::JsonText => json!("string"),
        ColumnKind::Bytes => json!("bytes"),
        ColumnKind::Decimal { precision, scale } => json!({
            "type": "bytes", "logicalType": "decimal", "precision": precision, "scale": scale,
        }),
        ColumnKind::Date => logical("int", "date"),
        ColumnKind::Timestamp(unit, zone) => {
            let prefix = if zone == Zone::Local { "local-" } else { "" };
            let suffix = match unit {
                TimeUnit::Millis => "millis",
                TimeUnit::Micros => "micros",
                TimeUnit::Nanos => "nanos",
            };
            logical("long", &format!("{prefix}timestamp-{suffix}"))
        }
        ColumnKind::Time(TimeUnit::Millis) => logical("int", "time-millis"),
        ColumnKind::Time(TimeUnit::Micros) => logical("long", "time-micros"),
        // Avro has no nanosecond time of day: a plain long of nanoseconds past midnight.
        ColumnKind::Time(TimeUnit::Nanos) => json!("long"),
    }
}

/// Encodes one nullable field: branch 0 for null, else branch 1 and the value.
fn encode_cell(out: &mut Vec<u8>, scratch: &mut Vec<u8>, kind: ColumnKind, cell: Cell<'_>) {
    let value = match cell {
        Cell::Value(value, _) => Some(value),
        _ => None,
    };
    match kind {
        ColumnKind::Boolean => {
            let flag = match (cell, value) {
                (Cell::Bool(flag), _) | (_, Some(&Value::Boolean(flag))) => Some(flag),
                _ => None,
            };
            match flag {
                Some(flag) => out.extend_from_slice(&[2, u8::from(flag)]),
                None => out.push(0),
            }
        }
        ColumnKind::Int8
        | ColumnKind::Int16
        | ColumnKind::Int32
        | ColumnKind::Int64
        | ColumnKind::Date
        | ColumnKind::Timestamp(..)
        | ColumnKind::Time(_) => {
            let number = match cell {
                Cell::Int(number) => Some(number),
                _ => value.and_then(Value::as_i64),
            };
            match number {
                Some(number) => {
                    out.push(2);
                    write_long(out, number);
                }
                None => out.push(0),
            }
        }
        ColumnKind::Float32 => match value {
            Some(Value::Float32(v)) => {
                out.push(2);
                out.extend_from_slice(&v.to_le_bytes());
            }
            _ => out.push(0),
        },
        ColumnKind::Float64 => match value {
            Some(Value::Float64(v)) => {
                out.push(2);
                out.extend_from_slice(&v.to_le_bytes());
            }
            Some(Value::Float32(v)) => {
                out.push(2);
                out.extend_from_slice(&f64::from(*v).to_le_bytes());
            }
            _ => out.push(0),
        },
        ColumnKind::Bytes | ColumnKind::Decimal { .. } => match value {
            Some(Value::Bytes(bytes)) => {
                out.push(2);
                write_bytes(out, bytes);
            }
            _ => out.push(0),
        },
        ColumnKind::String | ColumnKind::JsonText => {
            if !text_of(cell, scratch) {
                out.push(0);
                return;
            }
            out.push(2);
            write_bytes(out, scratch);
        }
    }
}

/// The text of a string or JSON-text cell in `scratch`; `false` for null.
pub fn text_of(cell: Cell<'_>, scratch: &mut Vec<u8>) -> bool {
    scratch.clear();
    match cell {
        Cell::Null => return false,
        Cell::Str(text) => scratch.extend_from_slice(text.as_bytes()),
        Cell::Value(Value::String(text), _) => scratch.extend_from_slice(text.as_bytes()),
        Cell::Value(value, schema) => write_value(scratch, Some(schema), value),
        Cell::Int(number) => {
            let _ = write!(scratch, "{number}");
        }
        Cell::Bool(flag) => {
            let _ = write!(scratch, "{flag}");
        }
        Cell::Position(position) => {
            let _ = write!(scratch, "{position}");
        }
    }
    true
}

/// Avro `long` (and `int`): zig-zag, then base-128 varint.
pub fn write_long(out: &mut Vec<u8>, value: i64) {
    let mut n = ((value << 1) ^ (value >> 63)) as u64;
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn write_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    write_long(out, bytes.len() as i64);
    out.extend_from_slice(bytes);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Mode;
    use crate::event::tests::{customers, pg_event};
    use sluice_schemas::envelope::Op;

    #[test]
    fn apache_avro_reads_back_what_we_write() {
        let table = customers();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.avro");
        for compression in [Compression::None, Compression::Deflate, Compression::Snappy] {
            let file = File::create(&path).unwrap();
            let layout = Layout::new(table.row_schema().clone(), Mode::Changelog);
            let mut writer = Box::new(AvroWriter::new(file, &path, layout, compression).unwrap());
            let records: Vec<_> = (0..3)
                .map(|i| pg_event(&table, i, Op::Create, i as i32, "e@x"))
                .chain([pg_event(&table, 3, Op::Delete, 0, "e@x")])
                .collect();
            for record in &records {
                writer.append(&Change::of(record).unwrap()).unwrap();
            }
            writer.finish().unwrap();
            let reader = apache_avro::Reader::new(File::open(&path).unwrap()).unwrap();
            let rows: Vec<_> = reader.map(Result::unwrap).collect();
            assert_eq!(rows.len(), 4, "{compression:?}");
            let apache_avro::types::Value::Record(fields) = &rows[3] else {
                panic!("{:?}", rows[3])
            };
            let field = |name: &str| {
                fields
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, v)| v.clone())
                    .unwrap()
            };
            use apache_avro::types::Value as A;
            assert_eq!(field("id"), A::Union(1, Box::new(A::Int(0))));
            assert_eq!(field("__op"), A::Union(1, Box::new(A::String("d".into()))));
            assert_eq!(field("__deleted"), A::Union(1, Box::new(A::Boolean(true))));
            assert_eq!(
                field("__position"),
                A::Union(1, Box::new(A::String("16/B374D848".into())))
            );
            assert_eq!(field("__offset"), A::Union(1, Box::new(A::Long(3))));
        }
    }

    #[test]
    fn longs_are_zigzag_varints() {
        let mut out = Vec::new();
        for n in [0, -1, 1, 64, -65] {
            write_long(&mut out, n);
        }
        assert_eq!(out, [0, 1, 2, 0x80, 0x01, 0x81, 0x01]);
    }
}
