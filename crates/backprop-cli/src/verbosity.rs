//! `--quiet` and `--verbose`: how much a command prints, set once from the global flags.
//!
//! - quiet: errors, warnings and the final line only (no header, notes, epoch lines or
//!   progress bar);
//! - normal: what each command prints by default;
//! - verbose: also per-step details (the batch loss and learning rate every few steps of
//!   training, where time went, how many rows were read).

use std::sync::atomic::{AtomicU8, Ordering};

/// How much to print.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verbosity {
    /// Errors, warnings and the final line.
    Quiet = 0,
    /// The default.
    Normal = 1,
    /// The default and per-step details.
    Verbose = 2,
}

static LEVEL: AtomicU8 = AtomicU8::new(Verbosity::Normal as u8);

/// Sets the verbosity of everything printed from now on (`quiet` wins over `verbose`, which
/// clap keeps from being given together).
pub fn set(quiet: bool, verbose: bool) {
    let level = match (quiet, verbose) {
        (true, _) => Verbosity::Quiet,
        (false, true) => Verbosity::Verbose,
        (false, false) => Verbosity::Normal,
    };
    LEVEL.store(level as u8, Ordering::Relaxed);
}

/// The verbosity in force.
pub fn get() -> Verbosity {
    match LEVEL.load(Ordering::Relaxed) {
        0 => Verbosity::Quiet,
        1 => Verbosity::Normal,
        _ => Verbosity::Verbose,
    }
}

/// Whether only the final line is printed.
pub fn quiet() -> bool {
    get() == Verbosity::Quiet
}

/// Whether per-step details are printed.
pub fn verbose() -> bool {
    get() == Verbosity::Verbose
}

/// Prints `line` on stdout unless `--quiet`.
pub fn info(line: &str) {
    if !quiet() {
        println!("{line}");
    }
}

/// Prints `line` on stderr with `-v` only.
pub fn detail(line: &str) {
    if verbose() {
        eprintln!("{line}");
    }
}
