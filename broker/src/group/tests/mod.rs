//! Coordinator flows end to end within the module, over a file-backed log and a manual
//! clock: in-process consumers, Kafka clients, and offsets. This file holds the shared
//! helpers.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use super::consumer_protocol::{
    CONSUMER_PROTOCOL_TYPE, ConsumerAssignment, ConsumerSubscription, RANGE_ASSIGNOR,
};
use super::records::GroupRecord;
use super::test_support::{
    FileGroupLog, FlakyLog, StaticTopics, manual_clock, open_coordinator, open_coordinator_with,
    wait_until,
};
use super::*;
use crate::error::Error;
use crate::types::{Offset, PartitionId};

mod consumer_flows;
mod kafka_flows;
mod offset_flows;

const SESSION: Duration = Duration::from_secs(10);
const REBALANCE: Duration = Duration::from_secs(30);

fn consumer(group: &str, client: &str, topics: &[&str]) -> ConsumerJoin {
    ConsumerJoin {
        session_timeout: SESSION,
        rebalance_timeout: REBALANCE,
        ..ConsumerJoin::new(
            group,
            client,
            topics.iter().map(|t| t.to_string()).collect(),
        )
    }
}

fn rejoin(join: &ConsumerJoin, assignment: &GroupAssignment) -> ConsumerJoin {
    ConsumerJoin {
        member_id: Some(assignment.member_id.clone()),
        ..join.clone()
    }
}

/// A coordinator over a fresh file log on a manual clock; keep the directory alive.
fn setup(topics: &[(&str, i32)]) -> (tempfile::TempDir, Arc<ManualClock>, GroupCoordinator) {
    let dir = tempfile::tempdir().unwrap();
    let clock = manual_clock();
    let coordinator = open_coordinator(dir.path(), &clock, topics);
    (dir, clock, coordinator)
}

fn tp(topic: &str, partition: i32) -> TopicPartition {
    TopicPartition::new(topic, PartitionId(partition))
}

fn partitions(assignments: &[&GroupAssignment]) -> Vec<TopicPartition> {
    let mut all: Vec<TopicPartition> = assignments
        .iter()
        .flat_map(|a| a.partitions.iter().cloned())
        .collect();
    all.sort();
    all
}

fn state_of(coordinator: &GroupCoordinator, group: &str) -> GroupState {
    coordinator.describe_group(group).state
}

/// Starts a consumer's join in the background and waits until the group is rebalancing.
async fn join_in_background(
    coordinator: &GroupCoordinator,
    join: ConsumerJoin,
) -> tokio::task::JoinHandle<Result<GroupAssignment>> {
    let group = join.group.clone();
    let c = coordinator.clone();
    let handle = tokio::spawn(async move { c.join_consumer(join).await });
    wait_until("the group to start rebalancing", || {
        state_of(coordinator, &group) == GroupState::PreparingRebalance
    })
    .await;
    handle
}

/// Two consumers in `g` over topic `t` (4 partitions), Stable at generation 2.
async fn two_consumers(
    coordinator: &GroupCoordinator,
) -> (ConsumerJoin, GroupAssignment, ConsumerJoin, GroupAssignment) {
    let join_a = consumer("g", "a", &["t"]);
    let join_b = consumer("g", "b", &["t"]);
    let a = coordinator.join_consumer(join_a.clone()).await.unwrap();
    assert_eq!(a.generation, GenerationId(1));
    assert_eq!(a.partitions, (0..4).map(|p| tp("t", p)).collect::<Vec<_>>());
    let pending_b = join_in_background(coordinator, join_b.clone()).await;
    let err = coordinator
        .heartbeat("g", &a.member_id, a.generation)
        .unwrap_err();
    assert!(matches!(err, Error::RebalanceInProgress { .. }), "{err}");
    let a = coordinator
        .join_consumer(rejoin(&join_a, &a))
        .await
        .unwrap();
    let b = pending_b.await.unwrap().unwrap();
    (join_a, a, join_b, b)
}

fn kafka_join(group: &str, member: Option<MemberId>, topics: &[&str]) -> JoinRequest {
    JoinRequest {
        group: group.to_owned(),
        member_id: member,
        group_instance_id: None,
        client_id: "rdkafka".to_owned(),
        client_host: "/127.0.0.1".to_owned(),
        session_timeout_ms: 10_000,
        rebalance_timeout_ms: 30_000,
        protocol_type: CONSUMER_PROTOCOL_TYPE.to_owned(),
        protocols: vec![Protocol {
            name: RANGE_ASSIGNOR.to_owned(),
            metadata: ConsumerSubscription {
                topics: topics.iter().map(|t| t.to_string()).collect(),
                user_data: None,
            }
            .encode(),
        }],
        kind: MemberKind::KafkaClient,
        new_member: NewMemberPolicy::JoinAtOnce,
    }
}

async fn lone_consumer(coordinator: &GroupCoordinator) -> GroupAssignment {
    coordinator
        .join_consumer(consumer("g", "a", &["t"]))
        .await
        .unwrap()
}

/// Commits to group `g` as `member` in its generation.
async fn commit_as(
    coordinator: &GroupCoordinator,
    member: &GroupAssignment,
    offsets: Vec<OffsetCommit>,
) -> Result<()> {
    coordinator
        .commit_offsets("g", Some(&member.member_id), member.generation, offsets)
        .await
}

fn commit(topic: &str, partition: i32, offset: i64) -> OffsetCommit {
    OffsetCommit::new(tp(topic, partition), Offset(offset))
}
