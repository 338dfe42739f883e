//! `backprop datasets`: the built-in datasets.

use std::process::ExitCode;

use backprop_data::builtin;

/// Prints each built-in dataset's name and description.
pub fn run() -> anyhow::Result<ExitCode> {
    let list = builtin::list();
    let width = list.iter().map(|d| d.name.len()).max().unwrap_or(0) + "builtin:".len();
    for dataset in list {
        println!(
            "{:<width$}  {}",
            format!("builtin:{}", dataset.name),
            dataset.description
        );
    }
    Ok(ExitCode::SUCCESS)
}
