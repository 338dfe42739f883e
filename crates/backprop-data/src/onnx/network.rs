//! The network and its answers as ONNX nodes: one `Gemm` per layer (`x Wᵀ + b`, the weights
//! stored `[out, in]` as in the model file), the hidden activations, the output activation,
//! and the outputs named as skl2onnx names them with `zipmap=False`.

use backprop::{Activation, Network, OutputActivation};

use super::graph::{float, int, Dim, Graph};
use super::proto::tensor_proto::DataType;
use crate::model_file::Model;
use crate::target::TargetSchema;

/// The classifier's predicted class per row, `[N]`.
pub const LABEL: &str = "label";
/// The classifier's probability of each class, `[N, classes]`.
pub const PROBABILITIES: &str = "probabilities";
/// The regressor's values, `[N, outputs]`, in the target's units.
pub const VARIABLE: &str = "variable";

/// Adds the layers from the input matrix `x` to the network's outputs (after the output
/// activation); returns their name.
pub fn layers(graph: &mut Graph, network: &Network<f32>, x: &str) -> String {
    let arch = network.architecture();
    let tensors = network.named_tensors();
    let mut h = x.to_string();
    for (i, pair) in tensors.chunks_exact(2).enumerate() {
        let (weight, bias) = (&pair[0], &pair[1]);
        let w = graph.floats(&weight.name, &weight.shape, weight.data);
        let b = graph.floats(&bias.name, &bias.shape, bias.data);
        h = graph.op("Gemm", &[&h, &w, &b], vec![int("transB", 1)]);
        if let Some(hidden) = arch.hidden.get(i) {
            h = activation(graph, hidden.activation, &h);
        }
    }
    match arch.output {
        OutputActivation::Identity => h,
        OutputActivation::Sigmoid => graph.op("Sigmoid", &[&h], vec![]),
        OutputActivation::Softmax => graph.op("Softmax", &[&h], vec![int("axis", 1)]),
    }
}

/// `σ(h)` with core operators (opset 17 has no `Gelu`: `z · ½(1 + erf(z/√2))` instead).
fn activation(graph: &mut Graph, activation: Activation, h: &str) -> String {
    match activation {
        Activation::Identity => h.to_string(),
        Activation::Sigmoid => graph.op("Sigmoid", &[h], vec![]),
        Activation::Tanh => graph.op("Tanh", &[h], vec![]),
        Activation::Relu => graph.op("Relu", &[h], vec![]),
        Activation::LeakyRelu { slope } => {
            graph.op("LeakyRelu", &[h], vec![float("alpha", slope as f32)])
        }
        Activation::Elu { alpha } => graph.op("Elu", &[h], vec![float("alpha", alpha as f32)]),
        Activation::Gelu => {
            let root = graph.floats("sqrt2", &[], &[std::f32::consts::SQRT_2]);
            let scaled = graph.op("Div", &[h, &root], vec![]);
            let erf = graph.op("Erf", &[&scaled], vec![]);
            let one = graph.floats("one", &[], &[1.0]);
            let plus = graph.op("Add", &[&erf, &one], vec![]);
            let half = graph.floats("half", &[], &[0.5]);
            let halved = graph.op("Mul", &[&plus, &half], vec![]);
            graph.op("Mul", &[h, &halved], vec![])
        }
        Activation::Silu => {
            let s = graph.op("Sigmoid", &[h], vec![]);
            graph.op("Mul", &[h, &s], vec![])
        }
        // ln(1 + eᶻ) equals z in f32 above backprop's threshold of 20.
        Activation::Softplus => graph.op("Softplus", &[h], vec![]),
    }
}

/// Whether the class names are integers, so that `label` is int64 (as scikit-learn's
/// integer classes) rather than string.
pub fn integer_classes(classes: &[String]) -> Option<Vec<i64>> {
    classes.iter().map(|c| c.parse::<i64>().ok()).collect()
}

/// Adds the graph's outputs from the network's outputs `y`: `label` and `probabilities` for a
/// classifier, `variable` for a regressor.
pub fn answers(graph: &mut Graph, model: &Model, y: &str) {
    let arch = model.network.architecture();
    match &model.metadata.preprocessing.target {
        TargetSchema::Classify {
            classes, numeric, ..
        } => {
            let c = classes.len();
            if arch.output == OutputActivation::Sigmoid && arch.outputs == 1 {
                // One sigmoid output p: the two columns 1 − p, p.
                let one = graph.floats("one", &[], &[1.0]);
                let rest = graph.op("Sub", &[&one, y], vec![]);
                graph.op_into("Concat", &[&rest, y], vec![int("axis", 1)], PROBABILITIES);
            } else {
                graph.op_into("Identity", &[y], vec![], PROBABILITIES);
            }
            // ArgMax takes the first of ties, as `predict` does.
            let best = graph.op(
                "ArgMax",
                &[PROBABILITIES],
                vec![int("axis", 1), int("keepdims", 0)],
            );
            let (names, elem) = match integer_classes(classes).filter(|_| *numeric) {
                Some(values) => (graph.int64s("classes", &[c], &values), DataType::Int64),
                None => (graph.strings("classes", classes), DataType::String),
            };
            graph.op_into("Gather", &[&names, &best], vec![int("axis", 0)], LABEL);
            // skl2onnx's order: the label first.
            graph.output(LABEL, elem, &[Dim::Batch]);
            graph.output(PROBABILITIES, DataType::Float, &[Dim::Batch, Dim::Fixed(c)]);
        }
        TargetSchema::Regress { scale, .. } => {
            match scale {
                // o · std + mean in double, as `predict` restores the target's units.
                Some(scale) => {
                    let double = graph.op("Cast", &[y], vec![int("to", DataType::Double as i64)]);
                    let std = graph.doubles("target_std", &[], &[scale.std]);
                    let times = graph.op("Mul", &[&double, &std], vec![]);
                    let mean = graph.doubles("target_mean", &[], &[scale.mean]);
                    let restored = graph.op("Add", &[&times, &mean], vec![]);
                    graph.op_into(
                        "Cast",
                        &[&restored],
                        vec![int("to", DataType::Float as i64)],
                        VARIABLE,
                    );
                }
                None => graph.op_into("Identity", &[y], vec![], VARIABLE),
            }
            let dims = [Dim::Batch, Dim::Fixed(arch.outputs)];
            graph.output(VARIABLE, DataType::Float, &dims);
        }
    }
}
