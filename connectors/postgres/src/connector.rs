//! The PostgreSQL source connector: its configuration keys and cross-key checks, and one task
//! (a replication slot is read by one session).

use async_trait::async_trait;
use sluice_connect::api::{SourceConnector, SourceTask, TaskConfig};
use sluice_connect::config::def::ValidationReport;
use sluice_connect::config::{ConfigDef, Props};

use crate::config::{PostgresConfig, config_def};
use crate::task::PostgresTask;

/// Debezium's class name, accepted as `connector.class`.
pub const CLASS: &str = "io.debezium.connector.postgresql.PostgresConnector";
/// Short names accepted as `connector.class`.
pub const ALIASES: &[&str] = &["postgres", "postgresql", "PostgresConnector"];

/// The connector.
#[derive(Debug, Default)]
pub struct PostgresConnector;

#[async_trait]
impl SourceConnector for PostgresConnector {
    fn config_def(&self) -> ConfigDef {
        config_def()
    }

    fn validate(&self, props: &Props) -> ValidationReport {
        let mut report = config_def().validate(props);
        if report.error_count() == 0
            && let Err(error) = PostgresConfig::from_props(props)
            && let Some(entry) = report
                .keys
                .iter_mut()
                .find(|k| error.to_string().contains(&k.name))
        {
            entry.errors.push(error.to_string());
        }
        report
    }

    async fn start(
        &mut self,
        props: &Props,
        _max_tasks: usize,
    ) -> sluice_connect::Result<Vec<TaskConfig>> {
        PostgresConfig::from_props(props)?;
        Ok(vec![props.clone()])
    }

    fn create_task(&self) -> Box<dyn SourceTask> {
        Box::new(PostgresTask::default())
    }

    async fn stop(&mut self) -> sluice_connect::Result<()> {
        Ok(())
    }
}
