//! The properties of one transform or predicate alias (`transforms.<alias>.<key>`,
//! `predicates.<alias>.<key>`), read by key with errors that name the full key.

use crate::config::Props;
use crate::config::def::split_list;
use crate::error::{Error, Result};

/// The keys under `<section>.<alias>.` of a connector configuration.
#[derive(Debug, Clone, Copy)]
pub struct TransformConfig<'a> {
    section: &'a str,
    alias: &'a str,
    props: &'a Props,
}

impl<'a> TransformConfig<'a> {
    /// The view of `props` under `<section>.<alias>.` (`section` is `transforms` or
    /// `predicates`).
    pub fn new(section: &'a str, alias: &'a str, props: &'a Props) -> Self {
        Self {
            section,
            alias,
            props,
        }
    }

    pub fn alias(&self) -> &'a str {
        self.alias
    }

    /// The full configuration key of one of this alias's keys.
    pub fn full_key(&self, key: &str) -> String {
        format!("{}.{}.{key}", self.section, self.alias)
    }

    /// A value, trimmed; `None` when absent or blank.
    pub fn get(&self, key: &str) -> Option<&'a str> {
        self.props
            .get(&self.full_key(key))
            .map(|value| value.trim())
            .filter(|value| !value.is_empty())
    }

    /// A value that must be present; `doc` tells the user what to put there.
    pub fn required(&self, key: &str, doc: &str) -> Result<&'a str> {
        self.get(key).ok_or_else(|| Error::MissingConfig {
            key: self.full_key(key),
            doc: doc.to_string(),
        })
    }

    /// A comma-separated list; empty when absent.
    pub fn list(&self, key: &str) -> Vec<String> {
        self.get(key).map(split_list).unwrap_or_default()
    }

    /// A `true`/`false` value (any case).
    pub fn boolean(&self, key: &str, default: bool) -> Result<bool> {
        match self.get(key) {
            None => Ok(default),
            Some(value) if value.eq_ignore_ascii_case("true") => Ok(true),
            Some(value) if value.eq_ignore_ascii_case("false") => Ok(false),
            Some(value) => Err(self.invalid(key, value, "expected true or false")),
        }
    }

    /// An error about one of this alias's keys.
    pub fn invalid(&self, key: &str, value: &str, reason: &str) -> Error {
        Error::InvalidConfig {
            key: self.full_key(key),
            value: value.to_string(),
            reason: reason.to_string(),
        }
    }

    /// Warns about keys of this alias that its transform does not read (`type`, `predicate`
    /// and `negate` are always known).
    pub fn warn_unknown(&self, known: &[&str]) {
        let prefix = format!("{}.{}.", self.section, self.alias);
        for key in self.props.keys() {
            let Some(own) = key.strip_prefix(&prefix) else {
                continue;
            };
            let always = ["type", "predicate", "negate"];
            if !always.contains(&own) && !known.contains(&own) {
                tracing::warn!(key = %key, "unknown key for this transform or predicate; it is ignored");
            }
        }
    }
}
