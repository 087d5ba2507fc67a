//! Kafka's default partitioner, so keyed records land on the partition a Kafka client would pick:
//! `(murmur2(key) & 0x7fffffff) % partitions`, with Kafka's murmur2 variant (seed `0x9747b28c`).
//! Keyless records are spread round-robin, one produce call (one batch) at a time.

use std::sync::atomic::{AtomicU32, Ordering};

use crate::types::PartitionId;

/// Kafka's `Utils.murmur2`: 32-bit MurmurHash2 with seed `0x9747b28c`, little-endian 4-byte
/// blocks, returned as a signed 32-bit value like the Java client.
pub fn murmur2(data: &[u8]) -> i32 {
    const SEED: u32 = 0x9747_b28c;
    const M: u32 = 0x5bd1_e995;
    const R: u32 = 24;
    let length = data.len();
    let mut h: u32 = SEED ^ (length as u32);
    let mut chunks = data.chunks_exact(4);
    for chunk in &mut chunks {
        let mut k = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M);
        h ^= k;
    }
    let tail = chunks.remainder();
    if tail.len() >= 3 {
        h ^= u32::from(tail[2]) << 16;
    }
    if tail.len() >= 2 {
        h ^= u32::from(tail[1]) << 8;
    }
    if !tail.is_empty() {
        h ^= u32::from(tail[0]);
        h = h.wrapping_mul(M);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^= h >> 15;
    h as i32
}

/// The partition Kafka's default partitioner assigns to `key` among `partitions` (> 0).
pub fn partition_for_key(key: &[u8], partitions: u32) -> PartitionId {
    let positive = (murmur2(key) as u32) & 0x7fff_ffff;
    PartitionId((positive % partitions.max(1)) as i32)
}

/// Spreads keyless batches over partitions, one whole batch per partition in turn.
#[derive(Debug, Default)]
pub struct RoundRobin {
    next: AtomicU32,
}

impl RoundRobin {
    /// The partition for the next keyless batch.
    pub fn next_partition(&self, partitions: u32) -> PartitionId {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        PartitionId((n % partitions.max(1)) as i32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Kafka's published vectors (clients `UtilsTest.testMurmur2`).
    const KAFKA_VECTORS: &[(&[u8], i32)] = &[
        (b"21", -973_932_308),
        (b"foobar", -790_332_482),
        (b"a-little-bit-long-string", -985_981_536),
        (b"a-little-bit-longer-string", -1_486_304_829),
        (
            b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8",
            -58_897_971,
        ),
        (b"abc", 479_470_107),
    ];

    #[test]
    fn murmur2_matches_kafka_vectors() {
        for (input, expected) in KAFKA_VECTORS {
            assert_eq!(
                murmur2(input),
                *expected,
                "murmur2({})",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn keyed_partition_uses_positive_modulo() {
        // (-790332482 & 0x7fffffff) = 1357151166; % 10 = 6, % 50 = 16.
        assert_eq!(partition_for_key(b"foobar", 10), PartitionId(6));
        assert_eq!(partition_for_key(b"foobar", 50), PartitionId(16));
        for partitions in 1..40 {
            let p = partition_for_key(b"a-little-bit-longer-string", partitions);
            assert!((0..partitions as i32).contains(&p.0));
        }
    }

    #[test]
    fn round_robin_cycles_through_all_partitions() {
        let rr = RoundRobin::default();
        let picks: Vec<i32> = (0..6).map(|_| rr.next_partition(3).0).collect();
        assert_eq!(picks, [0, 1, 2, 0, 1, 2]);
    }
}
