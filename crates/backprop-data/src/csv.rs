//! CSV and TSV files with a header row, optionally gzip-compressed.
//!
//! The delimiter is detected from the first 64 KiB: of `,` `;` tab and `|`, the one that
//! splits every sampled line into the same number of fields (more than one; the most fields
//! wins, then that order, tab first for `.tsv`); `--delimiter` overrides. In a file not
//! separated by commas, numbers written with a decimal comma (`1,5`) are read as such when no
//! number has a decimal point; `--decimal` overrides. Cells are trimmed and kept as text; blank
//! lines are skipped; a UTF-8 byte-order mark and CRLF line ends are accepted. Quoted fields
//! follow RFC 4180.

use crate::cells::{is_comma_decimal, Decimal};
use crate::error::{Error, Location, Position, Result};
use crate::source::{LoadOptions, TargetSelect};
use crate::table::{Column, LineRuns, Table, TextCells, Values};
use flate2::read::MultiGzDecoder;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::rc::Rc;

/// Reads a CSV or TSV file (`.gz` allowed) and picks its target column.
pub fn load(path: &Path, options: &LoadOptions) -> Result<Table> {
    let name = path.display().to_string();
    let file = File::open(path).map_err(|cause| Error::Io {
        path: name.clone(),
        cause,
    })?;
    let lower = name.to_ascii_lowercase();
    let gz = lower.ends_with(".gz");
    let tsv = lower.trim_end_matches(".gz").ends_with(".tsv");
    let raw: Box<dyn Read> = if gz {
        Box::new(crate::source::Limited::new(
            MultiGzDecoder::new(file),
            options.decompression_limit(),
        ))
    } else {
        Box::new(file)
    };
    let mut reader = BufReader::with_capacity(1 << 16, raw);
    let delimiter = match options.delimiter {
        Some(delimiter) => delimiter,
        None => {
            let sample = reader.fill_buf().map_err(|cause| Error::Io {
                path: name.clone(),
                cause,
            })?;
            sniff_delimiter(sample, tsv)
        }
    };
    let mut table = read(reader, delimiter, &name, &options.target)?;
    table.delimiter = Some(delimiter);
    table.decimal = match options.decimal {
        Some(decimal) => decimal,
        None if delimiter != b',' && writes_decimal_commas(&table) => Decimal::Comma,
        None => Decimal::Point,
    };
    Ok(table)
}

/// The delimiters tried, in the order that breaks ties.
const DELIMITERS: [u8; 4] = [b',', b';', b'\t', b'|'];

/// The delimiter that splits every complete line of `sample` into the same number of fields,
/// more than one; of several, the one with the most fields, then the first in
/// [`DELIMITERS`] (tab first for a `.tsv` file). A comma when none does.
fn sniff_delimiter(sample: &[u8], tsv: bool) -> u8 {
    // The last line may be cut off by the sample's end.
    let complete = match sample.iter().rposition(|&b| b == b'\n') {
        Some(end) => &sample[..=end],
        None => sample,
    };
    let mut order = DELIMITERS.to_vec();
    if tsv {
        order.sort_by_key(|&d| d != b'\t');
    }
    let mut best: Option<(usize, u8)> = None;
    for delimiter in order {
        let mut reader = ::csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(false)
            .flexible(true)
            .from_reader(complete);
        let mut fields = None;
        let consistent = reader.records().all(|record| match record {
            Ok(record) if record.len() == 1 && record[0].trim().is_empty() => true,
            Ok(record) => *fields.get_or_insert(record.len()) == record.len(),
            Err(_) => false,
        });
        if let (true, Some(n)) = (consistent, fields) {
            if n > 1 && best.is_none_or(|(most, _)| n > most) {
                best = Some((n, delimiter));
            }
        }
    }
    best.map_or(if tsv { b'\t' } else { b',' }, |(_, d)| d)
}

/// Whether the cells write numbers with a decimal comma: some cell is one (`1,5`) and no cell
/// is a number with a decimal point.
fn writes_decimal_commas(table: &Table) -> bool {
    let mut comma = false;
    for column in &table.columns {
        let Values::Text(cells) = &column.values else {
            continue;
        };
        for cell in cells.iter() {
            if is_comma_decimal(cell) {
                comma = true;
            } else if cell.contains('.') && cell.parse::<f64>().is_ok() {
                return false;
            }
        }
    }
    comma
}

/// Parses delimited text with a header row; `name` is used in messages.
pub fn read(input: impl Read, delimiter: u8, name: &str, target: &TargetSelect) -> Result<Table> {
    // The csv crate's positions do not count skipped blank lines, so lines are counted here
    // from the byte offsets of the line ends that pass through.
    let ends = Rc::new(RefCell::new(LineEnds::default()));
    let input = NewlineIndex {
        inner: input,
        offset: 0,
        ends: Rc::clone(&ends),
    };
    let line_of = |byte: u64| ends.borrow_mut().line_of(byte);
    let mut reader = ::csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(true)
        .flexible(true)
        .trim(::csv::Trim::All)
        .from_reader(input);
    let csv_error = |e: ::csv::Error| {
        let line = e.position().map_or(1, |p| line_of(p.byte()));
        convert_error(e, name, line)
    };
    let header = reader.headers().map_err(csv_error)?.clone();
    if header.is_empty() || (header.len() == 1 && header[0].is_empty()) {
        return Err(Error::Empty {
            file: name.to_string(),
        });
    }
    let names: Vec<String> = header.iter().map(str::to_string).collect();
    check_names(&names, name)?;
    let target = resolve_target(&names, target, name)?;

    let mut cells: Vec<TextCells> = vec![TextCells::default(); names.len()];
    let mut lines = LineRuns::default();
    let mut record = ::csv::StringRecord::new();
    while reader.read_record(&mut record).map_err(csv_error)? {
        let line = line_of(record.position().map_or(0, |p| p.byte()));
        if record.len() != names.len() {
            return Err(Error::Ragged {
                location: Location {
                    file: name.into(),
                    position: Position::Line(line),
                },
                expected: names.len(),
                got: record.len(),
            });
        }
        for (column, cell) in cells.iter_mut().zip(record.iter()) {
            column.push(cell);
        }
        lines.push(line);
    }
    if lines.rows() == 0 {
        return Err(Error::NoRows {
            file: name.to_string(),
        });
    }
    let columns = names
        .into_iter()
        .zip(cells)
        .enumerate()
        .map(|(i, (column_name, cells))| Column {
            name: column_name,
            number: i + 1,
            file: name.to_string(),
            values: Values::Text(cells),
        })
        .collect();
    Ok(Table::from_line_runs(
        name.to_string(),
        columns,
        target,
        lines,
    ))
}

fn convert_error(error: ::csv::Error, name: &str, line: u64) -> Error {
    match error.into_kind() {
        ::csv::ErrorKind::Io(cause) => Error::Io {
            path: name.to_string(),
            cause,
        },
        ::csv::ErrorKind::Utf8 { err, .. } => Error::Csv {
            location: Location {
                file: name.into(),
                position: Position::Line(line),
            },
            message: format!("the text is not valid UTF-8 ({err})"),
        },
        other => Error::Csv {
            location: Location {
                file: name.into(),
                position: Position::Line(line),
            },
            message: format!("{other:?}"),
        },
    }
}

/// The byte offsets of the `\n` and `\r` bytes read and not yet passed by the parser, and
/// the count of the newlines passed. The reader runs ahead of the parser by at most its
/// buffer, so this holds a buffer's worth of offsets, not one per line of the file.
#[derive(Default)]
struct LineEnds {
    passed: u64,
    newlines: VecDeque<u64>,
    returns: VecDeque<u64>,
}

impl LineEnds {
    /// The 1-based line of the first non-blank line at or after `byte`. The parser asks
    /// for positions in file order: the offsets before `byte` are dropped.
    fn line_of(&mut self, mut byte: u64) -> u64 {
        let has = |v: &VecDeque<u64>, b: u64| v.binary_search(&b).is_ok();
        loop {
            if has(&self.newlines, byte) {
                byte += 1;
            } else if has(&self.returns, byte) && has(&self.newlines, byte + 1) {
                byte += 2;
            } else {
                break;
            }
        }
        let before = self.newlines.partition_point(|&n| n < byte);
        self.newlines.drain(..before);
        self.passed += before as u64;
        let returns = self.returns.partition_point(|&r| r < byte);
        self.returns.drain(..returns);
        1 + self.passed
    }
}

/// A reader that records where the line ends are in what it passes on.
struct NewlineIndex<R> {
    inner: R,
    offset: u64,
    ends: Rc<RefCell<LineEnds>>,
}

impl<R: Read> Read for NewlineIndex<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut ends = self.ends.borrow_mut();
        for (i, &b) in buf[..n].iter().enumerate() {
            match b {
                b'\n' => ends.newlines.push_back(self.offset + i as u64),
                b'\r' => ends.returns.push_back(self.offset + i as u64),
                _ => {}
            }
        }
        self.offset += n as u64;
        Ok(n)
    }
}

pub(crate) fn check_names(names: &[String], file: &str) -> Result<()> {
    // A hash map, not a scan of the names before: a header of a million columns is checked
    // in well under a second rather than in quadratic time.
    let mut seen: std::collections::HashMap<&str, usize> =
        std::collections::HashMap::with_capacity(names.len());
    for (i, name) in names.iter().enumerate() {
        if name.is_empty() {
            return Err(Error::EmptyColumnName {
                file: file.to_string(),
                number: i + 1,
            });
        }
        if let Some(&first) = seen.get(name.as_str()) {
            return Err(Error::DuplicateColumn {
                file: file.to_string(),
                name: name.clone(),
                first: first + 1,
                second: i + 1,
            });
        }
        seen.insert(name, i);
    }
    Ok(())
}

/// When the header is one field holding `;`, `|` or a tab, the file was likely split with the
/// wrong delimiter: say so.
fn delimiter_hint(names: &[String]) -> String {
    match names {
        [only] => [(';', "';'"), ('|', "'|'"), ('\t', "'\\t'")]
            .iter()
            .find(|(c, _)| only.contains(*c))
            .map(|(_, shown)| {
                format!("; the header looks separated by {shown}: try --delimiter {shown}")
            })
            .unwrap_or_default(),
        _ => String::new(),
    }
}

/// The index of the target among `names`: a name first, then a 0-based index.
pub(crate) fn resolve_target(
    names: &[String],
    target: &TargetSelect,
    file: &str,
) -> Result<Option<usize>> {
    Ok(match target {
        TargetSelect::Last => Some(names.len() - 1),
        TargetSelect::None => None,
        TargetSelect::IfPresent(name) => names.iter().position(|n| n == name),
        TargetSelect::Column(spec) => {
            let by_name = names.iter().position(|n| n == spec);
            let by_index = spec.parse::<usize>().ok().filter(|&i| i < names.len());
            let found = by_name.or(by_index);
            if found.is_none() {
                let target = if spec.parse::<usize>().is_ok() {
                    format!("{spec} (0-based; there are {} columns)", names.len())
                } else {
                    format!("\"{spec}\"")
                };
                return Err(Error::UnknownTarget {
                    file: file.to_string(),
                    target,
                    columns: crate::error::join_limited(names, 20),
                    hint: delimiter_hint(names),
                });
            }
            found
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_target(target: TargetSelect) -> LoadOptions {
        LoadOptions {
            target,
            ..LoadOptions::default()
        }
    }
    use flate2::{write::GzEncoder, Compression};
    use std::io::Write;

    fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> std::path::PathBuf {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    fn text(table: &Table, column: usize) -> Vec<String> {
        match &table.columns[column].values {
            Values::Text(cells) => cells.iter().map(str::to_string).collect(),
            _ => panic!("expected text"),
        }
    }

    #[test]
    fn reads_header_cells_lines_and_default_target() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(&dir, "d.csv", "a, b ,c\n1,x,2\n\r\n\n3,\"y,z\",4\n");
        let table = load(&path, &with_target(TargetSelect::Last)).unwrap();
        assert_eq!(table.names(), ["a", "b", "c"]);
        assert_eq!(table.rows, 2);
        assert_eq!(table.target, Some(2));
        assert_eq!(text(&table, 1), ["x", "y,z"]);
        let loc = table.location(&table.columns[0], 1);
        assert_eq!(loc.to_string(), format!("{}:5", path.display()));
        // Quoted fields may span lines; the next record's line counts them.
        let path = write(&dir, "q.csv", "a,b\n\"multi\nline\",1\nz,2\n");
        let table = load(&path, &with_target(TargetSelect::Last)).unwrap();
        let loc = table.location(&table.columns[0], 1);
        assert_eq!(loc.to_string(), format!("{}:4", path.display()));
    }

    #[test]
    fn target_by_name_or_index_and_unknown_target() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(&dir, "d.csv", "a,b,c\n1,2,3\n");
        let by_name = load(&path, &with_target(TargetSelect::Column("b".into()))).unwrap();
        assert_eq!(by_name.target, Some(1));
        let by_index = load(&path, &with_target(TargetSelect::Column("0".into()))).unwrap();
        assert_eq!(by_index.target, Some(0));
        let optional = load(&path, &with_target(TargetSelect::IfPresent("z".into()))).unwrap();
        assert_eq!(optional.target, None);
        let err = load(&path, &with_target(TargetSelect::Column("price".into()))).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("d.csv") && msg.contains("\"price\"") && msg.contains("a, b, c"),
            "{msg}"
        );
        let err = load(&path, &with_target(TargetSelect::Column("3".into()))).unwrap_err();
        assert!(
            err.to_string().contains("3 (0-based; there are 3 columns)"),
            "{err}"
        );
    }

    #[test]
    fn tsv_by_extension_and_by_sniffing() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["d.tsv", "tabs.csv"] {
            let path = write(&dir, name, "a\tb\n1\t2\n");
            let table = load(&path, &with_target(TargetSelect::Last)).unwrap();
            assert_eq!(table.names(), ["a", "b"], "{name}");
        }
    }

    #[test]
    fn gzip_round_trip_matches_plain_text() {
        let dir = tempfile::tempdir().unwrap();
        let body = "x,y,label\n1.5,2,cat\n-3,4e2,dog\n";
        let plain = load(
            &write(&dir, "d.csv", body),
            &with_target(TargetSelect::Last),
        )
        .unwrap();
        let gz_path = dir.path().join("d.csv.gz");
        let mut encoder = GzEncoder::new(File::create(&gz_path).unwrap(), Compression::default());
        encoder.write_all(body.as_bytes()).unwrap();
        encoder.finish().unwrap();
        let gz = load(&gz_path, &with_target(TargetSelect::Last)).unwrap();
        assert_eq!(gz.names(), plain.names());
        for c in 0..3 {
            assert_eq!(text(&gz, c), text(&plain, c));
        }
    }

    #[test]
    fn corrupt_gzip_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(&dir, "d.csv.gz", "this is not gzip");
        let msg = load(&path, &with_target(TargetSelect::Last))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("d.csv.gz"), "{msg}");
    }

    #[test]
    fn structural_errors_say_where() {
        let dir = tempfile::tempdir().unwrap();
        let cases = [
            ("empty.csv", "", "empty"),
            ("blank.csv", "\n\n", "empty"),
            ("header.csv", "a,b\n", "not followed by any data rows"),
            (
                "ragged.csv",
                "a,b\n1,2\n3\n",
                "ragged.csv:3: the row has 1 fields, but the header has 2",
            ),
            (
                "long.csv",
                "a,b\n1,2,3\n",
                "long.csv:2: the row has 3 fields",
            ),
            (
                "dup.csv",
                "a,b,a\n1,2,3\n",
                "column \"a\" appears twice (columns 1 and 3)",
            ),
            ("noname.csv", "a,,c\n1,2,3\n", "column 2 has an empty name"),
        ];
        for (name, body, expected) in cases {
            let path = write(&dir, name, body);
            let msg = load(&path, &with_target(TargetSelect::Last))
                .unwrap_err()
                .to_string();
            assert!(
                msg.contains(name) && msg.contains(expected),
                "{name}: {msg}"
            );
        }
        let missing = dir.path().join("missing.csv");
        let msg = load(&missing, &with_target(TargetSelect::Last))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("missing.csv"), "{msg}");
    }

    #[test]
    fn invalid_utf8_is_located() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bin.csv");
        std::fs::write(&path, b"a,b\n1,2\n3,\xff\n").unwrap();
        let msg = load(&path, &with_target(TargetSelect::Last))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("bin.csv:3") && msg.contains("UTF-8"), "{msg}");
    }

    /// The cells of every column, as text.
    fn cells(table: &Table) -> Vec<Vec<String>> {
        table
            .columns
            .iter()
            .map(|c| {
                (0..table.rows)
                    .map(|r| table.text(c, r).into_owned())
                    .collect()
            })
            .collect()
    }

    #[test]
    fn delimiters_are_detected_from_the_first_lines() {
        let dir = tempfile::tempdir().unwrap();
        let semicolon = write(&dir, "eu.csv", "f0;f1;bought\n1,5;2;yes\n-0,25;3;no\n");
        let table = load(&semicolon, &LoadOptions::default()).unwrap();
        assert_eq!(table.names(), ["f0", "f1", "bought"]);
        assert_eq!(
            (table.delimiter, table.decimal),
            (Some(b';'), Decimal::Comma)
        );
        let na = crate::cells::default_na_values();
        let f0 = &table.columns[0];
        assert_eq!(table.cell(f0, 1, &na), crate::cells::Cell::Number(-0.25));
        let pipe = write(&dir, "p.csv", "a|b|c\n1|x y|2\n3|z|4\n");
        let table = load(&pipe, &LoadOptions::default()).unwrap();
        assert_eq!(
            (table.names(), table.delimiter),
            (vec!["a", "b", "c"], Some(b'|'))
        );
        // Commas inside quotes do not count; the decimal point stays a point.
        let quoted = write(
            &dir,
            "q.csv",
            "name,price\n\"Smith, J\",1.5\n\"Doe, A\",2\n",
        );
        let table = load(&quoted, &LoadOptions::default()).unwrap();
        assert_eq!(
            (table.delimiter, table.decimal),
            (Some(b','), Decimal::Point)
        );
        assert_eq!(cells(&table)[0], ["Smith, J", "Doe, A"]);
        // A semicolon file whose numbers have points keeps them.
        let points = write(&dir, "pt.csv", "a;b\n1.5;x\n2,5;y\n");
        assert_eq!(
            load(&points, &LoadOptions::default()).unwrap().decimal,
            Decimal::Point
        );
        // The flag wins.
        let forced = LoadOptions {
            delimiter: Some(b','),
            ..LoadOptions::default()
        };
        let msg = load(
            &semicolon,
            &LoadOptions {
                target: TargetSelect::Column("bought".into()),
                ..forced
            },
        )
        .unwrap_err()
        .to_string();
        assert!(msg.contains("there is no column \"bought\""), "{msg}");
        assert!(msg.contains("try --delimiter ';'"), "{msg}");
    }

    #[test]
    fn spreadsheet_exports_read_as_written() {
        let dir = tempfile::tempdir().unwrap();
        let excel = write(
            &dir,
            "excel.csv",
            "\u{feff}\"id\",\"note\",\"y\"\r\n1,\"two\r\nlines\",a\r\n\r\n2,\"say \"\"hi\"\"\",b\r\n",
        );
        let table = load(&excel, &LoadOptions::default()).unwrap();
        assert_eq!(
            table.names(),
            ["id", "note", "y"],
            "the byte-order mark is not part of a name"
        );
        assert_eq!(cells(&table)[1], ["two\r\nlines", "say \"hi\""]);
        let y = &table.columns[2];
        assert_eq!(
            table.location(y, 1).to_string(),
            format!("{}:5", excel.display())
        );
    }
}
