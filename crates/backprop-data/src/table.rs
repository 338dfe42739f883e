//! A loaded dataset before preprocessing: named columns of raw cells, with the position of
//! every row in its file so that errors can point at it.

use crate::cells::{classify, number_name, Cell, Decimal};
use crate::error::{Error, Location, Position};

/// Raw data as read from a file: columns in file order, one of them perhaps the target.
///
/// Text formats keep their cells as text until a [`Preprocessor`](crate::Preprocessor)
/// decides, from the training data, what each column is; binary formats hold numbers.
#[derive(Clone, Debug)]
pub struct Table {
    /// The file the rows came from, as the user named it (or `builtin:NAME`).
    pub source: String,
    /// Number of data rows.
    pub rows: usize,
    /// Every column, in file order (the target included).
    pub columns: Vec<Column>,
    /// Index into `columns` of the target, if the data has one.
    pub target: Option<usize>,
    /// The decimal mark of the file's numbers (text formats; binary ones hold numbers).
    pub decimal: Decimal,
    /// The field separator of a delimited text file, as detected or given.
    pub delimiter: Option<u8>,
    positions: Positions,
}

#[derive(Clone, Debug)]
enum Positions {
    /// The 1-based line on which each row starts.
    Lines(Vec<u64>),
    /// The same, kept as runs of consecutive lines (a file read whole: nearly one run).
    LineRuns(LineRuns),
    /// Rows are records `1..=rows`.
    Records,
    /// The 1-based record number of each row (a selection of records).
    Numbered(Vec<u64>),
}

/// One column: its name, number and cells.
#[derive(Clone, Debug)]
pub struct Column {
    /// The header name.
    pub name: String,
    /// The 1-based column number in its file.
    pub number: usize,
    /// The file this column came from (IDX and NumPy labels live in their own file).
    pub file: String,
    /// The cells.
    pub values: Values,
}

/// The cells of a column.
#[derive(Clone, Debug)]
pub enum Values {
    /// Numbers already decoded from a binary format (always finite).
    Numbers(Vec<f64>),
    /// Bytes standing for the numbers `byte / divisor` (MNIST pixels, `divisor = 255`), read
    /// in place from a buffer the columns share (the decompressed file): cell `i` is
    /// `data[start + i·stride]`. No copy, and an eighth of the memory of [`Values::Numbers`].
    Bytes {
        /// The shared buffer.
        data: std::sync::Arc<Vec<u8>>,
        /// Where the column's first cell is.
        start: usize,
        /// The distance between consecutive cells.
        stride: usize,
        /// The number of cells.
        len: usize,
        /// What each byte is divided by.
        divisor: f64,
    },
    /// Text cells, trimmed, as read.
    Text(TextCells),
}

impl Column {
    /// This column's name, number and file, with no cells.
    fn clone_header(&self) -> Column {
        Column {
            name: self.name.clone(),
            number: self.number,
            file: self.file.clone(),
            values: Values::Numbers(Vec::new()),
        }
    }
}

impl Values {
    /// The cells `rows`, in that order (bytes become numbers: a selection is a copy).
    fn select(&self, rows: &[usize]) -> Values {
        match self {
            Values::Numbers(v) => Values::Numbers(rows.iter().map(|&r| v[r]).collect()),
            Values::Bytes { .. } => Values::Numbers(
                rows.iter()
                    .map(|&r| self.number(r).expect("bytes are numbers"))
                    .collect(),
            ),
            Values::Text(cells) => Values::Text(rows.iter().map(|&r| cells.get(r)).collect()),
        }
    }

    /// Every cell as a number, or `None` for text cells.
    pub fn numbers(&self) -> Option<Vec<f64>> {
        match self {
            Values::Numbers(v) => Some(v.clone()),
            Values::Bytes { len, .. } => (0..*len).map(|row| self.number(row)).collect(),
            Values::Text(_) => None,
        }
    }

    /// Cell `row` as a number, or `None` for text cells.
    ///
    /// # Panics
    /// If `row` is out of range.
    pub fn number(&self, row: usize) -> Option<f64> {
        match self {
            Values::Numbers(v) => Some(v[row]),
            Values::Bytes {
                data,
                start,
                stride,
                len,
                divisor,
            } => {
                assert!(row < *len, "row {row} of {len}");
                Some(f64::from(data[start + row * stride]) / divisor)
            }
            Values::Text(_) => None,
        }
    }
}

/// The 1-based line on which each row of a text file starts, as runs of consecutive lines:
/// 16 bytes per run, not 8 per row (a file of one-line rows is one run, plus one per blank
/// line or multi-line cell).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LineRuns {
    /// The first row and its line, of each run.
    starts: Vec<(usize, u64)>,
    rows: usize,
}

impl LineRuns {
    /// Appends the next row, starting on `line`.
    pub fn push(&mut self, line: u64) {
        let follows = self
            .starts
            .last()
            .is_some_and(|&(row, first)| first + (self.rows - row) as u64 == line);
        if !follows {
            self.starts.push((self.rows, line));
        }
        self.rows += 1;
    }

    /// The number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// The line of row `row`.
    ///
    /// # Panics
    /// If `row` is out of range.
    pub fn line(&self, row: usize) -> u64 {
        assert!(row < self.rows, "row {row} of {}", self.rows);
        let run = self.starts.partition_point(|&(start, _)| start <= row) - 1;
        let (start, first) = self.starts[run];
        first + (row - start) as u64
    }
}

/// Text cells stored back to back in one string (a table of MNIST as CSV has six million
/// cells; one allocation per cell would be wasteful), with 4 bytes of bookkeeping per cell:
/// the low 32 bits of where each cell ends, and the cells at which the text passed a
/// multiple of 2³² bytes.
#[derive(Clone, Debug, Default)]
pub struct TextCells {
    text: String,
    ends: Vec<u32>,
    /// For each multiple of 2³² the text has passed, the cell whose end passed it.
    wraps: Vec<usize>,
}

impl TextCells {
    /// Appends a cell.
    pub fn push(&mut self, cell: &str) {
        self.text.push_str(cell);
        let end = self.text.len() as u64;
        while (self.wraps.len() as u64) < end >> 32 {
            self.wraps.push(self.ends.len());
        }
        self.ends.push(end as u32);
    }

    /// Where cell `i` ends in `text`.
    fn end(&self, i: usize) -> usize {
        let high = self.wraps.partition_point(|&w| w <= i) as u64;
        ((high << 32) | u64::from(self.ends[i])) as usize
    }

    /// The number of cells.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there are no cells.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Cell `i`.
    ///
    /// # Panics
    /// If `i` is out of range.
    pub fn get(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.end(i - 1) };
        &self.text[start..self.end(i)]
    }

    /// The cells in order.
    pub fn iter(&self) -> impl Iterator<Item = &str> + '_ {
        (0..self.len()).map(|i| self.get(i))
    }
}

impl<'a> FromIterator<&'a str> for TextCells {
    fn from_iter<I: IntoIterator<Item = &'a str>>(iter: I) -> Self {
        let mut cells = TextCells::default();
        for cell in iter {
            cells.push(cell);
        }
        cells
    }
}

impl Table {
    /// A table whose rows are text lines starting at the given 1-based lines.
    pub fn from_lines(
        source: String,
        columns: Vec<Column>,
        target: Option<usize>,
        lines: Vec<u64>,
    ) -> Self {
        Self {
            source,
            rows: lines.len(),
            columns,
            target,
            decimal: Decimal::Point,
            delimiter: None,
            positions: Positions::Lines(lines),
        }
    }

    /// A table whose rows are text lines, the 1-based line each row starts on given as
    /// [`LineRuns`].
    pub fn from_line_runs(
        source: String,
        columns: Vec<Column>,
        target: Option<usize>,
        lines: LineRuns,
    ) -> Self {
        Self {
            source,
            rows: lines.rows(),
            columns,
            target,
            decimal: Decimal::Point,
            delimiter: None,
            positions: Positions::LineRuns(lines),
        }
    }

    /// A table of `rows` records (binary formats and built-in datasets).
    pub fn from_records(
        source: String,
        rows: usize,
        columns: Vec<Column>,
        target: Option<usize>,
    ) -> Self {
        Self {
            source,
            rows,
            columns,
            target,
            decimal: Decimal::Point,
            delimiter: None,
            positions: Positions::Records,
        }
    }

    /// A table of the rows `rows` (0-based, in that order) of this one: the same columns,
    /// and each row keeps its place in the file, so errors still point at the right line.
    /// Cross-validation folds and search trials are tables like this.
    ///
    /// # Panics
    /// If a row is out of range.
    pub fn select_rows(&self, rows: &[usize]) -> Table {
        let columns = self
            .columns
            .iter()
            .map(|column| Column {
                values: column.values.select(rows),
                ..column.clone_header()
            })
            .collect();
        let positions = match &self.positions {
            Positions::Lines(lines) => Positions::Lines(rows.iter().map(|&r| lines[r]).collect()),
            Positions::LineRuns(runs) => {
                Positions::Lines(rows.iter().map(|&r| runs.line(r)).collect())
            }
            Positions::Records => Positions::Numbered(rows.iter().map(|&r| r as u64 + 1).collect()),
            Positions::Numbered(numbers) => {
                Positions::Numbered(rows.iter().map(|&r| numbers[r]).collect())
            }
        };
        Table {
            source: self.source.clone(),
            rows: rows.len(),
            columns,
            target: self.target,
            decimal: self.decimal,
            delimiter: self.delimiter,
            positions,
        }
    }

    /// Where row `row` (0-based) of `column` sits.
    pub fn location(&self, column: &Column, row: usize) -> Location {
        Location {
            file: column.file.as_str().into(),
            position: self.position(row),
        }
    }

    fn position(&self, row: usize) -> Position {
        match &self.positions {
            Positions::Lines(lines) => Position::Line(lines[row]),
            Positions::LineRuns(runs) => Position::Line(runs.line(row)),
            Positions::Records => Position::Record(row as u64 + 1),
            Positions::Numbered(numbers) => Position::Record(numbers[row]),
        }
    }

    /// The target column, if any.
    pub fn target_column(&self) -> Option<&Column> {
        self.target.map(|i| &self.columns[i])
    }

    /// The column named `name`.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// The column names, in file order.
    pub fn names(&self) -> Vec<&str> {
        self.columns.iter().map(|c| c.name.as_str()).collect()
    }

    /// Cell `row` of `column`, read with the missing-value texts `na_values` and the
    /// table's decimal mark (cells of binary formats are numbers).
    pub(crate) fn cell<'t>(
        &self,
        column: &'t Column,
        row: usize,
        na_values: &[String],
    ) -> Cell<'t> {
        match &column.values {
            Values::Text(cells) => classify(cells.get(row), na_values, self.decimal),
            numeric => Cell::Number(numeric.number(row).expect("a numeric column")),
        }
    }

    /// The text of cell `row` of `column`, as read (numbers of binary formats in their
    /// shortest form).
    pub(crate) fn text<'t>(&self, column: &'t Column, row: usize) -> std::borrow::Cow<'t, str> {
        match &column.values {
            Values::Text(cells) => cells.get(row).into(),
            numeric => number_name(numeric.number(row).expect("a numeric column")).into(),
        }
    }

    /// The error for cell `row` of `column`, which should have been a number.
    pub(crate) fn not_a_number(&self, column: &Column, row: usize, cell: Cell<'_>) -> Error {
        let location = self.location(column, row);
        let (name, number, value) = (
            column.name.clone(),
            column.number,
            self.text(column, row).into_owned(),
        );
        match cell {
            Cell::NonFinite => Error::NotFinite {
                location,
                column: name,
                number,
                value,
            },
            Cell::Missing => Error::MissingValue {
                location,
                column: name,
                number,
                value,
                why: "the model has no fill value for this column".into(),
            },
            Cell::Number(_) | Cell::Text(_) => Error::NotANumber {
                location,
                column: name,
                number,
                value,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::LineRuns;

    #[test]
    fn line_runs_give_back_every_line() {
        let lines = [2u64, 3, 4, 6, 7, 10, 11, 12, 13];
        let mut runs = LineRuns::default();
        lines.iter().for_each(|&l| runs.push(l));
        assert_eq!(runs.rows(), lines.len());
        assert_eq!(runs.starts.len(), 3);
        for (row, &line) in lines.iter().enumerate() {
            assert_eq!(runs.line(row), line);
        }
    }

    use super::*;

    #[test]
    fn selected_rows_keep_their_lines_and_cells() {
        let column = |name: &str, values: Values| Column {
            name: name.into(),
            number: 1,
            file: "f.csv".into(),
            values,
        };
        let table = Table::from_lines(
            "f.csv".into(),
            vec![
                column("a", Values::Text(["x", "y", "z"].into_iter().collect())),
                column("b", Values::Numbers(vec![1.0, 2.0, 3.0])),
            ],
            Some(1),
            vec![2, 3, 5],
        );
        let picked = table.select_rows(&[2, 0]);
        assert_eq!(picked.rows, 2);
        assert_eq!(picked.target, Some(1));
        let Values::Text(cells) = &picked.columns[0].values else {
            panic!("text stays text")
        };
        assert_eq!(cells.iter().collect::<Vec<_>>(), ["z", "x"]);
        assert_eq!(picked.columns[1].values.numbers(), Some(vec![3.0, 1.0]));
        let place = picked.location(&picked.columns[0], 0).to_string();
        assert!(place.contains('5'), "{place}");
        let records = Table::from_records(
            "r".into(),
            3,
            vec![column("b", Values::Numbers(vec![1.0, 2.0, 3.0]))],
            None,
        );
        let again = records.select_rows(&[1]).select_rows(&[0]);
        assert!(again
            .location(&again.columns[0], 0)
            .to_string()
            .contains('2'));
    }

    #[test]
    fn text_cells_store_back_to_back() {
        let cells: TextCells = ["a", "", "xyz"].into_iter().collect();
        assert_eq!(cells.len(), 3);
        assert_eq!(cells.iter().collect::<Vec<_>>(), ["a", "", "xyz"]);
    }
}
