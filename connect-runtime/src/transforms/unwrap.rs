//! `io.debezium.transforms.ExtractNewRecordState`: replaces a Debezium change event with the
//! row state it carries (`after`; `before` for rewritten deletes), optionally adding event
//! metadata as fields (`add.fields`) or headers (`add.headers`).
//!
//! Keys, with Debezium's defaults:
//! - `delete.tombstone.handling.mode` = `tombstone` (a delete becomes a record with a null
//!   value; Debezium's own tombstone is dropped) | `drop` (deletes and tombstones dropped) |
//!   `rewrite` (a delete becomes its `before` row plus `__deleted: "true"`, other events get
//!   `__deleted: "false"`; tombstones dropped) | `rewrite-with-tombstone` (the same, tombstones
//!   kept) | `delete-to-tombstone` (a delete becomes a schemaless tombstone; tombstones dropped).
//! - the deprecated pair, used only when the key above is absent: `drop.tombstones`
//!   (default `true`) and `delete.handling.mode` = `drop` (default) | `rewrite` | `none`.
//! - `add.fields` / `add.headers`: comma-separated envelope fields. A plain name is looked up
//!   in the envelope for `op`, `ts_ms`, `ts_us`, `ts_ns`, in `transaction` for `id`,
//!   `total_order`, `data_collection_order`, else in `source`; `struct.field` names the
//!   struct; `field:newName` renames. Output names are `add.fields.prefix` /
//!   `add.headers.prefix` (default `__`) + `field` or `struct_field` (`__op`,
//!   `__source_ts_ms`). Fields the event lacks are skipped. Added field schemas are optional
//!   copies of the originals. A tombstone gets only an `op` header, `d`.
//! - `route.by.field`: a row field whose value becomes the topic name.
//!
//! Truncate and message events (no `before`, no `after`) are dropped; records that are not
//! Debezium envelopes (schema name not ending in `.Envelope`) pass unchanged. The output
//! layout is computed once per envelope schema and cached.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::RwLock;
use sluice_schemas::schema::OPTIONAL_STRING_SCHEMA;
use sluice_schemas::{SchemaBuilder, SchemaRef, SchemaType, Struct, Text, Value};

use super::config::TransformConfig;
use super::{Transform, record_error, schema_error};
use crate::api::{ConnectRecord, SchemaAndValue};
use crate::error::Result;

/// The field rewritten events carry.
pub const DELETED_FIELD: &str = "__deleted";
/// Layouts kept before the cache is emptied (one per table and schema version).
const LAYOUT_CACHE_LIMIT: usize = 4096;

/// What becomes of a delete event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DeleteAction {
    Drop,
    /// The row schema with a null value (Debezium's `tombstone` / legacy `none`).
    NullValue,
    /// No schema, null value.
    Tombstone,
    /// The `before` row plus `__deleted: "true"`.
    Rewrite,
}

/// What becomes of Debezium's tombstone records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TombstoneAction {
    Drop,
    Keep,
}

/// An `add.fields` / `add.headers` entry.
#[derive(Debug, Clone)]
struct FieldRef {
    /// The struct holding the field (`source`, `transaction`), `None` for envelope fields.
    parent: Option<String>,
    field: String,
    output: String,
}

impl FieldRef {
    fn parse(entry: &str, prefix: &str) -> std::result::Result<Self, String> {
        let (path, renamed) = match entry.split_once(':') {
            Some((path, renamed)) if !renamed.is_empty() && !renamed.contains(':') => {
                (path, Some(renamed))
            }
            Some(_) => {
                return Err(format!(
                    "{entry:?} is not of the form field or field:newName"
                ));
            }
            None => (entry, None),
        };
        let (parent, field) = match path.split_once('.') {
            Some((parent, field)) => (Some(parent.to_string()), field.to_string()),
            None => (default_parent(path).map(str::to_string), path.to_string()),
        };
        if field.is_empty() || parent.as_deref() == Some("") {
            return Err(format!("{entry:?} names no field"));
        }
        let output = match (renamed, path.contains('.')) {
            (Some(renamed), _) => format!("{prefix}{renamed}"),
            (None, true) => format!("{prefix}{}_{field}", parent.as_deref().unwrap_or_default()),
            (None, false) => format!("{prefix}{field}"),
        };
        Ok(Self {
            parent,
            field,
            output,
        })
    }
}

/// Where Debezium looks for an unqualified field name.
fn default_parent(field: &str) -> Option<&'static str> {
    match field {
        "op" | "ts_ms" | "ts_us" | "ts_ns" => None,
        "id" | "total_order" | "data_collection_order" => Some("transaction"),
        _ => Some("source"),
    }
}

/// A metadata field found in an envelope schema.
#[derive(Debug)]
struct Located {
    /// Index of the parent struct in the envelope, `None` for envelope fields.
    parent: Option<usize>,
    field: usize,
    schema: SchemaRef,
    output: String,
}

impl Located {
    fn value(&self, envelope: &Struct) -> Value {
        let holder = match self.parent {
            None => Some(envelope),
            Some(index) => envelope.get_at(index).and_then(Value::as_struct),
        };
        holder
            .and_then(|s| s.get_at(self.field))
            .cloned()
            .unwrap_or(Value::Null)
    }
}

/// Everything about one envelope schema that does not change per event.
#[derive(Debug)]
struct Layout {
    /// Held so the cache key (its address) stays unique.
    _envelope: SchemaRef,
    before: usize,
    after: usize,
    row: SchemaRef,
    /// The output value schema: the row schema, or a copy with added fields.
    output: SchemaRef,
    fields: Vec<Located>,
    headers: Vec<Located>,
}

/// The `ExtractNewRecordState` transform.
#[derive(Debug)]
pub struct ExtractNewRecordState {
    alias: String,
    deletes: DeleteAction,
    tombstones: TombstoneAction,
    add_fields: Vec<FieldRef>,
    add_headers: Vec<FieldRef>,
    route_by_field: Option<String>,
    layouts: RwLock<HashMap<usize, Arc<Layout>>>,
}

impl ExtractNewRecordState {
    pub fn new(config: &TransformConfig<'_>) -> Result<Self> {
        config.warn_unknown(&[
            "delete.tombstone.handling.mode",
            "drop.tombstones",
            "delete.handling.mode",
            "add.fields",
            "add.fields.prefix",
            "add.headers",
            "add.headers.prefix",
            "route.by.field",
            "replace.null.with.default",
        ]);
        let (deletes, tombstones) = delete_handling(config)?;
        let refs = |key: &str, prefix_key: &str| -> Result<Vec<FieldRef>> {
            let prefix = config.get(prefix_key).unwrap_or("__");
            config
                .list(key)
                .iter()
                .map(|entry| {
                    FieldRef::parse(entry, prefix).map_err(|reason| {
                        config.invalid(key, config.get(key).unwrap_or_default(), &reason)
                    })
                })
                .collect()
        };
        Ok(Self {
            alias: config.alias().to_string(),
            deletes,
            tombstones,
            add_fields: refs("add.fields", "add.fields.prefix")?,
            add_headers: refs("add.headers", "add.headers.prefix")?,
            route_by_field: config.get("route.by.field").map(str::to_string),
            layouts: RwLock::default(),
        })
    }

    fn rewrites(&self) -> bool {
        self.deletes == DeleteAction::Rewrite
    }

    fn layout(&self, envelope: &SchemaRef) -> Result<Arc<Layout>> {
        let key = Arc::as_ptr(envelope) as usize;
        if let Some(layout) = self.layouts.read().get(&key) {
            return Ok(layout.clone());
        }
        let layout = Arc::new(self.build_layout(envelope)?);
        let mut layouts = self.layouts.write();
        if layouts.len() >= LAYOUT_CACHE_LIMIT {
            layouts.clear();
        }
        Ok(layouts.entry(key).or_insert(layout).clone())
    }

    fn build_layout(&self, envelope: &SchemaRef) -> Result<Layout> {
        let index_of = |name: &str| {
            envelope.field(name).map(|f| f.index()).ok_or_else(|| {
                record_error(
                    &self.alias,
                    format!(
                        "the envelope {} has no {name:?} field",
                        envelope.name().unwrap_or_default()
                    ),
                )
            })
        };
        let before = index_of("before")?;
        let after = index_of("after")?;
        let row = envelope.fields()[after].schema().clone();
        if row.schema_type() != SchemaType::Struct {
            return Err(record_error(
                &self.alias,
                "the envelope's \"after\" field is not a struct",
            ));
        }
        let fields: Vec<Located> = self
            .add_fields
            .iter()
            .filter_map(|r| locate(envelope, r))
            .collect();
        let headers = self
            .add_headers
            .iter()
            .filter_map(|r| locate(envelope, r))
            .collect();
        let output = if fields.is_empty() && !self.rewrites() {
            row.clone()
        } else {
            extended_schema(&row, &fields, self.rewrites()).map_err(|source| {
                schema_error(&self.alias, "cannot build the flattened schema", source)
            })?
        };
        Ok(Layout {
            _envelope: envelope.clone(),
            before,
            after,
            row,
            output,
            fields,
            headers,
        })
    }

    /// The flattened value for a row struct: the row itself, or a copy with added fields.
    fn flatten(
        &self,
        layout: &Layout,
        row: &Struct,
        envelope: &Struct,
        deleted: bool,
    ) -> Result<SchemaAndValue> {
        if Arc::ptr_eq(&layout.output, &layout.row) {
            return Ok(SchemaAndValue::with_schema(
                layout.output.clone(),
                row.clone(),
            ));
        }
        let mut values = Vec::with_capacity(layout.output.fields().len());
        values.extend_from_slice(row.values());
        values.extend(layout.fields.iter().map(|located| located.value(envelope)));
        if self.rewrites() {
            values.push(Value::String(Text::from_static(if deleted {
                "true"
            } else {
                "false"
            })));
        }
        let flattened = Struct::from_values(layout.output.clone(), values).map_err(|source| {
            schema_error(
                &self.alias,
                "the row does not fit the envelope's row schema",
                source,
            )
        })?;
        Ok(SchemaAndValue::with_schema(
            layout.output.clone(),
            flattened,
        ))
    }

    fn route<R: ConnectRecord>(&self, record: &mut R, row: &Struct) {
        let Some(field) = &self.route_by_field else {
            return;
        };
        if let Some(topic) = row.get(field).and_then(Value::as_str) {
            record.set_topic(topic.to_string());
        }
    }
}

/// Reads the new key, or the deprecated pair when only those are given.
fn delete_handling(config: &TransformConfig<'_>) -> Result<(DeleteAction, TombstoneAction)> {
    const KEY: &str = "delete.tombstone.handling.mode";
    if let Some(mode) = config.get(KEY) {
        return Ok(match mode.to_ascii_lowercase().as_str() {
            "tombstone" => (DeleteAction::NullValue, TombstoneAction::Drop),
            "drop" => (DeleteAction::Drop, TombstoneAction::Drop),
            "rewrite" => (DeleteAction::Rewrite, TombstoneAction::Drop),
            "rewrite-with-tombstone" => (DeleteAction::Rewrite, TombstoneAction::Keep),
            "delete-to-tombstone" => (DeleteAction::Tombstone, TombstoneAction::Drop),
            _ => {
                return Err(config.invalid(
                    KEY,
                    mode,
                    "use tombstone, drop, rewrite, rewrite-with-tombstone or delete-to-tombstone",
                ));
            }
        });
    }
    if config.get("drop.tombstones").is_none() && config.get("delete.handling.mode").is_none() {
        return Ok((DeleteAction::NullValue, TombstoneAction::Drop));
    }
    tracing::warn!(
        transform = config.alias(),
        "\"drop.tombstones\" and \"delete.handling.mode\" are deprecated; use \"{KEY}\""
    );
    let tombstones = if config.boolean("drop.tombstones", true)? {
        TombstoneAction::Drop
    } else {
        TombstoneAction::Keep
    };
    let mode = config.get("delete.handling.mode").unwrap_or("drop");
    let deletes = match mode.to_ascii_lowercase().as_str() {
        "drop" => DeleteAction::Drop,
        "rewrite" => DeleteAction::Rewrite,
        "none" => DeleteAction::NullValue,
        _ => return Err(config.invalid("delete.handling.mode", mode, "use drop, rewrite or none")),
    };
    Ok((deletes, tombstones))
}

fn locate(envelope: &SchemaRef, reference: &FieldRef) -> Option<Located> {
    let in_parent = reference.parent.as_deref().and_then(|parent| {
        let holder = envelope.field(parent)?;
        let field = holder.schema().field(&reference.field)?;
        Some((Some(holder.index()), field.index(), field.schema()))
    });
    // Like Debezium, fall back to the envelope itself (a field another transform added there).
    let (parent, field, schema) = in_parent.or_else(|| {
        let field = envelope.field(&reference.field)?;
        Some((None, field.index(), field.schema()))
    })?;
    Some(Located {
        parent,
        field,
        schema: optional_copy(schema),
        output: reference.output.clone(),
    })
}

/// The row schema with the added fields (and `__deleted`) appended.
fn extended_schema(
    row: &SchemaRef,
    fields: &[Located],
    deleted: bool,
) -> sluice_schemas::Result<SchemaRef> {
    let mut builder = copy_basics(row, SchemaBuilder::struct_());
    for field in row.fields() {
        builder = builder.field(field.name(), field.schema().clone());
    }
    for located in fields {
        builder = builder.field(located.output.clone(), located.schema.clone());
    }
    if deleted {
        builder = builder.field(DELETED_FIELD, OPTIONAL_STRING_SCHEMA.clone());
    }
    builder.try_build()
}

fn copy_basics(from: &SchemaRef, mut builder: SchemaBuilder) -> SchemaBuilder {
    if let Some(name) = from.name() {
        builder = builder.name(name);
    }
    if let Some(version) = from.version() {
        builder = builder.version(version);
    }
    if let Some(doc) = from.doc() {
        builder = builder.doc(doc);
    }
    for (key, value) in from.parameters() {
        builder = builder.parameter(key.clone(), value.clone());
    }
    builder
}

/// `schema` made optional (metadata fields may be absent, e.g. `transaction` in snapshots).
fn optional_copy(schema: &SchemaRef) -> SchemaRef {
    if schema.is_optional() {
        return schema.clone();
    }
    let builder = match (
        schema.schema_type(),
        schema.key_schema(),
        schema.value_schema(),
    ) {
        (SchemaType::Map, Some(keys), Some(values)) => {
            SchemaBuilder::map(keys.clone(), values.clone())
        }
        (SchemaType::Array, _, Some(items)) => SchemaBuilder::array(items.clone()),
        (other, _, _) => SchemaBuilder::of_type(other),
    };
    let mut builder = copy_basics(schema, builder);
    for field in schema.fields() {
        builder = builder.field(field.name(), field.schema().clone());
    }
    // Copied from a valid schema minus its default, so it is valid too; fall back to the
    // original rather than fail an event over metadata.
    builder
        .optional()
        .try_build()
        .unwrap_or_else(|_| schema.clone())
}

impl<R: ConnectRecord> Transform<R> for ExtractNewRecordState {
    fn apply(&self, mut record: R) -> Result<Option<R>> {
        if record.is_tombstone() {
            if self.tombstones == TombstoneAction::Drop {
                return Ok(None);
            }
            for reference in self
                .add_headers
                .iter()
                .filter(|r| r.parent.is_none() && r.field == "op")
            {
                record
                    .headers_mut()
                    .add_string(reference.output.clone(), "d");
            }
            return Ok(Some(record));
        }
        // Take the envelope out rather than clone it; the record gets its new value below.
        let envelope = match std::mem::replace(record.value_mut(), SchemaAndValue::null()) {
            SchemaAndValue {
                schema: Some(schema),
                value: Value::Struct(envelope),
            } if schema.name().is_some_and(|n| n.ends_with(".Envelope")) => envelope,
            other => {
                *record.value_mut() = other;
                return Ok(Some(record));
            }
        };
        let layout = self.layout(envelope.schema())?;
        for header in &layout.headers {
            let value = header.value(&envelope);
            record
                .headers_mut()
                .add(header.output.clone(), Some(header.schema.clone()), value);
        }
        let row_at = |index: usize| envelope.get_at(index).and_then(Value::as_struct);
        let flattened = match (row_at(layout.before), row_at(layout.after)) {
            (_, Some(after)) => {
                self.route(&mut record, after);
                self.flatten(&layout, after, &envelope, false)?
            }
            (Some(before), None) => {
                self.route(&mut record, before);
                match self.deletes {
                    DeleteAction::Drop => return Ok(None),
                    DeleteAction::NullValue => {
                        SchemaAndValue::new(Some(layout.row.clone()), Value::Null)
                    }
                    DeleteAction::Tombstone => SchemaAndValue::null(),
                    DeleteAction::Rewrite => self.flatten(&layout, before, &envelope, true)?,
                }
            }
            // Truncates and messages carry no row.
            (None, None) => return Ok(None),
        };
        *record.value_mut() = flattened;
        Ok(Some(record))
    }
}
