//! Single message transforms (SMTs) and predicates, configured as in Kafka Connect:
//!
//! ```text
//! transforms=unwrap,route
//! transforms.unwrap.type=io.debezium.transforms.ExtractNewRecordState
//! transforms.unwrap.predicate=notTombstone
//! transforms.route.type=org.apache.kafka.connect.transforms.RegexRouter
//! transforms.route.regex=dbserver1\.inventory\.(.*)
//! transforms.route.replacement=warehouse.$1
//! predicates=notTombstone
//! predicates.notTombstone.type=org.apache.kafka.connect.transforms.predicates.RecordIsTombstone
//! transforms.unwrap.negate=true
//! ```
//!
//! A [`TransformChain`] is built once per connector and applied to every record, source and
//! sink alike (anything implementing [`ConnectRecord`]). Configuration errors name the full
//! key (`transforms.route.regex`); errors on a record name the transform's alias.
//!
//! - [`config`]: the per-alias view of the properties ([`TransformConfig`]).
//! - [`predicate`]: `TopicNameMatches`, `RecordIsTombstone`, `HasHeaderKey`.
//! - [`unwrap`]: Debezium's `ExtractNewRecordState`.
//! - [`router`]: Kafka's `RegexRouter`.
//! - [`filter`]: Kafka's `Filter` (drop, usually behind a predicate) and `FilterByOp`.
//! - [`mask`]: Kafka's `MaskField$Value` / `MaskField$Key`.

pub mod config;
pub mod filter;
pub mod mask;
pub mod predicate;
pub mod router;
pub mod unwrap;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

pub use config::TransformConfig;
pub use predicate::Predicate;

use crate::api::ConnectRecord;
use crate::config::Props;
use crate::config::def::split_list;
use crate::error::{Error, Result};

/// One transform of a chain. Transforms are shared by the tasks of a connector, so they keep
/// any per-schema caches behind locks.
pub trait Transform<R: ConnectRecord>: Send + Sync + fmt::Debug {
    /// The transformed record, or `None` to drop it.
    fn apply(&self, record: R) -> Result<Option<R>>;
}

/// The transform types this runtime knows, by the class names connector configs use.
pub mod types {
    pub const EXTRACT_NEW_RECORD_STATE: &str = "io.debezium.transforms.ExtractNewRecordState";
    pub const REGEX_ROUTER: &str = "org.apache.kafka.connect.transforms.RegexRouter";
    pub const FILTER: &str = "org.apache.kafka.connect.transforms.Filter";
    pub const FILTER_BY_OP: &str = "io.sluice.transforms.FilterByOp";
    pub const MASK_FIELD_VALUE: &str = "org.apache.kafka.connect.transforms.MaskField$Value";
    pub const MASK_FIELD_KEY: &str = "org.apache.kafka.connect.transforms.MaskField$Key";

    pub const ALL: &[&str] = &[
        EXTRACT_NEW_RECORD_STATE,
        REGEX_ROUTER,
        FILTER,
        FILTER_BY_OP,
        MASK_FIELD_VALUE,
        MASK_FIELD_KEY,
    ];
}

fn build<R: ConnectRecord>(config: &TransformConfig<'_>) -> Result<Box<dyn Transform<R>>> {
    let type_name = config.required("type", "the transform's class name")?;
    Ok(match type_name {
        types::EXTRACT_NEW_RECORD_STATE => Box::new(unwrap::ExtractNewRecordState::new(config)?),
        types::REGEX_ROUTER => Box::new(router::RegexRouter::new(config)?),
        types::FILTER => Box::new(filter::DropAll::new(config)),
        types::FILTER_BY_OP => Box::new(filter::FilterByOp::new(config)?),
        types::MASK_FIELD_VALUE => Box::new(mask::MaskField::new(config, mask::RecordPart::Value)?),
        types::MASK_FIELD_KEY => Box::new(mask::MaskField::new(config, mask::RecordPart::Key)?),
        other => {
            return Err(config.invalid(
                "type",
                other,
                &format!(
                    "unknown transform; known transforms: {}",
                    types::ALL.join(", ")
                ),
            ));
        }
    })
}

/// When a transform applies: its predicate's verdict, inverted by `negate`.
#[derive(Debug)]
struct Condition {
    predicate: Arc<Predicate>,
    negate: bool,
}

#[derive(Debug)]
struct Step<R: ConnectRecord> {
    alias: String,
    transform: Box<dyn Transform<R>>,
    condition: Option<Condition>,
}

/// The transforms of one connector, in `transforms=` order.
#[derive(Debug)]
pub struct TransformChain<R: ConnectRecord> {
    steps: Vec<Step<R>>,
}

impl<R: ConnectRecord> Default for TransformChain<R> {
    fn default() -> Self {
        Self { steps: Vec::new() }
    }
}

impl<R: ConnectRecord> TransformChain<R> {
    /// Builds the chain a connector configuration describes (`transforms`, `transforms.*`,
    /// `predicates`, `predicates.*`); an empty chain when `transforms` is absent or blank.
    pub fn from_props(props: &Props) -> Result<Self> {
        let predicates = build_predicates(props)?;
        let aliases = split_list(props.get("transforms").map(String::as_str).unwrap_or(""));
        let mut steps = Vec::with_capacity(aliases.len());
        for (index, alias) in aliases.iter().enumerate() {
            if aliases[..index].contains(alias) {
                return Err(Error::InvalidConfig {
                    key: "transforms".into(),
                    value: props["transforms"].clone(),
                    reason: format!("the alias {alias:?} is listed twice"),
                });
            }
            let config = TransformConfig::new("transforms", alias, props);
            let transform = build::<R>(&config)?;
            let condition = match config.get("predicate") {
                Some(name) => {
                    let predicate = predicates.get(name).cloned().ok_or_else(|| {
                        config.invalid(
                            "predicate",
                            name,
                            "no such predicate; list it in \"predicates\" and set its \"predicates.<name>.type\"",
                        )
                    })?;
                    let negate = config.boolean("negate", false)?;
                    Some(Condition { predicate, negate })
                }
                None => {
                    if config.get("negate").is_some() {
                        tracing::warn!(
                            key = %config.full_key("negate"),
                            "\"negate\" has no effect without a \"predicate\""
                        );
                    }
                    None
                }
            };
            steps.push(Step {
                alias: alias.clone(),
                transform,
                condition,
            });
        }
        Ok(Self { steps })
    }

    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// The aliases, in order.
    pub fn aliases(&self) -> impl Iterator<Item = &str> {
        self.steps.iter().map(|step| step.alias.as_str())
    }

    /// Runs the record through every transform whose condition holds; `None` when one of them
    /// dropped it.
    pub fn apply(&self, record: R) -> Result<Option<R>> {
        let mut record = record;
        for step in &self.steps {
            if let Some(condition) = &step.condition
                && condition.predicate.test(&record) == condition.negate
            {
                continue;
            }
            match step.transform.apply(record)? {
                Some(next) => record = next,
                None => return Ok(None),
            }
        }
        Ok(Some(record))
    }
}

fn build_predicates(props: &Props) -> Result<BTreeMap<String, Arc<Predicate>>> {
    let names = split_list(props.get("predicates").map(String::as_str).unwrap_or(""));
    let mut predicates = BTreeMap::new();
    for name in names {
        let config = TransformConfig::new("predicates", &name, props);
        let predicate = Predicate::new(&config)?;
        predicates.insert(name, Arc::new(predicate));
    }
    Ok(predicates)
}

/// Builds the error a transform reports about a record.
pub(crate) fn record_error(alias: &str, reason: impl Into<String>) -> Error {
    Error::Transform {
        alias: alias.to_string(),
        reason: reason.into(),
        source: None,
    }
}

/// Like [`record_error`], keeping the schemas error as the cause.
pub(crate) fn schema_error(
    alias: &str,
    reason: impl Into<String>,
    source: sluice_schemas::Error,
) -> Error {
    Error::Transform {
        alias: alias.to_string(),
        reason: reason.into(),
        source: Some(Box::new(source)),
    }
}
