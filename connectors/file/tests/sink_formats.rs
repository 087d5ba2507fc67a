//! The file sink end to end through a real `sluice serve` process: Debezium change events
//! (with a schema change mid-stream, a delete and its tombstone) are produced to a topic,
//! one sink per format and mode writes them, and real readers — DuckDB and pyarrow for
//! Parquet, fastavro for Avro, DuckDB and Python's json for JSON lines — must see exactly the
//! event sequence (changelog) or the final table (upsert).

mod support;

use serde_json::{Value as Json, json};
use sluice_schemas::envelope::Op;
use sluice_tests::SluiceProcess;
use support::{
    Event, create_connector, lsn_text, produce, read_rows, sorted_by, source_ts_ms, ts_ms,
    wait_committed,
};

const TOPIC: &str = "dbserver1.public.customers";

fn events() -> Vec<Event> {
    vec![
        Event::new(Op::Read, 1, "ann@example.com"),
        Event::new(Op::Create, 2, "bob@example.com"),
        Event::new(Op::Create, 3, "cy@example.com"),
        Event::new(Op::Update, 2, "bob@work.example"),
        Event::new(Op::Delete, 3, "cy@example.com"),
        Event::tombstone(3),
        // ALTER TABLE customers ADD COLUMN phone: from here on the rows have a new schema.
        Event::new(Op::Create, 4, "dee@example.com").with_phone("555-0104"),
        Event::new(Op::Update, 1, "ann@work.example").with_phone("555-0101"),
        Event::new(Op::Create, 5, "eve@example.com").with_phone("555-0105"),
    ]
}

/// Every event except tombstones, as a changelog row.
fn expected_changelog(events: &[Event]) -> Vec<Json> {
    events
        .iter()
        .enumerate()
        .filter(|(_, event)| !event.tombstone)
        .map(|(offset, event)| {
            let mut row = event.row_json(true);
            let meta = json!({
                "__op": event_op(event.op),
                "__ts_ms": ts_ms(offset),
                "__source_ts_ms": source_ts_ms(offset),
                "__position": lsn_text(Event::lsn(offset)),
                "__topic": TOPIC,
                "__partition": 0,
                "__offset": offset,
                "__deleted": event.op == Op::Delete,
            });
            row.as_object_mut()
                .unwrap()
                .extend(meta.as_object().unwrap().clone());
            row
        })
        .collect()
}

fn event_op(op: Op) -> &'static str {
    op.code()
}

/// The table after all events, by id.
fn expected_table(events: &[Event]) -> Vec<Json> {
    let mut table = std::collections::BTreeMap::new();
    for event in events {
        match (event.tombstone, event.op) {
            (true, _) | (false, Op::Delete) => {
                table.remove(&event.id);
            }
            _ => {
                table.insert(event.id, event.row_json(true));
            }
        }
    }
    table.into_values().collect()
}

/// The offsets of a changelog file name (`…+<first>-<last>.<ext>`).
fn range_of(name: &str) -> (i64, i64) {
    let stem = name.rsplit_once('.').map_or(name, |(stem, _)| stem);
    let range = stem.rsplit('+').next().unwrap_or_default();
    let (first, last) = range.split_once('-').unwrap_or(("-1", "-1"));
    (first.parse().unwrap_or(-1), last.parse().unwrap_or(-1))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_format_and_mode_shows_real_readers_the_events() -> anyhow::Result<()> {
    let worker = SluiceProcess::start().await?;
    let out = tempfile::tempdir()?;
    let events = events();
    let records: Vec<(Json, Json)> = events
        .iter()
        .enumerate()
        .map(|(index, event)| event.key_and_value(index))
        .collect();
    produce(&worker, TOPIC, &records).await?;

    let formats = ["parquet", "avro", "jsonl"];
    let modes = ["changelog", "upsert"];
    for format in formats {
        for mode in modes {
            let name = format!("{format}-{mode}");
            create_connector(
                &worker,
                &name,
                json!({
                    "connector.class": "file",
                    "topics": TOPIC,
                    "path": out.path().join(&name),
                    "format": format,
                    "mode": mode,
                    "flush.size": "3",
                    "rotate.interval.ms": "200",
                }),
            )
            .await?;
        }
    }
    let next = records.len() as i64;
    for format in formats {
        for mode in modes {
            let name = format!("{format}-{mode}");
            wait_committed(&worker, &name, next).await?;
            let read = read_rows(format, &out.path().join(&name).join(TOPIC))?;
            let readers = read["readers"].as_object().cloned().unwrap_or_default();
            assert!(!readers.is_empty(), "{name}: no reader ran: {read}");
            for (reader, rows) in readers {
                match mode {
                    "changelog" => assert_eq!(
                        sorted_by(&rows, "__offset"),
                        expected_changelog(&events),
                        "{name} read by {reader}"
                    ),
                    _ => assert_eq!(
                        sorted_by(&rows, "id"),
                        expected_table(&events),
                        "{name} read by {reader}"
                    ),
                }
            }
            if mode == "changelog" {
                // The schema change started a new file: old rows' files have no phone column.
                for file in read["files"].as_array().cloned().unwrap_or_default() {
                    let (first, last) = range_of(file["name"].as_str().unwrap_or_default());
                    let has_phone = file["columns"]
                        .as_array()
                        .is_some_and(|c| c.iter().any(|c| c == "phone"));
                    assert!(first >= 0 && last >= first, "{name}: odd file name {file}");
                    assert_eq!(has_phone, first >= 6, "{name}: {file}");
                    assert!(
                        first >= 6 || last < 6,
                        "{name}: a file spans the schema change: {file}"
                    );
                }
            }
        }
    }
    Ok(())
}

/// JSON without schemas: schemaless Debezium envelopes (maps) and unwrapped rows go to JSON
/// lines.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemaless_events_become_json_lines() -> anyhow::Result<()> {
    let worker = SluiceProcess::start().await?;
    let out = tempfile::tempdir()?;
    let topic = "plain.customers";
    let envelope = |op: &str, id: i64, email: &str, lsn: i64| {
        let row = json!({"id": id, "email": email});
        let (before, after) = if op == "d" {
            (row, Json::Null)
        } else {
            (Json::Null, row)
        };
        json!({"before": before, "after": after, "op": op, "ts_ms": 1000 + lsn,
               "source": {"file": "mysql-bin.000003", "pos": lsn, "ts_ms": 500 + lsn}})
    };
    let records = vec![
        (json!({"id": 1}), envelope("c", 1, "a@x", 10)),
        (json!({"id": 2}), envelope("c", 2, "b@x", 20)),
        (json!({"id": 1}), envelope("u", 1, "a@y", 30)),
        (json!({"id": 2}), envelope("d", 2, "b@x", 40)),
        (json!({"id": 2}), Json::Null),
    ];
    produce(&worker, topic, &records).await?;
    for mode in ["changelog", "upsert"] {
        create_connector(
            &worker,
            &format!("plain-{mode}"),
            json!({
                "connector.class": "io.sluice.connector.file.FileSinkConnector",
                "topics": topic,
                "path": out.path().join(mode),
                "format": "jsonl",
                "mode": mode,
                "rotate.interval.ms": "100",
                "key.converter.schemas.enable": "false",
                "value.converter.schemas.enable": "false",
            }),
        )
        .await?;
    }
    wait_committed(&worker, "plain-changelog", 5).await?;
    wait_committed(&worker, "plain-upsert", 5).await?;

    let changelog = read_rows("jsonl", &out.path().join("changelog").join(topic))?;
    let expected: Vec<Json> = [
        ("c", 1, "a@x", 10, 0),
        ("c", 2, "b@x", 20, 1),
        ("u", 1, "a@y", 30, 2),
        ("d", 2, "b@x", 40, 3),
    ]
    .iter()
    .map(|(op, id, email, pos, offset)| {
        json!({"id": id, "email": email, "__op": op, "__ts_ms": 1000 + pos,
                   "__source_ts_ms": 500 + pos, "__position": format!("mysql-bin.000003:{pos}"),
                   "__topic": topic, "__partition": 0, "__offset": offset,
                   "__deleted": *op == "d"})
    })
    .collect();
    for (reader, rows) in changelog["readers"]
        .as_object()
        .cloned()
        .unwrap_or_default()
    {
        assert_eq!(
            sorted_by(&rows, "__offset"),
            expected,
            "changelog by {reader}"
        );
    }
    let upsert = read_rows("jsonl", &out.path().join("upsert").join(topic))?;
    for (reader, rows) in upsert["readers"].as_object().cloned().unwrap_or_default() {
        assert_eq!(
            rows,
            json!([{"id": 1, "email": "a@y"}]),
            "upsert by {reader}"
        );
    }
    Ok(())
}
