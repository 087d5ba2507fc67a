//! Running one sink task: join the consumer group `connect-<connector>` for the subscribed
//! topics, read each assigned partition from its committed offset (else the earliest),
//! convert and transform records, `put` them in offset order per partition, and every
//! `offset.flush.interval.ms` (and on pause, rebalance, resubscription and stop) `flush` and
//! commit to the group the offsets `flush` returns. Delivery is at least once: after a crash
//! or a failure, records after the committed offsets come again.
//!
//! Rebalances are eager: the task flushes and commits everything, rejoins, then closes the
//! partitions it lost and opens those it gained. A `topics.regex` (or a listed topic that
//! does not exist yet) is resolved against the broker's topics every [`TOPIC_REFRESH`]; when
//! the set changes the task commits, leaves the group and joins again with the new topics.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sluice_broker::Broker;
use sluice_broker::group::{ConsumerJoin, GroupMember, OffsetCommit};
use tokio::sync::watch;
use tokio::time::{MissedTickBehavior, interval_at};

use super::control::{TaskControl, TaskStateCell, error_trace, publish_task_state};
use super::dead_letter::{ErrantRecords, Failure};
use super::metrics::TaskMetrics;
use super::sink_consumer::{
    Consumer, apply_resets, broker_partition, partitions_of, start_offset, sync_fetchers,
};
use super::sink_context::{Original, SinkContext};
use super::sink_fetch::{FetchedBatch, Fetchers, MAX_RECORDS_PER_FETCH};
use super::sink_records::to_sink_record;
use super::sink_settings::SinkSettings;
use crate::api::{ConnectorTaskId, SinkTask, SinkTaskContext, TaskConfig, TopicPartition};
use crate::error::{Error, Result};
use crate::stores::{State, StatusStore};

/// How often subscribed topics are resolved again against the broker's topics.
pub const TOPIC_REFRESH: Duration = Duration::from_secs(1);
/// Most records handed to one `put`.
const MAX_RECORDS_PER_PUT: usize = 4 * MAX_RECORDS_PER_FETCH;

/// Everything a sink task run needs from the worker.
#[derive(Debug)]
pub struct SinkTaskRun {
    pub id: ConnectorTaskId,
    pub task: Box<dyn SinkTask>,
    pub config: TaskConfig,
    pub broker: Broker,
    pub statuses: Arc<StatusStore>,
    pub worker_id: String,
    pub settings: SinkSettings,
    pub control: watch::Receiver<TaskControl>,
    pub state: TaskStateCell,
    pub metrics: TaskMetrics,
    pub offset_flush_interval: Duration,
    /// Most bytes of fetched records held at once.
    pub max_bytes_in_flight: usize,
}

/// Why the loop of one group membership ended.
enum Exit {
    Stop,
    Resubscribe(Vec<String>),
}

/// Whether a `put` went through or a stop cut its retries short.
enum PutOutcome {
    Done,
    Stopped,
}

impl SinkTaskRun {
    /// Runs the task until it is stopped or fails; the outcome is in its state cell.
    pub async fn run(mut self) {
        let errant = ErrantRecords::new(
            self.broker.clone(),
            self.settings.errors.clone(),
            self.id.clone(),
        );
        let context = Arc::new(SinkContext::new(self.id.clone(), errant));
        let outcome = match self.task.start(context.clone(), &self.config).await {
            Ok(()) => self.consume(&context).await,
            Err(error) => Err(error),
        };
        if let Err(error) = self.task.stop().await {
            tracing::warn!(task = %self.id, %error, "sink task did not stop cleanly");
        }
        match outcome {
            Ok(()) => self.publish(State::Unassigned, None).await,
            Err(error) => {
                self.metrics.error();
                tracing::error!(task = %self.id, error = %error_trace(&error), "sink task failed");
                self.publish(State::Failed, Some(error_trace(&error))).await;
            }
        }
    }

    async fn consume(&mut self, context: &Arc<SinkContext>) -> Result<()> {
        let mut consumer =
            Consumer::new(Fetchers::new(self.broker.clone(), self.max_bytes_in_flight));
        let outcome = self.consume_memberships(&mut consumer, context).await;
        // Fetch tasks hold the broker: gone before the task reports that it stopped.
        consumer.fetchers.close().await;
        outcome
    }

    /// Joins the group and consumes; joins again whenever the subscribed topics change.
    async fn consume_memberships(
        &mut self,
        consumer: &mut Consumer,
        context: &Arc<SinkContext>,
    ) -> Result<()> {
        let mut topics = self.subscribed_topics();
        loop {
            let Some(mut member) = self.join(topics.clone()).await? else {
                return Ok(());
            };
            let assignment = partitions_of(member.assignment());
            let exit = match self.reassign(consumer, context, assignment).await {
                Ok(()) => {
                    self.membership_loop(consumer, &mut member, context, &topics)
                        .await
                }
                Err(error) => Err(error),
            };
            // Failed: leave without committing; the next task resumes from the last commit.
            let exit = exit?;
            self.commit(consumer, &member).await?;
            self.reassign(consumer, context, BTreeSet::new()).await?;
            if let Err(error) = member.leave().await {
                tracing::warn!(task = %self.id, %error, "could not leave the consumer group; its session will expire");
            }
            match exit {
                Exit::Stop => return Ok(()),
                Exit::Resubscribe(next) => {
                    tracing::info!(task = %self.id, topics = ?next, "subscribed topics changed; joining the group again");
                    topics = next;
                }
            }
        }
    }

    fn subscribed_topics(&self) -> Vec<String> {
        self.settings
            .subscription
            .resolve(&self.broker.list_topics())
    }

    /// Joins the group; `None` when the task was stopped while waiting.
    async fn join(&mut self, topics: Vec<String>) -> Result<Option<GroupMember>> {
        let group = self.settings.group();
        let join = ConsumerJoin::new(group.clone(), self.id.to_string(), topics);
        let joining = GroupMember::join(self.broker.groups().clone(), join);
        tokio::select! {
            joined = joining => joined.map(Some).map_err(|source| Error::Group {
                context: format!("task {} cannot join the consumer group {group}", self.id),
                source,
            }),
            () = stopped(&mut self.control) => Ok(None),
        }
    }

    async fn membership_loop(
        &mut self,
        consumer: &mut Consumer,
        member: &mut GroupMember,
        context: &Arc<SinkContext>,
        topics: &[String],
    ) -> Result<Exit> {
        let start = tokio::time::Instant::now();
        let mut commit_tick = interval_at(
            start + self.offset_flush_interval,
            self.offset_flush_interval,
        );
        commit_tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut refresh_tick = interval_at(start + TOPIC_REFRESH, TOPIC_REFRESH);
        refresh_tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            if let Some(exit) = self.follow_control(consumer, member, context).await? {
                return Ok(exit);
            }
            tokio::select! {
                biased;
                changed = self.control.changed() => {
                    if changed.is_err() {
                        return Ok(Exit::Stop);
                    }
                }
                () = member.rebalance_needed() => {
                    if !self.rebalance(consumer, member, context).await? {
                        return Ok(Exit::Stop);
                    }
                }
                () = context.wake.notified() => self.apply_requests(consumer, member, context).await?,
                _ = commit_tick.tick() => self.commit(consumer, member).await?,
                _ = refresh_tick.tick() => {
                    let now = self.subscribed_topics();
                    if now != topics {
                        return Ok(Exit::Resubscribe(now));
                    }
                }
                batch = consumer.fetchers.next(), if !consumer.task_paused => {
                    if let PutOutcome::Stopped = self.deliver(batch, consumer, member, context).await? {
                        return Ok(Exit::Stop);
                    }
                }
            }
        }
    }

    /// Acts on the worker's requested state; `Some` when the task must stop.
    async fn follow_control(
        &mut self,
        consumer: &mut Consumer,
        member: &GroupMember,
        context: &SinkContext,
    ) -> Result<Option<Exit>> {
        let control = *self.control.borrow_and_update();
        match control {
            TaskControl::Stop => return Ok(Some(Exit::Stop)),
            TaskControl::Pause if !consumer.task_paused => {
                self.commit(consumer, member).await?;
                consumer.task_paused = true;
                consumer.fetchers.stop_all();
                self.publish(State::Paused, None).await;
            }
            TaskControl::Run
                if consumer.task_paused || self.state.get().state != State::Running =>
            {
                consumer.task_paused = false;
                sync_fetchers(consumer, context);
                self.publish(State::Running, None).await;
            }
            _ => {}
        }
        Ok(None)
    }

    /// Commits, rejoins and applies the new assignment; `false` when stopped meanwhile.
    async fn rebalance(
        &mut self,
        consumer: &mut Consumer,
        member: &mut GroupMember,
        context: &Arc<SinkContext>,
    ) -> Result<bool> {
        self.commit(consumer, member).await?;
        let group = self.settings.group();
        let rejoined = tokio::select! {
            rejoined = member.rejoin() => rejoined.map(partitions_of).map_err(|source| Error::Group {
                context: format!("task {} cannot rejoin the consumer group {group}", self.id),
                source,
            })?,
            () = stopped(&mut self.control) => return Ok(false),
        };
        self.reassign(consumer, context, rejoined).await?;
        Ok(true)
    }

    /// Closes the partitions no longer assigned and opens the new ones at their committed
    /// offsets (else the earliest).
    async fn reassign(
        &mut self,
        consumer: &mut Consumer,
        context: &Arc<SinkContext>,
        assigned: BTreeSet<TopicPartition>,
    ) -> Result<()> {
        let revoked: Vec<_> = consumer.assigned.difference(&assigned).cloned().collect();
        let added: Vec<_> = assigned.difference(&consumer.assigned).cloned().collect();
        for partition in &revoked {
            consumer.fetchers.stop(partition);
            consumer.consumed.remove(partition);
            consumer.committed.remove(partition);
        }
        consumer.assigned = assigned;
        context.set_assignment(consumer.assigned.iter().cloned().collect());
        if !revoked.is_empty() {
            self.task.close(&revoked).await?;
        }
        if added.is_empty() {
            return Ok(());
        }
        for partition in &added {
            let (start, committed) =
                start_offset(&self.broker, &self.settings.group(), partition).await?;
            consumer.consumed.insert(partition.clone(), start);
            if let Some(committed) = committed {
                consumer.committed.insert(partition.clone(), committed);
            }
        }
        tracing::info!(task = %self.id, partitions = ?added, "partitions assigned");
        self.task.open(&added).await?;
        if apply_resets(consumer, context) {
            // Asked for in `open`: served by the loop once it runs.
            context.request_commit();
        }
        sync_fetchers(consumer, context);
        Ok(())
    }

    /// Applies what the task asked for through its context.
    async fn apply_requests(
        &mut self,
        consumer: &mut Consumer,
        member: &GroupMember,
        context: &SinkContext,
    ) -> Result<()> {
        let commit = apply_resets(consumer, context);
        sync_fetchers(consumer, context);
        if commit {
            self.commit(consumer, member).await?;
        }
        Ok(())
    }

    /// Converts the batch (and whatever else is already fetched, up to the put limit) and
    /// hands it to the task.
    async fn deliver(
        &mut self,
        first: FetchedBatch,
        consumer: &mut Consumer,
        member: &GroupMember,
        context: &SinkContext,
    ) -> Result<PutOutcome> {
        let mut count = first.records.len();
        let mut batches = vec![first];
        while count < MAX_RECORDS_PER_PUT {
            let Some(batch) = consumer.fetchers.try_next() else {
                break;
            };
            count += batch.records.len();
            batches.push(batch);
        }
        let errant = context.errant();
        let mut records = Vec::with_capacity(count);
        let mut originals = Vec::new();
        let (mut bytes, mut newest_ms) = (0u64, None);
        for batch in &batches {
            for fetched in &batch.records {
                bytes += fetched.record.value.as_ref().map_or(0, |v| v.len()) as u64;
                newest_ms = newest_ms.max(Some(fetched.record.timestamp_ms));
                match to_sink_record(&self.settings, &batch.partition, fetched).await {
                    Ok(Some(record)) => records.push(record),
                    Ok(None) => {}
                    Err((stage, error)) => {
                        let failure = Failure {
                            topic: &batch.partition.topic,
                            partition: batch.partition.partition,
                            original: fetched,
                            stage,
                        };
                        errant.handle(failure, error).await?;
                        continue;
                    }
                }
                if errant.keeps_originals() {
                    originals.push(Original {
                        partition: batch.partition.clone(),
                        record: fetched.clone(),
                    });
                }
            }
        }
        if !records.is_empty() {
            context.set_originals(originals);
            let outcome = self.put(records, context).await;
            context.set_originals(Vec::new());
            if let PutOutcome::Stopped = outcome? {
                return Ok(PutOutcome::Stopped);
            }
        }
        self.metrics.delivered(count as u64, bytes, newest_ms);
        for batch in &batches {
            consumer
                .consumed
                .insert(batch.partition.clone(), batch.next_offset);
        }
        self.apply_requests(consumer, member, context).await?;
        Ok(PutOutcome::Done)
    }

    /// `put` with the connector's retry policy.
    async fn put(
        &mut self,
        records: Vec<crate::api::SinkRecord>,
        context: &SinkContext,
    ) -> Result<PutOutcome> {
        let retry = self.settings.errors.retry;
        let started = Instant::now();
        let mut failures = 0;
        let mut records = Some(records);
        loop {
            let attempt = match retry.next_delay(1, Duration::ZERO) {
                Some(_) => records.clone(),
                None => records.take(),
            }
            .unwrap_or_default();
            let outcome = self.task.put(attempt).await;
            if let Some(rejected) = context.take_rejected() {
                return Err(rejected);
            }
            let Err(error) = outcome else {
                return Ok(PutOutcome::Done);
            };
            failures += 1;
            let Some(delay) = retry.next_delay(failures, started.elapsed()) else {
                return Err(error);
            };
            tracing::warn!(task = %self.id, %error, attempt = failures, ?delay, "put failed; retrying");
            if tokio::time::timeout(delay, stopped(&mut self.control))
                .await
                .is_ok()
            {
                return Ok(PutOutcome::Stopped);
            }
        }
    }

    /// Flushes and commits what `flush` allows, if anything was consumed since the last
    /// commit. A refused commit (the group moved on) is logged: the partitions are
    /// reassigned and read again from the last commit.
    async fn commit(&mut self, consumer: &mut Consumer, member: &GroupMember) -> Result<()> {
        if consumer.consumed.is_empty() || consumer.consumed == consumer.committed {
            return Ok(());
        }
        let flushed = self.task.flush(&consumer.consumed).await?;
        let mut commits = Vec::new();
        for (partition, offset) in flushed {
            let Some(consumed) = consumer.consumed.get(&partition) else {
                continue;
            };
            if offset > *consumed {
                tracing::warn!(task = %self.id, %partition, offset = offset.0, consumed = consumed.0, "flush returned an offset past what was consumed; committing what was consumed");
            }
            let offset = offset.min(*consumed);
            if consumer.committed.get(&partition) != Some(&offset) {
                commits.push((partition, offset));
            }
        }
        if commits.is_empty() {
            return Ok(());
        }
        let request = commits
            .iter()
            .map(|(partition, offset)| OffsetCommit::new(broker_partition(partition), *offset))
            .collect();
        match member.commit(request).await {
            Ok(()) => consumer.committed.extend(commits),
            Err(error) => {
                tracing::warn!(task = %self.id, %error, "offset commit refused; records after the last commit will be delivered again");
            }
        }
        Ok(())
    }

    /// Records a state change; the returned future holds no borrow of `self` (the task
    /// object is not `Sync`, so `&self` must not live across an await).
    fn publish(
        &self,
        state: State,
        trace: Option<String>,
    ) -> impl std::future::Future<Output = ()> + Send + 'static {
        publish_task_state(
            &self.state,
            &self.statuses,
            &self.id,
            &self.worker_id,
            state,
            trace,
        )
    }
}

/// Completes once the worker asks the task to stop (or drops its control channel).
async fn stopped(control: &mut watch::Receiver<TaskControl>) {
    loop {
        if *control.borrow_and_update() == TaskControl::Stop {
            return;
        }
        if control.changed().await.is_err() {
            return;
        }
    }
}
