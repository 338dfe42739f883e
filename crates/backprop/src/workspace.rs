//! Buffers for a batch's forward and backward pass, sized once and reused by every step.

use crate::architecture::Architecture;
use crate::real::Real;
use crate::rng::Rng;

/// The memory a forward and backward pass needs for up to `capacity` rows: each layer's
/// `z` and `a`, each layer's error `δ`, dropout masks, and the parameter gradients.
///
/// Allocated once; [`crate::Network::forward`], [`crate::Network::backward`] and
/// [`crate::Network::predict_into`] never allocate. This is what makes a steady-state training
/// step allocation-free (llm.c's "one allocation, sized once").
#[derive(Clone, Debug)]
pub struct Workspace<T> {
    pub(crate) capacity: usize,
    /// Pre-activations `zˡ = Wˡ aˡ⁻¹ + bˡ`, per layer, `capacity × fan_out`.
    pub(crate) z: Vec<Vec<T>>,
    /// Activations `aˡ = σ(zˡ)` (after dropout when training), per hidden layer.
    pub(crate) a: Vec<Vec<T>>,
    /// Errors `δˡ = ∂L/∂zˡ`, per layer (empty for inference-only workspaces).
    pub(crate) delta: Vec<Vec<T>>,
    /// Inverted-dropout masks (0 or 1/(1 − p)) per hidden layer, when dropout is on.
    pub(crate) masks: Vec<Vec<T>>,
    /// Whether the last forward pass multiplied the activations by `masks`: then, and only
    /// then, the backward pass multiplies the errors by them too.
    pub(crate) dropout_applied: bool,
    /// `∂L/∂θ` in the layout of [`crate::Network::parameters`].
    pub(crate) grads: Vec<T>,
}

impl<T: Real> Workspace<T> {
    /// Buffers for training (forward and backward) on batches of up to `capacity` rows.
    pub fn new(arch: &Architecture, capacity: usize) -> Self {
        let widths = arch.widths();
        let per_layer = |from: usize| -> Vec<Vec<T>> {
            widths[from..]
                .iter()
                .map(|&w| vec![T::zero(); w * capacity])
                .collect()
        };
        let hidden: Vec<Vec<T>> = arch
            .hidden
            .iter()
            .map(|l| vec![T::zero(); l.units * capacity])
            .collect();
        Self {
            capacity,
            z: per_layer(1),
            a: hidden,
            delta: per_layer(1),
            masks: Vec::new(),
            dropout_applied: false,
            grads: vec![T::zero(); arch.parameter_count()],
        }
    }

    /// Buffers for inference only ([`crate::Network::predict_into`]), up to `capacity` rows.
    pub fn for_inference(arch: &Architecture, capacity: usize) -> Self {
        let widths = arch.widths();
        Self {
            capacity,
            z: widths[1..]
                .iter()
                .map(|&w| vec![T::zero(); w * capacity])
                .collect(),
            a: arch
                .hidden
                .iter()
                .map(|l| vec![T::zero(); l.units * capacity])
                .collect(),
            delta: Vec::new(),
            masks: Vec::new(),
            dropout_applied: false,
            grads: Vec::new(),
        }
    }

    /// The largest batch these buffers hold.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The parameter gradients `∂L/∂θ` from the last [`crate::Network::backward`].
    pub fn gradients(&self) -> &[T] {
        &self.grads
    }

    /// The parameter gradients, mutable (for clipping or weight decay in place).
    pub fn gradients_mut(&mut self) -> &mut [T] {
        &mut self.grads
    }

    /// The output layer's `z` (the logits) of the first `rows` rows of the last forward pass.
    pub fn logits(&self, rows: usize) -> &[T] {
        let last = self.z.last().expect("a network has at least one layer");
        &last[..rows * (last.len() / self.capacity.max(1))]
    }

    /// The activations `aˡ` of hidden layer `layer` for the first `rows` rows of the last
    /// forward pass (row-major, one column per unit): what each hidden neuron computed, as
    /// `backprop studio` draws it per neuron.
    ///
    /// # Panics
    /// If `layer` is not a hidden layer or `rows` exceeds the capacity.
    pub fn hidden_activations(&self, layer: usize, rows: usize) -> &[T] {
        assert!(
            rows <= self.capacity,
            "{rows} rows exceed the workspace's {}",
            self.capacity
        );
        let a = &self.a[layer];
        &a[..rows * (a.len() / self.capacity.max(1))]
    }

    /// Draws fresh inverted-dropout masks for `rows` rows: each hidden unit is kept with
    /// probability `1 − p` and then scaled by `1/(1 − p)`, so no rescaling is needed at
    /// inference. Sampled sequentially from `rng`, so they do not depend on threads.
    pub fn sample_dropout(&mut self, p: f64, rows: usize, rng: &mut Rng) {
        if self.masks.len() != self.a.len() {
            self.masks = self.a.iter().map(|a| vec![T::zero(); a.len()]).collect();
        }
        let keep = T::from_f64(1.0 / (1.0 - p));
        for (mask, a) in self.masks.iter_mut().zip(&self.a) {
            let units = a.len() / self.capacity.max(1);
            for m in &mut mask[..rows * units] {
                *m = if rng.uniform() < p { T::zero() } else { keep };
            }
        }
    }
}
