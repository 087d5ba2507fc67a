//! Declared configuration keys (Kafka's `ConfigDef`): each connector lists its keys with
//! type, default, allowed values and documentation; the runtime validates raw properties
//! against them, fills defaults, reports unknown keys and answers the REST `validate` call.

use std::collections::BTreeMap;

use super::props::Props;
use super::secrets::Secret;
use crate::error::{Error, Result};

/// The type of a configuration value, named as Kafka's `ConfigDef.Type` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigType {
    String,
    Int,
    Long,
    Double,
    Boolean,
    /// Comma-separated values.
    List,
    Password,
    Class,
}

impl ConfigType {
    /// The upper-case name the REST `validate` response uses.
    pub fn rest_name(self) -> &'static str {
        match self {
            Self::String => "STRING",
            Self::Int => "INT",
            Self::Long => "LONG",
            Self::Double => "DOUBLE",
            Self::Boolean => "BOOLEAN",
            Self::List => "LIST",
            Self::Password => "PASSWORD",
            Self::Class => "CLASS",
        }
    }
}

/// How much a key matters to users, as shown by the REST `validate` response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Importance {
    High,
    Medium,
    Low,
}

/// Whether a key must be given, may be absent, or has a default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    Required,
    Optional,
    Default(&'static str),
}

/// One declared configuration key.
#[derive(Debug, Clone)]
pub struct ConfigKey {
    pub name: &'static str,
    pub config_type: ConfigType,
    pub presence: Presence,
    /// Allowed values (compared case-insensitively); empty means any value of the type.
    pub allowed: &'static [&'static str],
    /// Inclusive bounds for numeric keys.
    pub min: Option<i64>,
    pub max: Option<i64>,
    pub importance: Importance,
    pub group: &'static str,
    pub doc: &'static str,
}

impl ConfigKey {
    pub fn new(name: &'static str, config_type: ConfigType) -> Self {
        Self {
            name,
            config_type,
            presence: Presence::Optional,
            allowed: &[],
            min: None,
            max: None,
            importance: Importance::Medium,
            group: "",
            doc: "",
        }
    }

    pub fn string(name: &'static str) -> Self {
        Self::new(name, ConfigType::String)
    }
    pub fn int(name: &'static str) -> Self {
        Self::new(name, ConfigType::Int)
    }
    pub fn long(name: &'static str) -> Self {
        Self::new(name, ConfigType::Long)
    }
    pub fn double(name: &'static str) -> Self {
        Self::new(name, ConfigType::Double)
    }
    pub fn boolean(name: &'static str) -> Self {
        Self::new(name, ConfigType::Boolean)
    }
    pub fn list(name: &'static str) -> Self {
        Self::new(name, ConfigType::List)
    }
    pub fn password(name: &'static str) -> Self {
        Self::new(name, ConfigType::Password)
    }
    pub fn class(name: &'static str) -> Self {
        Self::new(name, ConfigType::Class)
    }

    pub fn required(mut self) -> Self {
        self.presence = Presence::Required;
        self.importance = Importance::High;
        self
    }
    pub fn default(mut self, value: &'static str) -> Self {
        self.presence = Presence::Default(value);
        self
    }
    pub fn one_of(mut self, allowed: &'static [&'static str]) -> Self {
        self.allowed = allowed;
        self
    }
    pub fn range(mut self, min: i64, max: i64) -> Self {
        self.min = Some(min);
        self.max = Some(max);
        self
    }
    pub fn at_least(mut self, min: i64) -> Self {
        self.min = Some(min);
        self
    }
    pub fn importance(mut self, importance: Importance) -> Self {
        self.importance = importance;
        self
    }
    pub fn group(mut self, group: &'static str) -> Self {
        self.group = group;
        self
    }
    pub fn doc(mut self, doc: &'static str) -> Self {
        self.doc = doc;
        self
    }

    /// Checks one raw value against the declaration, giving the typed value.
    fn check(&self, raw: &str) -> std::result::Result<ConfigValue, String> {
        let trimmed = raw.trim();
        let value = match self.config_type {
            ConfigType::String | ConfigType::Class => ConfigValue::Text(trimmed.to_string()),
            ConfigType::Password => ConfigValue::Password(Secret::new(raw)),
            ConfigType::Int | ConfigType::Long => {
                let number: i64 = trimmed
                    .parse()
                    .map_err(|_| "expected a whole number".to_string())?;
                if self.config_type == ConfigType::Int && i32::try_from(number).is_err() {
                    return Err("expected a 32-bit whole number".into());
                }
                ConfigValue::Integer(number)
            }
            ConfigType::Double => ConfigValue::Double(
                trimmed
                    .parse()
                    .map_err(|_| "expected a number".to_string())?,
            ),
            ConfigType::Boolean => match trimmed.to_ascii_lowercase().as_str() {
                "true" => ConfigValue::Boolean(true),
                "false" => ConfigValue::Boolean(false),
                _ => return Err("expected true or false".into()),
            },
            ConfigType::List => ConfigValue::List(split_list(trimmed)),
        };
        if let ConfigValue::Integer(number) = value {
            if let Some(min) = self.min.filter(|min| number < *min) {
                return Err(format!("must be at least {min}"));
            }
            if let Some(max) = self.max.filter(|max| number > *max) {
                return Err(format!("must be at most {max}"));
            }
        }
        if !self.allowed.is_empty() {
            let candidates: Vec<&str> = match &value {
                ConfigValue::List(items) => items.iter().map(String::as_str).collect(),
                _ => vec![trimmed],
            };
            for candidate in candidates {
                if !self
                    .allowed
                    .iter()
                    .any(|a| a.eq_ignore_ascii_case(candidate))
                {
                    return Err(format!("must be one of {}", self.allowed.join(", ")));
                }
            }
        }
        Ok(value)
    }
}

/// Splits a comma-separated list, dropping blanks around and between items.
pub fn split_list(raw: &str) -> Vec<String> {
    raw.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(str::to_string)
        .collect()
}

/// A validated, typed configuration value.
#[derive(Debug, Clone, PartialEq)]
pub enum ConfigValue {
    Text(String),
    Integer(i64),
    Double(f64),
    Boolean(bool),
    List(Vec<String>),
    Password(Secret),
}

/// The declared keys of one connector (or of the runtime's common keys).
#[derive(Debug, Clone, Default)]
pub struct ConfigDef {
    keys: Vec<ConfigKey>,
}

/// One key's outcome in a validation report, shaped like Kafka Connect's `ConfigValue`.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyReport {
    pub name: String,
    pub value: Option<String>,
    pub errors: Vec<String>,
    pub recommended_values: Vec<String>,
}

/// Every declared key's outcome plus the keys nobody declared.
#[derive(Debug, Clone, Default)]
pub struct ValidationReport {
    pub keys: Vec<KeyReport>,
    pub unknown_keys: Vec<String>,
}

impl ValidationReport {
    pub fn error_count(&self) -> usize {
        self.keys.iter().map(|key| key.errors.len()).sum()
    }
}

impl ConfigDef {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn define(mut self, key: ConfigKey) -> Self {
        self.keys.retain(|existing| existing.name != key.name);
        self.keys.push(key);
        self
    }

    /// Adds every key of `other` (later declarations win).
    pub fn merge(mut self, other: &ConfigDef) -> Self {
        for key in &other.keys {
            self = self.define(key.clone());
        }
        self
    }

    pub fn keys(&self) -> &[ConfigKey] {
        &self.keys
    }

    pub fn key(&self, name: &str) -> Option<&ConfigKey> {
        self.keys.iter().find(|key| key.name == name)
    }

    /// Reports on every declared key without stopping at the first error.
    pub fn validate(&self, props: &Props) -> ValidationReport {
        let keys = self
            .keys
            .iter()
            .map(|key| {
                let raw = props.get(key.name);
                let mut errors = Vec::new();
                match (raw, key.presence) {
                    (None, Presence::Required) => errors.push(format!(
                        "Missing required configuration \"{}\" which has no default value.",
                        key.name
                    )),
                    (Some(raw), _) => {
                        if let Err(reason) = key.check(raw) {
                            errors.push(format!(
                                "Invalid value {raw} for configuration {}: {reason}",
                                key.name
                            ));
                        }
                    }
                    (None, _) => {}
                }
                let shown = raw.cloned().or_else(|| match key.presence {
                    Presence::Default(default) => Some(default.to_string()),
                    _ => None,
                });
                KeyReport {
                    name: key.name.to_string(),
                    value: shown,
                    errors,
                    recommended_values: key.allowed.iter().map(|v| v.to_string()).collect(),
                }
            })
            .collect();
        let unknown_keys = props
            .keys()
            .filter(|name| self.key(name).is_none())
            .cloned()
            .collect();
        ValidationReport { keys, unknown_keys }
    }

    /// Validates and types `props`, failing on the first problem with the key named.
    pub fn parse(&self, props: &Props) -> Result<Config> {
        let mut values = BTreeMap::new();
        for key in &self.keys {
            let raw = match (props.get(key.name), key.presence) {
                (Some(raw), _) => raw,
                (None, Presence::Default(default)) => default,
                (None, Presence::Optional) => continue,
                (None, Presence::Required) => {
                    return Err(Error::MissingConfig {
                        key: key.name.into(),
                        doc: key.doc.into(),
                    });
                }
            };
            let value = key.check(raw).map_err(|reason| Error::InvalidConfig {
                key: key.name.into(),
                value: if key.config_type == ConfigType::Password {
                    super::secrets::MASK.into()
                } else {
                    raw.to_string()
                },
                reason,
            })?;
            values.insert(key.name.to_string(), value);
        }
        let unknown_keys = props
            .keys()
            .filter(|name| self.key(name).is_none())
            .cloned()
            .collect();
        Ok(Config {
            values,
            unknown_keys,
        })
    }
}

/// A parsed configuration: declared keys typed and defaulted.
#[derive(Debug, Clone, Default)]
pub struct Config {
    values: BTreeMap<String, ConfigValue>,
    unknown_keys: Vec<String>,
}

impl Config {
    /// Keys present in the input that no declaration knows (worth a warning).
    pub fn unknown_keys(&self) -> &[String] {
        &self.unknown_keys
    }

    pub fn value(&self, key: &str) -> Option<&ConfigValue> {
        self.values.get(key)
    }

    fn present(&self, key: &str) -> Result<&ConfigValue> {
        self.values.get(key).ok_or_else(|| Error::MissingConfig {
            key: key.into(),
            doc: String::new(),
        })
    }

    fn mismatch(key: &str, wanted: &str) -> Error {
        Error::InvalidConfig {
            key: key.into(),
            value: String::new(),
            reason: format!("declared with another type than {wanted}"),
        }
    }

    /// A string, class or enumerated key; `None` when optional and absent.
    pub fn string(&self, key: &str) -> Option<&str> {
        match self.values.get(key) {
            Some(ConfigValue::Text(text)) => Some(text),
            _ => None,
        }
    }

    pub fn required_string(&self, key: &str) -> Result<&str> {
        match self.present(key)? {
            ConfigValue::Text(text) => Ok(text),
            _ => Err(Self::mismatch(key, "string")),
        }
    }

    pub fn integer(&self, key: &str) -> Result<i64> {
        match self.present(key)? {
            ConfigValue::Integer(number) => Ok(*number),
            _ => Err(Self::mismatch(key, "integer")),
        }
    }

    pub fn double(&self, key: &str) -> Result<f64> {
        match self.present(key)? {
            ConfigValue::Double(number) => Ok(*number),
            _ => Err(Self::mismatch(key, "double")),
        }
    }

    pub fn boolean(&self, key: &str) -> Result<bool> {
        match self.present(key)? {
            ConfigValue::Boolean(flag) => Ok(*flag),
            _ => Err(Self::mismatch(key, "boolean")),
        }
    }

    /// A list key; empty when optional and absent.
    pub fn list(&self, key: &str) -> &[String] {
        match self.values.get(key) {
            Some(ConfigValue::List(items)) => items,
            _ => &[],
        }
    }

    pub fn password(&self, key: &str) -> Option<&Secret> {
        match self.values.get(key) {
            Some(ConfigValue::Password(secret)) => Some(secret),
            _ => None,
        }
    }

    /// An enumerated key parsed into the connector's own enum.
    pub fn parsed<T>(&self, key: &str) -> Result<T>
    where
        T: std::str::FromStr,
        T::Err: std::fmt::Display,
    {
        let text = self.required_string(key)?;
        text.parse().map_err(|err: T::Err| Error::InvalidConfig {
            key: key.into(),
            value: text.into(),
            reason: err.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def() -> ConfigDef {
        ConfigDef::new()
            .define(
                ConfigKey::string("database.hostname")
                    .required()
                    .doc("Host of the database."),
            )
            .define(
                ConfigKey::int("database.port")
                    .default("5432")
                    .range(1, 65535),
            )
            .define(ConfigKey::password("database.password"))
            .define(
                ConfigKey::string("snapshot.mode")
                    .default("initial")
                    .one_of(&["initial", "no_data", "always"]),
            )
            .define(ConfigKey::list("table.include.list"))
            .define(ConfigKey::boolean("tombstones.on.delete").default("true"))
    }

    use crate::config::props::props_of as props;

    #[test]
    fn parse_fills_defaults_and_types_values() {
        let config = def()
            .parse(&props(&[
                ("database.hostname", "db"),
                ("database.password", "pw"),
                ("table.include.list", "a.b, c.d ,"),
                ("mystery.key", "1"),
            ]))
            .unwrap();
        assert_eq!(config.required_string("database.hostname").unwrap(), "db");
        assert_eq!(config.integer("database.port").unwrap(), 5432);
        assert_eq!(config.string("snapshot.mode"), Some("initial"));
        assert!(config.boolean("tombstones.on.delete").unwrap());
        assert_eq!(config.list("table.include.list"), ["a.b", "c.d"]);
        assert_eq!(config.password("database.password").unwrap().expose(), "pw");
        assert_eq!(config.unknown_keys(), ["mystery.key"]);
    }

    #[test]
    fn parse_errors_name_key_and_fix() {
        let err = def().parse(&props(&[])).unwrap_err().to_string();
        assert!(err.contains("database.hostname") && err.contains("Host of the database"));
        let err = def()
            .parse(&props(&[
                ("database.hostname", "h"),
                ("database.port", "70000"),
            ]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("database.port") && err.contains("at most 65535"),
            "{err}"
        );
        let err = def()
            .parse(&props(&[
                ("database.hostname", "h"),
                ("snapshot.mode", "sometimes"),
            ]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("initial, no_data, always"), "{err}");
    }

    #[test]
    fn validate_reports_every_problem() {
        let report = def().validate(&props(&[
            ("database.port", "x"),
            ("tombstones.on.delete", "maybe"),
        ]));
        assert_eq!(report.error_count(), 3);
        let mode = report
            .keys
            .iter()
            .find(|k| k.name == "snapshot.mode")
            .unwrap();
        assert_eq!(mode.value.as_deref(), Some("initial"));
        assert_eq!(mode.recommended_values.len(), 3);
    }
}
