//! Offsets: generation checks on commit, durability across a reopen, snapshots in Kafka's
//! format, deletion with tombstones, lag, and a corrupt log.

use super::*;

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

fn flaky_coordinator(dir: &std::path::Path) -> (Arc<FlakyLog>, GroupCoordinator) {
    let log = Arc::new(FlakyLog::open(&dir.join("__consumer_offsets.log")));
    let coordinator = GroupCoordinator::open(
        Arc::clone(&log) as Arc<dyn GroupLog>,
        Arc::new(StaticTopics::new(&[("t", 1)])),
        manual_clock(),
        GroupConfig::default(),
    )
    .unwrap();
    (log, coordinator)
}

#[tokio::test]
async fn concurrent_commits_share_appends() {
    let dir = tempfile::tempdir().unwrap();
    let (log, coordinator) = flaky_coordinator(dir.path());
    let commits: Vec<_> = (0..64)
        .map(|i| {
            let c = coordinator.clone();
            tokio::spawn(async move {
                c.commit_offsets(
                    &format!("g{i}"),
                    None,
                    GenerationId::NONE,
                    vec![commit("t", 0, i)],
                )
                .await
            })
        })
        .collect();
    for commit in commits {
        commit.await.unwrap().unwrap();
    }
    assert!(
        log.appends() < 64,
        "{} appends for 64 commits",
        log.appends()
    );
    for i in 0..64 {
        let committed = coordinator
            .committed_offset(&format!("g{i}"), &tp("t", 0))
            .unwrap();
        assert_eq!(committed.offset, Offset(i));
    }
}

#[tokio::test]
async fn a_failed_append_commits_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (log, coordinator) = flaky_coordinator(dir.path());
    log.set_failing(true);
    let err = coordinator
        .commit_offsets("g", None, GenerationId::NONE, vec![commit("t", 0, 5)])
        .await
        .unwrap_err();
    assert!(matches!(err, Error::GroupLogWrite { .. }), "{err}");
    assert_eq!(super::kafka_error_code(&err), 15, "clients retry");
    let cause = std::error::Error::source(&err).unwrap().to_string();
    assert!(cause.contains("disk full"), "{cause}");
    assert!(coordinator.committed_offsets("g").is_empty());
    log.set_failing(false);
    coordinator
        .commit_offsets("g", None, GenerationId::NONE, vec![commit("t", 0, 6)])
        .await
        .unwrap();
    assert_eq!(
        coordinator
            .committed_offset("g", &tp("t", 0))
            .unwrap()
            .offset,
        Offset(6)
    );
}
