//! Avro schema compatibility: the schema-resolution rules of the Avro specification (can a reader
//! schema read what a writer schema wrote?) and Confluent's compatibility levels built on them.
//!
//! Every problem found names where it is (`after.price`) and both types, so a rejected
//! registration tells the user exactly which column change broke compatibility.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::str::FromStr;

use apache_avro::Schema;
use apache_avro::schema::{InnerDecimalSchema, UuidSchema};
use serde::{Deserialize, Serialize};

/// A subject's compatibility rule, named as Confluent names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CompatibilityLevel {
    /// No check.
    None,
    /// The new schema can read data written with the latest one (the default).
    #[default]
    Backward,
    /// The new schema can read data written with every earlier one.
    BackwardTransitive,
    /// The latest schema can read data written with the new one.
    Forward,
    /// Every earlier schema can read data written with the new one.
    ForwardTransitive,
    /// Both BACKWARD and FORWARD against the latest schema.
    Full,
    /// Both BACKWARD and FORWARD against every earlier schema.
    FullTransitive,
}

impl CompatibilityLevel {
    /// The name Confluent uses (`BACKWARD`, `FULL_TRANSITIVE`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "NONE",
            Self::Backward => "BACKWARD",
            Self::BackwardTransitive => "BACKWARD_TRANSITIVE",
            Self::Forward => "FORWARD",
            Self::ForwardTransitive => "FORWARD_TRANSITIVE",
            Self::Full => "FULL",
            Self::FullTransitive => "FULL_TRANSITIVE",
        }
    }

    /// Whether the new schema is checked against every earlier version, not only the latest.
    pub fn is_transitive(self) -> bool {
        matches!(
            self,
            Self::BackwardTransitive | Self::ForwardTransitive | Self::FullTransitive
        )
    }

    /// Checks `new` against one `existing` schema under this level; returns every problem found.
    pub fn check(self, new: &Schema, existing: &Schema) -> Vec<Incompatibility> {
        let backward = matches!(
            self,
            Self::Backward | Self::BackwardTransitive | Self::Full | Self::FullTransitive
        );
        let forward = matches!(
            self,
            Self::Forward | Self::ForwardTransitive | Self::Full | Self::FullTransitive
        );
        let mut problems = Vec::new();
        if backward {
            problems.extend(can_read(new, existing, Roles::NEW_READS_OLD));
        }
        if forward {
            problems.extend(can_read(existing, new, Roles::OLD_READS_NEW));
        }
        problems
    }
}

impl fmt::Display for CompatibilityLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CompatibilityLevel {
    type Err = crate::Error;

    fn from_str(text: &str) -> crate::Result<Self> {
        Ok(match text.trim().to_ascii_uppercase().as_str() {
            "NONE" => Self::None,
            "BACKWARD" => Self::Backward,
            "BACKWARD_TRANSITIVE" => Self::BackwardTransitive,
            "FORWARD" => Self::Forward,
            "FORWARD_TRANSITIVE" => Self::ForwardTransitive,
            "FULL" => Self::Full,
            "FULL_TRANSITIVE" => Self::FullTransitive,
            _ => {
                return Err(crate::Error::InvalidCompatibilityLevel {
                    value: text.to_owned(),
                });
            }
        })
    }
}

/// How the two schemas of a check are called in messages.
#[derive(Debug, Clone, Copy)]
pub struct Roles {
    pub reader: &'static str,
    pub writer: &'static str,
}

impl Roles {
    /// BACKWARD: the new schema reads data written with the old one.
    pub const NEW_READS_OLD: Roles = Roles {
        reader: "new",
        writer: "old",
    };
    /// FORWARD: the old schema reads data written with the new one.
    pub const OLD_READS_NEW: Roles = Roles {
        reader: "old",
        writer: "new",
    };
}

/// One reason a reader schema cannot read a writer schema's data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incompatibility {
    /// Dotted field path from the top-level record (`after.price`); empty for the top level.
    pub path: String,
    pub message: String,
}

impl fmt::Display for Incompatibility {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "field `{}`: {}", self.path, self.message)
        }
    }
}

/// Applies the Avro resolution rules: can data written with `writer` be read with `reader`?
pub fn can_read(reader: &Schema, writer: &Schema, roles: Roles) -> Vec<Incompatibility> {
    let mut checker = Checker {
        reader_names: named_types(reader),
        writer_names: named_types(writer),
        in_progress: HashSet::new(),
        roles,
        problems: Vec::new(),
    };
    checker.check(reader, writer, "");
    checker.problems
}

/// The named types (records, enums, fixed) defined anywhere in a schema, by full name.
fn named_types(schema: &Schema) -> HashMap<String, &Schema> {
    fn collect<'a>(schema: &'a Schema, names: &mut HashMap<String, &'a Schema>) {
        match schema {
            Schema::Record(record)
                if names.insert(record.name.fullname(None), schema).is_none() =>
            {
                for field in &record.fields {
                    collect(&field.schema, names);
                }
            }
            Schema::Enum(e) => {
                names.insert(e.name.fullname(None), schema);
            }
            Schema::Fixed(f) | Schema::Duration(f) => {
                names.insert(f.name.fullname(None), schema);
            }
            Schema::Decimal(d) => {
                if let InnerDecimalSchema::Fixed(f) = &d.inner {
                    names.insert(f.name.fullname(None), schema);
                }
            }
            Schema::Uuid(UuidSchema::Fixed(f)) => {
                names.insert(f.name.fullname(None), schema);
            }
            Schema::Array(array) => collect(&array.items, names),
            Schema::Map(map) => collect(&map.types, names),
            Schema::Union(union) => union.variants().iter().for_each(|v| collect(v, names)),
            _ => {}
        }
    }
    let mut names = HashMap::new();
    collect(schema, &mut names);
    names
}

/// The physical Avro type a schema is encoded as; logical types are ignored by resolution,
/// as in the Avro reference implementation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Physical {
    Null,
    Boolean,
    Int,
    Long,
    Float,
    Double,
    Bytes,
    String,
    Array,
    Map,
    Union,
    Record,
    Enum,
    Fixed,
}

fn physical(schema: &Schema) -> Physical {
    match schema {
        Schema::Null => Physical::Null,
        Schema::Boolean => Physical::Boolean,
        Schema::Int | Schema::Date | Schema::TimeMillis => Physical::Int,
        Schema::Long
        | Schema::TimeMicros
        | Schema::TimestampMillis
        | Schema::TimestampMicros
        | Schema::TimestampNanos
        | Schema::LocalTimestampMillis
        | Schema::LocalTimestampMicros
        | Schema::LocalTimestampNanos => Physical::Long,
        Schema::Float => Physical::Float,
        Schema::Double => Physical::Double,
        Schema::Bytes | Schema::BigDecimal | Schema::Uuid(UuidSchema::Bytes) => Physical::Bytes,
        Schema::Decimal(d) => match d.inner {
            InnerDecimalSchema::Bytes => Physical::Bytes,
            InnerDecimalSchema::Fixed(_) => Physical::Fixed,
        },
        Schema::String | Schema::Uuid(UuidSchema::String) => Physical::String,
        Schema::Uuid(UuidSchema::Fixed(_)) | Schema::Fixed(_) | Schema::Duration(_) => {
            Physical::Fixed
        }
        Schema::Array(_) => Physical::Array,
        Schema::Map(_) => Physical::Map,
        Schema::Union(_) => Physical::Union,
        Schema::Record(_) => Physical::Record,
        Schema::Enum(_) => Physical::Enum,
        // References are resolved before `physical` is asked.
        Schema::Ref { .. } => Physical::Record,
    }
}

/// A short human description of a schema's type, for messages.
pub fn describe(schema: &Schema) -> String {
    match schema {
        Schema::Null => "null".into(),
        Schema::Boolean => "boolean".into(),
        Schema::Int => "int".into(),
        Schema::Long => "long".into(),
        Schema::Float => "float".into(),
        Schema::Double => "double".into(),
        Schema::Bytes => "bytes".into(),
        Schema::String => "string".into(),
        Schema::Array(a) => format!("array<{}>", describe(&a.items)),
        Schema::Map(m) => format!("map<{}>", describe(&m.types)),
        Schema::Union(u) => {
            let parts: Vec<String> = u.variants().iter().map(describe).collect();
            format!("union [{}]", parts.join(", "))
        }
        Schema::Record(r) => format!("record {}", r.name.fullname(None)),
        Schema::Enum(e) => format!("enum {}", e.name.fullname(None)),
        Schema::Fixed(f) => format!("fixed {}({})", f.name.fullname(None), f.size),
        Schema::Decimal(d) => format!("decimal({}, {})", d.precision, d.scale),
        Schema::BigDecimal => "big-decimal".into(),
        Schema::Uuid(_) => "uuid".into(),
        Schema::Date => "int (date)".into(),
        Schema::TimeMillis => "int (time-millis)".into(),
        Schema::TimeMicros => "long (time-micros)".into(),
        Schema::TimestampMillis => "long (timestamp-millis)".into(),
        Schema::TimestampMicros => "long (timestamp-micros)".into(),
        Schema::TimestampNanos => "long (timestamp-nanos)".into(),
        Schema::LocalTimestampMillis => "long (local-timestamp-millis)".into(),
        Schema::LocalTimestampMicros => "long (local-timestamp-micros)".into(),
        Schema::LocalTimestampNanos => "long (local-timestamp-nanos)".into(),
        Schema::Duration(_) => "fixed (duration)".into(),
        Schema::Ref { name } => name.fullname(None),
    }
}

struct Checker<'a> {
    reader_names: HashMap<String, &'a Schema>,
    writer_names: HashMap<String, &'a Schema>,
    /// (reader name, writer name) pairs being checked, so recursive types terminate.
    in_progress: HashSet<(String, String)>,
    roles: Roles,
    problems: Vec<Incompatibility>,
}

impl<'a> Checker<'a> {
    fn resolve(names: &HashMap<String, &'a Schema>, schema: &'a Schema) -> &'a Schema {
        if let Schema::Ref { name } = schema {
            let full = name.fullname(None);
            if let Some(found) = names.get(&full) {
                return found;
            }
            // A reference may have been recorded without its namespace.
            if let Some(found) = names
                .iter()
                .find(|(k, _)| k.rsplit('.').next() == Some(name.name()))
            {
                return found.1;
            }
        }
        schema
    }

    fn problem(&mut self, path: &str, message: String) {
        self.problems.push(Incompatibility {
            path: path.to_owned(),
            message,
        });
    }

    fn type_mismatch(&mut self, path: &str, reader: &Schema, writer: &Schema) {
        let message = format!(
            "the {} schema's type `{}` cannot read the {} schema's type `{}`",
            self.roles.reader,
            describe(reader),
            self.roles.writer,
            describe(writer)
        );
        self.problem(path, message);
    }

    fn check(&mut self, reader: &'a Schema, writer: &'a Schema, path: &str) {
        let reader = Self::resolve(&self.reader_names, reader);
        let writer = Self::resolve(&self.writer_names, writer);
        if let Schema::Union(writer_union) = writer {
            // Every branch the writer may have written must be readable.
            for branch in writer_union.variants() {
                self.check(reader, branch, path);
            }
            return;
        }
        if let Schema::Union(reader_union) = reader {
            // The first branch that can read the writer's type is used; when none can, report
            // the problems of the branch of the same kind, which says what changed inside it.
            let mut closest: Option<Vec<Incompatibility>> = None;
            for branch in reader_union.variants() {
                let branch = Self::resolve(&self.reader_names, branch);
                let saved = std::mem::take(&mut self.problems);
                self.check(branch, writer, path);
                let problems = std::mem::replace(&mut self.problems, saved);
                if problems.is_empty() {
                    return;
                }
                if closest.is_none() && physical(branch) == physical(writer) {
                    closest = Some(problems);
                }
            }
            match closest {
                Some(problems) => self.problems.extend(problems),
                None => self.type_mismatch(path, reader, writer),
            }
            return;
        }
        let (r, w) = (physical(reader), physical(writer));
        let promotable = matches!(
            (r, w),
            (Physical::Long, Physical::Int)
                | (Physical::Float, Physical::Int | Physical::Long)
                | (
                    Physical::Double,
                    Physical::Int | Physical::Long | Physical::Float
                )
                | (Physical::String, Physical::Bytes)
                | (Physical::Bytes, Physical::String)
        );
        if promotable {
            return;
        }
        if r != w {
            self.type_mismatch(path, reader, writer);
            return;
        }
        match (reader, writer) {
            (Schema::Array(ra), Schema::Array(wa)) => {
                self.check(&ra.items, &wa.items, &format!("{path}[]"));
            }
            (Schema::Map(rm), Schema::Map(wm)) => {
                self.check(&rm.types, &wm.types, &format!("{path}{{}}"));
            }
            (Schema::Record(rr), Schema::Record(wr)) => {
                if rr.name.name() != wr.name.name() {
                    self.type_mismatch(path, reader, writer);
                    return;
                }
                let key = (rr.name.fullname(None), wr.name.fullname(None));
                if !self.in_progress.insert(key.clone()) {
                    return;
                }
                for field in &rr.fields {
                    let field_path = if path.is_empty() {
                        field.name.clone()
                    } else {
                        format!("{path}.{}", field.name)
                    };
                    let written = wr
                        .fields
                        .iter()
                        .find(|w| w.name == field.name || field.aliases.contains(&w.name));
                    match written {
                        Some(written) => self.check(&field.schema, &written.schema, &field_path),
                        None if field.default.is_some() => {}
                        None => {
                            let message = format!(
                                "field `{}` (type `{}`) was added in the {} schema without a default, so data written with the {} schema cannot be read; give it a default (e.g. make it optional with default null)",
                                field.name,
                                describe(&field.schema),
                                self.roles.reader,
                                self.roles.writer
                            );
                            self.problem(&field_path, message);
                        }
                    }
                }
                self.in_progress.remove(&key);
            }
            (Schema::Enum(re), Schema::Enum(we)) => {
                if re.name.name() != we.name.name() {
                    self.type_mismatch(path, reader, writer);
                    return;
                }
                if re.default.is_none() {
                    for symbol in we.symbols.iter().filter(|s| !re.symbols.contains(s)) {
                        let message = format!(
                            "enum symbol `{symbol}` of the {} schema's `{}` is missing from the {} schema's `{}`, which has no default symbol",
                            self.roles.writer,
                            describe(writer),
                            self.roles.reader,
                            describe(reader)
                        );
                        self.problem(path, message);
                    }
                }
            }
            (_, _) if r == Physical::Fixed => {
                let (rf, wf) = (fixed_parts(reader), fixed_parts(writer));
                if rf != wf {
                    self.type_mismatch(path, reader, writer);
                }
            }
            _ => {}
        }
    }
}

/// (unqualified name, size) of a fixed-encoded schema.
fn fixed_parts(schema: &Schema) -> Option<(&str, usize)> {
    match schema {
        Schema::Fixed(f) | Schema::Duration(f) | Schema::Uuid(UuidSchema::Fixed(f)) => {
            Some((f.name.name(), f.size))
        }
        Schema::Decimal(d) => match &d.inner {
            InnerDecimalSchema::Fixed(f) => Some((f.name.name(), f.size)),
            InnerDecimalSchema::Bytes => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Schema {
        Schema::parse_str(text).unwrap()
    }

    fn record(fields: &str) -> Schema {
        parse(&format!(
            r#"{{"type":"record","name":"Value","namespace":"db.t","fields":[{fields}]}}"#
        ))
    }

    #[test]
    fn adding_an_optional_field_is_backward_compatible() {
        let old = record(r#"{"name":"id","type":"int"}"#);
        let new = record(
            r#"{"name":"id","type":"int"},{"name":"email","type":["null","string"],"default":null}"#,
        );
        assert!(CompatibilityLevel::Backward.check(&new, &old).is_empty());
        assert!(CompatibilityLevel::Full.check(&new, &old).is_empty());
    }

    #[test]
    fn adding_a_required_field_is_not_backward_but_is_forward_compatible() {
        let old = record(r#"{"name":"id","type":"int"}"#);
        let new = record(r#"{"name":"id","type":"int"},{"name":"email","type":"string"}"#);
        let problems = CompatibilityLevel::Backward.check(&new, &old);
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].path, "email");
        assert!(
            problems[0].message.contains("without a default"),
            "{}",
            problems[0]
        );
        assert!(CompatibilityLevel::Forward.check(&new, &old).is_empty());
    }

    #[test]
    fn removing_a_field_is_backward_but_not_forward_compatible_without_default() {
        let old = record(r#"{"name":"id","type":"int"},{"name":"name","type":"string"}"#);
        let new = record(r#"{"name":"id","type":"int"}"#);
        assert!(CompatibilityLevel::Backward.check(&new, &old).is_empty());
        let problems = CompatibilityLevel::Forward.check(&new, &old);
        assert_eq!(problems[0].path, "name");
    }

    #[test]
    fn a_type_change_names_the_field_and_both_types() {
        let old = record(r#"{"name":"id","type":"int"},{"name":"price","type":"string"}"#);
        let new = record(r#"{"name":"id","type":"int"},{"name":"price","type":"int"}"#);
        let problems = CompatibilityLevel::Backward.check(&new, &old);
        assert_eq!(problems.len(), 1);
        let text = problems[0].to_string();
        assert!(
            text.contains("`price`") && text.contains("`int`") && text.contains("`string`"),
            "{text}"
        );
    }

    #[test]
    fn promotions_follow_the_avro_specification() {
        let old = record(r#"{"name":"n","type":"int"}"#);
        let new = record(r#"{"name":"n","type":"long"}"#);
        assert!(CompatibilityLevel::Backward.check(&new, &old).is_empty());
        // long data cannot be read as int.
        assert_eq!(CompatibilityLevel::Forward.check(&new, &old).len(), 1);
    }

    #[test]
    fn nested_records_and_named_references_are_followed() {
        let envelope = |after_type: &str| {
            parse(&format!(
                r#"{{"type":"record","name":"Envelope","namespace":"db.t","fields":[
                {{"name":"before","type":["null",{{"type":"record","name":"Value","fields":[{{"name":"qty","type":"{after_type}"}}]}}],"default":null}},
                {{"name":"after","type":["null","Value"],"default":null}}]}}"#
            ))
        };
        let problems = CompatibilityLevel::Backward.check(&envelope("string"), &envelope("int"));
        assert!(!problems.is_empty());
        assert!(
            problems.iter().all(|p| p.path.ends_with(".qty")),
            "{problems:?}"
        );
        assert!(
            CompatibilityLevel::Backward
                .check(&envelope("long"), &envelope("int"))
                .is_empty()
        );
    }

    #[test]
    fn enums_need_every_written_symbol_or_a_default() {
        let enum_schema = |symbols: &str| {
            parse(&format!(
                r#"{{"type":"enum","name":"Color","symbols":[{symbols}]}}"#
            ))
        };
        let old = enum_schema(r#""RED","GREEN""#);
        let new = enum_schema(r#""RED""#);
        assert_eq!(CompatibilityLevel::Backward.check(&new, &old).len(), 1);
        assert!(CompatibilityLevel::Forward.check(&new, &old).is_empty());
    }

    #[test]
    fn levels_parse_from_confluent_names() {
        for level in [
            CompatibilityLevel::None,
            CompatibilityLevel::Backward,
            CompatibilityLevel::BackwardTransitive,
            CompatibilityLevel::Forward,
            CompatibilityLevel::ForwardTransitive,
            CompatibilityLevel::Full,
            CompatibilityLevel::FullTransitive,
        ] {
            assert_eq!(level.as_str().parse::<CompatibilityLevel>().unwrap(), level);
        }
        assert!("SIDEWAYS".parse::<CompatibilityLevel>().is_err());
    }
}
