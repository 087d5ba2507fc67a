//! The type mapping against a real PostgreSQL 15: a table with every mapped type (arrays,
//! enum, domains, NULLs, infinities, negative intervals, fractional seconds, unknown types),
//! its columns read from the catalog, its rows read both as text from a simple query (the
//! snapshot path) and from a pgoutput slot (the streaming path), converted by a
//! [`TableMapping`] and serialized by the JSON converter with schemas; the payloads must equal
//! the values Debezium's documented mapping gives, written out below by hand.

use anyhow::{Context, Result, ensure};
use serde_json::{Value as Json, json};
use sluice_connect::config::Props;
use sluice_postgres::catalog::describe_table;
use sluice_postgres::pgoutput::{Message, decode};
use sluice_postgres::table::{Cell, TableColumn, TableMapping};
use sluice_postgres::types::{ColumnFilter, TypeCatalog, TypeOptions};
use sluice_schemas::json::{JsonConverter, JsonConverterConfig};
use sluice_schemas::source::SourceSchemaBuilder;
use sluice_schemas::{Struct, Value};
use sluice_tests::PostgresServer;
use tokio_postgres::{Client, SimpleQueryMessage};

const SCHEMA: &str = "
    CREATE EXTENSION hstore;
    CREATE EXTENSION citext;
    CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
    CREATE DOMAIN price AS numeric(8,3);
    CREATE DOMAIN positive AS int CHECK (VALUE > 0);
    CREATE TABLE all_types (
        id int PRIMARY KEY,
        si smallint, i int, bi bigint, r real, d double precision, b boolean,
        c char(4), vc varchar(10), t text, x xml, ip inet, net cidr, mac macaddr,
        mac8 macaddr8, r4 int4range, ba bytea,
        dt date, dt_inf date, tm time, tm3 time(3), ttz timetz,
        ts timestamp, ts3 timestamp(3), ts_inf timestamp, tstz timestamptz,
        tstz_inf timestamptz, iv interval, iv_neg interval,
        u uuid, j json, jb jsonb, m mood, b1 bit(1), b8 bit(8), vb varbit,
        n numeric(10,2), nv numeric, cash money, p price, pos positive,
        ai int[], at text[], an numeric(5,2)[], am mood[], a2 int[],
        nul text, pt point, tq tsquery, hs hstore, ci citext,
        gen int GENERATED ALWAYS AS (i * 2) STORED,
        dflt int DEFAULT 42, ser bigserial, greeting text DEFAULT 'it''s',
        last_col text NOT NULL);
    CREATE TABLE specials (id int PRIMARY KEY, n numeric(5,2), nv numeric, f float8);
    CREATE PUBLICATION p FOR TABLE all_types, specials;
";

const INSERTS: &[&str] = &[
    r#"INSERT INTO all_types (id, si, i, bi, r, d, b, c, vc, t, x, ip, net, mac, mac8, r4, ba,
        dt, dt_inf, tm, tm3, ttz, ts, ts3, ts_inf, tstz, tstz_inf, iv, iv_neg, u, j, jb, m,
        b1, b8, vb, n, nv, cash, p, pos, ai, at, an, am, a2, nul, pt, tq, hs, ci, last_col) VALUES (
        1, 1, 123456, 1234567890123, 3.3, 4.44, true, 'ab', 'hello', 'some text',
        '<a>b</a>', '192.168.2.0/12', '192.168.100.128/25', '08:00:2b:01:02:03',
        '08:00:2b:01:02:03:04:05', '[1000,6000)', '\x010203',
        '2016-11-04', 'infinity', '13:51:30', '13:51:30.123', '13:51:30.123789+02',
        '2016-11-04 13:51:30.123456', '2016-11-04 13:51:30.123', '-infinity',
        '2024-01-02 05:04:05.123456+02', 'infinity', '1 day 2 hours', '-3 days -04:05:06.5',
        'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"bar": "baz"}', '{"bar": "baz"}', 'happy',
        B'1', B'00000011', B'101', 12.34, '10.1000', 1234.11, 12.5, 7,
        '{1,NULL,3}', '{"a b","c\"d",NULL}', '{1.50,-2.25}', '{sad,happy}', '{{1,2},{3,4}}',
        NULL, '(1,2)', 'fat & cat', '"a"=>"1", "b"=>NULL', 'MixedCase', 'end')"#,
    "INSERT INTO all_types (id, last_col) VALUES (2, '')",
    "INSERT INTO specials VALUES (1, 'NaN', 'Infinity', 'NaN'), (2, 1.5, '-Infinity', '-Infinity')",
];

fn expected_row_1() -> Json {
    let mut first_half = json!({
        "id": 1, "si": 1, "i": 123456, "bi": 1234567890123_i64, "r": 3.3, "d": 4.44, "b": true,
        "c": "ab  ", "vc": "hello", "t": "some text", "x": "<a>b</a>", "ip": "192.168.2.0/12",
        "net": "192.168.100.128/25", "mac": "08:00:2b:01:02:03",
        "mac8": "08:00:2b:01:02:03:04:05", "r4": "[1000,6000)", "ba": "AQID",
        // Days since the epoch; Debezium's `date 'infinity'` is the day of -5877611-06-21.
        "dt": 17109, "dt_inf": -2147472692,
    });
    let second_half = json!({
        "tm": 49890000000_i64, "tm3": 49890123, "ttz": "11:51:30.123789Z",
        "ts": 1478267490123456_i64, "ts3": 1478267490123_i64,
        "ts_inf": -9223372036832400000_i64,
        "tstz": "2024-01-02T03:04:05.123456Z", "tstz_inf": "infinity",
        "iv": 93600000000_i64, "iv_neg": -273906500000_i64,
        "u": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
        "j": "{\"bar\": \"baz\"}", "jb": "{\"bar\": \"baz\"}", "m": "happy",
        "b1": true, "b8": "Aw==", "vb": "BQ==",
        // Decimal: base64 of the unscaled two's-complement bytes (1234 → 04 d2).
        "n": "BNI=", "nv": {"scale": 1, "value": "ZQ=="}, "cash": "AeIT", "p": "MNQ=",
        "pos": 7,
        "ai": [1, null, 3], "at": ["a b", "c\"d", null], "an": ["AJY=", "/x8="],
        "am": ["sad", "happy"], "a2": [1, 2, 3, 4],
        "nul": null,
        "pt": {"x": 1.0, "y": 2.0, "wkb": "AQEAAAAAAAAAAADwPwAAAAAAAABA", "srid": null},
        "hs": "{\"a\":\"1\",\"b\":null}", "ci": "MixedCase",
        "dflt": 42, "ser": 1, "greeting": "it's", "last_col": "end"
    });
    // Two halves: one json! of every column exceeds the macro recursion limit.
    if let (Some(all), Json::Object(rest)) = (first_half.as_object_mut(), second_half) {
        all.extend(rest);
    }
    first_half
}

/// Every nullable column null; the NOT NULL text column empty.
fn expected_row_2() -> Json {
    let mut row = expected_row_1();
    for (name, value) in row.as_object_mut().into_iter().flatten() {
        *value = match name.as_str() {
            "id" | "ser" => json!(2),
            "dflt" => json!(42),
            "greeting" => json!("it's"),
            "last_col" => json!(""),
            _ => Json::Null,
        };
    }
    row
}

/// (field, Connect type, schema name) of the value schema, in order; `tq` (a tsquery, unknown to
/// Sluice) and `gen` (generated, never published) are absent.
const FIELD_SCHEMAS: &[(&str, &str, Option<&str>)] = &[
    ("id", "int32", None),
    ("si", "int16", None),
    ("i", "int32", None),
    ("bi", "int64", None),
    ("r", "float", None),
    ("d", "double", None),
    ("b", "boolean", None),
    ("c", "string", None),
    ("vc", "string", None),
    ("t", "string", None),
    ("x", "string", Some("io.debezium.data.Xml")),
    ("ip", "string", None),
    ("net", "string", None),
    ("mac", "string", None),
    ("mac8", "string", None),
    ("r4", "string", None),
    ("ba", "bytes", None),
    ("dt", "int32", Some("io.debezium.time.Date")),
    ("dt_inf", "int32", Some("io.debezium.time.Date")),
    ("tm", "int64", Some("io.debezium.time.MicroTime")),
    ("tm3", "int32", Some("io.debezium.time.Time")),
    ("ttz", "string", Some("io.debezium.time.ZonedTime")),
    ("ts", "int64", Some("io.debezium.time.MicroTimestamp")),
    ("ts3", "int64", Some("io.debezium.time.Timestamp")),
    ("ts_inf", "int64", Some("io.debezium.time.MicroTimestamp")),
    ("tstz", "string", Some("io.debezium.time.ZonedTimestamp")),
    (
        "tstz_inf",
        "string",
        Some("io.debezium.time.ZonedTimestamp"),
    ),
    ("iv", "int64", Some("io.debezium.time.MicroDuration")),
    ("iv_neg", "int64", Some("io.debezium.time.MicroDuration")),
    ("u", "string", Some("io.debezium.data.Uuid")),
    ("j", "string", Some("io.debezium.data.Json")),
    ("jb", "string", Some("io.debezium.data.Json")),
    ("m", "string", Some("io.debezium.data.Enum")),
    ("b1", "boolean", None),
    ("b8", "bytes", Some("io.debezium.data.Bits")),
    ("vb", "bytes", Some("io.debezium.data.Bits")),
    ("n", "bytes", Some("org.apache.kafka.connect.data.Decimal")),
    (
        "nv",
        "struct",
        Some("io.debezium.data.VariableScaleDecimal"),
    ),
    (
        "cash",
        "bytes",
        Some("org.apache.kafka.connect.data.Decimal"),
    ),
    ("p", "bytes", Some("org.apache.kafka.connect.data.Decimal")),
    ("pos", "int32", None),
    ("ai", "array", None),
    ("at", "array", None),
    ("an", "array", None),
    ("am", "array", None),
    ("a2", "array", None),
    ("nul", "string", None),
    ("pt", "struct", Some("io.debezium.data.geometry.Point")),
    ("hs", "string", Some("io.debezium.data.Json")),
    ("ci", "string", None),
    ("dflt", "int32", None),
    ("ser", "int64", None),
    ("greeting", "string", None),
    ("last_col", "string", None),
];

/// The rows of `table` as text, as a snapshot reads them: the described columns by name (not
/// `*`, which would add generated columns that pgoutput never sends).
async fn text_rows(
    client: &Client,
    table: &str,
    columns: &[TableColumn],
) -> Result<Vec<Vec<Option<String>>>> {
    let names: Vec<String> = columns.iter().map(|c| format!("\"{}\"", c.name)).collect();
    let messages = client
        .simple_query(&format!(
            "SELECT {} FROM {table} ORDER BY id",
            names.join(", ")
        ))
        .await
        .with_context(|| format!("select from {table}"))?;
    Ok(messages
        .iter()
        .filter_map(|message| match message {
            SimpleQueryMessage::Row(row) => Some(
                (0..row.len())
                    .map(|i| row.get(i).map(str::to_string))
                    .collect(),
            ),
            _ => None,
        })
        .collect())
}

fn cells(row: &[Option<String>]) -> Vec<Cell<'_>> {
    row.iter()
        .map(|value| value.as_deref().map_or(Cell::Null, Cell::Text))
        .collect()
}

fn mapping(table: &str, columns: Vec<TableColumn>, opts: &TypeOptions) -> Result<TableMapping> {
    Ok(TableMapping::new(
        "dbserver1",
        "public",
        table,
        columns,
        opts,
        &ColumnFilter::All,
        "__debezium_unavailable_value",
        SourceSchemaBuilder::postgres(),
    )?)
}

/// The JSON converter's output for a row: (schema, payload).
fn to_json(mapping: &TableMapping, row: Struct) -> Result<(Json, Json)> {
    let converter = JsonConverter::new(JsonConverterConfig::default());
    let bytes = converter
        .to_bytes(Some(mapping.envelope().row_schema()), &Value::Struct(row))?
        .context("a row is never a tombstone")?;
    let mut document: Json = serde_json::from_slice(&bytes)?;
    Ok((document["schema"].take(), document["payload"].take()))
}

fn options(pairs: &[(&str, &str)]) -> Result<TypeOptions> {
    let props: Props = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Ok(TypeOptions::from_props(&props)?)
}

#[tokio::test]
async fn every_type_maps_like_debezium_from_snapshot_and_pgoutput() -> Result<()> {
    let pg = PostgresServer::start().await?;
    let client = pg.client().await?;
    client
        .batch_execute(SCHEMA)
        .await
        .context("create schema")?;
    client
        .query(
            "SELECT pg_create_logical_replication_slot('s', 'pgoutput')",
            &[],
        )
        .await
        .context("create slot")?;
    for insert in INSERTS {
        client
            .batch_execute(insert)
            .await
            .with_context(|| format!("run {insert}"))?;
    }

    let mut catalog = TypeCatalog::load(&client).await?;
    let columns = table_columns(&client, &mut catalog, "all_types").await?;
    let opts = TypeOptions::default();
    let all_types = mapping("all_types", columns.clone(), &opts)?;
    assert_eq!(&**all_types.topic(), "dbserver1.public.all_types");
    assert_eq!(all_types.key_column_names().collect::<Vec<_>>(), ["id"]);

    // Snapshot path: the text a simple query returns.
    let rows = text_rows(&client, "all_types", &columns).await?;
    ensure!(rows.len() == 2, "expected 2 rows, got {}", rows.len());
    let (schema, first) = to_json(&all_types, all_types.row(&cells(&rows[0]))?)?;
    assert_eq!(first, expected_row_1());
    let (_, second) = to_json(&all_types, all_types.row(&cells(&rows[1]))?)?;
    assert_eq!(second, expected_row_2());

    let fields = schema["fields"].as_array().context("fields")?;
    let described: Vec<(&str, &str, Option<&str>)> = fields
        .iter()
        .map(|f| {
            (
                f["field"].as_str().unwrap_or_default(),
                f["type"].as_str().unwrap_or_default(),
                f["name"].as_str(),
            )
        })
        .collect();
    assert_eq!(described, FIELD_SCHEMAS);
    let field = |name: &str| fields.iter().find(|f| f["field"] == name).cloned();
    assert_eq!(
        field("n").context("n")?["parameters"],
        json!({"scale": "2", "connect.decimal.precision": "10"})
    );
    assert_eq!(
        field("p").context("p")?["parameters"],
        json!({"scale": "3", "connect.decimal.precision": "8"})
    );
    assert_eq!(
        field("m").context("m")?["parameters"],
        json!({"allowed": "sad,ok,happy"})
    );
    assert_eq!(
        field("b8").context("b8")?["parameters"],
        json!({"length": "8"})
    );
    assert_eq!(
        field("vb").context("vb")?["parameters"],
        json!({"length": "2147483647"})
    );
    assert_eq!(
        field("an").context("an")?["items"]["parameters"],
        json!({"scale": "2", "connect.decimal.precision": "5"})
    );
    assert_eq!(
        field("last_col").context("last_col")?["optional"],
        json!(false)
    );
    assert_eq!(field("t").context("t")?["optional"], json!(true));
    // Defaults as Debezium reads them: constants, and 0 for a sequence's nextval().
    let dflt = field("dflt").context("dflt")?;
    assert_eq!(
        (&dflt["optional"], &dflt["default"]),
        (&json!(true), &json!(42))
    );
    let ser = field("ser").context("ser")?;
    assert_eq!(
        (&ser["optional"], &ser["default"]),
        (&json!(false), &json!(0))
    );
    assert_eq!(
        field("greeting").context("greeting")?["default"],
        json!("it's")
    );
    assert_eq!(field("i").context("i")?.get("default"), None);

    // Streaming path: the same rows from pgoutput, with the Relation message's type
    // modifiers resolved through the same catalog, give the same payloads.
    let slot_rows = client
        .query(
            "SELECT data FROM pg_logical_slot_peek_binary_changes('s', NULL, NULL, \
             'proto_version', '1', 'publication_names', 'p')",
            &[],
        )
        .await
        .context("peek slot")?;
    let data: Vec<Vec<u8>> = slot_rows.iter().map(|row| row.get(0)).collect();
    let mut streamed = Vec::new();
    let mut relation_mapping = None;
    for bytes in &data {
        match decode(bytes)? {
            Message::Relation(relation) if relation.name == "all_types" => {
                let from_relation: Vec<TableColumn> = relation
                    .columns
                    .iter()
                    .zip(&columns)
                    .map(|(column, described)| TableColumn {
                        name: column.name.to_string(),
                        // Defaults and nullability are not in Relation messages: they come
                        // from the catalog description.
                        ty: match described.ty.default_expression() {
                            Some(expression) => catalog
                                .resolve(column.type_oid.0, column.type_modifier)
                                .with_default_expression(expression),
                            None => catalog.resolve(column.type_oid.0, column.type_modifier),
                        },
                        optional: described.optional,
                        key: described.key,
                    })
                    .collect();
                ensure!(
                    from_relation.len() == columns.len(),
                    "relation column count"
                );
                relation_mapping = Some(mapping("all_types", from_relation, &opts)?);
            }
            Message::Insert(insert) if relation_mapping.is_some() => {
                let Some(mapping) = relation_mapping.as_ref() else {
                    continue;
                };
                if insert.new.columns.len() != columns.len() {
                    continue; // a row of `specials`
                }
                let cells = insert
                    .new
                    .columns
                    .iter()
                    .map(Cell::try_from)
                    .collect::<Result<Vec<_>, _>>()?;
                streamed.push(to_json(mapping, mapping.row(&cells)?)?);
            }
            _ => {}
        }
    }
    ensure!(
        streamed.len() == 2,
        "expected 2 streamed rows, got {}",
        streamed.len()
    );
    assert_eq!(
        streamed[0].0, schema,
        "pgoutput modifiers give the same schema"
    );
    assert_eq!(streamed[0].1, expected_row_1());
    assert_eq!(streamed[1].1, expected_row_2());

    // Other modes on the same row.
    let modes = options(&[
        ("time.precision.mode", "connect"),
        ("interval.handling.mode", "string"),
        ("binary.handling.mode", "hex"),
        ("decimal.handling.mode", "string"),
        ("include.unknown.datatypes", "true"),
    ])?;
    let other = mapping("all_types", columns.clone(), &modes)?;
    let (other_schema, payload) = to_json(&other, other.row(&cells(&rows[0]))?)?;
    assert_eq!(payload["dt"], json!(17109));
    assert_eq!(payload["tm"], json!(49890000));
    assert_eq!(payload["tm3"], json!(49890123));
    assert_eq!(payload["ts"], json!(1478267490123_i64));
    assert_eq!(payload["iv"], json!("P0Y0M1DT2H0M0S"));
    assert_eq!(payload["iv_neg"], json!("P0Y0M-3DT-4H-5M-6.5S"));
    assert_eq!(payload["ba"], json!("010203"));
    assert_eq!(payload["n"], json!("12.34"));
    assert_eq!(payload["nv"], json!("10.1000"));
    assert_eq!(payload["cash"], json!("1234.11"));
    assert_eq!(
        payload["tq"],
        json!("27666174272026202763617427"),
        "unknown tsquery text as hex"
    );
    let other_fields = other_schema["fields"].as_array().context("fields")?;
    let dt = other_fields
        .iter()
        .find(|f| f["field"] == "dt")
        .context("dt")?;
    assert_eq!(dt["name"], json!("org.apache.kafka.connect.data.Date"));

    // NaN and infinite numerics: carried in string and double mode, refused clearly in
    // precise mode, as Debezium does.
    let special_columns = table_columns(&client, &mut catalog, "specials").await?;
    let special_rows = text_rows(&client, "specials", &special_columns).await?;
    let string_mode = options(&[("decimal.handling.mode", "string")])?;
    let specials = mapping("specials", special_columns.clone(), &string_mode)?;
    let (_, nan) = to_json(&specials, specials.row(&cells(&special_rows[0]))?)?;
    assert_eq!(
        nan,
        json!({"id": 1, "n": "NAN", "nv": "POSITIVE_INFINITY", "f": "NaN"})
    );
    let double_mode = options(&[("decimal.handling.mode", "double")])?;
    let specials = mapping("specials", special_columns.clone(), &double_mode)?;
    let (_, inf) = to_json(&specials, specials.row(&cells(&special_rows[1]))?)?;
    assert_eq!(
        inf,
        json!({"id": 2, "n": 1.5, "nv": "-Infinity", "f": "-Infinity"})
    );
    let specials = mapping("specials", special_columns, &TypeOptions::default())?;
    let err = specials.row(&cells(&special_rows[0])).unwrap_err();
    let chain = format!(
        "{err}: {}",
        std::error::Error::source(&err).context("cause")?
    );
    assert!(
        chain.contains("column n of table public.specials"),
        "{chain}"
    );
    assert!(chain.contains("decimal.handling.mode"), "{chain}");
    Ok(())
}

#[tokio::test]
async fn catalog_learns_new_and_changed_types() -> Result<()> {
    let pg = PostgresServer::start().await?;
    let client = pg.client().await?;
    let mut catalog = TypeCatalog::load(&client).await?;
    client
        .batch_execute(
            "CREATE TYPE size AS ENUM ('s', 'm');
             CREATE DOMAIN sizes AS size[];
             CREATE TABLE shirts (id int, sz size, szs sizes, note text NOT NULL);
             CREATE UNIQUE INDEX shirts_id ON shirts (id);
             ALTER TABLE shirts ALTER COLUMN id SET NOT NULL;
             ALTER TABLE shirts REPLICA IDENTITY USING INDEX shirts_id;",
        )
        .await?;
    let size_oid: u32 = client
        .query_one("SELECT 'size'::regtype::oid", &[])
        .await?
        .get(0);
    assert!(catalog.resolve(size_oid, -1).is_unknown(), "not loaded yet");

    let columns = table_columns(&client, &mut catalog, "shirts").await?;
    let described: Vec<(&str, bool, bool)> = columns
        .iter()
        .map(|c| (c.name.as_str(), c.optional, c.key))
        .collect();
    // No primary key: the replica identity index is the key.
    assert_eq!(
        described,
        [
            ("id", false, true),
            ("sz", true, false),
            ("szs", true, false),
            ("note", false, false)
        ]
    );
    let allowed = |catalog: &TypeCatalog| {
        catalog
            .resolve(size_oid, -1)
            .schema(true, &TypeOptions::default())
            .and_then(|s| s.parameter("allowed").map(str::to_string))
    };
    assert_eq!(allowed(&catalog).as_deref(), Some("s,m"));
    let szs = columns[2]
        .ty
        .schema(true, &TypeOptions::default())
        .context("szs")?;
    assert_eq!(
        szs.value_schema().context("items")?.parameter("allowed"),
        Some("s,m")
    );

    client
        .batch_execute("ALTER TYPE size ADD VALUE 'l'")
        .await?;
    catalog.ensure(&client, &[size_oid]).await?;
    assert_eq!(
        allowed(&catalog).as_deref(),
        Some("s,m"),
        "ensure keeps known types"
    );
    catalog.refresh(&client, &[size_oid]).await?;
    assert_eq!(allowed(&catalog).as_deref(), Some("s,m,l"));

    let missing = table_columns(&client, &mut catalog, "nope")
        .await
        .unwrap_err();
    assert!(missing.to_string().contains("public.nope"), "{missing}");
    Ok(())
}

/// The columns of `public.<table>` as the connector maps them: the catalog's facts (types,
/// nullability, key, defaults), their types loaded into `catalog`.
async fn table_columns(
    client: &Client,
    catalog: &mut TypeCatalog,
    table: &str,
) -> sluice_postgres::Result<Vec<TableColumn>> {
    let facts = describe_table(client, "public", table).await?;
    let oids: Vec<u32> = facts.iter().map(|f| f.type_oid).collect();
    catalog.ensure(client, &oids).await?;
    Ok(facts
        .iter()
        .map(|f| f.to_table_column(catalog.resolve(f.type_oid, f.type_modifier)))
        .collect())
}
