//! What a sink connector's configuration asks of the runtime, read once when the connector
//! starts: which topics to consume (`topics` or `topics.regex`), its converters and
//! transforms, and how to handle bad records (`errors.*`). Bad settings fail the connector
//! with an error naming the key.

use std::sync::Arc;
use std::time::Duration;

use regex::Regex;
use sluice_schemas::registry::SchemaRegistry;

use super::retry::RetryPolicy;
use crate::api::SinkRecord;
use crate::config::def::split_list;
use crate::config::def::{KeyReport, ValidationReport};
use crate::config::{ConfigDef, ConfigKey, Props};
use crate::converter::RecordConverters;
use crate::error::{Error, Result};
use crate::transforms::TransformChain;

pub const TOPICS: &str = "topics";
pub const TOPICS_REGEX: &str = "topics.regex";
pub const ERRORS_TOLERANCE: &str = "errors.tolerance";
pub const DLQ_TOPIC: &str = "errors.deadletterqueue.topic.name";
pub const DLQ_CONTEXT_HEADERS: &str = "errors.deadletterqueue.context.headers.enable";
pub const RETRY_TIMEOUT: &str = "errors.retry.timeout";
pub const RETRY_DELAY_MAX: &str = "errors.retry.delay.max.ms";

/// The keys the runtime reads from every sink connector's configuration.
pub fn sink_config_def() -> ConfigDef {
    ConfigDef::new()
        .define(ConfigKey::list(TOPICS).doc("Topics to consume, comma-separated (or use topics.regex)."))
        .define(ConfigKey::string(TOPICS_REGEX).doc("Consume every topic whose whole name matches this regular expression (or use topics)."))
        .define(
            ConfigKey::string(ERRORS_TOLERANCE)
                .default("none")
                .one_of(&["none", "all"])
                .doc("none: a record that cannot be converted or transformed fails the task; all: it is skipped (and sent to the dead-letter topic if one is set)."),
        )
        .define(ConfigKey::string(DLQ_TOPIC).default("").doc("Topic receiving records the task could not process (with errors.tolerance=all)."))
        .define(ConfigKey::boolean(DLQ_CONTEXT_HEADERS).default("false").doc("Add __connect.errors.* headers describing the failure to dead-letter records."))
        .define(ConfigKey::long(RETRY_TIMEOUT).default("0").at_least(-1).doc("How long to retry a failing put, in milliseconds (0: never, -1: forever)."))
        .define(ConfigKey::long(RETRY_DELAY_MAX).default("60000").at_least(0).doc("The longest pause between retries of a failing put, in milliseconds."))
}

/// Adds to `report` what the declared keys cannot express: exactly one of `topics` and
/// `topics.regex`, and a dead-letter topic the sink does not consume itself.
pub fn check_props(props: &Props, report: &mut ValidationReport) {
    let problem = Subscription::from_props(props)
        .and_then(|subscription| ErrorPolicy::from_props(props, &subscription));
    let (key, reason) = match problem {
        Ok(_) => return,
        Err(Error::InvalidConfig { key, reason, .. }) => (key, reason),
        Err(Error::MissingConfig { key, doc }) => (key, doc),
        Err(other) => (TOPICS.to_string(), other.to_string()),
    };
    // Only one report per key: a key the declarations already flagged keeps its error.
    match report.keys.iter_mut().find(|k| k.name == key) {
        Some(existing) if existing.errors.is_empty() => existing.errors.push(reason),
        Some(_) => {}
        None => report.keys.push(KeyReport {
            value: props.get(&key).cloned(),
            name: key,
            errors: vec![reason],
            recommended_values: Vec::new(),
        }),
    }
}

/// Which topics a sink consumes.
#[derive(Debug, Clone)]
pub enum Subscription {
    /// These topics (those that do not exist yet are picked up once they do).
    Topics(Vec<String>),
    /// Every topic whose whole name matches (checked again as topics appear).
    Pattern(Regex),
}

impl Subscription {
    /// The subscribed topics among `existing`, sorted.
    pub fn resolve(&self, existing: &[String]) -> Vec<String> {
        let mut topics: Vec<String> = existing
            .iter()
            .filter(|topic| self.covers(topic))
            .cloned()
            .collect();
        topics.sort();
        topics
    }

    pub fn covers(&self, topic: &str) -> bool {
        match self {
            Self::Topics(topics) => topics.iter().any(|t| t == topic),
            Self::Pattern(regex) => regex.is_match(topic),
        }
    }

    /// Exactly one of `topics` and `topics.regex`.
    pub fn from_props(props: &Props) -> Result<Self> {
        let topics = split_list(props.get(TOPICS).map(String::as_str).unwrap_or(""));
        let pattern = props
            .get(TOPICS_REGEX)
            .map(|raw| raw.trim())
            .filter(|raw| !raw.is_empty());
        match (topics.is_empty(), pattern) {
            (false, Some(raw)) => Err(Error::InvalidConfig {
                key: TOPICS_REGEX.into(),
                value: raw.to_string(),
                reason: "a sink takes either \"topics\" or \"topics.regex\", not both".into(),
            }),
            (true, None) => Err(Error::MissingConfig {
                key: TOPICS.into(),
                doc: "a sink consumes the topics listed in \"topics\" (comma-separated) or those matching \"topics.regex\"".into(),
            }),
            (false, None) => Ok(Self::Topics(topics)),
            (true, Some(raw)) => {
                // Anchored: Kafka matches the whole topic name.
                let regex = Regex::new(&format!("^(?:{raw})$")).map_err(|error| {
                    Error::InvalidConfig {
                        key: TOPICS_REGEX.into(),
                        value: raw.to_string(),
                        reason: format!("not a valid regular expression: {error}"),
                    }
                })?;
                Ok(Self::Pattern(regex))
            }
        }
    }
}

/// `errors.tolerance`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorTolerance {
    /// Any record that cannot be processed fails the task.
    None,
    /// Such records are skipped (and sent to the dead-letter topic when one is set).
    All,
}

/// Whether dead-letter records carry `__connect.errors.*` headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContextHeaders {
    Omitted,
    Included,
}

/// The `errors.*` settings.
#[derive(Debug, Clone)]
pub struct ErrorPolicy {
    pub tolerance: ErrorTolerance,
    pub dead_letter_topic: Option<String>,
    pub context_headers: ContextHeaders,
    pub retry: RetryPolicy,
}

impl ErrorPolicy {
    pub fn from_props(props: &Props, subscription: &Subscription) -> Result<Self> {
        let text = |key: &str| props.get(key).map(|v| v.trim()).unwrap_or("");
        let tolerance = match text(ERRORS_TOLERANCE).to_ascii_lowercase().as_str() {
            "" | "none" => ErrorTolerance::None,
            "all" => ErrorTolerance::All,
            other => return Err(invalid(ERRORS_TOLERANCE, other, "expected none or all")),
        };
        let dead_letter_topic = Some(text(DLQ_TOPIC).to_string()).filter(|t| !t.is_empty());
        if let Some(topic) = &dead_letter_topic
            && subscription.covers(topic)
        {
            return Err(invalid(
                DLQ_TOPIC,
                topic,
                "the dead-letter topic is one the connector consumes; choose another name",
            ));
        }
        let context_headers = match text(DLQ_CONTEXT_HEADERS).to_ascii_lowercase().as_str() {
            "" | "false" => ContextHeaders::Omitted,
            "true" => ContextHeaders::Included,
            other => {
                return Err(invalid(
                    DLQ_CONTEXT_HEADERS,
                    other,
                    "expected true or false",
                ));
            }
        };
        let millis = |key: &str, default: i64| -> Result<i64> {
            match text(key) {
                "" => Ok(default),
                raw => raw
                    .parse::<i64>()
                    .ok()
                    .filter(|ms| *ms >= -1)
                    .ok_or_else(|| invalid(key, raw, "expected milliseconds (a whole number)")),
            }
        };
        let timeout = match millis(RETRY_TIMEOUT, 0)? {
            -1 => None,
            ms => Some(Duration::from_millis(ms as u64)),
        };
        let max_delay = Duration::from_millis(millis(RETRY_DELAY_MAX, 60_000)?.max(0) as u64);
        Ok(Self {
            tolerance,
            dead_letter_topic,
            context_headers,
            retry: RetryPolicy::new(timeout, max_delay),
        })
    }
}

fn invalid(key: &str, value: &str, reason: &str) -> Error {
    Error::InvalidConfig {
        key: key.to_string(),
        value: value.to_string(),
        reason: reason.to_string(),
    }
}

/// A sink connector's runtime settings, shared by its tasks.
#[derive(Debug, Clone)]
pub struct SinkSettings {
    pub connector: String,
    pub subscription: Subscription,
    pub converters: RecordConverters,
    pub transforms: Arc<TransformChain<SinkRecord>>,
    pub errors: ErrorPolicy,
}

impl SinkSettings {
    /// Reads the settings from a connector's resolved configuration; the Avro converter
    /// uses `embedded` when no `schema.registry.url` is set.
    pub fn from_props(
        connector: &str,
        props: &Props,
        embedded: &Arc<SchemaRegistry>,
    ) -> Result<Self> {
        let subscription = Subscription::from_props(props)?;
        let errors = ErrorPolicy::from_props(props, &subscription)?;
        Ok(Self {
            connector: connector.to_string(),
            converters: RecordConverters::from_props(props, Some(embedded))?,
            transforms: Arc::new(TransformChain::from_props(props)?),
            subscription,
            errors,
        })
    }

    /// The consumer group of the connector's tasks (Kafka Connect's naming).
    pub fn group(&self) -> String {
        group_id(&self.connector)
    }
}

/// `connect-<connector name>`.
pub fn group_id(connector: &str) -> String {
    format!("connect-{connector}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(pairs: &[(&str, &str)]) -> Props {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn a_sink_takes_topics_or_a_regex_but_not_both() {
        let both = Subscription::from_props(&props(&[(TOPICS, "a"), (TOPICS_REGEX, "a.*")]));
        assert!(matches!(both, Err(Error::InvalidConfig { key, .. }) if key == TOPICS_REGEX));
        let neither = Subscription::from_props(&props(&[]));
        assert!(matches!(neither, Err(Error::MissingConfig { key, .. }) if key == TOPICS));
        let listed = Subscription::from_props(&props(&[(TOPICS, " a, b ,")])).unwrap();
        assert_eq!(
            listed.resolve(&["b".into(), "c".into(), "a".into()]),
            ["a", "b"]
        );
    }

    #[test]
    fn a_regex_matches_whole_topic_names() {
        let pattern = Subscription::from_props(&props(&[(TOPICS_REGEX, "orders\\..*")])).unwrap();
        assert!(pattern.covers("orders.eu"));
        assert!(!pattern.covers("old.orders.eu"));
        let bad = Subscription::from_props(&props(&[(TOPICS_REGEX, "(")]));
        assert!(matches!(bad, Err(Error::InvalidConfig { key, .. }) if key == TOPICS_REGEX));
    }

    #[test]
    fn error_settings_follow_kafka_defaults_and_reject_a_consumed_dead_letter_topic() {
        let topics = Subscription::Topics(vec!["in".into()]);
        let policy = ErrorPolicy::from_props(&props(&[]), &topics).unwrap();
        assert_eq!(policy.tolerance, ErrorTolerance::None);
        assert_eq!(policy.dead_letter_topic, None);
        assert_eq!(policy.context_headers, ContextHeaders::Omitted);
        let looped = ErrorPolicy::from_props(&props(&[(DLQ_TOPIC, "in")]), &topics);
        assert!(matches!(looped, Err(Error::InvalidConfig { key, .. }) if key == DLQ_TOPIC));
        let bad = ErrorPolicy::from_props(&props(&[(ERRORS_TOLERANCE, "some")]), &topics);
        assert!(matches!(bad, Err(Error::InvalidConfig { key, .. }) if key == ERRORS_TOLERANCE));
    }
}
