//! Request bodies: how events are framed in one request (`body.format`) and the matching
//! `Content-Type`, in plain and CloudEvents structured mode.

use std::fmt;
use std::str::FromStr;

/// How the events of one batch make up a request body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFormat {
    /// `[e1,e2,…]`.
    JsonArray,
    /// One event per line, each ending with `\n`.
    Ndjson,
    /// One event per request, the event itself.
    Single,
}

/// Whether events are plain envelopes or CloudEvents (which changes the content type).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventStyle {
    Plain,
    CloudEvents,
}

impl FromStr for BodyFormat {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "json-array" => Ok(Self::JsonArray),
            "ndjson" => Ok(Self::Ndjson),
            "single" => Ok(Self::Single),
            other => Err(format!("{other:?} is not json-array, ndjson or single")),
        }
    }
}

impl fmt::Display for BodyFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::JsonArray => "json-array",
            Self::Ndjson => "ndjson",
            Self::Single => "single",
        })
    }
}

impl BodyFormat {
    /// Starts an empty body.
    pub fn open(self, body: &mut Vec<u8>) {
        if self == Self::JsonArray {
            body.push(b'[');
        }
    }

    /// Appends one serialized event; `first` when the body holds none yet.
    pub fn push(self, body: &mut Vec<u8>, event: &[u8], first: bool) {
        if self == Self::JsonArray && !first {
            body.push(b',');
        }
        body.extend_from_slice(event);
        if self == Self::Ndjson {
            body.push(b'\n');
        }
    }

    /// Ends a body holding at least one event.
    pub fn close(self, body: &mut Vec<u8>) {
        if self == Self::JsonArray {
            body.push(b']');
        }
    }

    /// The bytes `push` and `close` add around an event of `len` bytes, at most.
    pub fn framed_len(self, len: usize) -> usize {
        match self {
            Self::JsonArray => len + 2,
            Self::Ndjson => len + 1,
            Self::Single => len,
        }
    }

    pub fn content_type(self, style: EventStyle) -> &'static str {
        match (self, style) {
            (Self::JsonArray, EventStyle::Plain) | (Self::Single, EventStyle::Plain) => {
                "application/json"
            }
            (Self::Ndjson, _) => "application/x-ndjson",
            (Self::JsonArray, EventStyle::CloudEvents) => "application/cloudevents-batch+json",
            (Self::Single, EventStyle::CloudEvents) => "application/cloudevents+json",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(format: BodyFormat, events: &[&str]) -> String {
        let mut out = Vec::new();
        format.open(&mut out);
        for (i, event) in events.iter().enumerate() {
            format.push(&mut out, event.as_bytes(), i == 0);
        }
        format.close(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn framing_per_format() {
        assert_eq!(body(BodyFormat::JsonArray, &["1", "{}"]), "[1,{}]");
        assert_eq!(body(BodyFormat::Ndjson, &["1", "{}"]), "1\n{}\n");
        assert_eq!(body(BodyFormat::Single, &["{}"]), "{}");
        assert_eq!("NDJSON".parse::<BodyFormat>(), Ok(BodyFormat::Ndjson));
        assert!("xml".parse::<BodyFormat>().is_err());
    }

    #[test]
    fn content_types() {
        use EventStyle::*;
        assert_eq!(
            BodyFormat::JsonArray.content_type(Plain),
            "application/json"
        );
        assert_eq!(
            BodyFormat::JsonArray.content_type(CloudEvents),
            "application/cloudevents-batch+json"
        );
        assert_eq!(
            BodyFormat::Single.content_type(CloudEvents),
            "application/cloudevents+json"
        );
        assert_eq!(
            BodyFormat::Ndjson.content_type(Plain),
            "application/x-ndjson"
        );
    }
}
