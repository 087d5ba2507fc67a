//! Deleting subjects and versions as Confluent does: a soft delete hides them (their schema ids
//! stay readable and are reused if the schema is registered again); a permanent delete
//! (`permanent=true`) of something soft-deleted first removes its records for good (tombstones).

use super::engine::State;
use super::store::{SchemaValue, StoreRecord};
use super::{SchemaId, SchemaRegistry, SubjectVersion, VersionSelector};
use crate::{Error, Result};

/// Soft or permanent deletion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deletion {
    /// Hide the versions; a later permanent delete removes them.
    Soft,
    /// Remove soft-deleted versions for good.
    Permanent,
}

impl SchemaRegistry {
    /// Deletes every version of `subject`; returns the versions deleted.
    pub fn delete_subject(&self, subject: &str, deletion: Deletion) -> Result<Vec<SubjectVersion>> {
        let mut state = self.state.write();
        let live = state.subjects.get(subject).cloned().unwrap_or_default();
        let hidden = state.soft_deleted.get(subject).cloned().unwrap_or_default();
        let targets = match deletion {
            Deletion::Soft if live.is_empty() && !hidden.is_empty() => {
                return Err(Error::SubjectSoftDeleted {
                    subject: subject.to_owned(),
                });
            }
            Deletion::Soft => live,
            Deletion::Permanent if !live.is_empty() => {
                return Err(Error::NotSoftDeleted {
                    subject: subject.to_owned(),
                    version: None,
                });
            }
            Deletion::Permanent => hidden,
        };
        if targets.is_empty() {
            return Err(Error::SubjectNotFound {
                subject: subject.to_owned(),
            });
        }
        for (version, id) in &targets {
            self.write_deletion(&mut state, subject, *version, *id, deletion)?;
        }
        Ok(targets.into_iter().map(|(version, _)| version).collect())
    }

    /// Deletes one version of `subject`; returns its number.
    pub fn delete_version(
        &self,
        subject: &str,
        selector: VersionSelector,
        deletion: Deletion,
    ) -> Result<SubjectVersion> {
        let mut state = self.state.write();
        let find = |versions: Option<&Vec<(SubjectVersion, SchemaId)>>| {
            let versions = versions.map(Vec::as_slice).unwrap_or_default();
            match selector {
                VersionSelector::Latest => versions.last().copied(),
                VersionSelector::Exact(wanted) => {
                    versions.iter().find(|(v, _)| *v == wanted).copied()
                }
            }
        };
        let live = find(state.subjects.get(subject));
        let hidden = find(state.soft_deleted.get(subject));
        let target = match (deletion, live, hidden) {
            (Deletion::Soft, Some(found), _) | (Deletion::Permanent, None, Some(found)) => found,
            (Deletion::Permanent, Some((version, _)), _) => {
                return Err(Error::NotSoftDeleted {
                    subject: subject.to_owned(),
                    version: Some(version.to_string()),
                });
            }
            _ if !state.subjects.contains_key(subject)
                && !state.soft_deleted.contains_key(subject) =>
            {
                return Err(Error::SubjectNotFound {
                    subject: subject.to_owned(),
                });
            }
            _ => {
                return Err(Error::VersionNotFound {
                    subject: subject.to_owned(),
                    version: match selector {
                        VersionSelector::Latest => "latest".to_owned(),
                        VersionSelector::Exact(v) => v.to_string(),
                    },
                });
            }
        };
        self.write_deletion(&mut state, subject, target.0, target.1, deletion)?;
        Ok(target.0)
    }

    fn write_deletion(
        &self,
        state: &mut State,
        subject: &str,
        version: SubjectVersion,
        id: SchemaId,
        deletion: Deletion,
    ) -> Result<()> {
        let value = match deletion {
            Deletion::Soft => Some(SchemaValue {
                subject: subject.to_owned(),
                version,
                id,
                schema: state.schemas[&id].text.to_string(),
                deleted: true,
            }),
            Deletion::Permanent => None,
        };
        let record = StoreRecord::Schema {
            key: (subject.to_owned(), version),
            value,
        };
        self.store.append(&record)?;
        state.apply(&record)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::{
        SchemaFormat,
        engine::tests::{V1, V2},
    };

    #[test]
    fn soft_then_permanent_deletion() {
        let registry = SchemaRegistry::in_memory();
        registry
            .register("t-value", V1, SchemaFormat::Avro)
            .unwrap();
        registry
            .register("t-value", V2, SchemaFormat::Avro)
            .unwrap();
        assert!(matches!(
            registry.delete_subject("t-value", Deletion::Permanent),
            Err(Error::NotSoftDeleted { .. })
        ));
        assert_eq!(
            registry
                .delete_version("t-value", VersionSelector::Latest, Deletion::Soft)
                .unwrap(),
            SubjectVersion(2)
        );
        assert_eq!(
            registry.versions("t-value").unwrap(),
            vec![SubjectVersion(1)]
        );
        // The id of a soft-deleted schema stays readable.
        assert!(registry.schema_by_id(SchemaId(2)).is_ok());
        assert_eq!(
            registry.delete_subject("t-value", Deletion::Soft).unwrap(),
            vec![SubjectVersion(1)]
        );
        assert!(registry.subjects().is_empty());
        assert!(matches!(
            registry.delete_subject("t-value", Deletion::Soft),
            Err(Error::SubjectSoftDeleted { .. })
        ));
        assert_eq!(
            registry
                .delete_subject("t-value", Deletion::Permanent)
                .unwrap(),
            vec![SubjectVersion(1), SubjectVersion(2)]
        );
        assert!(matches!(
            registry.delete_subject("t-value", Deletion::Soft),
            Err(Error::SubjectNotFound { .. })
        ));
        // Registering again continues the version numbers and keeps the global id.
        assert_eq!(
            registry
                .register("t-value", V1, SchemaFormat::Avro)
                .unwrap(),
            SchemaId(1)
        );
        assert_eq!(
            registry.versions("t-value").unwrap(),
            vec![SubjectVersion(3)]
        );
    }

    #[test]
    fn deletions_survive_a_reopen() {
        let store: std::sync::Arc<dyn crate::registry::RegistryStore> =
            std::sync::Arc::new(crate::registry::MemoryRegistryStore::new());
        let registry = SchemaRegistry::open(store.clone()).unwrap();
        registry
            .register("t-value", V1, SchemaFormat::Avro)
            .unwrap();
        registry
            .register("t-value", V2, SchemaFormat::Avro)
            .unwrap();
        registry
            .delete_version("t-value", VersionSelector::Latest, Deletion::Soft)
            .unwrap();
        let reopened = SchemaRegistry::open(store).unwrap();
        assert_eq!(
            reopened.versions("t-value").unwrap(),
            vec![SubjectVersion(1)]
        );
        assert!(reopened.schema_by_id(SchemaId(2)).is_ok());
        let permanent = reopened.delete_version(
            "t-value",
            VersionSelector::Exact(SubjectVersion(2)),
            Deletion::Permanent,
        );
        assert_eq!(permanent.unwrap(), SubjectVersion(2));
        assert_eq!(
            reopened
                .register("u-value", V2, SchemaFormat::Avro)
                .unwrap(),
            SchemaId(2)
        );
    }
}
