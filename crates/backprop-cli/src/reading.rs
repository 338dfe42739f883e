//! How the commands read data files: the delimiter and decimal-mark flags every command takes,
//! and the notes the data layer returns about what it decided.

use anyhow::bail;
use backprop_data::{Decimal, EncodeOptions, LoadOptions, Note};
use clap::{Args, ValueEnum};
use serde::{Deserialize, Serialize};

/// The decimal mark on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecimalName {
    /// `1.5`
    Point,
    /// `1,5`
    Comma,
}

impl From<DecimalName> for Decimal {
    fn from(name: DecimalName) -> Self {
        match name {
            DecimalName::Point => Decimal::Point,
            DecimalName::Comma => Decimal::Comma,
        }
    }
}

/// `--delimiter`, `--decimal` and `--strict` for the commands that read files with a model.
#[derive(Clone, Debug, Default, Args)]
pub struct ReadArgs {
    /// Field separator of a delimited text file (default: detected from its first lines among
    /// `,` `;` tab `|`); `tab` or `\t` for a tab.
    #[arg(long, value_name = "C")]
    pub delimiter: Option<String>,
    /// Decimal mark of its numbers (default: a comma when the file is not comma-separated and
    /// its numbers are written `1,5`).
    #[arg(long, value_enum)]
    pub decimal: Option<DecimalName>,
    /// Refuse values the model never saw in training (categories, missing cells) instead of
    /// encoding them as unknown.
    #[arg(long)]
    pub strict: bool,
}

impl ReadArgs {
    /// The options for the data layer.
    pub fn options(&self) -> anyhow::Result<(LoadOptions, EncodeOptions)> {
        let load = load_options(self.delimiter.as_deref(), self.decimal)?;
        Ok((
            load,
            EncodeOptions {
                strict: self.strict,
                ..EncodeOptions::default()
            },
        ))
    }
}

/// The load options for a `--delimiter` and a `--decimal` (the target is set by the caller).
pub fn load_options(
    delimiter: Option<&str>,
    decimal: Option<DecimalName>,
) -> anyhow::Result<LoadOptions> {
    Ok(LoadOptions {
        delimiter: delimiter.map(parse_delimiter).transpose()?,
        decimal: decimal.map(Decimal::from),
        ..LoadOptions::default()
    })
}

/// One ASCII character, or `tab` / `\t`.
fn parse_delimiter(text: &str) -> anyhow::Result<u8> {
    match text {
        "tab" | "\\t" | "\t" => Ok(b'\t'),
        _ if text.len() == 1 && text.is_ascii() && text != "\"" => Ok(text.as_bytes()[0]),
        _ => bail!("--delimiter {text:?}: give one character such as , ; | or tab"),
    }
}

/// Comma-separated names (`a,b,c`); empty text gives none.
pub fn names(text: &str) -> Vec<String> {
    text.split(',')
        .map(|name| name.trim().to_string())
        .filter(|name| !name.is_empty())
        .collect()
}

/// Prints each note on standard error as `note: ...`.
pub fn print_notes(notes: &[Note]) {
    for note in notes {
        eprintln!("note: {note}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delimiters_and_names_parse() {
        assert_eq!(parse_delimiter(";").unwrap(), b';');
        assert_eq!(parse_delimiter("tab").unwrap(), b'\t');
        assert!(parse_delimiter(";;").is_err());
        assert_eq!(names("a, b,,c"), ["a", "b", "c"]);
        assert!(names("").is_empty());
    }
}
