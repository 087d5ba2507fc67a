//! TLS against a real PostgreSQL started with `ssl=on` and a certificate made by the test (a
//! CA and a server certificate for `localhost`, with the `openssl` command): `require`
//! encrypts both the query and the replication connection; `verify-full` with the right CA
//! works (and a connector streams through it end to end); a wrong CA, a host name the
//! certificate does not list and a server without TLS fail with errors naming the setting.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, ensure};
use sluice_connect::config::Props;
use sluice_postgres::config::PostgresConfig;
use sluice_postgres::{connection, slot};
use sluice_tests::os_user::RunAs;
use sluice_tests::scratch::ScratchDir;
use sluice_tests::{PostgresServer, SluiceProcess};

const WAIT: Duration = Duration::from_secs(60);

/// A CA, a server certificate it signed (for `localhost` only) and an unrelated CA.
struct Certificates {
    dir: ScratchDir,
}

impl Certificates {
    fn make() -> Result<Self> {
        let run_as = RunAs::for_service("postgres")?;
        let dir = ScratchDir::create("sluice-tls-", &run_as)?;
        let path = dir.path();
        std::fs::write(
            path.join("server.ext"),
            "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\n\
             keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
        )?;
        for ca in ["ca", "other-ca"] {
            openssl(
                path,
                &[
                    "req",
                    "-x509",
                    "-newkey",
                    "ec",
                    "-pkeyopt",
                    "ec_paramgen_curve:P-256",
                    "-nodes",
                    "-days",
                    "2",
                    "-subj",
                    &format!("/CN=Sluice test {ca}"),
                    "-addext",
                    "basicConstraints=critical,CA:TRUE",
                    "-addext",
                    "keyUsage=critical,keyCertSign,cRLSign",
                    "-keyout",
                    &format!("{ca}.key"),
                    "-out",
                    &format!("{ca}.crt"),
                ],
            )?;
        }
        openssl(
            path,
            &[
                "req",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-subj",
                "/CN=localhost",
                "-keyout",
                "server.key",
                "-out",
                "server.csr",
            ],
        )?;
        openssl(
            path,
            &[
                "x509",
                "-req",
                "-in",
                "server.csr",
                "-CA",
                "ca.crt",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-days",
                "2",
                "-extfile",
                "server.ext",
                "-out",
                "server.crt",
            ],
        )?;
        // The server reads its key only when the key is its own and private.
        for file in ["server.key", "server.crt"] {
            run_as.give(&path.join(file))?;
        }
        std::fs::set_permissions(
            path.join("server.key"),
            std::os::unix::fs::PermissionsExt::from_mode(0o600),
        )?;
        Ok(Self { dir })
    }

    fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn server_settings(&self) -> Vec<(String, String)> {
        vec![
            ("ssl".into(), "on".into()),
            (
                "ssl_cert_file".into(),
                self.file("server.crt").display().to_string(),
            ),
            (
                "ssl_key_file".into(),
                self.file("server.key").display().to_string(),
            ),
        ]
    }
}

fn openssl(dir: &Path, args: &[&str]) -> Result<()> {
    let output = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .context("run the openssl command (install the openssl package)")?;
    ensure!(
        output.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(())
}

async fn start_tls_server(certificates: &Certificates) -> Result<PostgresServer> {
    let settings = certificates.server_settings();
    let settings: Vec<(&str, &str)> = settings
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect();
    Ok(PostgresServer::start_with_settings(&settings).await?)
}

fn config(
    pg: &PostgresServer,
    host: &str,
    slot: &str,
    extra: &[(&str, &str)],
) -> Result<PostgresConfig> {
    let mut props = Props::new();
    let port = pg.port().to_string();
    for (key, value) in [
        ("database.hostname", host),
        ("database.port", port.as_str()),
        ("database.user", pg.user()),
        ("database.password", pg.password()),
        ("database.dbname", pg.dbname()),
        ("topic.prefix", "tls"),
        ("slot.name", slot),
    ]
    .iter()
    .chain(extra)
    {
        props.insert(key.to_string(), value.to_string());
    }
    Ok(PostgresConfig::from_props(&props)?)
}

/// Whether the server sees the query connection and the replication session of `config`
/// as encrypted.
async fn both_connections_encrypted(config: &PostgresConfig) -> Result<(bool, bool)> {
    let client = connection::connect(config, "sluice-tls-test").await?;
    let query: bool = client
        .query_one(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .await?
        .get(0);
    let created = slot::create_slot_with_snapshot(config).await?;
    let replication: bool = client
        .query_one(
            "SELECT bool_and(s.ssl) FROM pg_stat_ssl s
             JOIN pg_stat_activity a ON a.pid = s.pid
             WHERE a.backend_type = 'walsender' AND a.application_name = 'sluice-tls'",
            &[],
        )
        .await?
        .get::<_, Option<bool>>(0)
        .context("no walsender of the replication session")?;
    drop(created);
    slot::drop_slot(&client, config, WAIT).await?;
    Ok((query, replication))
}

#[tokio::test]
async fn sslmodes_encrypt_verify_and_explain_failures() -> Result<()> {
    let certificates = Certificates::make()?;
    let pg = start_tls_server(&certificates).await?;
    let ca = certificates.file("ca.crt").display().to_string();
    let other_ca = certificates.file("other-ca.crt").display().to_string();

    // require: encrypted, the certificate is not checked (it does not name 127.0.0.1).
    let require = config(
        &pg,
        "127.0.0.1",
        "tls_require",
        &[("database.sslmode", "require")],
    )?;
    assert_eq!(both_connections_encrypted(&require).await?, (true, true));

    // prefer on a TLS server encrypts too; disable does not.
    let prefer = config(&pg, "127.0.0.1", "tls_prefer", &[])?;
    assert_eq!(both_connections_encrypted(&prefer).await?, (true, true));
    let disable = config(
        &pg,
        "127.0.0.1",
        "tls_disable",
        &[("database.sslmode", "disable")],
    )?;
    assert_eq!(both_connections_encrypted(&disable).await?, (false, false));

    // verify-full with the CA that signed the certificate, by the name it lists.
    let full = [
        ("database.sslmode", "verify-full"),
        ("database.sslrootcert", ca.as_str()),
    ];
    let verified = config(&pg, "localhost", "tls_full", &full)?;
    assert_eq!(both_connections_encrypted(&verified).await?, (true, true));

    // verify-ca ignores the name; verify-full does not.
    let by_ip_ca = config(
        &pg,
        "127.0.0.1",
        "tls_ca",
        &[
            ("database.sslmode", "verify-ca"),
            ("database.sslrootcert", ca.as_str()),
        ],
    )?;
    assert_eq!(both_connections_encrypted(&by_ip_ca).await?, (true, true));
    let by_ip_full = config(&pg, "127.0.0.1", "tls_ip", &full)?;
    let error = connection::connect(&by_ip_full, "t")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("database.sslmode=verify-full") && error.contains("database.hostname"),
        "{error}"
    );
    let error = slot::create_slot_with_snapshot(&by_ip_full)
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("database.hostname"), "{error}");

    // A CA that did not sign the certificate.
    let wrong = config(
        &pg,
        "localhost",
        "tls_wrong",
        &[
            ("database.sslmode", "verify-full"),
            ("database.sslrootcert", other_ca.as_str()),
        ],
    )?;
    let error = connection::connect(&wrong, "t")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("database.sslrootcert") && error.contains("other-ca.crt"),
        "{error}"
    );
    let error = slot::create_slot_with_snapshot(&wrong)
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("database.sslrootcert"), "{error}");

    // A server without TLS and sslmode=require.
    let plain = PostgresServer::start().await?;
    let insisting = config(
        &plain,
        "127.0.0.1",
        "tls_plain",
        &[("database.sslmode", "require")],
    )?;
    let error = connection::connect(&insisting, "t")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("does not accept TLS") && error.contains("database.sslmode"),
        "{error}"
    );
    let error = slot::create_slot_with_snapshot(&insisting)
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("does not accept TLS"), "{error}");
    Ok(())
}

#[tokio::test]
async fn a_connector_streams_over_verified_tls() -> Result<()> {
    let certificates = Certificates::make()?;
    let pg = start_tls_server(&certificates).await?;
    let db = pg.client().await?;
    db.batch_execute("CREATE TABLE public.secure (id int PRIMARY KEY, v text)")
        .await?;
    let worker = SluiceProcess::start().await?;
    let ca = certificates.file("ca.crt").display().to_string();
    let mut body = common::connector(
        "tls",
        &pg,
        &[
            ("database.hostname", "localhost"),
            ("database.sslmode", "verify-full"),
            ("database.sslrootcert", ca.as_str()),
        ],
    );
    body["config"]["table.include.list"] = "public.secure".into();
    common::create(&worker, &body).await?;
    common::wait_task_state(&worker, "tls", "RUNNING", WAIT).await?;
    db.batch_execute("INSERT INTO public.secure VALUES (1, 'sealed')")
        .await?;
    let records = common::wait_records(&worker, "dbserver1.public.secure", 1, WAIT).await?;
    assert_eq!(common::row(&records[0])["v"], "sealed");
    let encrypted: i64 = db
        .query_one(
            "SELECT count(*) FROM pg_stat_ssl s JOIN pg_stat_activity a ON a.pid = s.pid
             WHERE a.backend_type = 'walsender' AND s.ssl",
            &[],
        )
        .await?
        .get(0);
    assert_eq!(
        encrypted, 1,
        "the connector's replication session is encrypted"
    );
    Ok(())
}
