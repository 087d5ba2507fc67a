//! Subject name strategies: which registry subject a record's schema goes under, as Confluent's
//! `key.subject.name.strategy` / `value.subject.name.strategy` settings choose it.

use crate::registry::RecordPart;
use crate::schema::{Schema, SchemaType};
use crate::{Error, Result};

/// How the subject of a schema is named.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SubjectNameStrategy {
    /// `<topic>-key` / `<topic>-value` (Confluent's default).
    #[default]
    TopicName,
    /// The record's full name, whatever the topic.
    RecordName,
    /// `<topic>-<record full name>`.
    TopicRecordName,
}

impl SubjectNameStrategy {
    /// Parses a strategy class name (`io.confluent.kafka.serializers.subject.TopicNameStrategy`,
    /// …) or its short name; `key` names the setting in the error.
    pub fn parse(key: &str, value: &str) -> Result<Self> {
        let short = value.trim().rsplit('.').next().unwrap_or_default();
        match short {
            "TopicNameStrategy" => Ok(Self::TopicName),
            "RecordNameStrategy" => Ok(Self::RecordName),
            "TopicRecordNameStrategy" => Ok(Self::TopicRecordName),
            _ => Err(Error::InvalidConfig {
                key: key.to_owned(),
                value: value.to_owned(),
                reason: "use io.confluent.kafka.serializers.subject.TopicNameStrategy, RecordNameStrategy or TopicRecordNameStrategy".into(),
            }),
        }
    }

    fn record_name(self, schema: &Schema) -> Result<&str> {
        match (schema.schema_type(), schema.name()) {
            (SchemaType::Struct, Some(name)) => Ok(name),
            _ => Err(Error::InvalidConfig {
                key: "subject.name.strategy".into(),
                value: format!("{self:?}"),
                reason: format!(
                    "it needs a named struct schema, but the record's schema is {}; use TopicNameStrategy",
                    schema.describe()
                ),
            }),
        }
    }

    /// The subject for a record of `schema` on `topic`.
    pub fn subject(self, topic: &str, part: RecordPart, schema: &Schema) -> Result<String> {
        Ok(match self {
            Self::TopicName => crate::registry::topic_subject(topic, part),
            Self::RecordName => self.record_name(schema)?.to_owned(),
            Self::TopicRecordName => format!("{topic}-{}", self.record_name(schema)?),
        })
    }

    /// Whether `subject` is the one [`Self::subject`] gives, without building it (hot path).
    pub fn matches(self, subject: &str, topic: &str, part: RecordPart, schema: &Schema) -> bool {
        let (prefix, suffix) = match self {
            Self::TopicName => (
                topic,
                match part {
                    RecordPart::Key => "-key",
                    RecordPart::Value => "-value",
                },
            ),
            Self::RecordName => ("", schema.name().unwrap_or_default()),
            Self::TopicRecordName => (topic, schema.name().unwrap_or_default()),
        };
        let separator = usize::from(self == Self::TopicRecordName);
        subject.len() == prefix.len() + separator + suffix.len()
            && subject.starts_with(prefix)
            && subject.ends_with(suffix)
            && (separator == 0 || subject.as_bytes()[prefix.len()] == b'-')
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{INT32_SCHEMA, SchemaBuilder};

    #[test]
    fn strategies_name_subjects_like_confluent() {
        let schema = SchemaBuilder::struct_()
            .name("db.t.Value")
            .field("id", INT32_SCHEMA.clone())
            .build();
        let cases = [
            (SubjectNameStrategy::TopicName, "db.t-value"),
            (SubjectNameStrategy::RecordName, "db.t.Value"),
            (SubjectNameStrategy::TopicRecordName, "db.t-db.t.Value"),
        ];
        for (strategy, expected) in cases {
            let subject = strategy
                .subject("db.t", RecordPart::Value, &schema)
                .unwrap();
            assert_eq!(subject, expected);
            assert!(strategy.matches(&subject, "db.t", RecordPart::Value, &schema));
            assert!(
                !strategy.matches(&subject, "db.u", RecordPart::Value, &schema)
                    || strategy == SubjectNameStrategy::RecordName
            );
        }
        assert!(!SubjectNameStrategy::TopicName.matches(
            "db.t-value",
            "db.t",
            RecordPart::Key,
            &schema
        ));
        assert_eq!(
            SubjectNameStrategy::parse(
                "value.subject.name.strategy",
                "io.confluent.kafka.serializers.subject.RecordNameStrategy"
            )
            .unwrap(),
            SubjectNameStrategy::RecordName
        );
        assert!(SubjectNameStrategy::parse("value.subject.name.strategy", "Nope").is_err());
        let error = SubjectNameStrategy::RecordName
            .subject("t", RecordPart::Key, &INT32_SCHEMA)
            .unwrap_err();
        assert!(error.to_string().contains("named struct"), "{error}");
    }
}
