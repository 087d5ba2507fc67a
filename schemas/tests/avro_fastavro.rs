//! Our Avro schemas and Confluent-framed datums, read back by PyPI `fastavro` (an Avro
//! implementation no one here wrote): the test writes schema + framed bytes to a temp dir,
//! `tests/py/read_avro.py` decodes them, and every value is compared with what we wrote.

mod avro_support;

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use avro_support::{all_types_schema, all_types_values, change_event, change_event_schemas};
use serde_json::{Map, Value as Json, json};
use sluice_schemas::avro::{AvroConverter, Registration, split_wire};
use sluice_schemas::decimal::decode_decimal;
use sluice_schemas::logical;
use sluice_schemas::registry::{EmbeddedRegistryClient, RecordPart, SchemaRegistry};
use sluice_schemas::schema::{Schema, SchemaType};
use sluice_schemas::temporal::format_date;
use sluice_schemas::{SchemaRef, Value};

/// What `read_avro.py` prints for a Connect value after fastavro decoded its Avro form.
fn expected(schema: &Schema, value: &Value) -> Json {
    let millis_of_day = |ms: i64| {
        let (h, m, s, micros) = (
            ms / 3_600_000,
            ms / 60_000 % 60,
            ms / 1000 % 60,
            ms % 1000 * 1000,
        );
        if micros == 0 {
            format!("{h:02}:{m:02}:{s:02}")
        } else {
            format!("{h:02}:{m:02}:{s:02}.{micros:06}")
        }
    };
    match (schema.name(), value) {
        (_, Value::Null) => Json::Null,
        (Some(logical::DECIMAL), Value::Bytes(bytes)) => {
            let scale = schema.parameter("scale").unwrap().parse().unwrap();
            json!(format!("dec:{}", decode_decimal(bytes, scale)))
        }
        (Some(logical::CONNECT_DATE), Value::Int32(days)) => {
            json!(format!("date:{}", format_date(*days)))
        }
        (Some(logical::CONNECT_TIME), Value::Int32(ms)) => {
            json!(format!("time:{}", millis_of_day(i64::from(*ms))))
        }
        (Some(logical::CONNECT_TIMESTAMP), Value::Int64(ms)) => {
            let days = ms.div_euclid(86_400_000) as i32;
            json!(format!(
                "ts:{}T{}+00:00",
                format_date(days),
                millis_of_day(ms.rem_euclid(86_400_000))
            ))
        }
        (_, Value::Int8(v)) => json!(v),
        (_, Value::Int16(v)) => json!(v),
        (_, Value::Int32(v)) => json!(v),
        (_, Value::Int64(v)) => json!(v),
        (_, Value::Float32(v)) => json!(f64::from(*v)),
        (_, Value::Float64(v)) => json!(v),
        (_, Value::Boolean(v)) => json!(v),
        (_, Value::String(v)) => json!(v),
        (_, Value::Bytes(bytes)) => {
            json!(format!(
                "hex:{}",
                bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
            ))
        }
        (_, Value::Array(items)) => {
            let item_schema = schema.value_schema().unwrap();
            Json::Array(
                items
                    .iter()
                    .map(|item| expected(item_schema, item))
                    .collect(),
            )
        }
        (_, Value::Map(entries)) => {
            let (key_schema, value_schema) =
                (schema.key_schema().unwrap(), schema.value_schema().unwrap());
            if key_schema.schema_type() == SchemaType::String {
                let object: Map<String, Json> = entries
                    .iter()
                    .map(|(k, v)| (k.as_str().unwrap().to_owned(), expected(value_schema, v)))
                    .collect();
                Json::Object(object)
            } else {
                let pairs = entries
                    .iter()
                    .map(|(k, v)| json!({"key": expected(key_schema, k), "value": expected(value_schema, v)}));
                Json::Array(pairs.collect())
            }
        }
        (_, Value::Struct(s)) => {
            let object: Map<String, Json> = s
                .schema()
                .fields()
                .iter()
                .zip(s.values())
                .map(|(field, v)| (field.name().to_owned(), expected(field.schema(), v)))
                .collect();
            Json::Object(object)
        }
    }
}

fn run_reader(directory: &Path) -> Vec<Json> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/py/read_avro.py");
    let output = Command::new("python3")
        .arg(&script)
        .arg(directory)
        .output()
        .unwrap_or_else(|error| {
            panic!("cannot run python3 ({error}); install it and fastavro with scripts/setup.sh")
        });
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "read_avro.py failed ({}): {stderr}\n(a missing fastavro is installed by scripts/setup.sh)",
        output.status
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

#[tokio::test]
async fn fastavro_reads_our_schemas_and_framed_datums() {
    let registry = Arc::new(SchemaRegistry::in_memory());
    let converter = AvroConverter::new(
        Arc::new(EmbeddedRegistryClient::new(registry.clone())),
        RecordPart::Value,
        Registration::AutoRegister,
    );
    let all_types = all_types_schema();
    let events = change_event_schemas();
    let mut samples: Vec<(String, &str, SchemaRef, Value)> = Vec::new();
    for (index, value) in all_types_values(&all_types).into_iter().enumerate() {
        samples.push((
            format!("all_types_{index}"),
            "all_types",
            all_types.clone(),
            value,
        ));
    }
    samples.push((
        "change_event".into(),
        "dbserver1.inventory.orders",
        events.envelope.clone(),
        change_event(&events, 42),
    ));

    let directory = tempfile::tempdir().unwrap();
    for (name, topic, schema, value) in &samples {
        let bytes = converter
            .from_connect(topic, schema, value)
            .await
            .unwrap()
            .unwrap();
        let (id, _) = split_wire(&bytes).unwrap();
        let registered = registry.schema_by_id(id).unwrap();
        std::fs::write(directory.path().join(format!("{name}.avsc")), registered).unwrap();
        std::fs::write(directory.path().join(format!("{name}.bin")), &bytes).unwrap();
    }

    let lines = run_reader(directory.path());
    assert_eq!(lines.len(), samples.len(), "{lines:?}");
    for line in &lines {
        let name = line["name"].as_str().unwrap();
        let (_, topic, schema, value) = samples.iter().find(|(n, ..)| n == name).unwrap();
        let subject = format!("{topic}-value");
        let id = registry
            .version(&subject, sluice_schemas::registry::VersionSelector::Latest)
            .unwrap()
            .id;
        assert_eq!(line["schema_id"], json!(id.0), "{name}");
        let want = expected(schema, value);
        let got = &line["record"];
        for (field, wanted) in want.as_object().unwrap() {
            assert_eq!(&got[field], wanted, "{name}: field `{field}`");
        }
        assert_eq!(
            got.as_object().unwrap().len(),
            want.as_object().unwrap().len(),
            "{name}"
        );
    }
}
