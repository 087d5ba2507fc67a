//! Benchmark: the PostgreSQL source's own per-row work, alone in one process — no database,
//! no runtime — for the benchmark table of `snapshot_bench` / `drain_bench` (`orders`: bigint
//! key, varchar, numeric(10,2), timestamp(3), varchar):
//!
//! - (s) snapshot: COPY text lines → `op` `r` records ([`TableRows::record`]: cells, row and
//!   key structs, the shared `source` block, position, envelope; the offset is given only to
//!   each chunk's last record, by the snapshot's writer, outside this stage);
//! - (d) stream: pgoutput Insert messages → `op` `c` records (decode, cells, structs, a
//!   `source` block per change, an offset on the last record of each flush), as the
//!   streamer builds them.
//!
//! `cargo run --release -p sluice-postgres --example row_stages_bench [rows [s|d]]` (default
//! 200000 rows, both stages; `s` or `d` runs one). Each stage prints its wall time and the building thread's CPU time per row. As in
//! the real pipeline, records leave in chunks of 512 for another thread, which drops them
//! (the converter frees what the reader allocated): holding every record until the end would
//! add page faults the pipeline does not have. Small and deterministic, so it also suits
//! `valgrind --tool=callgrind`.

use std::sync::mpsc::{SyncSender, sync_channel};
use std::time::{Duration, Instant};

use sluice_connect::api::{SharedOffsetMap, SourceRecord};
use sluice_connect::config::Props;
use sluice_postgres::config::PostgresConfig;
use sluice_postgres::events::{EventFactory, Placement, SourceFacts};
use sluice_postgres::lsn::Lsn;
use sluice_postgres::offsets::StreamPoint;
use sluice_postgres::pgoutput::{self, Message};
use sluice_postgres::snapshot_rows::{TablePlace, TableRows};
use sluice_postgres::table::{Cell, RowBuffer, TableColumn, TableMapping};
use sluice_postgres::tables::CapturedTable;
use sluice_postgres::types::{ColumnFilter, TypeCatalog, TypeOptions};
use sluice_schemas::envelope::{EpochNanos, Op};
use sluice_schemas::source::SnapshotMarker;

/// The allocator of the real binary (src/main.rs of the root crate): glibc malloc would
/// distort the per-row figures, which are mostly small allocations.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The relation oid the Insert messages name.
const RELATION: u32 = 16_384;

fn main() -> anyhow::Result<()> {
    let rows: u64 = std::env::args()
        .nth(1)
        .map(|n| n.parse())
        .transpose()?
        .unwrap_or(200_000);
    let props: Props = [
        ("database.hostname", "127.0.0.1"),
        ("database.user", "bench"),
        ("database.dbname", "bench"),
        ("topic.prefix", "dbserver1"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let config = PostgresConfig::from_props(&props)?;
    let factory = EventFactory::new(&config);
    let mapping = orders_mapping(&factory)?;
    let lines: Vec<String> = (1..=rows).map(copy_line).collect();
    let stage = std::env::args().nth(2);
    if stage.as_deref() != Some("d") {
        snapshot_rows(&factory, &mapping, &lines)?;
    }
    if stage.as_deref() != Some("s") {
        streamed_inserts(&factory, &mapping, &lines)?;
    }
    Ok(())
}

/// (s) Snapshot rows.
fn snapshot_rows(
    factory: &EventFactory,
    mapping: &TableMapping,
    lines: &[String],
) -> anyhow::Result<()> {
    let table = CapturedTable {
        oid: RELATION,
        schema: "public".into(),
        name: "orders".into(),
        has_primary_key: true,
        replica_identity: 'd',
        has_identity_index: false,
        estimated_rows: Some(lines.len() as u64),
    };
    let place = TablePlace {
        slot_lsn: Lsn(0x1_0000_0000),
        index: 0,
        started_micros: 1_700_000_000_000_000,
        transaction_id: 777,
    };
    let mut builder = TableRows::new(factory, mapping, &table, place)?;
    let mut chunks = Chunks::start();
    // The snapshot reads the clock once per queued chunk.
    let mut processed_at = EpochNanos::now();
    for (row, line) in lines.iter().enumerate() {
        if row % CHUNK == 0 {
            processed_at = EpochNanos::now();
        }
        chunks.push(builder.record(row as u64, line, processed_at)?);
    }
    chunks.report("(s) snapshot: COPY line → record");
    Ok(())
}

/// (d) Streamed inserts, in transactions of 1,000 as drain_bench writes them.
fn streamed_inserts(
    factory: &EventFactory,
    mapping: &TableMapping,
    lines: &[String],
) -> anyhow::Result<()> {
    let messages: Vec<Vec<u8>> = lines.iter().map(|line| insert_message(line)).collect();
    let mut chunks = Chunks::start();
    let mut cells = Vec::new();
    let mut row_values = RowBuffer::default();
    let mut staged = 0;
    for (index, message) in messages.iter().enumerate() {
        let index = index as u64;
        let transaction = index / 1_000;
        let point = StreamPoint {
            commit: Lsn(0x2_0000_0000 + (transaction + 1) * 1_000_000),
            change_lsn: Lsn(0x2_0000_0000 + index * 200),
            xid: 1_000 + transaction as u32,
            commit_micros: 1_700_000_000_000_000 + transaction as i64,
            event_index: index % 1_000,
            flushable: Lsn(0x2_0000_0000 + transaction * 1_000_000),
        };
        let Message::Insert(insert) = pgoutput::decode(message)? else {
            anyhow::bail!("not an insert");
        };
        // As the streamer does: the cells' list and the row's values are kept between rows.
        cells.clear();
        for column in &insert.new.columns {
            cells.push(Cell::try_from(column)?);
        }
        let facts = SourceFacts {
            snapshot: SnapshotMarker::False,
            event_micros: point.commit_micros,
            schema: "public",
            table: "orders",
            tx_id: Some(i64::from(point.xid)),
            lsn: Some(point.change_lsn),
            xmin: None,
            last_commit: Some(Lsn(point.flushable.0.saturating_sub(8))),
        };
        // As the streamer does: the last record of each flush (every 512 records and at
        // each commit) gets the offset, the others none.
        staged += 1;
        let flushed = staged == 512 || point.event_index == 999;
        let offset = if flushed {
            staged = 0;
            point.offset().into()
        } else {
            SharedOffsetMap::empty()
        };
        let placement = Placement {
            offset,
            position: point.position(),
        };
        let (after, key) = mapping.row_and_key_in(&cells, &mut row_values)?;
        chunks.push(factory.change(
            mapping,
            Op::Create,
            key,
            None,
            Some(after),
            &facts,
            None,
            placement,
        )?);
    }
    chunks.report("(d) stream: pgoutput Insert → record");
    Ok(())
}

/// The `orders` table of the end-to-end benches, typed as the catalog describes it.
fn orders_mapping(factory: &EventFactory) -> anyhow::Result<TableMapping> {
    let catalog = TypeCatalog::builtin();
    // Type modifiers as pg_attribute stores them: varchar(n) → n + 4, numeric(p, s) →
    // (p << 16 | s) + 4, timestamp(p) → p.
    let column = |name: &str, oid: u32, modifier: i32, key: bool| TableColumn {
        name: name.to_string(),
        ty: catalog.resolve(oid, modifier),
        optional: !key,
        key,
    };
    let columns = vec![
        column("id", 20, -1, true),
        column("customer", 1043, 44, false),
        column("amount", 1700, ((10 << 16) | 2) + 4, false),
        column("created", 1114, 3, false),
        column("note", 1043, 104, false),
    ];
    Ok(TableMapping::new(
        "dbserver1",
        "public",
        "orders",
        columns,
        &TypeOptions::default(),
        &ColumnFilter::All,
        "__debezium_unavailable_value",
        factory.source_schema(),
    )?)
}

/// Row `g` as `COPY orders TO STDOUT` prints what `common::insert_rows` wrote.
fn copy_line(g: u64) -> String {
    let cents = g % 10_000;
    let seconds = 12 * 3600 + g;
    format!(
        "{g}\tcustomer-{}\t{}.{:02}\t2024-05-{:02} {:02}:{:02}:{:02}.123\t{}",
        g % 977,
        cents / 100,
        cents % 100,
        1 + seconds / 86_400,
        seconds / 3600 % 24,
        seconds / 60 % 60,
        seconds % 60,
        "n".repeat(40)
    )
}

/// A pgoutput Insert of `RELATION` whose text values are the COPY line's fields.
fn insert_message(line: &str) -> Vec<u8> {
    let fields: Vec<&str> = line.split('\t').collect();
    let mut out = vec![b'I'];
    out.extend(RELATION.to_be_bytes());
    out.push(b'N');
    out.extend((fields.len() as u16).to_be_bytes());
    for field in fields {
        out.push(b't');
        out.extend((field.len() as u32).to_be_bytes());
        out.extend(field.as_bytes());
    }
    out
}

/// Records per chunk handed to the dropping thread (the snapshot's queued chunk).
const CHUNK: usize = 512;

/// One timed stage: the records it builds leave in chunks for a thread that drops them.
struct Chunks {
    chunk: Vec<SourceRecord>,
    rows: usize,
    sender: Option<SyncSender<Vec<SourceRecord>>>,
    dropper: Option<std::thread::JoinHandle<()>>,
    started: Instant,
    started_cpu: Duration,
}

impl Chunks {
    fn start() -> Chunks {
        let (sender, receiver) = sync_channel::<Vec<SourceRecord>>(4);
        let dropper = std::thread::spawn(move || receiver.into_iter().for_each(drop));
        Chunks {
            chunk: Vec::with_capacity(CHUNK),
            rows: 0,
            sender: Some(sender),
            dropper: Some(dropper),
            started: Instant::now(),
            started_cpu: thread_cpu(),
        }
    }

    fn push(&mut self, record: SourceRecord) {
        self.chunk.push(record);
        self.rows += 1;
        if self.chunk.len() == CHUNK {
            self.send();
        }
    }

    fn send(&mut self) {
        let chunk = std::mem::replace(&mut self.chunk, Vec::with_capacity(CHUNK));
        if let Some(sender) = &self.sender {
            sender.send(chunk).expect("the dropping thread runs");
        }
    }

    fn report(mut self, stage: &str) {
        self.send();
        let cpu = thread_cpu().saturating_sub(self.started_cpu);
        let took = self.started.elapsed();
        drop(self.sender.take());
        if let Some(dropper) = self.dropper.take() {
            dropper.join().expect("the dropping thread ends");
        }
        let per_row = |d: Duration| d.as_secs_f64() * 1e6 / self.rows.max(1) as f64;
        println!(
            "{stage:<40} {:>7.3} s {:>6.2} µs/row; building thread CPU {:>6.2} µs/row",
            took.as_secs_f64(),
            per_row(took),
            per_row(cpu),
        );
    }
}

/// CPU time of the calling thread so far, from Linux's `/proc/thread-self/schedstat` (its
/// first field is nanoseconds on CPU); zero where that file does not exist.
fn thread_cpu() -> Duration {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|text| text.split_whitespace().next()?.parse().ok())
        .map_or(Duration::ZERO, Duration::from_nanos)
}
