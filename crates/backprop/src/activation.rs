//! Element-wise activation functions `a = σ(z)` and their derivatives `σ'(z)`.
//!
//! Each definition is PyTorch's, so values and gradients can be compared with `torch.nn`:
//! `relu'(0) = 0`, `leaky_relu'(0) = slope`, GELU is the exact `x·Φ(x)` (not the tanh
//! approximation), softplus uses `β = 1` and switches to the identity above `x = 20`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::compute::simd;
use crate::real::{r, sigmoid, Real};

/// A hidden layer's activation function.
///
/// Written and parsed as `relu`, `tanh`, `leaky_relu(0.01)`, `elu(1)`, ... (also in model
/// files). The derivative sits next to the function in [`Activation::apply`] and
/// [`Activation::multiply_by_derivative`], so the chain rule reads off the page.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Activation {
    /// `σ(z) = z`, `σ'(z) = 1`.
    Identity,
    /// `σ(z) = 1 / (1 + e^{-z})`, `σ'(z) = σ(z)(1 − σ(z))`.
    Sigmoid,
    /// `σ(z) = tanh z`, `σ'(z) = 1 − tanh² z`.
    Tanh,
    /// `σ(z) = max(0, z)`, `σ'(z) = [z > 0]`.
    Relu,
    /// `σ(z) = z` for `z > 0`, else `slope·z` (PyTorch default slope 0.01).
    LeakyRelu {
        /// Slope for negative inputs.
        slope: f64,
    },
    /// `σ(z) = z` for `z > 0`, else `α(e^z − 1)` (PyTorch default α = 1).
    Elu {
        /// Scale of the negative part.
        alpha: f64,
    },
    /// `σ(z) = z·Φ(z)` with `Φ` the standard normal CDF (exact, via `erf`).
    Gelu,
    /// `σ(z) = z·sigmoid(z)` (also called swish).
    Silu,
    /// `σ(z) = ln(1 + e^z)`, and `z` itself above 20 (PyTorch's threshold).
    Softplus,
}

/// Softplus switches to the identity above this input, as PyTorch does.
const SOFTPLUS_THRESHOLD: f64 = 20.0;

impl Activation {
    /// Every activation once, with PyTorch's default parameters: handy for exhaustive tests.
    pub const ALL: [Activation; 9] = [
        Activation::Identity,
        Activation::Sigmoid,
        Activation::Tanh,
        Activation::Relu,
        Activation::LeakyRelu { slope: 0.01 },
        Activation::Elu { alpha: 1.0 },
        Activation::Gelu,
        Activation::Silu,
        Activation::Softplus,
    ];

    /// `a = σ(z)` element-wise.
    ///
    /// # Panics
    /// If the slices differ in length.
    #[track_caller]
    pub fn apply<T: Real>(self, z: &[T], a: &mut [T]) {
        assert_eq!(
            z.len(),
            a.len(),
            "activation: input and output lengths differ"
        );
        let pairs = z.iter().zip(a.iter_mut());
        match self {
            Activation::Identity => a.copy_from_slice(z),
            Activation::Sigmoid => T::sigmoid_slice(z, a),
            Activation::Tanh => T::tanh_slice(z, a),
            Activation::Relu => {
                simd::widest(z.len(), || pairs.for_each(|(&z, a)| *a = z.max(T::zero())))
            }
            Activation::LeakyRelu { slope } => {
                let slope = r::<T>(slope);
                pairs.for_each(|(&z, a)| *a = if z > T::zero() { z } else { z * slope })
            }
            Activation::Elu { alpha } => {
                let alpha = r::<T>(alpha);
                pairs.for_each(|(&z, a)| *a = if z > T::zero() { z } else { alpha * z.exp_m1() })
            }
            Activation::Gelu => {
                let inv_sqrt2 = T::FRAC_1_SQRT_2();
                let half = r::<T>(0.5);
                pairs.for_each(|(&z, a)| *a = z * half * (T::one() + (z * inv_sqrt2).erf()))
            }
            Activation::Silu => {
                T::sigmoid_slice(z, a);
                a.iter_mut().zip(z).for_each(|(a, &z)| *a *= z)
            }
            Activation::Softplus => {
                let threshold = r::<T>(SOFTPLUS_THRESHOLD);
                pairs.for_each(|(&z, a)| *a = if z > threshold { z } else { z.exp().ln_1p() })
            }
        }
    }

    /// `g ← g ⊙ σ'(z)`: the step of the δ recursion that passes back through the activation,
    /// `δˡ = ((Wˡ⁺¹)ᵀ δˡ⁺¹) ⊙ σ'(zˡ)`, applied in place to `g = (Wˡ⁺¹)ᵀ δˡ⁺¹`.
    ///
    /// # Panics
    /// If the slices differ in length.
    #[track_caller]
    pub fn multiply_by_derivative<T: Real>(self, z: &[T], g: &mut [T]) {
        assert_eq!(
            z.len(),
            g.len(),
            "activation: input and gradient lengths differ"
        );
        let pairs = z.iter().zip(g.iter_mut());
        match self {
            Activation::Identity => {}
            Activation::Sigmoid => {
                with_each_chunk(z, g, T::sigmoid_slice, |_, s, g| *g *= s * (T::one() - s))
            }
            Activation::Tanh => {
                with_each_chunk(z, g, T::tanh_slice, |_, t, g| *g *= T::one() - t * t)
            }
            // A select rather than a branch, so it vectorizes.
            Activation::Relu => simd::widest(z.len(), || {
                pairs.for_each(|(&z, g)| *g = if z > T::zero() { *g } else { T::zero() })
            }),
            Activation::LeakyRelu { slope } => {
                let slope = r::<T>(slope);
                pairs.for_each(|(&z, g)| {
                    if z <= T::zero() {
                        *g *= slope
                    }
                })
            }
            Activation::Elu { alpha } => {
                let alpha = r::<T>(alpha);
                pairs.for_each(|(&z, g)| {
                    if z <= T::zero() {
                        *g *= alpha * z.exp()
                    }
                })
            }
            Activation::Gelu => {
                // d/dz z·Φ(z) = Φ(z) + z·φ(z)
                let inv_sqrt2 = T::FRAC_1_SQRT_2();
                let inv_sqrt_2pi = r::<T>(0.398_942_280_401_432_7);
                let half = r::<T>(0.5);
                pairs.for_each(|(&z, g)| {
                    let cdf = half * (T::one() + (z * inv_sqrt2).erf());
                    let pdf = inv_sqrt_2pi * (-half * z * z).exp();
                    *g *= cdf + z * pdf
                })
            }
            // d/dz z·s(z) = s(z)(1 + z(1 − s(z)))
            Activation::Silu => with_each_chunk(z, g, T::sigmoid_slice, |z, s, g| {
                *g *= s * (T::one() + z * (T::one() - s))
            }),
            Activation::Softplus => {
                let threshold = r::<T>(SOFTPLUS_THRESHOLD);
                pairs.for_each(|(&z, g)| {
                    if z <= threshold {
                        *g *= sigmoid(z)
                    }
                })
            }
        }
    }

    /// The activation whose weights PyTorch and the literature initialise for: He (Kaiming)
    /// for the rectifier family, Xavier (Glorot) for the saturating ones.
    pub fn prefers_he_init(self) -> bool {
        matches!(
            self,
            Activation::Relu
                | Activation::LeakyRelu { .. }
                | Activation::Elu { .. }
                | Activation::Gelu
                | Activation::Silu
        )
    }
}

/// For a derivative that needs `f(z)` (tanh, sigmoid): evaluates `f` over chunks of `z` into
/// a buffer on the stack (vectorized, allocation-free), then calls `update(z, f(z), g)` for
/// each element.
#[inline]
fn with_each_chunk<T: Real>(
    z: &[T],
    g: &mut [T],
    f: fn(&[T], &mut [T]),
    update: impl Fn(T, T, &mut T),
) {
    const CHUNK: usize = 64;
    let mut values = [T::zero(); CHUNK];
    for (z, g) in z.chunks(CHUNK).zip(g.chunks_mut(CHUNK)) {
        let values = &mut values[..z.len()];
        f(z, values);
        for ((&z, &v), g) in z.iter().zip(values.iter()).zip(g) {
            update(z, v, g);
        }
    }
}

impl fmt::Display for Activation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Activation::Identity => f.write_str("identity"),
            Activation::Sigmoid => f.write_str("sigmoid"),
            Activation::Tanh => f.write_str("tanh"),
            Activation::Relu => f.write_str("relu"),
            Activation::LeakyRelu { slope } => write!(f, "leaky_relu({slope})"),
            Activation::Elu { alpha } => write!(f, "elu({alpha})"),
            Activation::Gelu => f.write_str("gelu"),
            Activation::Silu => f.write_str("silu"),
            Activation::Softplus => f.write_str("softplus"),
        }
    }
}

/// Error from parsing an [`Activation`] name.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown activation {0:?}: expected identity, sigmoid, tanh, relu, leaky_relu, \
     leaky_relu(SLOPE), elu, elu(ALPHA), gelu, silu or softplus"
)]
pub struct ParseActivationError(pub String);

impl FromStr for Activation {
    type Err = ParseActivationError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let err = || ParseActivationError(text.to_string());
        let trimmed = text.trim().to_ascii_lowercase();
        let (name, argument) = match trimmed.split_once('(') {
            Some((name, rest)) => {
                let inner = rest.strip_suffix(')').ok_or_else(err)?;
                let value: f64 = inner.trim().parse().map_err(|_| err())?;
                if !value.is_finite() {
                    return Err(err());
                }
                (name.trim().to_string(), Some(value))
            }
            None => (trimmed, None),
        };
        let activation = match (name.as_str(), argument) {
            ("identity" | "linear", None) => Activation::Identity,
            ("sigmoid" | "logistic", None) => Activation::Sigmoid,
            ("tanh", None) => Activation::Tanh,
            ("relu", None) => Activation::Relu,
            ("leaky_relu", slope) => Activation::LeakyRelu {
                slope: slope.unwrap_or(0.01),
            },
            ("elu", alpha) => Activation::Elu {
                alpha: alpha.unwrap_or(1.0),
            },
            ("gelu", None) => Activation::Gelu,
            ("silu" | "swish", None) => Activation::Silu,
            ("softplus", None) => Activation::Softplus,
            _ => return Err(err()),
        };
        Ok(activation)
    }
}

impl TryFrom<String> for Activation {
    type Error = ParseActivationError;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

impl From<Activation> for String {
    fn from(activation: Activation) -> Self {
        activation.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for activation in Activation::ALL {
            let text = activation.to_string();
            assert_eq!(text.parse::<Activation>().unwrap(), activation, "{text}");
        }
        assert_eq!(
            "leaky_relu(0.2)".parse::<Activation>().unwrap(),
            Activation::LeakyRelu { slope: 0.2 }
        );
        assert!("relu(2)".parse::<Activation>().is_err());
        assert!("cube".parse::<Activation>().is_err());
    }

    #[test]
    fn derivative_matches_finite_difference() {
        let points = [-25.0, -3.0, -0.7, -1e-3, 0.4, 2.5, 19.0, 21.0, 30.0];
        for activation in Activation::ALL {
            for &z in &points {
                let h = 1e-6;
                let mut plus = [0.0f64];
                let mut minus = [0.0f64];
                activation.apply(&[z + h], &mut plus);
                activation.apply(&[z - h], &mut minus);
                let numeric = (plus[0] - minus[0]) / (2.0 * h);
                let mut analytic = [1.0f64];
                activation.multiply_by_derivative(&[z], &mut analytic);
                assert!(
                    (analytic[0] - numeric).abs() <= 1e-6 * numeric.abs().max(1.0),
                    "{activation} at {z}: {} vs {numeric}",
                    analytic[0]
                );
            }
        }
    }

    #[test]
    fn extreme_inputs_stay_finite() {
        for activation in Activation::ALL {
            let z = [-1e4f32, 1e4];
            let mut a = [0.0f32; 2];
            activation.apply(&z, &mut a);
            let mut g = [1.0f32; 2];
            activation.multiply_by_derivative(&z, &mut g);
            assert!(
                a.iter().chain(&g).all(|v| v.is_finite()),
                "{activation}: {a:?} {g:?}"
            );
        }
    }
}
