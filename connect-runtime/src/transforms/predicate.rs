//! Predicates that decide whether a transform applies to a record (Kafka Connect's KIP-585):
//! `TopicNameMatches` (`pattern`, matched against the whole topic name), `RecordIsTombstone`
//! and `HasHeaderKey` (`name`).

use regex::Regex;

use super::config::TransformConfig;
use crate::api::ConnectRecord;
use crate::error::Result;

pub const TOPIC_NAME_MATCHES: &str =
    "org.apache.kafka.connect.transforms.predicates.TopicNameMatches";
pub const RECORD_IS_TOMBSTONE: &str =
    "org.apache.kafka.connect.transforms.predicates.RecordIsTombstone";
pub const HAS_HEADER_KEY: &str = "org.apache.kafka.connect.transforms.predicates.HasHeaderKey";

const ALL: &[&str] = &[TOPIC_NAME_MATCHES, RECORD_IS_TOMBSTONE, HAS_HEADER_KEY];

/// A configured predicate.
#[derive(Debug, Clone)]
pub enum Predicate {
    /// The topic name matches the regex in full.
    TopicNameMatches(Regex),
    /// The record's value is null.
    RecordIsTombstone,
    /// The record has at least one header with this key.
    HasHeaderKey(String),
}

impl Predicate {
    /// The predicate `predicates.<alias>.*` describes.
    pub fn new(config: &TransformConfig<'_>) -> Result<Self> {
        let type_name = config.required("type", "the predicate's class name")?;
        Ok(match type_name {
            TOPIC_NAME_MATCHES => {
                config.warn_unknown(&["pattern"]);
                let pattern = config.required(
                    "pattern",
                    "a Java-style regex the whole topic name must match",
                )?;
                Self::TopicNameMatches(full_match_regex(pattern).map_err(|err| {
                    config.invalid("pattern", pattern, &format!("not a valid regex: {err}"))
                })?)
            }
            RECORD_IS_TOMBSTONE => {
                config.warn_unknown(&[]);
                Self::RecordIsTombstone
            }
            HAS_HEADER_KEY => {
                config.warn_unknown(&["name"]);
                Self::HasHeaderKey(
                    config
                        .required("name", "the header key to look for")?
                        .to_string(),
                )
            }
            other => {
                return Err(config.invalid(
                    "type",
                    other,
                    &format!("unknown predicate; known predicates: {}", ALL.join(", ")),
                ));
            }
        })
    }

    pub fn test<R: ConnectRecord>(&self, record: &R) -> bool {
        match self {
            Self::TopicNameMatches(regex) => regex.is_match(record.topic()),
            Self::RecordIsTombstone => record.is_tombstone(),
            Self::HasHeaderKey(name) => record.headers().contains(name),
        }
    }
}

/// A regex that matches only whole strings, like Java's `Matcher.matches()`.
pub(crate) fn full_match_regex(pattern: &str) -> std::result::Result<Regex, regex::Error> {
    Regex::new(&format!("^(?:{pattern})$"))
}
