//! TLS for both connections to the server, as `database.sslmode` and
//! `database.sslrootcert` ask (libpq's meanings): `disable` never encrypts; `prefer` encrypts
//! when the server offers it and checks nothing; `require` insists on encryption without
//! checking the certificate; `verify-ca` also checks the certificate chain against the CA
//! file; `verify-full` checks the chain and that the certificate names the host.
//!
//! The query connection (tokio-postgres) gets a rustls connector from this module
//! ([`RustlsConnector`]); the replication connection gets the equivalent
//! `pgwire_replication` settings ([`replication_tls`]). Failures become
//! [`Error::Tls`](crate::Error::Tls), whose fix names the setting to change.
//!
//! # Layout
//!
//! - this module: [`SslMode`], [`TlsSettings`], the rustls client configuration and the
//!   fixes named in TLS errors.
//! - `verify`: the certificate verifiers of `prefer`/`require` and `verify-ca`.
//! - `query`: [`RustlsConnector`], tokio-postgres's TLS hook over rustls.
//! - `replication`: [`replication_tls`], the replication client's TLS settings.

mod query;
mod replication;
mod verify;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::ServerCertVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use rustls::{ClientConfig, RootCertStore};

pub use query::{RustlsConnect, RustlsConnector, RustlsStream};
pub use replication::replication_tls;
use verify::{ChainOnly, EncryptOnly};

use crate::error::{Error, Result};

/// `database.sslmode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    /// Every value the setting accepts, as written in the configuration.
    pub const NAMES: [&'static str; 5] =
        ["disable", "prefer", "require", "verify-ca", "verify-full"];

    /// The mode named `text` (case-insensitive).
    pub fn parse(text: &str) -> Option<Self> {
        match text.to_ascii_lowercase().as_str() {
            "disable" => Some(Self::Disable),
            "prefer" => Some(Self::Prefer),
            "require" => Some(Self::Require),
            "verify-ca" => Some(Self::VerifyCa),
            "verify-full" => Some(Self::VerifyFull),
            _ => None,
        }
    }

    /// The setting's value for this mode.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Disable => "disable",
            Self::Prefer => "prefer",
            Self::Require => "require",
            Self::VerifyCa => "verify-ca",
            Self::VerifyFull => "verify-full",
        }
    }

    /// Whether the certificate chain is checked against `database.sslrootcert`.
    pub fn verifies_chain(self) -> bool {
        matches!(self, Self::VerifyCa | Self::VerifyFull)
    }
}

impl std::fmt::Display for SslMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The TLS part of the connector configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsSettings {
    pub mode: SslMode,
    /// `database.sslrootcert`: PEM file of the CA(s) the server certificate must chain to.
    pub root_cert: Option<PathBuf>,
}

/// The tokio-postgres SSL mode: verification is the connector's job, so the verifying modes
/// are `Require` there.
pub fn query_ssl_mode(mode: SslMode) -> tokio_postgres::config::SslMode {
    use tokio_postgres::config::SslMode as Pg;
    match mode {
        SslMode::Disable => Pg::Disable,
        SslMode::Prefer => Pg::Prefer,
        SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => Pg::Require,
    }
}

/// The process's crypto provider (the binary installs one), else aws-lc-rs.
pub(crate) fn provider() -> Arc<CryptoProvider> {
    CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
}

/// Reads the CA certificates of `database.sslrootcert`.
pub fn load_root_store(path: &Path) -> Result<RootCertStore> {
    let unusable =
        |problem: &str, source: Option<rustls::pki_types::pem::Error>| Error::TlsRootCert {
            path: path.to_path_buf(),
            problem: problem.to_string(),
            source,
        };
    let certificates = CertificateDer::pem_file_iter(path)
        .map_err(|e| unusable("cannot open it", Some(e)))?
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| unusable("it is not a PEM file of certificates", Some(e)))?;
    let mut roots = RootCertStore::empty();
    let (added, _) = roots.add_parsable_certificates(certificates);
    if added == 0 {
        return Err(unusable(
            "it holds no usable CA certificate (expected PEM `BEGIN CERTIFICATE` blocks)",
            None,
        ));
    }
    Ok(roots)
}

/// The rustls client configuration for `settings`.
pub fn client_config(settings: &TlsSettings) -> Result<ClientConfig> {
    let provider = provider();
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|source| Error::TlsSetup {
            problem: "the crypto provider offers no usable TLS version".into(),
            source,
        })?;
    let verifier: Arc<dyn ServerCertVerifier> = if settings.mode.verifies_chain() {
        let path = settings.root_cert.as_deref().ok_or_else(|| Error::TlsRootCert {
            path: PathBuf::new(),
            problem: format!(
                "database.sslmode={} checks the server certificate, so database.sslrootcert must \
                 name the CA file",
                settings.mode
            ),
            source: None,
        })?;
        let roots = Arc::new(load_root_store(path)?);
        let webpki = WebPkiServerVerifier::builder_with_provider(roots, provider)
            .build()
            .map_err(|source| Error::TlsSetup {
                problem: format!("cannot check certificates against {}", path.display()),
                source: rustls::Error::General(source.to_string()),
            })?;
        if settings.mode == SslMode::VerifyFull {
            webpki
        } else {
            Arc::new(ChainOnly {
                inner: webpki,
                presented: None,
            })
        }
    } else {
        Arc::new(EncryptOnly { provider })
    };
    Ok(builder
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth())
}

/// What to change when a TLS connection failed, judged from the failure's text (rustls's
/// certificate errors and the "server does not support TLS" answers of both clients).
pub fn fix_for(settings: &TlsSettings, host: &str, failure: &str) -> String {
    let ca = settings
        .root_cert
        .as_deref()
        .map_or_else(|| "(not set)".to_string(), |p| p.display().to_string());
    if failure.contains("does not support TLS") || failure.contains("SSLRequest rejected") {
        format!(
            "the server does not accept TLS connections: turn TLS on in the server's \
             postgresql.conf (ssl = on, with ssl_cert_file and ssl_key_file), or set \
             database.sslmode=prefer or disable (currently {})",
            settings.mode
        )
    } else if failure.contains("NotValidForName") || failure.contains("not valid for name") {
        format!(
            "the server certificate does not name host {host:?}: set database.hostname to a \
             name the certificate lists, or use database.sslmode=verify-ca to check only the \
             CA"
        )
    } else if failure.contains("certificate") || failure.contains("UnknownIssuer") {
        format!(
            "the server certificate is not signed by a CA in database.sslrootcert ({ca}): point \
             database.sslrootcert at the CA that issued the server's certificate, or use \
             database.sslmode=require to encrypt without checking the certificate"
        )
    } else {
        format!(
            "check the server's TLS setup against database.sslmode={} and \
             database.sslrootcert ({ca})",
            settings.mode
        )
    }
}

/// Whether a tokio-postgres error is a failed TLS negotiation (its kind is private; the
/// message is fixed).
pub fn is_tls_failure(error: &tokio_postgres::Error) -> bool {
    error
        .to_string()
        .starts_with("error performing TLS handshake")
}

/// The text of an error and all its causes, for [`fix_for`] and messages.
pub fn chain_text(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        cause = inner.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_parse_and_print_as_debezium_spells_them() {
        for name in SslMode::NAMES {
            assert_eq!(SslMode::parse(name).unwrap().as_str(), name);
        }
        assert_eq!(SslMode::parse("VERIFY-FULL"), Some(SslMode::VerifyFull));
        assert_eq!(SslMode::parse("allow"), None);
    }

    #[test]
    fn verifying_modes_need_a_readable_ca_file() {
        let settings = TlsSettings {
            mode: SslMode::VerifyFull,
            root_cert: None,
        };
        let error = client_config(&settings).unwrap_err().to_string();
        assert!(error.contains("database.sslrootcert"), "{error}");
        let settings = TlsSettings {
            mode: SslMode::VerifyCa,
            root_cert: Some("/nonexistent/ca.pem".into()),
        };
        let error = client_config(&settings).unwrap_err().to_string();
        assert!(
            error.contains("database.sslrootcert") && error.contains("/nonexistent/ca.pem"),
            "{error}"
        );
        let empty = tempfile::NamedTempFile::new().unwrap();
        let settings = TlsSettings {
            mode: SslMode::VerifyCa,
            root_cert: Some(empty.path().into()),
        };
        let error = client_config(&settings).unwrap_err().to_string();
        assert!(error.contains("no usable CA certificate"), "{error}");
    }

    #[test]
    fn encrypting_modes_build_without_a_ca_file() {
        for mode in [SslMode::Prefer, SslMode::Require] {
            let settings = TlsSettings {
                mode,
                root_cert: None,
            };
            client_config(&settings).unwrap();
        }
    }

    #[test]
    fn fixes_name_the_setting_to_change() {
        let settings = TlsSettings {
            mode: SslMode::VerifyFull,
            root_cert: Some("/ca.pem".into()),
        };
        let fix = fix_for(&settings, "db", "invalid peer certificate: UnknownIssuer");
        assert!(fix.contains("database.sslrootcert (/ca.pem)"), "{fix}");
        let fix = fix_for(&settings, "db", "server does not support TLS");
        assert!(fix.contains("ssl = on"), "{fix}");
        let fix = fix_for(&settings, "db", "invalid peer certificate: NotValidForName");
        assert!(fix.contains("verify-ca"), "{fix}");
    }
}
