//! The HTTP sink connector: declares the configuration, checks it (including the rules
//! that span keys) before any task starts, and plans identical tasks.

use async_trait::async_trait;
use sluice_connect::api::{SinkConnector, SinkTask, TaskConfig};
use sluice_connect::config::{ConfigDef, Props};

use crate::config::{HttpSinkConfig, config_def};
use crate::task::HttpSinkTask;

/// `io.sluice.connector.http.HttpSinkConnector`, alias `http`.
#[derive(Debug, Default)]
pub struct HttpSinkConnector;

#[async_trait]
impl SinkConnector for HttpSinkConnector {
    fn config_def(&self) -> ConfigDef {
        config_def()
    }

    async fn start(
        &mut self,
        props: &Props,
        max_tasks: usize,
    ) -> sluice_connect::Result<Vec<TaskConfig>> {
        HttpSinkConfig::parse(props)?;
        Ok(vec![props.clone(); max_tasks.max(1)])
    }

    fn create_task(&self) -> Box<dyn SinkTask> {
        Box::new(HttpSinkTask::new())
    }

    async fn stop(&mut self) -> sluice_connect::Result<()> {
        Ok(())
    }
}
