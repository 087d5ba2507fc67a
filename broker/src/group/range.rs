//! Kafka's RangeAssignor, computed by the coordinator for groups whose members are all
//! in-process: for each topic, its partitions in order are split into contiguous ranges over
//! the members subscribed to it, sorted by member id; the first `partitions % members`
//! members get one partition more.

use std::collections::{BTreeMap, BTreeSet};

use super::{MemberId, TopicPartition};
use crate::types::PartitionId;

/// Assigns partitions to members. `subscriptions` maps each member to its topics;
/// `partition_count` says how many partitions a topic has (`None`: the topic does not exist,
/// so nobody gets any of it). Every member appears in the result, possibly with nothing;
/// each member's partitions are ordered by topic, then partition.
pub fn range_assign(
    subscriptions: &BTreeMap<MemberId, Vec<String>>,
    partition_count: impl Fn(&str) -> Option<i32>,
) -> BTreeMap<MemberId, Vec<TopicPartition>> {
    let mut members_by_topic: BTreeMap<&str, BTreeSet<&MemberId>> = BTreeMap::new();
    for (member, topics) in subscriptions {
        for topic in topics {
            members_by_topic.entry(topic).or_default().insert(member);
        }
    }
    let mut assignment: BTreeMap<MemberId, Vec<TopicPartition>> = subscriptions
        .keys()
        .map(|member| (member.clone(), Vec::new()))
        .collect();
    for (topic, members) in members_by_topic {
        let partitions = partition_count(topic).unwrap_or(0).max(0);
        let member_count = members.len() as i32;
        let per_member = partitions / member_count;
        let with_extra = partitions % member_count;
        for (index, member) in members.into_iter().enumerate() {
            let index = index as i32;
            let start = per_member * index + index.min(with_extra);
            let len = per_member + i32::from(index < with_extra);
            let owned = assignment
                .get_mut(member)
                .expect("every member has an entry");
            owned.extend((start..start + len).map(|p| TopicPartition::new(topic, PartitionId(p))));
        }
    }
    assignment
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tp(topic: &str, partition: i32) -> TopicPartition {
        TopicPartition::new(topic, PartitionId(partition))
    }

    struct Case {
        name: &'static str,
        topics: &'static [(&'static str, i32)],
        members: &'static [(&'static str, &'static [&'static str])],
        expected: &'static [(&'static str, &'static [(&'static str, i32)])],
    }

    const CASES: &[Case] = &[
        Case {
            name: "one member, no topics",
            topics: &[],
            members: &[("c1", &[])],
            expected: &[("c1", &[])],
        },
        Case {
            name: "one member, topic does not exist",
            topics: &[],
            members: &[("c1", &["t1"])],
            expected: &[("c1", &[])],
        },
        Case {
            name: "one member, one topic",
            topics: &[("t1", 3)],
            members: &[("c1", &["t1"])],
            expected: &[("c1", &[("t1", 0), ("t1", 1), ("t1", 2)])],
        },
        Case {
            name: "only subscribed topics",
            topics: &[("t1", 3), ("t2", 1)],
            members: &[("c1", &["t1"])],
            expected: &[("c1", &[("t1", 0), ("t1", 1), ("t1", 2)])],
        },
        Case {
            name: "two members, one partition: the first by id gets it",
            topics: &[("t1", 1)],
            members: &[("c2", &["t1"]), ("c1", &["t1"])],
            expected: &[("c1", &[("t1", 0)]), ("c2", &[])],
        },
        Case {
            name: "two members, two partitions",
            topics: &[("t1", 2)],
            members: &[("c1", &["t1"]), ("c2", &["t1"])],
            expected: &[("c1", &[("t1", 0)]), ("c2", &[("t1", 1)])],
        },
        // Kafka's RangeAssignor javadoc: two consumers, topics t0 and t1 of three partitions.
        Case {
            name: "kafka javadoc example",
            topics: &[("t0", 3), ("t1", 3)],
            members: &[("C0", &["t0", "t1"]), ("C1", &["t0", "t1"])],
            expected: &[
                ("C0", &[("t0", 0), ("t0", 1), ("t1", 0), ("t1", 1)]),
                ("C1", &[("t0", 2), ("t1", 2)]),
            ],
        },
        // Kafka's "multiple consumers, mixed topic subscriptions" case.
        Case {
            name: "mixed subscriptions",
            topics: &[("t1", 3), ("t2", 2)],
            members: &[("c1", &["t1"]), ("c2", &["t1", "t2"]), ("c3", &["t1"])],
            expected: &[
                ("c1", &[("t1", 0)]),
                ("c2", &[("t1", 1), ("t2", 0), ("t2", 1)]),
                ("c3", &[("t1", 2)]),
            ],
        },
        Case {
            name: "seven partitions over three members: first one gets the extra",
            topics: &[("t", 7)],
            members: &[("a", &["t"]), ("b", &["t"]), ("c", &["t"])],
            expected: &[
                ("a", &[("t", 0), ("t", 1), ("t", 2)]),
                ("b", &[("t", 3), ("t", 4)]),
                ("c", &[("t", 5), ("t", 6)]),
            ],
        },
        Case {
            name: "more members than partitions",
            topics: &[("t", 2)],
            members: &[("a", &["t"]), ("b", &["t"]), ("c", &["t"])],
            expected: &[("a", &[("t", 0)]), ("b", &[("t", 1)]), ("c", &[])],
        },
        Case {
            name: "member ids compare as strings, not numbers",
            topics: &[("t", 3)],
            members: &[("m-10", &["t"]), ("m-9", &["t"])],
            expected: &[("m-10", &[("t", 0), ("t", 1)]), ("m-9", &[("t", 2)])],
        },
    ];

    #[test]
    fn range_assignment_table() {
        for case in CASES {
            let subscriptions: BTreeMap<MemberId, Vec<String>> = case
                .members
                .iter()
                .map(|(m, topics)| {
                    (
                        MemberId::from(*m),
                        topics.iter().map(|t| t.to_string()).collect(),
                    )
                })
                .collect();
            let counts: BTreeMap<&str, i32> = case.topics.iter().copied().collect();
            let actual = range_assign(&subscriptions, |t| counts.get(t).copied());
            let expected: BTreeMap<MemberId, Vec<TopicPartition>> = case
                .expected
                .iter()
                .map(|(m, parts)| {
                    (
                        MemberId::from(*m),
                        parts.iter().map(|(t, p)| tp(t, *p)).collect(),
                    )
                })
                .collect();
            assert_eq!(actual, expected, "case: {}", case.name);
        }
    }

    #[test]
    fn every_partition_assigned_exactly_once() {
        for members in 1..6 {
            for partitions in 0..20 {
                let subs: BTreeMap<MemberId, Vec<String>> = (0..members)
                    .map(|m| (MemberId::from(format!("m{m}")), vec!["t".to_string()]))
                    .collect();
                let result = range_assign(&subs, |_| Some(partitions));
                let mut all: Vec<i32> =
                    result.values().flatten().map(|tp| tp.partition.0).collect();
                all.sort_unstable();
                assert_eq!(all, (0..partitions).collect::<Vec<_>>());
                let sizes: Vec<usize> = result.values().map(Vec::len).collect();
                let (min, max) = (sizes.iter().min().unwrap(), sizes.iter().max().unwrap());
                assert!(max - min <= 1, "{members} members, {partitions} partitions");
            }
        }
    }
}
