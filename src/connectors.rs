//! The connectors this binary offers: the plain name → factory table the worker uses to
//! resolve `connector.class`.

use sluice_connect::registry::ConnectorRegistry;

/// Every connector compiled into `sluice`.
pub fn registry() -> anyhow::Result<ConnectorRegistry> {
    let mut registry = ConnectorRegistry::new();
    sluice_connect::builtin::register(&mut registry)?;
    sluice_postgres::register(&mut registry)?;
    sluice_mysql::register(&mut registry)?;
    sluice_file::register(&mut registry)?;
    sluice_http::register(&mut registry)?;
    Ok(registry)
}
