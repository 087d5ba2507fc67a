//! The replication client's TLS settings (pgwire-replication's own rustls handshake).

use std::sync::{Arc, Mutex};

use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::ServerName;

use super::verify::ChainOnly;
use super::{SslMode, TlsSettings, client_config, load_root_store, provider};

/// The replication connection's TLS settings. An IP address as host is also the name
/// checked under `verify-full` (as libpq does, against the certificate's IP entries).
///
/// `verify-ca` is given to the replication client as `verify-full` with a name the server's
/// certificate lists, learned by a handshake of our own that checks the chain: that client's
/// own `verify-ca` also rejects a host name the certificate does not list (it does not know
/// the name-mismatch error newer rustls reports), which would make it `verify-full`.
pub async fn replication_tls(
    settings: &TlsSettings,
    host: &str,
    port: u16,
) -> pgwire_replication::TlsConfig {
    use pgwire_replication::TlsConfig;
    let root = settings.root_cert.clone();
    let is_ip = host.parse::<std::net::IpAddr>().is_ok();
    match settings.mode {
        SslMode::Disable => TlsConfig::disabled(),
        SslMode::Prefer => TlsConfig {
            mode: pgwire_replication::SslMode::Prefer,
            ..TlsConfig::disabled()
        },
        SslMode::Require => TlsConfig::require(),
        SslMode::VerifyCa => match certificate_name(settings, host, port).await {
            Some(name) => TlsConfig::verify_full(root).with_sni_hostname(name),
            None if is_ip => TlsConfig::verify_full(root).with_sni_hostname(host),
            // The probe failed: let the client fail the same way and report it.
            None => TlsConfig::verify_full(root),
        },
        SslMode::VerifyFull if is_ip => TlsConfig::verify_full(root).with_sni_hostname(host),
        SslMode::VerifyFull => TlsConfig::verify_full(root),
    }
}

/// A name the server's certificate lists when it does not list `host` (`None` when it lists
/// `host`, or when the handshake failed: the real connection then reports why).
async fn certificate_name(settings: &TlsSettings, host: &str, port: u16) -> Option<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let presented = Arc::new(Mutex::new(Vec::new()));
    let mut config = client_config(settings).ok()?;
    let path = settings.root_cert.as_deref()?;
    let roots = Arc::new(load_root_store(path).ok()?);
    let inner = WebPkiServerVerifier::builder_with_provider(roots, provider())
        .build()
        .ok()?;
    config
        .dangerous()
        .set_certificate_verifier(Arc::new(ChainOnly {
            inner,
            presented: Some(presented.clone()),
        }));
    let probe = async {
        let mut tcp = tokio::net::TcpStream::connect((host, port)).await.ok()?;
        // SSLRequest: length 8, request code 80877103.
        tcp.write_all(&[0, 0, 0, 8, 4, 210, 22, 47]).await.ok()?;
        let mut answer = [0u8; 1];
        tcp.read_exact(&mut answer).await.ok()?;
        if answer[0] != b'S' {
            return None;
        }
        let name = ServerName::try_from(host.to_string()).ok()?;
        let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
        let mut tls = connector.connect(name, tcp).await.ok()?;
        let _ = tls.shutdown().await;
        Some(())
    };
    tokio::time::timeout(std::time::Duration::from_secs(10), probe)
        .await
        .ok()??;
    let names = presented
        .lock()
        .map(|names| names.clone())
        .unwrap_or_default();
    names.iter().find_map(|name| checkable_name(name))
}

/// A name webpki presented (`DnsName("db.example")`, `IpAddress(10.0.0.1)`) as one a client
/// can ask for: a wildcard's `*` becomes a label it matches.
fn checkable_name(presented: &str) -> Option<String> {
    if let Some(dns) = presented
        .strip_prefix("DnsName(\"")
        .and_then(|rest| rest.strip_suffix("\")"))
    {
        let name = match dns.strip_prefix("*.") {
            Some(domain) => format!("wildcard.{domain}"),
            None => dns.to_string(),
        };
        return ServerName::try_from(name.clone()).is_ok().then_some(name);
    }
    let ip = presented
        .strip_prefix("IpAddress(")?
        .strip_suffix(')')?
        .parse::<std::net::IpAddr>()
        .ok()?;
    Some(ip.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presented_names_become_names_to_ask_for() {
        assert_eq!(
            checkable_name("DnsName(\"db.example\")").as_deref(),
            Some("db.example")
        );
        assert_eq!(
            checkable_name("DnsName(\"*.example\")").as_deref(),
            Some("wildcard.example")
        );
        assert_eq!(
            checkable_name("IpAddress(10.0.0.1)").as_deref(),
            Some("10.0.0.1")
        );
        assert_eq!(checkable_name("DirectoryName"), None);
    }
}
