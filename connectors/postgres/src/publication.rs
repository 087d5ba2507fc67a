//! The publication the slot streams, created or kept in line with the filters per
//! `publication.autocreate.mode`.

use tokio_postgres::Client;

use crate::config::{PostgresConfig, PublicationMode};
use crate::connection::quote_ident;
use crate::error::{Error, Result};
use crate::tables::CapturedTable;

/// Makes sure the publication exists as the mode asks (the `disabled` mode was checked by
/// validation: the publication exists).
pub async fn ensure_publication(
    client: &Client,
    config: &PostgresConfig,
    tables: &[CapturedTable],
) -> Result<()> {
    let name = quote_ident(&config.publication_name);
    let exists = client
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_publication WHERE pubname = $1)",
            &[&config.publication_name],
        )
        .await
        .map_err(|source| Error::postgres("look up the publication", source))?
        .get::<_, bool>(0);
    let table_list = || {
        tables
            .iter()
            .map(|t| format!("{}.{}", quote_ident(&t.schema), quote_ident(&t.name)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let statement = match (config.publication_mode, exists) {
        (PublicationMode::Disabled, _) => return Ok(()),
        (PublicationMode::AllTables, true) | (PublicationMode::NoTables, true) => return Ok(()),
        (PublicationMode::AllTables, false) => format!("CREATE PUBLICATION {name} FOR ALL TABLES"),
        (PublicationMode::NoTables, false) => format!("CREATE PUBLICATION {name}"),
        (PublicationMode::Filtered, false) if tables.is_empty() => {
            format!("CREATE PUBLICATION {name}")
        }
        (PublicationMode::Filtered, false) => {
            format!("CREATE PUBLICATION {name} FOR TABLE {}", table_list())
        }
        (PublicationMode::Filtered, true) if tables.is_empty() => return Ok(()),
        (PublicationMode::Filtered, true) => {
            format!("ALTER PUBLICATION {name} SET TABLE {}", table_list())
        }
    };
    tracing::info!(%statement, "setting up the publication");
    client.batch_execute(&statement).await.map_err(|source| {
        Error::postgres(
            format!(
                "cannot create or update publication {:?} (the user needs CREATE on the \
                 database and ownership of the tables, or superuser for FOR ALL TABLES)",
                config.publication_name
            ),
            source,
        )
    })
}
