//! Colour on standard error and output (anstream/anstyle, as clap and cargo): on a terminal
//! only, unless `NO_COLOR` is set or `--color always|never` decides; errors in red with the
//! located part (the file, line and column, or the flag) in bold; the `note` and `warning`
//! prefixes in cyan and yellow, the best epoch in green.

use anstyle::{AnsiColor, Style};

use crate::cli::ColorWhen;

/// The `error:` prefix.
const ERROR: Style = AnsiColor::Red.on_default().bold();
/// The located part of a message: what comes before its first `": "`.
const LOCATION: Style = Style::new().bold();

/// The `note:` prefix.
const NOTE: Style = AnsiColor::Cyan.on_default().bold();
/// The `warning:` prefix.
const WARNING: Style = AnsiColor::Yellow.on_default().bold();
/// The kept (best) epoch's line.
const BEST: Style = AnsiColor::Green.on_default().bold();

/// Prints `note: MESSAGE` on standard error, the prefix cyan; nothing under `--quiet`.
pub fn note(message: &str) {
    if !crate::verbosity::quiet() {
        anstream::eprintln!("{NOTE}note:{NOTE:#} {message}");
    }
}

/// Prints each of `notes` (what reading the data decided) as a [`note`].
pub fn print_notes(notes: &[backprop_data::Note]) {
    for each in notes {
        note(&each.to_string());
    }
}

/// Prints `warning: MESSAGE` on standard error, the prefix yellow (also under `--quiet`).
pub fn warning(message: &str) {
    anstream::eprintln!("{WARNING}warning:{WARNING:#} {message}");
}

/// A line-start word of the text output (`note`, `warning`) padded to `width`, coloured as
/// the prefixes on standard error are.
pub fn label(word: &str, width: usize) -> String {
    let style = match word {
        "note" => NOTE,
        "warning" => WARNING,
        "best" | "stopped" => BEST,
        _ => Style::new(),
    };
    format!(
        "{style}{word}{style:#}{:pad$}",
        "",
        pad = width.saturating_sub(word.len())
    )
}

/// `line` in the kept epoch's colour.
pub fn best(line: &str) -> String {
    format!("{BEST}{line}{BEST:#}")
}

/// Applies `--color` to everything printed through anstream from now on.
pub fn set_color(when: ColorWhen) {
    let choice = match when {
        ColorWhen::Auto => anstream::ColorChoice::Auto,
        ColorWhen::Always => anstream::ColorChoice::Always,
        ColorWhen::Never => anstream::ColorChoice::Never,
    };
    choice.write_global();
}

/// Prints `error: MESSAGE` on standard error, the prefix red and the message's location bold.
pub fn error(message: &str) {
    let (location, rest) = split_location(message);
    anstream::eprintln!("{ERROR}error:{ERROR:#} {LOCATION}{location}{LOCATION:#}{rest}",);
}

/// `message` cut after its location (`data.csv:3:5`, `--layers`): the text before the first
/// `": "` when it holds no space, else nothing.
fn split_location(message: &str) -> (&str, &str) {
    match message.find(": ") {
        Some(at) if !message[..at].contains(' ') => message.split_at(at),
        _ => ("", message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_location_is_the_first_spaceless_part() {
        assert_eq!(
            split_location("data.csv:3:5: not a number"),
            ("data.csv:3:5", ": not a number")
        );
        assert_eq!(
            split_location("no training data: give DATA"),
            ("", "no training data: give DATA")
        );
    }
}
