//! The shape of a network: input width, hidden layers with their activations, and the output.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::activation::Activation;
use crate::error::{Error, Result};
use crate::loss::OutputActivation;

/// One hidden layer: its width and activation.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct HiddenLayer {
    /// Number of neurons.
    pub units: usize,
    /// Activation applied to the layer's `z = W·a + b`.
    pub activation: Activation,
}

/// A feedforward network's architecture, serializable into the model file.
///
/// Dense layer `i` (counting from 0) maps `fan_in(i)` inputs to `fan_out(i)` outputs; the last
/// one is the output layer, followed by [`Architecture::output`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Architecture {
    /// Number of input features.
    pub inputs: usize,
    /// Hidden layers, from the input side.
    pub hidden: Vec<HiddenLayer>,
    /// Number of outputs (classes for softmax, 1 for binary classification).
    pub outputs: usize,
    /// The output activation, fixed by the loss.
    pub output: OutputActivation,
}

impl Architecture {
    /// An architecture whose hidden layers all share one activation.
    ///
    /// ```
    /// use backprop::{Activation, Architecture, OutputActivation};
    /// let arch = Architecture::new(784, &[256, 128], Activation::Relu, 10, OutputActivation::Softmax);
    /// assert_eq!(arch.parameter_count(), 784 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10);
    /// ```
    pub fn new(
        inputs: usize,
        hidden: &[usize],
        activation: Activation,
        outputs: usize,
        output: OutputActivation,
    ) -> Self {
        Self {
            inputs,
            hidden: hidden
                .iter()
                .map(|&units| HiddenLayer { units, activation })
                .collect(),
            outputs,
            output,
        }
    }

    /// Number of dense layers (hidden layers plus the output layer).
    pub fn layer_count(&self) -> usize {
        self.hidden.len() + 1
    }

    /// `(fan_in, fan_out)` of dense layer `i`.
    ///
    /// # Panics
    /// If `i >= layer_count()`.
    pub fn layer_shape(&self, i: usize) -> (usize, usize) {
        let fan_in = if i == 0 {
            self.inputs
        } else {
            self.hidden[i - 1].units
        };
        let fan_out = if i == self.hidden.len() {
            self.outputs
        } else {
            self.hidden[i].units
        };
        (fan_in, fan_out)
    }

    /// The activation after dense layer `i`, or `None` for the output layer (whose output
    /// activation is fused with the loss).
    pub fn layer_activation(&self, i: usize) -> Option<Activation> {
        self.hidden.get(i).map(|layer| layer.activation)
    }

    /// Total number of weights and biases.
    pub fn parameter_count(&self) -> usize {
        (0..self.layer_count())
            .map(|i| {
                let (fan_in, fan_out) = self.layer_shape(i);
                fan_out * fan_in + fan_out
            })
            .sum()
    }

    /// The widths from input to output, like `[784, 256, 128, 10]`.
    pub fn widths(&self) -> Vec<usize> {
        std::iter::once(self.inputs)
            .chain(self.hidden.iter().map(|layer| layer.units))
            .chain(std::iter::once(self.outputs))
            .collect()
    }

    /// Checks that every width is positive and every activation parameter finite.
    pub fn validate(&self) -> Result<()> {
        if self.inputs == 0 {
            return Err(Error::InvalidArchitecture(
                "the network needs at least one input".into(),
            ));
        }
        if self.outputs == 0 {
            return Err(Error::InvalidArchitecture(
                "the network needs at least one output".into(),
            ));
        }
        if self.output == OutputActivation::Softmax && self.outputs < 2 {
            return Err(Error::InvalidArchitecture(
                "a softmax output needs at least two classes".into(),
            ));
        }
        for (i, layer) in self.hidden.iter().enumerate() {
            if layer.units == 0 {
                return Err(Error::InvalidArchitecture(format!(
                    "hidden layer {i} has no units"
                )));
            }
            let parameter = match layer.activation {
                Activation::LeakyRelu { slope } => Some(slope),
                Activation::Elu { alpha } => Some(alpha),
                _ => None,
            };
            if parameter.is_some_and(|p| !p.is_finite()) {
                return Err(Error::InvalidArchitecture(format!(
                    "hidden layer {i}: activation parameter must be finite"
                )));
            }
        }
        Ok(())
    }
}

impl fmt::Display for Architecture {
    /// The widths and activations from input to output: `784 → 256 relu → 128 relu → 10
    /// softmax`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.inputs)?;
        for layer in &self.hidden {
            write!(f, " → {} {}", layer.units, layer.activation)?;
        }
        write!(f, " → {} {}", self.outputs, self.output)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_every_layer() {
        let arch = Architecture::new(
            784,
            &[256, 128],
            Activation::Relu,
            10,
            OutputActivation::Softmax,
        );
        assert_eq!(arch.to_string(), "784 → 256 relu → 128 relu → 10 softmax");
        let linear = Architecture::new(3, &[], Activation::Tanh, 1, OutputActivation::Identity);
        assert_eq!(linear.to_string(), "3 → 1 identity");
    }
}
