//! Source partitions and source offsets as records carry them: [`SharedOffsetMap`], a JSON
//! object shared copy-on-write, so that every record of a table or connector can point at one
//! partition map (a clone is a reference-count increment, not a copy of its keys and values)
//! while the map's contents, comparison, `Debug` and serialized form stay those of the plain
//! [`OffsetMap`] the offset store keeps.

use std::fmt;
use std::ops::Deref;
use std::sync::{Arc, LazyLock};

/// A Kafka Connect source partition or source offset: a JSON object, as `Map<String, ?>` is in
/// Kafka Connect (e.g. `{"server": "dbserver1"}` and `{"lsn": 24023128, "txId": 555}`).
pub type OffsetMap = serde_json::Map<String, serde_json::Value>;

/// An [`OffsetMap`] shared by reference count: cloning it shares the map, editing it through
/// [`SharedOffsetMap::make_mut`] copies the map first only when it is shared, so editing a
/// clone never changes the original.
///
/// Build a connector's or table's template once (`SharedOffsetMap::from(map)`) and clone it
/// into each record. It reads as the map itself (`Deref<Target = OffsetMap>`: `map["lsn"]`,
/// `map.get(..)`, `map.is_empty()`), compares by contents and serializes as the map does.
#[derive(Clone)]
pub struct SharedOffsetMap(Arc<OffsetMap>);

/// The one empty map every `SharedOffsetMap::empty()` shares, so records that carry no offset
/// cost no allocation.
static EMPTY: LazyLock<SharedOffsetMap> =
    LazyLock::new(|| SharedOffsetMap(Arc::new(OffsetMap::new())));

impl SharedOffsetMap {
    pub fn new(map: OffsetMap) -> Self {
        Self(Arc::new(map))
    }

    /// The empty map (a record without an offset), shared: no allocation.
    pub fn empty() -> Self {
        EMPTY.clone()
    }

    /// The map, to edit: copied first when another clone shares it (copy-on-write).
    pub fn make_mut(&mut self) -> &mut OffsetMap {
        Arc::make_mut(&mut self.0)
    }

    /// The map itself, copied only when another clone still shares it.
    pub fn into_map(self) -> OffsetMap {
        Arc::unwrap_or_clone(self.0)
    }

    /// A copy of the map.
    pub fn to_map(&self) -> OffsetMap {
        (*self.0).clone()
    }

    /// Whether both are clones of one map (not merely equal maps).
    pub fn shares_with(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Default for SharedOffsetMap {
    fn default() -> Self {
        Self::empty()
    }
}

impl Deref for SharedOffsetMap {
    type Target = OffsetMap;

    fn deref(&self) -> &OffsetMap {
        &self.0
    }
}

impl AsRef<OffsetMap> for SharedOffsetMap {
    fn as_ref(&self) -> &OffsetMap {
        &self.0
    }
}

impl From<OffsetMap> for SharedOffsetMap {
    fn from(map: OffsetMap) -> Self {
        Self::new(map)
    }
}

impl From<SharedOffsetMap> for OffsetMap {
    fn from(shared: SharedOffsetMap) -> Self {
        shared.into_map()
    }
}

impl FromIterator<(String, serde_json::Value)> for SharedOffsetMap {
    fn from_iter<I: IntoIterator<Item = (String, serde_json::Value)>>(iter: I) -> Self {
        Self::new(iter.into_iter().collect())
    }
}

impl PartialEq for SharedOffsetMap {
    /// Equal contents; clones of one template are equal without comparing their entries.
    fn eq(&self, other: &Self) -> bool {
        self.shares_with(other) || *self.0 == *other.0
    }
}

impl Eq for SharedOffsetMap {}

impl PartialEq<OffsetMap> for SharedOffsetMap {
    fn eq(&self, other: &OffsetMap) -> bool {
        *self.0 == *other
    }
}

impl PartialEq<SharedOffsetMap> for OffsetMap {
    fn eq(&self, other: &SharedOffsetMap) -> bool {
        *self == *other.0
    }
}

impl fmt::Debug for SharedOffsetMap {
    /// As the map prints: sharing is an implementation detail.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl serde::Serialize for SharedOffsetMap {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de> serde::Deserialize<'de> for SharedOffsetMap {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        OffsetMap::deserialize(deserializer).map(Self::new)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn map(value: serde_json::Value) -> OffsetMap {
        value.as_object().cloned().unwrap()
    }

    #[test]
    fn cloning_a_template_shares_it() {
        let template = SharedOffsetMap::from(map(json!({"server": "dbserver1"})));
        let record = template.clone();
        assert!(record.shares_with(&template));
        assert_eq!(record, template);
        assert_eq!(record["server"], "dbserver1");
        assert!(SharedOffsetMap::empty().shares_with(&SharedOffsetMap::default()));
    }

    #[test]
    fn editing_a_clone_leaves_the_template_unchanged() {
        let template = SharedOffsetMap::from(map(json!({"lsn": 1, "row": 0})));
        let mut row = template.clone();
        row.make_mut().insert("row".into(), json!(7));
        assert!(!row.shares_with(&template));
        assert_eq!(template["row"], 0);
        assert_eq!(row["row"], 7);
        assert_ne!(row, template);
        // Key order is the map's: editing keeps the template's order.
        assert!(row.keys().eq(["lsn", "row"]));
        // An unshared map is edited in place.
        let before = std::ptr::from_ref::<OffsetMap>(&row);
        row.make_mut().insert("row".into(), json!(8));
        assert_eq!(before, std::ptr::from_ref::<OffsetMap>(&row));
    }

    #[test]
    fn serializes_compares_and_prints_as_the_map() {
        let plain = map(json!({"lsn_commit": 24023128, "txId": 555, "snapshot": true}));
        let shared = SharedOffsetMap::from(plain.clone());
        assert_eq!(
            serde_json::to_string(&shared).unwrap(),
            serde_json::to_string(&plain).unwrap()
        );
        assert_eq!(format!("{shared:?}"), format!("{plain:?}"));
        assert_eq!(shared, plain);
        assert_eq!(plain, shared);
        let back: SharedOffsetMap =
            serde_json::from_str(&serde_json::to_string(&plain).unwrap()).unwrap();
        assert_eq!(back, shared);
        assert!(!back.shares_with(&shared));
        assert_eq!(OffsetMap::from(back), plain);
        assert_eq!(shared.to_map(), plain);
    }
}
