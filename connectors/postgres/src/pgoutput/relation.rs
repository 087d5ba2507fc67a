//! [`RelationCache`]: what the Relation and Type messages of a session said, by oid.
//!
//! pgoutput describes a relation once per session (and again after its definition changes)
//! and then refers to it by oid only; the cache keeps owned copies so changes decoded later
//! can be paired with column names, types and key flags.

use std::collections::HashMap;

use super::tuple::{ColumnValue, TupleData};
use super::{KeyMembership, Message, Oid, Relation, ReplicaIdentity, TypeMessage};
use crate::error::{Error, Result};

/// The latest description of one relation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedRelation {
    pub oid: Oid,
    /// The schema; empty for `pg_catalog`.
    pub namespace: String,
    pub name: String,
    pub replica_identity: ReplicaIdentity,
    pub columns: Vec<CachedColumn>,
}

/// One column of a [`CachedRelation`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedColumn {
    pub name: String,
    pub type_oid: Oid,
    pub type_modifier: i32,
    pub key: KeyMembership,
}

/// The name of a non-built-in type, from a Type message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedType {
    pub oid: Oid,
    pub namespace: String,
    pub name: String,
}

impl CachedRelation {
    fn from_message(relation: &Relation<'_>) -> Self {
        Self {
            oid: relation.oid,
            namespace: relation.namespace.to_owned(),
            name: relation.name.to_owned(),
            replica_identity: relation.replica_identity,
            columns: relation
                .columns
                .iter()
                .map(|column| CachedColumn {
                    name: column.name.to_owned(),
                    type_oid: column.type_oid,
                    type_modifier: column.type_modifier,
                    key: column.key,
                })
                .collect(),
        }
    }

    /// `schema.table` as users write it.
    pub fn qualified_name(&self) -> String {
        format!("{}.{}", self.namespace, self.name)
    }

    /// The columns that form the replica identity key, in table order.
    pub fn key_columns(&self) -> impl Iterator<Item = &CachedColumn> {
        self.columns
            .iter()
            .filter(|column| column.key == KeyMembership::Key)
    }

    /// Pairs each value of `tuple` with its column, after checking the tuple has as many
    /// values as the relation has columns.
    pub fn columns_of<'t, 'a>(
        &'t self,
        tuple: &'t TupleData<'a>,
    ) -> Result<impl Iterator<Item = (&'t CachedColumn, &'t ColumnValue<'a>)>> {
        if tuple.columns.len() != self.columns.len() {
            return Err(Error::TupleShapeMismatch {
                relation: self.qualified_name(),
                oid: self.oid,
                expected: self.columns.len(),
                actual: tuple.columns.len(),
            });
        }
        Ok(self.columns.iter().zip(&tuple.columns))
    }
}

/// Relations and types described so far in a replication session.
#[derive(Debug, Default)]
pub struct RelationCache {
    relations: HashMap<Oid, CachedRelation>,
    types: HashMap<Oid, CachedType>,
}

impl RelationCache {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a Relation or Type message (replacing an earlier description of the same
    /// oid); other messages leave the cache unchanged.
    pub fn observe(&mut self, message: &Message<'_>) {
        match message {
            Message::Relation(relation) => self.record_relation(relation),
            Message::Type(type_message) => self.record_type(type_message),
            _ => {}
        }
    }

    pub fn record_relation(&mut self, relation: &Relation<'_>) {
        self.relations
            .insert(relation.oid, CachedRelation::from_message(relation));
    }

    pub fn record_type(&mut self, type_message: &TypeMessage<'_>) {
        self.types.insert(
            type_message.oid,
            CachedType {
                oid: type_message.oid,
                namespace: type_message.namespace.to_owned(),
                name: type_message.name.to_owned(),
            },
        );
    }

    /// The relation `oid`, if described.
    pub fn get(&self, oid: Oid) -> Option<&CachedRelation> {
        self.relations.get(&oid)
    }

    /// The relation `oid`, or [`Error::UnknownRelation`] when no Relation message named it.
    pub fn require(&self, oid: Oid) -> Result<&CachedRelation> {
        self.get(oid).ok_or(Error::UnknownRelation { oid })
    }

    /// The type `oid`, if a Type message described it (built-in types never are).
    pub fn get_type(&self, oid: Oid) -> Option<&CachedType> {
        self.types.get(&oid)
    }

    /// Forgets everything, as a new session must (oids stay, definitions may not).
    pub fn clear(&mut self) {
        self.relations.clear();
        self.types.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pgoutput::RelationColumn;

    fn relation(columns: Vec<RelationColumn<'static>>) -> Relation<'static> {
        Relation {
            oid: Oid(16_384),
            namespace: "public",
            name: "orders",
            replica_identity: ReplicaIdentity::Default,
            columns,
        }
    }

    fn column(name: &'static str, key: KeyMembership) -> RelationColumn<'static> {
        RelationColumn {
            key,
            name,
            type_oid: Oid(23),
            type_modifier: -1,
        }
    }

    #[test]
    fn later_relation_message_replaces_the_earlier() {
        let mut cache = RelationCache::new();
        cache.observe(&Message::Relation(relation(vec![column(
            "id",
            KeyMembership::Key,
        )])));
        cache.observe(&Message::Relation(relation(vec![
            column("id", KeyMembership::Key),
            column("note", KeyMembership::NotKey),
        ])));
        let cached = cache.require(Oid(16_384)).unwrap();
        assert_eq!(cached.qualified_name(), "public.orders");
        assert_eq!(cached.columns.len(), 2);
        let keys: Vec<_> = cached.key_columns().map(|c| c.name.as_str()).collect();
        assert_eq!(keys, ["id"]);
    }

    #[test]
    fn unknown_relation_is_a_clear_error() {
        let error = RelationCache::new().require(Oid(7)).unwrap_err();
        assert!(error.to_string().contains("relation oid 7"), "{error}");
    }

    #[test]
    fn pairs_values_with_columns_and_rejects_wrong_shapes() {
        let mut cache = RelationCache::new();
        cache.record_relation(&relation(vec![
            column("id", KeyMembership::Key),
            column("note", KeyMembership::NotKey),
        ]));
        let cached = cache.require(Oid(16_384)).unwrap();
        let tuple = TupleData {
            columns: vec![ColumnValue::Text(b"1"), ColumnValue::Null],
        };
        let pairs: Vec<_> = cached
            .columns_of(&tuple)
            .unwrap()
            .map(|(column, value)| (column.name.as_str(), *value))
            .collect();
        assert_eq!(
            pairs,
            [("id", ColumnValue::Text(b"1")), ("note", ColumnValue::Null)]
        );
        let short = TupleData {
            columns: vec![ColumnValue::Null],
        };
        let error = cached.columns_of(&short).err().unwrap();
        assert!(error.to_string().contains("has 1 columns"), "{error}");
    }

    #[test]
    fn keeps_type_names_and_clears() {
        let mut cache = RelationCache::new();
        cache.observe(&Message::Type(TypeMessage {
            oid: Oid(90_000),
            namespace: "public",
            name: "mood",
        }));
        assert_eq!(cache.get_type(Oid(90_000)).unwrap().name, "mood");
        cache.clear();
        assert!(cache.get_type(Oid(90_000)).is_none());
    }
}
