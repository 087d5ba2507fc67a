//! [`GroupCoordinator`]: the async front of the consumer groups. It owns every group's
//! membership and committed offsets behind one mutex (never held across an await), writes
//! commits and group snapshots to the [`GroupLog`] before acknowledging them, and rebuilds
//! its state from the log when opened.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use parking_lot::Mutex;

use super::api::{
    ConsumerJoin, GroupAssignment, GroupDescription, GroupListing, GroupState, JoinRequest,
    JoinResponse, MemberKind, OffsetCommit, Protocol, SyncRequest, SyncResponse,
};
use super::clock::Clock;
use super::consumer_protocol::{
    CONSUMER_PROTOCOL_TYPE, ConsumerAssignment, ConsumerSubscription, RANGE_ASSIGNOR,
};
use super::membership::{Ctx, Membership};
use super::offsets::{CommittedOffset, OffsetTable, PartitionLag};
use super::records::{GroupRecord, GroupRecordKey};
use super::{
    GenerationId, GroupLog, GroupLogRecord, LogEndOffsets, MemberId, TopicMetadata, TopicPartition,
    validate_group_id,
};
use crate::error::{Error, Result};

/// Limits of the coordinator; defaults are Kafka's broker defaults.
#[derive(Debug, Clone)]
pub struct GroupConfig {
    /// Smallest session timeout a member may ask for (`group.min.session.timeout.ms`).
    pub min_session_timeout: Duration,
    /// Largest session timeout a member may ask for (`group.max.session.timeout.ms`).
    pub max_session_timeout: Duration,
    /// Largest metadata string an offset commit may carry (`offset.metadata.max.bytes`).
    pub max_offset_metadata_bytes: usize,
}

impl Default for GroupConfig {
    fn default() -> Self {
        Self {
            min_session_timeout: Duration::from_secs(6),
            max_session_timeout: Duration::from_secs(30 * 60),
            max_offset_metadata_bytes: 4096,
        }
    }
}

/// Serves consumer groups to in-process consumers and Kafka clients. Cheap to clone.
#[derive(Debug, Clone)]
pub struct GroupCoordinator {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    state: Mutex<State>,
    /// Serialises appends so the log holds records in the order their effects are applied.
    append_lock: tokio::sync::Mutex<()>,
    log: Arc<dyn GroupLog>,
    topics: Arc<dyn TopicMetadata>,
    clock: Arc<dyn Clock>,
    config: GroupConfig,
    /// Distinguishes member ids of this process from those of earlier runs.
    instance_tag: String,
    next_member: AtomicU64,
}

#[derive(Debug, Default)]
struct State {
    groups: BTreeMap<String, GroupEntry>,
    /// Group snapshots not yet written to the log.
    outbox: Vec<GroupLogRecord>,
}

#[derive(Debug)]
struct GroupEntry {
    membership: Membership,
    offsets: OffsetTable,
}

impl State {
    fn entry(&mut self, group: &str, ctx: Ctx<'_>) -> &mut GroupEntry {
        self.groups
            .entry(group.to_owned())
            .or_insert_with(|| GroupEntry {
                membership: Membership::new(group, ctx.now),
                offsets: OffsetTable::default(),
            })
    }

    /// Queues the group's snapshot if a transition made one due, and drops groups that hold
    /// nothing (no members, no offsets, never formed a generation).
    fn settle(&mut self, group: &str) {
        let Some(entry) = self.groups.get_mut(group) else {
            return;
        };
        if let Some(snapshot) = entry.membership.take_snapshot() {
            let (key, value) = GroupRecord::GroupMetadata {
                group: group.to_owned(),
                value: Some(snapshot),
            }
            .encode();
            self.outbox.push(GroupLogRecord { key, value });
        }
        if entry.membership.is_empty()
            && entry.offsets.is_empty()
            && entry.membership.generation() == GenerationId(0)
        {
            self.groups.remove(group);
        }
    }
}

fn group_not_found(group: &str) -> Error {
    Error::GroupNotFound {
        group: group.to_owned(),
    }
}

fn unknown_member(group: &str, member: &MemberId) -> Error {
    Error::UnknownMember {
        group: group.to_owned(),
        member: member.to_string(),
    }
}

fn duration_ms(d: Duration) -> i32 {
    d.as_millis().min(i32::MAX as u128) as i32
}

impl GroupCoordinator {
    /// Opens the coordinator, rebuilding committed offsets and group generations from the
    /// log. Blocking: call it at start-up or from `spawn_blocking`.
    pub fn open(
        log: Arc<dyn GroupLog>,
        topics: Arc<dyn TopicMetadata>,
        clock: Arc<dyn Clock>,
        config: GroupConfig,
    ) -> Result<Self> {
        let now = clock.now();
        let mut groups: BTreeMap<String, GroupEntry> = BTreeMap::new();
        for (index, record) in log.replay()?.into_iter().enumerate() {
            let decoded =
                GroupRecord::decode(&record.key, record.value.as_deref()).map_err(|source| {
                    Error::GroupReplay {
                        index,
                        source: Box::new(source),
                    }
                })?;
            let group = match &decoded {
                GroupRecord::OffsetCommit { group, .. }
                | GroupRecord::GroupMetadata { group, .. } => group.clone(),
            };
            let entry = groups.entry(group.clone()).or_insert_with(|| GroupEntry {
                membership: Membership::new(&group, now),
                offsets: OffsetTable::default(),
            });
            match decoded {
                GroupRecord::OffsetCommit {
                    partition, value, ..
                } => entry
                    .offsets
                    .apply(partition, value.map(CommittedOffset::from_record)),
                GroupRecord::GroupMetadata { value, .. } => {
                    entry.membership = match value {
                        Some(snapshot) => Membership::restored(&group, &snapshot, now),
                        None => Membership::new(&group, now),
                    }
                }
            }
        }
        groups.retain(|_, e| !e.offsets.is_empty() || e.membership.generation() != GenerationId(0));
        let started = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        Ok(Self {
            inner: Arc::new(Inner {
                state: Mutex::new(State {
                    groups,
                    outbox: Vec::new(),
                }),
                append_lock: tokio::sync::Mutex::new(()),
                log,
                topics,
                clock,
                config,
                instance_tag: format!("{:x}", started & 0xffff_ffff_ffff),
                next_member: AtomicU64::new(1),
            }),
        })
    }

    fn ctx(&self) -> Ctx<'_> {
        Ctx {
            now: self.inner.clock.now(),
            topics: &*self.inner.topics,
        }
    }

    fn new_member_id(&self, client_id: &str) -> MemberId {
        let n = self.inner.next_member.fetch_add(1, Ordering::Relaxed);
        let client = if client_id.is_empty() {
            "member"
        } else {
            client_id
        };
        MemberId::from(format!("{client}-{}-{n:06}", self.inner.instance_tag))
    }

    fn check_session_timeout(&self, group: &str, session_timeout_ms: i32) -> Result<()> {
        let min = duration_ms(self.inner.config.min_session_timeout);
        let max = duration_ms(self.inner.config.max_session_timeout);
        if (min..=max).contains(&session_timeout_ms) {
            return Ok(());
        }
        Err(Error::InvalidSessionTimeout {
            group: group.to_owned(),
            requested_ms: session_timeout_ms,
            min_ms: min,
            max_ms: max,
        })
    }

    /// JoinGroup: completes when the next generation forms (every known member rejoined, or
    /// the rebalance timeout passed — which needs [`tick`](Self::tick) or
    /// [`spawn_expiry_task`](Self::spawn_expiry_task) to be noticed).
    pub async fn join_group(&self, mut request: JoinRequest) -> Result<JoinResponse> {
        validate_group_id(&request.group)?;
        self.check_session_timeout(&request.group, request.session_timeout_ms)?;
        if request.rebalance_timeout_ms <= 0 {
            // JoinGroup v0 has no rebalance timeout; Kafka uses the session timeout.
            request.rebalance_timeout_ms = request.session_timeout_ms;
        }
        let group = request.group.clone();
        let member = request.member_id.clone();
        let ticket = {
            let ctx = self.ctx();
            let new_id = self.new_member_id(&request.client_id);
            let mut state = self.inner.state.lock();
            let result = state
                .entry(&group, ctx)
                .membership
                .join(request, new_id, ctx);
            state.settle(&group);
            result?
        };
        self.flush_outbox().await;
        ticket.await.map_err(|_| Error::GroupWaitAbandoned {
            group,
            member: member.map_or_else(|| "(new member)".to_owned(), |m| m.to_string()),
        })?
    }

    /// SyncGroup: the leader hands in the assignment; everyone gets theirs once it has.
    pub async fn sync_group(&self, request: SyncRequest) -> Result<SyncResponse> {
        let ticket = {
            let now = self.inner.clock.now();
            let mut state = self.inner.state.lock();
            let entry = state
                .groups
                .get_mut(&request.group)
                .ok_or_else(|| unknown_member(&request.group, &request.member_id))?;
            let result = entry.membership.sync(
                &request.member_id,
                request.generation,
                request.assignments,
                now,
            );
            state.settle(&request.group);
            result?
        };
        self.flush_outbox().await;
        ticket.await.map_err(|_| Error::GroupWaitAbandoned {
            group: request.group,
            member: request.member_id.to_string(),
        })?
    }

    /// Heartbeat: `Err(RebalanceInProgress)` tells the member to rejoin.
    pub fn heartbeat(
        &self,
        group: &str,
        member: &MemberId,
        generation: GenerationId,
    ) -> Result<()> {
        let now = self.inner.clock.now();
        let mut state = self.inner.state.lock();
        match state.groups.get_mut(group) {
            Some(entry) => entry.membership.heartbeat(member, generation, now),
            None => Err(unknown_member(group, member)),
        }
    }

    /// LeaveGroup: the member's partitions go to the others in a rebalance.
    pub async fn leave_group(&self, group: &str, member: &MemberId) -> Result<()> {
        let result = {
            let ctx = self.ctx();
            let mut state = self.inner.state.lock();
            let result = match state.groups.get_mut(group) {
                Some(entry) => entry.membership.leave(member, ctx),
                None => Err(unknown_member(group, member)),
            };
            state.settle(group);
            result
        };
        self.flush_outbox().await;
        result
    }

    /// Starts a rebalance of a formed group, e.g. after partitions were added to a topic
    /// it subscribes to. Members learn of it from their next heartbeat.
    pub async fn request_rebalance(&self, group: &str) {
        {
            let ctx = self.ctx();
            let mut state = self.inner.state.lock();
            if let Some(entry) = state.groups.get_mut(group) {
                entry.membership.request_rebalance(ctx);
            }
            state.settle(group);
        }
        self.flush_outbox().await;
    }

    /// Expires members whose session ran out and completes rebalances whose timeout
    /// passed; returns the expired members. [`spawn_expiry_task`](Self::spawn_expiry_task)
    /// calls it periodically; tests call it after moving a [`ManualClock`](super::ManualClock).
    pub async fn tick(&self) -> Vec<(String, MemberId)> {
        let expired = {
            let ctx = self.ctx();
            let mut state = self.inner.state.lock();
            let names: Vec<String> = state.groups.keys().cloned().collect();
            let mut expired = Vec::new();
            for name in names {
                if let Some(entry) = state.groups.get_mut(&name) {
                    for member in entry.membership.tick(ctx) {
                        expired.push((name.clone(), member));
                    }
                }
                state.settle(&name);
            }
            expired
        };
        for (group, member) in &expired {
            tracing::info!(%group, %member, "consumer group member session expired");
        }
        self.flush_outbox().await;
        expired
    }

    /// Runs [`tick`](Self::tick) every `interval` until the coordinator is dropped.
    pub fn spawn_expiry_task(&self, interval: Duration) -> tokio::task::JoinHandle<()> {
        let weak: Weak<Inner> = Arc::downgrade(&self.inner);
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(interval);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticker.tick().await;
                let Some(inner) = weak.upgrade() else { break };
                GroupCoordinator { inner }.tick().await;
            }
        })
    }

    /// Joins (or rejoins) a group as an in-process consumer and returns its partitions once
    /// the generation is formed and assigned. Call again with the returned member id when a
    /// heartbeat reports a rebalance.
    pub async fn join_consumer(&self, join: ConsumerJoin) -> Result<GroupAssignment> {
        let subscription = ConsumerSubscription {
            topics: join.topics.clone(),
            user_data: None,
        }
        .encode();
        let mut member_id = join.member_id.clone();
        loop {
            let joined = self
                .join_group(JoinRequest {
                    group: join.group.clone(),
                    member_id: member_id.clone(),
                    group_instance_id: None,
                    client_id: join.client_id.clone(),
                    client_host: "in-process".to_owned(),
                    session_timeout_ms: duration_ms(join.session_timeout),
                    rebalance_timeout_ms: duration_ms(join.rebalance_timeout),
                    protocol_type: CONSUMER_PROTOCOL_TYPE.to_owned(),
                    protocols: vec![Protocol {
                        name: RANGE_ASSIGNOR.to_owned(),
                        metadata: subscription.clone(),
                    }],
                    kind: MemberKind::InProcess,
                })
                .await?;
            let synced = self
                .sync_group(SyncRequest {
                    group: join.group.clone(),
                    member_id: joined.member_id.clone(),
                    generation: joined.generation,
                    assignments: Vec::new(),
                })
                .await;
            match synced {
                Ok(synced) => {
                    let assignment = ConsumerAssignment::decode(&synced.assignment)?;
                    return Ok(GroupAssignment {
                        member_id: joined.member_id,
                        generation: joined.generation,
                        partitions: assignment.partitions,
                    });
                }
                // Another member joined between our join and sync: go round again.
                Err(Error::RebalanceInProgress { .. }) => member_id = Some(joined.member_id),
                Err(other) => return Err(other),
            }
        }
    }

    /// OffsetCommit: durable in the log before this returns. `member` and `generation`
    /// identify a group member; a consumer outside any group passes `None` and
    /// [`GenerationId::NONE`], which only a group without members accepts.
    pub async fn commit_offsets(
        &self,
        group: &str,
        member: Option<&MemberId>,
        generation: GenerationId,
        offsets: Vec<OffsetCommit>,
    ) -> Result<()> {
        validate_group_id(group)?;
        let max = self.inner.config.max_offset_metadata_bytes;
        if let Some(big) = offsets.iter().find(|c| c.metadata.len() > max) {
            return Err(Error::OffsetMetadataTooLarge {
                group: group.to_owned(),
                partition: big.partition.to_string(),
                len: big.metadata.len(),
                max,
            });
        }
        let now = self.inner.clock.now();
        {
            let ctx = self.ctx();
            let mut state = self.inner.state.lock();
            let result = state
                .entry(group, ctx)
                .membership
                .validate_commit(member, generation, now);
            state.settle(group);
            result?;
        }
        let commits: Vec<(TopicPartition, CommittedOffset)> = offsets
            .into_iter()
            .map(|c| {
                let committed = CommittedOffset {
                    offset: c.offset,
                    leader_epoch: c.leader_epoch,
                    metadata: c.metadata,
                    commit_timestamp_ms: now.0,
                };
                (c.partition, committed)
            })
            .collect();
        let records = commits
            .iter()
            .map(|(partition, committed)| {
                let (key, value) = GroupRecord::OffsetCommit {
                    group: group.to_owned(),
                    partition: partition.clone(),
                    value: Some(committed.to_record()),
                }
                .encode();
                GroupLogRecord { key, value }
            })
            .collect();
        let _append = self.inner.append_lock.lock().await;
        self.append_with_outbox(records).await?;
        let ctx = self.ctx();
        let mut state = self.inner.state.lock();
        let entry = state.entry(group, ctx);
        for (partition, committed) in commits {
            entry.offsets.apply(partition, Some(committed));
        }
        Ok(())
    }

    /// OffsetFetch for one partition.
    pub fn committed_offset(
        &self,
        group: &str,
        partition: &TopicPartition,
    ) -> Option<CommittedOffset> {
        let state = self.inner.state.lock();
        state.groups.get(group)?.offsets.get(partition).cloned()
    }

    /// OffsetFetch for every partition the group committed in.
    pub fn committed_offsets(&self, group: &str) -> Vec<(TopicPartition, CommittedOffset)> {
        let state = self.inner.state.lock();
        state.groups.get(group).map_or_else(Vec::new, |entry| {
            entry
                .offsets
                .iter()
                .map(|(p, c)| (p.clone(), c.clone()))
                .collect()
        })
    }

    /// Lag per partition the group committed in or has assigned (assignments are read when
    /// the group speaks the consumer protocol).
    pub fn lag(&self, group: &str, log_end: &dyn LogEndOffsets) -> Result<Vec<PartitionLag>> {
        let state = self.inner.state.lock();
        let entry = state
            .groups
            .get(group)
            .ok_or_else(|| group_not_found(group))?;
        let mut owners = BTreeMap::new();
        if entry.membership.protocol_type() == Some(CONSUMER_PROTOCOL_TYPE) {
            for (member, bytes) in entry.membership.assignments() {
                // A Kafka leader's assignment we cannot read just leaves owners unknown.
                if let Ok(assignment) = ConsumerAssignment::decode(bytes) {
                    for partition in assignment.partitions {
                        owners.insert(partition, member.clone());
                    }
                }
            }
        }
        Ok(entry.offsets.lag(&owners, log_end))
    }

    /// DescribeGroups; an unknown group is reported `Dead`, as Kafka does.
    pub fn describe_group(&self, group: &str) -> GroupDescription {
        let state = self.inner.state.lock();
        match state.groups.get(group) {
            Some(entry) => entry.membership.describe(),
            None => GroupDescription {
                group: group.to_owned(),
                state: GroupState::Dead,
                generation: GenerationId(0),
                protocol_type: None,
                protocol_name: None,
                leader: None,
                members: Vec::new(),
            },
        }
    }

    /// ListGroups.
    pub fn list_groups(&self) -> Vec<GroupListing> {
        let state = self.inner.state.lock();
        state
            .groups
            .iter()
            .map(|(name, entry)| GroupListing {
                group: name.clone(),
                protocol_type: entry.membership.protocol_type().map(str::to_owned),
                state: entry.membership.state(),
            })
            .collect()
    }

    /// DeleteGroups: only a group without members; writes tombstones for its offsets and
    /// its snapshot, so compaction removes it from the log.
    pub async fn delete_group(&self, group: &str) -> Result<()> {
        let partitions: Vec<TopicPartition> = {
            let state = self.inner.state.lock();
            let entry = state
                .groups
                .get(group)
                .ok_or_else(|| group_not_found(group))?;
            if !entry.membership.is_empty() {
                return Err(Error::NonEmptyGroup {
                    group: group.to_owned(),
                });
            }
            entry.offsets.iter().map(|(p, _)| p.clone()).collect()
        };
        let mut records: Vec<GroupLogRecord> = partitions
            .iter()
            .map(|partition| GroupLogRecord {
                key: GroupRecordKey::OffsetCommit {
                    group: group.to_owned(),
                    partition: partition.clone(),
                }
                .encode(),
                value: None,
            })
            .collect();
        records.push(GroupLogRecord {
            key: GroupRecordKey::GroupMetadata {
                group: group.to_owned(),
            }
            .encode(),
            value: None,
        });
        let _append = self.inner.append_lock.lock().await;
        self.append_with_outbox(records).await?;
        let mut state = self.inner.state.lock();
        if let Some(entry) = state.groups.get_mut(group) {
            for partition in partitions {
                entry.offsets.apply(partition, None);
            }
            // A member may have joined while the tombstones were written; keep it.
            if entry.membership.is_empty() {
                state.groups.remove(group);
            }
        }
        Ok(())
    }

    /// Writes queued group snapshots; a failure is logged and the snapshots stay queued for
    /// the next write (they only record generations, so membership carries on).
    async fn flush_outbox(&self) {
        if self.inner.state.lock().outbox.is_empty() {
            return;
        }
        let _append = self.inner.append_lock.lock().await;
        if let Err(error) = self.append_with_outbox(Vec::new()).await {
            tracing::warn!(%error, "writing consumer group snapshots to __consumer_offsets failed; will retry");
        }
    }

    /// Appends queued snapshots followed by `records`. The caller holds `append_lock`, so
    /// the order of appends is the order in which the state changes were made.
    async fn append_with_outbox(&self, records: Vec<GroupLogRecord>) -> Result<()> {
        let queued = std::mem::take(&mut self.inner.state.lock().outbox);
        if queued.is_empty() && records.is_empty() {
            return Ok(());
        }
        let mut batch = queued.clone();
        batch.extend(records);
        let log = Arc::clone(&self.inner.log);
        let result = tokio::task::spawn_blocking(move || log.append(batch))
            .await
            .map_err(Error::Task)
            .and_then(|appended| appended);
        if result.is_err() {
            let mut state = self.inner.state.lock();
            let newer = std::mem::replace(&mut state.outbox, queued);
            state.outbox.extend(newer);
        }
        result
    }
}
