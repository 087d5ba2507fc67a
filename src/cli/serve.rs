//! `sluice serve`: a worker process: the embedded broker in `data_dir` plus the REST API,
//! running the stored connectors until SIGTERM or Ctrl-C, then stopping gracefully (requests
//! finish, tasks stop and commit their offsets, the broker flushes) and exiting 0.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::{Args, ValueEnum};
use sluice_broker::Broker;
use sluice_connect::rest::{RestState, router};
use sluice_connect::stores::schemas::open_schema_registry;
use sluice_connect::worker::Worker;
use sluice_connect::worker_config::WorkerConfig;

use crate::{connectors, logging};

/// `sluice standalone`: a worker that also (re)applies connector configs from files at start,
/// like Kafka's `connect-standalone.sh worker.properties connector.properties…`.
#[derive(Debug, Args)]
pub struct StandaloneArgs {
    #[command(flatten)]
    serve: ServeArgs,
    /// Connector configurations (JSON `{"name": …, "config": {…}}`), created or updated.
    #[arg(value_name = "CONNECTOR.json", required = true)]
    connectors: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Worker configuration file (TOML); see configs/worker.toml for every key.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Directory for topics, offsets and connector state (overrides `data_dir`).
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Address of the REST API (overrides `rest.listen`; default 127.0.0.1:8083).
    #[arg(long, value_name = "ADDR")]
    rest_listen: Option<String>,
    /// Address for the Kafka wire protocol (overrides `kafka.listen`).
    #[arg(long, value_name = "ADDR")]
    kafka_listen: Option<String>,
    /// Log as human-readable text or JSON lines (overrides `log.format`).
    #[arg(long, value_enum)]
    log_format: Option<LogFormatArg>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum LogFormatArg {
    Human,
    Json,
}

pub fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    run_with(args, Vec::new())
}

pub fn run_standalone(args: StandaloneArgs) -> anyhow::Result<ExitCode> {
    // Read the files before starting anything, so a typo fails fast.
    let mut connectors = Vec::new();
    for path in &args.connectors {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let named = sluice_connect::config::parse_named(&bytes)
            .with_context(|| format!("invalid connector configuration in {}", path.display()))?;
        connectors.push(named);
    }
    run_with(args.serve, connectors)
}

fn run_with(
    args: ServeArgs,
    connectors: Vec<sluice_connect::config::NamedProps>,
) -> anyhow::Result<ExitCode> {
    let mut overrides: Vec<(&str, String)> = Vec::new();
    if let Some(dir) = &args.data_dir {
        overrides.push(("data_dir", dir.display().to_string()));
    }
    if let Some(listen) = &args.rest_listen {
        overrides.push(("rest.listen", listen.clone()));
    }
    if let Some(listen) = &args.kafka_listen {
        overrides.push(("kafka.listen", listen.clone()));
    }
    if let Some(format) = args.log_format {
        let name = match format {
            LogFormatArg::Human => "human",
            LogFormatArg::Json => "json",
        };
        overrides.push(("log.format", name.to_string()));
    }
    let config = WorkerConfig::load(args.config.as_deref(), &overrides)?;
    logging::init(config.log.format, &config.log.level);
    for key in config.unknown_keys() {
        tracing::warn!(
            key,
            "unknown worker configuration key ignored; see configs/worker.toml"
        );
    }
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("sluice-worker")
        .build()
        .context("cannot start the async runtime")?
        .block_on(serve(config, connectors))?;
    Ok(ExitCode::SUCCESS)
}

async fn serve(
    config: WorkerConfig,
    connectors: Vec<sluice_connect::config::NamedProps>,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(&config.data_dir).with_context(|| {
        format!(
            "cannot create the data directory {}",
            config.data_dir.display()
        )
    })?;
    let broker = Broker::open(&config.data_dir, config.broker_config())
        .await
        .with_context(|| format!("cannot open the broker in {}", config.data_dir.display()))?;
    if let Some(listen) = &config.kafka.listen {
        tracing::warn!(
            listen,
            "the Kafka wire-protocol listener is not available in this build yet; \
             clients can use the REST API meanwhile"
        );
    }
    let listener = tokio::net::TcpListener::bind(&config.rest.listen)
        .await
        .with_context(|| {
            format!(
                "cannot listen on {} for the REST API (in use by another worker?); \
                 choose another address with --rest-listen",
                config.rest.listen
            )
        })?;
    let address = listener.local_addr()?;
    let schema_registry = open_schema_registry(&broker)
        .await
        .context("cannot open the schema registry")?;
    let worker = Worker::open(
        broker.clone(),
        Arc::new(connectors::registry()?),
        address.to_string(),
        config.worker.clone(),
        schema_registry,
    )
    .await
    .context("cannot open the worker's internal topics")?;
    worker
        .start_stored()
        .await
        .context("cannot restart the stored connectors")?;
    for named in connectors {
        let (created, _) = worker
            .put_config(&named.name, named.props)
            .await
            .with_context(|| format!("cannot start connector {}", named.name))?;
        let verb = if created { "created" } else { "updated" };
        tracing::info!(connector = %named.name, "{verb} connector from its file");
    }
    let state = Arc::new(RestState {
        broker: broker.clone(),
        worker: worker.clone(),
        worker_id: address.to_string(),
    });
    tracing::info!(
        rest = %format!("http://{address}"),
        data_dir = %config.data_dir.display(),
        "sluice worker started"
    );
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("the REST server failed")?;
    worker.shutdown().await;
    broker
        .flush()
        .await
        .context("cannot flush the broker while stopping")?;
    tracing::info!("sluice worker stopped");
    Ok(())
}

/// Resolves on SIGTERM or SIGINT (Ctrl-C).
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate = match tokio::signal::unix::signal(
            tokio::signal::unix::SignalKind::terminate(),
        ) {
            Ok(signal) => signal,
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM; only Ctrl-C stops the worker");
                let _ = interrupt.await;
                return;
            }
        };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
    tracing::info!("stopping: signal received");
}
