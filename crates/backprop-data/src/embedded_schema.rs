//! The Arrow schema that Arrow writers store in a Parquet file's metadata (`ARROW:schema`,
//! base64 of an IPC schema message): whether the parquet crate can decode it without
//! panicking. Its decoder (arrow-ipc's `fb_to_schema`) panics on a type, unit, bit width or
//! child count it does not expect (found by the `parquet` fuzz target, issue 14), so
//! [`crate::parquet`] hands it over only when every field passes the checks here, which
//! mirror those panics; otherwise the file is read with the types of its Parquet schema.
//! The schema only refines those types (a `date64` or `time32[s]` that Parquet stores as
//! plain integers, a duration, a dictionary), so a file whose hint is refused still reads.

use arrow_ipc::{DateUnit, Endianness, Field, IntervalUnit, Precision, TimeUnit, Type};
use base64::Engine;

/// Whether the base64 text of an `ARROW:schema` entry decodes to a schema the parquet crate
/// converts without a panic. Anything unusual answers `false`: the hint is then not used.
pub(crate) fn is_decodable(encoded: &str) -> bool {
    let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(encoded) else {
        // The parquet crate returns an error for this itself; without the hint there is none.
        return false;
    };
    // The IPC continuation marker, skipped as the parquet crate skips it.
    let message = if bytes.len() > 8 && bytes[0..4] == [255u8; 4] {
        &bytes[8..]
    } else {
        &bytes[..]
    };
    let Ok(message) = arrow_ipc::root_as_message(message) else {
        return false;
    };
    let Some(schema) = message.header_as_schema() else {
        return false;
    };
    let Some(fields) = schema.fields() else {
        return false;
    };
    let big_endian = schema.endianness() == Endianness::Big;
    fields
        .iter()
        .all(|field| !(big_endian && field.type_type() == Type::Decimal) && field_ok(&field, 0))
}

/// Nesting deeper than this is refused (the decoder recurses once per level).
const MAX_DEPTH: usize = 64;

/// Whether one field (and its children) converts without a panic.
fn field_ok(field: &Field<'_>, depth: usize) -> bool {
    if depth > MAX_DEPTH {
        return false;
    }
    if let Some(dictionary) = field.dictionary() {
        let Some(index) = dictionary.indexType() else {
            return false;
        };
        if !matches!(index.bitWidth(), 8 | 16 | 32 | 64) {
            return false;
        }
    }
    let children: Vec<Field<'_>> = field
        .children()
        .map(|c| c.iter().collect())
        .unwrap_or_default();
    let has_children = field.children().is_some();
    let children_ok = || children.iter().all(|child| field_ok(child, depth + 1));
    let one_child = || has_children && children.len() == 1 && children_ok();
    match field.type_type() {
        Type::Null
        | Type::Bool
        | Type::Binary
        | Type::BinaryView
        | Type::LargeBinary
        | Type::Utf8
        | Type::Utf8View
        | Type::LargeUtf8 => true,
        Type::Int => field
            .type_as_int()
            .is_some_and(|int| matches!(int.bitWidth(), 8 | 16 | 32 | 64)),
        Type::FixedSizeBinary => field.type_as_fixed_size_binary().is_some(),
        Type::FloatingPoint => field.type_as_floating_point().is_some_and(|float| {
            matches!(
                float.precision(),
                Precision::HALF | Precision::SINGLE | Precision::DOUBLE
            )
        }),
        Type::Date => field
            .type_as_date()
            .is_some_and(|date| matches!(date.unit(), DateUnit::DAY | DateUnit::MILLISECOND)),
        Type::Time => field.type_as_time().is_some_and(|time| {
            matches!(
                (time.bitWidth(), time.unit()),
                (32, TimeUnit::SECOND | TimeUnit::MILLISECOND)
                    | (64, TimeUnit::MICROSECOND | TimeUnit::NANOSECOND)
            )
        }),
        Type::Timestamp => field
            .type_as_timestamp()
            .is_some_and(|timestamp| known_unit(timestamp.unit())),
        Type::Duration => field
            .type_as_duration()
            .is_some_and(|duration| known_unit(duration.unit())),
        Type::Interval => field.type_as_interval().is_some_and(|interval| {
            matches!(
                interval.unit(),
                IntervalUnit::YEAR_MONTH | IntervalUnit::DAY_TIME | IntervalUnit::MONTH_DAY_NANO
            )
        }),
        Type::List | Type::LargeList | Type::ListView | Type::LargeListView => one_child(),
        Type::FixedSizeList => field.type_as_fixed_size_list().is_some() && one_child(),
        Type::Map => field.type_as_map().is_some() && one_child(),
        Type::Struct_ => children_ok(),
        Type::RunEndEncoded => has_children && children.len() == 2 && children_ok(),
        Type::Decimal => field.type_as_decimal().is_some_and(|decimal| {
            let max_precision = match decimal.bitWidth() {
                32 => 9,
                64 => 18,
                128 => 38,
                256 => 76,
                _ => return false,
            };
            (1..=max_precision).contains(&decimal.precision())
                && i8::try_from(decimal.scale())
                    .is_ok_and(|scale| i32::from(scale) <= decimal.precision())
        }),
        // Union ids are checked by a constructor that panics on bad ones; Parquet has no
        // unions, so a schema with one is not decoded at all.
        _ => false,
    }
}

/// Whether a time unit is one of the four the decoder knows.
fn known_unit(unit: TimeUnit) -> bool {
    matches!(
        unit,
        TimeUnit::SECOND | TimeUnit::MILLISECOND | TimeUnit::MICROSECOND | TimeUnit::NANOSECOND
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_schema::{DataType, Field as ArrowField, Schema, TimeUnit as ArrowTimeUnit};

    #[test]
    fn what_arrow_writes_is_decodable_and_garbage_is_not() {
        let schema = Schema::new(vec![
            ArrowField::new("day", DataType::Date64, true),
            ArrowField::new("t", DataType::Time32(ArrowTimeUnit::Second), true),
            ArrowField::new("d", DataType::Duration(ArrowTimeUnit::Millisecond), true),
            ArrowField::new("p", DataType::Decimal128(5, 2), true),
            ArrowField::new(
                "tags",
                DataType::List(std::sync::Arc::new(ArrowField::new(
                    "item",
                    DataType::Utf8,
                    true,
                ))),
                true,
            ),
            ArrowField::new(
                "c",
                DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8)),
                true,
            ),
        ]);
        assert!(is_decodable(&parquet::arrow::encode_arrow_schema(&schema)));
        assert!(!is_decodable("not base64!"));
        assert!(!is_decodable(""));
        let noise = base64::engine::general_purpose::STANDARD.encode([0x5a; 64]);
        assert!(!is_decodable(&noise));
    }
}
