//! Secrets in connector configurations: `${env:NAME}` and `${file:/path:key}` references
//! (Kafka's EnvVarConfigProvider and FileConfigProvider syntax), and masking of secret
//! values in REST responses and logs.
//!
//! Configurations are stored with their references unresolved; values are resolved only
//! when a task starts, so a rotated secret is picked up on restart and never persisted.

use std::fmt;

use super::props::Props;
use crate::error::{Error, Result};

/// What REST responses and logs show instead of a secret value (Kafka's `Password` text).
pub const MASK: &str = "[hidden]";

/// A secret value: usable by code, printed as [`MASK`].
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for the one place that needs it (a login, a header).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MASK)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MASK)
    }
}

/// Whether a configuration key holds a secret: any key naming a password, secret or token,
/// and JAAS configs, which embed passwords.
pub fn is_secret_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    [
        "password",
        "secret",
        "token",
        "sasl.jaas.config",
        "credentials",
    ]
    .iter()
    .any(|marker| key.contains(marker))
}

fn is_reference(value: &str) -> bool {
    value.starts_with("${") && value.ends_with('}')
}

/// A copy of `props` fit to show: literal secret values replaced by [`MASK`]. References
/// such as `${env:PG_PASSWORD}` are shown as they are: they name, not hold, the secret.
pub fn masked(props: &Props) -> Props {
    props
        .iter()
        .map(|(key, value)| {
            let shown = if is_secret_key(key) && !is_reference(value) && !value.is_empty() {
                MASK.to_string()
            } else {
                value.clone()
            };
            (key.clone(), shown)
        })
        .collect()
}

/// For an update that echoes [`MASK`] back for a secret key (a GET-edit-PUT round trip),
/// keeps the stored value instead of storing the mask.
pub fn keep_masked_secrets(mut update: Props, stored: Option<&Props>) -> Props {
    if let Some(stored) = stored {
        for (key, value) in update.iter_mut() {
            if value == MASK
                && is_secret_key(key)
                && let Some(previous) = stored.get(key)
            {
                value.clone_from(previous);
            }
        }
    }
    update
}

/// Resolves every `${env:NAME}` and `${file:/path:key}` reference inside the values.
pub fn resolve_references(props: &Props) -> Result<Props> {
    props
        .iter()
        .map(|(key, value)| Ok((key.clone(), resolve_value(key, value)?)))
        .collect()
}

/// Resolves what can be resolved for validation: values whose references fail keep their typed
/// text, and each failure is returned with its key.
pub fn resolve_for_validation(props: &Props) -> (Props, Vec<(String, Error)>) {
    let mut failures = Vec::new();
    let resolved = props
        .iter()
        .map(|(key, value)| {
            let value = resolve_value(key, value).unwrap_or_else(|error| {
                failures.push((key.clone(), error));
                value.clone()
            });
            (key.clone(), value)
        })
        .collect();
    (resolved, failures)
}

fn resolve_value(key: &str, value: &str) -> Result<String> {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(start) = rest.find("${") {
        let Some(len) = rest[start..].find('}') else {
            break;
        };
        let reference = &rest[start..start + len + 1];
        out.push_str(&rest[..start]);
        match resolve_reference(key, reference)? {
            Some(resolved) => out.push_str(&resolved),
            None => out.push_str(reference),
        }
        rest = &rest[start + len + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Returns `None` for `${…}` text that is not a provider reference, leaving it as typed.
fn resolve_reference(key: &str, reference: &str) -> Result<Option<String>> {
    let body = &reference[2..reference.len() - 1];
    let unresolved = |reason: String, source: Option<std::io::Error>| Error::UnresolvedReference {
        key: key.into(),
        reference: reference.into(),
        reason,
        source,
    };
    if let Some(name) = body.strip_prefix("env:") {
        return std::env::var(name).map(Some).map_err(|_| {
            unresolved(
                format!("environment variable {name} is not set in the worker's environment"),
                None,
            )
        });
    }
    if let Some(path_and_key) = body.strip_prefix("file:") {
        let Some((path, wanted)) = path_and_key.rsplit_once(':') else {
            return Err(unresolved(
                "expected ${file:/path/to/file.properties:key}".into(),
                None,
            ));
        };
        let text = std::fs::read_to_string(path)
            .map_err(|source| unresolved(format!("cannot read {path}"), Some(source)))?;
        return properties_value(&text, wanted)
            .map(Some)
            .ok_or_else(|| unresolved(format!("{path} has no key {wanted:?}"), None));
    }
    Ok(None)
}

/// Looks a key up in Java-properties text (`key=value` or `key: value`, `#`/`!` comments).
fn properties_value(text: &str, wanted: &str) -> Option<String> {
    text.lines()
        .map(str::trim_start)
        .filter(|line| !line.is_empty() && !line.starts_with('#') && !line.starts_with('!'))
        .find_map(|line| {
            let split = line.find(['=', ':'])?;
            let (key, value) = (line[..split].trim_end(), line[split + 1..].trim());
            (key == wanted).then(|| value.to_string())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::config::props::props_of as props;

    #[test]
    fn secret_keys_are_recognised() {
        assert!(is_secret_key("database.password"));
        assert!(is_secret_key("http.auth.bearer.token"));
        assert!(is_secret_key("ssl.key.password"));
        assert!(is_secret_key("aws.Secret.Key"));
        assert!(!is_secret_key("database.user"));
    }

    #[test]
    fn masking_hides_literals_and_keeps_references() {
        let shown = masked(&props(&[
            ("database.password", "hunter2"),
            ("http.auth.bearer.token", "${env:TOKEN}"),
            ("database.user", "app"),
        ]));
        assert_eq!(shown["database.password"], MASK);
        assert_eq!(shown["http.auth.bearer.token"], "${env:TOKEN}");
        assert_eq!(shown["database.user"], "app");
        assert_eq!(format!("{:?}", Secret::new("hunter2")), MASK);
    }

    #[test]
    fn echoed_mask_keeps_the_stored_secret() {
        let stored = props(&[("database.password", "hunter2")]);
        let update = props(&[("database.password", MASK), ("database.user", "x")]);
        let merged = keep_masked_secrets(update, Some(&stored));
        assert_eq!(merged["database.password"], "hunter2");
    }

    #[test]
    fn env_and_file_references_resolve() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.properties");
        std::fs::write(&path, "# creds\nuser = app\npassword=s3cr=t\n").unwrap();
        // PATH is set in every test environment; no need to mutate the environment.
        let path_var = std::env::var("PATH").unwrap();
        let resolved = resolve_references(&props(&[
            (
                "database.password",
                &format!("${{file:{}:password}}", path.display()),
            ),
            ("a", "prefix-${env:PATH}-suffix"),
            ("b", "${not-a-provider}"),
        ]))
        .unwrap();
        assert_eq!(resolved["database.password"], "s3cr=t");
        assert_eq!(resolved["a"], format!("prefix-{path_var}-suffix"));
        assert_eq!(resolved["b"], "${not-a-provider}");
    }

    #[test]
    fn unresolvable_references_name_key_and_reference() {
        let err = resolve_references(&props(&[(
            "database.password",
            "${env:SLUICE_TEST_SURELY_UNSET_VARIABLE}",
        )]))
        .unwrap_err()
        .to_string();
        assert!(err.contains("database.password") && err.contains("SLUICE_TEST_SURELY_UNSET"));
        let err = resolve_references(&props(&[("k", "${file:/nonexistent/x.properties:k}")]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("cannot read /nonexistent/x.properties"),
            "{err}"
        );
    }
}
