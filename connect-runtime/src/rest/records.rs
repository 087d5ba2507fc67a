//! Records over REST: rendering stored bytes as JSON for `GET /topics/{t}/records` (and
//! the `sluice consume` command), and parsing the records `POST /topics/{t}/records` takes.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use sluice_broker::{FetchedRecord, Header, Record};

/// How keys and values are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Rendering {
    /// JSON bytes as JSON, other UTF-8 as a string, anything else as base64 text.
    #[default]
    Json,
    /// Base64 of the stored bytes.
    Raw,
}

/// One record as the REST API and `sluice consume --format json|raw` print it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RenderedRecord {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub timestamp: i64,
    pub key: Json,
    pub value: Json,
    pub headers: Vec<(String, Json)>,
}

pub fn render(
    topic: &str,
    partition: i32,
    fetched: &FetchedRecord,
    how: Rendering,
) -> RenderedRecord {
    let record = &fetched.record;
    RenderedRecord {
        topic: topic.to_string(),
        partition,
        offset: fetched.offset.0,
        timestamp: record.timestamp_ms,
        key: render_bytes(record.key.as_ref(), how),
        value: render_bytes(record.value.as_ref(), how),
        headers: record
            .headers
            .iter()
            .map(|header| {
                (
                    header.key.to_string(),
                    render_bytes(header.value.as_ref(), how),
                )
            })
            .collect(),
    }
}

fn render_bytes(bytes: Option<&Bytes>, how: Rendering) -> Json {
    let Some(bytes) = bytes else {
        return Json::Null;
    };
    match how {
        Rendering::Raw => Json::String(BASE64.encode(bytes)),
        Rendering::Json => {
            if let Ok(json) = serde_json::from_slice::<Json>(bytes) {
                json
            } else if let Ok(text) = std::str::from_utf8(bytes) {
                Json::String(text.to_string())
            } else {
                Json::String(BASE64.encode(bytes))
            }
        }
    }
}

/// A record to produce. `key` and `value` are stored as their text when strings and as
/// compact JSON otherwise; `null` (or absent) stores a null.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordToProduce {
    #[serde(default)]
    pub key: Json,
    #[serde(default)]
    pub value: Json,
    #[serde(default)]
    pub headers: Vec<(String, Option<String>)>,
    #[serde(default)]
    pub partition: Option<i32>,
}

impl RecordToProduce {
    pub fn into_record(self) -> Record {
        let mut record = Record::new(stored_bytes(self.key), stored_bytes(self.value));
        record.headers = self
            .headers
            .into_iter()
            .map(|(key, value)| Header {
                key: key.into(),
                value: value.map(Bytes::from),
            })
            .collect();
        record
    }
}

fn stored_bytes(value: Json) -> Option<Bytes> {
    match value {
        Json::Null => None,
        Json::String(text) => Some(Bytes::from(text)),
        other => Some(Bytes::from(other.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_broker::Offset;

    #[test]
    fn renders_json_text_binary_and_null() {
        let mut record = Record::new(Some(Bytes::from("{\"id\":1}")), None);
        record.headers.push(Header {
            key: "h".into(),
            value: Some(Bytes::from_static(&[0xff, 0x00])),
        });
        let fetched = FetchedRecord {
            offset: Offset(5),
            record,
        };
        let shown = render("t", 0, &fetched, Rendering::Json);
        assert_eq!(shown.key, serde_json::json!({"id": 1}));
        assert_eq!(shown.value, Json::Null);
        assert_eq!(shown.headers[0].1, Json::String("/wA=".into()));
        let raw = render("t", 0, &fetched, Rendering::Raw);
        assert_eq!(raw.key, Json::String(BASE64.encode("{\"id\":1}")));
    }

    #[test]
    fn produced_values_keep_strings_as_text() {
        let parsed: RecordToProduce =
            serde_json::from_str(r#"{"key":"k","value":{"a":1}}"#).unwrap();
        let record = parsed.into_record();
        assert_eq!(record.key.unwrap(), "k");
        assert_eq!(record.value.unwrap(), "{\"a\":1}");
    }
}
