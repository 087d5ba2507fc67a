//! [`Lsn`]: a position in PostgreSQL's write-ahead log, shown and parsed as Postgres does.

use std::fmt;
use std::str::FromStr;

use crate::error::Error;

/// A write-ahead log position (`pg_lsn`, XLogRecPtr): a byte offset into the WAL stream.
///
/// Displays as Postgres prints it, two uppercase hex halves `X/Y` (e.g. `0/16B3748`), and
/// parses the same form (either case), so values read with SQL compare with decoded ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Lsn(pub u64);

impl Lsn {
    /// The invalid position `0/0`, which Postgres uses for "none".
    pub const INVALID: Lsn = Lsn(0);
}

impl fmt::Display for Lsn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:X}/{:X}", self.0 >> 32, self.0 & 0xFFFF_FFFF)
    }
}

impl FromStr for Lsn {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let invalid = || Error::InvalidLsn {
            text: text.to_owned(),
        };
        let (high, low) = text.split_once('/').ok_or_else(invalid)?;
        let half = |part: &str| {
            if part.is_empty() || part.len() > 8 {
                return Err(invalid());
            }
            u32::from_str_radix(part, 16).map_err(|_| invalid())
        };
        Ok(Lsn((u64::from(half(high)?) << 32) | u64::from(half(low)?)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn displays_like_postgres() {
        assert_eq!(Lsn(0x16B_3748).to_string(), "0/16B3748");
        assert_eq!(Lsn(0x1_0000_0000).to_string(), "1/0");
        assert_eq!(Lsn::INVALID.to_string(), "0/0");
    }

    #[test]
    fn parses_postgres_text() {
        assert_eq!("0/16b3748".parse::<Lsn>().unwrap(), Lsn(0x16B_3748));
        assert_eq!("A/FF".parse::<Lsn>().unwrap(), Lsn(0xA_0000_00FF));
    }

    #[test]
    fn rejects_malformed_text_naming_it() {
        for bad in ["", "0", "/1", "1/", "0/G", "123456789/0", "0/1/2"] {
            let error = bad.parse::<Lsn>().unwrap_err();
            assert!(error.to_string().contains(&format!("{bad:?}")), "{error}");
        }
    }

    proptest! {
        #[test]
        fn display_then_parse_round_trips(raw in any::<u64>()) {
            prop_assert_eq!(Lsn(raw).to_string().parse::<Lsn>().unwrap(), Lsn(raw));
        }
    }
}
