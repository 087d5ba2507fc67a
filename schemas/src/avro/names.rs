//! Avro names: which Connect names are valid Avro names, and Confluent's `scrub.invalid.names`
//! rewriting of those that are not (URL-encode, then `_` for anything but `[A-Za-z0-9_]`, and an
//! `x` before a leading digit).

use std::borrow::Cow;

use crate::schema::{Schema, SchemaType};
use crate::{Error, Result};

/// What to do with Connect names that are not valid Avro names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NameMode {
    /// Keep names as they are; an invalid one is an error (`scrub.invalid.names=false`).
    #[default]
    AsIs,
    /// Rewrite invalid names the way Confluent's converter does (`scrub.invalid.names=true`).
    Scrub,
}

/// `[A-Za-z_][A-Za-z0-9_]*`.
pub fn is_valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// One name part, scrubbed as Confluent's `AvroData.doScrubName` does.
pub fn scrub_name(name: &str) -> Cow<'_, str> {
    if name.is_empty() || is_valid_name(name) {
        return Cow::Borrowed(name);
    }
    // Java's URLEncoder keeps [A-Za-z0-9.*_-], writes space as '+', other bytes as %XX.
    let mut encoded = String::with_capacity(name.len() * 3);
    for byte in name.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'*' | b'_' | b'-' => {
                encoded.push(char::from(byte));
            }
            b' ' => encoded.push('+'),
            _ => encoded.push_str(&format!("%{byte:02X}")),
        }
    }
    if encoded.starts_with(|c: char| c.is_ascii_digit()) {
        encoded.insert(0, 'x');
    }
    let scrubbed: String = encoded
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    Cow::Owned(scrubbed)
}

/// A dotted full name with every part scrubbed.
pub fn scrub_full_name(full: &str) -> String {
    full.split('.')
        .map(scrub_name)
        .collect::<Vec<_>>()
        .join(".")
}

/// Checks that every record and field name in `schema` is a valid Avro name; the error names
/// the first offender and how to fix it.
pub fn check_names(schema: &Schema) -> Result<()> {
    let invalid = |what: String| Error::InvalidAvroSchema {
        reason: format!(
            "{what} is not a valid Avro name ([A-Za-z_][A-Za-z0-9_]*); set `field.name.adjustment.mode=avro` on the connector or `scrub.invalid.names=true` on the Avro converter"
        ),
        source: None,
    };
    if schema.schema_type() == SchemaType::Struct
        && let Some(name) = schema.name()
        && let Some(part) = name.split('.').find(|part| !is_valid_name(part))
    {
        return Err(invalid(format!("record name `{name}` (part `{part}`)")));
    }
    for field in schema.fields() {
        if !is_valid_name(field.name()) {
            let owner = schema.name().unwrap_or("(unnamed struct)");
            return Err(invalid(format!("field `{}` of `{owner}`", field.name())));
        }
        check_names(field.schema())?;
    }
    for nested in [schema.key_schema(), schema.value_schema()]
        .into_iter()
        .flatten()
    {
        check_names(nested)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{INT32_SCHEMA, SchemaBuilder};

    #[test]
    fn scrubbing_matches_confluent() {
        assert_eq!(scrub_name("order_id"), "order_id");
        assert_eq!(scrub_name("order-date"), "order_date");
        assert_eq!(scrub_name("1st"), "x1st");
        assert_eq!(scrub_name("naïve"), "na_C3_AFve");
        assert_eq!(scrub_name("a b"), "a_b");
        assert_eq!(scrub_full_name("db.my-table.Value"), "db.my_table.Value");
    }

    #[test]
    fn invalid_names_are_reported_with_the_fix() {
        let schema = SchemaBuilder::struct_()
            .name("db.t.Value")
            .field("order-date", INT32_SCHEMA.clone())
            .build();
        let error = check_names(&schema).unwrap_err().to_string();
        assert!(
            error.contains("field `order-date` of `db.t.Value`"),
            "{error}"
        );
        assert!(error.contains("scrub.invalid.names=true"), "{error}");
        let fine = SchemaBuilder::struct_()
            .name("db.t.Value")
            .field("id", INT32_SCHEMA.clone())
            .build();
        check_names(&fine).unwrap();
    }
}
