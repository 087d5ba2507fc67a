//! Row images of a rows event, decoded straight into [`Cell`]s.
//!
//! mysql_common's own row iterator builds a full result-set `Column` (schema, table and name
//! copied into new buffers) for every column of every row and re-parses the TABLE_MAP's
//! optional metadata per row; on a bulk insert that was most of the decoding time. Here the
//! per-column decoding inputs (real type, type metadata, signedness) are worked out once per
//! TABLE_MAP into a [`RowLayout`], and each value is still parsed by mysql_common's
//! `BinlogValue` (so every column type decodes exactly as before), then turned into a cell.

use mysql_common::binlog::events::{OptionalMetadataField, TableMapEvent};
use mysql_common::binlog::value::BinlogValue;
use mysql_common::constants::ColumnType;
use mysql_common::io::ParseBuf;

use super::cell::Cell;
use super::table::TableMap;

/// `value_options` bit of a PARTIAL_UPDATE_ROWS after-image: partial JSON updates follow.
const PARTIAL_JSON_UPDATES: u64 = 1;

/// What decoding one column's values needs, taken from its TABLE_MAP once.
#[derive(Debug, Clone, PartialEq)]
struct ColumnDecoding {
    column_type: ColumnType,
    meta: Vec<u8>,
    unsigned: bool,
    /// For JSON columns, their rank among the table's JSON columns (the bit of the column in
    /// a partial update's bitmap).
    json_rank: Option<usize>,
}

/// How to decode the row images of one table (one TABLE_MAP).
#[derive(Debug, Clone, PartialEq)]
pub struct RowLayout {
    columns: Vec<ColumnDecoding>,
    json_columns: usize,
}

fn invalid(detail: impl Into<String>) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, detail.into())
}

impl RowLayout {
    /// The layout of the table a TABLE_MAP describes.
    pub fn from_event(event: &TableMapEvent<'_>) -> std::io::Result<Self> {
        let count = event.columns_count() as usize;
        // Signedness bits come in the order of mysql_common's numeric types, as its own
        // row decoder reads them.
        let mut signedness: Vec<bool> = Vec::new();
        for field in event.iter_optional_meta() {
            if let OptionalMetadataField::Signedness(bits) = field? {
                signedness = bits.iter().map(|bit| *bit).collect();
            }
        }
        let mut signedness = signedness.into_iter();
        let mut columns = Vec::with_capacity(count);
        let mut json_columns = 0;
        for index in 0..count {
            let column_type = event
                .get_column_type(index)
                .map_err(invalid_type)?
                .ok_or_else(|| invalid(format!("column {index} has no type")))?;
            let json_rank = (column_type == ColumnType::MYSQL_TYPE_JSON).then(|| {
                json_columns += 1;
                json_columns - 1
            });
            let unsigned = column_type.is_numeric_type() && signedness.next().unwrap_or(false);
            columns.push(ColumnDecoding {
                column_type,
                meta: event
                    .get_column_metadata(index)
                    .unwrap_or_default()
                    .to_vec(),
                unsigned,
                json_rank,
            });
        }
        Ok(Self {
            columns,
            json_columns,
        })
    }

    pub fn column_count(&self) -> usize {
        self.columns.len()
    }
}

fn invalid_type(error: impl std::fmt::Display) -> std::io::Error {
    invalid(format!("bad column type: {error}"))
}

/// Bit `index` of a little-endian-ordered bitmap (bit 0 = lowest bit of byte 0).
fn bit(bitmap: &[u8], index: usize) -> bool {
    bitmap
        .get(index / 8)
        .is_some_and(|byte| byte >> (index % 8) & 1 == 1)
}

/// A length-encoded integer.
fn lenenc(buf: &mut ParseBuf<'_>) -> std::io::Result<u64> {
    let first = *buf
        .0
        .first()
        .ok_or_else(|| invalid("truncated length-encoded integer"))?;
    let width = match first {
        0xfc => 2,
        0xfd => 3,
        0xfe => 8,
        0xfb | 0xff => return Err(invalid("bad length-encoded integer")),
        small => {
            buf.0 = &buf.0[1..];
            return Ok(u64::from(small));
        }
    };
    let bytes = buf
        .0
        .get(1..=width)
        .ok_or_else(|| invalid("truncated length-encoded integer"))?;
    let value = bytes
        .iter()
        .rev()
        .fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
    buf.0 = &buf.0[1 + width..];
    Ok(value)
}

fn take<'a>(buf: &mut ParseBuf<'a>, len: usize) -> std::io::Result<&'a [u8]> {
    let bytes = buf
        .0
        .get(..len)
        .ok_or_else(|| invalid("row image is truncated"))?;
    buf.0 = &buf.0[len..];
    Ok(bytes)
}

/// Which table columns an image holds (the rows event's column bitmap, one flag a column).
#[derive(Debug, Clone)]
pub struct ImageColumns {
    present: Vec<bool>,
    count: usize,
}

impl ImageColumns {
    pub fn new(present: Vec<bool>) -> Self {
        let count = present.iter().filter(|p| **p).count();
        Self { present, count }
    }
}

/// Decodes one row image from `buf` (advancing it): all table columns, [`Cell::Absent`] for
/// those the image leaves out. `shared_image` is set for the after-image of a
/// PARTIAL_UPDATE_ROWS event, which starts with the partial-JSON header.
pub fn decode_image<'a>(
    buf: &mut ParseBuf<'a>,
    columns: &ImageColumns,
    shared_image: bool,
    layout: &'a RowLayout,
    map: &TableMap,
    position: &str,
) -> crate::error::Result<Vec<Cell>> {
    let decode_error = |source| crate::error::Error::Decode {
        context: format!("{position}: row image of {}.{}", map.schema, map.table),
        source,
    };
    let mut partial: Option<&[u8]> = None;
    if shared_image {
        let options = lenenc(buf).map_err(decode_error)?;
        if options & PARTIAL_JSON_UPDATES != 0 {
            partial = Some(take(buf, layout.json_columns.div_ceil(8)).map_err(decode_error)?);
        }
    }
    let nulls = take(buf, columns.count.div_ceil(8)).map_err(decode_error)?;
    let mut cells = Vec::with_capacity(layout.columns.len());
    let mut image_index = 0;
    for (index, (decoding, info)) in layout.columns.iter().zip(&map.columns).enumerate() {
        let is_partial = decoding
            .json_rank
            .is_some_and(|rank| partial.is_some_and(|bits| bit(bits, rank)));
        if !columns.present.get(index).copied().unwrap_or(false) {
            cells.push(Cell::Absent);
            continue;
        }
        let null = image_index >= columns.count || bit(nulls, image_index);
        image_index += 1;
        if null {
            cells.push(Cell::Null);
            continue;
        }
        let context = (
            decoding.column_type,
            decoding.meta.as_slice(),
            decoding.unsigned,
            is_partial,
        );
        let value: BinlogValue<'_> = buf.parse(context).map_err(decode_error)?;
        cells.push(Cell::from_binlog(Some(value), info)?);
    }
    Ok(cells)
}
