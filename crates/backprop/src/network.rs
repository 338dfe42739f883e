//! A network's parameters: every weight and bias in one allocation, with views per layer.

use std::ops::Range;

use crate::architecture::Architecture;
use crate::compute::matmul::MatRef;
use crate::compute::packed::{PackedCache, PackedMatrix, Rhs};
use crate::error::{Error, Result};
use crate::init::{initialize, Init};
use crate::real::Real;
use crate::rng::Rng;

/// Where one dense layer's parameters sit in the flat parameter vector.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct LayerSlot {
    pub fan_in: usize,
    pub fan_out: usize,
    /// `W`, row-major `[fan_out, fan_in]` like PyTorch's `nn.Linear.weight`.
    pub weight: Range<usize>,
    /// `b`, `[fan_out]`.
    pub bias: Range<usize>,
}

/// The parameter layout of an architecture: layer after layer, `W` then `b`.
pub(crate) fn layer_slots(arch: &Architecture) -> Vec<LayerSlot> {
    let mut offset = 0;
    (0..arch.layer_count())
        .map(|i| {
            let (fan_in, fan_out) = arch.layer_shape(i);
            let weight = offset..offset + fan_in * fan_out;
            let bias = weight.end..weight.end + fan_out;
            offset = bias.end;
            LayerSlot {
                fan_in,
                fan_out,
                weight,
                bias,
            }
        })
        .collect()
}

/// A named view of one parameter tensor, as it goes into a model file.
#[derive(Clone, Debug, PartialEq)]
pub struct NamedTensor<'a, T> {
    /// `layers.{i}.weight` or `layers.{i}.bias`.
    pub name: String,
    /// `[out, in]` for weights, `[out]` for biases.
    pub shape: Vec<usize>,
    /// The values, row-major.
    pub data: &'a [T],
}

/// A feedforward network: an [`Architecture`] and its parameters.
///
/// All weights and biases live in one `Vec` (layer by layer, `W` row-major `[out, in]` then
/// `b`), so optimizers update them with one loop and gradients mirror the same layout.
#[derive(Clone, Debug, PartialEq)]
pub struct Network<T: Real> {
    arch: Architecture,
    params: Vec<T>,
    slots: Vec<LayerSlot>,
    /// `Wˡᵀ` packed for inference, built by the first prediction, dropped by
    /// [`Network::parameters_mut`].
    packed: PackedCache<T>,
}

impl<T: Real> Network<T> {
    /// A network with freshly initialized parameters drawn from `seed`.
    pub fn new(arch: Architecture, init: Init, seed: u64) -> Result<Self> {
        arch.validate()?;
        let mut values = vec![0.0f64; arch.parameter_count()];
        initialize(&arch, init, &mut Rng::derived(seed, 0x1417), &mut values);
        Self::from_parameters(arch, values.into_iter().map(T::from_f64).collect())
    }

    /// A network with the given flat parameter vector (layout as [`Network::parameters`]).
    pub fn from_parameters(arch: Architecture, params: Vec<T>) -> Result<Self> {
        arch.validate()?;
        if params.len() != arch.parameter_count() {
            return Err(Error::ShapeMismatch {
                what: "parameters".into(),
                expected: vec![arch.parameter_count()],
                got: vec![params.len()],
            });
        }
        if let Some(i) = params.iter().position(|p| !p.is_finite()) {
            return Err(Error::InvalidModel(format!("parameter {i} is not finite")));
        }
        let slots = layer_slots(&arch);
        Ok(Self {
            arch,
            params,
            slots,
            packed: PackedCache::default(),
        })
    }

    /// A network from named tensors `layers.{i}.weight` `[out, in]` and `layers.{i}.bias`
    /// `[out]`, checked against the architecture: every tensor present once, shapes right,
    /// values finite, nothing extra.
    pub fn from_named_tensors<'a, I>(arch: Architecture, tensors: I) -> Result<Self>
    where
        I: IntoIterator<Item = (&'a str, &'a [usize], Vec<f64>)>,
    {
        arch.validate()?;
        let slots = layer_slots(&arch);
        let mut params = vec![T::zero(); arch.parameter_count()];
        let mut seen = vec![false; slots.len() * 2];
        for (name, shape, values) in tensors {
            let (layer, is_bias) = parse_tensor_name(name)
                .filter(|(layer, _)| *layer < slots.len())
                .ok_or_else(|| {
                    Error::InvalidModel(format!(
                        "unexpected tensor {name:?}: the architecture has layers.0 to layers.{}",
                        slots.len() - 1
                    ))
                })?;
            let slot = &slots[layer];
            let (expected, range) = if is_bias {
                (vec![slot.fan_out], slot.bias.clone())
            } else {
                (vec![slot.fan_out, slot.fan_in], slot.weight.clone())
            };
            if shape != expected.as_slice() || values.len() != range.len() {
                return Err(Error::ShapeMismatch {
                    what: name.into(),
                    expected,
                    got: shape.to_vec(),
                });
            }
            let flag = &mut seen[layer * 2 + usize::from(is_bias)];
            if *flag {
                return Err(Error::InvalidModel(format!(
                    "tensor {name:?} appears twice"
                )));
            }
            *flag = true;
            for (index, (dst, &v)) in params[range].iter_mut().zip(&values).enumerate() {
                if !v.is_finite() {
                    return Err(Error::InvalidModel(format!(
                        "tensor {name:?} holds a non-finite value ({v}) at index {index}"
                    )));
                }
                *dst = T::from_f64(v);
            }
        }
        if let Some(missing) = seen.iter().position(|s| !s) {
            let kind = if missing % 2 == 1 { "bias" } else { "weight" };
            return Err(Error::InvalidModel(format!(
                "missing tensor \"layers.{}.{kind}\"",
                missing / 2
            )));
        }
        Self::from_parameters(arch, params)
    }

    /// The architecture.
    pub fn architecture(&self) -> &Architecture {
        &self.arch
    }

    /// All parameters, flat: per layer `W` row-major `[out, in]`, then `b`.
    pub fn parameters(&self) -> &[T] {
        &self.params
    }

    /// All parameters, mutable (same layout as [`Network::parameters`]).
    pub fn parameters_mut(&mut self) -> &mut [T] {
        self.packed.clear();
        &mut self.params
    }

    /// Number of dense layers.
    pub fn layer_count(&self) -> usize {
        self.slots.len()
    }

    /// Weight matrix `W` of dense layer `i`, `[out, in]`.
    ///
    /// # Panics
    /// If `i >= layer_count()`.
    pub fn weight(&self, i: usize) -> MatRef<'_, T> {
        let slot = &self.slots[i];
        MatRef::row_major(&self.params[slot.weight.clone()], slot.fan_out, slot.fan_in)
    }

    /// Bias vector `b` of dense layer `i`, `[out]`.
    ///
    /// # Panics
    /// If `i >= layer_count()`.
    pub fn bias(&self, i: usize) -> &[T] {
        &self.params[self.slots[i].bias.clone()]
    }

    pub(crate) fn slots(&self) -> &[LayerSlot] {
        &self.slots
    }

    /// Packs every `Wˡᵀ` for inference, unless it is packed already.
    pub(crate) fn pack_weights(&self) {
        self.packed.get_or_build(|| {
            (0..self.layer_count())
                .map(|l| PackedMatrix::new(self.weight(l).t()))
                .collect()
        });
    }

    /// `Wˡᵀ` as the right operand of the forward product: packed when
    /// [`Network::pack_weights`] has packed it since the parameters last changed (the same
    /// bits either way).
    pub(crate) fn weight_t(&self, l: usize) -> Rhs<'_, T> {
        match self.packed.get() {
            Some(packed) => Rhs::Packed(packed[l].view(self.weight(l).t())),
            None => Rhs::Plain(self.weight(l).t()),
        }
    }

    /// The parameters as named tensors, `layers.{i}.weight` `[out, in]` and
    /// `layers.{i}.bias` `[out]`, in layer order.
    pub fn named_tensors(&self) -> Vec<NamedTensor<'_, T>> {
        self.slots
            .iter()
            .enumerate()
            .flat_map(|(i, slot)| {
                [
                    NamedTensor {
                        name: format!("layers.{i}.weight"),
                        shape: vec![slot.fan_out, slot.fan_in],
                        data: &self.params[slot.weight.clone()],
                    },
                    NamedTensor {
                        name: format!("layers.{i}.bias"),
                        shape: vec![slot.fan_out],
                        data: &self.params[slot.bias.clone()],
                    },
                ]
            })
            .collect()
    }

    /// Adds an L2 penalty on the weights (not the biases) to a gradient in the layout of
    /// [`Network::parameters`]: `∂/∂W += strength·W` for every layer, and returns the penalty
    /// `strength/2 · Σ W²` to add to the loss. scikit-learn's `alpha` over a batch of `rows` rows
    /// is `strength = alpha / rows`.
    ///
    /// # Panics
    /// If `grads` is not as long as the parameters.
    #[track_caller]
    pub fn add_l2_penalty(&self, strength: f64, grads: &mut [T]) -> f64 {
        assert_eq!(
            grads.len(),
            self.params.len(),
            "l2 penalty: gradient length"
        );
        let factor = T::from_f64(strength);
        let mut squares = 0.0;
        for slot in &self.slots {
            let weights = &self.params[slot.weight.clone()];
            let grads = &mut grads[slot.weight.clone()];
            // Wider registers, the same operations: the same bits (see `compute::simd`).
            squares += crate::compute::simd::widest(weights.len(), || {
                grads
                    .iter_mut()
                    .zip(weights)
                    .for_each(|(g, &w)| *g += factor * w);
                sum_of_squares(weights)
            });
        }
        0.5 * strength * squares
    }

    /// The L2 penalty `strength/2 · Σ W²` of [`Network::add_l2_penalty`] alone (the same
    /// bits), for an optimizer that adds its gradient itself
    /// ([`crate::optim::Optimizer::step_checked_with_l2`] over [`Network::weight_ranges`]).
    pub fn l2_penalty(&self, strength: f64) -> f64 {
        let mut squares = 0.0;
        for slot in &self.slots {
            let weights = &self.params[slot.weight.clone()];
            squares += crate::compute::simd::widest(weights.len(), || sum_of_squares(weights));
        }
        0.5 * strength * squares
    }

    /// Where the weights (not the biases) of each layer lie in [`Network::parameters`], in
    /// order.
    pub fn weight_ranges(&self) -> Vec<std::ops::Range<usize>> {
        self.slots.iter().map(|slot| slot.weight.clone()).collect()
    }

    /// The same network in another precision.
    pub fn cast<U: Real>(&self) -> Network<U> {
        Network {
            arch: self.arch.clone(),
            params: self
                .params
                .iter()
                .map(|p| U::from_f64(p.as_f64()))
                .collect(),
            slots: self.slots.clone(),
            packed: PackedCache::default(),
        }
    }
}

/// `Σ v²` in f64, accumulated in eight lanes (one dependent addition per eight values, so it
/// vectorizes) that are added up in a fixed order: the same bits on every run.
#[inline(always)]
fn sum_of_squares<T: Real>(values: &[T]) -> f64 {
    const LANES: usize = 8;
    let mut lanes = [0.0f64; LANES];
    let chunks = values.chunks_exact(LANES);
    let rest = chunks.remainder();
    for chunk in chunks {
        for (lane, &v) in lanes.iter_mut().zip(chunk) {
            *lane += v.as_f64() * v.as_f64();
        }
    }
    let tail: f64 = rest.iter().map(|&v| v.as_f64() * v.as_f64()).sum();
    lanes.iter().sum::<f64>() + tail
}

/// `layers.3.weight` → `(3, false)`, `layers.0.bias` → `(0, true)`.
fn parse_tensor_name(name: &str) -> Option<(usize, bool)> {
    let rest = name.strip_prefix("layers.")?;
    let (index, kind) = rest.split_once('.')?;
    if index.is_empty()
        || !index.bytes().all(|b| b.is_ascii_digit())
        || (index.len() > 1 && index.starts_with('0'))
    {
        return None;
    }
    let layer = index.parse().ok()?;
    match kind {
        "weight" => Some((layer, false)),
        "bias" => Some((layer, true)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Activation, OutputActivation};

    fn arch() -> Architecture {
        Architecture::new(3, &[4], Activation::Tanh, 2, OutputActivation::Softmax)
    }

    /// A named tensor as a file reader hands it over: name, shape and values.
    type Owned = (String, Vec<usize>, Vec<f64>);

    fn owned(net: &Network<f32>) -> Vec<Owned> {
        let tensors = net.named_tensors();
        let values = |data: &[f32]| data.iter().map(|&v| v as f64).collect();
        tensors
            .iter()
            .map(|t| (t.name.clone(), t.shape.clone(), values(t.data)))
            .collect()
    }

    fn load(tensors: &[Owned]) -> Result<Network<f32>> {
        let views = tensors
            .iter()
            .map(|(n, s, v)| (n.as_str(), s.as_slice(), v.clone()));
        Network::<f32>::from_named_tensors(arch(), views)
    }

    #[test]
    fn named_tensors_round_trip() {
        let net = Network::<f32>::new(arch(), Init::PytorchDefault, 1).unwrap();
        let tensors: Vec<_> = net.named_tensors();
        let names: Vec<_> = tensors.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "layers.0.weight",
                "layers.0.bias",
                "layers.1.weight",
                "layers.1.bias"
            ]
        );
        assert_eq!(load(&owned(&net)).unwrap(), net);
    }

    #[test]
    fn named_tensors_are_validated() {
        let net = Network::<f32>::new(arch(), Init::Auto, 1).unwrap();
        let owned = owned(&net);
        let mut duplicate = owned.clone();
        duplicate.push(owned[0].clone());
        assert!(load(&duplicate).unwrap_err().to_string().contains("twice"));
        assert!(load(&owned[..3])
            .unwrap_err()
            .to_string()
            .contains("layers.1.bias"));
        let mut bad_shape = owned.clone();
        bad_shape[0].1 = vec![3, 4];
        assert!(matches!(load(&bad_shape), Err(Error::ShapeMismatch { .. })));
        let mut non_finite = owned.clone();
        non_finite[1].2[0] = f64::NAN;
        assert!(load(&non_finite)
            .unwrap_err()
            .to_string()
            .contains("non-finite"));
        let mut extra = owned.clone();
        extra.push(("layers.2.weight".into(), vec![1], vec![0.0]));
        assert!(load(&extra).unwrap_err().to_string().contains("unexpected"));
    }

    #[test]
    fn the_l2_penalty_reaches_the_weights_only() {
        let arch = Architecture::new(13, &[7], Activation::Tanh, 3, OutputActivation::Softmax);
        let net = Network::<f64>::new(arch, Init::Auto, 3).unwrap();
        let mut grads = vec![0.0; net.parameters().len()];
        let penalty = net.add_l2_penalty(0.5, &mut grads);
        let mut squares = 0.0;
        for layer in 0..net.layer_count() {
            let weights = &net.parameters()[net.slots()[layer].weight.clone()];
            squares += weights.iter().map(|w| w * w).sum::<f64>();
            let weight_grads = &grads[net.slots()[layer].weight.clone()];
            assert!(weight_grads.iter().zip(weights).all(|(g, w)| *g == 0.5 * w));
            assert!(grads[net.slots()[layer].bias.clone()]
                .iter()
                .all(|g| *g == 0.0));
        }
        assert!(
            (penalty - 0.25 * squares).abs() < 1e-12 * squares,
            "{penalty} vs {squares}"
        );
    }
}
