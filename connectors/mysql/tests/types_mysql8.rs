//! The type mapping on real MySQL 8 binlog files (/work/shared/fixtures/mysql8, see its
//! FIXTURES.md for what each file holds): row-image cells → Debezium values → the JSON the
//! converter writes, compared with the values the fixtures document. The files are not part
//! of the repository; these tests fail (never skip) when the directory is missing.

mod mysql8_dir;

use serde_json::{Value as Json, json};
use sluice_mysql::binlog::{BinlogReader, Cell, EventBody, RowsEvent, RowsKind, TableMap};
use sluice_mysql::table::{ColumnFilter, TableColumn, TableMapping};
use sluice_mysql::types::{ColumnType, TypeOptions};
use sluice_schemas::Struct;
use sluice_schemas::json::{JsonConverter, JsonConverterConfig};
use sluice_schemas::source::SourceSchemaBuilder;

use mysql8_dir::fixture;

/// The TABLE_MAPs and rows events of a file, in order.
fn read(name: &str) -> (Vec<TableMap>, Vec<RowsEvent>) {
    let mut maps = Vec::new();
    let mut rows = Vec::new();
    for event in BinlogReader::open(fixture(name)).unwrap_or_else(|e| panic!("open {name}: {e}")) {
        match event.unwrap_or_else(|e| panic!("read {name}: {e}")).body {
            EventBody::TableMap(map) => maps.push(map),
            EventBody::Rows(r) => rows.push(r),
            _ => {}
        }
    }
    (maps, rows)
}

fn mapping(map: &TableMap, opts: &TypeOptions) -> TableMapping {
    let columns = TableColumn::all_from_table_map(map).expect("columns");
    TableMapping::new(
        "fx",
        &map.schema,
        &map.table,
        columns,
        &map.primary_key,
        opts,
        &ColumnFilter::All,
        SourceSchemaBuilder::mysql(),
    )
    .expect("mapping")
}

/// The converter's JSON (schemas.enable=true) of a row struct.
fn to_json(row: &Struct) -> Json {
    let converter = JsonConverter::new(JsonConverterConfig::default());
    let bytes = converter
        .to_bytes(
            Some(row.schema()),
            &sluice_schemas::Value::Struct(row.clone()),
        )
        .expect("convert")
        .expect("not a tombstone");
    serde_json::from_slice(&bytes).expect("valid JSON")
}

fn field_schema<'a>(json: &'a Json, name: &str) -> &'a Json {
    json["schema"]["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .find(|f| f["field"] == name)
        .unwrap_or_else(|| panic!("no field {name}"))
}

#[test]
fn zongji_every_column_type_matches_debezium() {
    let (maps, rows) = read("zongji-mysql84-fullmeta.derived.binlog");
    let map = &maps[0];
    let table = mapping(map, &TypeOptions::default());
    assert_eq!(&**table.topic(), "fx.zongji_fixture_capture.capture_types");
    let first = rows[0].rows[0].after.as_deref().expect("insert image");
    let row = to_json(&table.row_from_binlog(first).expect("row"));
    let expected = json!({
        "id": 1,
        "i_big": 9223372036854775807i64,
        // BIGINT UNSIGNED in the default `long` mode wraps.
        "u_big": -1,
        "dec_col": "meECDqcNWd6S9us=",
        "vc": "héllo wörld",
        "ch": "abc",
        "bin_col": "3q2+7w==",
        "vb": "AQI=",
        "txt": "text value",
        "blb": "yv4=",
        "flt": 1.25,
        "dbl": -2.5,
        "dt": 1718454896789i64,
        "ts": "2024-06-15T12:34:56Z",
        "d": 19889,
        "t": -3723500000i64,
        "y": 2024,
        "e": "b",
        "e2": "c'd",
        "s": "x,z",
        "bt": "AQI=",
        "js": "{\"a\":1,\"d\":1.5,\"arr\":[\"x\",true,null],\"big\":9223372036854775807}",
        "geo": {"wkb": "AQEAAAAAAAAAAADwPwAAAAAAAABA", "srid": null},
        "txt_latin1": "café ñ",
        "vc_latin1": "Ÿ€ señor",
        "vc_ucs2": "héllo",
    });
    assert_eq!(row["payload"], expected, "{:#}", row["payload"]);

    let schema = |name| field_schema(&row, name).clone();
    assert_eq!(
        schema("dec_col"),
        json!({"type": "bytes", "optional": true, "name": "org.apache.kafka.connect.data.Decimal",
               "version": 1, "parameters": {"scale": "10", "connect.decimal.precision": "30"},
               "field": "dec_col"})
    );
    assert_eq!(schema("id")["optional"], false);
    assert_eq!(schema("flt")["type"], "float");
    assert_eq!(schema("dt")["name"], "io.debezium.time.Timestamp");
    assert_eq!(schema("ts")["name"], "io.debezium.time.ZonedTimestamp");
    assert_eq!(schema("t")["name"], "io.debezium.time.MicroTime");
    assert_eq!(schema("d")["name"], "io.debezium.time.Date");
    assert_eq!(schema("y")["name"], "io.debezium.time.Year");
    assert_eq!(
        schema("e2")["parameters"],
        json!({"allowed": "a\\,b,c'd,plain"})
    );
    assert_eq!(schema("s")["name"], "io.debezium.data.EnumSet");
    assert_eq!(schema("bt")["parameters"], json!({"length": "10"}));
    assert_eq!(schema("js")["name"], "io.debezium.data.Json");
    assert_eq!(schema("geo")["name"], "io.debezium.data.geometry.Geometry");

    let key = table
        .key_from_binlog(first)
        .expect("key")
        .expect("a primary key");
    assert_eq!(to_json(&key)["payload"], json!({"id": 1}));

    // UPDATE with a NOBLOB image: the TEXT/BLOB columns are absent and come out null.
    let update = &rows[1];
    assert_eq!(update.kind, RowsKind::Update);
    let change = &update.rows[0];
    let (before, after) = table
        .row_from_binlog_update(
            change.before.as_deref().unwrap(),
            change.after.as_deref().unwrap(),
        )
        .expect("update");
    let (before, after) = (to_json(&before), to_json(&after));
    assert_eq!(before["payload"]["id"], 1);
    assert_eq!(after["payload"]["id"], 2);
    assert_eq!(after["payload"]["vc"], "updated");
    assert_eq!(after["payload"]["txt"], Json::Null);
    assert_eq!(after["payload"]["dt"], 1718454896789i64);

    // The last INSERT sets only the id: every other column is null.
    let last = rows[3].rows[0].after.as_deref().unwrap();
    let last = to_json(&table.row_from_binlog(last).expect("row"));
    let payload = last["payload"].as_object().unwrap();
    assert_eq!(payload["id"], 3);
    assert!(
        payload
            .iter()
            .filter(|(k, _)| *k != "id")
            .all(|(_, v)| v.is_null())
    );
}

#[test]
fn partial_json_updates_are_applied_to_the_before_document() {
    let (maps, rows) = read("rmc-json.binlog.000001");
    // The generated VARCHAR/INT columns carry no names (MINIMAL metadata): type them directly.
    let columns: Vec<TableColumn> = ["id", "json_col", "name", "age"]
        .iter()
        .zip(&maps[0].columns)
        .map(|(name, info)| TableColumn {
            name: (*name).into(),
            ty: ColumnType::from_binlog(info).expect("type"),
            optional: true,
        })
        .collect();
    let table = TableMapping::new(
        "fx",
        "mysql",
        "t",
        columns,
        &[0],
        &TypeOptions::default(),
        &ColumnFilter::All,
        SourceSchemaBuilder::mysql(),
    )
    .unwrap();
    let full_update = rows.iter().find(|r| r.kind == RowsKind::Update).unwrap();
    let partial = rows
        .iter()
        .find(|r| r.kind == RowsKind::PartialUpdate)
        .unwrap();
    assert_eq!(full_update.rows.len(), partial.rows.len());
    for (full, diff) in full_update.rows.iter().zip(&partial.rows) {
        // The partial event's before image is MINIMAL (id only); the document before the
        // diff is the previous full update's after image.
        let previous = full.after.as_deref().unwrap();
        let after = diff.after.as_deref().unwrap();
        assert!(matches!(after[1], Cell::JsonDiff(_)));
        let (_, row) = table
            .row_from_binlog_update(previous, after)
            .expect("apply diff");
        let row = to_json(&row);
        let document: Json =
            serde_json::from_str(row["payload"]["json_col"].as_str().unwrap()).unwrap();
        // The diff sets $.age to the generated `age` column's new value.
        assert_eq!(document["age"], row["payload"]["age"], "{document}");
        let Cell::Json(old) = &previous[1] else {
            panic!("full image JSON")
        };
        assert_eq!(document["age"].as_i64(), old["age"].as_i64().map(|a| a + 1));
        assert_eq!(document["name"], old["name"]);
    }
    // Without the before document the diff cannot be applied, and the error says why.
    let minimal_before = partial.rows[0].before.as_deref().unwrap();
    let err = table
        .row_from_binlog_update(minimal_before, partial.rows[0].after.as_deref().unwrap())
        .unwrap_err()
        .to_string();
    assert!(err.contains("binlog_row_image=FULL"), "{err}");
    assert!(err.contains("of column json_col"), "{err}");
}

#[test]
fn enum_set_and_long_strings_with_full_metadata() {
    let (maps, rows) = read("rmc-mysql-enum-string-set.000001");
    let table = mapping(&maps[0], &TypeOptions::default());
    let insert = to_json(
        &table
            .row_from_binlog(rows[0].rows[0].after.as_deref().unwrap())
            .unwrap(),
    );
    assert_eq!(insert["payload"]["f3"], "var1");
    assert_eq!(insert["payload"]["f4"], "one,three");
    assert_eq!(insert["payload"]["f5"], "0123456789");
    assert_eq!(insert["payload"]["f1"].as_str().unwrap().len(), 100);
    // 298 digits, not the 300 FIXTURES.md says (see mysql8_fixtures.rs).
    assert_eq!(
        insert["payload"]["f2"].as_str().unwrap().chars().count(),
        298
    );
    assert_eq!(
        field_schema(&insert, "f3")["parameters"],
        json!({"allowed": "var1,variant2,foo"})
    );
    let update = &rows[1].rows[0];
    let (_, after) = table
        .row_from_binlog_update(
            update.before.as_deref().unwrap(),
            update.after.as_deref().unwrap(),
        )
        .unwrap();
    let after = to_json(&after);
    assert_eq!(after["payload"]["f1"], "field1");
    assert_eq!(after["payload"]["f3"], "variant2");
    assert_eq!(after["payload"]["f4"], "two,four");
}

#[test]
fn timestamps_and_enums_in_a_compressed_transaction() {
    let (maps, rows) = read("apecloud-mysql-bin.000057");
    let map = maps.iter().find(|m| m.table == "test_table_3").unwrap();
    // MINIMAL metadata: no names and no ENUM/SET strings, so the ENUM/SET values can only be
    // mapped when their members are known; here they are given as the statement shows them.
    let mut columns: Vec<TableColumn> = map
        .columns
        .iter()
        .enumerate()
        .map(|(i, info)| TableColumn {
            name: format!("c{i}"),
            ty: ColumnType::from_binlog(info).expect("type"),
            optional: true,
        })
        .collect();
    columns.retain(|c| {
        !matches!(
            c.ty.kind(),
            sluice_mysql::types::TypeKind::Enum { .. } | sluice_mysql::types::TypeKind::Set { .. }
        )
    });
    let update = rows.iter().find(|r| r.kind == RowsKind::Update).unwrap();
    let cells: Vec<Cell> = update.rows[0]
        .after
        .as_deref()
        .unwrap()
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 6 && *i != 7)
        .map(|(_, c)| c.clone())
        .collect();
    let table = TableMapping::new(
        "fx",
        &map.schema,
        &map.table,
        columns,
        &[],
        &TypeOptions::default(),
        &ColumnFilter::All,
        SourceSchemaBuilder::mysql(),
    )
    .unwrap();
    let row = to_json(&table.row_from_binlog(&cells).unwrap());
    let stamps: Vec<&str> = row["payload"]
        .as_object()
        .unwrap()
        .values()
        .filter_map(Json::as_str)
        .filter(|s| s.starts_with("2022-11-20T"))
        .collect();
    assert!(!stamps.is_empty(), "{:#}", row["payload"]);
    for stamp in stamps {
        assert!(
            stamp == "2022-11-20T13:40:30Z" || stamp == "2022-11-20T13:53:32Z",
            "{stamp}"
        );
    }
    assert_eq!(row["payload"]["c9"], "{\"c\":1}");
    assert_eq!(table.key_from_binlog(&cells).unwrap(), None);
}
