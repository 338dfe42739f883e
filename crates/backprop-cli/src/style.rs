//! Colour on standard error and output (anstream/anstyle, as clap and cargo): on a terminal
//! only, unless `NO_COLOR` is set or `--color always|never` decides; errors in red with the
//! located part (the file, line and column, or the flag) in bold.

use anstyle::{AnsiColor, Style};

use crate::cli::ColorWhen;

/// The `error:` prefix.
const ERROR: Style = AnsiColor::Red.on_default().bold();
/// The located part of a message: what comes before its first `": "`.
const LOCATION: Style = Style::new().bold();

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
