//! [`TypeCatalog`]: what the server says about its types — `pg_type` (domains, enums, ranges,
//! arrays and extension types such as `citext`) and `pg_enum`'s labels — so a column's type
//! OID and modifier resolve to a [`ColumnType`]. Built-in types resolve without a server.

use std::collections::HashMap;
use std::sync::Arc;

use tokio_postgres::Client;

use super::builtin;
use super::column::{ColumnType, TypeKind};
use crate::error::{Error, Result};

/// The shape of a non-built-in type.
#[derive(Debug, Clone, PartialEq)]
enum Shape {
    /// A base type (from an extension, or a built-in Sluice has no mapping for).
    Base,
    Domain {
        base: u32,
        type_modifier: i32,
    },
    Enum {
        labels: Arc<[String]>,
    },
    Array {
        element: u32,
    },
    Range,
}

#[derive(Debug, Clone, PartialEq)]
struct CatalogType {
    /// `name` for `pg_catalog` types, else `schema.name`.
    name: String,
    /// The bare type name, used for extension types (`citext`, `ltree`, …).
    type_name: String,
    shape: Shape,
}

/// The server's data types, loaded once and extended as unknown OIDs appear.
#[derive(Debug, Clone, Default)]
pub struct TypeCatalog {
    types: HashMap<u32, CatalogType>,
}

/// Composite (table row) types and pseudo-types are left out: there is one row type per
/// table, and neither can be a replicated column's type that Sluice maps.
const SELECT_TYPES: &str = "
    SELECT t.oid, n.nspname::text, t.typname::text, t.typtype::text, t.typelem,
           t.typbasetype, t.typtypmod, t.typcategory::text
    FROM pg_catalog.pg_type t
    JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
    LEFT JOIN pg_catalog.pg_type e ON e.oid = t.typelem
    WHERE t.typtype IN ('b', 'd', 'e', 'r', 'm') AND coalesce(e.typtype, 'b') <> 'c'";

/// Extension types carried as plain strings, as Debezium does.
const STRING_EXTENSION_TYPES: &[&str] = &["citext", "ltree", "isbn"];

fn catalog_error(context: &str) -> impl FnOnce(tokio_postgres::Error) -> Error + '_ {
    move |source| Error::TypeCatalog {
        context: context.to_string(),
        source,
    }
}

impl TypeCatalog {
    /// A catalog that knows only the built-in types (no domains, enums or extension types).
    pub fn builtin() -> TypeCatalog {
        TypeCatalog::default()
    }

    /// Reads every type of the connected database and the labels of its enums.
    pub async fn load(client: &Client) -> Result<TypeCatalog> {
        let mut catalog = TypeCatalog::default();
        catalog.read(client, None).await?;
        Ok(catalog)
    }

    /// Reads the types among `oids` the catalog does not know yet (e.g. an enum created after
    /// the connector started), and the types they refer to.
    pub async fn ensure(&mut self, client: &Client, oids: &[u32]) -> Result<()> {
        let mut missing: Vec<u32> = oids
            .iter()
            .copied()
            .filter(|oid| !self.knows(*oid))
            .collect();
        // Each round reads the bases/elements of the types read before; type graphs are
        // shallow (a domain over an array of an enum is three levels).
        while !missing.is_empty() {
            missing.sort_unstable();
            missing.dedup();
            let loaded = self.read(client, Some(&missing)).await?;
            missing = loaded
                .iter()
                .filter_map(|oid| match &self.types.get(oid)?.shape {
                    Shape::Domain { base, .. } => Some(*base),
                    Shape::Array { element } => Some(*element),
                    _ => None,
                })
                .filter(|oid| !self.knows(*oid))
                .collect();
            if loaded.is_empty() {
                break;
            }
        }
        Ok(())
    }

    /// Forgets and re-reads `oids`, e.g. after `ALTER TYPE … ADD VALUE` changed an enum.
    pub async fn refresh(&mut self, client: &Client, oids: &[u32]) -> Result<()> {
        for oid in oids {
            self.types.remove(oid);
        }
        self.ensure(client, oids).await
    }

    fn knows(&self, oid: u32) -> bool {
        builtin::scalar(oid, -1).is_some()
            || builtin::array(oid).is_some()
            || self.types.contains_key(&oid)
    }

    /// Reads all types (`only` = None) or the listed ones; returns the OIDs read.
    async fn read(&mut self, client: &Client, only: Option<&[u32]>) -> Result<Vec<u32>> {
        let rows = match only {
            None => client.query(SELECT_TYPES, &[]).await,
            Some(oids) => {
                let sql = format!("{SELECT_TYPES} AND t.oid = ANY($1)");
                client.query(sql.as_str(), &[&oids]).await
            }
        }
        .map_err(catalog_error("reading pg_type"))?;
        let mut loaded = Vec::with_capacity(rows.len());
        let mut enums = Vec::new();
        for row in rows {
            let oid: u32 = row.get(0);
            let namespace: String = row.get(1);
            let type_name: String = row.get(2);
            let typtype: String = row.get(3);
            let element: u32 = row.get(4);
            let base: u32 = row.get(5);
            let type_modifier: i32 = row.get(6);
            let category: String = row.get(7);
            let shape = match (typtype.as_str(), category.as_str()) {
                ("d", _) => Shape::Domain {
                    base,
                    type_modifier,
                },
                ("e", _) => {
                    enums.push(oid);
                    Shape::Enum {
                        labels: Arc::from(Vec::new()),
                    }
                }
                ("r", _) => Shape::Range,
                (_, "A") if element != 0 => Shape::Array { element },
                _ => Shape::Base,
            };
            let name = if namespace == "pg_catalog" {
                type_name.clone()
            } else {
                format!("{namespace}.{type_name}")
            };
            self.types.insert(
                oid,
                CatalogType {
                    name,
                    type_name,
                    shape,
                },
            );
            loaded.push(oid);
        }
        if !enums.is_empty() {
            self.read_enum_labels(client, &enums).await?;
        }
        Ok(loaded)
    }

    async fn read_enum_labels(&mut self, client: &Client, enums: &[u32]) -> Result<()> {
        let rows = client
            .query(
                "SELECT enumtypid, enumlabel::text FROM pg_catalog.pg_enum \
                 WHERE enumtypid = ANY($1) ORDER BY enumtypid, enumsortorder",
                &[&enums],
            )
            .await
            .map_err(catalog_error("reading pg_enum"))?;
        let mut labels: HashMap<u32, Vec<String>> = HashMap::new();
        for row in rows {
            labels.entry(row.get(0)).or_default().push(row.get(1));
        }
        for (oid, list) in labels {
            if let Some(entry) = self.types.get_mut(&oid) {
                entry.shape = Shape::Enum {
                    labels: Arc::from(list),
                };
            }
        }
        Ok(())
    }

    /// The type of a column with this type OID and modifier (`atttypmod`; -1 for none).
    /// OIDs the catalog has never seen resolve to an unknown type named `oid <n>`.
    pub fn resolve(&self, oid: u32, type_modifier: i32) -> ColumnType {
        self.resolve_depth(oid, type_modifier, 0)
    }

    fn resolve_depth(&self, oid: u32, type_modifier: i32, depth: u8) -> ColumnType {
        if let Some((name, kind)) = builtin::scalar(oid, type_modifier) {
            return ColumnType::new(name, kind);
        }
        if let Some((name, element)) = builtin::array(oid) {
            let element = self.resolve_depth(element, type_modifier, depth + 1);
            return ColumnType::new(name, TypeKind::Array(Box::new(element)));
        }
        let Some(entry) = self.types.get(&oid) else {
            return ColumnType::new(format!("oid {oid}"), TypeKind::Unknown);
        };
        // Guards against a cyclic catalog, which Postgres does not allow but a bug could fake.
        if depth > 8 {
            return ColumnType::new(entry.name.as_str(), TypeKind::Unknown);
        }
        let kind = match &entry.shape {
            Shape::Domain {
                base,
                type_modifier: domain_modifier,
            } => {
                // A domain is its base type; the column's modifier is the domain's own.
                let modifier = if type_modifier >= 0 {
                    type_modifier
                } else {
                    *domain_modifier
                };
                return self.resolve_depth(*base, modifier, depth + 1);
            }
            Shape::Enum { labels } => TypeKind::Enum {
                labels: labels.clone(),
            },
            Shape::Array { element } => TypeKind::Array(Box::new(self.resolve_depth(
                *element,
                type_modifier,
                depth + 1,
            ))),
            Shape::Range => TypeKind::Text,
            Shape::Base if entry.type_name == "hstore" => TypeKind::Hstore,
            Shape::Base if STRING_EXTENSION_TYPES.contains(&entry.type_name.as_str()) => {
                TypeKind::Text
            }
            Shape::Base => TypeKind::Unknown,
        };
        ColumnType::new(entry.name.as_str(), kind)
    }

    #[cfg(test)]
    fn insert(&mut self, oid: u32, name: &str, shape: Shape) {
        self.types.insert(
            oid,
            CatalogType {
                name: name.to_string(),
                type_name: name.rsplit('.').next().unwrap_or(name).to_string(),
                shape,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_resolve_without_a_server() {
        let catalog = TypeCatalog::builtin();
        assert_eq!(catalog.resolve(23, -1).kind(), &TypeKind::Int32);
        let array = catalog.resolve(1231, (5 << 16 | 2) + 4);
        assert_eq!(array.name(), "_numeric");
        assert_eq!(
            array.kind(),
            &TypeKind::Array(Box::new(ColumnType::new(
                "numeric",
                TypeKind::Numeric {
                    precision: 5,
                    scale: 2
                }
            )))
        );
        let unknown = catalog.resolve(99_999, -1);
        assert!(unknown.is_unknown());
        assert_eq!(unknown.name(), "oid 99999");
    }

    #[test]
    fn domains_enums_and_extension_types() {
        let mut catalog = TypeCatalog::builtin();
        let labels: Arc<[String]> = vec!["sad".to_string(), "happy".to_string()].into();
        catalog.insert(
            70_000,
            "public.mood",
            Shape::Enum {
                labels: labels.clone(),
            },
        );
        catalog.insert(70_001, "public._mood", Shape::Array { element: 70_000 });
        catalog.insert(
            70_002,
            "public.price",
            Shape::Domain {
                base: 1700,
                type_modifier: (8 << 16 | 3) + 4,
            },
        );
        catalog.insert(
            70_003,
            "public.price_list",
            Shape::Domain {
                base: 70_004,
                type_modifier: -1,
            },
        );
        catalog.insert(70_004, "public._price", Shape::Array { element: 70_002 });
        catalog.insert(70_005, "public.citext", Shape::Base);
        catalog.insert(70_006, "public.tsquery_like", Shape::Base);
        catalog.insert(70_007, "public.floatrange", Shape::Range);

        let mood = catalog.resolve(70_000, -1);
        assert_eq!(mood.name(), "public.mood");
        assert_eq!(mood.kind(), &TypeKind::Enum { labels });
        assert!(
            matches!(catalog.resolve(70_001, -1).kind(), TypeKind::Array(e) if e.name() == "public.mood")
        );
        assert_eq!(
            catalog.resolve(70_002, -1).kind(),
            &TypeKind::Numeric {
                precision: 8,
                scale: 3
            }
        );
        match catalog.resolve(70_003, -1).kind() {
            TypeKind::Array(element) => assert_eq!(
                element.kind(),
                &TypeKind::Numeric {
                    precision: 8,
                    scale: 3
                }
            ),
            other => panic!("{other:?}"),
        }
        assert_eq!(catalog.resolve(70_005, -1).kind(), &TypeKind::Text);
        assert!(catalog.resolve(70_006, -1).is_unknown());
        assert_eq!(catalog.resolve(70_007, -1).kind(), &TypeKind::Text);
        // A self-referencing domain cannot loop forever.
        catalog.insert(
            70_008,
            "public.loop",
            Shape::Domain {
                base: 70_008,
                type_modifier: -1,
            },
        );
        assert!(catalog.resolve(70_008, -1).is_unknown());
    }
}
