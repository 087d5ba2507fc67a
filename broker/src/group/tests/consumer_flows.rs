//! In-process consumers: splitting partitions, rebalances on join, leave, session expiry and
//! rebalance timeout, the background expiry task, and rebalance notifications.

use super::*;

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

#[tokio::test]
async fn watchers_learn_when_a_rebalance_starts_and_ends() {
    let (_dir, _clock, coordinator) = setup(&[("t", 2)]);
    assert!(coordinator.watch_group("g").is_none());
    let join_a = consumer("g", "a", &["t"]);
    let a = coordinator.join_consumer(join_a.clone()).await.unwrap();
    let mut watch = coordinator.watch_group("g").unwrap();
    let stable_at = |generation| GroupStatus {
        state: GroupState::Stable,
        generation,
    };
    assert_eq!(*watch.borrow_and_update(), stable_at(a.generation));
    let pending_b = join_in_background(&coordinator, consumer("g", "b", &["t"])).await;
    tokio::time::timeout(Duration::from_secs(5), watch.changed())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        watch.borrow_and_update().state,
        GroupState::PreparingRebalance
    );
    let a = coordinator
        .join_consumer(rejoin(&join_a, &a))
        .await
        .unwrap();
    pending_b.await.unwrap().unwrap();
    tokio::time::timeout(Duration::from_secs(5), watch.changed())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(*watch.borrow_and_update(), stable_at(a.generation));
}

#[tokio::test]
async fn added_partitions_rebalance_the_groups_that_read_them() {
    let dir = tempfile::tempdir().unwrap();
    let clock = manual_clock();
    let topics = Arc::new(StaticTopics::new(&[("t", 2), ("other", 1)]));
    let coordinator = open_coordinator_with(dir.path(), clock, Arc::clone(&topics));
    let join_a = consumer("g", "a", &["t"]);
    let a = coordinator.join_consumer(join_a.clone()).await.unwrap();
    let bystander = coordinator
        .join_consumer(consumer("h", "x", &["other"]))
        .await
        .unwrap();
    assert_eq!(a.partitions.len(), 2);
    topics.set("t", 3);
    let rebalancing = coordinator.topic_partitions_changed("t").await;
    assert_eq!(rebalancing, vec!["g".to_string()]);
    let err = coordinator
        .heartbeat("g", &a.member_id, a.generation)
        .unwrap_err();
    assert!(matches!(err, Error::RebalanceInProgress { .. }));
    coordinator
        .heartbeat("h", &bystander.member_id, bystander.generation)
        .unwrap();
    let a = coordinator
        .join_consumer(rejoin(&join_a, &a))
        .await
        .unwrap();
    assert_eq!(a.partitions.len(), 3);
}

#[tokio::test]
async fn an_expired_consumer_rejoins_with_a_fresh_member_id() {
    let (_dir, clock, coordinator) = setup(&[("t", 2)]);
    let join_a = consumer("g", "a", &["t"]);
    let a = coordinator.join_consumer(join_a.clone()).await.unwrap();
    clock.advance(SESSION + Duration::from_millis(1));
    assert_eq!(coordinator.tick().await.len(), 1);
    let again = coordinator
        .join_consumer(rejoin(&join_a, &a))
        .await
        .unwrap();
    assert_ne!(again.member_id, a.member_id);
    assert_eq!(again.partitions.len(), 2);
    assert!(again.generation > a.generation);
}
