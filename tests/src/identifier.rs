//! Validation of names the harness splices into SQL (database and user names).
//!
//! The harness only creates objects with plain names, so it can use them unquoted in both
//! PostgreSQL and MariaDB without any escaping rules.

use crate::error::{Error, Result};

/// Accepts ASCII letters, digits and `_`, not starting with a digit, at most 63 bytes
/// (PostgreSQL's identifier limit, below MariaDB's 64).
pub(crate) fn require_plain_identifier(name: &str) -> Result<()> {
    let mut chars = name.chars();
    let plain = matches!(chars.next(), Some(first) if first.is_ascii_alphabetic() || first == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name.len() <= 63;
    if plain {
        Ok(())
    } else {
        Err(Error::InvalidIdentifier {
            name: name.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_names_pass() {
        for name in ["orders", "_x", "shop_2", "A"] {
            require_plain_identifier(name).unwrap();
        }
    }

    #[test]
    fn names_needing_quotes_are_rejected() {
        for name in [
            "",
            "2shop",
            "drop table x",
            "a;b",
            "café",
            "a-b",
            &"x".repeat(64),
        ] {
            assert!(
                matches!(
                    require_plain_identifier(name),
                    Err(Error::InvalidIdentifier { .. })
                ),
                "{name:?} was accepted"
            );
        }
    }
}
