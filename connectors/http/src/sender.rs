//! The HTTP side: one `reqwest` client (rustls; system roots plus `http.ssl.ca.file`), the
//! headers every request carries (user headers, authorization, content type), and one
//! attempt to deliver one batch with its `Idempotency-Key`.

use std::time::SystemTime;

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use reqwest::{Certificate, Client, Method, Url};

use crate::batch::Batch;
use crate::body::EventStyle;
use crate::config::{Auth, CloudEvents, HttpSinkConfig};
use crate::error::{AttemptFailure, Error, Result};
use crate::retry::{Verdict, verdict_for, verdict_for_transport};

/// The header naming a batch, for receivers that de-duplicate.
pub const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
/// How much of a refusing receiver's body is kept as the reason.
const REASON_BYTES: usize = 512;

/// What one attempt came to.
#[derive(Debug)]
pub struct Attempt {
    pub verdict: Verdict,
    /// Why it did not succeed (absent when delivered).
    pub failure: Option<AttemptFailure>,
}

/// Sends batches to the configured endpoint.
#[derive(Debug, Clone)]
pub struct Sender {
    client: Client,
    method: Method,
    url: Url,
    headers: HeaderMap,
}

impl Sender {
    pub fn new(config: &HttpSinkConfig) -> Result<Self> {
        let mut builder = Client::builder()
            .timeout(config.timeout)
            .pool_max_idle_per_host(config.max_in_flight.max(1) * 2);
        if let Some(path) = &config.ca_file {
            let pem = std::fs::read(path).map_err(|source| Error::CaFile {
                path: path.clone(),
                source,
            })?;
            let certificates =
                Certificate::from_pem_bundle(&pem).map_err(|source| Error::Certificate {
                    path: path.clone(),
                    source,
                })?;
            if certificates.is_empty() {
                return Err(Error::CaFile {
                    path: path.clone(),
                    source: std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        "no BEGIN CERTIFICATE block found",
                    ),
                });
            }
            for certificate in certificates {
                builder = builder.add_root_certificate(certificate);
            }
        }
        let client = builder.build().map_err(|source| Error::Client { source })?;
        Ok(Self {
            client,
            method: config.method.as_reqwest(),
            url: config.url.clone(),
            headers: request_headers(config)?,
        })
    }

    /// One attempt to deliver `batch`.
    pub async fn send(&self, batch: &Batch) -> Attempt {
        let mut headers = self.headers.clone();
        if let Ok(key) = HeaderValue::from_str(&batch.idempotency_key()) {
            headers.insert(IDEMPOTENCY_KEY, key);
        }
        let request = self
            .client
            .request(self.method.clone(), self.url.clone())
            .headers(headers)
            .body(batch.body.clone());
        let response = match request.send().await {
            Ok(response) => response,
            Err(source) => {
                return Attempt {
                    verdict: verdict_for_transport(&source),
                    failure: Some(AttemptFailure::Transport { source }),
                };
            }
        };
        let status = response.status();
        let verdict = verdict_for(status, response.headers(), SystemTime::now());
        if verdict == Verdict::Delivered {
            // Read the body so the connection goes back to the pool.
            let _ = response.bytes().await;
            return Attempt {
                verdict,
                failure: None,
            };
        }
        let canonical = status.canonical_reason().unwrap_or("").to_string();
        let body = response.bytes().await.unwrap_or_default();
        let excerpt = String::from_utf8_lossy(&body[..body.len().min(REASON_BYTES)]);
        let reason = match excerpt.trim() {
            "" => canonical,
            text => format!("{canonical}: {text}"),
        };
        Attempt {
            verdict,
            failure: Some(AttemptFailure::Status {
                status: status.as_u16(),
                reason,
            }),
        }
    }
}

/// The headers every request carries.
fn request_headers(config: &HttpSinkConfig) -> Result<HeaderMap> {
    let mut headers = HeaderMap::new();
    let style = match config.cloudevents {
        CloudEvents::Off => EventStyle::Plain,
        CloudEvents::Structured { .. } => EventStyle::CloudEvents,
    };
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static(config.body.content_type(style)),
    );
    for (name, value) in &config.headers {
        headers.append(name.clone(), value.clone());
    }
    let authorization = match &config.auth {
        Auth::None => None,
        Auth::Bearer(token) => Some(format!("Bearer {}", token.expose())),
        Auth::Basic { username, password } => {
            use base64::Engine;
            let pair = format!("{username}:{}", password.expose());
            Some(format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(pair)
            ))
        }
    };
    if let Some(text) = authorization {
        let mut value = HeaderValue::from_str(&text).map_err(|_| Error::InvalidConfig {
            key: "http.auth".into(),
            value: "[hidden]".into(),
            reason: "the credentials hold a character HTTP headers cannot carry".into(),
        })?;
        // Kept out of reqwest's Debug output.
        value.set_sensitive(true);
        headers.insert(AUTHORIZATION, value);
    }
    Ok(headers)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_connect::config::Props;

    fn config(pairs: &[(&str, &str)]) -> HttpSinkConfig {
        let mut props: Props = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        props.insert("http.url".into(), "http://127.0.0.1:9/".into());
        HttpSinkConfig::parse(&props).unwrap()
    }

    #[test]
    fn basic_and_bearer_authorization() {
        let headers = request_headers(&config(&[
            ("http.auth.basic.username", "aladdin"),
            ("http.auth.basic.password", "opensesame"),
        ]))
        .unwrap();
        assert_eq!(
            headers[AUTHORIZATION].to_str().unwrap(),
            "Basic YWxhZGRpbjpvcGVuc2VzYW1l"
        );
        assert!(headers[AUTHORIZATION].is_sensitive());
        let headers = request_headers(&config(&[("http.auth.bearer.token", "abc")])).unwrap();
        assert_eq!(headers[AUTHORIZATION].to_str().unwrap(), "Bearer abc");
    }

    #[test]
    fn content_type_and_user_headers() {
        let headers = request_headers(&config(&[
            ("cloudevents", "on"),
            ("http.headers", "X-Team: cdc|X-Team: ops"),
        ]))
        .unwrap();
        assert_eq!(
            headers[CONTENT_TYPE].to_str().unwrap(),
            "application/cloudevents-batch+json"
        );
        assert_eq!(headers.get_all("x-team").iter().count(), 2);
    }

    #[test]
    fn unreadable_ca_file_is_named() {
        let error = Sender::new(&config(&[("http.ssl.ca.file", "/nonexistent/ca.pem")]))
            .unwrap_err()
            .to_string();
        assert!(error.contains("/nonexistent/ca.pem"), "{error}");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("empty.pem");
        std::fs::write(&path, "not a certificate").unwrap();
        let error = Sender::new(&config(&[("http.ssl.ca.file", path.to_str().unwrap())]))
            .unwrap_err()
            .to_string();
        assert!(error.contains("empty.pem"), "{error}");
    }
}
