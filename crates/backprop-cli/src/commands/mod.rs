//! One module per subcommand; each exposes `run(args) -> anyhow::Result<ExitCode>`.

pub mod gradcheck;
pub mod train;
