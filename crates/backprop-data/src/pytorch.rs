//! PyTorch interop: the names of an `nn.Sequential` state dict, and networks from named
//! tensors.
//!
//! # Reading a backprop file in PyTorch
//!
//! backprop's `layers.{i}` is module `2i` of an `nn.Sequential` that alternates `nn.Linear`
//! and activation modules:
//!
//! ```python
//! import torch
//! from safetensors.torch import load_file
//!
//! state = load_file("model.safetensors")
//! state = {
//!     f"{2 * int(name.split('.')[1])}.{name.split('.')[2]}": value
//!     for name, value in state.items()
//! }
//! net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
//! net.load_state_dict(state)
//! ```
//!
//! The output activation (sigmoid, softmax) is not a module: backprop fuses it with the loss,
//! so the PyTorch network above returns logits.
//!
//! # Reading a PyTorch file in backprop
//!
//! [`crate::safetensors::from_bytes`] the bytes of
//! `safetensors.torch.save_file(net.state_dict(), ...)`, map its names with
//! [`normalize_tensor_names`], infer the widths with [`architecture_from_shapes`] and build
//! the network with [`network_from_tensors`].

use std::collections::BTreeMap;

use backprop::{Activation, Architecture, HiddenLayer, Network, OutputActivation, Real};

use crate::error::{Error, Result};
use crate::safetensors::LoadedTensor;

/// Maps the parameter names of a PyTorch `nn.Sequential` state dict to backprop's.
///
/// Every name must be `{prefix}{index}.weight` or `{prefix}{index}.bias`, with one prefix
/// shared by all (empty, `model.`, `net.`, `layers.`, ...). The module indices, in ascending
/// order, become `layers.0`, `layers.1`, ...: `0.weight, 2.weight` (a `Linear, ReLU, Linear`
/// stack, whose activation modules hold no parameters) become `layers.0.weight`,
/// `layers.1.weight`. backprop's own `layers.{i}` names map to themselves. Each module must
/// have a 2-D weight and a 1-D bias. The result is in layer order, weight before bias.
///
/// # Errors
/// [`Error::InvalidModel`] naming the tensor: a name of another form (a batch norm's
/// `running_mean`, say), a second prefix, a module without a bias, a weight that is not 2-D.
pub fn normalize_tensor_names(tensors: Vec<LoadedTensor>) -> Result<Vec<LoadedTensor>> {
    let mut prefix: Option<String> = None;
    // module index → (weight, bias)
    let mut modules: BTreeMap<usize, (Option<LoadedTensor>, Option<LoadedTensor>)> =
        BTreeMap::new();
    for tensor in tensors {
        let Some((this_prefix, index, is_bias)) = split_parameter_name(&tensor.name) else {
            return Err(Error::model(format!(
                "tensor {:?} is not a dense layer's weight or bias: expected names like \
                 \"0.weight\", \"model.2.bias\" (an nn.Sequential of nn.Linear and \
                 activation modules) or \"layers.0.weight\"",
                tensor.name
            )));
        };
        match &prefix {
            None => prefix = Some(this_prefix.to_string()),
            Some(p) if p != this_prefix => {
                return Err(Error::model(format!(
                    "tensor {:?} has the prefix {this_prefix:?} but others have {p:?}: \
                     expected the parameters of one nn.Sequential",
                    tensor.name
                )))
            }
            Some(_) => {}
        }
        let (expected_rank, kind) = if is_bias { (1, "bias") } else { (2, "weight") };
        if tensor.shape.len() != expected_rank {
            return Err(Error::model(format!(
                "tensor {:?} has shape {:?}: a dense layer's {kind} has {expected_rank} \
                 dimension(s)",
                tensor.name, tensor.shape
            )));
        }
        let slot = modules.entry(index).or_default();
        let place = if is_bias { &mut slot.1 } else { &mut slot.0 };
        if place.is_some() {
            return Err(Error::model(format!(
                "tensor {:?} appears twice",
                tensor.name
            )));
        }
        *place = Some(tensor);
    }
    let mut out = Vec::with_capacity(modules.len() * 2);
    for (layer, (weight, bias)) in modules.into_values().enumerate() {
        let (weight, bias) = match (weight, bias) {
            (Some(w), Some(b)) => (w, b),
            (Some(w), None) => {
                return Err(Error::model(format!(
                    "tensor {:?} has no matching bias: layers without a bias \
                     (nn.Linear(..., bias=False)) are not supported",
                    w.name
                )))
            }
            (None, Some(b)) => {
                return Err(Error::model(format!(
                    "tensor {:?} has no matching weight",
                    b.name
                )))
            }
            (None, None) => unreachable!("a module entry is created with a tensor"),
        };
        out.push(LoadedTensor {
            name: format!("layers.{layer}.weight"),
            ..weight
        });
        out.push(LoadedTensor {
            name: format!("layers.{layer}.bias"),
            ..bias
        });
    }
    Ok(out)
}

/// `model.2.weight` → `("model.", 2, false)`; `0.bias` → `("", 0, true)`.
fn split_parameter_name(name: &str) -> Option<(&str, usize, bool)> {
    let (rest, kind) = name.rsplit_once('.')?;
    let is_bias = match kind {
        "weight" => false,
        "bias" => true,
        _ => return None,
    };
    let (prefix, index) = match rest.rfind('.') {
        Some(dot) => (&rest[..=dot], &rest[dot + 1..]),
        None => ("", rest),
    };
    if index.is_empty() || !index.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((prefix, index.parse().ok()?, is_bias))
}

/// The architecture whose layers have the shapes of `tensors` (named `layers.{i}.weight`
/// `[out, in]` and `layers.{i}.bias` `[out]`, as [`normalize_tensor_names`] returns them).
///
/// `hidden_activations` gives one activation per hidden layer, or a single one shared by all
/// (it may then be ignored if there are no hidden layers); `output` is the output activation.
///
/// # Errors
/// [`Error::InvalidModel`] if a layer's weight is missing or not 2-D, or consecutive layers do
/// not chain (the input width of layer `i + 1` must be the output width of layer `i`);
/// [`Error::Engine`] with [`backprop::Error::InvalidArchitecture`] if the number of activations fits neither rule or the result
/// is not a valid architecture.
pub fn architecture_from_shapes(
    tensors: &[LoadedTensor],
    hidden_activations: &[Activation],
    output: OutputActivation,
) -> Result<Architecture> {
    let mut weights: BTreeMap<usize, &LoadedTensor> = BTreeMap::new();
    for tensor in tensors {
        let layer = tensor
            .name
            .strip_prefix("layers.")
            .and_then(|rest| rest.strip_suffix(".weight"))
            .and_then(|index| index.parse::<usize>().ok());
        if let Some(layer) = layer {
            if tensor.shape.len() != 2 {
                return Err(Error::model(format!(
                    "tensor {:?} has shape {:?}: a weight is [out, in]",
                    tensor.name, tensor.shape
                )));
            }
            weights.insert(layer, tensor);
        }
    }
    if weights.is_empty() {
        return Err(Error::model(
            "no layer weights (\"layers.{i}.weight\") found",
        ));
    }
    if let Some((position, (&layer, _))) = weights
        .iter()
        .enumerate()
        .find(|(position, (&layer, _))| *position != layer)
    {
        return Err(Error::model(format!(
            "missing tensor \"layers.{position}.weight\" (found layers.{layer}.weight)"
        )));
    }
    let shapes: Vec<(usize, usize)> = weights.values().map(|t| (t.shape[0], t.shape[1])).collect();
    for (i, pair) in shapes.windows(2).enumerate() {
        let ((out, _), (_, next_in)) = (pair[0], pair[1]);
        if out != next_in {
            return Err(Error::model(format!(
                "layers do not chain: layers.{i}.weight has {out} outputs but \
                 layers.{}.weight takes {next_in} inputs",
                i + 1
            )));
        }
    }
    let hidden_count = shapes.len() - 1;
    let activation_of = |i: usize| match hidden_activations {
        [one] => Ok(*one),
        all if all.len() == hidden_count => Ok(all[i]),
        all => Err(Error::Engine(backprop::Error::InvalidArchitecture(
            format!(
                "{} hidden activation(s) given for {hidden_count} hidden layer(s): give one per \
             hidden layer, or one for all",
                all.len()
            ),
        ))),
    };
    let hidden = (0..hidden_count)
        .map(|i| {
            Ok(HiddenLayer {
                units: shapes[i].0,
                activation: activation_of(i)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let arch = Architecture {
        inputs: shapes[0].1,
        hidden,
        outputs: shapes[hidden_count].0,
        output,
    };
    arch.validate()?;
    Ok(arch)
}

/// A network of architecture `arch` from tensors named `layers.{i}.weight` and
/// `layers.{i}.bias` (see [`Network::from_named_tensors`] for the checks).
pub fn network_from_tensors<T: Real>(
    arch: Architecture,
    tensors: Vec<LoadedTensor>,
) -> Result<Network<T>> {
    let (labels, values): (Vec<_>, Vec<_>) = tensors
        .into_iter()
        .map(|t| ((t.name, t.shape), t.values))
        .unzip();
    Ok(Network::from_named_tensors(
        arch,
        labels
            .iter()
            .zip(values)
            .map(|((name, shape), values)| (name.as_str(), shape.as_slice(), values)),
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::safetensors::{from_bytes, to_bytes};
    use backprop::Init;

    fn tensor(name: &str, shape: &[usize]) -> LoadedTensor {
        let count = shape.iter().product::<usize>();
        LoadedTensor {
            name: name.into(),
            shape: shape.to_vec(),
            values: (0..count).map(|i| i as f64 * 0.25 - 1.0).collect(),
        }
    }

    fn net() -> Network<f32> {
        let arch = Architecture::new(3, &[5, 4], Activation::Tanh, 2, OutputActivation::Softmax);
        Network::new(arch, Init::Auto, 7).unwrap()
    }

    fn names(tensors: &[LoadedTensor]) -> Vec<&str> {
        tensors.iter().map(|t| t.name.as_str()).collect()
    }

    #[test]
    fn normalizes_pytorch_sequential_names() {
        let torch = vec![
            tensor("model.0.weight", &[8, 4]),
            tensor("model.0.bias", &[8]),
            tensor("model.12.bias", &[3]),
            tensor("model.12.weight", &[3, 6]),
            tensor("model.2.weight", &[6, 8]),
            tensor("model.2.bias", &[6]),
        ];
        let layers = normalize_tensor_names(torch.clone()).unwrap();
        assert_eq!(
            names(&layers),
            [
                "layers.0.weight",
                "layers.0.bias",
                "layers.1.weight",
                "layers.1.bias",
                "layers.2.weight",
                "layers.2.bias"
            ]
        );
        // Module 12 sorts after module 2 (numerically, not as text).
        assert_eq!(layers[4].values, torch[3].values);
        assert_eq!(layers[2].shape, [6, 8]);
        let unprefixed = vec![tensor("0.weight", &[2, 3]), tensor("0.bias", &[2])];
        assert_eq!(
            names(&normalize_tensor_names(unprefixed).unwrap()),
            ["layers.0.weight", "layers.0.bias"]
        );
        // A module attribute named `layers` holding a Sequential: indices 0, 2 → 0, 1.
        let attribute = vec![
            tensor("layers.2.weight", &[1, 2]),
            tensor("layers.2.bias", &[1]),
            tensor("layers.0.weight", &[2, 3]),
            tensor("layers.0.bias", &[2]),
        ];
        assert_eq!(
            names(&normalize_tensor_names(attribute).unwrap()),
            [
                "layers.0.weight",
                "layers.0.bias",
                "layers.1.weight",
                "layers.1.bias"
            ]
        );
    }

    #[test]
    fn backprop_names_pass_through() {
        let net = net();
        let tensors = from_bytes(&to_bytes(&net, &BTreeMap::new()))
            .unwrap()
            .tensors;
        let normalized = normalize_tensor_names(tensors).unwrap();
        let expected = net.named_tensors();
        assert_eq!(normalized.len(), expected.len());
        for (got, want) in normalized.iter().zip(&expected) {
            assert_eq!((&got.name, &got.shape), (&want.name, &want.shape));
            assert!(got
                .values
                .iter()
                .zip(want.data)
                .all(|(g, w)| *g == f64::from(*w)));
        }
    }

    #[test]
    fn normalizing_rejects_what_is_not_a_linear_stack() {
        let message = |tensors: Vec<LoadedTensor>| match normalize_tensor_names(tensors) {
            Err(Error::InvalidModel(message)) => message,
            other => panic!("expected InvalidModel, got {other:?}"),
        };
        let batch_norm = vec![
            tensor("0.weight", &[2, 3]),
            tensor("0.bias", &[2]),
            tensor("1.running_mean", &[2]),
        ];
        assert!(message(batch_norm).contains("\"1.running_mean\" is not a dense layer"));
        let mixed = vec![
            tensor("net.0.weight", &[2, 3]),
            tensor("net.0.bias", &[2]),
            tensor("head.0.weight", &[1, 2]),
        ];
        assert!(message(mixed).contains("\"head.0.weight\" has the prefix \"head.\""));
        let no_bias = vec![tensor("0.weight", &[2, 3])];
        assert!(message(no_bias).contains("\"0.weight\" has no matching bias"));
        let no_weight = vec![tensor("0.bias", &[2])];
        assert!(message(no_weight).contains("\"0.bias\" has no matching weight"));
        let conv = vec![tensor("0.weight", &[2, 3, 3, 3]), tensor("0.bias", &[2])];
        assert!(message(conv).contains("\"0.weight\" has shape [2, 3, 3, 3]"));
        let named = vec![tensor("fc1.weight", &[2, 3])];
        assert!(message(named).contains("\"fc1.weight\" is not a dense layer"));
    }

    #[test]
    fn infers_the_architecture_from_shapes() {
        let tensors = vec![
            tensor("layers.0.weight", &[8, 4]),
            tensor("layers.0.bias", &[8]),
            tensor("layers.1.weight", &[6, 8]),
            tensor("layers.1.bias", &[6]),
            tensor("layers.2.weight", &[3, 6]),
            tensor("layers.2.bias", &[3]),
        ];
        let arch =
            architecture_from_shapes(&tensors, &[Activation::Relu], OutputActivation::Softmax)
                .unwrap();
        assert_eq!(
            arch,
            Architecture::new(4, &[8, 6], Activation::Relu, 3, OutputActivation::Softmax)
        );
        let mixed = architecture_from_shapes(
            &tensors,
            &[Activation::Tanh, Activation::Gelu],
            OutputActivation::Identity,
        )
        .unwrap();
        assert_eq!(mixed.hidden[0].activation, Activation::Tanh);
        assert_eq!(mixed.hidden[1].activation, Activation::Gelu);
        let net: Network<f64> = network_from_tensors(arch, tensors.clone()).unwrap();
        assert_eq!(net.bias(1)[0], tensors[3].values[0]);

        let wrong_count = architecture_from_shapes(
            &tensors,
            &[Activation::Tanh, Activation::Gelu, Activation::Relu],
            OutputActivation::Identity,
        );
        assert!(matches!(
            wrong_count,
            Err(Error::Engine(backprop::Error::InvalidArchitecture(_)))
        ));
        let linear = architecture_from_shapes(&tensors[4..], &[], OutputActivation::Sigmoid);
        assert!(matches!(linear, Err(Error::InvalidModel(m)) if m.contains("layers.0.weight")));
    }

    #[test]
    fn shapes_must_chain() {
        let tensors = vec![
            tensor("layers.0.weight", &[8, 4]),
            tensor("layers.0.bias", &[8]),
            tensor("layers.1.weight", &[3, 7]),
            tensor("layers.1.bias", &[3]),
        ];
        let err =
            architecture_from_shapes(&tensors, &[Activation::Relu], OutputActivation::Softmax);
        assert!(
            matches!(&err, Err(Error::InvalidModel(m))
                if m.contains("layers.0.weight has 8 outputs but layers.1.weight takes 7 inputs")),
            "{err:?}"
        );
        let single =
            architecture_from_shapes(&tensors[..2], &[], OutputActivation::Identity).unwrap();
        assert_eq!(single.widths(), [4, 8]);
        assert!(architecture_from_shapes(&[], &[], OutputActivation::Identity).is_err());
    }
}
