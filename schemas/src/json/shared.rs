//! The JSON of shared nested structs, written once and copied afterwards.
//!
//! A snapshot gives every row of a table the same `source` block: each event holds a clone of one
//! [`Struct`], whose values sit behind one shared `Arc`. Its JSON is then the same for every
//! event, about half of a snapshot row's bytes, so the converter keeps the bytes of the newest
//! few shared structs and appends them on the next sighting instead of writing the fields again.
//!
//! An entry is keyed by the addresses of the struct's values and of the schema it was written
//! under (the struct field's schema, which decides the bytes along with the values), plus the
//! decimal format. The entry holds clones of both, so neither address can be freed and reused by
//! another struct or schema while the entry exists, and values shared with the entry cannot be
//! changed in place (`Struct::put` copies values another clone still holds). Structs nobody else
//! holds (a row built for one event) never reach the cache: the writer checks the values'
//! reference count first.
//!
//! The converter is shared between threads through `&self`: the cache sits behind a mutex taken
//! with `try_lock` only, so a thread that finds it busy just writes the struct itself.

use parking_lot::Mutex;

use super::DecimalFormat;
use crate::error::Result;
use crate::schema::SchemaRef;
use crate::value::Struct;

/// How many shared structs are kept: the table's `source` block, with room for a few others
/// (rows a connector keeps as `before`) that must not evict it on every event.
const ENTRIES: usize = 4;

/// Larger structs are written each time: keeps the cache's memory bounded
/// (`ENTRIES` × this, at most 16 KiB per converter).
const MAX_ENTRY_BYTES: usize = 4096;

/// Where a shared struct's bytes came from: what decides them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Key {
    /// The address of the struct's values.
    values: usize,
    /// The address of the schema the struct was written under.
    schema: usize,
    decimals: DecimalFormat,
}

impl Key {
    fn of(value: &Struct, schema: &SchemaRef, decimals: DecimalFormat) -> Key {
        Key {
            values: value.values().as_ptr() as usize,
            schema: std::sync::Arc::as_ptr(schema) as usize,
            decimals,
        }
    }
}

/// One cached struct's bytes.
#[derive(Debug)]
struct Entry {
    key: Key,
    /// Keeps the values' address this entry's own (see the module doc).
    _value: Struct,
    /// Keeps the schema's address this entry's own.
    _schema: SchemaRef,
    bytes: Vec<u8>,
    /// The cache's clock when the entry was last written or read: the oldest is replaced.
    last_used: u64,
}

#[derive(Debug, Default)]
struct Entries {
    slots: Vec<Entry>,
    clock: u64,
}

impl Entries {
    fn find(&mut self, key: Key) -> Option<&[u8]> {
        self.clock += 1;
        let clock = self.clock;
        let entry = self.slots.iter_mut().find(|e| e.key == key)?;
        entry.last_used = clock;
        Some(&entry.bytes)
    }

    fn store(&mut self, key: Key, value: &Struct, schema: &SchemaRef, bytes: &[u8]) {
        self.clock += 1;
        let entry = Entry {
            key,
            _value: value.clone(),
            _schema: schema.clone(),
            bytes: Vec::new(),
            last_used: self.clock,
        };
        let slot = if self.slots.len() < ENTRIES {
            self.slots.push(entry);
            self.slots.len() - 1
        } else {
            let oldest = (0..self.slots.len())
                .min_by_key(|&i| self.slots[i].last_used)
                .unwrap_or(0);
            // Reuses the replaced entry's buffer.
            let replaced = std::mem::replace(&mut self.slots[oldest], entry);
            self.slots[oldest].bytes = replaced.bytes;
            oldest
        };
        let cached = &mut self.slots[slot].bytes;
        cached.clear();
        cached.extend_from_slice(bytes);
    }
}

/// The bytes of the newest shared structs the converter wrote.
#[derive(Debug, Default)]
pub(crate) struct SharedStructCache {
    entries: Mutex<Entries>,
}

impl SharedStructCache {
    /// Appends the JSON of `value`, written under `schema`: the cached bytes when this struct was
    /// written before, otherwise what `write` appends, which is then cached. For structs whose
    /// values are shared (see [`Struct::values_are_shared`]).
    pub(crate) fn write(
        &self,
        out: &mut Vec<u8>,
        value: &Struct,
        schema: &SchemaRef,
        decimals: DecimalFormat,
        write: impl FnOnce(&mut Vec<u8>) -> Result<()>,
    ) -> Result<()> {
        let key = Key::of(value, schema, decimals);
        if let Some(mut entries) = self.entries.try_lock()
            && let Some(bytes) = entries.find(key)
        {
            out.extend_from_slice(bytes);
            return Ok(());
        }
        let start = out.len();
        write(out)?;
        let written = &out[start..];
        if written.len() <= MAX_ENTRY_BYTES
            && let Some(mut entries) = self.entries.try_lock()
        {
            entries.store(key, value, schema, written);
        }
        Ok(())
    }

    /// How many structs are cached (for tests).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.lock().slots.len()
    }
}

#[cfg(test)]
#[path = "shared_tests.rs"]
mod tests;
