//! One module per subcommand; each exposes `run(args) -> anyhow::Result<ExitCode>`.

pub mod completions;
pub mod config;
pub mod cv;
pub mod datasets;
pub mod eval;
pub mod export;
pub mod gradcheck;
pub mod inspect;
pub mod man;
pub mod predict;
pub mod serve;
pub mod studio;
pub mod train;
pub mod tune;
