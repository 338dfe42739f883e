//! PyTorch export: the network as a state dict of an `nn.Sequential` (a safetensors file with
//! the names `0.weight`, `0.bias`, `2.weight`, ...: each hidden activation is a module of its
//! own, as PyTorch counts them), and the Python that builds the `nn.Sequential` and loads it.
//!
//! The network expects the *preprocessed* inputs (scaled numbers, one-hot categories):
//! [`python_snippet`] says what the preprocessing is; the ONNX export ([`crate::onnx`]) has
//! it inside. `backprop train --init FILE` reads the file back.

use std::collections::BTreeMap;
use std::fmt::Write;

use backprop::{Activation, OutputActivation};

use crate::encoding::Encoding;
use crate::model_file::Model;
use crate::safetensors;
use crate::target::TargetSchema;

/// At most this many inputs are described one by one in the snippet's comment.
const DESCRIBED_INPUTS: usize = 30;

/// `layers.{i}.weight` → `{2i}.weight`: module `2i` of an `nn.Sequential` that alternates
/// `nn.Linear` and activation modules.
pub fn sequential_name(name: &str) -> String {
    let mut parts = name.splitn(3, '.');
    match (
        parts.next(),
        parts.next().and_then(|i| i.parse::<usize>().ok()),
        parts.next(),
    ) {
        (Some("layers"), Some(i), Some(kind)) => format!("{}.{kind}", 2 * i),
        _ => name.to_string(),
    }
}

/// The bytes of the safetensors state dict (f32, `{"format": "pt"}` as metadata, as
/// `safetensors.torch.save_file` writes).
pub fn state_dict_bytes(model: &Model) -> Vec<u8> {
    let metadata = BTreeMap::from([("format".to_string(), "pt".to_string())]);
    safetensors::to_bytes_renamed(&model.network, &metadata, sequential_name)
}

/// The PyTorch module of a hidden activation.
fn module(activation: Activation) -> String {
    match activation {
        Activation::Identity => "nn.Identity()".into(),
        Activation::Sigmoid => "nn.Sigmoid()".into(),
        Activation::Tanh => "nn.Tanh()".into(),
        Activation::Relu => "nn.ReLU()".into(),
        Activation::LeakyRelu { slope } => format!("nn.LeakyReLU({slope:?})"),
        Activation::Elu { alpha } => format!("nn.ELU({alpha:?})"),
        Activation::Gelu => "nn.GELU()".into(),
        Activation::Silu => "nn.SiLU()".into(),
        Activation::Softplus => "nn.Softplus()".into(),
    }
}

/// Python that builds the model's `nn.Sequential` and loads the state dict written to
/// `file`, with a comment saying what the inputs are and what the outputs mean.
pub fn python_snippet(model: &Model, file: &str) -> String {
    let arch = model.network.architecture();
    let pre = &model.metadata.preprocessing;
    let mut modules = Vec::new();
    for i in 0..model.network.layer_count() {
        let (fan_in, fan_out) = arch.layer_shape(i);
        modules.push(format!("nn.Linear({fan_in}, {fan_out})"));
        if let Some(hidden) = arch.hidden.get(i) {
            modules.push(module(hidden.activation));
        }
    }
    match arch.output {
        OutputActivation::Identity => {}
        OutputActivation::Sigmoid => modules.push("nn.Sigmoid()".into()),
        OutputActivation::Softmax => modules.push("nn.Softmax(dim=1)".into()),
    }
    let mut s = String::new();
    s.push_str("import torch\nfrom torch import nn\nfrom safetensors.torch import load_file\n\n");
    s.push_str("net = nn.Sequential(\n");
    for m in &modules {
        let _ = writeln!(s, "    {m},");
    }
    let _ = writeln!(
        s,
        ")\nnet.load_state_dict(load_file({file:?}))\nnet.eval()\n"
    );
    let _ = writeln!(
        s,
        "# The network takes the preprocessed inputs, {} columns (for the raw columns, with the",
        pre.inputs
    );
    s.push_str("# preprocessing inside, export to ONNX: backprop export MODEL -o model.onnx):\n");
    let mut described = 0;
    for feature in &pre.features {
        let names = feature.encoding.input_names(&feature.name);
        if described >= DESCRIBED_INPUTS {
            break;
        }
        described += names.len();
        let how = match &feature.encoding {
            Encoding::Numeric {
                offset,
                scale,
                fill,
                ..
            } => {
                let fill = fill.map_or(String::new(), |f| format!(", a missing value read as {f}"));
                format!("(x - {offset}) / {scale}{fill}")
            }
            Encoding::Boolean { words, fill, .. } => {
                let (yes, no) = words.split_once('/').unwrap_or((words, ""));
                format!("1 for {yes}, 0 for {no}, a missing value read as {fill}")
            }
            Encoding::Date { .. } => "year, month, day, weekday, days since 1970, scaled".into(),
            Encoding::OneHot { .. } => "one-hot, 1 in the column of the row's value".into(),
        };
        let _ = writeln!(s, "#   {}: {how}", names.join(", "));
    }
    if described < pre.inputs {
        let _ = writeln!(s, "#   ... ({} inputs in all)", pre.inputs);
    }
    match &pre.target {
        TargetSchema::Classify { classes, .. } => {
            let shown: Vec<&str> = classes.iter().take(20).map(String::as_str).collect();
            let _ = writeln!(
                s,
                "# Outputs: class probabilities{}, classes {}{}",
                if arch.outputs == 1 {
                    " (p of the second class)"
                } else {
                    ""
                },
                shown.join(", "),
                if classes.len() > 20 { ", ..." } else { "" }
            );
        }
        TargetSchema::Regress { scale, name } => match scale {
            Some(scale) => {
                let _ = writeln!(
                    s,
                    "# Outputs: {name:?} standardized; in its units: y * {} + {}",
                    scale.std, scale.mean
                );
            }
            None => {
                let _ = writeln!(s, "# Outputs: {name:?}");
            }
        },
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_become_every_other_module() {
        assert_eq!(sequential_name("layers.0.weight"), "0.weight");
        assert_eq!(sequential_name("layers.3.bias"), "6.bias");
        assert_eq!(sequential_name("other"), "other");
    }
}
