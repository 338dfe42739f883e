//! Weight initialization.

use serde::{Deserialize, Serialize};

use crate::architecture::Architecture;
use crate::rng::Rng;

/// How to draw the initial weights and biases.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Init {
    /// He for layers followed by a rectifier-like activation, Xavier otherwise (and for the
    /// output layer); biases zero.
    #[default]
    Auto,
    /// Xavier/Glorot uniform: `W ~ U(±√(6 / (fan_in + fan_out)))`, biases zero.
    XavierUniform,
    /// He/Kaiming uniform for ReLU: `W ~ U(±√(6 / fan_in))`, biases zero.
    HeUniform,
    /// PyTorch's `nn.Linear` default: `W` and `b` both `~ U(±1/√fan_in)`.
    PytorchDefault,
}

/// Fills `params` (laid out as the network stores them: per layer `W` row-major `[out, in]`,
/// then `b`) from `rng`, layer by layer.
pub(crate) fn initialize(arch: &Architecture, init: Init, rng: &mut Rng, params: &mut [f64]) {
    let mut offset = 0;
    for layer in 0..arch.layer_count() {
        let (fan_in, fan_out) = arch.layer_shape(layer);
        let he = arch
            .layer_activation(layer)
            .is_some_and(|a| a.prefers_he_init());
        let (weight_bound, bias_bound) = match init {
            Init::Auto if he => ((6.0 / fan_in as f64).sqrt(), 0.0),
            Init::Auto | Init::XavierUniform => ((6.0 / (fan_in + fan_out) as f64).sqrt(), 0.0),
            Init::HeUniform => ((6.0 / fan_in as f64).sqrt(), 0.0),
            Init::PytorchDefault => {
                let bound = 1.0 / (fan_in as f64).sqrt();
                (bound, bound)
            }
        };
        let weights = fan_in * fan_out;
        for w in &mut params[offset..offset + weights] {
            *w = rng.uniform_in(-weight_bound, weight_bound);
        }
        offset += weights;
        for b in &mut params[offset..offset + fan_out] {
            *b = if bias_bound == 0.0 {
                0.0
            } else {
                rng.uniform_in(-bias_bound, bias_bound)
            };
        }
        offset += fan_out;
    }
}
