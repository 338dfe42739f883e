//! Parquet files (`.parquet`), read with the `parquet` feature into the same [`Table`] that
//! a CSV file of the same data gives.
//!
//! Every column becomes text cells, the text a CSV writer puts down for its values, so that
//! the preprocessing decides what each column is exactly as it does for CSV:
//!
//! - integers (8 to 64 bits, signed or not): their digits;
//! - floats: the shortest text that reads back as the same value of the column's width,
//!   without an exponent (an `f32` `0.1` is `0.1`, not the `0.10000000149011612` of its
//!   `f64`); NaN and infinities become `NaN`, `inf`, `-inf`, which are refused later, as in a
//!   CSV file;
//! - decimals: their exact digits (`12.50`);
//! - booleans: `true`, `false`;
//! - strings: their text, trimmed, like a CSV cell; a dictionary-encoded column is read as
//!   its values;
//! - dates: `YYYY-MM-DD` (a `Date64` that is not midnight keeps its time, as a timestamp);
//! - timestamps: `YYYY-MM-DDTHH:MM:SS`, with the unit's fraction (`.fff`, `.ffffff`,
//!   `.fffffffff`) when there is one, and `Z` when the column has a time zone (the values are
//!   UTC instants then); times of day: `HH:MM:SS[.fff]`;
//! - null: an empty cell, a missing value as in a CSV file.
//!
//! Any other type (lists, structs, maps, binary, 16-bit floats) is an
//! [`Error::UnsupportedColumn`] naming the column and its type, before any data is read.
//! Column names are trimmed like a CSV header. Rows are records, numbered from 1 in messages.
//!
//! The types are those of the Arrow schema that Arrow writers (pyarrow, arrow-rs) store in the
//! file's metadata (`ARROW:schema`), where it passes the checks of `embedded_schema.rs`
//! (the parquet crate's decoder of it panics on a type it does not know; found by the
//! `parquet` fuzz target, issue 14), else those of the Parquet schema alone.

use crate::csv::{check_names, resolve_target};
use crate::error::{Error, Result};
use crate::source::{open, text_columns, TargetSelect};
use crate::table::{Table, TextCells};
use arrow_array::cast::AsArray;
use arrow_array::types::{
    ArrowPrimitiveType, Date32Type, Date64Type, Decimal128Type, Decimal256Type, Decimal32Type,
    Decimal64Type, DecimalType, Float32Type, Float64Type, Int16Type, Int32Type, Int64Type,
    Int8Type, Time32MillisecondType, Time32SecondType, Time64MicrosecondType, Time64NanosecondType,
    TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType, UInt16Type, UInt32Type, UInt64Type, UInt8Type,
};
use arrow_array::{Array, PrimitiveArray};
use arrow_schema::{DataType, TimeUnit};
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
};
use parquet::arrow::ARROW_SCHEMA_META_KEY;
use parquet::errors::ParquetError;
use std::fmt::{Display, Write};
use std::path::Path;

/// Reads a Parquet file and picks its target column.
pub fn load(path: &Path, target: &TargetSelect) -> Result<Table> {
    let name = path.display().to_string();
    let format_error = |message: String| Error::Format {
        file: name.clone(),
        message,
    };
    let not_readable = |e: ParquetError| format_error(format!("not a readable Parquet file ({e})"));
    let file = open(path)?;
    // The footer first, without the embedded Arrow schema, which is decoded only if it is
    // safe to (see the module doc). The parquet crate reads the last entry of that key.
    // (See `parquet_footer.rs` for what guards its decoding.)
    let footer = std::sync::Arc::new(crate::parquet_footer::decode(&file, &name)?);
    let plain = ArrowReaderMetadata::try_new(
        footer,
        ArrowReaderOptions::new().with_skip_arrow_metadata(true),
    )
    .map_err(not_readable)?;
    // The parquet crate asserts (panics) on a column chunk's negative offset or size, found
    // by the `parquet` fuzz target: refused here first.
    for (group, row_group) in plain.metadata().row_groups().iter().enumerate() {
        for (column, chunk) in row_group.columns().iter().enumerate() {
            let start = chunk
                .dictionary_page_offset()
                .unwrap_or(chunk.data_page_offset());
            if start < 0 || chunk.compressed_size() < 0 {
                return Err(format_error(format!(
                    "not a readable Parquet file (row group {}, column {}: offset {start}, \
                     size {}; neither may be negative)",
                    group + 1,
                    column + 1,
                    chunk.compressed_size()
                )));
            }
        }
    }
    let hints: Vec<Option<&str>> = plain
        .metadata()
        .file_metadata()
        .key_value_metadata()
        .into_iter()
        .flatten()
        .filter(|entry| entry.key == ARROW_SCHEMA_META_KEY)
        .map(|entry| entry.value.as_deref())
        .collect();
    let decodable = |hint: &Option<&str>| hint.is_none_or(crate::embedded_schema::is_decodable);
    let metadata = if !hints.is_empty() && hints.iter().all(decodable) {
        ArrowReaderMetadata::try_new(plain.metadata().clone(), ArrowReaderOptions::new())
            .map_err(not_readable)?
    } else {
        plain
    };
    let builder = ParquetRecordBatchReaderBuilder::new_with_metadata(file, metadata);
    let fields = builder.schema().fields().clone();
    if fields.is_empty() {
        return Err(format_error("the file has no columns".to_string()));
    }
    let names: Vec<String> = fields.iter().map(|f| f.name().trim().to_string()).collect();
    for (i, field) in fields.iter().enumerate() {
        if !supported(field.data_type()) {
            return Err(Error::UnsupportedColumn {
                file: name.clone(),
                column: names[i].clone(),
                number: i + 1,
                kind: field.data_type().to_string(),
            });
        }
    }
    check_names(&names, &name)?;
    let target = resolve_target(&names, target, &name)?;

    let mut cells = vec![TextCells::default(); names.len()];
    // The page decoders of the parquet and arrow crates panicked on malformed pages that pass
    // every check of the footer, at seven places the `parquet` fuzz target found; the patched
    // crate (vendor/PATCHES.md) returns errors there. A panic at a place not yet found is
    // still caught here and becomes the error of an unreadable file (its own message printed
    // first, by the process's panic hook).
    let decoded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| -> Result<()> {
        let reader = builder
            .build()
            .map_err(|e| format_error(format!("cannot read the rows ({e})")))?;
        for batch in reader {
            let batch = batch.map_err(|e| format_error(format!("cannot read the rows ({e})")))?;
            for (column, array) in cells.iter_mut().zip(batch.columns()) {
                push_cells(array.as_ref(), column).map_err(format_error)?;
            }
        }
        Ok(())
    }));
    match decoded {
        Ok(result) => result?,
        Err(panic) => {
            let why = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "no message".to_string());
            return Err(format_error(format!(
                "not a readable Parquet file (its pages made the parquet decoder fail: {why})"
            )));
        }
    }
    let rows = cells[0].len();
    if rows == 0 {
        return Err(format_error("the file has no rows".to_string()));
    }
    let columns = text_columns(names, cells, &name);
    Ok(Table::from_records(name, rows, columns, target))
}

/// Whether [`push_cells`] reads columns of this type.
fn supported(kind: &DataType) -> bool {
    use DataType as T;
    match kind {
        T::Null
        | T::Boolean
        | T::Int8
        | T::Int16
        | T::Int32
        | T::Int64
        | T::UInt8
        | T::UInt16
        | T::UInt32
        | T::UInt64
        | T::Float32
        | T::Float64
        | T::Decimal32(..)
        | T::Decimal64(..)
        | T::Decimal128(..)
        | T::Decimal256(..)
        | T::Utf8
        | T::LargeUtf8
        | T::Utf8View
        | T::Date32
        | T::Date64
        | T::Timestamp(..)
        | T::Time32(TimeUnit::Second | TimeUnit::Millisecond)
        | T::Time64(TimeUnit::Microsecond | TimeUnit::Nanosecond) => true,
        T::Dictionary(_, values) => supported(values),
        _ => false,
    }
}

/// Appends the cells of `array` as text (the mapping of the module doc); the message of an
/// error says what is wrong with the file.
fn push_cells(array: &dyn Array, cells: &mut TextCells) -> Result<(), String> {
    use DataType as T;
    match array.data_type() {
        T::Null => (0..array.len()).for_each(|_| cells.push("")),
        T::Boolean => array
            .as_boolean()
            .iter()
            .for_each(|v| cells.push(v.map_or("", |v| if v { "true" } else { "false" }))),
        T::Int8 => display::<Int8Type>(array, cells),
        T::Int16 => display::<Int16Type>(array, cells),
        T::Int32 => display::<Int32Type>(array, cells),
        T::Int64 => display::<Int64Type>(array, cells),
        T::UInt8 => display::<UInt8Type>(array, cells),
        T::UInt16 => display::<UInt16Type>(array, cells),
        T::UInt32 => display::<UInt32Type>(array, cells),
        T::UInt64 => display::<UInt64Type>(array, cells),
        // Rust's display of a float is the shortest text that reads back the same.
        T::Float32 => display::<Float32Type>(array, cells),
        T::Float64 => display::<Float64Type>(array, cells),
        T::Decimal32(..) => decimal::<Decimal32Type>(array, cells),
        T::Decimal64(..) => decimal::<Decimal64Type>(array, cells),
        T::Decimal128(..) => decimal::<Decimal128Type>(array, cells),
        T::Decimal256(..) => decimal::<Decimal256Type>(array, cells),
        T::Utf8 => strings(array.as_string::<i32>().iter(), cells),
        T::LargeUtf8 => strings(array.as_string::<i64>().iter(), cells),
        T::Utf8View => strings(array.as_string_view().iter(), cells),
        T::Date32 => each::<Date32Type>(array, cells, |days, out| {
            write_date(out, i64::from(days));
        }),
        T::Date64 => each::<Date64Type>(array, cells, |ms, out| {
            if ms.rem_euclid(MS_PER_DAY) == 0 {
                write_date(out, ms.div_euclid(MS_PER_DAY));
            } else {
                write_timestamp(out, ms, 1_000, false);
            }
        }),
        T::Timestamp(unit, zone) => {
            let zoned = zone.is_some();
            match unit {
                TimeUnit::Second => each::<TimestampSecondType>(array, cells, |v, out| {
                    write_timestamp(out, v, 1, zoned)
                }),
                TimeUnit::Millisecond => {
                    each::<TimestampMillisecondType>(array, cells, |v, out| {
                        write_timestamp(out, v, 1_000, zoned)
                    })
                }
                TimeUnit::Microsecond => {
                    each::<TimestampMicrosecondType>(array, cells, |v, out| {
                        write_timestamp(out, v, 1_000_000, zoned)
                    })
                }
                TimeUnit::Nanosecond => each::<TimestampNanosecondType>(array, cells, |v, out| {
                    write_timestamp(out, v, 1_000_000_000, zoned)
                }),
            }
        }
        T::Time32(TimeUnit::Second) => {
            each::<Time32SecondType>(array, cells, |v, out| write_time(out, i64::from(v), 1))
        }
        T::Time32(TimeUnit::Millisecond) => {
            each::<Time32MillisecondType>(array, cells, |v, out| {
                write_time(out, i64::from(v), 1_000)
            })
        }
        T::Time64(TimeUnit::Microsecond) => {
            each::<Time64MicrosecondType>(array, cells, |v, out| write_time(out, v, 1_000_000))
        }
        T::Time64(TimeUnit::Nanosecond) => {
            each::<Time64NanosecondType>(array, cells, |v, out| write_time(out, v, 1_000_000_000))
        }
        T::Dictionary(..) => {
            let dictionary = array.as_any_dictionary();
            let mut values = TextCells::default();
            push_cells(dictionary.values().as_ref(), &mut values)?;
            let keys = if values.is_empty() {
                vec![0; array.len()]
            } else {
                dictionary.normalized_keys()
            };
            for (row, key) in keys.into_iter().enumerate() {
                if array.is_null(row) {
                    cells.push("");
                } else if key < values.len() {
                    cells.push(values.get(key));
                } else {
                    return Err(format!(
                        "a dictionary-encoded column refers to value {key} of {}",
                        values.len()
                    ));
                }
            }
        }
        other => return Err(format!("cannot read a column of type {other}")),
    }
    Ok(())
}

const MS_PER_DAY: i64 = 86_400_000;

/// Appends each value of a primitive column with `write`, reusing one buffer.
fn each<T: ArrowPrimitiveType>(
    array: &dyn Array,
    cells: &mut TextCells,
    mut write: impl FnMut(T::Native, &mut String),
) {
    let mut text = String::new();
    for value in array.as_primitive::<T>().iter() {
        text.clear();
        if let Some(value) = value {
            write(value, &mut text);
        }
        cells.push(&text);
    }
}

/// Appends each value of a primitive column as it displays.
fn display<T: ArrowPrimitiveType>(array: &dyn Array, cells: &mut TextCells)
where
    T::Native: Display,
{
    each::<T>(array, cells, |v, out| {
        let _ = write!(out, "{v}");
    });
}

/// Appends each value of a decimal column as its exact digits.
fn decimal<T: DecimalType>(array: &dyn Array, cells: &mut TextCells) {
    let array: &PrimitiveArray<T> = array.as_primitive::<T>();
    for row in 0..array.len() {
        if array.is_null(row) {
            cells.push("");
        } else {
            cells.push(&array.value_as_string(row));
        }
    }
}

/// Appends each string, trimmed.
fn strings<'a>(values: impl Iterator<Item = Option<&'a str>>, cells: &mut TextCells) {
    for value in values {
        cells.push(value.map_or("", str::trim));
    }
}

/// `YYYY-MM-DD` for a day counted from 1970-01-01 (proleptic Gregorian calendar; a year
/// outside 0..=9999 gets its sign and at least four digits, as ISO 8601 extends it).
fn write_date(out: &mut String, days: i64) {
    let (year, month, day) = civil_from_days(days);
    let _ = if (0..=9999).contains(&year) {
        write!(out, "{year:04}-{month:02}-{day:02}")
    } else {
        write!(out, "{year:+05}-{month:02}-{day:02}")
    };
}

/// `YYYY-MM-DDTHH:MM:SS[.fff][Z]` for `value` units of `1 / per_second` s since the epoch.
fn write_timestamp(out: &mut String, value: i64, per_second: i64, utc: bool) {
    let seconds = value.div_euclid(per_second);
    write_date(out, seconds.div_euclid(86_400));
    out.push('T');
    let of_day = seconds.rem_euclid(86_400) * per_second + value.rem_euclid(per_second);
    write_time(out, of_day, per_second);
    if utc {
        out.push('Z');
    }
}

/// `HH:MM:SS[.fff]` for `value` units of `1 / per_second` s since midnight; the fraction has
/// the unit's digits and is left out when zero.
fn write_time(out: &mut String, value: i64, per_second: i64) {
    let (seconds, fraction) = (value.div_euclid(per_second), value.rem_euclid(per_second));
    let (h, m, s) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    let _ = write!(out, "{h:02}:{m:02}:{s:02}");
    if fraction != 0 {
        let digits = per_second.ilog10() as usize;
        let _ = write!(out, ".{fraction:0digits$}");
    }
}

/// The (year, month, day) of a day counted from 1970-01-01: Howard Hinnant's
/// `civil_from_days` (<https://howardhinnant.github.io/date_algorithms.html>), exact over all
/// of `i64`'s days that arrow's dates and timestamps can hold.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468; // days since 0000-03-01
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // day of the 400-year era, [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // day of the March-based year
    let mp = (5 * doy + 2) / 153; // month from March, [0, 11]
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::Values;

    fn date(days: i64) -> String {
        let mut out = String::new();
        write_date(&mut out, days);
        out
    }

    fn timestamp(value: i64, per_second: i64, utc: bool) -> String {
        let mut out = String::new();
        write_timestamp(&mut out, value, per_second, utc);
        out
    }

    #[test]
    fn dates_are_iso_8601_across_leap_years_and_eras() {
        assert_eq!(date(0), "1970-01-01");
        assert_eq!(date(-1), "1969-12-31");
        assert_eq!(date(59), "1970-03-01");
        assert_eq!(date(11_016), "2000-02-29");
        assert_eq!(date(19_727), "2024-01-05");
        assert_eq!(date(-719_468), "0000-03-01");
        assert_eq!(date(-719_529), "-0001-12-31");
        assert_eq!(date(2_932_897), "+10000-01-01");
        // Every day of 1900..2100 against a day-by-day count.
        let mut days = date_days(1900, 1, 1);
        for year in 1900..2100 {
            for month in 1..=12u32 {
                for day in 1..=days_in_month(year, month) {
                    assert_eq!(date(days), format!("{year:04}-{month:02}-{day:02}"));
                    days += 1;
                }
            }
        }
    }

    fn days_in_month(year: i64, month: u32) -> u32 {
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
        [
            31,
            if leap { 29 } else { 28 },
            31,
            30,
            31,
            30,
            31,
            31,
            30,
            31,
            30,
            31,
        ][month as usize - 1]
    }

    fn date_days(year: i64, month: u32, day: u32) -> i64 {
        let mut days = 0i64;
        for y in year..1970 {
            days -= (1..=12)
                .map(|m| i64::from(days_in_month(y, m)))
                .sum::<i64>();
        }
        days + (1..month)
            .map(|m| i64::from(days_in_month(year, m)))
            .sum::<i64>()
            + i64::from(day)
            - 1
    }

    #[test]
    fn every_supported_type_becomes_the_documented_text() {
        use arrow_array::types::Int32Type;
        use arrow_array::*;
        use std::sync::Arc;
        let ms = 19_727 * 86_400_000i64 + 1_000 * (10 * 3600 + 30 * 60 + 5) + 250;
        let columns: Vec<(&str, ArrayRef)> = vec![
            ("i8", Arc::new(Int8Array::from(vec![Some(-128), None]))),
            ("u64", Arc::new(UInt64Array::from(vec![u64::MAX, 0]))),
            ("f32", Arc::new(Float32Array::from(vec![0.1, 1e-7]))),
            ("f64", Arc::new(Float64Array::from(vec![f64::NAN, -0.0]))),
            (
                "dec",
                Arc::new(
                    Decimal128Array::from(vec![1250, -5])
                        .with_precision_and_scale(5, 2)
                        .unwrap(),
                ),
            ),
            ("large", Arc::new(LargeStringArray::from(vec![" a ", "b"]))),
            (
                "view",
                Arc::new(StringViewArray::from(vec![Some("v"), None])),
            ),
            (
                "dict",
                Arc::new(
                    vec![Some("x"), None]
                        .into_iter()
                        .collect::<DictionaryArray<Int32Type>>(),
                ),
            ),
            (
                "d64",
                Arc::new(Date64Array::from(vec![19_782 * 86_400_000, 0])),
            ),
            (
                "ts",
                Arc::new(TimestampMillisecondArray::from(vec![ms, 0]).with_timezone("+02:00")),
            ),
            (
                "ts_ns",
                Arc::new(TimestampNanosecondArray::from(vec![
                    Some(ms * 1_000_000),
                    None,
                ])),
            ),
            ("t32", Arc::new(Time32SecondArray::from(vec![3_661, 0]))),
            (
                "t64",
                Arc::new(Time64MicrosecondArray::from(vec![1, 86_399_999_999])),
            ),
            ("null", Arc::new(NullArray::new(2))),
        ];
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("types.parquet");
        // Every field nullable: arrow 60 no longer counts a `NullArray`'s slots as nulls, so
        // `try_from_iter` would make that field required and the writer refuse its nulls.
        let batch = RecordBatch::try_from_iter_with_nullable(
            columns.into_iter().map(|(name, array)| (name, array, true)),
        )
        .unwrap();
        let file = std::fs::File::create(&path).unwrap();
        let mut writer = parquet::arrow::ArrowWriter::try_new(file, batch.schema(), None).unwrap();
        writer.write(&batch).unwrap();
        writer.close().unwrap();

        let table = load(&path, &TargetSelect::None).unwrap();
        let cells: Vec<[&str; 2]> = table
            .columns
            .iter()
            .map(|c| match &c.values {
                Values::Text(cells) => [cells.get(0), cells.get(1)],
                _ => panic!("text expected"),
            })
            .collect();
        assert_eq!(
            cells,
            [
                ["-128", ""],
                ["18446744073709551615", "0"],
                ["0.1", "0.0000001"],
                ["NaN", "-0"],
                ["12.50", "-0.05"],
                ["a", "b"],
                ["v", ""],
                ["x", ""],
                ["2024-02-29", "1970-01-01"],
                ["2024-01-05T10:30:05.250Z", "1970-01-01T00:00:00Z"],
                ["2024-01-05T10:30:05.250000000", ""],
                ["01:01:01", "00:00:00"],
                ["00:00:00.000001", "23:59:59.999999"],
                ["", ""],
            ]
        );
        assert_eq!((table.rows, table.target), (2, None));
        assert_eq!(
            table.location(&table.columns[0], 1).to_string(),
            format!("{}: record 2", path.display())
        );
    }

    #[test]
    fn timestamps_keep_their_fraction_and_zone() {
        let t = 19_727 * 86_400 + 10 * 3600 + 30 * 60 + 5; // 2024-01-05T10:30:05
        assert_eq!(timestamp(t, 1, false), "2024-01-05T10:30:05");
        assert_eq!(
            timestamp(t * 1000 + 250, 1000, false),
            "2024-01-05T10:30:05.250"
        );
        assert_eq!(
            timestamp(t * 1_000_000 + 7, 1_000_000, true),
            "2024-01-05T10:30:05.000007Z"
        );
        assert_eq!(
            timestamp(-1, 1_000_000_000, false),
            "1969-12-31T23:59:59.999999999"
        );
        assert_eq!(
            timestamp(i64::MIN, 1_000_000_000, false),
            "1677-09-21T00:12:43.145224192"
        );
        assert_eq!(
            timestamp(i64::MAX, 1, false).len(),
            "+292277026596-12-04T15:30:07".len()
        );
    }
}
