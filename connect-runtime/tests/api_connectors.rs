//! The connector API exercised through trait objects: a tiny counting source connector and an
//! in-memory sink, driven the way the worker drives them, and the connector registry.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use serde_json::json;
use sluice_broker::{Offset, PartitionId};
use sluice_connect::api::{
    CommittedOffset, ConnectorKind, ConnectorTaskId, OffsetMap, PartitionOffsets, SchemaAndValue,
    SinkConnector, SinkRecord, SinkTask, SinkTaskContext, SnapshotPhase, SnapshotProgress,
    SourceConnector, SourcePosition, SourceRecord, SourceTask, SourceTaskContext, TaskConfig,
    TopicPartition, TopicRecord,
};
use sluice_connect::config::{ConfigDef, ConfigKey, Props};
use sluice_connect::registry::{ConnectorInstance, ConnectorRegistry, classes};
use sluice_connect::{Error, Result};
use sluice_schemas::Value;
use sluice_schemas::schema::{INT64_SCHEMA, STRING_SCHEMA};

fn props(pairs: &[(&str, &str)]) -> Props {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn object(value: serde_json::Value) -> OffsetMap {
    value.as_object().cloned().expect("a JSON object")
}

/// Emits `count` numbered records per task, `batch` per poll, resuming after the stored offset.
#[derive(Debug, Default)]
struct CountingSource {
    props: Props,
}

#[async_trait]
impl SourceConnector for CountingSource {
    fn config_def(&self) -> ConfigDef {
        ConfigDef::new()
            .define(
                ConfigKey::string("topic")
                    .required()
                    .doc("Where the numbers go."),
            )
            .define(ConfigKey::long("count").default("10").at_least(0))
    }

    async fn start(&mut self, props: &Props, max_tasks: usize) -> Result<Vec<TaskConfig>> {
        self.config_def().parse(props)?;
        self.props = props.clone();
        Ok((0..max_tasks.max(1))
            .map(|task| {
                let mut config = props.clone();
                config.insert("stream".into(), format!("s{task}"));
                config
            })
            .collect())
    }

    fn create_task(&self) -> Box<dyn SourceTask> {
        Box::new(CountingTask::default())
    }

    async fn stop(&mut self) -> Result<()> {
        Ok(())
    }
}

#[derive(Debug, Default)]
struct CountingTask {
    topic: String,
    stream: String,
    next: u64,
    end: u64,
    committed: Vec<u64>,
    context: Option<Arc<dyn SourceTaskContext>>,
}

impl CountingTask {
    fn partition(&self) -> OffsetMap {
        object(json!({ "stream": self.stream }))
    }
}

#[async_trait]
impl SourceTask for CountingTask {
    async fn start(
        &mut self,
        context: Arc<dyn SourceTaskContext>,
        config: &TaskConfig,
    ) -> Result<()> {
        self.topic = config["topic"].clone();
        self.stream = config["stream"].clone();
        self.end = config["count"].parse().map_err(|source| Error::Connector {
            context: "reading count".into(),
            source: Box::new(source),
        })?;
        self.next = match context.stored_offset(&self.partition()).await? {
            Some(offset) => offset["n"].as_u64().unwrap_or(0) + 1,
            None => 0,
        };
        self.context = Some(context);
        Ok(())
    }

    async fn poll(&mut self) -> Result<Vec<SourceRecord>> {
        let mut batch = Vec::new();
        while self.next < self.end && batch.len() < 3 {
            let n = self.next;
            let record = SourceRecord::new(
                self.partition(),
                object(json!({ "n": n })),
                self.topic.clone(),
                SchemaAndValue::with_schema(STRING_SCHEMA.clone(), self.stream.clone()),
                SchemaAndValue::with_schema(INT64_SCHEMA.clone(), n as i64),
            )
            .with_position(SourcePosition::from_parts(&[n]));
            batch.push(record);
            self.next += 1;
        }
        if let Some(context) = &self.context {
            context.report_progress(SnapshotProgress {
                table: self.stream.clone(),
                rows_done: self.next,
                rows_estimated: Some(self.end),
                phase: if self.next == self.end {
                    SnapshotPhase::Done
                } else {
                    SnapshotPhase::Running
                },
            });
        }
        Ok(batch)
    }

    async fn commit(&mut self, committed: &[CommittedOffset]) -> Result<()> {
        for offset in committed {
            self.committed
                .push(offset.source_offset["n"].as_u64().unwrap_or_default());
        }
        Ok(())
    }

    async fn stop(&mut self) -> Result<()> {
        self.context = None;
        Ok(())
    }
}

/// The worker's side of a source task, in memory: an offset store and progress rows.
#[derive(Debug)]
struct MemoryContext {
    id: ConnectorTaskId,
    offsets: Arc<Mutex<BTreeMap<String, OffsetMap>>>,
    progress: Mutex<BTreeMap<String, SnapshotProgress>>,
    errors: Mutex<Vec<String>>,
}

impl MemoryContext {
    fn new(task: u32, offsets: Arc<Mutex<BTreeMap<String, OffsetMap>>>) -> Arc<Self> {
        Arc::new(Self {
            id: ConnectorTaskId::new("counter", task),
            offsets,
            progress: Mutex::default(),
            errors: Mutex::default(),
        })
    }
}

#[async_trait]
impl SourceTaskContext for MemoryContext {
    fn task_id(&self) -> &ConnectorTaskId {
        &self.id
    }

    async fn stored_offset(&self, source_partition: &OffsetMap) -> Result<Option<OffsetMap>> {
        let key = serde_json::Value::Object(source_partition.clone()).to_string();
        Ok(self.offsets.lock().unwrap().get(&key).cloned())
    }

    fn report_progress(&self, progress: SnapshotProgress) {
        self.progress
            .lock()
            .unwrap()
            .insert(progress.table.clone(), progress);
    }

    fn raise_error(&self, error: Error) {
        self.errors.lock().unwrap().push(error.to_string());
    }

    async fn read_topic(
        &self,
        _topic: &str,
        _partition: i32,
        _from: i64,
    ) -> Result<Option<Vec<TopicRecord>>> {
        // This in-memory context holds no topics.
        Ok(None)
    }

    async fn ensure_history_topic(&self, topic: &str) -> Result<()> {
        Err(Error::WrongConnectorState(format!(
            "the in-memory test context keeps no topics (asked for {topic})"
        )))
    }
}

/// Polls `task` until `limit` records arrived, "storing" each batch and committing it the way
/// the worker does: offsets first, then `commit`.
async fn drive(
    task: &mut dyn SourceTask,
    offsets: &Mutex<BTreeMap<String, OffsetMap>>,
    limit: usize,
) -> Vec<SourceRecord> {
    let mut written = Vec::new();
    while written.len() < limit {
        let batch = task.poll().await.unwrap();
        if batch.is_empty() {
            break;
        }
        let last = batch.last().unwrap();
        let committed = CommittedOffset {
            source_partition: last.source_partition.clone(),
            source_offset: last.source_offset.clone(),
        };
        let key = serde_json::Value::Object(committed.source_partition.to_map()).to_string();
        offsets
            .lock()
            .unwrap()
            .insert(key, committed.source_offset.to_map());
        task.commit(&[committed]).await.unwrap();
        written.extend(batch);
    }
    written
}

#[tokio::test]
async fn source_tasks_work_as_trait_objects_and_resume_from_stored_offsets() {
    let mut connector: Box<dyn SourceConnector> = Box::new(CountingSource::default());
    let config = props(&[("topic", "numbers"), ("count", "7")]);
    assert_eq!(connector.validate(&config).error_count(), 0);
    let task_configs = connector.start(&config, 2).await.unwrap();
    assert_eq!(task_configs.len(), 2);

    let offsets = Arc::new(Mutex::new(BTreeMap::new()));
    let mut tasks: Vec<Box<dyn SourceTask>> = Vec::new();
    let mut contexts = Vec::new();
    for (number, task_config) in task_configs.iter().enumerate() {
        let mut task = connector.create_task();
        let context = MemoryContext::new(number as u32, offsets.clone());
        task.start(context.clone(), task_config).await.unwrap();
        tasks.push(task);
        contexts.push(context);
    }

    // The first task stops after two batches, as if the worker were killed.
    let first = drive(tasks[0].as_mut(), &offsets, 4).await;
    let numbers: Vec<i64> = first
        .iter()
        .map(|r| r.value.value.as_i64().unwrap())
        .collect();
    assert_eq!(numbers, [0, 1, 2, 3, 4, 5]);
    assert!(first.windows(2).all(|w| w[0].position < w[1].position));
    tasks[0].stop().await.unwrap();

    // A new task for the same stream resumes after the stored offset.
    let mut restarted = connector.create_task();
    let context = MemoryContext::new(0, offsets.clone());
    restarted
        .start(context.clone(), &task_configs[0])
        .await
        .unwrap();
    let rest = drive(restarted.as_mut(), &offsets, 100).await;
    let numbers: Vec<i64> = rest
        .iter()
        .map(|r| r.value.value.as_i64().unwrap())
        .collect();
    assert_eq!(numbers, [6]);
    let progress = context.progress.lock().unwrap()["s0"].clone();
    assert_eq!(
        (progress.rows_done, progress.phase),
        (7, SnapshotPhase::Done)
    );

    // The second task has its own stream and offsets.
    let other = drive(tasks[1].as_mut(), &offsets, 100).await;
    assert_eq!(other.len(), 7);
    assert!(
        other
            .iter()
            .all(|r| r.key.value == Value::String("s1".into()))
    );
    assert_eq!(offsets.lock().unwrap().len(), 2);
    assert!(contexts.iter().all(|c| c.errors.lock().unwrap().is_empty()));
    connector.stop().await.unwrap();
}

#[tokio::test]
async fn invalid_connector_config_names_the_key() {
    let mut connector = CountingSource::default();
    let report = connector.validate(&props(&[("count", "-1")]));
    assert_eq!(report.error_count(), 2, "{report:?}");
    let err = connector
        .start(&props(&[]), 1)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("\"topic\"") && err.contains("Where the numbers go"),
        "{err}"
    );
}

/// Keeps what it was given; durable on flush.
#[derive(Debug, Default)]
struct MemorySink;

#[async_trait]
impl SinkConnector for MemorySink {
    fn config_def(&self) -> ConfigDef {
        ConfigDef::new()
    }
    async fn start(&mut self, props: &Props, _max_tasks: usize) -> Result<Vec<TaskConfig>> {
        Ok(vec![props.clone()])
    }
    fn create_task(&self) -> Box<dyn SinkTask> {
        Box::new(MemorySinkTask::default())
    }
    async fn stop(&mut self) -> Result<()> {
        Ok(())
    }
}

#[derive(Debug, Default)]
struct MemorySinkTask {
    buffered: Vec<SinkRecord>,
    durable: Vec<SinkRecord>,
}

#[async_trait]
impl SinkTask for MemorySinkTask {
    async fn start(
        &mut self,
        _context: Arc<dyn SinkTaskContext>,
        _config: &TaskConfig,
    ) -> Result<()> {
        Ok(())
    }
    async fn put(&mut self, records: Vec<SinkRecord>) -> Result<()> {
        self.buffered.extend(records);
        Ok(())
    }
    async fn flush(&mut self, consumed: &PartitionOffsets) -> Result<PartitionOffsets> {
        self.durable.append(&mut self.buffered);
        let mut safe = PartitionOffsets::new();
        for record in &self.durable {
            let next = record.offset.plus(1);
            let limit = consumed
                .get(&record.topic_partition())
                .copied()
                .unwrap_or(next);
            safe.insert(record.topic_partition(), next.min(limit));
        }
        Ok(safe)
    }
    async fn stop(&mut self) -> Result<()> {
        Ok(())
    }
}

#[derive(Debug)]
struct NoSinkContext(ConnectorTaskId);

#[async_trait]
impl SinkTaskContext for NoSinkContext {
    fn task_id(&self) -> &ConnectorTaskId {
        &self.0
    }
    fn assignment(&self) -> Vec<TopicPartition> {
        vec![TopicPartition::new("t", 0)]
    }
    fn pause(&self, _partitions: &[TopicPartition]) {}
    fn resume(&self, _partitions: &[TopicPartition]) {}
    fn request_commit(&self) {}
    fn reset_offsets(&self, _offsets: PartitionOffsets) {}
    async fn report_errant(&self, _record: &SinkRecord, error: Error) -> Result<()> {
        Err(error)
    }
}

#[tokio::test]
async fn sink_tasks_return_only_durable_offsets() {
    let mut tasks: Vec<Box<dyn SinkTask>> = vec![MemorySink.create_task()];
    let task = tasks[0].as_mut();
    let context = Arc::new(NoSinkContext(ConnectorTaskId::new("sink", 0)));
    task.start(context, &Props::new()).await.unwrap();
    task.open(&[TopicPartition::new("t", 0)]).await.unwrap();
    let record = |offset: i64| SinkRecord {
        topic: "t".into(),
        partition: PartitionId(0),
        offset: Offset(offset),
        key: SchemaAndValue::null(),
        value: SchemaAndValue::with_schema(INT64_SCHEMA.clone(), offset),
        headers: Default::default(),
        timestamp_ms: 0,
    };
    task.put(vec![record(0), record(1)]).await.unwrap();
    let consumed = PartitionOffsets::from([(TopicPartition::new("t", 0), Offset(2))]);
    let safe = task.flush(&consumed).await.unwrap();
    assert_eq!(safe, consumed);
    task.stop().await.unwrap();
}

fn registry() -> ConnectorRegistry {
    let mut registry = ConnectorRegistry::new();
    registry
        .register_source(classes::POSTGRES, &["postgres"], "0.1.0", || {
            Box::new(CountingSource::default())
        })
        .unwrap();
    registry
        .register_source(
            classes::MYSQL,
            &["mysql", classes::MARIADB],
            "0.1.0",
            || Box::new(CountingSource::default()),
        )
        .unwrap();
    registry
        .register_sink(classes::FILE_SINK, &["file"], "0.1.0", || {
            Box::new(MemorySink)
        })
        .unwrap();
    registry
}

#[test]
fn registry_resolves_class_names_aliases_and_simple_names() {
    let registry = registry();
    for name in [
        classes::POSTGRES,
        "postgres",
        "PostgresConnector",
        "Postgres",
        " postgres ",
    ] {
        assert_eq!(
            registry.plugin(name).unwrap().class,
            classes::POSTGRES,
            "{name}"
        );
    }
    assert_eq!(
        registry.plugin(classes::MARIADB).unwrap().class,
        classes::MYSQL
    );
    assert_eq!(
        registry.plugin("FileStreamSink").unwrap().kind,
        ConnectorKind::Sink
    );
    assert!(matches!(
        registry.create("file").unwrap(),
        ConnectorInstance::Sink(_)
    ));
    assert_eq!(
        registry.create("mysql").unwrap().kind(),
        ConnectorKind::Source
    );
    assert!(registry.create_source("postgres").is_ok());
    assert!(registry.create_sink("file").is_ok());
}

#[test]
fn registry_errors_say_what_is_known() {
    let registry = registry();
    let err = registry.create("oracle").unwrap_err().to_string();
    assert!(
        err.contains("\"oracle\"") && err.contains("postgres") && err.contains(classes::FILE_SINK),
        "{err}"
    );
    let err = registry.create_sink("postgres").unwrap_err().to_string();
    assert!(
        err.contains("connector.class") && err.contains("source connector where a sink"),
        "{err}"
    );
    let mut registry = registry;
    let err = registry
        .register_sink("x.Other", &["postgres"], "1", || Box::new(MemorySink))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("already registered by") && err.contains(classes::POSTGRES),
        "{err}"
    );
    let empty = ConnectorRegistry::new()
        .create("file")
        .unwrap_err()
        .to_string();
    assert!(empty.contains("(none registered)"), "{empty}");
}

#[test]
fn plugin_list_is_kafka_connect_shaped() {
    let plugins = registry().plugins();
    let listed = serde_json::to_value(&plugins).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 3);
    assert_eq!(
        listed[0],
        json!({"class": classes::MYSQL, "type": "source", "version": "0.1.0"})
    );
    assert_eq!(listed[2]["type"], "sink");
}

#[test]
fn runtime_pieces_can_be_shared_across_tasks() {
    fn shareable<T: Send + Sync>() {}
    shareable::<ConnectorRegistry>();
    shareable::<Arc<dyn SourceTaskContext>>();
    shareable::<Arc<dyn SinkTaskContext>>();
    shareable::<sluice_connect::transforms::TransformChain<SourceRecord>>();
    shareable::<sluice_connect::transforms::TransformChain<SinkRecord>>();
    shareable::<Arc<dyn sluice_connect::converter::Converter>>();
    fn sendable<T: Send>() {}
    sendable::<Box<dyn SourceTask>>();
    sendable::<Box<dyn SinkTask>>();
    shareable::<Box<dyn SourceConnector>>();
    shareable::<Box<dyn SinkConnector>>();
}
