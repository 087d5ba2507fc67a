//! Kafka Connect schemas: the type, optionality, name, version, doc, parameters, default value and
//! (for structs, arrays and maps) the nested schemas of a value, plus the builder that makes them.
//!
//! Schemas are immutable and shared as [`SchemaRef`] (`Arc<Schema>`), so converters can cache
//! their serialized form per schema instance and events can share one schema per table.

use std::fmt;
use std::sync::{Arc, LazyLock};

use crate::error::{Error, Result};
use crate::value::{Value, validate_value};

/// A shared, immutable schema.
pub type SchemaRef = Arc<Schema>;

/// The Connect type of a schema (`Schema.Type` in Kafka Connect).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SchemaType {
    Int8,
    Int16,
    Int32,
    Int64,
    Float32,
    Float64,
    Boolean,
    String,
    Bytes,
    Array,
    Map,
    Struct,
}

impl SchemaType {
    /// The lower-case name Kafka Connect uses in JSON schemas (`"int32"`, `"struct"`, …).
    pub fn name(self) -> &'static str {
        match self {
            SchemaType::Int8 => "int8",
            SchemaType::Int16 => "int16",
            SchemaType::Int32 => "int32",
            SchemaType::Int64 => "int64",
            SchemaType::Float32 => "float",
            SchemaType::Float64 => "double",
            SchemaType::Boolean => "boolean",
            SchemaType::String => "string",
            SchemaType::Bytes => "bytes",
            SchemaType::Array => "array",
            SchemaType::Map => "map",
            SchemaType::Struct => "struct",
        }
    }

    /// Parses a JSON schema type name as Kafka Connect writes it (`"float"` and `"double"` are the
    /// names of float32 and float64).
    pub fn from_name(name: &str) -> Option<SchemaType> {
        Some(match name {
            "int8" => SchemaType::Int8,
            "int16" => SchemaType::Int16,
            "int32" => SchemaType::Int32,
            "int64" => SchemaType::Int64,
            "float" => SchemaType::Float32,
            "double" => SchemaType::Float64,
            "boolean" => SchemaType::Boolean,
            "string" => SchemaType::String,
            "bytes" => SchemaType::Bytes,
            "array" => SchemaType::Array,
            "map" => SchemaType::Map,
            "struct" => SchemaType::Struct,
            _ => return None,
        })
    }

    /// True for the types that hold no nested schema.
    pub fn is_primitive(self) -> bool {
        !matches!(
            self,
            SchemaType::Array | SchemaType::Map | SchemaType::Struct
        )
    }
}

impl fmt::Display for SchemaType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One field of a struct schema: its name, position and schema.
#[derive(Clone, PartialEq)]
pub struct Field {
    name: String,
    index: usize,
    schema: SchemaRef,
    /// `"<name>":` as JSON, escaped once here because the JSON converter writes it per event.
    json_key: Box<[u8]>,
}

impl fmt::Debug for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Field")
            .field("name", &self.name)
            .field("index", &self.index)
            .field("schema", &self.schema)
            .finish()
    }
}

impl Field {
    /// Creates a field; `index` is its position in the struct.
    pub fn new(name: impl Into<String>, index: usize, schema: SchemaRef) -> Field {
        let name = name.into();
        let mut json_key = Vec::with_capacity(name.len() + 3);
        crate::json::write::write_str(&mut json_key, &name);
        json_key.push(b':');
        Field {
            name,
            index,
            schema,
            json_key: json_key.into(),
        }
    }

    /// The field's name as a JSON object key with its colon (`"id":`).
    pub(crate) fn json_key(&self) -> &[u8] {
        &self.json_key
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn index(&self) -> usize {
        self.index
    }

    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }
}

/// A Kafka Connect schema. Build one with [`SchemaBuilder`].
#[derive(Debug, Clone, PartialEq)]
pub struct Schema {
    schema_type: SchemaType,
    optional: bool,
    name: Option<String>,
    version: Option<i32>,
    doc: Option<String>,
    parameters: Vec<(String, String)>,
    default_value: Option<Value>,
    fields: Vec<Field>,
    key_schema: Option<SchemaRef>,
    value_schema: Option<SchemaRef>,
}

impl Schema {
    pub fn schema_type(&self) -> SchemaType {
        self.schema_type
    }

    /// True when the value may be null.
    pub fn is_optional(&self) -> bool {
        self.optional
    }

    /// The schema's name (a logical type name such as `org.apache.kafka.connect.data.Decimal`, or
    /// a record name such as `dbserver1.inventory.customers.Value`).
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    pub fn version(&self) -> Option<i32> {
        self.version
    }

    pub fn doc(&self) -> Option<&str> {
        self.doc.as_deref()
    }

    /// Parameters in insertion order (Kafka keeps them in a `LinkedHashMap`).
    pub fn parameters(&self) -> &[(String, String)] {
        &self.parameters
    }

    /// The value of one parameter.
    pub fn parameter(&self, key: &str) -> Option<&str> {
        self.parameters
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn default_value(&self) -> Option<&Value> {
        self.default_value.as_ref()
    }

    /// The fields of a struct schema (empty for other types).
    pub fn fields(&self) -> &[Field] {
        &self.fields
    }

    /// The field of that name, if this is a struct schema that has it.
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// The element schema of an array, or the value schema of a map.
    pub fn value_schema(&self) -> Option<&SchemaRef> {
        self.value_schema.as_ref()
    }

    /// The key schema of a map.
    pub fn key_schema(&self) -> Option<&SchemaRef> {
        self.key_schema.as_ref()
    }

    /// A short description for error messages: the name if there is one, else the type.
    pub fn describe(&self) -> String {
        match &self.name {
            Some(name) => format!("{} ({})", self.schema_type, name),
            None => self.schema_type.to_string(),
        }
    }

    /// The comma-separated field names, for error messages.
    pub(crate) fn field_names(&self) -> String {
        let names: Vec<&str> = self.fields.iter().map(|f| f.name.as_str()).collect();
        names.join(", ")
    }
}

/// Builds a [`Schema`], in the style of Kafka Connect's `SchemaBuilder`:
/// `SchemaBuilder::int32().optional().name("x").version(1).build()`.
#[derive(Debug, Clone)]
pub struct SchemaBuilder {
    schema: Schema,
}

impl SchemaBuilder {
    /// A builder for a schema of the given type; arrays and maps need their nested schemas, so use
    /// [`SchemaBuilder::array`] and [`SchemaBuilder::map`] for those.
    pub fn of_type(schema_type: SchemaType) -> SchemaBuilder {
        SchemaBuilder {
            schema: Schema {
                schema_type,
                optional: false,
                name: None,
                version: None,
                doc: None,
                parameters: Vec::new(),
                default_value: None,
                fields: Vec::new(),
                key_schema: None,
                value_schema: None,
            },
        }
    }

    pub fn int8() -> SchemaBuilder {
        Self::of_type(SchemaType::Int8)
    }
    pub fn int16() -> SchemaBuilder {
        Self::of_type(SchemaType::Int16)
    }
    pub fn int32() -> SchemaBuilder {
        Self::of_type(SchemaType::Int32)
    }
    pub fn int64() -> SchemaBuilder {
        Self::of_type(SchemaType::Int64)
    }
    pub fn float32() -> SchemaBuilder {
        Self::of_type(SchemaType::Float32)
    }
    pub fn float64() -> SchemaBuilder {
        Self::of_type(SchemaType::Float64)
    }
    pub fn boolean() -> SchemaBuilder {
        Self::of_type(SchemaType::Boolean)
    }
    pub fn string() -> SchemaBuilder {
        Self::of_type(SchemaType::String)
    }
    pub fn bytes() -> SchemaBuilder {
        Self::of_type(SchemaType::Bytes)
    }
    /// A struct; add fields with [`SchemaBuilder::field`].
    pub fn struct_() -> SchemaBuilder {
        Self::of_type(SchemaType::Struct)
    }

    /// An array whose elements have `items` as schema.
    pub fn array(items: SchemaRef) -> SchemaBuilder {
        let mut builder = Self::of_type(SchemaType::Array);
        builder.schema.value_schema = Some(items);
        builder
    }

    /// A map from `keys` to `values`.
    pub fn map(keys: SchemaRef, values: SchemaRef) -> SchemaBuilder {
        let mut builder = Self::of_type(SchemaType::Map);
        builder.schema.key_schema = Some(keys);
        builder.schema.value_schema = Some(values);
        builder
    }

    pub fn optional(mut self) -> SchemaBuilder {
        self.schema.optional = true;
        self
    }

    pub fn required(mut self) -> SchemaBuilder {
        self.schema.optional = false;
        self
    }

    pub fn name(mut self, name: impl Into<String>) -> SchemaBuilder {
        self.schema.name = Some(name.into());
        self
    }

    pub fn version(mut self, version: i32) -> SchemaBuilder {
        self.schema.version = Some(version);
        self
    }

    pub fn doc(mut self, doc: impl Into<String>) -> SchemaBuilder {
        self.schema.doc = Some(doc.into());
        self
    }

    /// Sets a parameter; a key set twice keeps its first position and takes the new value.
    pub fn parameter(mut self, key: impl Into<String>, value: impl Into<String>) -> SchemaBuilder {
        let key = key.into();
        let value = value.into();
        match self.schema.parameters.iter_mut().find(|(k, _)| *k == key) {
            Some(entry) => entry.1 = value,
            None => self.schema.parameters.push((key, value)),
        }
        self
    }

    pub fn default_value(mut self, value: Value) -> SchemaBuilder {
        self.schema.default_value = Some(value);
        self
    }

    /// Appends a field to a struct schema.
    pub fn field(mut self, name: impl Into<String>, schema: SchemaRef) -> SchemaBuilder {
        let index = self.schema.fields.len();
        self.schema.fields.push(Field::new(name, index, schema));
        self
    }

    /// The type being built.
    pub fn schema_type(&self) -> SchemaType {
        self.schema.schema_type
    }

    /// Finishes the schema, checking that it is consistent: fields only on structs, unique field
    /// names, nested schemas present for arrays and maps, and a default value that fits.
    pub fn try_build(self) -> Result<SchemaRef> {
        let schema = self.schema;
        let invalid = |reason: String| Error::InvalidSchema {
            name: schema.name.clone(),
            reason,
        };
        if schema.schema_type != SchemaType::Struct && !schema.fields.is_empty() {
            return Err(invalid(format!(
                "a {} schema cannot have fields",
                schema.schema_type
            )));
        }
        for (i, field) in schema.fields.iter().enumerate() {
            if schema.fields[..i].iter().any(|f| f.name == field.name) {
                return Err(invalid(format!("field `{}` is defined twice", field.name)));
            }
        }
        let needs_value = matches!(schema.schema_type, SchemaType::Array | SchemaType::Map);
        if needs_value && schema.value_schema.is_none() {
            return Err(invalid(format!(
                "a {} schema needs a value schema",
                schema.schema_type
            )));
        }
        if schema.schema_type == SchemaType::Map && schema.key_schema.is_none() {
            return Err(invalid("a map schema needs a key schema".to_string()));
        }
        if let Some(default) = &schema.default_value
            && let Err(cause) = validate_value(&schema, default, "default")
        {
            return Err(invalid(format!("its default value does not fit: {cause}")));
        }
        Ok(Arc::new(schema))
    }

    /// Finishes the schema.
    ///
    /// # Panics
    /// When the schema is inconsistent (see [`SchemaBuilder::try_build`]); schemas built from code
    /// are fixed by their author, schemas built from input should use `try_build`.
    pub fn build(self) -> SchemaRef {
        match self.try_build() {
            Ok(schema) => schema,
            Err(error) => panic!("{error}"),
        }
    }
}

macro_rules! ready_made {
    ($($required:ident, $optional:ident => $ctor:ident;)*) => {
        $(
            #[doc = concat!("The required `", stringify!($ctor), "` schema.")]
            pub static $required: LazyLock<SchemaRef> = LazyLock::new(|| SchemaBuilder::$ctor().build());
            #[doc = concat!("The optional `", stringify!($ctor), "` schema.")]
            pub static $optional: LazyLock<SchemaRef> =
                LazyLock::new(|| SchemaBuilder::$ctor().optional().build());
        )*
    };
}

ready_made! {
    INT8_SCHEMA, OPTIONAL_INT8_SCHEMA => int8;
    INT16_SCHEMA, OPTIONAL_INT16_SCHEMA => int16;
    INT32_SCHEMA, OPTIONAL_INT32_SCHEMA => int32;
    INT64_SCHEMA, OPTIONAL_INT64_SCHEMA => int64;
    FLOAT32_SCHEMA, OPTIONAL_FLOAT32_SCHEMA => float32;
    FLOAT64_SCHEMA, OPTIONAL_FLOAT64_SCHEMA => float64;
    BOOLEAN_SCHEMA, OPTIONAL_BOOLEAN_SCHEMA => boolean;
    STRING_SCHEMA, OPTIONAL_STRING_SCHEMA => string;
    BYTES_SCHEMA, OPTIONAL_BYTES_SCHEMA => bytes;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_sets_every_attribute() {
        let schema = SchemaBuilder::int32()
            .optional()
            .name("n")
            .version(2)
            .doc("d")
            .parameter("a", "1")
            .parameter("b", "2")
            .parameter("a", "3")
            .default_value(Value::Int32(7))
            .build();
        assert!(schema.is_optional());
        assert_eq!(schema.name(), Some("n"));
        assert_eq!(schema.version(), Some(2));
        assert_eq!(schema.doc(), Some("d"));
        assert_eq!(
            schema.parameters(),
            &[
                ("a".to_string(), "3".to_string()),
                ("b".to_string(), "2".to_string())
            ]
        );
        assert_eq!(schema.default_value(), Some(&Value::Int32(7)));
    }

    #[test]
    fn struct_fields_are_indexed_in_order() {
        let schema = SchemaBuilder::struct_()
            .name("s")
            .field("id", INT32_SCHEMA.clone())
            .field("name", OPTIONAL_STRING_SCHEMA.clone())
            .build();
        assert_eq!(schema.fields().len(), 2);
        assert_eq!(schema.field("name").map(Field::index), Some(1));
        assert!(schema.field("missing").is_none());
    }

    #[test]
    fn inconsistent_schemas_are_rejected_with_the_reason() {
        let duplicate = SchemaBuilder::struct_()
            .name("s")
            .field("a", INT32_SCHEMA.clone())
            .field("a", INT32_SCHEMA.clone())
            .try_build()
            .unwrap_err();
        assert!(
            duplicate.to_string().contains("field `a` is defined twice"),
            "{duplicate}"
        );

        let bad_default = SchemaBuilder::string()
            .default_value(Value::Int32(1))
            .try_build()
            .unwrap_err();
        assert!(
            bad_default.to_string().contains("default value"),
            "{bad_default}"
        );

        let fields_on_int = SchemaBuilder::int32()
            .field("a", INT32_SCHEMA.clone())
            .try_build();
        assert!(fields_on_int.is_err());
    }

    #[test]
    fn type_names_round_trip() {
        for t in [
            SchemaType::Int8,
            SchemaType::Int16,
            SchemaType::Int32,
            SchemaType::Int64,
            SchemaType::Float32,
            SchemaType::Float64,
            SchemaType::Boolean,
            SchemaType::String,
            SchemaType::Bytes,
            SchemaType::Array,
            SchemaType::Map,
            SchemaType::Struct,
        ] {
            assert_eq!(SchemaType::from_name(t.name()), Some(t));
        }
        assert_eq!(SchemaType::from_name("float32"), None);
    }
}
