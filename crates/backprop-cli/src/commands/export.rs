//! `backprop export`: a saved model as an ONNX graph (the preprocessing inside) or as a
//! PyTorch `nn.Sequential` state dict.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{bail, Context};
use backprop_data::{onnx, torch_export, write_atomic, Model};
use clap::{Args, ValueEnum};

/// `backprop export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// A model saved by `backprop train`.
    pub model: std::path::PathBuf,
    /// The file to write (replaced atomically).
    #[arg(short, long, value_name = "FILE")]
    pub output: std::path::PathBuf,
    /// The format; by default from the extension: `.onnx` is onnx, `.safetensors`, `.pt`,
    /// `.pth` are torch.
    #[arg(long, value_enum)]
    pub format: Option<ExportFormat>,
}

/// What `backprop export` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// An ONNX model (opset 17) with the preprocessing, the network and the output.
    Onnx,
    /// A safetensors state dict of a PyTorch `nn.Sequential`, and the Python that loads it.
    Torch,
}

impl ExportFormat {
    /// The format the file name asks for.
    fn of(path: &Path) -> anyhow::Result<Self> {
        let extension = path
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase());
        match extension.as_deref() {
            Some("onnx") => Ok(ExportFormat::Onnx),
            Some("safetensors" | "pt" | "pth") => Ok(ExportFormat::Torch),
            _ => bail!(
                "{}: cannot tell the format from the extension; name the file .onnx (ONNX) or \
                 .safetensors/.pt/.pth (PyTorch), or pass --format onnx|torch",
                path.display()
            ),
        }
    }
}

/// Writes the export and says what it holds (for torch, the Python that loads it).
pub fn run(args: &ExportArgs) -> anyhow::Result<ExitCode> {
    let format = match args.format {
        Some(format) => format,
        None => ExportFormat::of(&args.output)?,
    };
    let model = Model::load(&args.model)?;
    let bytes = match format {
        ExportFormat::Onnx => onnx::to_bytes(&model)?,
        ExportFormat::Torch => torch_export::state_dict_bytes(&model),
    };
    write_atomic(&args.output, &bytes)
        .with_context(|| format!("cannot write {}", args.output.display()))?;
    let pre = &model.metadata.preprocessing;
    crate::verbosity::detail(&format!(
        "{}: {}, {} parameters, {} bytes written",
        args.model.display(),
        model.network.architecture(),
        model.network.architecture().parameter_count(),
        bytes.len()
    ));
    match format {
        ExportFormat::Onnx => {
            let inputs = if onnx::inputs::single_input(pre) {
                format!("input [N, {}] (float)", pre.features.len())
            } else {
                format!("{} inputs [N, 1], one per column", pre.features.len())
            };
            let outputs = match pre.target.classes() {
                Some(classes) => format!("label [N], probabilities [N, {}]", classes.len()),
                None => format!("variable [N, {}]", model.network.architecture().outputs),
            };
            eprintln!(
                "wrote {} (ONNX opset {}): {inputs} -> {outputs}",
                args.output.display(),
                onnx::OPSET
            );
        }
        ExportFormat::Torch => {
            // Under --quiet the Python that loads it is the final (and only) output.
            if !crate::verbosity::quiet() {
                eprintln!(
                    "wrote {} (PyTorch nn.Sequential state dict)",
                    args.output.display()
                );
            }
            let file = args.output.to_string_lossy();
            print!("{}", torch_export::python_snippet(&model, &file));
        }
    }
    Ok(ExitCode::SUCCESS)
}
