//! Dropping records.
//!
//! - `org.apache.kafka.connect.transforms.Filter` ([`DropAll`]) drops every record it is
//!   applied to; pair it with a predicate (`transforms.f.predicate=…`) to choose which.
//! - `io.sluice.transforms.FilterByOp` ([`FilterByOp`]) keeps or drops change events by
//!   operation: `ops` lists op codes (`c`, `u`, `d`, `r`, `t`, `m`) and `action` says what to
//!   do with events whose op is listed — `keep` (the default: keep only those) or `drop`
//!   (drop those). The op is read from a Debezium envelope's `op` field, or, for records
//!   already flattened, from an `__op` header (`add.headers=op`). A tombstone counts as `d`,
//!   so filtering out deletes also removes their tombstones. Records with no op at all
//!   (heartbeats, schema changes) pass unchanged.

use sluice_schemas::envelope::Op;

use super::Transform;
use super::config::TransformConfig;
use crate::api::ConnectRecord;
use crate::error::Result;

/// Kafka's `Filter`: drops whatever reaches it.
#[derive(Debug)]
pub struct DropAll;

impl DropAll {
    pub fn new(config: &TransformConfig<'_>) -> Self {
        config.warn_unknown(&[]);
        if config.get("predicate").is_none() {
            tracing::warn!(
                transform = config.alias(),
                "a Filter without a predicate drops every record"
            );
        }
        Self
    }
}

impl<R: ConnectRecord> Transform<R> for DropAll {
    fn apply(&self, _record: R) -> Result<Option<R>> {
        Ok(None)
    }
}

/// What [`FilterByOp`] does with events whose op is listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpAction {
    Keep,
    Drop,
}

/// Keeps or drops change events by their `op`.
#[derive(Debug)]
pub struct FilterByOp {
    ops: Vec<Op>,
    action: OpAction,
}

impl FilterByOp {
    pub fn new(config: &TransformConfig<'_>) -> Result<Self> {
        config.warn_unknown(&["ops", "action"]);
        let raw = config.required("ops", "the op codes to act on, e.g. c,u,d")?;
        let mut ops = Vec::new();
        for code in config.list("ops") {
            let op = Op::from_code(&code).ok_or_else(|| {
                config.invalid(
                    "ops",
                    raw,
                    &format!("{code:?} is not an op code; use c, u, d, r, t or m"),
                )
            })?;
            ops.push(op);
        }
        let action = match config.get("action").unwrap_or("keep") {
            value if value.eq_ignore_ascii_case("keep") => OpAction::Keep,
            value if value.eq_ignore_ascii_case("drop") => OpAction::Drop,
            value => return Err(config.invalid("action", value, "use keep or drop")),
        };
        Ok(Self { ops, action })
    }
}

impl<R: ConnectRecord> Transform<R> for FilterByOp {
    fn apply(&self, record: R) -> Result<Option<R>> {
        let Some(op) = record_op(&record) else {
            return Ok(Some(record));
        };
        let listed = self.ops.contains(&op);
        let keep = match self.action {
            OpAction::Keep => listed,
            OpAction::Drop => !listed,
        };
        Ok(keep.then_some(record))
    }
}

/// The op of a change event: the envelope's `op`, an `__op` header, or `d` for a tombstone.
pub fn record_op<R: ConnectRecord>(record: &R) -> Option<Op> {
    if record.is_tombstone() {
        return Some(Op::Delete);
    }
    let value = record.value();
    let is_envelope = value
        .schema
        .as_ref()
        .and_then(|schema| schema.name())
        .is_some_and(|name| name.ends_with(".Envelope"));
    if is_envelope
        && let Some(code) = value
            .value
            .as_struct()
            .and_then(|s| s.get("op"))
            .and_then(|v| v.as_str())
    {
        return Op::from_code(code);
    }
    record
        .headers()
        .last("__op")
        .and_then(|header| header.as_str())
        .and_then(Op::from_code)
}
