//! [`GroupMember`]: an in-process consumer's membership, packaged. It joins, keeps the
//! session alive with a background heartbeat, says when a rebalance needs it to rejoin,
//! commits in its current generation, and leaves the group when dropped — so a sink task
//! that stops or panics hands its partitions to the others at once.

use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::MemberId;
use super::api::{ConsumerJoin, GroupAssignment, GroupState, GroupStatus, OffsetCommit};
use super::coordinator::GroupCoordinator;
use crate::error::Result;

/// The shortest pause between heartbeats, so tiny session timeouts cannot spin.
const MIN_HEARTBEAT_INTERVAL: Duration = Duration::from_millis(10);

/// One in-process consumer's membership in a group.
#[derive(Debug)]
pub struct GroupMember {
    join: ConsumerJoin,
    assignment: GroupAssignment,
    status: Option<watch::Receiver<GroupStatus>>,
    session: Session,
}

/// The live part of a membership: the heartbeat task, and the member id to leave with when
/// dropped.
#[derive(Debug)]
struct Session {
    coordinator: GroupCoordinator,
    group: String,
    member: Option<MemberId>,
    heartbeat: Option<JoinHandle<()>>,
}

impl Session {
    fn start(
        coordinator: GroupCoordinator,
        join: &ConsumerJoin,
        assignment: &GroupAssignment,
    ) -> Self {
        let heartbeat = spawn_heartbeat(&coordinator, join, assignment);
        Self {
            coordinator,
            group: join.group.clone(),
            member: Some(assignment.member_id.clone()),
            heartbeat: Some(heartbeat),
        }
    }

    fn stop_heartbeat(&mut self) {
        if let Some(heartbeat) = self.heartbeat.take() {
            heartbeat.abort();
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.stop_heartbeat();
        // Leave in the background when a runtime is there; otherwise the session timeout
        // frees the partitions.
        let Some(member) = self.member.take() else {
            return;
        };
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let coordinator = self.coordinator.clone();
            let group = self.group.clone();
            runtime.spawn(async move {
                let _ = coordinator.leave_group(&group, &member).await;
            });
        }
    }
}

impl GroupMember {
    /// Joins `join.group` and waits for the first assignment. Needs a tokio runtime (the
    /// heartbeat runs as a task).
    ///
    /// Cancel-safe: dropping the future mid-join removes the member at once, so the group
    /// does not hand partitions to a consumer that is not there.
    pub async fn join(coordinator: GroupCoordinator, join: ConsumerJoin) -> Result<Self> {
        let member_id =
            coordinator.reserve_member_id(&join.group, &join.client_id, join.session_timeout)?;
        // Leaves on drop, including when this future is dropped before the join completes.
        let mut session = Session {
            coordinator: coordinator.clone(),
            group: join.group.clone(),
            member: Some(member_id.clone()),
            heartbeat: None,
        };
        let first = ConsumerJoin {
            member_id: Some(member_id),
            ..join.clone()
        };
        let assignment = coordinator.join_consumer(first).await?;
        let status = coordinator.watch_group(&join.group);
        session.member = Some(assignment.member_id.clone());
        session.heartbeat = Some(spawn_heartbeat(&coordinator, &join, &assignment));
        Ok(Self {
            join,
            assignment,
            status,
            session,
        })
    }

    /// The partitions this member owns in its generation.
    pub fn assignment(&self) -> &GroupAssignment {
        &self.assignment
    }

    /// Completes when this member must call [`rejoin`](Self::rejoin): a rebalance started,
    /// a newer generation formed without it, or the group was deleted. Cancel-safe, so it
    /// can sit in a `select!` beside fetches.
    pub async fn rebalance_needed(&mut self) {
        let Some(status) = self.status.as_mut() else {
            return;
        };
        loop {
            let current = *status.borrow_and_update();
            if current.state != GroupState::Stable
                || current.generation != self.assignment.generation
            {
                return;
            }
            if status.changed().await.is_err() {
                return;
            }
        }
    }

    /// Rejoins after a rebalance started and returns the new assignment. Commit what was
    /// processed before calling this: the current generation ends with it.
    pub async fn rejoin(&mut self) -> Result<&GroupAssignment> {
        let rejoin = ConsumerJoin {
            member_id: Some(self.assignment.member_id.clone()),
            ..self.join.clone()
        };
        let coordinator = self.session.coordinator.clone();
        let assignment = coordinator.join_consumer(rejoin).await?;
        self.status = coordinator.watch_group(&self.join.group);
        // The old session's member id may be gone (expired): do not leave with it.
        self.session.member = None;
        self.session = Session::start(coordinator, &self.join, &assignment);
        self.assignment = assignment;
        Ok(&self.assignment)
    }

    /// Commits offsets in this member's generation; fails with `IllegalGeneration` or
    /// `UnknownMember` if the group moved on, in which case the partitions may belong to
    /// someone else now.
    pub async fn commit(&self, offsets: Vec<OffsetCommit>) -> Result<()> {
        self.session
            .coordinator
            .commit_offsets(
                &self.join.group,
                Some(&self.assignment.member_id),
                self.assignment.generation,
                offsets,
            )
            .await
    }

    /// Leaves the group now, so its partitions move to the other members.
    pub async fn leave(mut self) -> Result<()> {
        self.session.stop_heartbeat();
        let Some(member) = self.session.member.take() else {
            return Ok(());
        };
        self.session
            .coordinator
            .leave_group(&self.join.group, &member)
            .await
    }
}

/// Heartbeats at a third of the session timeout (Kafka's advice for
/// `heartbeat.interval.ms`). Errors need no handling here: a rebalance shows in the group's
/// status, and an expired member finds out when it rejoins.
fn spawn_heartbeat(
    coordinator: &GroupCoordinator,
    join: &ConsumerJoin,
    assignment: &GroupAssignment,
) -> JoinHandle<()> {
    let coordinator = coordinator.clone();
    let group = join.group.clone();
    let member = assignment.member_id.clone();
    let generation = assignment.generation;
    let interval = (join.session_timeout / 3).max(MIN_HEARTBEAT_INTERVAL);
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            let _ = coordinator.heartbeat(&group, &member, generation);
        }
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::group::test_support::{
        StaticTopics, manual_clock, open_coordinator, open_coordinator_with,
    };
    use crate::group::{Clock, SystemClock, TopicPartition};
    use crate::types::{Offset, PartitionId};

    fn join(client: &str, session: Duration) -> ConsumerJoin {
        ConsumerJoin {
            session_timeout: session,
            rebalance_timeout: Duration::from_secs(30),
            ..ConsumerJoin::new("g", client, vec!["t".into()])
        }
    }

    async fn within<T>(what: &str, future: impl Future<Output = T>) -> T {
        tokio::time::timeout(Duration::from_secs(5), future)
            .await
            .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
    }

    #[tokio::test]
    async fn members_rebalance_on_join_and_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let clock = manual_clock();
        let coordinator = open_coordinator(dir.path(), &clock, &[("t", 4)]);
        let session = Duration::from_secs(10);
        let mut a = GroupMember::join(coordinator.clone(), join("a", session))
            .await
            .unwrap();
        assert_eq!(a.assignment().partitions.len(), 4);
        let c = coordinator.clone();
        let b = tokio::spawn(async move { GroupMember::join(c, join("b", session)).await });
        within("a to hear of the rebalance", a.rebalance_needed()).await;
        a.rejoin().await.unwrap();
        let b = within("b's join", b).await.unwrap().unwrap();
        assert_eq!(a.assignment().partitions.len(), 2);
        assert_eq!(b.assignment().partitions.len(), 2);
        let p0 = TopicPartition::new("t", PartitionId(0));
        a.commit(vec![OffsetCommit::new(p0.clone(), Offset(9))])
            .await
            .unwrap();
        assert_eq!(
            coordinator.committed_offset("g", &p0).unwrap().offset,
            Offset(9)
        );

        drop(b);
        within("a to hear that b left", a.rebalance_needed()).await;
        let while_preparing = a.commit(vec![OffsetCommit::new(p0, Offset(10))]).await;
        assert!(
            while_preparing.is_ok(),
            "commits of the ending generation still count: {while_preparing:?}"
        );
        assert_eq!(a.rejoin().await.unwrap().partitions.len(), 4);
        a.leave().await.unwrap();
        assert_eq!(coordinator.describe_group("g").state, GroupState::Empty);
    }

    #[tokio::test]
    async fn a_join_given_up_midway_leaves_the_group() {
        let dir = tempfile::tempdir().unwrap();
        let clock = manual_clock();
        let coordinator = open_coordinator(dir.path(), &clock, &[("t", 4)]);
        let session = Duration::from_secs(10);
        let mut a = GroupMember::join(coordinator.clone(), join("a", session))
            .await
            .unwrap();
        let mut b = Box::pin(GroupMember::join(coordinator.clone(), join("b", session)));
        let first_poll = tokio::time::timeout(Duration::ZERO, &mut b).await;
        assert!(first_poll.is_err(), "b waits for a to rejoin");
        drop(b);
        // a may form one generation with the departing b, then one without it.
        let alone = within("a to own every partition again", async {
            loop {
                a.rebalance_needed().await;
                if a.rejoin().await.unwrap().partitions.len() == 4 {
                    break;
                }
            }
        });
        alone.await;
        assert_eq!(coordinator.describe_group("g").members.len(), 1);
    }

    #[tokio::test]
    async fn heartbeats_keep_a_quiet_member_in_the_group() {
        let dir = tempfile::tempdir().unwrap();
        let clock: Arc<dyn Clock> = Arc::new(SystemClock::new());
        let topics = Arc::new(StaticTopics::new(&[("t", 2)]));
        let coordinator = open_coordinator_with(dir.path(), clock, topics);
        let expiry = coordinator.spawn_expiry_task(Duration::from_millis(10));
        let session = Duration::from_secs(1);
        let mut a = GroupMember::join(coordinator.clone(), join("a", session))
            .await
            .unwrap();
        // Over many session timeouts, nothing may happen to the group.
        let quiet = tokio::time::timeout(Duration::from_millis(2500), a.rebalance_needed()).await;
        assert!(quiet.is_err(), "the member was expired despite heartbeats");
        // Without heartbeats (the member is forgotten, not dropped) the session runs out.
        let generation = a.assignment().generation;
        a.session.stop_heartbeat();
        a.session.member = None;
        within("the session to expire", a.rebalance_needed()).await;
        let status = coordinator.watch_group("g").unwrap();
        assert!(status.borrow().generation > generation);
        expiry.abort();
    }
}
