//! Start-up checks of the server and the configuration against it: logical WAL, the user's
//! replication privilege, a free replication slot, the captured tables' REPLICA IDENTITY,
//! tables named in `table.include.list` that do not exist, and the publication. Each failure
//! is an [`Error::ServerSetup`] that says how to fix the server.

use tokio_postgres::Client;

use crate::config::{PostgresConfig, PublicationMode};
use crate::error::{Error, Result};
use crate::tables::{CapturedTable, TableFilter};

/// Runs every check; returns the captured tables (ordered) when all pass.
pub async fn check_server(
    client: &Client,
    config: &PostgresConfig,
    filter: &TableFilter,
) -> Result<Vec<CapturedTable>> {
    check_wal_level(client).await?;
    check_privileges(client, config).await?;
    check_slot_capacity(client, config).await?;
    let tables = crate::tables::discover_tables(client, filter).await?;
    check_tables(config, filter, &tables)?;
    check_publication(client, config).await?;
    Ok(tables)
}

async fn setting(client: &Client, name: &str) -> Result<String> {
    let row = client
        .query_one("SELECT current_setting($1)", &[&name])
        .await
        .map_err(|source| Error::postgres(format!("read the server setting {name}"), source))?;
    Ok(row.get(0))
}

async fn check_wal_level(client: &Client) -> Result<()> {
    let level = setting(client, "wal_level").await?;
    if level != "logical" {
        return Err(Error::ServerSetup {
            problem: format!(
                "the server runs with wal_level={level}, so it writes no logical decoding \
                 information and no logical replication slot can be used"
            ),
            fix: "set wal_level = logical (ALTER SYSTEM SET wal_level = logical, or in \
                  postgresql.conf) and restart PostgreSQL"
                .into(),
        });
    }
    Ok(())
}

async fn check_privileges(client: &Client, config: &PostgresConfig) -> Result<()> {
    let row = client
        .query_one(
            "SELECT rolreplication OR rolsuper FROM pg_roles WHERE rolname = current_user",
            &[],
        )
        .await
        .map_err(|source| Error::postgres("read the privileges of the connector's user", source))?;
    if !row.get::<_, bool>(0) {
        return Err(Error::ServerSetup {
            problem: format!(
                "user {:?} may not open replication connections (it lacks the REPLICATION \
                 attribute)",
                config.user
            ),
            fix: format!(
                "run ALTER ROLE {} WITH REPLICATION as a superuser (and allow replication \
                 connections for it in pg_hba.conf)",
                crate::connection::quote_ident(&config.user)
            ),
        });
    }
    Ok(())
}

async fn check_slot_capacity(client: &Client, config: &PostgresConfig) -> Result<()> {
    let row = client
        .query_one(
            "SELECT current_setting('max_replication_slots')::int,
                    (SELECT count(*) FROM pg_replication_slots)::int,
                    EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = $1)",
            &[&config.slot_name],
        )
        .await
        .map_err(|source| Error::postgres("read the replication slots", source))?;
    let (max, used, exists): (i32, i32, bool) = (row.get(0), row.get(1), row.get(2));
    if !exists && used >= max {
        return Err(Error::ServerSetup {
            problem: format!(
                "slot {:?} does not exist and all {max} replication slots are in use \
                 (max_replication_slots = {max})",
                config.slot_name
            ),
            fix: "raise max_replication_slots in postgresql.conf and restart PostgreSQL, or \
                  drop an unused slot with SELECT pg_drop_replication_slot('<name>')"
                .into(),
        });
    }
    Ok(())
}

fn check_tables(
    config: &PostgresConfig,
    filter: &TableFilter,
    tables: &[CapturedTable],
) -> Result<()> {
    let missing = filter.unmatched_includes(tables);
    if !missing.is_empty() {
        return Err(Error::ServerSetup {
            problem: format!(
                "table.include.list names {} that match no table of database {:?}",
                missing.join(", "),
                config.dbname
            ),
            fix: "create the tables, or correct table.include.list (regular expressions \
                  matched against schema.table)"
                .into(),
        });
    }
    let keyless: Vec<String> = tables
        .iter()
        .filter(|t| !t.has_usable_replica_identity())
        .map(CapturedTable::qualified_name)
        .collect();
    if !keyless.is_empty() {
        let first = &keyless[0];
        return Err(Error::ServerSetup {
            problem: format!(
                "captured table(s) {} have no primary key and no REPLICA IDENTITY, so \
                 PostgreSQL cannot publish their updates and deletes",
                keyless.join(", ")
            ),
            fix: format!(
                "add a primary key, or run ALTER TABLE {first} REPLICA IDENTITY FULL (or \
                 REPLICA IDENTITY USING INDEX <unique index>) for each, or leave them out \
                 with table.exclude.list"
            ),
        });
    }
    Ok(())
}

async fn check_publication(client: &Client, config: &PostgresConfig) -> Result<()> {
    if config.publication_mode != PublicationMode::Disabled {
        return Ok(());
    }
    let exists = client
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_publication WHERE pubname = $1)",
            &[&config.publication_name],
        )
        .await
        .map_err(|source| Error::postgres("look up the publication", source))?
        .get::<_, bool>(0);
    if !exists {
        return Err(Error::ServerSetup {
            problem: format!(
                "publication {:?} does not exist and publication.autocreate.mode is disabled",
                config.publication_name
            ),
            fix: format!(
                "run CREATE PUBLICATION {} FOR TABLE <tables> (or FOR ALL TABLES), or set \
                 publication.autocreate.mode to all_tables or filtered",
                config.publication_name
            ),
        });
    }
    Ok(())
}
