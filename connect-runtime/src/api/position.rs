//! [`SourcePosition`]: a record's place in its task's totally ordered change stream, as bytes
//! whose lexicographic order is the stream's order. Positions of up to
//! [`SourcePosition::INLINE_CAPACITY`] bytes (four 8-byte parts: every Postgres position and
//! the MySQL stream's) are stored inline, so making and cloning one allocates nothing; longer
//! ones share one heap copy.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// The header in which the runtime stores a record's [`SourcePosition`] in the log.
pub const POSITION_HEADER: &str = "__sluice.position";

/// Where a record comes from in its source's change stream, as bytes whose lexicographic order
/// is the stream's order.
///
/// The runtime stores it with each record (in [`POSITION_HEADER`]) and, after a restart,
/// reads the newest position already in each target topic partition; a replayed record whose
/// position is not greater than that is dropped instead of written twice. For this to be
/// exact, positions must **strictly increase** over all records one task returns — across
/// polls and across restarts — so two records never share one (include the event's index
/// within its transaction or binlog event). Build positions from fixed-width parts with
/// [`SourcePosition::from_parts`]; a record without a position is never de-duplicated.
///
/// Equality, ordering and hashing are those of [`SourcePosition::as_bytes`].
#[derive(Clone)]
pub struct SourcePosition(Repr);

#[derive(Clone)]
enum Repr {
    Inline {
        len: u8,
        bytes: [u8; SourcePosition::INLINE_CAPACITY],
    },
    Shared(Arc<[u8]>),
}

impl SourcePosition {
    /// The longest position kept without a heap allocation.
    pub const INLINE_CAPACITY: usize = 32;

    /// A position from bytes already encoded in stream order.
    pub fn from_bytes(bytes: impl AsRef<[u8]>) -> Self {
        let bytes = bytes.as_ref();
        if bytes.len() <= Self::INLINE_CAPACITY {
            let mut inline = [0; Self::INLINE_CAPACITY];
            inline[..bytes.len()].copy_from_slice(bytes);
            Self(Repr::Inline {
                len: bytes.len() as u8,
                bytes: inline,
            })
        } else {
            Self(Repr::Shared(Arc::from(bytes)))
        }
    }

    /// A position from integer parts, most significant first (e.g. `[commit_lsn,
    /// event_index]` or `[binlog_file_number, position, row]`): each is written as 8 big-endian
    /// bytes, so byte order equals the order of the tuples.
    pub fn from_parts(parts: &[u64]) -> Self {
        if parts.len() * 8 <= Self::INLINE_CAPACITY {
            let mut inline = [0; Self::INLINE_CAPACITY];
            for (slot, part) in inline.chunks_exact_mut(8).zip(parts) {
                slot.copy_from_slice(&part.to_be_bytes());
            }
            return Self(Repr::Inline {
                len: (parts.len() * 8) as u8,
                bytes: inline,
            });
        }
        let bytes: Vec<u8> = parts.iter().flat_map(|part| part.to_be_bytes()).collect();
        Self(Repr::Shared(bytes.into()))
    }

    pub fn as_bytes(&self) -> &[u8] {
        match &self.0 {
            Repr::Inline { len, bytes } => &bytes[..usize::from(*len)],
            Repr::Shared(bytes) => bytes,
        }
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.as_bytes().to_vec()
    }

    pub fn len(&self) -> usize {
        self.as_bytes().len()
    }

    pub fn is_empty(&self) -> bool {
        self.as_bytes().is_empty()
    }
}

impl Default for SourcePosition {
    /// The empty position, before every other.
    fn default() -> Self {
        Self(Repr::Inline {
            len: 0,
            bytes: [0; Self::INLINE_CAPACITY],
        })
    }
}

impl PartialEq for SourcePosition {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for SourcePosition {}

impl PartialOrd for SourcePosition {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for SourcePosition {
    fn cmp(&self, other: &Self) -> Ordering {
        self.as_bytes().cmp(other.as_bytes())
    }
}

impl Hash for SourcePosition {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_bytes().hash(state);
    }
}

impl fmt::Debug for SourcePosition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SourcePosition(")?;
        for byte in self.as_bytes() {
            write!(f, "{byte:02x}")?;
        }
        f.write_str(")")
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn positions_order_like_their_parts() {
        let a = SourcePosition::from_parts(&[1, u64::MAX]);
        let b = SourcePosition::from_parts(&[2, 0]);
        let c = SourcePosition::from_parts(&[2, 1]);
        assert!(a < b && b < c);
        assert_eq!(
            format!("{:?}", SourcePosition::from_bytes(vec![0xab, 1])),
            "SourcePosition(ab01)"
        );
    }

    /// Parts are big-endian 8-byte words, inline or not: the encoding the log's headers
    /// already hold.
    #[test]
    fn parts_encode_as_big_endian_words_at_every_length() {
        for count in 0..=6u64 {
            let parts: Vec<u64> = (1..=count).map(|p| p << 56 | p).collect();
            let expected: Vec<u8> = parts.iter().flat_map(|p| p.to_be_bytes()).collect();
            let position = SourcePosition::from_parts(&parts);
            assert_eq!(position.as_bytes(), expected);
            assert_eq!(position.len(), expected.len());
            assert_eq!(position, SourcePosition::from_bytes(&expected));
            assert_eq!(position.clone().into_bytes(), expected);
        }
        assert!(SourcePosition::default().is_empty());
        assert_eq!(SourcePosition::default(), SourcePosition::from_parts(&[]));
    }

    /// Short (inline) and long (shared) positions compare, hash and order by their bytes.
    #[test]
    fn inline_and_long_positions_compare_by_their_bytes() {
        let inline = SourcePosition::from_bytes([7u8; SourcePosition::INLINE_CAPACITY]);
        let longer = SourcePosition::from_bytes([7u8; SourcePosition::INLINE_CAPACITY + 1]);
        let lower_long = SourcePosition::from_bytes([6u8; 40]);
        assert!(inline < longer, "a prefix sorts first");
        assert!(lower_long < inline);
        assert!(SourcePosition::default() < lower_long);
        let copy = longer.clone();
        assert_eq!(copy, longer);
        assert_eq!(copy.cmp(&longer), Ordering::Equal);
        let set: HashSet<SourcePosition> = [inline.clone(), longer, copy, inline].into();
        assert_eq!(set.len(), 2);
    }
}
