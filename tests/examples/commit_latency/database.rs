//! The measured database behind one interface: the harness server, its `events` table, the
//! connector registered for it, single-row writers and bulk rows for the drain.

use mysql_async::prelude::Queryable;
use serde_json::{Value, json};
use sluice_tests::{MariaDbServer, PostgresServer};

/// A server with an `events` table (id, account, amount, note, created).
pub enum Database {
    Postgres(PostgresServer),
    MariaDb(MariaDbServer),
}

/// One connection that inserts single-row transactions (autocommit).
pub enum Writer {
    Postgres(tokio_postgres::Client, tokio_postgres::Statement),
    MariaDb(mysql_async::Conn),
}

const POSTGRES_TABLE: &str = "CREATE TABLE events (id bigint PRIMARY KEY, account int NOT NULL, \
     amount numeric(10,2) NOT NULL, note varchar(64) NOT NULL, created timestamptz NOT NULL)";
const POSTGRES_INSERT: &str = "INSERT INTO events VALUES ($1::bigint, ($1::bigint % 1000)::int, \
     ($1::bigint % 100000) / 100.0, 'note-' || $1::bigint, now())";
const MARIADB_TABLE: &str = "CREATE TABLE events (id BIGINT PRIMARY KEY, account INT NOT NULL, \
     amount DECIMAL(10,2) NOT NULL, note VARCHAR(64) NOT NULL, created DATETIME(3) NOT NULL)";
const MARIADB_INSERT: &str =
    "INSERT INTO events VALUES (?, ? % 1000, (? % 100000) / 100, CONCAT('note-', ?), NOW(3))";

impl Database {
    pub async fn start(kind: &str) -> anyhow::Result<Self> {
        if kind == "postgres" {
            let pg = PostgresServer::start().await?;
            pg.client().await?.batch_execute(POSTGRES_TABLE).await?;
            Ok(Self::Postgres(pg))
        } else {
            let maria = MariaDbServer::start().await?;
            maria.create_database("shop").await?;
            let mut conn = mysql_async::Conn::new(maria.opts_for("shop")).await?;
            conn.query_drop(MARIADB_TABLE).await?;
            conn.disconnect().await?;
            Ok(Self::MariaDb(maria))
        }
    }

    /// The connector `bench`, with the worker's default (JSON, schemas on) converters.
    pub fn connector(&self) -> Value {
        let config = match self {
            Self::Postgres(pg) => json!({
                "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
                "database.hostname": pg.host(),
                "database.port": pg.port().to_string(),
                "database.user": pg.user(),
                "database.password": pg.password(),
                "database.dbname": pg.dbname(),
                "topic.prefix": "bench",
                "slot.name": "bench",
                "publication.name": "bench",
                "table.include.list": "public.events",
            }),
            Self::MariaDb(maria) => json!({
                "connector.class": "mariadb",
                "database.hostname": maria.host(),
                "database.port": maria.port().to_string(),
                "database.user": maria.user(),
                "database.password": maria.password(),
                "database.server.id": "5402",
                "topic.prefix": "bench",
                "database.include.list": "shop",
            }),
        };
        json!({"name": "bench", "config": config})
    }

    pub fn topic(&self) -> &'static str {
        match self {
            Self::Postgres(_) => "bench.public.events",
            Self::MariaDb(_) => "bench.shop.events",
        }
    }

    pub async fn writer(&self) -> anyhow::Result<Writer> {
        Ok(match self {
            Self::Postgres(pg) => {
                let client = pg.client().await?;
                let insert = client.prepare(POSTGRES_INSERT).await?;
                Writer::Postgres(client, insert)
            }
            Self::MariaDb(maria) => {
                Writer::MariaDb(mysql_async::Conn::new(maria.opts_for("shop")).await?)
            }
        })
    }

    /// Rows `first..=last` in one transaction.
    pub async fn bulk_insert(&self, first: i64, last: i64) -> anyhow::Result<()> {
        match self {
            Self::Postgres(pg) => {
                pg.client()
                    .await?
                    .execute(
                        "INSERT INTO events SELECT g, (g % 1000)::int, (g % 100000) / 100.0, \
                         'note-' || g, now() FROM generate_series($1::bigint, $2::bigint) g",
                        &[&first, &last],
                    )
                    .await?;
            }
            Self::MariaDb(maria) => {
                let mut conn = mysql_async::Conn::new(maria.opts_for("shop")).await?;
                conn.query_drop(format!(
                    "INSERT INTO events SELECT seq, seq % 1000, (seq % 100000) / 100, \
                     CONCAT('note-', seq), NOW(3) FROM seq_{first}_to_{last}"
                ))
                .await?;
                conn.disconnect().await?;
            }
        }
        Ok(())
    }
}

impl Writer {
    /// Inserts row `id` in its own transaction; returns once the COMMIT has returned.
    pub async fn insert(&mut self, id: i64) -> anyhow::Result<()> {
        match self {
            Self::Postgres(client, insert) => {
                client.execute(insert, &[&id]).await?;
            }
            Self::MariaDb(conn) => {
                conn.exec_drop(MARIADB_INSERT, (id, id, id, id)).await?;
            }
        }
        Ok(())
    }
}
