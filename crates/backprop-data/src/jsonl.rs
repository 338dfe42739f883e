//! JSON Lines files (`.jsonl`, `.ndjson`, optionally `.gz`): one JSON object per line, read
//! into the same [`Table`] that a CSV file of the same data gives.
//!
//! - **Columns** are the union of the objects' keys, in the order first seen; a key is
//!   trimmed, like a CSV header cell. An object without a key has an empty cell there. The
//!   default target ([`TargetSelect::Last`]) is the last key first seen.
//! - **Cells** are the text the CSV reader would hold:
//!   - a string: its text, trimmed;
//!   - an integer: its digits (`42`, `-7`), exactly, whatever its size up to 64 bits (larger
//!     ones are read as `f64`, as any number is in the end);
//!   - any other number: the shortest text that reads back as the same `f64`, without an
//!     exponent (`2.5`, `0.0001`; `1.0` becomes `1`, `1e2` becomes `100`);
//!   - `true` and `false`: those words;
//!   - `null`: an empty cell, a missing value as in a CSV file.
//! - **Refused**, with the file and the 1-based line: a nested object or array (the message
//!   names the key), a key that is empty or appears twice in one object, a line that is not
//!   one JSON object, text that is not UTF-8. Nothing is dropped or coerced silently.
//!
//! Blank lines are skipped, and so is a byte-order mark at the start of the file; each row
//! keeps the line it came from for later messages.

use crate::csv::{check_names, resolve_target};
use crate::error::{Error, Location, Position, Result};
use crate::source::{open_maybe_gz, text_columns, TargetSelect};
use crate::table::{Table, TextCells};
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::io::{BufRead, BufReader};
use std::path::Path;

/// Reads a JSON Lines file (`.gz` allowed) and picks its target column.
pub fn load(path: &Path, target: &TargetSelect) -> Result<Table> {
    let input = BufReader::with_capacity(
        1 << 16,
        open_maybe_gz(path, crate::source::DEFAULT_MAX_DECOMPRESSED)?,
    );
    read(input, &path.display().to_string(), target)
}

/// Parses JSON Lines text; `name` is used in messages.
pub fn read(mut input: impl BufRead, name: &str, target: &TargetSelect) -> Result<Table> {
    let mut names: Vec<String> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut cells: Vec<TextCells> = Vec::new();
    // Whether the current row has set each column.
    let mut set: Vec<bool> = Vec::new();
    let mut lines: Vec<u64> = Vec::new();
    let mut buffer = Vec::new();
    let mut line = 0u64;
    loop {
        buffer.clear();
        let read = input
            .read_until(b'\n', &mut buffer)
            .map_err(|cause| Error::Io {
                path: name.to_string(),
                cause,
            })?;
        if read == 0 {
            break;
        }
        line += 1;
        let at = |message: String| Error::Json {
            location: Location {
                file: name.into(),
                position: Position::Line(line),
            },
            message,
        };
        let text = std::str::from_utf8(&buffer)
            .map_err(|e| at(format!("the text is not valid UTF-8 ({e})")))?;
        // A byte-order mark (some Windows tools write one) is not part of the first object.
        let text = if line == 1 {
            text.strip_prefix('\u{feff}').unwrap_or(text)
        } else {
            text
        };
        if text.trim().is_empty() {
            continue;
        }
        let object: Object<'_> = serde_json::from_str(text).map_err(|e| at(not_an_object(&e)))?;
        let row = lines.len();
        for (key, value) in object.0 {
            let key = key.trim();
            if key.is_empty() {
                return Err(at("a key is empty (each key names a column)".to_string()));
            }
            let column = match index.get(key) {
                Some(&column) => column,
                None => {
                    index.insert(key.to_string(), names.len());
                    names.push(key.to_string());
                    cells.push(std::iter::repeat_n("", row).collect());
                    set.push(false);
                    names.len() - 1
                }
            };
            if set[column] {
                return Err(at(format!("key \"{key}\" appears twice in the object")));
            }
            let cell = match value {
                Scalar::Text(text) => text,
                Scalar::Null => Cow::Borrowed(""),
                Scalar::Nested(kind) => {
                    return Err(at(format!(
                        "key \"{key}\" (column {}) holds {kind}; a cell is a string, a number, \
                         a boolean or null",
                        column + 1
                    )))
                }
            };
            cells[column].push(&cell);
            set[column] = true;
        }
        for (column, was_set) in cells.iter_mut().zip(set.iter_mut()) {
            if !*was_set {
                column.push("");
            }
            *was_set = false;
        }
        lines.push(line);
    }
    if lines.is_empty() {
        return Err(Error::Format {
            file: name.to_string(),
            message: "the file holds no JSON objects (expected one per line)".to_string(),
        });
    }
    if names.is_empty() {
        return Err(Error::Format {
            file: name.to_string(),
            message: "no object has a key, so there are no columns".to_string(),
        });
    }
    check_names(&names, name)?;
    let target = resolve_target(&names, target, name)?;
    let columns = text_columns(names, cells, name);
    Ok(Table::from_lines(name.to_string(), columns, target, lines))
}

/// The parser's complaint, with its position given within the line (the parser sees one
/// line, so its "line 1" says nothing).
fn not_an_object(error: &serde_json::Error) -> String {
    let full = error.to_string();
    let suffix = format!(" at line {} column {}", error.line(), error.column());
    let what = full.strip_suffix(&suffix).unwrap_or(&full);
    format!(
        "the line is not one JSON object: {what} (at character {})",
        error.column()
    )
}

/// One line's object: its keys and values in the order written, duplicates kept so that
/// they can be refused.
struct Object<'a>(Vec<(Cow<'a, str>, Scalar<'a>)>);

/// A value as a cell.
enum Scalar<'a> {
    /// The cell's text.
    Text(Cow<'a, str>),
    /// `null`.
    Null,
    /// An object or an array, named for messages.
    Nested(&'static str),
}

/// A key, borrowed from the line when it has no escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de> de::Deserialize<'de> for Object<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectVisitor;
        impl<'de> Visitor<'de> for ObjectVisitor {
            type Value = Object<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut entries = Vec::new();
                while let Some((Key(key), value)) = map.next_entry()? {
                    entries.push((key, value));
                }
                Ok(Object(entries))
            }
        }
        deserializer.deserialize_map(ObjectVisitor)
    }
}

impl<'de> de::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Owned(v.to_string())))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

impl<'de> de::Deserialize<'de> for Scalar<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ScalarVisitor)
    }
}

/// Each JSON value to its cell text (the mapping of the module doc).
struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar<'de>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Scalar::Text(Cow::Borrowed(if v {
            "true"
        } else {
            "false"
        })))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Scalar::Text(Cow::Owned(v.to_string())))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Scalar::Text(Cow::Owned(v.to_string())))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        // Rust's display of an f64 is the shortest text that reads back the same.
        Ok(Scalar::Text(Cow::Owned(format!("{v}"))))
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Scalar::Text(Cow::Borrowed(v.trim())))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Scalar::Text(Cow::Owned(v.trim().to_string())))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Scalar::Null)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Scalar::Nested("an object"))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Scalar::Nested("an array"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::Values;

    fn parse(text: &str) -> Result<Table> {
        read(text.as_bytes(), "d.jsonl", &TargetSelect::Last)
    }

    fn text(table: &Table, column: usize) -> Vec<&str> {
        match &table.columns[column].values {
            Values::Text(cells) => cells.iter().collect(),
            _ => panic!("expected text"),
        }
    }

    #[test]
    fn keys_in_first_seen_order_and_missing_keys_empty() {
        let body = "\u{feff}{\"a\": 1, \"b\": \" x \"}\n\n  \r\n{\"c\": true, \"a\": 2}\r\n";
        let table = parse(body).unwrap();
        assert_eq!(table.names(), ["a", "b", "c"]);
        assert_eq!((table.rows, table.target), (2, Some(2)));
        assert_eq!(text(&table, 0), ["1", "2"]);
        assert_eq!(text(&table, 1), ["x", ""]);
        assert_eq!(text(&table, 2), ["", "true"]);
        let loc = table.location(&table.columns[0], 1);
        assert_eq!(loc.to_string(), "d.jsonl:4");
    }

    #[test]
    fn values_become_the_csv_readers_text() {
        let line = r#"{"int": -7, "big": 18446744073709551615, "f": 2.50, "one": 1.0, "e": 1e2,
                       "small": 1e-4, "t": false, "n": null, "s": "caf\u00e9", "k ": "\tv\n"}"#;
        let table = parse(&line.replace('\n', " ")).unwrap();
        let cells: Vec<_> = (0..table.columns.len())
            .map(|c| text(&table, c)[0])
            .collect();
        assert_eq!(
            table.names(),
            ["int", "big", "f", "one", "e", "small", "t", "n", "s", "k"]
        );
        assert_eq!(
            cells,
            [
                "-7",
                "18446744073709551615",
                "2.5",
                "1",
                "100",
                "0.0001",
                "false",
                "",
                "café",
                "v"
            ]
        );
    }

    #[test]
    fn bad_lines_are_located_errors_naming_the_key() {
        let cases = [
            (
                "{\"a\":1}\n[1, 2]\n",
                "d.jsonl:2: the line is not one JSON object",
            ),
            (
                "{\"a\":1}\n\n7\n",
                "d.jsonl:3: the line is not one JSON object",
            ),
            ("{\"a\":1\n", "d.jsonl:1: the line is not one JSON object"),
            (
                "{\"a\":1} {\"a\":2}\n",
                "d.jsonl:1: the line is not one JSON object",
            ),
            (
                "{\"a\":1}\n{\"a\":{\"b\":2}}\n",
                "d.jsonl:2: key \"a\" (column 1) holds an object",
            ),
            (
                "{\"a\":1, \"tags\":[\"x\"]}\n",
                "d.jsonl:1: key \"tags\" (column 2) holds an array",
            ),
            (
                "{\"a\":1, \" a\":2}\n",
                "d.jsonl:1: key \"a\" appears twice",
            ),
            ("{\" \":1}\n", "d.jsonl:1: a key is empty"),
            ("\n\n", "d.jsonl: the file holds no JSON objects"),
            ("{}\n{}\n", "d.jsonl: no object has a key"),
        ];
        for (body, expected) in cases {
            let msg = parse(body).unwrap_err().to_string();
            assert!(msg.starts_with(expected), "{body:?}: {msg}");
        }
        let msg = read(&b"{\"a\":\"\xff\"}\n"[..], "d.jsonl", &TargetSelect::Last)
            .unwrap_err()
            .to_string();
        assert!(
            msg.starts_with("d.jsonl:1: the text is not valid UTF-8"),
            "{msg}"
        );
    }

    #[test]
    fn target_is_chosen_like_the_csv_readers() {
        let body = "{\"a\":1,\"b\":2}\n";
        let pick = |t: TargetSelect| read(body.as_bytes(), "d.jsonl", &t);
        assert_eq!(
            pick(TargetSelect::Column("a".into())).unwrap().target,
            Some(0)
        );
        assert_eq!(
            pick(TargetSelect::IfPresent("z".into())).unwrap().target,
            None
        );
        let msg = pick(TargetSelect::Column("z".into()))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("d.jsonl: there is no column \"z\""), "{msg}");
    }
}
