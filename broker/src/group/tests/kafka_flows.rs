//! Kafka clients: a client leader assigning in-process members, opaque protocols, and the
//! coordinator's refusals (session timeout limits, stale generations, foreign protocols).

use super::*;

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

    // Once the Kafka client leaves, the coordinator assigns the in-process member again.
    coordinator.leave_group("g", &kafka_id).await.unwrap();
    let alone = coordinator
        .join_consumer(ConsumerJoin {
            member_id: Some(assignment.member_id.clone()),
            ..consumer("g", "sink", &["t"])
        })
        .await
        .unwrap();
    assert_eq!(alone.generation, rejoined.generation.next());
    assert_eq!(
        alone.partitions,
        (0..3).map(|p| tp("t", p)).collect::<Vec<_>>()
    );
    assert_eq!(state_of(&coordinator, "g"), GroupState::Stable);
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

#[tokio::test]
async fn a_restarted_static_member_replaces_its_old_incarnation() {
    let (_dir, _clock, coordinator) = setup(&[("t", 2)]);
    let static_join = |member| JoinRequest {
        group_instance_id: Some("worker-1".into()),
        ..kafka_join("g", member, &["t"])
    };
    let first = coordinator.join_group(static_join(None)).await.unwrap();
    coordinator
        .sync_group(SyncRequest {
            group: "g".into(),
            member_id: first.member_id.clone(),
            generation: first.generation,
            assignments: Vec::new(),
        })
        .await
        .unwrap();
    // The client restarts without its member id; the group must not wait for the old one.
    let second = tokio::time::timeout(
        Duration::from_secs(5),
        coordinator.join_group(static_join(None)),
    )
    .await
    .expect("no wait for the old incarnation")
    .unwrap();
    assert_ne!(second.member_id, first.member_id);
    assert_eq!(second.leader, second.member_id);
    let description = coordinator.describe_group("g");
    assert_eq!(description.members.len(), 1);
    assert_eq!(
        description.members[0].group_instance_id.as_deref(),
        Some("worker-1")
    );
    let err = coordinator
        .heartbeat("g", &first.member_id, first.generation)
        .unwrap_err();
    assert!(matches!(err, Error::UnknownMember { .. }), "{err}");
}

#[tokio::test]
async fn new_kafka_clients_can_be_asked_to_rejoin_with_an_assigned_id() {
    let (_dir, clock, coordinator) = setup(&[("t", 2)]);
    let first_try = JoinRequest {
        new_member: NewMemberPolicy::RequireKnownId,
        ..kafka_join("g", None, &["t"])
    };
    let err = coordinator.join_group(first_try.clone()).await.unwrap_err();
    assert_eq!(super::kafka_error_code(&err), 79);
    let Error::MemberIdRequired { member, .. } = err else {
        unreachable!("checked above")
    };
    // An abandoned first try leaves no member behind.
    assert!(coordinator.describe_group("g").members.is_empty());
    let joined = coordinator
        .join_group(JoinRequest {
            member_id: Some(MemberId::from(member.as_str())),
            ..first_try.clone()
        })
        .await
        .unwrap();
    assert_eq!(joined.member_id.as_str(), member);
    assert_eq!(joined.leader, joined.member_id);

    // An id handed out but not used within the session timeout expires.
    let err = coordinator.join_group(first_try.clone()).await.unwrap_err();
    let Error::MemberIdRequired { member: late, .. } = err else {
        panic!("expected MEMBER_ID_REQUIRED, got {err}")
    };
    clock.advance(Duration::from_millis(10_001));
    coordinator.tick().await;
    let err = coordinator
        .join_group(JoinRequest {
            member_id: Some(MemberId::from(late.as_str())),
            ..first_try
        })
        .await
        .unwrap_err();
    assert!(matches!(err, Error::UnknownMember { .. }), "{err}");
}
