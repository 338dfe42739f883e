//! The values the command accepts where clap's `ValueEnum` cannot list them: activation names
//! (some take an argument, `leaky_relu(0.2)`), layer widths given as a TOML list, and finite
//! numbers. Only the documented names pass; the engine's own aliases (`swish`, `linear`,
//! `logistic`) are refused here with the list of valid ones, so every name a user can type is
//! one `--help` shows.

use std::path::PathBuf;

use anyhow::bail;
use backprop::Activation;
use serde::{Deserialize, Deserializer};

/// The documented activation names; `leaky_relu` and `elu` also take an argument in brackets.
pub const ACTIVATIONS: [&str; 9] = [
    "relu",
    "tanh",
    "sigmoid",
    "leaky_relu",
    "elu",
    "gelu",
    "silu",
    "softplus",
    "identity",
];

/// Activations that take an argument: `leaky_relu(SLOPE)`, `elu(ALPHA)`.
const WITH_ARGUMENT: [&str; 2] = ["leaky_relu", "elu"];

/// Parses a documented activation name (`relu`, `leaky_relu(0.2)`, ...); anything else is an
/// error that names the value and lists the valid ones.
pub fn activation(text: &str) -> anyhow::Result<Activation> {
    let name = text.split('(').next().unwrap_or_default().trim();
    let bracketed = text.contains('(');
    let known = ACTIVATIONS.contains(&name) && (!bracketed || WITH_ARGUMENT.contains(&name));
    if !known {
        bail!(
            "unknown activation {text:?}: expected one of {}, leaky_relu(SLOPE), elu(ALPHA)",
            ACTIVATIONS.join(", ")
        );
    }
    text.parse::<Activation>()
        .map_err(|e| anyhow::anyhow!("{e}"))
}

/// A number setting on the command line (`--lr 0.01`): NaN and infinities are refused here,
/// naming the value, because the settings are merged with the config file through JSON, which
/// has no such numbers (they would silently become "not given").
pub fn finite(text: &str) -> Result<f64, String> {
    let value: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a number"))?;
    if !value.is_finite() {
        return Err(format!("{text:?} is not a finite number"));
    }
    Ok(value)
}

/// A number setting in the config file (`lr = 0.01`): NaN and infinities (`nan`, `inf`) are
/// refused, for the reason of [`finite`]; the error carries the line and column of the value.
pub fn finite_number<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<f64>, D::Error> {
    match Option::<f64>::deserialize(deserializer)? {
        Some(value) if !value.is_finite() => Err(serde::de::Error::custom(format!(
            "{value} is not a finite number"
        ))),
        value => Ok(value),
    }
}

/// A path setting of `train` on the command line (`--save`, `--init`, ...). Clap refuses one
/// that is not UTF-8, naming the flag: the settings are merged with the config file through
/// their serialized form, which holds only UTF-8 paths (such a path once panicked there).
pub fn utf8_path(text: &str) -> Result<PathBuf, String> {
    Ok(PathBuf::from(text))
}

/// Layer widths in the config file: a string (`"256,128"`) or a list of numbers
/// (`[256, 128]`), kept as the comma-separated text `--layers` takes.
pub fn widths<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    /// Either spelling.
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Widths {
        /// `"256,128"`.
        Text(String),
        /// `[256, 128]`.
        List(Vec<usize>),
    }
    Ok(
        Option::<Widths>::deserialize(deserializer)?.map(|widths| match widths {
            Widths::Text(text) => text,
            Widths::List(list) => list
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(","),
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_finite_numbers_pass() {
        assert_eq!(finite("0.5"), Ok(0.5));
        assert_eq!(finite(" 1e-3 "), Ok(1e-3));
        for bad in ["nan", "NaN", "inf", "-inf", "infinity", "1e999"] {
            let err = finite(bad).unwrap_err();
            assert!(err.contains(bad) && err.contains("finite"), "{err}");
        }
        assert!(finite("abc").unwrap_err().contains("not a number"));
    }

    #[test]
    fn documented_names_pass_and_aliases_are_refused() {
        for name in ACTIVATIONS {
            assert!(activation(name).is_ok(), "{name}");
        }
        assert_eq!(
            activation("leaky_relu(0.2)").unwrap(),
            Activation::LeakyRelu { slope: 0.2 }
        );
        for alias in ["swish", "linear", "logistic", "relu(2)", "bogus"] {
            let err = activation(alias).unwrap_err().to_string();
            assert!(
                err.contains(alias) && err.contains("silu, softplus"),
                "{err}"
            );
        }
    }
}
