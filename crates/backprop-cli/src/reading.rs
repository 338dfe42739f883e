//! How the commands read data files: the delimiter and decimal-mark flags every command takes,
//! and the notes the data layer returns about what it decided.

use anyhow::{bail, Context};
use backprop_data::{Decimal, EncodeOptions, LoadOptions};
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
    /// The most bytes gzip data may inflate to: bytes, or with a unit (512MiB, 2G = 2 GiB,
    /// 2GB = 2·10⁹); more is an error (default 16GiB).
    #[arg(long, value_name = "SIZE")]
    pub max_decompressed: Option<String>,
}

impl ReadArgs {
    /// The options for the data layer.
    pub fn options(&self) -> anyhow::Result<(LoadOptions, EncodeOptions)> {
        let load = load_options(
            self.delimiter.as_deref(),
            self.decimal,
            self.max_decompressed.as_deref(),
        )?;
        Ok((
            load,
            EncodeOptions {
                strict: self.strict,
                ..EncodeOptions::default()
            },
        ))
    }
}

/// The load options for a `--delimiter`, a `--decimal` and a `--max-decompressed` (the
/// target is set by the caller).
pub fn load_options(
    delimiter: Option<&str>,
    decimal: Option<DecimalName>,
    max_decompressed: Option<&str>,
) -> anyhow::Result<LoadOptions> {
    Ok(LoadOptions {
        delimiter: delimiter.map(parse_delimiter).transpose()?,
        decimal: decimal.map(Decimal::from),
        max_decompressed: max_decompressed
            .map(|text| parse_size(text).with_context(|| format!("--max-decompressed {text:?}")))
            .transpose()?,
        ..LoadOptions::default()
    })
}

/// A size in bytes: a whole number, then optionally a unit, any case: `K`/`KiB`, `M`/`MiB`,
/// `G`/`GiB`, `T`/`TiB` are powers of 1024, `KB`, `MB`, `GB`, `TB` powers of 1000, `B` is 1.
pub fn parse_size(text: &str) -> anyhow::Result<u64> {
    let text = text.trim();
    let digits = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(digits);
    let Ok(number) = number.parse::<u64>() else {
        bail!("give a size such as 1000000, 512MiB or 2G");
    };
    if unit.starts_with(['.', ',']) {
        bail!("give a whole number of bytes or of a unit (1536MiB, not 1.5GiB)");
    }
    let scale: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kib" => 1 << 10,
        "m" | "mib" => 1 << 20,
        "g" | "gib" => 1 << 30,
        "t" | "tib" => 1 << 40,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        "tb" => 1_000_000_000_000,
        other => bail!(
            "unknown unit {other:?}: give B, KiB, MiB, GiB, TiB (or K, M, G, T), KB, MB, GB or TB"
        ),
    };
    match number.checked_mul(scale) {
        Some(0) => bail!("the size must be at least 1 byte"),
        Some(bytes) => Ok(bytes),
        None => bail!("more than 2^64 bytes"),
    }
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

    #[test]
    fn sizes_parse_with_binary_and_decimal_units() {
        assert_eq!(parse_size("1000").unwrap(), 1000);
        assert_eq!(parse_size("512MiB").unwrap(), 512 << 20);
        assert_eq!(parse_size("2G").unwrap(), 2 << 30);
        assert_eq!(parse_size("2gb").unwrap(), 2_000_000_000);
        assert_eq!(parse_size("16 GiB").unwrap(), 16 << 30);
        for bad in ["", "G", "1.5G", "2X", "0", "-1", "99999999999T"] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
    }
}
