//! JSON lines: one JSON object per change, one line each. Rows with a schema are written
//! column by column (the layout's columns, metadata last); schemaless rows (maps) are written
//! as they are, followed by the metadata columns they do not already have.

use std::fs::File;
use std::io::{BufWriter, Write};

use crate::cell::{Cell, cell, meta_cell};
use crate::columns::{Layout, Meta};
use crate::config::Mode;
use crate::error::{Error, Result};
use crate::event::{Change, Row, map_get};
use crate::format::FormatWriter;
use crate::json::{write_int, write_value};
use sluice_schemas::json::write::write_str;

/// Bytes buffered before a write to the file.
const BUFFER: usize = 256 * 1024;

#[derive(Debug)]
pub struct JsonLinesWriter {
    out: BufWriter<File>,
    layout: Option<Layout>,
    mode: Mode,
    line: Vec<u8>,
    written: u64,
}

impl JsonLinesWriter {
    pub fn new(file: File, layout: Option<Layout>, mode: Mode) -> Self {
        Self {
            out: BufWriter::with_capacity(BUFFER, file),
            layout,
            mode,
            line: Vec::with_capacity(1024),
            written: 0,
        }
    }

    fn write_line(&mut self, change: &Change<'_>) {
        let line = &mut self.line;
        line.clear();
        line.push(b'{');
        let mut first = true;
        let mut key = |line: &mut Vec<u8>, name: &str| {
            if !std::mem::take(&mut first) {
                line.push(b',');
            }
            write_str(line, name);
            line.push(b':');
        };
        match (&self.layout, change.row) {
            (Some(layout), _) => {
                for column in &layout.columns {
                    key(line, &column.name);
                    write_cell(line, cell(change, column));
                }
            }
            (None, row) => {
                let entries = match row {
                    Row::Map(entries) => entries,
                    Row::Struct(_) | Row::Absent => &[],
                };
                for (name, value) in entries {
                    key(line, name.as_str().unwrap_or_default());
                    write_value(line, None, value);
                }
                if self.mode == Mode::Changelog {
                    for meta in Meta::ALL {
                        if map_get(entries, meta.name()).is_none() {
                            key(line, meta.name());
                            write_cell(line, meta_cell(change, meta));
                        }
                    }
                }
            }
        }
        line.extend_from_slice(b"}\n");
    }
}

fn write_cell(line: &mut Vec<u8>, cell: Cell<'_>) {
    match cell {
        Cell::Null => line.extend_from_slice(b"null"),
        Cell::Value(value, schema) => write_value(line, Some(schema), value),
        Cell::Str(text) => write_str(line, text),
        Cell::Int(number) => write_int(line, number),
        Cell::Bool(flag) => line.extend_from_slice(if flag { b"true" } else { b"false" }),
        Cell::Position(position) => {
            let _ = write!(line, "\"{position}\"");
        }
    }
}

impl FormatWriter for JsonLinesWriter {
    fn append(&mut self, change: &Change<'_>) -> Result<()> {
        self.write_line(change);
        self.out
            .write_all(&self.line)
            .map_err(|e| Error::io("cannot write a JSON line", e))?;
        self.written += self.line.len() as u64;
        Ok(())
    }

    fn bytes_written(&self) -> u64 {
        self.written
    }

    fn finish(mut self: Box<Self>) -> Result<()> {
        self.out
            .flush()
            .map_err(|e| Error::io("cannot write a JSON lines file", e))
    }
}
