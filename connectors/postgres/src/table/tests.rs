//! TableMapping: names, filtering, unknown types, keys, NULL / TOAST handling.

use sluice_schemas::source::SourceSchemaBuilder;
use sluice_schemas::{SchemaType, Value};

use super::*;
use crate::types::{TypeCatalog, UnknownTypes, parse_message_key_columns};

fn column(name: &str, oid: u32, optional: bool, key: bool) -> TableColumn {
    TableColumn {
        name: name.to_string(),
        ty: TypeCatalog::builtin().resolve(oid, -1),
        optional,
        key,
    }
}

fn columns() -> Vec<TableColumn> {
    vec![
        column("id", 23, false, true),
        column("name", 25, true, false),
        column("secret", 25, true, false),
        column("shape", 3615, true, false), // tsquery: unknown to Sluice
        column("score", 701, false, false),
    ]
}

fn mapping(columns: Vec<TableColumn>, opts: &TypeOptions, filter: &ColumnFilter) -> TableMapping {
    TableMapping::new(
        "dbserver1",
        "public",
        "users",
        columns,
        opts,
        filter,
        "__debezium_unavailable_value",
        SourceSchemaBuilder::postgres(),
    )
    .unwrap()
}

#[test]
fn schemas_are_named_and_filtered() {
    let filter = ColumnFilter::Exclude(vec![
        regex::Regex::new("^(?:public.users.secret)$").unwrap(),
    ]);
    let m = mapping(columns(), &TypeOptions::default(), &filter);
    assert_eq!(&**m.topic(), "dbserver1.public.users");
    let envelope = m.envelope();
    assert_eq!(
        envelope.key_schema().unwrap().name(),
        Some("dbserver1.public.users.Key")
    );
    assert_eq!(
        envelope.row_schema().name(),
        Some("dbserver1.public.users.Value")
    );
    assert_eq!(
        envelope.envelope_schema().name(),
        Some("dbserver1.public.users.Envelope")
    );
    assert_eq!(
        m.value_column_names().collect::<Vec<_>>(),
        ["id", "name", "score"]
    );
    assert_eq!(m.key_column_names().collect::<Vec<_>>(), ["id"]);
    let row = m
        .row(&[
            Cell::Text("7"),
            Cell::Text("ann"),
            Cell::Text("pw"),
            Cell::Text("'a' & 'b'"),
            Cell::Text("1.5"),
        ])
        .unwrap();
    assert_eq!(
        row.values(),
        &[
            Value::Int32(7),
            Value::String("ann".into()),
            Value::Float64(1.5)
        ]
    );
    let key = m
        .key(&[
            Cell::Text("7"),
            Cell::Null,
            Cell::Null,
            Cell::Null,
            Cell::Null,
        ])
        .unwrap();
    assert_eq!(key.unwrap().values(), &[Value::Int32(7)]);
}

#[test]
fn unknown_types_are_included_when_asked() {
    let opts = TypeOptions {
        unknown: UnknownTypes::Include,
        ..TypeOptions::default()
    };
    let m = mapping(columns(), &opts, &ColumnFilter::All);
    let shape = m
        .envelope()
        .row_schema()
        .field("shape")
        .unwrap()
        .schema()
        .clone();
    assert_eq!(shape.schema_type(), SchemaType::Bytes);
    let row = m
        .row(&[
            Cell::Text("1"),
            Cell::Null,
            Cell::Null,
            Cell::Text("'a' & 'b'"),
            Cell::Text("0"),
        ])
        .unwrap();
    assert_eq!(row.get("shape"), Some(&Value::Bytes(b"'a' & 'b'".to_vec())));
}

#[test]
fn nulls_toast_and_shape_errors() {
    let m = mapping(columns(), &TypeOptions::default(), &ColumnFilter::All);
    // A key-only old tuple: NOT NULL non-key columns get Debezium's zero value.
    let before = m
        .row(&[
            Cell::Text("1"),
            Cell::Null,
            Cell::Null,
            Cell::Null,
            Cell::Null,
        ])
        .unwrap();
    assert_eq!(before.get("name"), Some(&Value::Null));
    assert_eq!(before.get("score"), Some(&Value::Float64(0.0)));
    let toasted = m
        .row(&[
            Cell::Text("1"),
            Cell::UnchangedToast,
            Cell::Null,
            Cell::Null,
            Cell::Text("2"),
        ])
        .unwrap();
    assert_eq!(
        toasted.get("name"),
        Some(&Value::String("__debezium_unavailable_value".into()))
    );
    let err = m
        .row(&[
            Cell::Text("1"),
            Cell::Null,
            Cell::Null,
            Cell::Null,
            Cell::UnchangedToast,
        ])
        .unwrap_err();
    assert!(
        std::error::Error::source(&err)
            .unwrap()
            .to_string()
            .contains("REPLICA IDENTITY FULL"),
        "{err}"
    );
    let err = m.row(&[Cell::Text("1")]).unwrap_err();
    assert!(err.to_string().contains("5 columns"), "{err}");
    let err = m
        .row(&[
            Cell::Text("x"),
            Cell::Null,
            Cell::Null,
            Cell::Null,
            Cell::Text("1"),
        ])
        .unwrap_err();
    assert!(
        err.to_string().contains("column id of table public.users"),
        "{err}"
    );
}

#[test]
fn keyless_tables_and_message_key_columns() {
    let mut cols: Vec<TableColumn> = columns()
        .into_iter()
        .map(|c| TableColumn { key: false, ..c })
        .collect();
    let keyless = mapping(cols.clone(), &TypeOptions::default(), &ColumnFilter::All);
    assert!(keyless.envelope().key_schema().is_none());
    let cells = [
        Cell::Text("1"),
        Cell::Text("a"),
        Cell::Null,
        Cell::Null,
        Cell::Text("0"),
    ];
    assert!(keyless.key(&cells).unwrap().is_none());
    assert!(keyless.row_and_key(&cells).unwrap().1.is_none());

    let keys = parse_message_key_columns("public.users:name,id").unwrap();
    apply_message_key_columns(&keys, "public", "users", &mut cols).unwrap();
    let keyed = mapping(cols.clone(), &TypeOptions::default(), &ColumnFilter::All);
    // Key fields keep the table's column order.
    assert_eq!(keyed.key_column_names().collect::<Vec<_>>(), ["id", "name"]);
    let key = keyed.key(&cells).unwrap().unwrap();
    assert_eq!(key.values(), &[Value::Int32(1), Value::String("a".into())]);

    let wrong = parse_message_key_columns("public.users:nope").unwrap();
    let err = apply_message_key_columns(&wrong, "public", "users", &mut cols).unwrap_err();
    assert!(err.to_string().contains("message.key.columns"), "{err}");
}

#[test]
fn cells_from_pgoutput_values() {
    assert_eq!(Cell::try_from(&ColumnValue::Null).unwrap(), Cell::Null);
    assert_eq!(
        Cell::try_from(&ColumnValue::UnchangedToast).unwrap(),
        Cell::UnchangedToast
    );
    assert_eq!(
        Cell::try_from(&ColumnValue::Text(b"hi")).unwrap(),
        Cell::Text("hi")
    );
    assert!(Cell::try_from(&ColumnValue::Text(&[0xff])).is_err());
    assert!(Cell::try_from(&ColumnValue::Binary(&[1])).is_err());
}

#[test]
fn struct_values_take_their_fields_schema() {
    // A NOT NULL unconstrained numeric and point: required struct field schemas.
    let cols = vec![
        column("v", 1700, false, false),
        column("p", 600, false, false),
    ];
    let m = mapping(cols, &TypeOptions::default(), &ColumnFilter::All);
    let row = m.row(&[Cell::Text("1.50"), Cell::Text("(1,2)")]).unwrap();
    let v = row.get("v").unwrap().as_struct().unwrap();
    assert!(!v.schema().is_optional());
    assert_eq!(v.get("scale"), Some(&Value::Int32(1)));
    let zero = m.row(&[Cell::Null, Cell::Text("(0,0)")]).unwrap();
    let v = zero.get("v").unwrap().as_struct().unwrap();
    assert_eq!(v.get("value"), Some(&Value::Bytes(vec![0])));
}

#[test]
fn key_fields_follow_the_declared_key_order() {
    let mut cols = columns();
    cols[1].key = true; // name
    let m = mapping(cols, &TypeOptions::default(), &ColumnFilter::All)
        .with_key_order(&["name".to_string(), "id".to_string()])
        .unwrap();
    assert_eq!(m.key_column_names().collect::<Vec<_>>(), ["name", "id"]);
    let key_schema = m.envelope().key_schema().unwrap().clone();
    assert_eq!(key_schema.fields()[0].name(), "name");
    let cells = [
        Cell::Text("1"),
        Cell::Text("a"),
        Cell::Null,
        Cell::Null,
        Cell::Text("0"),
    ];
    let key = m.key(&cells).unwrap().unwrap();
    assert_eq!(key.values(), &[Value::String("a".into()), Value::Int32(1)]);
    // Converting once gives the same row and key as converting for each.
    let (row, copied_key) = m.row_and_key(&cells).unwrap();
    assert_eq!(row, m.row(&cells).unwrap());
    assert_eq!(copied_key, Some(key));
    let err = mapping(columns(), &TypeOptions::default(), &ColumnFilter::All)
        .with_key_order(&["score".to_string()])
        .unwrap_err();
    assert!(err.to_string().contains("not a key column"), "{err}");
}

#[test]
fn unchanged_toast_in_arrays_like_debezium() {
    let cols = vec![
        column("ints", 1007, true, false),
        column("texts", 1009, true, false),
        column("stamps", 1115, true, false),
    ];
    let m = TableMapping::new(
        "p",
        "s",
        "t",
        cols,
        &TypeOptions::default(),
        &ColumnFilter::All,
        "ab",
        SourceSchemaBuilder::postgres(),
    )
    .unwrap();
    let row = m
        .row(&[Cell::UnchangedToast, Cell::UnchangedToast, Cell::Null])
        .unwrap();
    assert_eq!(
        row.get("ints"),
        Some(&Value::Array(vec![Value::Int32(97), Value::Int32(98)]))
    );
    assert_eq!(
        row.get("texts"),
        Some(&Value::Array(vec![Value::String("ab".into())]))
    );
    assert!(
        m.row(&[Cell::Null, Cell::Null, Cell::UnchangedToast])
            .is_err()
    );
}

#[test]
fn a_kept_buffer_converts_row_after_row_and_survives_errors() {
    let m = mapping(columns(), &TypeOptions::default(), &ColumnFilter::All);
    let mut buffer = RowBuffer::default();
    for (id, name) in [("1", "a"), ("2", "b")] {
        let cells = [
            Cell::Text(id),
            Cell::Text(name),
            Cell::Null,
            Cell::Null,
            Cell::Text("0.5"),
        ];
        let built = m.row_and_key_in(&cells, &mut buffer).unwrap();
        assert_eq!(built, m.row_and_key(&cells).unwrap());
        assert!(buffer.values.is_empty(), "the values moved into the row");
        assert!(
            buffer.values.capacity() >= 4,
            "the buffer keeps its allocation"
        );
    }
    // A row that fails half-way leaves nothing behind for the next one.
    let bad = [
        Cell::Text("3"),
        Cell::Text("c"),
        Cell::Null,
        Cell::Null,
        Cell::Text("not a number"),
    ];
    assert!(m.row_and_key_in(&bad, &mut buffer).is_err());
    let good = [
        Cell::Text("4"),
        Cell::Null,
        Cell::Null,
        Cell::Null,
        Cell::Text("1"),
    ];
    let (row, key) = m.row_and_key_in(&good, &mut buffer).unwrap();
    assert_eq!(row.get("id"), Some(&Value::Int32(4)));
    assert_eq!(key.unwrap().values(), &[Value::Int32(4)]);
}

#[test]
fn recycled_cells_keep_their_allocation() {
    let mut cells = Vec::with_capacity(7);
    cells.push(Cell::Text("x"));
    let pointer = cells.as_ptr() as usize;
    let recycled: Vec<Cell<'static>> = recycle_cells(cells);
    assert!(recycled.is_empty());
    assert_eq!(recycled.capacity(), 7);
    assert_eq!(recycled.as_ptr() as usize, pointer);
}
