//! [`GroupCoordinator`]: the async front of the consumer groups. It owns every group's
//! membership and committed offsets behind one mutex (never held across an await), writes
//! commits and group snapshots to the [`GroupLog`] before acknowledging them, and rebuilds
//! its state from the log when opened.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use parking_lot::Mutex;
use tokio::sync::watch;

use super::api::{GroupDescription, GroupListing, GroupState, GroupStatus};
use super::clock::Clock;
use super::membership::{Ctx, Membership};
use super::offsets::{CommittedOffset, OffsetTable};
use super::records::GroupRecord;
use super::{GenerationId, GroupLog, GroupLogRecord, MemberId, TopicMetadata, validate_group_id};
use crate::error::{Error, Result};

mod membership_api;
mod offsets_api;
mod persist;

use persist::WriteQueue;

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
    writes: WriteQueue,
}

#[derive(Debug)]
struct GroupEntry {
    membership: Membership,
    offsets: OffsetTable,
    /// Tells in-process consumers when a rebalance starts or a generation forms.
    status: watch::Sender<GroupStatus>,
}

impl GroupEntry {
    fn new(group: &str, now: super::Millis) -> Self {
        let membership = Membership::new(group, now);
        let (status, _) = watch::channel(membership.status());
        Self {
            membership,
            offsets: OffsetTable::default(),
            status,
        }
    }
}

impl State {
    fn entry(&mut self, group: &str, ctx: Ctx<'_>) -> &mut GroupEntry {
        self.groups
            .entry(group.to_owned())
            .or_insert_with(|| GroupEntry::new(group, ctx.now))
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
            queue_snapshot(&mut self.outbox, GroupLogRecord { key, value });
        }
        let status = entry.membership.status();
        entry.status.send_if_modified(|current| {
            let changed = *current != status;
            *current = status;
            changed
        });
        if entry.membership.is_empty()
            && !entry.membership.has_pending_ids()
            && entry.offsets.is_empty()
            && entry.membership.generation() == GenerationId(0)
        {
            self.groups.remove(group);
        }
    }
}

/// Queues a group snapshot, replacing an older unwritten one of the same group: only the
/// latest matters, and the queue stays bounded by the number of groups even while the log
/// refuses writes.
fn queue_snapshot(outbox: &mut Vec<GroupLogRecord>, snapshot: GroupLogRecord) {
    outbox.retain(|queued| queued.key != snapshot.key);
    outbox.push(snapshot);
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
            let entry = groups
                .entry(group.clone())
                .or_insert_with(|| GroupEntry::new(&group, now));
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
                    writes: WriteQueue::default(),
                }),
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

    /// A member id for a consumer about to join `group`, valid for one session timeout.
    /// Knowing its id before joining lets a consumer leave even if it gives up mid-join.
    pub fn reserve_member_id(
        &self,
        group: &str,
        client_id: &str,
        session_timeout: Duration,
    ) -> Result<MemberId> {
        validate_group_id(group)?;
        let id = self.new_member_id(client_id);
        let ctx = self.ctx();
        let deadline = ctx.now.plus_ms(i64::from(duration_ms(session_timeout)));
        let mut state = self.inner.state.lock();
        state
            .entry(group, ctx)
            .membership
            .reserve_id(id.clone(), deadline);
        Ok(id)
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

    /// Follows a group's state and generation, so an in-process consumer can wait for a
    /// rebalance instead of polling heartbeats: when the state leaves `Stable` or the
    /// generation moves past its own, it must call
    /// [`join_consumer`](Self::join_consumer) again. `None` for a group that does not exist;
    /// the channel closes if the group is deleted.
    pub fn watch_group(&self, group: &str) -> Option<watch::Receiver<GroupStatus>> {
        let state = self.inner.state.lock();
        state.groups.get(group).map(|entry| {
            entry.status.send_replace(entry.membership.status());
            entry.status.subscribe()
        })
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
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(key: u8, value: u8) -> GroupLogRecord {
        GroupLogRecord {
            key: vec![key],
            value: Some(vec![value]),
        }
    }

    #[test]
    fn only_the_latest_snapshot_of_a_group_stays_queued() {
        let mut outbox = Vec::new();
        queue_snapshot(&mut outbox, record(1, 1));
        queue_snapshot(&mut outbox, record(2, 1));
        queue_snapshot(&mut outbox, record(1, 2));
        assert_eq!(outbox, vec![record(2, 1), record(1, 2)]);
    }
}
