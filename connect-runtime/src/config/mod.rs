//! Connector configuration: raw properties, declared keys, secrets.
//!
//! - [`props`]: parsing the JSON users send into string properties.
//! - [`def`]: declared keys with types, defaults and allowed values; validation.
//! - [`secrets`]: `${env:…}` / `${file:…}` references and masking of secret values.

pub mod def;
pub mod props;
pub mod secrets;

pub use def::{Config, ConfigDef, ConfigKey, ConfigType, ConfigValue, Importance, Presence};
pub use props::{NamedProps, Props, parse_named};
pub use secrets::{MASK, Secret};
