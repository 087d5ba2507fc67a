//! MySQL GTID tracking and GTID resume over the real MySQL 8 binlog files described in
//! /work/shared/fixtures/mysql8/FIXTURES.md (read by path, never copied into the repo; these
//! tests fail, never skip, when the directory is missing).
//!
//! No MySQL server runs here, so the server's half of a GTID resume (COM_BINLOG_DUMP_GTID,
//! sending only transactions outside the set) is not exercised; its request bytes are checked
//! in `stream::client`'s unit tests. What runs here is the stream's own logic — group
//! placement ([`GroupTracker`]) and the change builder — over the files' events in order, as
//! the live client hands them on: the executed set it tracks, the offsets it writes, and the
//! transactions it skips when the resume set already holds them.

mod mysql8_dir;

use serde_json::Value as Json;
use sluice_connect::api::SourceRecord;
use sluice_connect::config::Props;
use sluice_mysql::binlog::BinlogReader;
use sluice_mysql::config::Tombstones;
use sluice_mysql::filters::{GtidSourceFilter, TableFilter};
use sluice_mysql::flavour::ConnectorVariant;
use sluice_mysql::offset::{BinlogPosition, SourceOffset};
use sluice_mysql::source_info::SourceBuilder;
use sluice_mysql::stream::changes::{ChangeBuilder, Produced};
use sluice_mysql::stream::client::LiveBody;
use sluice_mysql::stream::groups::GroupTracker;
use sluice_mysql::tables::TableFactory;
use sluice_schemas::Value;

use mysql8_dir::fixture;

const APECLOUD_SID: &str = "76f3e7be-6720-11ed-9cad-0242ac110002";
const ENUM_SID: &str = "93e95066-a2f4-11ec-9b69-9657f0ae95e2";
const ZONGJI_SID: &str = "75029619-787e-11f1-88ef-6acb2cd49b0e";
const ZONGJI: &str = "zongji-mysql84-fullmeta.derived.binlog";

/// What the stream made of one file.
#[derive(Debug, Default)]
struct Walk {
    records: Vec<SourceRecord>,
    /// The builder's boundary offset after each finished group.
    boundaries: Vec<SourceOffset>,
    /// DDL statements handed on, with the offset they carry.
    ddl: Vec<(String, SourceOffset)>,
}

/// Feeds every event of `name` through the stream's group tracker and change builder, as
/// the live client would after asking for `resume`.
fn walk(name: &str, resume: &SourceOffset, props: &[(&str, &str)]) -> Walk {
    let mut config = Props::new();
    config.insert("topic.prefix".into(), "fx".into());
    config.insert(
        "database.include.list".into(),
        "zongji_fixture_capture".into(),
    );
    for (key, value) in props {
        config.insert((*key).into(), (*value).into());
    }
    let source = SourceBuilder::new(ConnectorVariant::MySql, "fx");
    let tables = TableFactory::new("fx", &config, source.schema().clone()).expect("tables");
    let mut builder = ChangeBuilder::new(
        SourceOffset::partition("fx"),
        tables,
        TableFilter::from_props(&config).expect("filter"),
        source,
        Tombstones::Emit,
        false,
        resume,
    )
    .with_gtid_source_filter(GtidSourceFilter::from_props(&config).expect("gtid filter"));
    let mut groups = GroupTracker::new(resume.group.clone());
    let mut out = Walk::default();
    let reader = BinlogReader::open(fixture(name)).unwrap_or_else(|e| panic!("open {name}: {e}"));
    for event in reader {
        let event = event.unwrap_or_else(|e| panic!("read {name}: {e}"));
        let header = event.header;
        let span = groups.span(
            header.type_code,
            u64::from(header.event_size),
            u64::from(header.log_pos),
        );
        let Some(body) = LiveBody::from_binlog(event.body) else {
            continue;
        };
        let live = groups.place(body, span, header.timestamp, header.server_id);
        let ends_group = live.ends_group;
        match builder.handle(live, &mut out.records).expect("handle") {
            Produced::Ddl(ddl) | Produced::Truncate(ddl) => out.ddl.push((ddl.query, ddl.offset)),
            Produced::Nothing => {}
        }
        if ends_group {
            out.boundaries.push(builder.boundary().clone());
        }
    }
    out
}

fn from_start(file: &str, gtids: Option<String>) -> SourceOffset {
    SourceOffset::at(BinlogPosition::new(file, 4), gtids)
}

fn gtids_of(offsets: &[SourceOffset]) -> Vec<Option<String>> {
    offsets.iter().map(|o| o.gtids.clone()).collect()
}

/// Each record as (op or "tombstone", the `gtids` of its offset, its GTID in `source`).
fn summary(records: &[SourceRecord]) -> Vec<(String, String, String)> {
    records
        .iter()
        .map(|record| {
            let gtids = match record.source_offset.get("gtids") {
                Some(Json::String(text)) => text.clone(),
                _ => String::new(),
            };
            let Value::Struct(envelope) = &record.value.value else {
                return ("tombstone".into(), gtids, String::new());
            };
            let text = |value: Option<&Value>| match value {
                Some(Value::String(text)) => text.to_string(),
                other => format!("{other:?}"),
            };
            let gtid = match envelope.get("source") {
                Some(Value::Struct(source)) => text(source.get("gtid")),
                other => format!("{other:?}"),
            };
            (text(envelope.get("op")), gtids, gtid)
        })
        .collect()
}

#[test]
fn apecloud_set_starts_from_previous_gtids_and_grows_per_commit() {
    let walk = walk(
        "apecloud-mysql-bin.000057",
        &from_start("mysql-bin.000057", None),
        &[],
    );
    let set = |last: u64| Some(format!("{APECLOUD_SID}:1-{last}"));
    // GTID 11 is `create table b` (standalone), 12 and 13 are compressed transactions.
    assert_eq!(gtids_of(&walk.boundaries), [set(11), set(12), set(13)]);
    let ends: Vec<u64> = walk.boundaries.iter().map(|b| b.group.pos).collect();
    // Each boundary is where the next group starts: the DDL ends at 378, the payloads at
    // 457 + 194 and 730 + 553 (end of file).
    assert_eq!(ends, [378, 651, 1283]);
    // The DDL carries its group's start and the set before it.
    let [(query, offset)] = &walk.ddl[..] else {
        panic!("one DDL: {:?}", walk.ddl)
    };
    assert_eq!(query, "create table b(id int)");
    assert_eq!((offset.group.pos, offset.gtids.clone()), (197, set(10)));
}

#[test]
fn enum_fixture_set_starts_empty_and_counts_five_transactions() {
    let walk = walk(
        "rmc-mysql-enum-string-set.000001",
        &from_start("mysql-bin.000001", None),
        &[],
    );
    let expected: Vec<_> = [
        format!("{ENUM_SID}:1"),
        format!("{ENUM_SID}:1-2"),
        format!("{ENUM_SID}:1-3"),
        format!("{ENUM_SID}:1-4"),
        format!("{ENUM_SID}:1-5"),
    ]
    .into_iter()
    .map(Some)
    .collect();
    assert_eq!(gtids_of(&walk.boundaries), expected);
}

#[test]
fn without_a_known_set_no_partial_set_is_written() {
    // The derived zongji file has no PREVIOUS_GTIDS: GTIDs 105..109 alone would be a
    // partial set (a resume from it would make the server resend 1..104).
    let walk = walk(ZONGJI, &from_start("mysql-bin.000002", None), &[]);
    assert_eq!(walk.boundaries.len(), 5);
    assert!(gtids_of(&walk.boundaries).iter().all(Option::is_none));
    assert!(
        walk.records
            .iter()
            .all(|r| !r.source_offset.contains_key("gtids"))
    );
    assert_eq!(walk.records.len(), 7, "{:?}", summary(&walk.records));
}

#[test]
fn zongji_records_carry_the_set_before_their_transaction() {
    let stored = format!("{ZONGJI_SID}:1-104");
    let walk = walk(ZONGJI, &from_start("mysql-bin.000002", Some(stored)), &[]);
    let set = |last: u64| format!("{ZONGJI_SID}:1-{last}");
    let gtid = |n: u64| format!("{ZONGJI_SID}:{n}");
    assert_eq!(
        gtids_of(&walk.boundaries),
        (105..=109).map(|n| Some(set(n))).collect::<Vec<_>>()
    );
    // Only the last record of a rows event carries the offset (the runtime stores the
    // newest offset of a batch, and batches end between events); `before` 0: no offset.
    // GTID 107's one row is a primary-key change: delete, tombstone, create.
    let expected: Vec<(String, String, String)> = [
        ("c", 105, 106),
        ("d", 0, 107),
        ("tombstone", 0, 0),
        ("c", 106, 107),
        ("d", 0, 108),
        ("tombstone", 107, 0),
        ("c", 108, 109),
    ]
    .into_iter()
    .map(|(op, before, n)| {
        let source_gtid = if n == 0 { String::new() } else { gtid(n) };
        let before = if before == 0 {
            String::new()
        } else {
            set(before)
        };
        (op.to_owned(), before, source_gtid)
    })
    .collect();
    assert_eq!(summary(&walk.records), expected);
    assert_eq!(walk.ddl.len(), 1, "CREATE TABLE of GTID 105");
}

#[test]
fn resuming_with_the_first_n_gtids_skips_exactly_those_transactions() {
    // Rows per transaction: 105 DDL, 106 insert (1), 107 key change (3), 108 delete (2),
    // 109 insert (1).
    let records_after = |n: u64| -> usize {
        [(106, 1), (107, 3), (108, 2), (109, 1)]
            .iter()
            .filter(|(gno, _)| *gno > 104 + n)
            .map(|(_, count)| count)
            .sum()
    };
    for n in 0..=5u64 {
        let stored = format!("{ZONGJI_SID}:1-{}", 104 + n);
        // Resume from the file's start: only the set can tell what was emitted.
        let walk = walk(ZONGJI, &from_start("mysql-bin.000002", Some(stored)), &[]);
        assert_eq!(
            walk.records.len(),
            records_after(n),
            "first {n} GTIDs executed"
        );
        assert_eq!(
            walk.ddl.len(),
            usize::from(n == 0),
            "first {n} GTIDs executed"
        );
        for (_, _, gtid) in summary(&walk.records) {
            if let Some(gno) = gtid.rsplit(':').next().and_then(|g| g.parse::<u64>().ok()) {
                assert!(gno > 104 + n, "{gtid} was in the resume set");
            }
        }
        // The set keeps growing past what was skipped.
        let last = walk.boundaries.last().and_then(|b| b.gtids.clone());
        assert_eq!(last, Some(format!("{ZONGJI_SID}:1-109")));
    }
}

#[test]
fn a_partial_transaction_resumes_after_its_emitted_rows() {
    let full = walk(
        ZONGJI,
        &from_start("mysql-bin.000002", Some(format!("{ZONGJI_SID}:1-104"))),
        &[],
    );
    // Transaction 107 (the key change, one row → delete, tombstone, create) starts where
    // 106 ended. A crash after its row 0 was emitted stores event 0, row 1.
    let start_of_107 = full.boundaries[1].group.clone();
    let mut stored = SourceOffset::at(start_of_107, Some(format!("{ZONGJI_SID}:1-106")));
    stored.row = 1;
    let resumed = walk(ZONGJI, &stored, &[]);
    let ops: Vec<String> = summary(&resumed.records)
        .into_iter()
        .map(|(op, _, _)| op)
        .collect();
    assert_eq!(ops, ["d", "tombstone", "c"], "only 108 and 109 remain");
    // Stored at row 0 instead, the whole of 107 comes again.
    stored.row = 0;
    assert_eq!(walk(ZONGJI, &stored, &[]).records.len(), 6);
}

#[test]
fn gtid_source_excludes_apply_to_mysql_server_uuids() {
    let stored = format!("{ZONGJI_SID}:1-104");
    let excluded = walk(
        ZONGJI,
        &from_start("mysql-bin.000002", Some(stored.clone())),
        &[("gtid.source.excludes", "75029619-787e-.*")],
    );
    assert!(excluded.records.is_empty());
    // Their GTIDs still count as executed.
    let last = excluded.boundaries.last().and_then(|b| b.gtids.clone());
    assert_eq!(last, Some(format!("{ZONGJI_SID}:1-109")));
    let included = walk(
        ZONGJI,
        &from_start("mysql-bin.000002", Some(stored)),
        &[(
            "gtid.source.includes",
            "75029619-787e-11f1-88ef-6acb2cd49b0e",
        )],
    );
    assert_eq!(included.records.len(), 7);
}
