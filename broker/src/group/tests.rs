//! Coordinator flows end to end within the module: in-process consumers splitting
//! partitions, rebalances on join/leave/expiry, a Kafka-client leader, offset commits with
//! generation checks, durability across a reopen, deletion and lag.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use super::consumer_protocol::{
    CONSUMER_PROTOCOL_TYPE, ConsumerAssignment, ConsumerSubscription, RANGE_ASSIGNOR,
};
use super::records::GroupRecord;
use super::test_support::{FileGroupLog, manual_clock, open_coordinator, wait_until};
use super::*;
use crate::error::Error;
use crate::types::{Offset, PartitionId};

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

#[tokio::test]
async fn two_in_process_consumers_split_partitions() {
    let (_dir, _clock, coordinator) = setup(&[("t", 4)]);
    let (_, a, _, b) = two_consumers(&coordinator).await;
    assert_eq!(a.generation, GenerationId(2));
    assert_eq!(b.generation, GenerationId(2));
    assert_eq!(a.partitions, vec![tp("t", 0), tp("t", 1)]);
    assert_eq!(b.partitions, vec![tp("t", 2), tp("t", 3)]);
    assert_eq!(state_of(&coordinator, "g"), GroupState::Stable);
    coordinator
        .heartbeat("g", &a.member_id, a.generation)
        .unwrap();
    coordinator
        .heartbeat("g", &b.member_id, b.generation)
        .unwrap();
}

#[tokio::test]
async fn a_third_consumer_triggers_a_rebalance() {
    let (_dir, _clock, coordinator) = setup(&[("t", 4)]);
    let (join_a, a, join_b, b) = two_consumers(&coordinator).await;
    let pending_c = join_in_background(&coordinator, consumer("g", "c", &["t"])).await;
    for (join, member) in [(&join_a, &a), (&join_b, &b)] {
        let err = coordinator
            .heartbeat("g", &member.member_id, member.generation)
            .unwrap_err();
        assert!(matches!(err, Error::RebalanceInProgress { .. }));
        let c = coordinator.clone();
        let join = rejoin(join, member);
        tokio::spawn(async move { c.join_consumer(join).await });
    }
    let c = pending_c.await.unwrap().unwrap();
    assert_eq!(c.generation, GenerationId(3));
    let description = coordinator.describe_group("g");
    assert_eq!(description.state, GroupState::Stable);
    let owned: Vec<Vec<TopicPartition>> = description
        .members
        .iter()
        .map(|m| {
            ConsumerAssignment::decode(&m.assignment)
                .unwrap()
                .partitions
        })
        .collect();
    // Members sort by id (client id first): a gets the extra partition.
    assert_eq!(
        owned,
        vec![
            vec![tp("t", 0), tp("t", 1)],
            vec![tp("t", 2)],
            vec![tp("t", 3)]
        ]
    );
    assert_eq!(c.partitions, vec![tp("t", 3)]);
}

#[tokio::test]
async fn leaving_gives_partitions_to_the_others() {
    let (_dir, _clock, coordinator) = setup(&[("t", 4)]);
    let (join_a, a, _, b) = two_consumers(&coordinator).await;
    coordinator.leave_group("g", &b.member_id).await.unwrap();
    let err = coordinator
        .heartbeat("g", &b.member_id, b.generation)
        .unwrap_err();
    assert!(matches!(err, Error::UnknownMember { .. }), "{err}");
    assert_eq!(super::kafka_error_code(&err), 25);
    let a = coordinator
        .join_consumer(rejoin(&join_a, &a))
        .await
        .unwrap();
    assert_eq!(a.generation, GenerationId(3));
    assert_eq!(a.partitions.len(), 4);
    coordinator.leave_group("g", &a.member_id).await.unwrap();
    let description = coordinator.describe_group("g");
    assert_eq!(description.state, GroupState::Empty);
    assert_eq!(description.generation, GenerationId(4));
}

#[tokio::test]
async fn session_timeout_removes_a_member_and_rebalances() {
    let (_dir, clock, coordinator) = setup(&[("t", 4)]);
    let (join_a, a, _, b) = two_consumers(&coordinator).await;
    clock.advance(Duration::from_secs(6));
    coordinator
        .heartbeat("g", &a.member_id, a.generation)
        .unwrap();
    assert!(coordinator.tick().await.is_empty(), "nobody expired yet");
    clock.advance(Duration::from_secs(6));
    let expired = coordinator.tick().await;
    assert_eq!(expired, vec![("g".to_string(), b.member_id.clone())]);
    assert_eq!(state_of(&coordinator, "g"), GroupState::PreparingRebalance);
    let err = coordinator
        .heartbeat("g", &a.member_id, a.generation)
        .unwrap_err();
    assert!(matches!(err, Error::RebalanceInProgress { .. }));
    let a = coordinator
        .join_consumer(rejoin(&join_a, &a))
        .await
        .unwrap();
    assert_eq!(a.generation, GenerationId(3));
    assert_eq!(a.partitions.len(), 4);
}

#[tokio::test]
async fn rebalance_timeout_drops_members_that_do_not_rejoin() {
    let (_dir, clock, coordinator) = setup(&[("t", 4)]);
    let (join_a, a, _, b) = two_consumers(&coordinator).await;
    let pending_c = join_in_background(&coordinator, consumer("g", "c", &["t"])).await;
    let mut pending_a = Box::pin(coordinator.join_consumer(rejoin(&join_a, &a)));
    let first_poll = tokio::time::timeout(Duration::ZERO, &mut pending_a).await;
    assert!(first_poll.is_err(), "a's rejoin waits for the rebalance");
    // b keeps heartbeating but never rejoins.
    for _ in 0..4 {
        clock.advance(Duration::from_secs(8));
        let err = coordinator
            .heartbeat("g", &b.member_id, b.generation)
            .unwrap_err();
        assert!(matches!(err, Error::RebalanceInProgress { .. }));
        coordinator.tick().await;
    }
    let a = pending_a.await.unwrap();
    let c = pending_c.await.unwrap().unwrap();
    assert_eq!(a.generation, GenerationId(3));
    assert_eq!(partitions(&[&a, &c]).len(), 4);
    let err = coordinator
        .heartbeat("g", &b.member_id, b.generation)
        .unwrap_err();
    assert!(matches!(err, Error::UnknownMember { .. }), "{err}");
}

#[tokio::test]
async fn expiry_task_expires_sessions_in_the_background() {
    let (_dir, clock, coordinator) = setup(&[("t", 2)]);
    lone_consumer(&coordinator).await;
    let task = coordinator.spawn_expiry_task(Duration::from_millis(5));
    clock.advance(SESSION + Duration::from_millis(1));
    wait_until("the expiry task to empty the group", || {
        state_of(&coordinator, "g") == GroupState::Empty
    })
    .await;
    task.abort();
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
    }
}

#[tokio::test]
async fn a_kafka_client_leads_and_in_process_members_follow_its_assignment() {
    let (_dir, _clock, coordinator) = setup(&[("t", 3)]);
    let joined = coordinator
        .join_group(kafka_join("g", None, &["t"]))
        .await
        .unwrap();
    assert_eq!(joined.leader, joined.member_id);
    assert_eq!(joined.members.len(), 1, "the leader sees every member");
    assert_eq!(state_of(&coordinator, "g"), GroupState::CompletingRebalance);
    let kafka_id = joined.member_id.clone();
    let everything = ConsumerAssignment {
        partitions: (0..3).map(|p| tp("t", p)).collect(),
        user_data: None,
    }
    .encode();
    let synced = coordinator
        .sync_group(SyncRequest {
            group: "g".into(),
            member_id: kafka_id.clone(),
            generation: joined.generation,
            assignments: vec![(kafka_id.clone(), everything.clone())],
        })
        .await
        .unwrap();
    assert_eq!(synced.assignment, everything);
    assert_eq!(state_of(&coordinator, "g"), GroupState::Stable);

    // An in-process consumer joins; the Kafka client learns from its heartbeat and rejoins.
    let pending = join_in_background(&coordinator, consumer("g", "sink", &["t"])).await;
    let err = coordinator
        .heartbeat("g", &kafka_id, joined.generation)
        .unwrap_err();
    assert_eq!(super::kafka_error_code(&err), 27);
    let rejoined = coordinator
        .join_group(kafka_join("g", Some(kafka_id.clone()), &["t"]))
        .await
        .unwrap();
    assert_eq!(rejoined.leader, kafka_id, "a Kafka client leads");
    assert_eq!(rejoined.members.len(), 2);
    let in_process = rejoined
        .members
        .iter()
        .find(|m| m.member_id != kafka_id)
        .unwrap();
    let subscription = ConsumerSubscription::decode(&in_process.metadata).unwrap();
    assert_eq!(subscription.topics, vec!["t".to_string()]);
    // The in-process member waits for the leader's SyncGroup.
    assert_eq!(state_of(&coordinator, "g"), GroupState::CompletingRebalance);
    assert!(!pending.is_finished());
    let mine = ConsumerAssignment {
        partitions: vec![tp("t", 0)],
        user_data: None,
    };
    let theirs = ConsumerAssignment {
        partitions: vec![tp("t", 1), tp("t", 2)],
        user_data: None,
    };
    coordinator
        .sync_group(SyncRequest {
            group: "g".into(),
            member_id: kafka_id.clone(),
            generation: rejoined.generation,
            assignments: vec![
                (kafka_id.clone(), mine.encode()),
                (in_process.member_id.clone(), theirs.encode()),
            ],
        })
        .await
        .unwrap();
    let assignment = pending.await.unwrap().unwrap();
    assert_eq!(assignment.generation, rejoined.generation);
    assert_eq!(assignment.partitions, theirs.partitions);
}

#[tokio::test]
async fn opaque_protocols_pass_through_and_followers_wait_for_the_leader() {
    let (_dir, _clock, coordinator) = setup(&[]);
    let connect_join = |member: Option<MemberId>| JoinRequest {
        protocol_type: "connect".into(),
        protocols: vec![Protocol {
            name: "sessioned".into(),
            metadata: b"worker-config".to_vec(),
        }],
        ..kafka_join("workers", member, &[])
    };
    let first = coordinator.join_group(connect_join(None)).await.unwrap();
    coordinator
        .sync_group(SyncRequest {
            group: "workers".into(),
            member_id: first.member_id.clone(),
            generation: first.generation,
            assignments: vec![(first.member_id.clone(), b"all".to_vec())],
        })
        .await
        .unwrap();
    let c = coordinator.clone();
    let second = tokio::spawn(async move { c.join_group(connect_join(None)).await });
    wait_until("the second worker to start a rebalance", || {
        state_of(&coordinator, "workers") == GroupState::PreparingRebalance
    })
    .await;
    let first = coordinator
        .join_group(connect_join(Some(first.member_id)))
        .await
        .unwrap();
    let second = second.await.unwrap().unwrap();
    assert_eq!(first.protocol_name.as_deref(), Some("sessioned"));
    assert!(second.members.is_empty(), "followers do not see members");
    let follower_id = second.member_id.clone();
    let mut follower = Box::pin(coordinator.sync_group(SyncRequest {
        group: "workers".into(),
        member_id: second.member_id,
        generation: second.generation,
        assignments: Vec::new(),
    }));
    let first_poll = tokio::time::timeout(Duration::ZERO, &mut follower).await;
    assert!(first_poll.is_err(), "the follower waits for the leader");
    coordinator
        .sync_group(SyncRequest {
            group: "workers".into(),
            member_id: first.member_id.clone(),
            generation: first.generation,
            assignments: vec![
                (first.member_id.clone(), b"left".to_vec()),
                (follower_id, b"right".to_vec()),
            ],
        })
        .await
        .unwrap();
    assert_eq!(follower.await.unwrap().assignment, b"right".to_vec());

    // A consumer cannot join a group of Connect workers.
    let err = coordinator
        .join_group(kafka_join("workers", None, &["t"]))
        .await
        .unwrap_err();
    assert_eq!(super::kafka_error_code(&err), 23, "{err}");
}

#[tokio::test]
async fn session_timeouts_outside_the_limits_are_refused() {
    let (_dir, _clock, coordinator) = setup(&[]);
    let request = JoinRequest {
        session_timeout_ms: 10,
        ..kafka_join("g", None, &["t"])
    };
    let err = coordinator.join_group(request).await.unwrap_err();
    assert_eq!(super::kafka_error_code(&err), 26);
    assert!(err.to_string().contains("10 ms"), "{err}");
    assert_eq!(state_of(&coordinator, "g"), GroupState::Dead);
}

#[tokio::test]
async fn heartbeat_with_an_old_generation_is_refused() {
    let (_dir, _clock, coordinator) = setup(&[("t", 4)]);
    let (_, a, _, _) = two_consumers(&coordinator).await;
    let err = coordinator
        .heartbeat("g", &a.member_id, GenerationId(1))
        .unwrap_err();
    assert!(matches!(err, Error::IllegalGeneration { .. }), "{err}");
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

#[tokio::test]
async fn commits_from_a_stale_generation_are_rejected() {
    let (_dir, _clock, coordinator) = setup(&[("t", 4)]);
    let (_, a, _, _) = two_consumers(&coordinator).await;
    let err = coordinator
        .commit_offsets(
            "g",
            Some(&a.member_id),
            GenerationId(1),
            vec![commit("t", 0, 5)],
        )
        .await
        .unwrap_err();
    assert_eq!(super::kafka_error_code(&err), 22);
    let message = err.to_string();
    assert!(
        message.contains("generation 1") && message.contains("generation 2"),
        "{message}"
    );
    assert!(coordinator.committed_offsets("g").is_empty());

    commit_as(&coordinator, &a, vec![commit("t", 0, 5)])
        .await
        .unwrap();
    assert_eq!(
        coordinator
            .committed_offset("g", &tp("t", 0))
            .unwrap()
            .offset,
        Offset(5)
    );
    // A consumer outside the group cannot commit while the group has members.
    let err = coordinator
        .commit_offsets("g", None, GenerationId::NONE, vec![commit("t", 0, 9)])
        .await
        .unwrap_err();
    assert!(matches!(err, Error::UnknownMember { .. }), "{err}");
}

#[tokio::test]
async fn commits_while_completing_a_rebalance_are_refused() {
    let (_dir, _clock, coordinator) = setup(&[("t", 1)]);
    let joined = coordinator
        .join_group(kafka_join("g", None, &["t"]))
        .await
        .unwrap();
    let err = coordinator
        .commit_offsets(
            "g",
            Some(&joined.member_id),
            joined.generation,
            vec![commit("t", 0, 1)],
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::RebalanceInProgress { .. }), "{err}");
}

#[tokio::test]
async fn oversized_commit_metadata_is_refused() {
    let (_dir, _clock, coordinator) = setup(&[]);
    let mut big = commit("t", 0, 1);
    big.metadata = "x".repeat(5000);
    let err = coordinator
        .commit_offsets("g", None, GenerationId::NONE, vec![big])
        .await
        .unwrap_err();
    assert_eq!(super::kafka_error_code(&err), 12);
    assert!(err.to_string().contains("t-0"), "{err}");
}

#[tokio::test]
async fn committed_offsets_and_generations_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let clock = manual_clock();
    {
        let coordinator = open_coordinator(dir.path(), &clock, &[("t", 4)]);
        let (_, a, _, b) = two_consumers(&coordinator).await;
        let mut with_metadata = commit("t", 0, 10);
        with_metadata.metadata = "sink-file-0001".into();
        with_metadata.leader_epoch = Some(3);
        commit_as(&coordinator, &a, vec![with_metadata])
            .await
            .unwrap();
        commit_as(
            &coordinator,
            &b,
            vec![commit("t", 2, 20), commit("t", 3, 30)],
        )
        .await
        .unwrap();
        // A later commit of the same partition wins.
        commit_as(&coordinator, &b, vec![commit("t", 2, 21)])
            .await
            .unwrap();
        coordinator
            .commit_offsets("solo", None, GenerationId::NONE, vec![commit("t", 1, 7)])
            .await
            .unwrap();
    }
    let coordinator = open_coordinator(dir.path(), &clock, &[("t", 4)]);
    let offsets: Vec<(String, i64)> = coordinator
        .committed_offsets("g")
        .into_iter()
        .map(|(p, c)| (p.to_string(), c.offset.0))
        .collect();
    assert_eq!(
        offsets,
        vec![("t-0".into(), 10), ("t-2".into(), 21), ("t-3".into(), 30)]
    );
    let first = coordinator.committed_offset("g", &tp("t", 0)).unwrap();
    assert_eq!(first.metadata, "sink-file-0001");
    assert_eq!(first.leader_epoch, Some(3));
    assert_eq!(first.commit_timestamp_ms, clock.now().0);
    assert_eq!(
        coordinator
            .committed_offset("solo", &tp("t", 1))
            .unwrap()
            .offset,
        Offset(7)
    );
    // Members are not restored, but the generation carries on.
    let description = coordinator.describe_group("g");
    assert_eq!(description.state, GroupState::Empty);
    assert_eq!(description.generation, GenerationId(2));
    assert_eq!(
        description.protocol_type.as_deref(),
        Some(CONSUMER_PROTOCOL_TYPE)
    );
    let a = lone_consumer(&coordinator).await;
    assert_eq!(a.generation, GenerationId(3));
    let groups: Vec<String> = coordinator
        .list_groups()
        .into_iter()
        .map(|g| g.group)
        .collect();
    assert_eq!(groups, vec!["g".to_string(), "solo".to_string()]);
}

#[tokio::test]
async fn group_snapshots_are_written_in_kafka_format() {
    let (dir, _clock, coordinator) = setup(&[("t", 4)]);
    let (_, a, _, b) = two_consumers(&coordinator).await;
    let log = FileGroupLog::open(&dir.path().join("__consumer_offsets.log")).unwrap();
    let snapshots: Vec<records::GroupMetadataValue> = log
        .replay()
        .unwrap()
        .iter()
        .filter_map(
            |r| match GroupRecord::decode(&r.key, r.value.as_deref()).unwrap() {
                GroupRecord::GroupMetadata { value, .. } => value,
                GroupRecord::OffsetCommit { .. } => None,
            },
        )
        .collect();
    let last = snapshots.last().expect("a snapshot per generation");
    assert_eq!(last.generation, GenerationId(2));
    assert_eq!(last.protocol.as_deref(), Some(RANGE_ASSIGNOR));
    let members: BTreeSet<&MemberId> = last.members.iter().map(|m| &m.member_id).collect();
    assert_eq!(members, [&a.member_id, &b.member_id].into_iter().collect());
    let assigned: Vec<TopicPartition> = last
        .members
        .iter()
        .flat_map(|m| {
            ConsumerAssignment::decode(&m.assignment)
                .unwrap()
                .partitions
        })
        .collect();
    assert_eq!(assigned.len(), 4);
}

#[tokio::test]
async fn deleting_a_group_writes_tombstones() {
    let dir = tempfile::tempdir().unwrap();
    let clock = manual_clock();
    {
        let coordinator = open_coordinator(dir.path(), &clock, &[("t", 2)]);
        let a = lone_consumer(&coordinator).await;
        commit_as(&coordinator, &a, vec![commit("t", 0, 3)])
            .await
            .unwrap();
        let err = coordinator.delete_group("g").await.unwrap_err();
        assert_eq!(super::kafka_error_code(&err), 68, "{err}");
        coordinator.leave_group("g", &a.member_id).await.unwrap();
        coordinator.delete_group("g").await.unwrap();
        assert_eq!(state_of(&coordinator, "g"), GroupState::Dead);
        let err = coordinator.delete_group("g").await.unwrap_err();
        assert_eq!(super::kafka_error_code(&err), 69, "{err}");
    }
    let log = FileGroupLog::open(&dir.path().join("__consumer_offsets.log")).unwrap();
    let tombstones = log
        .replay()
        .unwrap()
        .iter()
        .filter(|r| r.value.is_none())
        .count();
    assert_eq!(tombstones, 2, "one for the offset, one for the group");
    let coordinator = open_coordinator(dir.path(), &clock, &[("t", 2)]);
    assert!(coordinator.committed_offsets("g").is_empty());
    assert!(coordinator.list_groups().is_empty());
}

#[tokio::test]
async fn lag_follows_commits_and_assignments() {
    let (_dir, _clock, coordinator) = setup(&[("t", 2)]);
    let a = lone_consumer(&coordinator).await;
    commit_as(&coordinator, &a, vec![commit("t", 0, 70)])
        .await
        .unwrap();
    let ends = |p: &TopicPartition| Some(Offset(100 + i64::from(p.partition.0)));
    let lag = coordinator.lag("g", &ends).unwrap();
    assert_eq!(lag.len(), 2);
    assert_eq!(lag[0].lag, Some(30));
    assert_eq!(lag[0].owner.as_ref(), Some(&a.member_id));
    assert_eq!(lag[1].committed, None);
    assert_eq!(lag[1].log_end, Some(Offset(101)));
    assert_eq!(lag[1].lag, None);
    let err = coordinator.lag("nobody", &ends).unwrap_err();
    assert!(matches!(err, Error::GroupNotFound { .. }));
}

#[tokio::test]
async fn a_corrupt_log_record_fails_the_open_with_its_position() {
    let dir = tempfile::tempdir().unwrap();
    let log = FileGroupLog::open(&dir.path().join("__consumer_offsets.log")).unwrap();
    log.append(vec![GroupLogRecord {
        key: vec![0, 1, 0],
        value: None,
    }])
    .unwrap();
    let err = GroupCoordinator::open(
        std::sync::Arc::new(log),
        std::sync::Arc::new(test_support::StaticTopics::new(&[])),
        std::sync::Arc::new(SystemClock::new()),
        GroupConfig::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("record #0"), "{err}");
    let cause = std::error::Error::source(&err).unwrap().to_string();
    assert!(cause.contains("__consumer_offsets key"), "{cause}");
}
