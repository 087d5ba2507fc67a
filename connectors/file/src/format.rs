//! The file formats behind one small interface: a [`FormatWriter`] appends changes to an
//! open file and finishes it (trailer, footer); committing the file is the caller's job.

use std::fmt;
use std::fs::File;
use std::path::Path;

use crate::avro_file::AvroWriter;
use crate::columns::Layout;
use crate::config::{Compression, Format, Mode};
use crate::error::{Error, Result};
use crate::event::Change;
use crate::jsonl::JsonLinesWriter;
use crate::parquet_file::ParquetWriter;

/// Writes changes into one file of one format.
pub trait FormatWriter: Send + fmt::Debug {
    /// Appends one change as a row.
    fn append(&mut self, change: &Change<'_>) -> Result<()>;

    /// Bytes written or buffered so far (what `file.size.max.bytes` compares with).
    fn bytes_written(&self) -> u64;

    /// Writes everything buffered and the format's trailer; the file is then complete but not
    /// yet synced to disk.
    fn finish(self: Box<Self>) -> Result<()>;
}

/// What a new file is written with.
#[derive(Debug, Clone, Copy)]
pub struct FileSpec {
    pub format: Format,
    pub compression: Compression,
    pub mode: Mode,
}

/// A writer for a new file at `path`; `layout` is `None` for schemaless rows, which only JSON
/// lines can hold.
pub fn open_writer(
    spec: FileSpec,
    layout: Option<Layout>,
    file: File,
    path: &Path,
) -> Result<Box<dyn FormatWriter>> {
    match (spec.format, layout) {
        (Format::JsonLines, layout) => Ok(Box::new(JsonLinesWriter::new(file, layout, spec.mode))),
        (Format::Avro, Some(layout)) => Ok(Box::new(AvroWriter::new(
            file,
            path,
            layout,
            spec.compression,
        )?)),
        (Format::Parquet, Some(layout)) => Ok(Box::new(ParquetWriter::new(
            file,
            path,
            layout,
            spec.compression,
        )?)),
        (format, None) => Err(Error::Config {
            key: crate::config::FORMAT,
            value: format.extension().into(),
            reason: "the records have no schema (JSON without schemas), so their columns are unknown: use format=jsonl, or a converter with schemas (value.converter.schemas.enable=true, or Avro)".into(),
        }),
    }
}
