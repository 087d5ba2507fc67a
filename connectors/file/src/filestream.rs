//! Kafka's demo `org.apache.kafka.connect.file.FileStreamSinkConnector`, for configs written
//! for Kafka: each record's value on its own line appended to `file` (standard output when
//! `file` is absent). Strings are written as they are, other values as JSON, a null value as
//! `null` (Java's `println(null)`). At least once: `flush` writes and fsyncs the file, then
//! commits what was consumed.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use sluice_connect::api::{
    PartitionOffsets, SinkConnector, SinkRecord, SinkTask, SinkTaskContext, TaskConfig,
};
use sluice_connect::config::{ConfigDef, ConfigKey, Props};
use sluice_schemas::Value;

use crate::error::Error;
use crate::json::write_value;

pub use sluice_connect::registry::classes::FILE_SINK as CLASS;

pub const FILE: &str = "file";

fn config_def() -> ConfigDef {
    ConfigDef::new()
        .define(ConfigKey::string(FILE).doc("Destination file; standard output when absent."))
}

#[derive(Debug, Default)]
pub struct FileStreamSinkConnector;

#[async_trait]
impl SinkConnector for FileStreamSinkConnector {
    fn config_def(&self) -> ConfigDef {
        config_def()
    }

    async fn start(
        &mut self,
        props: &Props,
        _max_tasks: usize,
    ) -> sluice_connect::Result<Vec<TaskConfig>> {
        config_def().parse(props)?;
        // One writer per file: appending from several tasks would interleave partial lines.
        Ok(vec![props.clone()])
    }

    fn create_task(&self) -> Box<dyn SinkTask> {
        Box::new(FileStreamSinkTask::default())
    }

    async fn stop(&mut self) -> sluice_connect::Result<()> {
        Ok(())
    }
}

#[derive(Debug)]
enum Output {
    File { path: PathBuf, out: BufWriter<File> },
    Stdout,
}

#[derive(Debug, Default)]
pub struct FileStreamSinkTask {
    output: Option<Output>,
    line: Vec<u8>,
}

impl FileStreamSinkTask {
    fn write_all(&mut self) -> Result<(), Error> {
        match &mut self.output {
            Some(Output::File { path, out }) => out
                .write_all(&self.line)
                .map_err(|e| Error::io(format!("cannot write {}", path.display()), e)),
            Some(Output::Stdout) | None => std::io::stdout()
                .lock()
                .write_all(&self.line)
                .map_err(|e| Error::io("cannot write to standard output", e)),
        }
    }
}

#[async_trait]
impl SinkTask for FileStreamSinkTask {
    async fn start(
        &mut self,
        _context: Arc<dyn SinkTaskContext>,
        config: &TaskConfig,
    ) -> sluice_connect::Result<()> {
        let parsed = config_def().parse(config)?;
        self.output = Some(match parsed.string(FILE).filter(|f| !f.is_empty()) {
            Some(file) => {
                let path = PathBuf::from(file);
                let handle = OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&path)
                    .map_err(|e| Error::io(format!("cannot open {}", path.display()), e))?;
                Output::File {
                    path,
                    out: BufWriter::new(handle),
                }
            }
            None => Output::Stdout,
        });
        Ok(())
    }

    async fn put(&mut self, records: Vec<SinkRecord>) -> sluice_connect::Result<()> {
        self.line.clear();
        for record in &records {
            match &record.value.value {
                Value::String(text) => self.line.extend_from_slice(text.as_bytes()),
                value => write_value(&mut self.line, record.value.schema.as_deref(), value),
            }
            self.line.push(b'\n');
        }
        Ok(self.write_all()?)
    }

    async fn flush(
        &mut self,
        consumed: &PartitionOffsets,
    ) -> sluice_connect::Result<PartitionOffsets> {
        if let Some(Output::File { path, out }) = &mut self.output {
            out.flush()
                .and_then(|()| out.get_ref().sync_data())
                .map_err(|e| Error::io(format!("cannot flush {}", path.display()), e))?;
        }
        Ok(consumed.clone())
    }

    async fn stop(&mut self) -> sluice_connect::Result<()> {
        if let Some(Output::File { path, out }) = &mut self.output {
            out.flush()
                .map_err(|e| Error::io(format!("cannot flush {}", path.display()), e))?;
        }
        Ok(())
    }
}
