//! The HTTP sink's configuration: every key it declares (with defaults, bounds and docs, so
//! the REST `validate` call can show them) and [`HttpSinkConfig`], the typed form a task runs
//! with. Cross-key rules (auth pairs, CloudEvents with NDJSON, backoff bounds) are checked
//! here too, each failing with the key named and the fix.

use std::path::PathBuf;
use std::time::Duration;

use reqwest::header::{HeaderName, HeaderValue};
use sluice_connect::config::secrets::Secret;
use sluice_connect::config::{ConfigDef, ConfigKey, Props};
use sluice_schemas::json::SchemaEnvelope;

use crate::body::BodyFormat;
use crate::error::{Error, Result};
use crate::retry::RetrySettings;

pub const URL: &str = "http.url";
pub const METHOD: &str = "http.method";
pub const HEADERS: &str = "http.headers";
pub const BEARER_TOKEN: &str = "http.auth.bearer.token";
pub const BASIC_USERNAME: &str = "http.auth.basic.username";
pub const BASIC_PASSWORD: &str = "http.auth.basic.password";
pub const TIMEOUT_MS: &str = "http.timeout.ms";
pub const SSL_CA_FILE: &str = "http.ssl.ca.file";
pub const BATCH_MAX_SIZE: &str = "batch.max.size";
pub const BATCH_MAX_BYTES: &str = "batch.max.bytes";
pub const BATCH_LINGER_MS: &str = "batch.linger.ms";
pub const BODY_FORMAT: &str = "body.format";
pub const BODY_SCHEMAS: &str = "body.schemas.enable";
pub const CLOUDEVENTS: &str = "cloudevents";
pub const CLOUDEVENTS_SOURCE: &str = "cloudevents.source";
pub const CLOUDEVENTS_TYPE: &str = "cloudevents.type";
pub const RETRY_MAX_ATTEMPTS: &str = "retry.max.attempts";
pub const RETRY_BACKOFF_MS: &str = "retry.backoff.ms";
pub const RETRY_BACKOFF_MAX_MS: &str = "retry.backoff.max.ms";
pub const MAX_IN_FLIGHT: &str = "max.in.flight";
pub const BUFFER_MAX_BYTES: &str = "buffer.max.bytes";

/// The HTTP method of every request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpMethod {
    Post,
    Put,
}

impl HttpMethod {
    pub fn as_reqwest(self) -> reqwest::Method {
        match self {
            Self::Post => reqwest::Method::POST,
            Self::Put => reqwest::Method::PUT,
        }
    }
}

/// How requests authenticate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    None,
    Bearer(Secret),
    Basic { username: String, password: Secret },
}

/// Whether events are wrapped as CloudEvents (structured content mode).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CloudEvents {
    Off,
    Structured {
        /// The `source` attribute; `None` means `/sluice/<connector name>`.
        source: Option<String>,
        event_type: String,
    },
}

/// When an open batch is sealed and sent (see `batch` for the cutting rule).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchLimits {
    pub max_records: u64,
    pub max_bytes: usize,
    pub linger: Duration,
}

/// A task's typed configuration.
#[derive(Debug, Clone)]
pub struct HttpSinkConfig {
    pub url: reqwest::Url,
    pub method: HttpMethod,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub auth: Auth,
    pub timeout: Duration,
    pub ca_file: Option<PathBuf>,
    pub batch: BatchLimits,
    pub body: BodyFormat,
    pub schemas: SchemaEnvelope,
    pub cloudevents: CloudEvents,
    pub retry: RetrySettings,
    /// Most requests under way at once, over all partitions (one per partition at most).
    pub max_in_flight: usize,
    /// Most bytes of serialized events held before partitions are paused.
    pub buffer_max_bytes: usize,
}

/// Every key the HTTP sink declares (the runtime adds `topics`, converters, `errors.*`).
pub fn config_def() -> ConfigDef {
    const HTTP: &str = "HTTP";
    const BATCH: &str = "Batching";
    const RETRY: &str = "Retries";
    ConfigDef::new()
        .define(ConfigKey::string(URL).required().group(HTTP).doc(
            "Where events are sent, an http:// or https:// URL, e.g. https://example.com/ingest.",
        ))
        .define(
            ConfigKey::string(METHOD)
                .default("POST")
                .one_of(&["POST", "PUT"])
                .group(HTTP)
                .doc("The HTTP method of every request."),
        )
        .define(
            ConfigKey::string(HEADERS)
                .group(HTTP)
                .doc("Extra request headers, `Name: value`, separated by `|` or new lines."),
        )
        .define(
            ConfigKey::password(BEARER_TOKEN)
                .group(HTTP)
                .doc("Sends `Authorization: Bearer <token>`."),
        )
        .define(
            ConfigKey::string(BASIC_USERNAME)
                .group(HTTP)
                .doc("User name for HTTP basic authentication (with http.auth.basic.password)."),
        )
        .define(
            ConfigKey::password(BASIC_PASSWORD)
                .group(HTTP)
                .doc("Password for HTTP basic authentication."),
        )
        .define(
            ConfigKey::long(TIMEOUT_MS)
                .default("30000")
                .at_least(1)
                .group(HTTP)
                .doc("How long one request may take before it counts as failed (and is retried)."),
        )
        .define(ConfigKey::string(SSL_CA_FILE).group(HTTP).doc(
            "A PEM file of CA certificates trusted in addition to the system roots (a private CA).",
        ))
        .define(
            ConfigKey::int(BATCH_MAX_SIZE)
                .default("500")
                .range(1, 100_000)
                .group(BATCH)
                .doc("Most events per request; batches never cross a multiple of this offset."),
        )
        .define(
            ConfigKey::int(BATCH_MAX_BYTES)
                .default("1048576")
                .at_least(64)
                .group(BATCH)
                .doc("Most body bytes per request (a single larger event is sent alone)."),
        )
        .define(
            ConfigKey::long(BATCH_LINGER_MS)
                .default("100")
                .at_least(0)
                .group(BATCH)
                .doc("How long a partly filled batch waits for more events before it is sent."),
        )
        .define(
            ConfigKey::string(BODY_FORMAT)
                .default("json-array")
                .one_of(&["json-array", "ndjson", "single"])
                .group(BATCH)
                .doc("json-array, ndjson (one event per line) or single (one event per request)."),
        )
        .define(
            ConfigKey::boolean(BODY_SCHEMAS).default("false").doc(
                "Write key and value as {\"schema\",\"payload\"} instead of the payload alone.",
            ),
        )
        .define(
            ConfigKey::string(CLOUDEVENTS)
                .default("off")
                .one_of(&["off", "on", "structured"])
                .doc("on (or structured): send CloudEvents 1.0 in structured content mode."),
        )
        .define(
            ConfigKey::string(CLOUDEVENTS_SOURCE)
                .doc("The CloudEvents `source` attribute; default /sluice/<connector name>."),
        )
        .define(
            ConfigKey::string(CLOUDEVENTS_TYPE)
                .default("io.sluice.record")
                .doc("The CloudEvents `type` attribute."),
        )
        .define(
            ConfigKey::int(RETRY_MAX_ATTEMPTS)
                .default("10")
                .at_least(-1)
                .group(RETRY)
                .doc("Attempts per batch before the task fails; -1 retries for ever."),
        )
        .define(
            ConfigKey::long(RETRY_BACKOFF_MS)
                .default("100")
                .at_least(1)
                .group(RETRY)
                .doc("The first pause between attempts; it doubles (with jitter) after each."),
        )
        .define(
            ConfigKey::long(RETRY_BACKOFF_MAX_MS)
                .default("30000")
                .at_least(1)
                .group(RETRY)
                .doc("The longest pause between attempts (Retry-After answers are honoured)."),
        )
        .define(
            ConfigKey::int(MAX_IN_FLIGHT)
                .default("1")
                .range(1, 64)
                .group(BATCH)
                .doc(
                    "Most requests under way at once; never two of one partition, so order holds.",
                ),
        )
        .define(
            ConfigKey::long(BUFFER_MAX_BYTES)
                .default("33554432")
                .at_least(1024)
                .group(BATCH)
                .doc("Most bytes of events waiting to be sent before partitions are paused."),
        )
}

fn invalid(key: &str, value: &str, reason: impl Into<String>) -> Error {
    Error::InvalidConfig {
        key: key.into(),
        value: value.into(),
        reason: reason.into(),
    }
}

fn millis(value: i64) -> Duration {
    Duration::from_millis(u64::try_from(value).unwrap_or(0))
}

impl HttpSinkConfig {
    /// Validates and types a task's properties.
    pub fn parse(props: &Props) -> Result<Self> {
        let config = config_def().parse(props)?;
        let url_text = config.required_string(URL)?;
        let url = reqwest::Url::parse(url_text)
            .map_err(|error| invalid(URL, url_text, format!("not a URL ({error})")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(invalid(URL, url_text, "use an http:// or https:// URL"));
        }
        let method = match config
            .required_string(METHOD)?
            .to_ascii_uppercase()
            .as_str()
        {
            "PUT" => HttpMethod::Put,
            _ => HttpMethod::Post,
        };
        let headers = parse_headers(config.string(HEADERS).unwrap_or_default())?;
        let auth = match (
            config.password(BEARER_TOKEN),
            config.string(BASIC_USERNAME),
            config.password(BASIC_PASSWORD),
        ) {
            (None, None, None) => Auth::None,
            (Some(token), None, None) => Auth::Bearer(token.clone()),
            (None, Some(username), Some(password)) => Auth::Basic {
                username: username.to_string(),
                password: password.clone(),
            },
            (Some(_), _, _) => {
                return Err(invalid(
                    BEARER_TOKEN,
                    "[hidden]",
                    "set either a bearer token or basic credentials, not both",
                ));
            }
            (None, Some(username), None) => {
                return Err(invalid(
                    BASIC_PASSWORD,
                    "",
                    format!("basic authentication as {username:?} needs http.auth.basic.password"),
                ));
            }
            (None, None, Some(_)) => {
                return Err(invalid(
                    BASIC_USERNAME,
                    "",
                    "basic authentication needs http.auth.basic.username beside the password",
                ));
            }
        };
        let body: BodyFormat = config.parsed(BODY_FORMAT)?;
        let cloudevents = match config
            .required_string(CLOUDEVENTS)?
            .to_ascii_lowercase()
            .as_str()
        {
            "off" => CloudEvents::Off,
            _ if body == BodyFormat::Ndjson => {
                return Err(invalid(
                    CLOUDEVENTS,
                    "on",
                    "CloudEvents batches are JSON arrays; use body.format=json-array or single",
                ));
            }
            _ => CloudEvents::Structured {
                source: config.string(CLOUDEVENTS_SOURCE).map(str::to_string),
                event_type: config.required_string(CLOUDEVENTS_TYPE)?.to_string(),
            },
        };
        let backoff = millis(config.integer(RETRY_BACKOFF_MS)?);
        let backoff_max = millis(config.integer(RETRY_BACKOFF_MAX_MS)?);
        if backoff_max < backoff {
            return Err(invalid(
                RETRY_BACKOFF_MAX_MS,
                &backoff_max.as_millis().to_string(),
                format!(
                    "must be at least retry.backoff.ms ({})",
                    backoff.as_millis()
                ),
            ));
        }
        let attempts = config.integer(RETRY_MAX_ATTEMPTS)?;
        if attempts == 0 {
            return Err(invalid(
                RETRY_MAX_ATTEMPTS,
                "0",
                "use 1 or more, or -1 for ever",
            ));
        }
        let max_records = match body {
            BodyFormat::Single => 1,
            _ => config.integer(BATCH_MAX_SIZE)? as u64,
        };
        Ok(Self {
            url,
            method,
            headers,
            auth,
            timeout: millis(config.integer(TIMEOUT_MS)?),
            ca_file: config
                .string(SSL_CA_FILE)
                .filter(|p| !p.is_empty())
                .map(PathBuf::from),
            batch: BatchLimits {
                max_records,
                max_bytes: config.integer(BATCH_MAX_BYTES)? as usize,
                linger: millis(config.integer(BATCH_LINGER_MS)?),
            },
            body,
            schemas: if config.boolean(BODY_SCHEMAS)? {
                SchemaEnvelope::WithSchema
            } else {
                SchemaEnvelope::PayloadOnly
            },
            cloudevents,
            retry: RetrySettings {
                max_attempts: u32::try_from(attempts).ok(),
                backoff,
                backoff_max,
            },
            max_in_flight: config.integer(MAX_IN_FLIGHT)? as usize,
            buffer_max_bytes: config.integer(BUFFER_MAX_BYTES)? as usize,
        })
    }
}

/// Parses `Name: value` pairs separated by `|` or new lines.
pub fn parse_headers(raw: &str) -> Result<Vec<(HeaderName, HeaderValue)>> {
    let mut headers = Vec::new();
    for entry in raw
        .split(['|', '\n'])
        .map(str::trim)
        .filter(|e| !e.is_empty())
    {
        let Some((name, value)) = entry.split_once(':') else {
            return Err(invalid(
                HEADERS,
                entry,
                "write each header as `Name: value`, separated by `|` or new lines",
            ));
        };
        let name = HeaderName::from_bytes(name.trim().as_bytes()).map_err(|_| {
            invalid(
                HEADERS,
                entry,
                format!("{:?} is not a valid header name", name.trim()),
            )
        })?;
        let value = HeaderValue::from_str(value.trim()).map_err(|_| {
            invalid(
                HEADERS,
                entry,
                "the header value holds a character HTTP forbids",
            )
        })?;
        headers.push((name, value));
    }
    Ok(headers)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(pairs: &[(&str, &str)]) -> Props {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn parse(pairs: &[(&str, &str)]) -> Result<HttpSinkConfig> {
        let mut all = vec![(URL, "http://127.0.0.1:9/in")];
        all.extend_from_slice(pairs);
        HttpSinkConfig::parse(&props(&all))
    }

    #[test]
    fn defaults_are_sane() {
        let config = parse(&[]).unwrap();
        assert_eq!(config.method, HttpMethod::Post);
        assert_eq!(config.batch.max_records, 500);
        assert_eq!(config.body, BodyFormat::JsonArray);
        assert_eq!(config.max_in_flight, 1);
        assert_eq!(config.auth, Auth::None);
        assert_eq!(config.cloudevents, CloudEvents::Off);
        assert_eq!(config.schemas, SchemaEnvelope::PayloadOnly);
        assert_eq!(config.retry.max_attempts, Some(10));
    }

    #[test]
    fn headers_split_on_bars_and_lines() {
        let headers = parse_headers("X-A: 1 | X-B:two\nX-C: three: 3").unwrap();
        let names: Vec<_> = headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.to_str().unwrap()))
            .collect();
        assert_eq!(names, [("x-a", "1"), ("x-b", "two"), ("x-c", "three: 3")]);
        let error = parse_headers("no colon here").unwrap_err().to_string();
        assert!(error.contains("Name: value"), "{error}");
        let error = parse_headers("bad name: 1").unwrap_err().to_string();
        assert!(error.contains("not a valid header name"), "{error}");
    }

    #[test]
    fn auth_pairs_are_checked() {
        let config = parse(&[(BEARER_TOKEN, "s3cret")]).unwrap();
        assert_eq!(config.auth, Auth::Bearer(Secret::new("s3cret")));
        assert!(!format!("{config:?}").contains("s3cret"));
        let error = parse(&[(BASIC_USERNAME, "u")]).unwrap_err().to_string();
        assert!(error.contains(BASIC_PASSWORD), "{error}");
        let error = parse(&[
            (BEARER_TOKEN, "t"),
            (BASIC_USERNAME, "u"),
            (BASIC_PASSWORD, "p"),
        ])
        .unwrap_err()
        .to_string();
        assert!(
            error.contains("not both") && !error.contains("\"t\""),
            "{error}"
        );
    }

    #[test]
    fn secrets_are_declared_as_passwords() {
        let def = config_def();
        for key in [BEARER_TOKEN, BASIC_PASSWORD] {
            assert_eq!(
                def.key(key).unwrap().config_type,
                sluice_connect::config::def::ConfigType::Password
            );
        }
    }

    #[test]
    fn bad_values_name_the_key_and_the_fix() {
        let error = HttpSinkConfig::parse(&props(&[(URL, "ftp://x")]))
            .unwrap_err()
            .to_string();
        assert!(error.contains(URL) && error.contains("http://"), "{error}");
        let error = HttpSinkConfig::parse(&props(&[])).unwrap_err().to_string();
        assert!(error.contains(URL), "{error}");
        let error = parse(&[(BODY_FORMAT, "xml")]).unwrap_err().to_string();
        assert!(error.contains("json-array, ndjson, single"), "{error}");
        let error = parse(&[(CLOUDEVENTS, "on"), (BODY_FORMAT, "ndjson")])
            .unwrap_err()
            .to_string();
        assert!(error.contains("json-array"), "{error}");
        let error = parse(&[(RETRY_BACKOFF_MS, "500"), (RETRY_BACKOFF_MAX_MS, "100")])
            .unwrap_err()
            .to_string();
        assert!(error.contains("retry.backoff.ms"), "{error}");
        let error = parse(&[(MAX_IN_FLIGHT, "0")]).unwrap_err().to_string();
        assert!(error.contains(MAX_IN_FLIGHT), "{error}");
    }

    #[test]
    fn single_means_one_event_per_request() {
        let config = parse(&[(BODY_FORMAT, "single"), (RETRY_MAX_ATTEMPTS, "-1")]).unwrap();
        assert_eq!(config.batch.max_records, 1);
        assert_eq!(config.retry.max_attempts, None);
    }
}
