//! The type mapping against a real MariaDB: a table with every mapped type is filled, then
//! read twice — with a snapshot SELECT (text protocol, types from information_schema) and
//! from the server's binlog file (types from the TABLE_MAP) — and both must give the same
//! schemas, the same values, and the JSON (schemas.enable=true) Debezium's documented MySQL
//! mapping gives.

use std::path::PathBuf;

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Row};
use serde_json::{Value as Json, json};
use sluice_mysql::binlog::{BinlogReader, Cell, EventBody, RowsKind, TableMap};
use sluice_mysql::table::{ColumnFilter, TableColumn, TableMapping};
use sluice_mysql::types::{ColumnType, InformationSchemaColumn, TypeOptions};
use sluice_schemas::Struct;
use sluice_schemas::json::{JsonConverter, JsonConverterConfig};
use sluice_schemas::source::SourceSchemaBuilder;
use sluice_tests::MariaDbServer;

const CREATE: &str = "CREATE TABLE all_types (
    id INT PRIMARY KEY,
    ti TINYINT, ti1 TINYINT(1), tu TINYINT UNSIGNED,
    si SMALLINT, su SMALLINT UNSIGNED, mi MEDIUMINT, mu MEDIUMINT UNSIGNED,
    i INT, iu INT UNSIGNED, bi BIGINT, bu BIGINT UNSIGNED,
    dec_col DECIMAL(12,4), f FLOAT, d DOUBLE,
    b1 BIT(1), b10 BIT(10),
    c CHAR(5), vc VARCHAR(20) CHARACTER SET utf8mb4, vl VARCHAR(20) CHARACTER SET latin1,
    tx TEXT, tl TEXT CHARACTER SET latin1,
    bin BINARY(4), vb VARBINARY(8), bl BLOB,
    dt DATE, tm TIME(6), dtm DATETIME(3), ts TIMESTAMP(6) NULL, yr YEAR,
    e ENUM('a','b','c''d'), s SET('x','y','z'), j JSON,
    g GEOMETRY, p POINT,
    zd DATE NOT NULL, zdt DATETIME NULL
)";

const ROWS: &str = "INSERT INTO all_types VALUES
    (1, -5, 1, 200, -300, 60000, -8000000, 16000000, -2000000000, 4000000000,
     -9000000000000000000, 18446744073709551615, -1234.5678, 1.25, -2.5, b'1', b'1000000001',
     'abc', 'héllo wörld', 'señor €', 'text value', 'café ñ', X'DEAD', X'0102', X'CAFE',
     '2024-06-15', '-01:02:03.5', '2024-06-15 12:34:56.789', '2024-06-15 12:34:56.123456',
     2024, 'c''d', 'x,z', '{\"a\": 1, \"arr\": [1, 2]}',
     ST_GeomFromText('LINESTRING(0 0,1 1)'), ST_GeomFromText('POINT(1 2)', 4326),
     '2024-01-31', '1999-12-31 23:59:59'),
    (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
     NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
     NULL, NULL, NULL, NULL, NULL, '0000-00-00', '0000-00-00 00:00:00'),
    (3, -128, 0, 255, -32768, 65535, -8388608, 16777215, -2147483648, 4294967295,
     -9223372036854775808, 0, 99999999.9999, -0.5, 1e300, b'0', b'0',
     '', '😀', '', '', '', X'', X'', X'',
     '1969-12-31', '838:59:59', '1000-01-01 00:00:00', '1970-01-01 00:00:01',
     1901, 'a', '', '[]',
     ST_GeomFromText('POINT(0 0)'), ST_GeomFromText('POINT(-1.5 3)'),
     '9999-12-31', '2038-01-19 03:14:08')";

/// The JSON payloads Debezium's MySQL mapping gives (default settings), row by row.
fn expected_payloads() -> Vec<Json> {
    vec![
        json!({
            "id": 1, "ti": -5, "ti1": 1, "tu": 200, "si": -300, "su": 60000, "mi": -8000000,
            "mu": 16000000, "i": -2000000000, "iu": 4000000000i64,
            "bi": -9000000000000000000i64,
            // BIGINT UNSIGNED in `long` mode keeps the 64 bits.
            "bu": -1,
            // -12345678 unscaled at scale 4.
            "dec_col": "/0Oesg==", "f": 1.25, "d": -2.5, "b1": true,
            // b'1000000001' little-endian.
            "b10": "AQI=",
            "c": "abc", "vc": "héllo wörld", "vl": "señor €", "tx": "text value",
            "tl": "café ñ",
            // BINARY(4) is zero-padded.
            "bin": "3q0AAA==", "vb": "AQI=", "bl": "yv4=",
            "dt": 19889, "tm": -3723500000i64, "dtm": 1718454896789i64,
            "ts": "2024-06-15T12:34:56.123456Z", "yr": 2024, "e": "c'd", "s": "x,z",
            // MariaDB's JSON is LONGTEXT: the text as written.
            "j": "{\"a\": 1, \"arr\": [1, 2]}",
            "g": {"wkb": "AQIAAAACAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAPA/AAAAAAAA8D8=", "srid": null},
            "p": {"x": 1.0, "y": 2.0, "wkb": "AQEAAAAAAAAAAADwPwAAAAAAAABA", "srid": 4326},
            "zd": 19753, "zdt": 946684799000i64,
        }),
        json!({
            "id": 2, "ti": null, "ti1": null, "tu": null, "si": null, "su": null, "mi": null,
            "mu": null, "i": null, "iu": null, "bi": null, "bu": null, "dec_col": null,
            "f": null, "d": null, "b1": null, "b10": null, "c": null, "vc": null, "vl": null,
            "tx": null, "tl": null, "bin": null, "vb": null, "bl": null, "dt": null,
            "tm": null, "dtm": null, "ts": null, "yr": null, "e": null, "s": null, "j": null,
            "g": null, "p": null,
            // Zero dates: the epoch in a NOT NULL column, null in a nullable one.
            "zd": 0, "zdt": null,
        }),
        json!({
            "id": 3, "ti": -128, "ti1": 0, "tu": 255, "si": -32768, "su": 65535,
            "mi": -8388608, "mu": 16777215, "i": -2147483648i64, "iu": 4294967295i64,
            "bi": i64::MIN, "bu": 0,
            // 999999999999 unscaled.
            "dec_col": "AOjUpQ//", "f": -0.5, "d": 1e300, "b1": false, "b10": "AAA=",
            "c": "", "vc": "😀", "vl": "", "tx": "", "tl": "",
            "bin": "AAAAAA==", "vb": "", "bl": "",
            "dt": -1, "tm": 3020399000000i64, "dtm": -30610224000000i64,
            "ts": "1970-01-01T00:00:01.000000Z", "yr": 1901, "e": "a", "s": "", "j": "[]",
            "g": {"wkb": "AQEAAAAAAAAAAAAAAAAAAAAAAAAA", "srid": null},
            "p": {"x": -1.5, "y": 3.0, "wkb": "AQEAAAAAAAAAAAD4vwAAAAAAAAhA", "srid": null},
            "zd": 2932896, "zdt": 2147483648000i64,
        }),
    ]
}

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

async fn catalog_columns(conn: &mut Conn) -> Vec<TableColumn> {
    catalog(conn, "all_types").await.0
}

/// The columns of `types.<table>` and their `COLUMN_DEFAULT`s.
async fn catalog(conn: &mut Conn, table: &str) -> (Vec<TableColumn>, Vec<Option<String>>) {
    let rows: Vec<Row> = conn
        .exec(
            "SELECT COLUMN_NAME, ORDINAL_POSITION, DATA_TYPE, COLUMN_TYPE, CHARACTER_SET_NAME, \
             NUMERIC_PRECISION, NUMERIC_SCALE, DATETIME_PRECISION, CHARACTER_MAXIMUM_LENGTH, \
             IS_NULLABLE, COLUMN_DEFAULT FROM information_schema.COLUMNS \
             WHERE TABLE_SCHEMA = 'types' AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION",
            (table,),
        )
        .await
        .expect("read information_schema");
    rows.into_iter()
        .map(|row| {
            let text = |i: usize| {
                row.get_opt::<Option<String>, _>(i)
                    .and_then(Result::ok)
                    .flatten()
            };
            let number = |i: usize| {
                row.get_opt::<Option<u64>, _>(i)
                    .and_then(Result::ok)
                    .flatten()
            };
            let col = InformationSchemaColumn {
                column_name: text(0).expect("name"),
                ordinal_position: number(1).expect("position") as u32,
                data_type: text(2).expect("data type"),
                column_type: text(3).expect("column type"),
                character_set_name: text(4),
                numeric_precision: number(5),
                numeric_scale: number(6),
                datetime_precision: number(7),
                character_maximum_length: number(8),
                is_nullable: text(9).as_deref() == Some("YES"),
                column_default: text(10),
            };
            let column = TableColumn {
                ty: ColumnType::from_information_schema(&col)
                    .unwrap_or_else(|e| panic!("{}: {e}", col.column_name)),
                name: col.column_name,
                optional: col.is_nullable,
            };
            (column, col.column_default)
        })
        .unzip()
}

/// One row change of `types.all_types` read from the binlog.
struct Change {
    kind: RowsKind,
    before: Option<Vec<Cell>>,
    after: Option<Vec<Cell>>,
}

/// The TABLE_MAP and row changes of `types.all_types`, from every binlog file.
fn binlog_rows(binlog_dir: &std::path::Path) -> (TableMap, Vec<Change>) {
    binlog_rows_of(binlog_dir, "all_types")
}

/// The TABLE_MAP and row changes of `types.<table>`, from every binlog file.
fn binlog_rows_of(binlog_dir: &std::path::Path, table: &str) -> (TableMap, Vec<Change>) {
    let mut files: Vec<PathBuf> = std::fs::read_dir(binlog_dir)
        .expect("binlog dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| {
            p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                n.rsplit('.')
                    .next()
                    .is_some_and(|ext| ext.chars().all(|c| c.is_ascii_digit()))
            })
        })
        .collect();
    files.sort();
    let mut map = None;
    let mut changes = Vec::new();
    for file in files {
        let reader =
            BinlogReader::open(&file).unwrap_or_else(|e| panic!("open {}: {e}", file.display()));
        for event in reader {
            match event
                .unwrap_or_else(|e| panic!("read {}: {e}", file.display()))
                .body
            {
                EventBody::TableMap(m) if m.table == table => map = Some(m),
                EventBody::Rows(rows) if rows.table == table => {
                    changes.extend(rows.rows.into_iter().map(|r| Change {
                        kind: rows.kind,
                        before: r.before,
                        after: r.after,
                    }));
                }
                _ => {}
            }
        }
    }
    (map.expect("a TABLE_MAP for the table"), changes)
}

fn mapping(columns: Vec<TableColumn>, key: &[usize]) -> TableMapping {
    mapping_for("all_types", columns, key)
}

fn mapping_for(table: &str, columns: Vec<TableColumn>, key: &[usize]) -> TableMapping {
    TableMapping::new(
        "maria",
        "types",
        table,
        columns,
        key,
        &TypeOptions::default(),
        &ColumnFilter::All,
        SourceSchemaBuilder::mysql(),
    )
    .expect("mapping")
}

/// A fresh server with the database `types`, and a connection to it.
async fn start() -> (MariaDbServer, Conn) {
    let server = MariaDbServer::start()
        .await
        .expect("start MariaDB (scripts/setup.sh installs it)");
    server
        .create_database("types")
        .await
        .expect("create database");
    let conn = Conn::new(server.opts_for("types")).await.expect("connect");
    (server, conn)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshot_and_binlog_agree_with_debezium_for_every_type() {
    let (server, mut conn) = start().await;
    // UTC session so TIMESTAMP text is UTC; no strict mode so zero dates can be written.
    conn.query_drop("SET time_zone = '+00:00', sql_mode = ''")
        .await
        .expect("session");
    conn.query_drop(CREATE).await.expect("create table");
    conn.query_drop(ROWS).await.expect("insert rows");

    let snapshot_table = mapping(catalog_columns(&mut conn).await, &[0]);
    let rows: Vec<Row> = conn
        .query("SELECT * FROM all_types ORDER BY id")
        .await
        .expect("select");
    let raw: Vec<Vec<mysql_async::Value>> = rows.into_iter().map(Row::unwrap).collect();
    let snapshot: Vec<Struct> = raw
        .iter()
        .map(|row| snapshot_table.row_from_snapshot(row).expect("snapshot row"))
        .collect();

    conn.query_drop(
        "UPDATE all_types SET vl = 'Ÿ', p = ST_GeomFromText('POINT(5 6)'), tm = '00:00:01', \
         bu = 18446744073709551614 WHERE id = 1",
    )
    .await
    .expect("update");
    conn.query_drop("DELETE FROM all_types WHERE id = 2")
        .await
        .expect("delete");
    conn.query_drop("FLUSH BINARY LOGS")
        .await
        .expect("flush binlog");
    let (map, changes) = binlog_rows(server.binlog_dir());
    let images: Vec<Vec<Cell>> = changes
        .iter()
        .filter(|c| c.kind == RowsKind::Insert)
        .map(|c| c.after.clone().expect("insert image"))
        .collect();
    let binlog_columns = TableColumn::all_from_table_map(&map).expect("binlog columns");
    assert_eq!(map.primary_key, [0], "SIMPLE_PRIMARY_KEY metadata");
    let binlog_table = mapping(binlog_columns, &map.primary_key);
    let streamed: Vec<Struct> = images
        .iter()
        .map(|cells| binlog_table.row_from_binlog(cells).expect("binlog row"))
        .collect();

    // Same schemas from the catalog and from the TABLE_MAP.
    assert_eq!(
        to_json(&snapshot[0])["schema"],
        to_json(&streamed[0])["schema"],
        "catalog and binlog schemas differ"
    );
    let expected = expected_payloads();
    assert_eq!(snapshot.len(), expected.len());
    assert_eq!(streamed.len(), expected.len());
    for ((snap, stream), want) in snapshot.iter().zip(&streamed).zip(&expected) {
        let snap_json = to_json(snap);
        assert_eq!(
            &snap_json["payload"], want,
            "snapshot: {:#}",
            snap_json["payload"]
        );
        let stream_json = to_json(stream);
        assert_eq!(
            &stream_json["payload"], want,
            "binlog: {:#}",
            stream_json["payload"]
        );
        assert_eq!(
            snap.values(),
            stream.values(),
            "snapshot and binlog values differ"
        );
    }

    let schema = to_json(&snapshot[0])["schema"].clone();
    let field = |name: &str| -> Json {
        schema["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["field"] == name)
            .unwrap_or_else(|| panic!("no field {name}"))
            .clone()
    };
    let expected_schemas = [
        (
            "id",
            json!({"type": "int32", "optional": false, "field": "id"}),
        ),
        (
            "ti",
            json!({"type": "int16", "optional": true, "field": "ti"}),
        ),
        (
            "su",
            json!({"type": "int32", "optional": true, "field": "su"}),
        ),
        (
            "iu",
            json!({"type": "int64", "optional": true, "field": "iu"}),
        ),
        (
            "dec_col",
            json!({"type": "bytes", "optional": true,
            "name": "org.apache.kafka.connect.data.Decimal", "version": 1,
            "parameters": {"scale": "4", "connect.decimal.precision": "12"}, "field": "dec_col"}),
        ),
        (
            "f",
            json!({"type": "float", "optional": true, "field": "f"}),
        ),
        (
            "b1",
            json!({"type": "boolean", "optional": true, "field": "b1"}),
        ),
        (
            "b10",
            json!({"type": "bytes", "optional": true, "name": "io.debezium.data.Bits",
            "version": 1, "parameters": {"length": "10"}, "field": "b10"}),
        ),
        (
            "bl",
            json!({"type": "bytes", "optional": true, "field": "bl"}),
        ),
        (
            "dt",
            json!({"type": "int32", "optional": true, "name": "io.debezium.time.Date",
            "version": 1, "field": "dt"}),
        ),
        (
            "tm",
            json!({"type": "int64", "optional": true, "name": "io.debezium.time.MicroTime",
            "version": 1, "field": "tm"}),
        ),
        (
            "dtm",
            json!({"type": "int64", "optional": true, "name": "io.debezium.time.Timestamp",
            "version": 1, "field": "dtm"}),
        ),
        (
            "ts",
            json!({"type": "string", "optional": true,
            "name": "io.debezium.time.ZonedTimestamp", "version": 1, "field": "ts"}),
        ),
        (
            "yr",
            json!({"type": "int32", "optional": true, "name": "io.debezium.time.Year",
            "version": 1, "field": "yr"}),
        ),
        (
            "e",
            json!({"type": "string", "optional": true, "name": "io.debezium.data.Enum",
            "version": 1, "parameters": {"allowed": "a,b,c'd"}, "field": "e"}),
        ),
        (
            "s",
            json!({"type": "string", "optional": true, "name": "io.debezium.data.EnumSet",
            "version": 1, "parameters": {"allowed": "x,y,z"}, "field": "s"}),
        ),
        (
            "zd",
            json!({"type": "int32", "optional": false, "name": "io.debezium.time.Date",
            "version": 1, "field": "zd"}),
        ),
    ];
    for (name, want) in expected_schemas {
        assert_eq!(field(name), want, "schema of {name}");
    }
    assert_eq!(field("p")["name"], "io.debezium.data.geometry.Point");
    assert_eq!(field("g")["name"], "io.debezium.data.geometry.Geometry");

    let key = snapshot_table.key_from_snapshot(&raw[0]).expect("key");
    assert_eq!(to_json(&key.expect("a key"))["payload"], json!({"id": 1}));
    assert_eq!(
        binlog_table
            .key_from_binlog(&images[0])
            .expect("key")
            .map(|k| to_json(&k)["payload"].clone()),
        Some(json!({"id": 1}))
    );

    // The UPDATE's before image is the snapshot row; its after image has the new values.
    let update = changes
        .iter()
        .find(|c| c.kind == RowsKind::Update)
        .expect("an update");
    let (before, after) = binlog_table
        .row_from_binlog_update(
            update.before.as_deref().expect("before"),
            update.after.as_deref().expect("after"),
        )
        .expect("update rows");
    assert_eq!(before.values(), snapshot[0].values());
    let after = to_json(&after)["payload"].clone();
    let mut want = expected[0].clone();
    want["vl"] = json!("Ÿ");
    want["p"] = json!({"x": 5.0, "y": 6.0, "wkb": "AQEAAAAAAAAAAAAUQAAAAAAAABhA", "srid": null});
    want["tm"] = json!(1_000_000);
    want["bu"] = json!(-2);
    assert_eq!(after, want, "{after:#}");
    let delete = changes
        .iter()
        .find(|c| c.kind == RowsKind::Delete)
        .expect("a delete");
    let deleted = binlog_table
        .row_from_binlog(delete.before.as_deref().expect("before"))
        .expect("deleted row");
    assert_eq!(deleted.values(), snapshot[1].values());
    let _ = conn.disconnect().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catalog_defaults_become_schema_defaults() {
    let (_server, mut conn) = start().await;
    conn.query_drop(
        "CREATE TABLE defaults (
            id INT NOT NULL DEFAULT 7 PRIMARY KEY,
            name VARCHAR(10) DEFAULT 'it''s',
            price DECIMAL(6,2) NOT NULL DEFAULT 9.50,
            flag BIT(1) DEFAULT b'1',
            day DATE DEFAULT '2000-01-01',
            created TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
            kind ENUM('a','b') DEFAULT 'b',
            note TEXT,
            token VARCHAR(36) DEFAULT (uuid())
        )",
    )
    .await
    .expect("create table");
    let (columns, defaults) = catalog(&mut conn, "defaults").await;
    let table = mapping_for("defaults", columns, &[0])
        .with_column_defaults(&defaults)
        .expect("defaults");
    let converter = JsonConverter::new(JsonConverterConfig::default());
    let schema: Json = serde_json::from_slice(
        &converter
            .schema_json(table.envelope().row_schema())
            .unwrap(),
    )
    .unwrap();
    let default_of = |name: &str| -> Json {
        schema["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["field"] == name)
            .unwrap_or_else(|| panic!("no field {name}"))
            .get("default")
            .cloned()
            .unwrap_or(Json::Null)
    };
    assert_eq!(default_of("id"), json!(7));
    assert_eq!(default_of("name"), json!("it's"));
    // 950 unscaled at scale 2, base64.
    assert_eq!(default_of("price"), json!("A7Y="));
    assert_eq!(default_of("flag"), json!(true));
    assert_eq!(default_of("day"), json!(10957));
    assert_eq!(default_of("created"), json!("1970-01-01T00:00:00Z"));
    assert_eq!(default_of("kind"), json!("b"));
    assert_eq!(default_of("note"), Json::Null, "no default");
    assert_eq!(
        default_of("token"),
        Json::Null,
        "expressions give no default"
    );
    let key: Json = serde_json::from_slice(
        &converter
            .schema_json(table.envelope().key_schema().expect("key"))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(key["fields"][0]["default"], json!(7));
    let _ = conn.disconnect().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latin1_enum_and_set_members_decode_in_their_charset() {
    let (server, mut conn) = start().await;
    conn.query_drop(
        "CREATE TABLE latin (id INT PRIMARY KEY,
            e ENUM('é','ü') CHARACTER SET latin1,
            s SET('à','ß','€') CHARACTER SET latin1)",
    )
    .await
    .expect("create table");
    conn.query_drop("INSERT INTO latin VALUES (1, 'ü', 'à,€')")
        .await
        .expect("insert");
    let (columns, _) = catalog(&mut conn, "latin").await;
    let snapshot_table = mapping_for("latin", columns, &[0]);
    let rows: Vec<Row> = conn.query("SELECT * FROM latin").await.expect("select");
    let snapshot = snapshot_table
        .row_from_snapshot(&rows[0].clone().unwrap())
        .expect("snapshot row");
    conn.query_drop("FLUSH BINARY LOGS")
        .await
        .expect("flush binlog");
    let (map, changes) = binlog_rows_of(server.binlog_dir(), "latin");
    assert_eq!(map.columns[1].enum_values, ["é", "ü"]);
    assert_eq!(map.columns[2].set_values, ["à", "ß", "€"]);
    let binlog_table = mapping_for(
        "latin",
        TableColumn::all_from_table_map(&map).expect("columns"),
        &map.primary_key,
    );
    let streamed = binlog_table
        .row_from_binlog(changes[0].after.as_deref().expect("after"))
        .expect("binlog row");
    let (snap, stream) = (to_json(&snapshot), to_json(&streamed));
    assert_eq!(snap, stream);
    assert_eq!(stream["payload"], json!({"id": 1, "e": "ü", "s": "à,€"}));
    assert_eq!(
        stream["schema"]["fields"][2]["parameters"],
        json!({"allowed": "à,ß,€"})
    );
    let _ = conn.disconnect().await;
}
