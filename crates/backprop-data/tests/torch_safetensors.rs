//! PyTorch interop: a state dict written by `safetensors.torch.save_file` loads into a
//! network that computes what torch computed (golden files from
//! `tests/golden/make_torch_state_dict.py`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use backprop::{Activation, Architecture, Network, OutputActivation};
use backprop_data::pytorch::{
    architecture_from_shapes, network_from_tensors, normalize_tensor_names,
};
use backprop_data::safetensors::{from_bytes, to_bytes};

fn golden(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name)
}

fn load_torch(output: OutputActivation) -> Network<f32> {
    let bytes = std::fs::read(golden("torch_sequential.safetensors")).unwrap();
    let file = from_bytes(&bytes).unwrap();
    let tensors = normalize_tensor_names(file.tensors).unwrap();
    let arch = architecture_from_shapes(&tensors, &[Activation::Relu], output).unwrap();
    assert_eq!(
        arch,
        Architecture::new(4, &[8], Activation::Relu, 3, output),
        "widths inferred from Linear(4, 8), Linear(8, 3)"
    );
    network_from_tensors(arch, tensors).unwrap()
}

fn matrix(value: &serde_json::Value) -> Vec<f64> {
    value
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|row| row.as_array().unwrap().iter().map(|v| v.as_f64().unwrap()))
        .collect()
}

fn assert_close(got: &[f32], want: &[f64], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        assert!(
            (f64::from(g) - w).abs() <= 1e-5,
            "{what}[{i}]: backprop {g}, torch {w}"
        );
    }
}

fn golden_json() -> serde_json::Value {
    let text = std::fs::read_to_string(golden("torch_sequential.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn golden_inputs(golden: &serde_json::Value) -> Vec<f32> {
    matrix(&golden["inputs"])
        .iter()
        .map(|&v| v as f32)
        .collect()
}

/// `Linear, ReLU, Linear` evaluated with plain loops over the loaded `W` and `b`, in f64:
/// checks the loaded parameters independently of the engine's forward pass.
fn reference_logits(net: &Network<f32>, inputs: &[f32]) -> Vec<f32> {
    let mut out = Vec::new();
    for row in inputs.chunks_exact(net.architecture().inputs) {
        let mut a: Vec<f64> = row.iter().map(|&v| f64::from(v)).collect();
        for layer in 0..net.layer_count() {
            let (weight, bias) = (net.weight(layer), net.bias(layer));
            a = (0..bias.len())
                .map(|o| {
                    let z = f64::from(bias[o])
                        + (0..a.len())
                            .map(|i| f64::from(*weight.get(o, i)) * a[i])
                            .sum::<f64>();
                    if layer + 1 < net.layer_count() {
                        z.max(0.0)
                    } else {
                        z
                    }
                })
                .collect();
        }
        out.extend(a.iter().map(|&v| v as f32));
    }
    out
}

#[test]
fn torch_sequential_state_dict_loads_torchs_parameters() {
    let golden = golden_json();
    let inputs = golden_inputs(&golden);
    let net = load_torch(OutputActivation::Identity);
    assert_close(
        &reference_logits(&net, &inputs),
        &matrix(&golden["logits"]),
        "logits",
    );
}

#[test]
fn torch_sequential_state_dict_predicts_torchs_outputs() {
    let golden = golden_json();
    let inputs = golden_inputs(&golden);
    let logits = load_torch(OutputActivation::Identity).predict(&inputs);
    assert_close(&logits, &matrix(&golden["logits"]), "logits");
    let probabilities = load_torch(OutputActivation::Softmax).predict(&inputs);
    assert_close(&probabilities, &matrix(&golden["softmax"]), "softmax");
}

#[test]
fn torch_weights_survive_a_backprop_round_trip() {
    let net = load_torch(OutputActivation::Softmax);
    let bytes = to_bytes(&net, &BTreeMap::new());
    let tensors = from_bytes(&bytes).unwrap().tensors;
    let back: Network<f32> = network_from_tensors(net.architecture().clone(), tensors).unwrap();
    assert_eq!(back, net);
}
