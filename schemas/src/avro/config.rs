//! The Avro converter's settings as connector configs spell them: `schema.registry.url`
//! (credentials in the URL are moved out of it), `auto.register.schemas`,
//! `basic.auth.credentials.source` / `basic.auth.user.info`, `scrub.invalid.names`, and the
//! subject name strategies.

use super::names::NameMode;
use super::subject::SubjectNameStrategy;
use crate::registry::BasicAuth;
use crate::{Error, Result};

/// The class name connector configs use for this converter.
pub const AVRO_CONVERTER_CLASS: &str = "io.confluent.connect.avro.AvroConverter";

/// Checks a `key.converter` / `value.converter` class name.
pub fn is_avro_converter_class(class: &str) -> bool {
    matches!(
        class.trim(),
        AVRO_CONVERTER_CLASS | "avro" | "AvroConverter"
    )
}

/// What to do with a schema the subject does not have yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Registration {
    /// Register it (`auto.register.schemas=true`, the default).
    #[default]
    AutoRegister,
    /// Only look it up; fail when it is not registered.
    LookupOnly,
}

/// The converter's settings, from connector properties (`schema.registry.url`,
/// `auto.register.schemas`, `key.subject.name.strategy`, `value.subject.name.strategy`,
/// `basic.auth.credentials.source`, `basic.auth.user.info`), with the `key.converter.` / `value.converter.` prefixes removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AvroConverterConfig {
    pub registry_url: Option<String>,
    pub registration: Registration,
    /// `key.subject.name.strategy`.
    pub key_subject_strategy: SubjectNameStrategy,
    /// `value.subject.name.strategy`.
    pub value_subject_strategy: SubjectNameStrategy,
    /// `basic.auth.user.info` (with `basic.auth.credentials.source=USER_INFO`).
    pub registry_credentials: Option<BasicAuth>,
    /// `scrub.invalid.names`: rewrite names that are not valid Avro names.
    pub name_mode: NameMode,
}

impl AvroConverterConfig {
    /// Reads the settings this converter knows; other keys are left to the caller.
    pub fn from_properties<'a>(
        properties: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self> {
        let mut config = Self::default();
        for (key, value) in properties {
            match key {
                "schema.registry.url" => {
                    // Confluent accepts a comma-separated list; the first URL is used.
                    let first = value.split(',').next().unwrap_or_default().trim();
                    config.registry_url = (!first.is_empty()).then(|| first.to_owned());
                }
                "auto.register.schemas" => {
                    config.registration = if parse_bool(key, value)? {
                        Registration::AutoRegister
                    } else {
                        Registration::LookupOnly
                    };
                }
                "basic.auth.credentials.source" => {
                    let source = value.trim().to_ascii_uppercase();
                    if source != "USER_INFO" && source != "URL" {
                        return Err(Error::InvalidConfig {
                            key: key.to_owned(),
                            value: value.to_owned(),
                            reason: "use USER_INFO or URL".into(),
                        });
                    }
                }
                "basic.auth.user.info" | "schema.registry.basic.auth.user.info"
                    if !value.is_empty() =>
                {
                    config.registry_credentials = Some(BasicAuth::parse_user_info(key, value)?);
                }
                "scrub.invalid.names" => {
                    config.name_mode = if parse_bool(key, value)? {
                        NameMode::Scrub
                    } else {
                        NameMode::AsIs
                    };
                }
                "key.subject.name.strategy" => {
                    config.key_subject_strategy = SubjectNameStrategy::parse(key, value)?;
                }
                "value.subject.name.strategy" => {
                    config.value_subject_strategy = SubjectNameStrategy::parse(key, value)?;
                }
                _ => {}
            }
        }
        if let Some(url) = config.registry_url.take() {
            let (url, credentials) = split_url_credentials(&url, &config.registry_credentials)?;
            config.registry_url = Some(url);
            config.registry_credentials = credentials;
        }
        Ok(config)
    }
}

/// Takes `user:password@` out of a registry URL (Confluent's `basic.auth.credentials.source=URL`);
/// explicit `basic.auth.user.info` wins.
fn split_url_credentials(
    url: &str,
    explicit: &Option<BasicAuth>,
) -> Result<(String, Option<BasicAuth>)> {
    let Some((scheme, rest)) = url.split_once("://") else {
        return Ok((url.to_owned(), explicit.clone()));
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rsplit_once('@') {
        Some((user_info, host)) => {
            let from_url = BasicAuth::parse_user_info("schema.registry.url", user_info)?;
            let stripped = format!("{scheme}://{host}{}", &rest[authority_end..]);
            Ok((stripped, Some(explicit.clone().unwrap_or(from_url))))
        }
        None => Ok((url.to_owned(), explicit.clone())),
    }
}

/// A `true`/`false` setting.
fn parse_bool(key: &str, value: &str) -> Result<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(Error::InvalidConfig {
            key: key.to_owned(),
            value: value.to_owned(),
            reason: "use true or false".into(),
        }),
    }
}
