//! The file sink connector (`io.sluice.connector.file.FileSinkConnector`, alias `file`):
//! declares and checks the configuration, and plans `tasks.max` identical tasks — the consumer
//! group spreads the topic partitions over them, and every file name carries its partition,
//! so tasks never write the same file.

use async_trait::async_trait;
use sluice_connect::api::{SinkConnector, SinkTask, TaskConfig};
use sluice_connect::config::def::ValidationReport;
use sluice_connect::config::{ConfigDef, Props};

use crate::config::{FileSinkConfig, config_def};
use crate::error::Error;
use crate::task::FileSinkTask;

pub const CLASS: &str = "io.sluice.connector.file.FileSinkConnector";

#[derive(Debug, Default)]
pub struct FileSinkConnector;

#[async_trait]
impl SinkConnector for FileSinkConnector {
    fn config_def(&self) -> ConfigDef {
        config_def()
    }

    /// The declared keys, then the checks across keys (compression per format, upsert
    /// without date partitions, time zone), reported on the key at fault.
    fn validate(&self, props: &Props) -> ValidationReport {
        let mut report = self.config_def().validate(props);
        if report.error_count() > 0 {
            return report;
        }
        if let Err(error @ Error::Config { key, .. }) = FileSinkConfig::parse(props)
            && let Some(entry) = report.keys.iter_mut().find(|entry| entry.name == key)
        {
            entry.errors.push(error.to_string());
        }
        report
    }

    async fn start(
        &mut self,
        props: &Props,
        max_tasks: usize,
    ) -> sluice_connect::Result<Vec<TaskConfig>> {
        FileSinkConfig::parse(props)?;
        Ok(vec![props.clone(); max_tasks.max(1)])
    }

    fn create_task(&self) -> Box<dyn SinkTask> {
        Box::new(FileSinkTask::default())
    }

    async fn stop(&mut self) -> sluice_connect::Result<()> {
        Ok(())
    }
}
