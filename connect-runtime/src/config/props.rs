//! Raw connector configurations: the string-to-string maps Kafka Connect passes around,
//! parsed from the JSON users POST or keep in files.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use crate::error::{Error, Result};

/// A connector's raw configuration: every value a string, as in Kafka Connect.
pub type Props = BTreeMap<String, String>;

/// A named connector configuration, as sent to `POST /connectors` or kept in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedProps {
    pub name: String,
    pub props: Props,
}

/// Parses the body of `POST /connectors` or a connector file.
///
/// Accepts the Kafka Connect REST shape `{"name": …, "config": {…}}` and the flat shape
/// `{"name": …, "connector.class": …, …}` that connect-standalone users write. Numbers and
/// booleans are taken as their text, like Kafka Connect does; nested objects and arrays are
/// rejected with the offending key named.
pub fn parse_named(json: &[u8]) -> Result<NamedProps> {
    let document: Json = serde_json::from_slice(json).map_err(|source| Error::MalformedConfig {
        reason: format!("not valid JSON ({source})"),
        source: Some(source),
    })?;
    let Json::Object(mut top) = document else {
        return Err(malformed(
            "expected a JSON object like {\"name\": \"…\", \"config\": {…}}",
        ));
    };
    let config = match top.remove("config") {
        Some(Json::Object(config)) => config,
        Some(_) => return Err(malformed("\"config\" must be a JSON object of strings")),
        None => std::mem::take(&mut top),
    };
    let mut props = props_from_object(config)?;
    let body_name = match top.remove("name") {
        Some(Json::String(name)) => Some(name),
        Some(_) => return Err(malformed("\"name\" must be a string")),
        None => None,
    };
    let name = match (body_name, props.get("name")) {
        (Some(outer), Some(inner)) if &outer != inner => {
            return Err(Error::InvalidConfig {
                key: "name".into(),
                value: inner.clone(),
                reason: format!(
                    "differs from the connector name {outer:?} given beside \"config\""
                ),
            });
        }
        (Some(outer), _) => outer,
        (None, Some(inner)) => inner.clone(),
        (None, None) => return Err(malformed("the connector has no \"name\"")),
    };
    validate_connector_name(&name)?;
    props.insert("name".into(), name.clone());
    Ok(NamedProps { name, props })
}

/// Turns a JSON object into string properties, rejecting values Kafka Connect would reject.
pub fn props_from_object(object: serde_json::Map<String, Json>) -> Result<Props> {
    let mut props = Props::new();
    for (key, value) in object {
        let text = match value {
            Json::String(text) => text,
            Json::Number(number) => number.to_string(),
            Json::Bool(flag) => flag.to_string(),
            Json::Null => {
                return Err(Error::InvalidConfig {
                    key,
                    value: "null".into(),
                    reason:
                        "configuration values must be strings; remove the key to use its default"
                            .into(),
                });
            }
            Json::Array(_) | Json::Object(_) => {
                return Err(Error::InvalidConfig {
                    key,
                    value: value.to_string(),
                    reason: "configuration values must be strings (lists are comma-separated)"
                        .into(),
                });
            }
        };
        props.insert(key, text);
    }
    Ok(props)
}

/// Connector names become topic, group and path components, so keep them printable.
pub fn validate_connector_name(name: &str) -> Result<()> {
    let reason = if name.trim().is_empty() {
        Some("a connector name must not be empty")
    } else if name.chars().any(|c| c.is_control()) {
        Some("a connector name must not contain control characters")
    } else if name.contains('/') {
        Some("a connector name must not contain '/' (it is used in REST paths)")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(Error::InvalidConfig {
            key: "name".into(),
            value: name.into(),
            reason: reason.into(),
        }),
        None => Ok(()),
    }
}

/// Properties from literal pairs, for tests across the crate.
#[cfg(test)]
pub(crate) fn props_of(pairs: &[(&str, &str)]) -> Props {
    pairs
        .iter()
        .map(|(key, value)| (key.to_string(), value.to_string()))
        .collect()
}

fn malformed(reason: &str) -> Error {
    Error::MalformedConfig {
        reason: reason.into(),
        source: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rest_shape_with_numbers_and_booleans() {
        let parsed = parse_named(
            br#"{"name":"inv","config":{"connector.class":"postgres","tasks.max":1,"x":true}}"#,
        )
        .unwrap();
        assert_eq!(parsed.name, "inv");
        assert_eq!(parsed.props["tasks.max"], "1");
        assert_eq!(parsed.props["x"], "true");
        assert_eq!(parsed.props["name"], "inv");
    }

    #[test]
    fn flat_shape_takes_name_from_the_map() {
        let parsed = parse_named(br#"{"name":"flat","connector.class":"file"}"#).unwrap();
        assert_eq!(parsed.name, "flat");
        assert_eq!(parsed.props["connector.class"], "file");
    }

    #[test]
    fn errors_name_the_problem() {
        let err = parse_named(b"{not json").unwrap_err().to_string();
        assert!(err.contains("not valid JSON"), "{err}");
        let err = parse_named(br#"{"name":"a","config":{"k":{"nested":1}}}"#)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("\"k\"") && err.contains("must be strings"),
            "{err}"
        );
        let err = parse_named(br#"{"config":{"a":"b"}}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("no \"name\""), "{err}");
        let err = parse_named(br#"{"name":"a","config":{"name":"b"}}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("differs"), "{err}");
        let err = parse_named(br#"{"name":"a/b","config":{}}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("'/'"), "{err}");
    }
}
