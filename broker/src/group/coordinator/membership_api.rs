//! The membership half of [`GroupCoordinator`]'s API: JoinGroup, SyncGroup, Heartbeat,
//! LeaveGroup, expiry, and the in-process consumer's `join_consumer`.

use std::sync::{Arc, Weak};
use std::time::Duration;

use super::{GroupCoordinator, Inner, duration_ms, unknown_member};
use crate::error::{Error, Result};
use crate::group::api::{
    ConsumerJoin, GroupAssignment, JoinRequest, JoinResponse, MemberKind, NewMemberPolicy,
    Protocol, SyncRequest, SyncResponse,
};
use crate::group::consumer_protocol::{
    CONSUMER_PROTOCOL_TYPE, ConsumerAssignment, ConsumerSubscription, RANGE_ASSIGNOR,
};
use crate::group::{GenerationId, MemberId, validate_group_id};

impl GroupCoordinator {
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

    /// Rebalances every group the coordinator assigns that subscribes to `topic`, after
    /// partitions were added to it (Kafka clients notice that themselves through metadata).
    /// Returns the groups that started rebalancing.
    pub async fn topic_partitions_changed(&self, topic: &str) -> Vec<String> {
        let rebalancing = {
            let ctx = self.ctx();
            let mut state = self.inner.state.lock();
            let groups: Vec<String> = state
                .groups
                .iter()
                .filter(|(_, entry)| entry.membership.assigns_topic(topic))
                .map(|(name, _)| name.clone())
                .collect();
            for name in &groups {
                if let Some(entry) = state.groups.get_mut(name) {
                    entry.membership.request_rebalance(ctx);
                }
                state.settle(name);
            }
            groups
        };
        self.flush_outbox().await;
        rebalancing
    }

    /// Expires members whose session ran out and completes rebalances whose timeout
    /// passed; returns the expired members. [`spawn_expiry_task`](Self::spawn_expiry_task)
    /// calls it periodically; tests call it after moving a [`ManualClock`](crate::group::ManualClock).
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
    /// heartbeat reports a rebalance (or [`watch_group`](Self::watch_group) shows one); a
    /// member id the group no longer knows is replaced by a fresh one.
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
                    new_member: NewMemberPolicy::JoinAtOnce,
                })
                .await;
            let joined = match joined {
                Ok(joined) => joined,
                // Our membership ended (session expired, or the broker restarted): join
                // afresh, as Kafka consumers do on UNKNOWN_MEMBER_ID.
                Err(Error::UnknownMember { .. }) if member_id.is_some() => {
                    member_id = None;
                    continue;
                }
                Err(other) => return Err(other),
            };
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
                Err(Error::UnknownMember { .. }) => member_id = None,
                Err(other) => return Err(other),
            }
        }
    }
}
