//! Reads the real MySQL 8 binlog files described in /work/shared/fixtures/mysql8/FIXTURES.md
//! and checks the events and values that document lists. The files are not part of the repo;
//! these tests fail (never skip) when the fixture directory is missing.

mod mysql8_dir;

use serde_json::json;
use sluice_mysql::binlog::{
    BinlogEvent, BinlogReader, Cell, ChecksumAlgorithm, ColumnType, Date, EventBody, EventOrigin,
    FileOffset, GtidEvent, GtidKind, JsonPatch, JsonPatchOp, RowsEvent, RowsKind, TableMap,
};

use mysql8_dir::fixture;

fn read_all(name: &str) -> Vec<BinlogEvent> {
    BinlogReader::open(fixture(name))
        .unwrap_or_else(|e| panic!("open {name}: {e}"))
        .collect::<Result<Vec<_>, _>>()
        .unwrap_or_else(|e| panic!("read {name}: {e}"))
}

fn top_level_types(events: &[BinlogEvent]) -> Vec<(u64, u8)> {
    events
        .iter()
        .filter_map(|e| match e.origin {
            EventOrigin::File(FileOffset(at)) => Some((at, e.header.type_code)),
            EventOrigin::TransactionPayload(_) => None,
        })
        .collect()
}

fn count(events: &[BinlogEvent], type_code: u8) -> usize {
    events
        .iter()
        .filter(|e| e.header.type_code == type_code)
        .count()
}

fn gtids(events: &[BinlogEvent]) -> Vec<GtidEvent> {
    events
        .iter()
        .filter_map(|e| match &e.body {
            EventBody::Gtid(g) => Some(*g),
            _ => None,
        })
        .collect()
}

fn rows(events: &[BinlogEvent]) -> Vec<&RowsEvent> {
    events
        .iter()
        .filter_map(|e| match &e.body {
            EventBody::Rows(r) => Some(r),
            _ => None,
        })
        .collect()
}

fn table_maps(events: &[BinlogEvent]) -> Vec<&TableMap> {
    events
        .iter()
        .filter_map(|e| match &e.body {
            EventBody::TableMap(t) => Some(t),
            _ => None,
        })
        .collect()
}

fn queries(events: &[BinlogEvent], type_code: u8) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match &e.body {
            EventBody::Query { query, .. } if type_code == 2 => Some(query.clone()),
            EventBody::RowsQuery { query } if type_code == 29 => Some(query.clone()),
            _ => None,
        })
        .collect()
}

fn fde(events: &[BinlogEvent]) -> (String, ChecksumAlgorithm) {
    match &events[0].body {
        EventBody::FormatDescription {
            server_version,
            checksum,
        } => (server_version.clone(), *checksum),
        other => panic!("first event is not an FDE: {other:?}"),
    }
}

fn bytes(text: &str) -> Cell {
    Cell::Bytes(text.as_bytes().to_vec())
}

fn after(change: &RowsEvent, row: usize) -> &[Cell] {
    change.rows[row].after.as_deref().expect("after image")
}

fn before(change: &RowsEvent, row: usize) -> &[Cell] {
    change.rows[row].before.as_deref().expect("before image")
}

#[test]
fn apecloud_gtids_and_zstd_transaction_payloads() {
    let events = read_all("apecloud-mysql-bin.000057");
    assert_eq!(
        fde(&events),
        ("8.0.31".to_owned(), ChecksumAlgorithm::Crc32)
    );
    assert_eq!(
        top_level_types(&events),
        [
            (4, 15),
            (126, 35),
            (197, 33),
            (274, 2),
            (378, 33),
            (457, 40),
            (651, 33),
            (730, 40)
        ]
    );
    let EventBody::PreviousGtids(previous) = &events[1].body else {
        panic!("{:?}", events[1])
    };
    assert_eq!(
        previous.to_string(),
        "76f3e7be-6720-11ed-9cad-0242ac110002:1-10"
    );
    let gtids = gtids(&events);
    let names: Vec<String> = gtids.iter().map(|g| g.gtid.to_string()).collect();
    assert_eq!(
        names,
        [11, 12, 13].map(|n| format!("76f3e7be-6720-11ed-9cad-0242ac110002:{n}"))
    );
    assert!(gtids.iter().all(|g| g.kind == GtidKind::Assigned));
    assert_eq!(
        gtids
            .iter()
            .map(|g| (g.last_committed, g.sequence_number))
            .collect::<Vec<_>>(),
        [(0, 1), (1, 2), (2, 3)]
    );
    assert!(gtids.iter().all(|g| g.immediate_commit_timestamp_us
        == g.original_commit_timestamp_us
        && g.immediate_commit_timestamp_us > 1_668_000_000_000_000));

    let payloads: Vec<_> = events
        .iter()
        .filter_map(|e| match e.body {
            EventBody::TransactionPayload {
                uncompressed_size, ..
            } => Some(uncompressed_size),
            _ => None,
        })
        .collect();
    assert_eq!(payloads, [214, 1255]);
    let inner: Vec<_> = events
        .iter()
        .filter(|e| matches!(e.origin, EventOrigin::TransactionPayload(_)))
        .collect();
    assert_eq!(
        inner.len(),
        2 + 2 + 3 + 3 + 2 + 1,
        "QUERY, XID, TABLE_MAP, ROWS_QUERY, WRITE, UPDATE"
    );
    let first_payload: Vec<u8> = inner
        .iter()
        .filter(|e| e.origin == EventOrigin::TransactionPayload(FileOffset(457)))
        .map(|e| e.header.type_code)
        .collect();
    assert_eq!(
        first_payload,
        [2, 29, 19, 30, 16],
        "BEGIN, ROWS_QUERY, TABLE_MAP, WRITE, XID"
    );
    assert_eq!(count(&events, 16), 2);
    assert_eq!(count(&events, 19), 3);

    assert_eq!(
        queries(&events, 29),
        [
            "insert into b values(1)".to_owned(),
            "update test_table_3 set enum_field='large', set_field='c', \nproduct_item_2='product_3_value' where product_id=55555".to_owned(),
            "insert into test_table_3 values(6666, 'product_item_value_2', now(), 111, \n'description_1', now(), 'large', 'd', 'b3', '{\"c\": 1}', 'product_item_2_value',\nnow(), now(), 2222, 'description_3_value', now(), now(), 222, 'description_4_value',\nnow())".to_owned(),
        ]
    );
    let maps = table_maps(&events);
    assert_eq!(
        (maps[0].schema.as_str(), maps[0].table.as_str()),
        ("a", "b")
    );
    assert_eq!(maps[1].table, "test_table_3");
    assert_eq!(maps[1].columns.len(), 20);
    assert_eq!(
        maps[1].column_names(),
        None,
        "MINIMAL metadata carries no names"
    );
    assert_eq!(maps[1].columns[6].column_type, ColumnType::MYSQL_TYPE_ENUM);
    assert_eq!(maps[1].columns[7].column_type, ColumnType::MYSQL_TYPE_SET);
    assert_eq!(maps[1].columns[0].unsigned, Some(false));

    let rows = rows(&events);
    assert_eq!(rows[0].kind, RowsKind::Insert);
    assert_eq!(after(rows[0], 0), [Cell::Int(1)]);
    let update = rows[1];
    assert_eq!(update.kind, RowsKind::Update);
    let (old, new) = (before(update, 0), after(update, 0));
    assert_eq!(old[0], Cell::Int(55555));
    assert_eq!(
        old[2],
        Cell::Date(Date {
            year: 2022,
            month: 11,
            day: 20
        })
    );
    assert_eq!(
        old[5],
        Cell::Timestamp {
            seconds: 1_668_951_630,
            micros: 0
        },
        "2022-11-20 13:40:30 UTC"
    );
    assert_eq!((&old[6], &new[6]), (&Cell::Enum(4), &Cell::Enum(4)));
    assert_eq!((&old[7], &new[7]), (&Cell::Set(0b1000), &Cell::Set(0b100)));
    assert_eq!(old[9], Cell::Json(json!({"c": 1})));
    assert_eq!(new[10], bytes("product_3_value"));
    let insert = after(rows[2], 0);
    assert_eq!(insert[0], Cell::Int(6666));
    assert_eq!(insert[1], bytes("product_item_value_2"));
    assert_eq!(
        insert[5],
        Cell::Timestamp {
            seconds: 1_668_952_412,
            micros: 0
        },
        "2022-11-20 13:53:32 UTC"
    );
    assert_eq!(insert[8], bytes("b3"));
    assert_eq!(insert[9], Cell::Json(json!({"c": 1})));
}

fn person(id: i64, age: i64, data: &str, name: &str) -> Vec<Cell> {
    vec![
        Cell::Int(id),
        Cell::Json(json!({"age": age, "data": data, "name": name})),
        bytes(name),
        Cell::Int(age),
    ]
}

#[test]
fn rmc_json_anonymous_gtids_binary_json_and_partial_updates() {
    let events = read_all("rmc-json.binlog.000001");
    assert_eq!(
        fde(&events),
        ("8.0.22".to_owned(), ChecksumAlgorithm::Crc32)
    );
    let EventBody::PreviousGtids(previous) = &events[1].body else {
        panic!("{:?}", events[1])
    };
    assert!(previous.is_empty());
    let gtids = gtids(&events);
    assert_eq!(gtids.len(), 8);
    assert!(
        gtids
            .iter()
            .all(|g| g.kind == GtidKind::Anonymous && g.gtid.gno == 0)
    );
    assert_eq!(
        gtids.iter().map(|g| g.sequence_number).collect::<Vec<_>>(),
        (1..=8).collect::<Vec<_>>()
    );
    for (code, expected) in [
        (2, 8),
        (16, 6),
        (19, 6),
        (30, 4),
        (31, 1),
        (34, 8),
        (35, 1),
        (39, 1),
    ] {
        assert_eq!(count(&events, code), expected, "events of type {code}");
    }
    let map = table_maps(&events)[0];
    assert_eq!((map.schema.as_str(), map.table.as_str()), ("mysql", "t"));
    let types: Vec<_> = map.columns.iter().map(|c| c.column_type).collect();
    use ColumnType::*;
    assert_eq!(
        types,
        [
            MYSQL_TYPE_LONG,
            MYSQL_TYPE_JSON,
            MYSQL_TYPE_VARCHAR,
            MYSQL_TYPE_LONG
        ]
    );

    let people = [
        ("Joe", 24, "xxxxxxxxxx"),
        ("Sue", 32, "yyyyyyyyyy"),
        ("Pete", 40, "zzzzzzzzzz"),
    ];
    let rows = rows(&events);
    let inserted: Vec<&[Cell]> = rows[..4]
        .iter()
        .flat_map(|r| r.rows.iter().map(|c| c.after.as_deref().expect("after")))
        .collect();
    assert_eq!(inserted.len(), 6);
    for (i, row) in inserted.iter().enumerate() {
        let (name, age, data) = people[i % 3];
        assert_eq!(
            *row,
            person(i as i64 + 1, age, data, name).as_slice(),
            "insert {i}"
        );
    }

    let update = rows[4];
    assert_eq!((update.kind, update.rows.len()), (RowsKind::Update, 6));
    for (i, change) in update.rows.iter().enumerate() {
        let (name, age, data) = people[i % 3];
        let id = i as i64 + 1;
        assert_eq!(
            change.before.as_deref(),
            Some(person(id, age, data, name).as_slice())
        );
        assert_eq!(
            change.after.as_deref(),
            Some(person(id, age + 1, data, name).as_slice())
        );
    }

    let partial = rows[5];
    assert_eq!(
        (partial.kind, partial.rows.len()),
        (RowsKind::PartialUpdate, 6)
    );
    for (i, change) in partial.rows.iter().enumerate() {
        let (name, age, _) = people[i % 3];
        let new_age = age + 2;
        assert_eq!(
            change.before.as_deref(),
            Some(
                [
                    Cell::Int(i as i64 + 1),
                    Cell::Absent,
                    Cell::Absent,
                    Cell::Absent
                ]
                .as_slice()
            ),
            "MINIMAL before image holds only the PK"
        );
        let diff = JsonPatch {
            operation: JsonPatchOp::Replace,
            path: "$.age".into(),
            value: Some(json!(new_age)),
        };
        assert_eq!(
            change.after.as_deref(),
            Some(
                [
                    Cell::Absent,
                    Cell::JsonDiff(vec![diff]),
                    bytes(name),
                    Cell::Int(new_age)
                ]
                .as_slice()
            )
        );
    }
}

#[test]
fn rmc_json_opaque_values_and_full_metadata_column_name() {
    let events = read_all("rmc-json-opaque.binlog");
    assert_eq!(fde(&events).0, "9.0.1");
    assert_eq!(count(&events, 34), 3);
    assert_eq!(count(&events, 16), 1);
    let maps = table_maps(&events);
    assert_eq!(maps.len(), 8);
    assert!(maps.iter().all(|m| m.schema == "foo" && m.table == "test"));
    assert_eq!(maps[0].column_names(), Some(vec!["a"]));
    let values: Vec<Cell> = rows(&events)
        .iter()
        .map(|r| after(r, 0)[0].clone())
        .collect();
    let expected = [
        json!({"a": "base64:type15:VQ=="}),
        json!({"b": "2012-03-18"}),
        json!({"c": "2012-03-18 11:30:45.000000"}),
        json!({"c": "87:31:46.654321"}),
        json!({"d": "123.456"}),
        json!({"e": "9.00"}),
        json!({"e": [0, 1, true, false]}),
        json!({"e": null}),
    ];
    assert_eq!(values, expected.map(Cell::Json));
}

#[test]
fn rmc_enum_set_strings_and_long_char_column() {
    let events = read_all("rmc-mysql-enum-string-set.000001");
    assert_eq!(fde(&events).0, "8.0.28");
    let names: Vec<String> = gtids(&events).iter().map(|g| g.gtid.to_string()).collect();
    assert_eq!(
        names,
        (1..=5)
            .map(|n| format!("93e95066-a2f4-11ec-9b69-9657f0ae95e2:{n}"))
            .collect::<Vec<_>>()
    );
    let map = table_maps(&events)[0];
    assert_eq!(map.column_names(), Some(vec!["f1", "f2", "f3", "f4", "f5"]));
    assert_eq!(map.columns[2].enum_values, ["var1", "variant2", "foo"]);
    assert_eq!(map.columns[3].set_values, ["one", "two", "three", "four"]);
    assert_eq!(map.columns[0].column_type, ColumnType::MYSQL_TYPE_STRING);

    let rows = rows(&events);
    assert_eq!(
        rows.iter().map(|r| r.kind).collect::<Vec<_>>(),
        [RowsKind::Insert, RowsKind::Update, RowsKind::Delete]
    );
    let inserted = after(rows[0], 0);
    let digits = "0123456789".repeat(10);
    assert_eq!(inserted[0], bytes(&digits));
    // FIXTURES.md says "300 characters"; the string actually written (upstream test data) is
    // 298 digits long — the file's bytes hold 298, checked independently with a regex scan.
    assert_eq!(inserted[1].as_utf8().map(str::len), Some(298));
    assert_eq!(
        inserted[2..],
        [Cell::Enum(1), Cell::Set(0b101), bytes("0123456789")]
    );
    let updated = after(rows[1], 0);
    assert_eq!(before(rows[1], 0), inserted);
    assert_eq!(
        updated[..4],
        [
            bytes("field1"),
            bytes("field_2"),
            Cell::Enum(2),
            Cell::Set(0b1010)
        ]
    );
    assert_eq!(updated[4], inserted[1], "f5 gets the same 298-digit text");
    assert_eq!(
        before(rows[2], 0),
        updated,
        "the DELETE removes the updated row"
    );
}

#[test]
fn zongji_full_metadata_and_every_column_type() {
    let events = read_all("zongji-mysql84-fullmeta.derived.binlog");
    assert_eq!(fde(&events), ("8.4.8".to_owned(), ChecksumAlgorithm::Crc32));
    let gnos: Vec<u64> = gtids(&events).iter().map(|g| g.gtid.gno).collect();
    assert_eq!(gnos, [105, 106, 107, 108, 109]);
    assert_eq!(
        gtids(&events)[0].gtid.sid.to_string(),
        "75029619-787e-11f1-88ef-6acb2cd49b0e"
    );
    assert_eq!(
        queries(&events, 29),
        ["INSERT INTO capture_types (id) VALUES (3)"]
    );
    let last = events.last().expect("events");
    assert_eq!(
        last.body,
        EventBody::Rotate {
            next_file: "mysql-bin.000003".into(),
            position: 4
        }
    );
    assert_eq!(last.origin, EventOrigin::File(FileOffset(4203)));

    let map = table_maps(&events)[0];
    assert_eq!(
        (map.schema.as_str(), map.table.as_str()),
        ("zongji_fixture_capture", "capture_types")
    );
    let names = map.column_names().expect("FULL metadata has names");
    assert_eq!(names.len(), 26);
    assert_eq!(names[..4], ["id", "i_big", "u_big", "dec_col"]);
    assert_eq!(names[25], "vc_ucs2");
    assert_eq!(map.primary_key, [0]);
    assert_eq!(map.columns[2].unsigned, Some(true));
    assert_eq!(map.columns[1].unsigned, Some(false));
    assert_eq!(map.columns[18].enum_values, ["a,b", "c'd", "plain"]);
    assert_eq!(map.columns[19].set_values, ["x", "y", "z"]);
    assert_eq!(map.columns[22].geometry_type, Some(0), "GEOMETRY");

    let rows = rows(&events);
    let first = after(rows[0], 0);
    let expected = [
        Cell::Int(1),
        Cell::Int(i64::MAX),
        Cell::UInt(u64::MAX),
        Cell::Decimal("-12345678901234567.0123456789".into()),
        bytes("héllo wörld"),
        bytes("abc"),
        Cell::Bytes(vec![0xde, 0xad, 0xbe, 0xef]),
        Cell::Bytes(vec![1, 2]),
        bytes("text value"),
        Cell::Bytes(vec![0xca, 0xfe]),
        Cell::Float(1.25),
        Cell::Double(-2.5),
        Cell::DateTime {
            date: Date {
                year: 2024,
                month: 6,
                day: 15,
            },
            hour: 12,
            minute: 34,
            second: 56,
            micros: 789_000,
        },
        Cell::Timestamp {
            seconds: 1_718_454_896,
            micros: 0,
        },
        Cell::Date(Date {
            year: 2024,
            month: 6,
            day: 15,
        }),
        Cell::Time {
            negative: true,
            hours: 1,
            minute: 2,
            second: 3,
            micros: 500_000,
        },
        Cell::Year(2024),
        Cell::Enum(2),
        Cell::Enum(2),
        Cell::Set(0b101),
        Cell::Bit(0b10_0000_0001),
        Cell::Json(
            json!({"a": 1, "big": 9_223_372_036_854_775_807_i64, "arr": ["x", true, null], "d": 1.5}),
        ),
        Cell::Bytes(
            [
                &[0u8; 4][..],
                &[1, 1, 0, 0, 0],
                &1.0f64.to_le_bytes(),
                &2.0f64.to_le_bytes(),
            ]
            .concat(),
        ),
        Cell::Bytes(b"caf\xe9 \xf1".to_vec()),
        Cell::Bytes(vec![0x9f, 0x80, 0x20, 0x73, 0x65, 0xf1, 0x6f, 0x72]),
        Cell::Bytes("héllo".encode_utf16().flat_map(u16::to_be_bytes).collect()),
    ];
    assert_eq!(first, expected);

    // NOBLOB images leave out txt, blb and txt_latin1.
    let blobs = [8, 9, 23];
    let update = rows[1];
    assert_eq!(update.kind, RowsKind::Update);
    let (old, new) = (before(update, 0), after(update, 0));
    for (i, cell) in expected.iter().enumerate() {
        let want = if blobs.contains(&i) {
            &Cell::Absent
        } else {
            cell
        };
        assert_eq!(&old[i], want, "before image column {}", names[i]);
    }
    assert_eq!((&new[0], &new[4]), (&Cell::Int(2), &bytes("updated")));
    assert_eq!(
        before(rows[2], 0),
        new,
        "the DELETE removes the updated row"
    );
    let last_insert = after(rows[3], 0);
    assert_eq!(last_insert[0], Cell::Int(3));
    for (i, cell) in last_insert.iter().enumerate().skip(1) {
        let want = if blobs.contains(&i) {
            Cell::Absent
        } else {
            Cell::Null
        };
        assert_eq!(*cell, want, "column {}", names[i]);
    }
}

/// The upstream capture: COM_BINLOG_DUMP packets (OK byte + event). Re-framed as a file, the
/// events 1..=25 are exactly the derived binlog, and packets 27-28 carry the next file's
/// FDE and its PREVIOUS_GTIDS.
#[test]
fn zongji_captured_packets_match_the_derived_file_and_carry_previous_gtids() {
    let text =
        std::fs::read_to_string(fixture("zongji-binlog-mysql84-fullmeta.json")).expect("read json");
    let doc: serde_json::Value = serde_json::from_str(&text).expect("parse json");
    let packets: Vec<Vec<u8>> = doc["packets"]
        .as_array()
        .expect("packets array")
        .iter()
        .map(|hex| {
            let hex = hex.as_str().expect("hex string");
            (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
                .collect()
        })
        .collect();
    assert_eq!(packets.len(), 29);
    assert!(
        packets.iter().all(|p| p[0] == 0),
        "every packet starts with the OK byte"
    );
    let as_file = |range: std::ops::RangeInclusive<usize>| {
        let mut file = b"\xfebin".to_vec();
        for packet in &packets[range] {
            file.extend_from_slice(&packet[1..]);
        }
        file
    };
    let derived =
        std::fs::read(fixture("zongji-mysql84-fullmeta.derived.binlog")).expect("read derived");
    assert_eq!(as_file(1..=25), derived);

    let next_file = as_file(27..=28);
    let events: Vec<_> = BinlogReader::new(&next_file[..], "packets 27-28")
        .expect("magic")
        .collect::<Result<_, _>>()
        .expect("decode");
    let EventBody::PreviousGtids(set) = &events[1].body else {
        panic!("{:?}", events[1])
    };
    assert_eq!(
        set.to_string(),
        "75029619-787e-11f1-88ef-6acb2cd49b0e:1-109"
    );

    // The artificial ROTATE the server sends first (packet 0) decodes on its own too.
    let fde_then_rotate: Vec<u8> = [&b"\xfebin"[..], &packets[1][1..], &packets[0][1..]].concat();
    let events: Vec<_> = BinlogReader::new(&fde_then_rotate[..], "packets 1,0")
        .expect("magic")
        .collect::<Result<_, _>>()
        .expect("decode");
    assert!(
        matches!(&events[1].body, EventBody::Rotate { next_file, .. } if next_file == "mysql-bin.000002")
    );
    assert_eq!(
        events[1].header.flags & 0x20,
        0x20,
        "LOG_EVENT_ARTIFICIAL_F"
    );
}
