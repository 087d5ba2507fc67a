//! Configurations that cannot work give a clear error and a FAILED task whose trace says
//! what is wrong and how to fix it: a wrong password, an unknown database, a server without
//! logical WAL, a table that does not exist; and a malformed value is refused at creation
//! with the key named.

mod common;

use std::time::Duration;

use common::{connector, create, wait_task_state};
use sluice_tests::{PostgresServer, SluiceProcess};

const WAIT: Duration = Duration::from_secs(60);

async fn failed_trace(worker: &SluiceProcess, name: &str) -> anyhow::Result<String> {
    let status = wait_task_state(worker, name, "FAILED", WAIT).await?;
    Ok(status["tasks"][0]["trace"]
        .as_str()
        .unwrap_or_default()
        .to_string())
}

#[tokio::test]
async fn bad_configurations_fail_with_the_reason() -> anyhow::Result<()> {
    let pg = PostgresServer::start().await?;
    pg.client()
        .await?
        .batch_execute("CREATE TABLE public.present (id int PRIMARY KEY)")
        .await?;
    let replica = PostgresServer::start_with_settings(&[("wal_level", "replica")]).await?;
    let worker = SluiceProcess::start().await?;

    create(
        &worker,
        &connector("password", &pg, &[("database.password", "wrong")]),
    )
    .await?;
    create(
        &worker,
        &connector("nodb", &pg, &[("database.dbname", "no_such_db")]),
    )
    .await?;
    create(&worker, &connector("walreplica", &replica, &[])).await?;
    create(
        &worker,
        &connector(
            "missing",
            &pg,
            &[("table.include.list", "public.present,public.absent")],
        ),
    )
    .await?;

    let trace = failed_trace(&worker, "password").await?;
    assert!(trace.contains("password authentication failed"), "{trace}");
    let trace = failed_trace(&worker, "nodb").await?;
    assert!(
        trace.contains("no_such_db") && trace.contains("does not exist"),
        "{trace}"
    );
    let trace = failed_trace(&worker, "walreplica").await?;
    assert!(
        trace.contains("wal_level=replica") && trace.contains("wal_level = logical"),
        "{trace}"
    );
    let trace = failed_trace(&worker, "missing").await?;
    assert!(
        trace.contains("public.absent") && trace.contains("To fix"),
        "{trace}"
    );

    // A value the key cannot take is refused when the connector is created.
    let (status, body) = worker
        .post(
            "/connectors",
            &connector("badmode", &pg, &[("snapshot.mode", "sometimes")]),
        )
        .await?;
    assert!(status >= 400, "{status} {body}");
    assert!(body.to_string().contains("snapshot.mode"), "{body}");
    Ok(())
}
