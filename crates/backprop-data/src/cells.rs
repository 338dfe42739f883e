//! Reading one text cell: a missing value, a number (with a decimal point or comma), a word
//! of a boolean pair, or text. Nothing is coerced: `1.5kg` is text, `inf` is an error.

use serde::{Deserialize, Serialize};

/// The texts that mean "no value" unless the user says otherwise (`--na-values`): the empty
/// cell and the spellings pandas, R and spreadsheets write.
pub const DEFAULT_NA_VALUES: [&str; 9] = ["", "NA", "N/A", "NaN", "nan", "null", "NULL", "?", "-"];

/// The default [`DEFAULT_NA_VALUES`] as owned strings.
pub fn default_na_values() -> Vec<String> {
    DEFAULT_NA_VALUES.iter().map(|s| s.to_string()).collect()
}

/// The decimal mark of the numbers in a text file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decimal {
    /// `1.5`
    #[default]
    Point,
    /// `1,5`, as spreadsheets write in much of Europe (in files separated by `;`): a cell
    /// with one comma between digits is the number with a point there.
    Comma,
}

/// What a text cell holds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Cell<'a> {
    /// One of the missing-value texts.
    Missing,
    /// A finite number.
    Number(f64),
    /// An infinity (or NaN spelled otherwise than a missing-value text), refused everywhere.
    NonFinite,
    /// Anything else.
    Text(&'a str),
}

/// Reads `text` (trimmed already): missing if it is one of `na_values`, else a number in Rust's
/// `f64` syntax (`3`, `-2.5e-3`; with [`Decimal::Comma`] also `-2,5`), else text.
pub(crate) fn classify<'a>(text: &'a str, na_values: &[String], decimal: Decimal) -> Cell<'a> {
    if na_values.iter().any(|na| na == text) {
        return Cell::Missing;
    }
    let parsed = match decimal {
        Decimal::Comma if is_comma_decimal(text) => text.replacen(',', ".", 1).parse::<f64>(),
        _ => text.parse::<f64>(),
    };
    match parsed {
        Ok(v) if v.is_finite() => Cell::Number(v),
        Ok(_) => Cell::NonFinite,
        Err(_) => Cell::Text(text),
    }
}

/// Whether `text` is a number written with a decimal comma: an optional sign, digits, one
/// comma, digits (`1,5`, `-0,25`).
pub(crate) fn is_comma_decimal(text: &str) -> bool {
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    match digits.split_once(',') {
        Some((whole, fraction)) => {
            !whole.is_empty()
                && !fraction.is_empty()
                && whole.bytes().all(|b| b.is_ascii_digit())
                && fraction.bytes().all(|b| b.is_ascii_digit())
        }
        None => false,
    }
}

/// The pairs of words read as booleans, false first (compared without case).
const BOOLEAN_WORDS: [(&str, &str); 4] = [("false", "true"), ("no", "yes"), ("n", "y"), ("f", "t")];

/// The boolean pair `text` belongs to (its index in the list) and its value.
pub(crate) fn boolean(text: &str) -> Option<(usize, bool)> {
    BOOLEAN_WORDS
        .iter()
        .enumerate()
        .find_map(|(pair, (no, yes))| {
            if text.eq_ignore_ascii_case(yes) {
                Some((pair, true))
            } else if text.eq_ignore_ascii_case(no) {
                Some((pair, false))
            } else {
                None
            }
        })
}

/// The words of boolean pair `pair`, as `false/true`.
pub(crate) fn boolean_words(pair: usize) -> String {
    let (no, yes) = BOOLEAN_WORDS[pair];
    format!("{yes}/{no}")
}

/// The canonical text of a number used as a class or category name: the shortest text that
/// reads back as the same `f64` (`1`, `2.5`).
pub(crate) fn number_name(v: f64) -> String {
    format!("{v}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_classified_without_coercion() {
        let na = default_na_values();
        let point = |t| classify(t, &na, Decimal::Point);
        assert_eq!(point(""), Cell::Missing);
        assert_eq!(point("NA"), Cell::Missing);
        assert_eq!(point("NaN"), Cell::Missing);
        assert_eq!(point("-"), Cell::Missing);
        assert_eq!(point("-2.5e-1"), Cell::Number(-0.25));
        assert_eq!(point("-inf"), Cell::NonFinite);
        assert_eq!(point("abc"), Cell::Text("abc"));
        assert_eq!(point("1,5"), Cell::Text("1,5"));
        assert_eq!(
            point("na"),
            Cell::Text("na"),
            "missing-value texts are exact"
        );
        assert_eq!(classify("", &[], Decimal::Point), Cell::Text(""));
        let comma = |t| classify(t, &na, Decimal::Comma);
        assert_eq!(comma("1,5"), Cell::Number(1.5));
        assert_eq!(comma("-0,25"), Cell::Number(-0.25));
        assert_eq!(comma("2.5"), Cell::Number(2.5));
        assert_eq!(comma("1,2,3"), Cell::Text("1,2,3"));
        assert_eq!(comma("1,"), Cell::Text("1,"));
        assert_eq!(number_name(3.0), "3");
        assert_eq!(number_name(0.1), "0.1");
    }

    #[test]
    fn boolean_words_come_in_pairs() {
        assert_eq!(boolean("Yes"), Some((1, true)));
        assert_eq!(boolean("FALSE"), Some((0, false)));
        assert_eq!(boolean("t"), Some((3, true)));
        assert_eq!(boolean("maybe"), None);
        assert_eq!(boolean_words(1), "yes/no");
    }
}
