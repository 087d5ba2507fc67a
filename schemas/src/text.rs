//! [`Text`]: the immutable string inside [`crate::Value::String`], whose `clone()` never
//! allocates.
//!
//! Every change event is a tree of values, and most of its strings are either short (a column's
//! `'abc'`, the source block's `"postgresql"`, `"public"`, `"true"`) or the same for every record
//! (connector name, database, table). A `String` costs one allocation and one free per field per
//! record, and cloning the `source` struct a snapshot shares between rows copied each one again.
//! `Text` stores strings of up to 23 bytes inline, `&'static str` constants by reference, and
//! longer strings behind a reference count, so cloning is a copy or a counter increment.
//!
//! It is a newtype over `smol_str::SmolStr` rather than a re-export: the workspace sees only the
//! string-like API below, so the representation (for example borrowing from a decoded row buffer)
//! can change later without touching the crates that build and match values.

use std::borrow::Borrow;
use std::fmt;
use std::ops::Deref;

use smol_str::SmolStr;

/// An immutable string whose `clone()` never allocates: inline up to 23 bytes, shared
/// (reference-counted) beyond, or a `&'static str`.
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Text(SmolStr);

impl Text {
    /// Text copied from `text` (inline when short, one shared allocation otherwise).
    pub fn new(text: impl AsRef<str>) -> Text {
        Text(SmolStr::new(text.as_ref()))
    }

    /// Text that refers to a constant: never copies nor allocates, usable in `const` items.
    pub const fn from_static(text: &'static str) -> Text {
        Text(SmolStr::new_static(text))
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// Whether the text lives in a shared heap allocation (false when inline or static): for tests
    /// and benchmarks that check where allocations go.
    pub fn is_heap_allocated(&self) -> bool {
        self.0.is_heap_allocated()
    }
}

impl Deref for Text {
    type Target = str;

    fn deref(&self) -> &str {
        self.0.as_str()
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        self.0.as_str()
    }
}

impl AsRef<[u8]> for Text {
    fn as_ref(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl Borrow<str> for Text {
    fn borrow(&self) -> &str {
        self.0.as_str()
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.0.as_str(), f)
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.0.as_str(), f)
    }
}

/// Serialized as a plain string (for `serde_json::json!` and friends).
impl serde::Serialize for Text {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl From<String> for Text {
    fn from(text: String) -> Text {
        Text(SmolStr::from(text))
    }
}

impl From<&String> for Text {
    fn from(text: &String) -> Text {
        Text(SmolStr::new(text))
    }
}

impl From<&str> for Text {
    fn from(text: &str) -> Text {
        Text(SmolStr::new(text))
    }
}

impl From<Box<str>> for Text {
    fn from(text: Box<str>) -> Text {
        Text(SmolStr::from(text))
    }
}

impl From<Text> for String {
    fn from(text: Text) -> String {
        String::from(text.0)
    }
}

/// Equality with the string types, both ways round, so `text == "x"` and `"x" == text` read alike.
macro_rules! text_eq {
    ($($other:ty),*) => {
        $(impl PartialEq<$other> for Text {
            fn eq(&self, other: &$other) -> bool {
                self.as_str() == AsRef::<str>::as_ref(other)
            }
        }
        impl PartialEq<Text> for $other {
            fn eq(&self, other: &Text) -> bool {
                AsRef::<str>::as_ref(self) == other.as_str()
            }
        })*
    };
}

text_eq!(str, &str, String, &String);

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[test]
    fn short_and_static_texts_do_not_allocate_and_long_ones_share() {
        let short = Text::from("twenty-three bytes long");
        assert_eq!(short.len(), 23);
        assert!(!short.is_heap_allocated());
        const CONNECTOR: Text = Text::from_static("a constant far longer than twenty-three bytes");
        assert!(!CONNECTOR.is_heap_allocated());
        let long = Text::from("twenty-four bytes long!!".to_string());
        assert!(long.is_heap_allocated());
        let copy = long.clone();
        assert_eq!(
            copy.as_ptr(),
            long.as_ptr(),
            "a clone shares the allocation"
        );
    }

    #[test]
    fn compares_hashes_and_prints_like_a_string() {
        let text = Text::new("public");
        assert_eq!(text, "public");
        assert_eq!("public", text);
        assert_eq!(text, "public".to_string());
        assert_eq!(&"public".to_string(), text);
        let mut sorted = vec![Text::from("b"), Text::from("a")];
        sorted.sort();
        assert_eq!(sorted, ["a", "b"]);
        assert_eq!(format!("{text} {text:?}"), "public \"public\"");
        let mut by_name = HashMap::new();
        by_name.insert(text.clone(), 1);
        assert_eq!(by_name.get("public"), Some(&1));
        assert_eq!(String::from(text), "public");
        assert_eq!(Text::default(), "");
    }
}
