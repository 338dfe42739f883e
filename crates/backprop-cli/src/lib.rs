//! The settings of the `backprop` command, as a library: how `--config FILE.toml` (for
//! `train`, `cv` and `tune`) and a `tune --space` file become validated settings, with no
//! data read. The `backprop` binary (`src/main.rs`) is the only user besides the fuzz target
//! of `fuzz/` (`config`), which feeds any text to the same functions.
//!
//! - [`train_args`]: the one settings struct of `train` that clap and the TOML file share,
//!   [`train_args::parse_config`] for the file's text, and [`train_args::TrainArgs::resolve`],
//!   which fills in the defaults and checks every range;
//! - [`tune_space`]: the search space of `tune`;
//! - [`config_example`]: the commented file `backprop config --example` writes;
//! - [`accepted`], [`defaults`], [`reading`]: activation names and layer widths, the defaults
//!   that follow from the data, and the reading options (`--delimiter`, `--decimal`, sizes).
//!
//! ```
//! use backprop_cli::train_args::parse_config;
//!
//! let args = parse_config("data = \"iris.csv\"\nlayers = [16, 8]\nepochs = 5\n", "a.toml").unwrap();
//! let plan = args.resolve().unwrap();
//! assert_eq!((plan.layers, plan.config.epochs), (vec![16, 8], 5));
//! assert!(parse_config("epochz = 5", "a.toml").unwrap_err().to_string().contains("epochz"));
//! ```
#![deny(missing_docs)]

pub mod accepted;
pub mod config_example;
pub mod defaults;
pub mod reading;
pub mod train_args;
pub mod tune_space;
