//! Kafka Connect values: [`Value`] (one variant per schema type, plus `Null`) and [`Struct`] (a
//! value per field of a struct schema), with validation against a schema that names the field at
//! fault.
//!
//! Logical types keep their Connect encoding here: a Decimal is `Bytes` (the unscaled value), a
//! Date is `Int32` days, a Timestamp is `Int64` milliseconds; see [`crate::logical`] for helpers.

use std::sync::Arc;

use crate::error::{Error, Result};
use crate::schema::{Schema, SchemaRef, SchemaType};
use crate::text::Text;

/// One Connect value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int8(i8),
    Int16(i16),
    Int32(i32),
    Int64(i64),
    Float32(f32),
    Float64(f64),
    Boolean(bool),
    String(Text),
    Bytes(Vec<u8>),
    Array(Vec<Value>),
    /// Entries in insertion order; keys are unique by the producer's contract.
    Map(Vec<(Value, Value)>),
    Struct(Struct),
}

impl Value {
    /// The name of the variant, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Int8(_) => "int8",
            Value::Int16(_) => "int16",
            Value::Int32(_) => "int32",
            Value::Int64(_) => "int64",
            Value::Float32(_) => "float32",
            Value::Float64(_) => "float64",
            Value::Boolean(_) => "boolean",
            Value::String(_) => "string",
            Value::Bytes(_) => "bytes",
            Value::Array(_) => "array",
            Value::Map(_) => "map",
            Value::Struct(_) => "struct",
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            Value::Int8(v) => Some(v.into()),
            Value::Int16(v) => Some(v.into()),
            Value::Int32(v) => Some(v.into()),
            Value::Int64(v) => Some(v),
            _ => None,
        }
    }

    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::Bytes(b) => Some(b),
            _ => None,
        }
    }

    pub fn as_struct(&self) -> Option<&Struct> {
        match self {
            Value::Struct(s) => Some(s),
            _ => None,
        }
    }
}

macro_rules! value_from {
    ($($t:ty => $variant:ident),*) => {
        $(impl From<$t> for Value {
            fn from(v: $t) -> Value {
                Value::$variant(v.into())
            }
        })*
    };
}

value_from!(i8 => Int8, i16 => Int16, i32 => Int32, i64 => Int64, f32 => Float32, f64 => Float64,
    bool => Boolean, String => String, &str => String, &String => String, Text => String, Vec<u8> => Bytes, Struct => Struct);

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Value {
        v.map_or(Value::Null, Into::into)
    }
}

/// A struct value: one value per field of its struct schema, in field order.
///
/// The values are shared copy-on-write: cloning a struct (a connector's per-table `source`
/// block, a row kept for `before`) is one reference-count increment and dropping a clone one
/// decrement; [`Struct::put`] copies the values only while another clone still shares them.
#[derive(Debug, Clone, PartialEq)]
pub struct Struct {
    schema: SchemaRef,
    values: Arc<[Value]>,
}

impl Struct {
    /// A struct whose fields are all null; fill it with [`Struct::put`].
    pub fn new(schema: SchemaRef) -> Struct {
        let values = std::iter::repeat_n(Value::Null, schema.fields().len()).collect();
        Struct { schema, values }
    }

    /// A struct from values in field order, each checked against its field's schema.
    pub fn from_values(schema: SchemaRef, values: Vec<Value>) -> Result<Struct> {
        check_shape(&schema, values.len())?;
        check_fields(&schema, &values)?;
        Ok(Struct {
            schema,
            values: values.into(),
        })
    }

    /// A struct from values its builder already knows to fit (field count and types), skipping
    /// validation: for code that makes many events from one schema it owns. An array of values
    /// becomes the struct's shared values in one allocation (a `Vec` is copied into a new one).
    pub(crate) fn from_trusted_values(
        schema: SchemaRef,
        values: impl Into<Arc<[Value]>>,
    ) -> Struct {
        let values = values.into();
        debug_assert!(check_fields(&schema, &values).is_ok());
        Struct { schema, values }
    }

    /// A struct from values in field order that their producer built from the schema's own
    /// field schemas (a connector converting each column by its field schema), made in one
    /// allocation: `values` gives exactly one value per field — drain a buffer kept between
    /// rows (`values.drain(..)`), or map over a slice — and the values move straight into the
    /// struct, where collecting a `Vec` first would allocate it and copy it once more.
    ///
    /// Only the schema's type and the field count are checked (an error as
    /// [`Struct::from_values`] gives); each value's fit to its field schema is checked in
    /// debug builds only, since the producer derived it from that schema.
    pub fn from_built_values<I>(schema: SchemaRef, values: I) -> Result<Struct>
    where
        I: IntoIterator<Item = Value>,
        I::IntoIter: ExactSizeIterator,
    {
        let values = values.into_iter();
        check_shape(&schema, values.len())?;
        // `Arc<[Value]>` from an iterator of trusted length (a drain, a mapped slice) allocates
        // once, at its exact size.
        let values: Arc<[Value]> = values.collect();
        if cfg!(debug_assertions) {
            check_fields(&schema, &values)?;
        }
        Ok(Struct { schema, values })
    }

    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    /// Sets a field by name, checking the value against the field's schema.
    pub fn put(&mut self, name: &str, value: impl Into<Value>) -> Result<&mut Struct> {
        let Some(field) = self.schema.field(name) else {
            return Err(self.no_such_field(name));
        };
        let value = value.into();
        validate_value(field.schema(), &value, name)?;
        Arc::make_mut(&mut self.values)[field.index()] = value;
        Ok(self)
    }

    /// Like [`Struct::put`], by value, for chaining: `Struct::new(s).with("id", 1)?.with(…)?`.
    pub fn with(mut self, name: &str, value: impl Into<Value>) -> Result<Struct> {
        self.put(name, value)?;
        Ok(self)
    }

    /// Sets a field by position, checking the value against the field's schema.
    pub fn put_at(&mut self, index: usize, value: impl Into<Value>) -> Result<&mut Struct> {
        let Some(field) = self.schema.fields().get(index) else {
            return Err(self.no_such_field(&format!("#{index}")));
        };
        let value = value.into();
        validate_value(field.schema(), &value, field.name())?;
        Arc::make_mut(&mut self.values)[index] = value;
        Ok(self)
    }

    /// The value of a field; `None` when the schema has no such field.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.schema.field(name).map(|f| &self.values[f.index()])
    }

    pub fn get_at(&self, index: usize) -> Option<&Value> {
        self.values.get(index)
    }

    /// The values in field order.
    pub fn values(&self) -> &[Value] {
        &self.values
    }

    /// Checks that every required field without a default is set, recursively.
    pub fn validate(&self) -> Result<()> {
        self.validate_at("")
    }

    fn validate_at(&self, prefix: &str) -> Result<()> {
        for (field, value) in self.schema.fields().iter().zip(self.values.iter()) {
            let path = join_path(prefix, field.name());
            let schema = field.schema();
            match value {
                Value::Null if !schema.is_optional() && schema.default_value().is_none() => {
                    return Err(Error::MissingRequired { path });
                }
                Value::Struct(inner) => inner.validate_at(&path)?,
                _ => {}
            }
        }
        Ok(())
    }

    fn no_such_field(&self, name: &str) -> Error {
        Error::NoSuchField {
            schema: self.schema.name().unwrap_or("struct").to_string(),
            field: name.to_string(),
            known: self.schema.field_names(),
        }
    }

    /// Whether another clone holds these values too (a per-table `source` block shared by many
    /// events): the JSON converter caches the bytes of such structs.
    pub fn values_are_shared(&self) -> bool {
        Arc::strong_count(&self.values) > 1
    }
}

/// Checks that `schema` is a struct schema with `count` fields.
fn check_shape(schema: &Schema, count: usize) -> Result<()> {
    if schema.schema_type() != SchemaType::Struct {
        return Err(mismatch(
            schema.name().unwrap_or("struct"),
            "struct",
            &schema.describe(),
        ));
    }
    if count != schema.fields().len() {
        return Err(Error::ValueMismatch {
            path: schema.name().unwrap_or("struct").to_string(),
            expected: format!(
                "{} values ({})",
                schema.fields().len(),
                schema.field_names()
            ),
            found: format!("{count} values"),
        });
    }
    Ok(())
}

/// Checks each of a struct's values (one per field, in field order) against its field schema.
fn check_fields(schema: &Schema, values: &[Value]) -> Result<()> {
    for (field, value) in schema.fields().iter().zip(values) {
        validate_value(field.schema(), value, field.name())?;
    }
    Ok(())
}

fn join_path(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}.{name}")
    }
}

fn mismatch(path: &str, expected: &str, found: &str) -> Error {
    Error::ValueMismatch {
        path: path.to_string(),
        expected: expected.to_string(),
        found: found.to_string(),
    }
}

/// Checks that `value` fits `schema`; `path` names the value in the error (a field name or a
/// dotted path). Null fits optional schemas and schemas with a default (the converter writes the
/// default, as Kafka Connect does).
pub fn validate_value(schema: &Schema, value: &Value, path: &str) -> Result<()> {
    let fits = match (schema.schema_type(), value) {
        (_, Value::Null) => {
            if schema.is_optional() || schema.default_value().is_some() {
                return Ok(());
            }
            return Err(Error::MissingRequired {
                path: path.to_string(),
            });
        }
        (SchemaType::Int8, Value::Int8(_))
        | (SchemaType::Int16, Value::Int16(_))
        | (SchemaType::Int32, Value::Int32(_))
        | (SchemaType::Int64, Value::Int64(_))
        | (SchemaType::Float32, Value::Float32(_))
        | (SchemaType::Float64, Value::Float64(_))
        | (SchemaType::Boolean, Value::Boolean(_))
        | (SchemaType::String, Value::String(_))
        | (SchemaType::Bytes, Value::Bytes(_)) => true,
        (SchemaType::Array, Value::Array(items)) => {
            if let Some(item_schema) = schema.value_schema() {
                for (i, item) in items.iter().enumerate() {
                    validate_value(item_schema, item, &format!("{path}[{i}]"))?;
                }
            }
            true
        }
        (SchemaType::Map, Value::Map(entries)) => {
            if let (Some(key_schema), Some(value_schema)) =
                (schema.key_schema(), schema.value_schema())
            {
                for (i, (k, v)) in entries.iter().enumerate() {
                    validate_value(key_schema, k, &format!("{path}{{key {i}}}"))?;
                    validate_value(value_schema, v, &format!("{path}{{value {i}}}"))?;
                }
            }
            true
        }
        (SchemaType::Struct, Value::Struct(s)) => {
            let same = std::ptr::eq(Arc::as_ptr(s.schema()), schema) || **s.schema() == *schema;
            if !same {
                return Err(mismatch(
                    path,
                    &format!("struct {}", schema.name().unwrap_or("(unnamed)")),
                    &format!("struct {}", s.schema().name().unwrap_or("(unnamed)")),
                ));
            }
            true
        }
        _ => false,
    };
    if fits {
        Ok(())
    } else {
        Err(mismatch(path, &schema.describe(), value.kind()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{INT32_SCHEMA, OPTIONAL_STRING_SCHEMA, STRING_SCHEMA, SchemaBuilder};

    fn person() -> SchemaRef {
        SchemaBuilder::struct_()
            .name("person")
            .field("id", INT32_SCHEMA.clone())
            .field("name", OPTIONAL_STRING_SCHEMA.clone())
            .field("email", STRING_SCHEMA.clone())
            .build()
    }

    #[test]
    fn put_and_get_by_name_and_index() {
        let mut s = Struct::new(person());
        s.put("id", 7).unwrap().put("email", "a@b").unwrap();
        assert_eq!(s.get("id"), Some(&Value::Int32(7)));
        assert_eq!(s.get_at(2), Some(&Value::String("a@b".into())));
        assert_eq!(s.get("name"), Some(&Value::Null));
        assert_eq!(s.get("nope"), None);
        s.validate().unwrap();
    }

    #[test]
    fn wrong_type_names_the_field() {
        let mut s = Struct::new(person());
        let err = s.put("id", "seven").unwrap_err();
        assert_eq!(
            err.to_string(),
            "value for `id` does not match its schema: expected int32, found string"
        );
    }

    #[test]
    fn unknown_field_lists_the_known_ones() {
        let mut s = Struct::new(person());
        let err = s.put("ident", 1).unwrap_err();
        assert!(
            err.to_string()
                .contains("has no field `ident`; its fields are: id, name, email"),
            "{err}"
        );
    }

    #[test]
    fn missing_required_field_is_reported_with_its_path() {
        let outer = SchemaBuilder::struct_()
            .name("outer")
            .field("inner", person())
            .build();
        let inner = Struct::new(person()).with("id", 1).unwrap();
        let s = Struct::new(outer).with("inner", inner).unwrap();
        let err = s.validate().unwrap_err();
        assert!(err.to_string().contains("`inner.email`"), "{err}");
    }

    #[test]
    fn struct_of_another_schema_is_rejected() {
        let other = SchemaBuilder::struct_()
            .name("other")
            .field("id", INT32_SCHEMA.clone())
            .build();
        let outer = SchemaBuilder::struct_()
            .name("outer")
            .field("p", person())
            .build();
        let err = Struct::new(outer)
            .with("p", Struct::new(other))
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("expected struct person, found struct other"),
            "{err}"
        );
    }

    #[test]
    fn clones_share_values_until_one_is_changed() {
        let original =
            Struct::from_values(person(), vec![1.into(), Value::Null, "e".into()]).unwrap();
        let mut copy = original.clone();
        assert!(std::ptr::eq(
            original.values().as_ptr(),
            copy.values().as_ptr()
        ));
        copy.put("name", "n").unwrap();
        assert!(!std::ptr::eq(
            original.values().as_ptr(),
            copy.values().as_ptr()
        ));
        assert_eq!(original.get("name"), Some(&Value::Null));
        assert_eq!(copy.get("name"), Some(&Value::String("n".into())));
        assert_eq!(copy.get("email"), original.get("email"));
        // The only owner changes its values in place.
        let before = copy.values().as_ptr();
        copy.put_at(0, 2).unwrap();
        assert!(std::ptr::eq(before, copy.values().as_ptr()));
        assert_eq!(copy.get("id"), Some(&Value::Int32(2)));
    }

    #[test]
    fn built_values_make_the_same_struct_in_one_allocation() {
        let values = [Value::Int32(1), Value::Null, Value::from("e")];
        let checked = Struct::from_values(person(), values.to_vec()).unwrap();
        let mut buffer = values.to_vec();
        let capacity = buffer.capacity();
        let built = Struct::from_built_values(person(), buffer.drain(..)).unwrap();
        assert_eq!(built, checked);
        assert!(buffer.is_empty());
        assert_eq!(
            buffer.capacity(),
            capacity,
            "the drained buffer is kept for reuse"
        );
        let mapped = Struct::from_built_values(person(), values.iter().cloned()).unwrap();
        assert_eq!(mapped, checked);

        let short = Struct::from_built_values(person(), [Value::Int32(1)]).unwrap_err();
        assert!(
            short
                .to_string()
                .contains("expected 3 values (id, name, email)"),
            "{short}"
        );
        let not_a_struct = Struct::from_built_values(INT32_SCHEMA.clone(), []).unwrap_err();
        assert!(
            not_a_struct.to_string().contains("expected struct"),
            "{not_a_struct}"
        );
        // Debug builds still check each value against its field schema.
        if cfg!(debug_assertions) {
            let wrong = [Value::from("one"), Value::Null, Value::from("e")];
            let err = Struct::from_built_values(person(), wrong).unwrap_err();
            assert!(err.to_string().contains("`id`"), "{err}");
        }
    }

    #[test]
    fn from_values_checks_count_and_types() {
        assert!(Struct::from_values(person(), vec![Value::Int32(1)]).is_err());
        let ok = Struct::from_values(person(), vec![1.into(), Value::Null, "e".into()]).unwrap();
        assert_eq!(ok.values().len(), 3);
        let arr = SchemaBuilder::array(INT32_SCHEMA.clone()).build();
        let err =
            validate_value(&arr, &Value::Array(vec![1.into(), "x".into()]), "xs").unwrap_err();
        assert!(err.to_string().contains("`xs[1]`"), "{err}");
    }
}
