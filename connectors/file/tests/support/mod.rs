//! Shared by the file sink's end-to-end tests: Debezium-shaped change events for a
//! `customers` table (built with the real envelope builder and JSON converter), producing
//! them through a real worker's REST API, waiting for a sink's committed offsets, and
//! reading the written files back with real readers (DuckDB, pyarrow, fastavro).

#![allow(dead_code)]

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, bail};
use serde_json::{Value as Json, json};
use sluice_schemas::envelope::{EpochNanos, Op, TableEnvelope};
use sluice_schemas::json::{JsonConverter, JsonConverterConfig};
use sluice_schemas::schema::{INT32_SCHEMA, OPTIONAL_STRING_SCHEMA};
use sluice_schemas::source::{SnapshotMarker, SourceCommon, SourceSchemaBuilder};
use sluice_schemas::temporal::format_date;
use sluice_schemas::{SchemaRef, Value, logical};
use sluice_tests::SluiceProcess;

pub const WAIT: Duration = Duration::from_secs(60);

/// The `customers` table, before (`with_phone = false`) or after `ADD COLUMN phone`.
pub fn customers(with_phone: bool) -> TableEnvelope {
    let optional =
        |builder: sluice_schemas::SchemaBuilder| -> SchemaRef { builder.optional().build() };
    let mut columns = vec![
        ("id".to_string(), INT32_SCHEMA.clone()),
        ("email".to_string(), OPTIONAL_STRING_SCHEMA.clone()),
        (
            "balance".to_string(),
            optional(logical::decimal_with_precision(10, 2)),
        ),
        ("born".to_string(), optional(logical::date())),
        ("updated".to_string(), optional(logical::micro_timestamp())),
    ];
    if with_phone {
        columns.push(("phone".to_string(), OPTIONAL_STRING_SCHEMA.clone()));
    }
    TableEnvelope::new(
        "dbserver1.public.customers",
        &[("id".to_string(), INT32_SCHEMA.clone())],
        &columns,
        SourceSchemaBuilder::postgres(),
    )
}

/// One change to the customers table, and the row it carries.
#[derive(Debug, Clone)]
pub struct Event {
    pub op: Op,
    pub id: i32,
    pub email: String,
    pub phone: Option<String>,
    /// A tombstone for `id` instead of an event.
    pub tombstone: bool,
}

impl Event {
    pub fn new(op: Op, id: i32, email: &str) -> Self {
        Self {
            op,
            id,
            email: email.into(),
            phone: None,
            tombstone: false,
        }
    }

    pub fn with_phone(mut self, phone: &str) -> Self {
        self.phone = Some(phone.into());
        self
    }

    pub fn tombstone(id: i32) -> Self {
        Self {
            tombstone: true,
            ..Self::new(Op::Delete, id, "")
        }
    }

    fn balance(&self) -> String {
        format!("{}.{:02}", 1000 + self.id * 7, (self.id * 13) % 100)
    }

    fn born_days(&self) -> i32 {
        7_000 + self.id * 31
    }

    fn updated_micros(&self) -> i64 {
        1_700_000_000_000_000 + i64::from(self.id) * 86_400_123_457 + self.email.len() as i64
    }

    pub fn lsn(index: usize) -> i64 {
        0x1_0000_0000 + index as i64 * 0x100
    }

    /// The row's columns as a reader shows them (decimal as a number, ISO dates/times).
    pub fn row_json(&self, phone_column: bool) -> Json {
        let mut row = json!({
            "id": self.id,
            "email": self.email,
            "balance": self.balance().parse::<f64>().unwrap(),
            "born": format_date(self.born_days()),
            "updated": iso_micros(self.updated_micros()),
        });
        if phone_column {
            row["phone"] = json!(self.phone);
        }
        row
    }

    /// The JSON (schema + payload) of the record's key and value, as the default JSON
    /// converter writes them.
    pub fn key_and_value(&self, index: usize) -> (Json, Json) {
        let converter = JsonConverter::new(JsonConverterConfig::default());
        let table = customers(self.phone.is_some());
        let key = table.key(vec![self.id.into()]).unwrap();
        let key_bytes = converter
            .to_bytes(table.key_schema(), &Value::Struct(key))
            .unwrap()
            .unwrap();
        let key_json: Json = serde_json::from_slice(&key_bytes).unwrap();
        if self.tombstone {
            return (key_json, Json::Null);
        }
        let mut values: Vec<Value> = vec![
            self.id.into(),
            self.email.as_str().into(),
            Value::Bytes(sluice_schemas::decimal::encode_decimal(&self.balance(), 2).unwrap()),
            Value::Int32(self.born_days()),
            Value::Int64(self.updated_micros()),
        ];
        if let Some(phone) = &self.phone {
            values.push(phone.as_str().into());
        }
        let row = table.row(values).unwrap();
        let (before, after) = match self.op {
            Op::Delete => (Some(row), None),
            _ => (None, Some(row)),
        };
        let common = SourceCommon {
            version: "0.1.0".into(),
            connector: "postgresql".into(),
            name: "dbserver1".into(),
            event_time_micros: source_ts_ms(index) * 1000,
            snapshot: SnapshotMarker::False,
            db: "shop".into(),
            sequence: None,
        };
        let source = common
            .to_struct(
                table.source_schema(),
                [
                    ("schema", Value::from("public")),
                    ("table", Value::from("customers")),
                    ("lsn", Value::Int64(Self::lsn(index))),
                ],
            )
            .unwrap();
        let envelope = table
            .value(
                self.op,
                before,
                after,
                source,
                EpochNanos(ts_ms(index) * 1_000_000),
                None,
            )
            .unwrap();
        let value_bytes = converter
            .to_bytes(Some(table.envelope_schema()), &Value::Struct(envelope))
            .unwrap()
            .unwrap();
        (key_json, serde_json::from_slice(&value_bytes).unwrap())
    }
}

pub fn ts_ms(index: usize) -> i64 {
    1_700_000_100_000 + index as i64
}

pub fn source_ts_ms(index: usize) -> i64 {
    1_700_000_000_000 + index as i64
}

/// `YYYY-MM-DDTHH:MM:SS.ffffff` (Python's `isoformat` of a naive datetime).
pub fn iso_micros(micros: i64) -> String {
    let days = micros.div_euclid(86_400_000_000);
    let rest = micros.rem_euclid(86_400_000_000);
    let seconds = rest / 1_000_000;
    let fraction = rest % 1_000_000;
    let mut text = format!(
        "{}T{:02}:{:02}:{:02}",
        format_date(days as i32),
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    );
    if fraction != 0 {
        text.push_str(&format!(".{fraction:06}"));
    }
    text
}

/// The Postgres text form of an LSN.
pub fn lsn_text(lsn: i64) -> String {
    format!("{:X}/{:X}", (lsn as u64) >> 32, lsn as u32)
}

/// Produces `records` (key, value) to partition 0 of `topic`.
pub async fn produce(
    worker: &SluiceProcess,
    topic: &str,
    records: &[(Json, Json)],
) -> anyhow::Result<()> {
    for chunk in records.chunks(500) {
        let body: Vec<Json> = chunk
            .iter()
            .map(|(key, value)| json!({"key": key, "value": value, "partition": 0}))
            .collect();
        let (status, answer) = worker
            .post(&format!("/topics/{topic}/records"), &Json::Array(body))
            .await?;
        if status != 200 {
            bail!("producing to {topic} answered {status}: {answer}");
        }
    }
    Ok(())
}

/// Registers a connector and checks that the worker accepted it.
pub async fn create_connector(
    worker: &SluiceProcess,
    name: &str,
    config: Json,
) -> anyhow::Result<()> {
    let (status, body) = worker
        .post("/connectors", &json!({"name": name, "config": config}))
        .await?;
    if status != 201 {
        bail!("creating connector {name} answered {status}: {body}");
    }
    Ok(())
}

/// Waits until the sink's consumer group committed `next` for partition 0 of its topic.
pub async fn wait_committed(worker: &SluiceProcess, name: &str, next: i64) -> anyhow::Result<()> {
    worker
        .wait_for(&format!("/connectors/{name}/offsets"), WAIT, |body| {
            body["offsets"].as_array().is_some_and(|offsets| {
                offsets
                    .iter()
                    .any(|o| o["offset"]["kafka_offset"].as_i64() == Some(next))
            })
        })
        .await
        .with_context(|| {
            format!(
                "connector {name} did not commit offset {next}; log:\n{}",
                tail(&worker.log())
            )
        })?;
    Ok(())
}

fn tail(log: &str) -> String {
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

/// The rows of `format` files under `topic_dir`, as each real reader sees them, plus the
/// column names of each file.
pub fn read_rows(format: &str, topic_dir: &Path) -> anyhow::Result<Json> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/readers/read_rows.py");
    let output = Command::new("python3")
        .arg(&script)
        .arg(format)
        .arg(topic_dir)
        .output()
        .context("cannot run python3; install it and the readers with scripts/setup.sh")?;
    if !output.status.success() {
        bail!(
            "{} failed (are duckdb, pyarrow and fastavro installed? run scripts/setup.sh): {}",
            script.display(),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(serde_json::from_slice(&output.stdout)?)
}

/// Sorts rows by a numeric column.
pub fn sorted_by(rows: &Json, column: &str) -> Vec<Json> {
    let mut rows = rows.as_array().cloned().unwrap_or_default();
    rows.sort_by_key(|row| row[column].as_i64().unwrap_or(i64::MIN));
    rows
}
