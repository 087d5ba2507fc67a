//! [`SchemaRegistry`]: subjects, versions and global ids in memory, rebuilt from and written
//! through a [`RegistryStore`]. Writers serialize on one lock so ids and versions are assigned
//! in log order; readers never wait on the store.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use apache_avro::Schema as AvroSchema;
use parking_lot::RwLock;

use super::store::{ConfigValue, RegistryStore, SchemaValue, StoreRecord};
use super::{
    CompatibilityLevel, RegisteredSchema, SchemaFormat, SchemaId, SubjectVersion, VersionSelector,
};
use crate::{Error, Result};

/// A parsed, registered schema shared by every subject that uses it.
#[derive(Debug)]
pub(super) struct StoredSchema {
    pub(super) text: Arc<str>,
    parsed: AvroSchema,
}

#[derive(Debug, Default)]
pub(super) struct State {
    pub(super) schemas: HashMap<SchemaId, Arc<StoredSchema>>,
    pub(super) id_by_text: HashMap<Arc<str>, SchemaId>,
    /// Live versions of each subject, oldest first.
    pub(super) subjects: BTreeMap<String, Vec<(SubjectVersion, SchemaId)>>,
    /// Soft-deleted versions of each subject (hidden, removable with `permanent=true`).
    pub(super) soft_deleted: BTreeMap<String, Vec<(SubjectVersion, SchemaId)>>,
    /// Highest version ever used per subject (versions are never reused).
    pub(super) last_version: HashMap<String, SubjectVersion>,
    pub(super) next_id: u32,
    pub(super) global_level: Option<CompatibilityLevel>,
    pub(super) subject_levels: HashMap<String, CompatibilityLevel>,
}

impl State {
    pub(super) fn apply(&mut self, record: &StoreRecord) -> Result<()> {
        match record {
            StoreRecord::Schema {
                key: (subject, version),
                value,
            } => {
                let live = self.subjects.entry(subject.clone()).or_default();
                live.retain(|(v, _)| v != version);
                let deleted = self.soft_deleted.entry(subject.clone()).or_default();
                deleted.retain(|(v, _)| v != version);
                if let Some(value) = value {
                    // Soft-deleted schemas keep their id (readable by id, reused if registered again).
                    if !self.schemas.contains_key(&value.id) {
                        let parsed = parse_avro(&value.schema)?;
                        let text: Arc<str> = Arc::from(value.schema.as_str());
                        self.id_by_text.insert(text.clone(), value.id);
                        self.schemas
                            .insert(value.id, Arc::new(StoredSchema { text, parsed }));
                    }
                    self.next_id = self.next_id.max(value.id.0 + 1);
                    let target = if value.deleted { deleted } else { live };
                    target.push((*version, value.id));
                    target.sort_by_key(|(v, _)| *v);
                }
                for map in [&mut self.subjects, &mut self.soft_deleted] {
                    if map.get(subject).is_some_and(Vec::is_empty) {
                        map.remove(subject);
                    }
                }
                let last = self.last_version.entry(subject.clone()).or_insert(*version);
                *last = (*last).max(*version);
            }
            StoreRecord::Config {
                subject: None,
                value,
            } => {
                self.global_level = value.as_ref().map(|v| v.compatibility_level);
            }
            StoreRecord::Config {
                subject: Some(subject),
                value,
            } => match value {
                Some(v) => {
                    self.subject_levels
                        .insert(subject.clone(), v.compatibility_level);
                }
                None => {
                    self.subject_levels.remove(subject);
                }
            },
        }
        Ok(())
    }

    pub(super) fn versions(&self, subject: &str) -> Result<&[(SubjectVersion, SchemaId)]> {
        self.subjects
            .get(subject)
            .map(Vec::as_slice)
            .ok_or_else(|| Error::SubjectNotFound {
                subject: subject.to_owned(),
            })
    }

    fn registered(&self, subject: &str, version: SubjectVersion, id: SchemaId) -> RegisteredSchema {
        RegisteredSchema {
            subject: subject.to_owned(),
            version,
            id,
            schema: self.schemas[&id].text.to_string(),
        }
    }

    fn level(&self, subject: &str) -> CompatibilityLevel {
        self.subject_levels
            .get(subject)
            .copied()
            .unwrap_or(self.global_level.unwrap_or_default())
    }
}

/// Parses Avro schema text, with a registry-style error when it is not valid.
pub fn parse_avro(text: &str) -> Result<AvroSchema> {
    AvroSchema::parse_str(text).map_err(|source| Error::InvalidAvroSchema {
        reason: source.to_string(),
        source: Some(source),
    })
}

/// The registry's canonical form of schema text: the JSON re-serialized compactly, so the same
/// schema sent with different whitespace gets the same id.
pub fn canonical_text(text: &str) -> Result<String> {
    let json: serde_json::Value =
        serde_json::from_str(text).map_err(|e| Error::InvalidAvroSchema {
            reason: format!("schema is not valid JSON: {e}"),
            source: None,
        })?;
    Ok(json.to_string())
}

/// An embedded schema registry.
#[derive(Debug)]
pub struct SchemaRegistry {
    pub(super) state: RwLock<State>,
    pub(super) store: Arc<dyn RegistryStore>,
}

impl SchemaRegistry {
    /// Opens a registry, replaying everything `store` holds.
    pub fn open(store: Arc<dyn RegistryStore>) -> Result<Self> {
        let mut state = State {
            next_id: 1,
            ..State::default()
        };
        for record in store.replay()? {
            state.apply(&record)?;
        }
        Ok(Self {
            state: RwLock::new(state),
            store,
        })
    }

    /// A registry that keeps its schemas in memory only.
    pub fn in_memory() -> Self {
        Self::open(Arc::new(super::MemoryRegistryStore::new()))
            .expect("an empty memory store always replays")
    }

    /// Registers `schema` under `subject` and returns its global id. Registering a schema the
    /// subject already has returns the existing id; otherwise the schema must pass the subject's
    /// compatibility level.
    pub fn register(
        &self,
        subject: &str,
        schema: &str,
        schema_type: SchemaFormat,
    ) -> Result<SchemaId> {
        let SchemaFormat::Avro = schema_type;
        let text = canonical_text(schema)?;
        let parsed = parse_avro(&text)?;
        let mut state = self.state.write();
        if let Some(versions) = state.subjects.get(subject)
            && let Some(id) = state.id_by_text.get(text.as_str())
            && versions.iter().any(|(_, v)| v == id)
        {
            return Ok(*id);
        }
        let problems = self.problems_locked(&state, subject, &parsed, VersionSelector::Latest)?;
        if !problems.is_empty() {
            return Err(Error::IncompatibleSchema {
                subject: subject.to_owned(),
                level: state.level(subject).to_string(),
                problems,
            });
        }
        let id = state
            .id_by_text
            .get(text.as_str())
            .copied()
            .unwrap_or(SchemaId(state.next_id));
        let version = SubjectVersion(state.last_version.get(subject).map_or(1, |v| v.0 + 1));
        let record = StoreRecord::Schema {
            key: (subject.to_owned(), version),
            value: Some(SchemaValue {
                subject: subject.to_owned(),
                version,
                id,
                schema: text,
                deleted: false,
            }),
        };
        self.store.append(&record)?;
        state.apply(&record)?;
        tracing::debug!(subject, %version, %id, "registered schema");
        Ok(id)
    }

    /// Finds `schema` among the versions of `subject` (Confluent's `POST /subjects/{s}`).
    pub fn lookup(&self, subject: &str, schema: &str) -> Result<RegisteredSchema> {
        let text = canonical_text(schema)?;
        parse_avro(&text)?;
        let state = self.state.read();
        let versions = state.versions(subject)?;
        let id = state.id_by_text.get(text.as_str()).copied();
        versions
            .iter()
            .rev()
            .find(|(_, v)| Some(*v) == id)
            .map(|(version, id)| state.registered(subject, *version, *id))
            .ok_or_else(|| Error::SchemaNotFound {
                what: format!("the schema is not registered under subject '{subject}'"),
            })
    }

    /// The schema text with global id `id`.
    pub fn schema_by_id(&self, id: SchemaId) -> Result<String> {
        self.state
            .read()
            .schemas
            .get(&id)
            .map(|s| s.text.to_string())
            .ok_or_else(|| Error::SchemaNotFound {
                what: format!("no schema has id {id}"),
            })
    }

    /// Every subject with at least one live version, sorted.
    pub fn subjects(&self) -> Vec<String> {
        self.state.read().subjects.keys().cloned().collect()
    }

    /// The live versions of `subject`, oldest first.
    pub fn versions(&self, subject: &str) -> Result<Vec<SubjectVersion>> {
        Ok(self
            .state
            .read()
            .versions(subject)?
            .iter()
            .map(|(v, _)| *v)
            .collect())
    }

    /// One version of a subject.
    pub fn version(&self, subject: &str, selector: VersionSelector) -> Result<RegisteredSchema> {
        let state = self.state.read();
        let versions = state.versions(subject)?;
        let found = match selector {
            VersionSelector::Latest => versions.last(),
            VersionSelector::Exact(wanted) => versions.iter().find(|(v, _)| *v == wanted),
        };
        let (version, id) = found.ok_or_else(|| Error::VersionNotFound {
            subject: subject.to_owned(),
            version: match selector {
                VersionSelector::Latest => "latest".to_owned(),
                VersionSelector::Exact(v) => v.to_string(),
            },
        })?;
        Ok(state.registered(subject, *version, *id))
    }

    /// Checks `schema` against `subject` under its compatibility level without registering it;
    /// returns the problems found (empty when compatible). A subject without versions is
    /// compatible with anything, as in Confluent.
    pub fn check_compatibility(
        &self,
        subject: &str,
        schema: &str,
        against: VersionSelector,
    ) -> Result<Vec<String>> {
        let parsed = parse_avro(&canonical_text(schema)?)?;
        let state = self.state.read();
        self.problems_locked(&state, subject, &parsed, against)
    }

    fn problems_locked(
        &self,
        state: &State,
        subject: &str,
        new: &AvroSchema,
        against: VersionSelector,
    ) -> Result<Vec<String>> {
        let level = state.level(subject);
        let Some(versions) = state.subjects.get(subject) else {
            return Ok(Vec::new());
        };
        let targets: Vec<SchemaId> = match against {
            VersionSelector::Latest if level.is_transitive() => {
                versions.iter().map(|(_, id)| *id).collect()
            }
            VersionSelector::Latest => versions.last().map(|(_, id)| *id).into_iter().collect(),
            VersionSelector::Exact(wanted) => {
                let (_, id) = versions.iter().find(|(v, _)| *v == wanted).ok_or_else(|| {
                    Error::VersionNotFound {
                        subject: subject.to_owned(),
                        version: wanted.to_string(),
                    }
                })?;
                vec![*id]
            }
        };
        let mut problems = Vec::new();
        for id in targets {
            for problem in level.check(new, &state.schemas[&id].parsed) {
                let text = problem.to_string();
                if !problems.contains(&text) {
                    problems.push(text);
                }
            }
        }
        Ok(problems)
    }

    /// The compatibility level of `subject` (its own, else the global one), or the global level
    /// when `subject` is `None`.
    pub fn effective_level(&self, subject: Option<&str>) -> CompatibilityLevel {
        let state = self.state.read();
        match subject {
            Some(subject) => state.level(subject),
            None => state.global_level.unwrap_or_default(),
        }
    }

    /// The level set on `subject` itself, if any.
    pub fn subject_level(&self, subject: &str) -> Option<CompatibilityLevel> {
        self.state.read().subject_levels.get(subject).copied()
    }

    /// Sets the global level (`subject: None`) or one subject's level, durably.
    pub fn set_level(&self, subject: Option<&str>, level: CompatibilityLevel) -> Result<()> {
        let record = StoreRecord::Config {
            subject: subject.map(str::to_owned),
            value: Some(ConfigValue {
                compatibility_level: level,
            }),
        };
        let mut state = self.state.write();
        self.store.append(&record)?;
        state.apply(&record)
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    pub(crate) const V1: &str = r#"{"type":"record","name":"Value","namespace":"db.inv.customers","fields":[
        {"name":"id","type":"int"},{"name":"name","type":"string"}]}"#;
    pub(crate) const V2: &str = r#"{"type":"record","name":"Value","namespace":"db.inv.customers","fields":[
        {"name":"id","type":"int"},{"name":"name","type":"string"},
        {"name":"email","type":["null","string"],"default":null}]}"#;
    const BAD: &str = r#"{"type":"record","name":"Value","namespace":"db.inv.customers","fields":[
        {"name":"id","type":"string"},{"name":"name","type":"string"}]}"#;

    #[test]
    fn ids_are_global_and_versions_per_subject() {
        let registry = SchemaRegistry::in_memory();
        let a = registry
            .register("a-value", V1, SchemaFormat::Avro)
            .unwrap();
        let again = registry
            .register("a-value", &V1.replace('\n', " "), SchemaFormat::Avro)
            .unwrap();
        let b = registry
            .register("b-value", V1, SchemaFormat::Avro)
            .unwrap();
        assert_eq!((a, again, b), (SchemaId(1), SchemaId(1), SchemaId(1)));
        let v2 = registry
            .register("a-value", V2, SchemaFormat::Avro)
            .unwrap();
        assert_eq!(v2, SchemaId(2));
        assert_eq!(
            registry.versions("a-value").unwrap(),
            vec![SubjectVersion(1), SubjectVersion(2)]
        );
        assert_eq!(
            registry.versions("b-value").unwrap(),
            vec![SubjectVersion(1)]
        );
        let latest = registry
            .version("a-value", VersionSelector::Latest)
            .unwrap();
        assert_eq!(
            (latest.version, latest.id),
            (SubjectVersion(2), SchemaId(2))
        );
        assert_eq!(
            registry.lookup("b-value", V1).unwrap().version,
            SubjectVersion(1)
        );
        assert!(matches!(
            registry.lookup("b-value", V2),
            Err(Error::SchemaNotFound { .. })
        ));
        assert!(matches!(
            registry.versions("c-value"),
            Err(Error::SubjectNotFound { .. })
        ));
    }

    #[test]
    fn incompatible_change_is_rejected_unless_level_is_none() {
        let registry = SchemaRegistry::in_memory();
        registry
            .register("t-value", V1, SchemaFormat::Avro)
            .unwrap();
        let error = registry
            .register("t-value", BAD, SchemaFormat::Avro)
            .unwrap_err();
        let text = error.to_string();
        assert!(
            text.contains("`id`") && text.contains("`string`") && text.contains("`int`"),
            "{text}"
        );
        assert!(text.contains("BACKWARD"), "{text}");
        registry
            .set_level(Some("t-value"), CompatibilityLevel::None)
            .unwrap();
        assert_eq!(
            registry
                .register("t-value", BAD, SchemaFormat::Avro)
                .unwrap(),
            SchemaId(2)
        );
        assert_eq!(registry.effective_level(None), CompatibilityLevel::Backward);
    }

    #[test]
    fn state_is_rebuilt_from_the_store() {
        let store: Arc<dyn RegistryStore> = Arc::new(super::super::MemoryRegistryStore::new());
        let registry = SchemaRegistry::open(store.clone()).unwrap();
        registry
            .register("t-value", V1, SchemaFormat::Avro)
            .unwrap();
        registry
            .register("t-value", V2, SchemaFormat::Avro)
            .unwrap();
        registry.set_level(None, CompatibilityLevel::Full).unwrap();
        let reopened = SchemaRegistry::open(store).unwrap();
        assert_eq!(reopened.versions("t-value").unwrap().len(), 2);
        assert_eq!(
            reopened.effective_level(Some("t-value")),
            CompatibilityLevel::Full
        );
        assert_eq!(
            reopened
                .register("u-value", BAD, SchemaFormat::Avro)
                .unwrap(),
            SchemaId(3)
        );
    }

    #[test]
    fn invalid_schema_text_is_rejected() {
        let registry = SchemaRegistry::in_memory();
        let error = registry
            .register("t-value", r#"{"type":"recrod"}"#, SchemaFormat::Avro)
            .unwrap_err();
        assert!(matches!(error, Error::InvalidAvroSchema { .. }), "{error}");
        assert!(matches!(
            registry.register("t-value", "not json", SchemaFormat::Avro),
            Err(Error::InvalidAvroSchema { .. })
        ));
    }
}
