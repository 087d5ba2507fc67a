//! Start-up checks of the server: the flavour, the binlog settings row-based CDC needs and
//! the account's privileges. Each failure says which server setting or grant to change.

use mysql_async::Conn;
use mysql_async::prelude::Queryable;

use crate::error::{Error, Result};
use crate::flavour::Flavour;

/// The settings a binlog CDC source needs: (variable, accepted value).
const REQUIRED_SETTINGS: &[(&str, &str)] = &[
    ("log_bin", "ON"),
    ("binlog_format", "ROW"),
    ("binlog_row_image", "FULL"),
    ("binlog_row_metadata", "FULL"),
];

/// What the checks learned about the server.
#[derive(Debug, Clone)]
pub struct ServerInfo {
    pub flavour: Flavour,
    pub version: String,
    /// `binlog_checksum` (`CRC32` or `NONE`).
    pub checksum: String,
}

fn db_error(context: &str) -> impl FnOnce(mysql_async::Error) -> Error + '_ {
    move |source| Error::Database {
        context: context.to_owned(),
        source,
    }
}

/// Runs every check on `conn` as `user`.
pub async fn check_server(conn: &mut Conn, user: &str) -> Result<ServerInfo> {
    let version: String = conn
        .query_first("SELECT VERSION()")
        .await
        .map_err(db_error("read the server version"))?
        .unwrap_or_default();
    for (variable, needed) in REQUIRED_SETTINGS {
        let found: Option<String> = conn
            .query_first(format!("SELECT CAST(@@GLOBAL.{variable} AS CHAR)"))
            .await
            .map_err(db_error("read the binlog settings"))?;
        // Boolean variables read back as 1/0 on some servers and ON/OFF on others.
        let found = match found.unwrap_or_default().as_str() {
            "1" => "ON".to_owned(),
            "0" => "OFF".to_owned(),
            other => other.to_owned(),
        };
        if !found.eq_ignore_ascii_case(needed) {
            return Err(Error::ServerSetting {
                variable,
                found,
                needed,
            });
        }
    }
    let checksum: Option<String> = conn
        .query_first("SELECT CAST(@@GLOBAL.binlog_checksum AS CHAR)")
        .await
        .map_err(db_error("read binlog_checksum"))?;
    let grants: Vec<String> = conn
        .query("SHOW GRANTS FOR CURRENT_USER()")
        .await
        .map_err(db_error("read the account's grants"))?;
    let missing = missing_privileges(&grants);
    if !missing.is_empty() {
        return Err(Error::MissingPrivileges {
            user: user.to_owned(),
            missing: missing.join(", "),
        });
    }
    Ok(ServerInfo {
        flavour: Flavour::from_version(&version),
        version,
        checksum: checksum.unwrap_or_else(|| "NONE".into()),
    })
}

/// The privileges CDC needs that `grants` (the lines of `SHOW GRANTS`) do not give.
fn missing_privileges(grants: &[String]) -> Vec<&'static str> {
    let global: Vec<String> = grants
        .iter()
        .map(|g| g.to_ascii_uppercase())
        .filter(|g| g.contains(" ON *.* "))
        .collect();
    if global.iter().any(|g| g.contains("ALL PRIVILEGES")) {
        return Vec::new();
    }
    let has_global = |privilege: &str| global.iter().any(|g| g.contains(privilege));
    let mut missing = Vec::new();
    if !has_global("REPLICATION SLAVE") && !has_global("REPLICATION REPLICA") {
        missing.push("REPLICATION SLAVE");
    }
    // MariaDB 10.5+ shows REPLICATION CLIENT as BINLOG MONITOR.
    if !has_global("REPLICATION CLIENT") && !has_global("BINLOG MONITOR") {
        missing.push("REPLICATION CLIENT");
    }
    let any_select = grants
        .iter()
        .map(|g| g.to_ascii_uppercase())
        .any(|g| g.starts_with("GRANT SELECT") || g.contains(" SELECT,") || g.contains(", SELECT"));
    if !any_select {
        missing.push("SELECT");
    }
    missing
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(grants: &[&str]) -> Vec<String> {
        grants.iter().map(|g| g.to_string()).collect()
    }

    #[test]
    fn all_privileges_suffice() {
        let grants = lines(&["GRANT ALL PRIVILEGES ON *.* TO `sluice`@`%` WITH GRANT OPTION"]);
        assert!(missing_privileges(&grants).is_empty());
    }

    #[test]
    fn replication_and_select_are_required() {
        let grants = lines(&["GRANT USAGE ON *.* TO `cdc`@`%`"]);
        assert_eq!(
            missing_privileges(&grants),
            ["REPLICATION SLAVE", "REPLICATION CLIENT", "SELECT"]
        );
        let grants = lines(&[
            "GRANT RELOAD, BINLOG MONITOR, REPLICATION SLAVE ON *.* TO `cdc`@`%`",
            "GRANT SELECT ON `inventory`.* TO `cdc`@`%`",
        ]);
        assert!(missing_privileges(&grants).is_empty());
    }
}
